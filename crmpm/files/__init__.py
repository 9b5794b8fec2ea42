"""Stored files: the bytes of uploaded and generated documents, where every app server sees them.

``models.FileBlob`` is one stored file; where its bytes live (in the database, in a directory or in an
S3-compatible bucket) is the storage backend's business (``storage.py``).
"""

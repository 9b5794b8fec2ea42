"""Where stored files' bytes live: the database (default), a directory, or an S3-compatible bucket.

Chosen by configuration (``DOCUMENT_STORAGE``: ``database``, ``directory`` with ``DOCUMENT_DIR``, or ``s3``
with ``S3_ENDPOINT_URL``, ``S3_BUCKET``, ``S3_ACCESS_KEY_ID``, ``S3_SECRET_ACCESS_KEY``, ``S3_REGION``), read
from the settings a session carries (``session.info["crmpm.config"]``, set by ``crmpm.database``), so
nothing here needs Flask.

Bytes kept outside the database are never left behind by a transaction that does not commit (decision 0013):
:func:`put` writes the file first, under a fresh key, and remembers it on the session's innermost
transaction; when that transaction (or a savepoint holding it) rolls back, the file is deleted. :func:`drop`
deletes a blob's row now and its file only after the outermost commit, so a rolled-back delete keeps the
bytes its rows still point to.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from crmpm.files.models import STORAGES, FileBlob

__all__ = ["Backend", "DatabaseBackend", "DirectoryBackend", "S3Backend", "StorageSettings", "backend_for",
           "drop", "put", "read"]

log = logging.getLogger(__name__)

# session.info keys: files written in the session's open transactions, files to delete after the commit.
_WRITTEN = "crmpm.files.written"
_DOOMED = "crmpm.files.doomed"
# The keys put() makes: the first two hex digits of the SHA-256, then the digest and a random suffix.
_KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{64}-[0-9a-f]{32}")


class Backend(Protocol):
    name: str

    def write(self, key: str, data: bytes) -> None: ...

    def read(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def keys(self) -> list[str]: ...


class DatabaseBackend:
    """The bytes in ``FileBlob.data``: nothing outside the transaction."""

    name = "database"

    def write(self, key: str, data: bytes) -> None:  # pragma: no cover - never called: the row holds them
        raise NotImplementedError

    def read(self, key: str) -> bytes:  # pragma: no cover
        raise NotImplementedError

    def delete(self, key: str) -> None:
        return None

    def keys(self) -> list[str]:
        return []


class DirectoryBackend:
    """A file per blob under ``root`` (``ab/abcdef…``), written to a temporary name and renamed into place."""

    name = "directory"

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key or ""):
            raise ValueError(f"bad storage key {key!r}")
        return self.root / key

    def write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(str(path.relative_to(self.root)) for path in self.root.rglob("*") if path.is_file())


class S3Backend:
    """An object per blob in an S3-compatible bucket (boto3)."""

    name = "s3"

    def __init__(self, *, endpoint_url: str | None, bucket: str, access_key_id: str | None,
                 secret_access_key: str | None, region: str | None) -> None:
        import boto3  # only when configured: the default storage needs no AWS library loaded

        self.bucket = bucket
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None, aws_access_key_id=access_key_id or None,
                                   aws_secret_access_key=secret_access_key or None,
                                   region_name=region or "us-east-1")

    def write(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def keys(self) -> list[str]:
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(keys)


@dataclass(frozen=True)
class StorageSettings:
    storage: str = "database"
    directory: str | None = None
    s3: dict = field(default_factory=dict)

    @classmethod
    def from_config(cls, config) -> StorageSettings:
        config = config or {}
        storage = (config.get("DOCUMENT_STORAGE") or "database").strip().lower()
        if storage not in STORAGES:
            raise ValueError(f"CRMPM_DOCUMENT_STORAGE must be one of {', '.join(STORAGES)}, not {storage!r}")
        return cls(storage=storage, directory=config.get("DOCUMENT_DIR"),
                   s3={"endpoint_url": config.get("S3_ENDPOINT_URL"), "bucket": config.get("S3_BUCKET"),
                       "access_key_id": config.get("S3_ACCESS_KEY_ID"),
                       "secret_access_key": config.get("S3_SECRET_ACCESS_KEY"), "region": config.get("S3_REGION")})


_BACKENDS: dict[tuple, Backend] = {}


def _backend(storage: str, settings: StorageSettings) -> Backend:
    if storage == "database":
        return DatabaseBackend()
    if storage == "directory":
        if not settings.directory:
            raise ValueError("CRMPM_DOCUMENT_STORAGE=directory needs CRMPM_DOCUMENT_DIR")
        return DirectoryBackend(settings.directory)
    if not settings.s3.get("bucket"):
        raise ValueError("CRMPM_DOCUMENT_STORAGE=s3 needs CRMPM_S3_BUCKET")
    cache_key = ("s3", *sorted(settings.s3.items()))
    if cache_key not in _BACKENDS:
        _BACKENDS[cache_key] = S3Backend(**settings.s3)
    return _BACKENDS[cache_key]


def backend_for(session: Session, storage: str | None = None) -> Backend:
    """The backend configured for ``session``'s app (or the one named ``storage``, for a blob kept there)."""
    settings = StorageSettings.from_config(session.info.get("crmpm.config"))
    return _backend(storage or settings.storage, settings)


def put(session: Session, data: bytes) -> FileBlob:
    """Store ``data`` with the configured backend; the new blob, added to ``session``."""
    digest = hashlib.sha256(data).hexdigest()
    backend = backend_for(session)
    if backend.name == "database":
        blob = FileBlob(sha256=digest, size=len(data), storage="database", location=None, data=data)
    else:
        key = f"{digest[:2]}/{digest}-{uuid.uuid4().hex}"
        backend.write(key, data)
        _remember_written(session, backend, key)
        blob = FileBlob(sha256=digest, size=len(data), storage=backend.name, location=key)
    session.add(blob)
    return blob


def read(session: Session, blob: FileBlob) -> bytes:
    """The bytes of ``blob``, from wherever they are kept."""
    if blob.storage == "database":
        return blob.data or b""
    return backend_for(session, blob.storage).read(blob.location)


def drop(session: Session, blob: FileBlob) -> None:
    """Delete ``blob``'s row now and its bytes outside the database once the transaction commits."""
    if blob.storage != "database" and blob.location:
        session.info.setdefault(_DOOMED, []).append((blob.storage, blob.location))
    session.delete(blob)


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _remember_written(session: Session, backend: Backend, key: str) -> None:
    chain = []
    transaction = _innermost(session)
    while transaction is not None:
        chain.append(transaction)
        transaction = transaction.parent
    session.info.setdefault(_WRITTEN, []).append((chain, backend, key))


@event.listens_for(Session, "after_soft_rollback")
def _delete_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    written = session.info.get(_WRITTEN)
    if written:
        kept = []
        for chain, backend, key in written:
            if any(transaction is previous_transaction for transaction in chain):
                try:
                    backend.delete(key)
                except Exception:  # noqa: BLE001 - a failed clean-up is logged, never raised over the rollback
                    log.exception("could not delete %s from %s after a rollback", key, backend.name)
            else:
                kept.append((chain, backend, key))
        session.info[_WRITTEN] = kept
    if previous_transaction.parent is None:
        session.info.pop(_DOOMED, None)


@event.listens_for(Session, "after_commit")
def _delete_dropped(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    doomed = session.info.pop(_DOOMED, None) or []
    settings = None
    for storage, key in doomed:
        try:
            settings = settings or StorageSettings.from_config(session.info.get("crmpm.config"))
            _backend(storage, settings).delete(key)
        except Exception:  # noqa: BLE001
            log.exception("could not delete %s from %s after its blob was deleted", key, storage)

"""One stored file's bytes and where they are kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from crmpm.database import Base, utcnow

# Where a blob's bytes are: in ``data`` (the database), a file under the configured directory, or an object
# in the configured S3-compatible bucket; ``location`` is the key inside the directory or bucket.
STORAGES = ("database", "directory", "s3")


class FileBlob(Base):
    """The bytes of one file, kept by one storage backend, checked by their SHA-256."""

    __tablename__ = "file_blobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    storage: Mapped[str] = mapped_column(String(20))
    location: Mapped[str | None] = mapped_column(String(500))
    # Only for ``storage == "database"``; deferred so listing documents never reads the bytes.
    data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

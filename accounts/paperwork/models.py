"""Templates administrators uploaded in place of the defaults (one per kind and language)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crmpm.database import Base, utcnow
from crmpm.files.models import FileBlob


class PaperworkTemplate(Base):
    """A replacement DOCX template for a kind (offer, contract, invoice, act) in a language (ru, en).
    Without a row the default template shipped in ``accounts/paperwork/templates`` is used."""

    __tablename__ = "paperwork_templates"
    __table_args__ = (UniqueConstraint("kind", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    file_name: Mapped[str] = mapped_column(String(255))
    blob_id: Mapped[int] = mapped_column(ForeignKey("file_blobs.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    blob: Mapped[FileBlob] = relationship()

    def audit_state(self) -> dict:
        return {"kind": self.kind, "language": self.language, "file_name": self.file_name, "blob_id": self.blob_id}

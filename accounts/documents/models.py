"""Documents and their versions.

A document hangs on one subject (``subject_type``, ``subject_id``: an account, contact, deal, project, WBS
element or activity) and is read by whoever may read that subject. Its rights anchor is kept beside it:
``account_id`` for a document of an account or a contact (the account's EPS node decides), ``project_id``
for one of a deal, project, WBS element or activity (the project decides), so lists filter by rights in SQL.
A new upload of the same document is a new version; older versions stay and can be downloaded.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crmpm.database import Base, utcnow
from crmpm.files.models import FileBlob

SUBJECT_TYPES = ("account", "contact", "deal", "project", "wbs_element", "activity")
KINDS = ("contract", "offer", "invoice", "act", "drawing", "other")
NAME_LENGTH = 255
TAG_LENGTH = 60


class Document(Base):
    """A document on a subject: its name, kind, tags and versions."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_subject", "subject_type", "subject_id"),
        CheckConstraint("(account_id IS NULL) <> (project_id IS NULL)", name="one_anchor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    kind: Mapped[str] = mapped_column(String(20), default="other")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    # Made by crmpm from a template (``accounts.paperwork``): the template's name, else None.
    generated_from: Mapped[str | None] = mapped_column(String(60))
    # Shown to the account's client users on the portal (accounts.portal).
    client_visible: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentVersion.number")
    tags: Mapped[list[DocumentTag]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentTag.tag")

    def audit_state(self) -> dict:
        return {"subject_type": self.subject_type, "subject_id": self.subject_id, "name": self.name,
                "kind": self.kind, "current_version": self.current_version,
                "tags": sorted(tag.tag for tag in self.tags)}


class DocumentVersion(Base):
    """One uploaded (or generated) file of a document; number 1, 2, … in upload order."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    blob_id: Mapped[int] = mapped_column(ForeignKey("file_blobs.id"), index=True)
    # The text of a PDF or DOCX where it could be extracted, for full-text search; "" otherwise.
    text: Mapped[str] = mapped_column(Text, default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="versions")
    blob: Mapped[FileBlob] = relationship()


class DocumentTag(Base):
    """A tag of a document."""

    __tablename__ = "document_tags"
    __table_args__ = (UniqueConstraint("document_id", "tag"), Index("ix_document_tags_tag", "tag"))

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(TAG_LENGTH))

    document: Mapped[Document] = relationship(back_populates="tags")

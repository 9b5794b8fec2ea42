"""Documents follow their subject: deleted with a deleted project, WBS element or activity; moved by merges.

Deleting a project, a WBS element or an activity happens in the layers below (``eps.services.delete_project``,
``wbs.services.delete_element``, ``delete_activity``), which know nothing of documents. So the documents of a
subject deleted through the ORM go in the same flush, by :func:`_documents_of_deleted_subjects` (a session
listener, registered when this package is imported, which the models' entry point does): their rows, every
version, and their stored bytes (``crmpm.files.storage.drop``: the row now, bytes outside the database once the
transaction commits). Each is audited, with the deletion of their subject as the reason.

Merges keep documents: :func:`move_documents` re-hangs a merged account's or contact's documents on the one kept.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, event, or_, select, update
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.files import storage
from eps.models import Project
from wbs.models import Activity, WbsElement

from accounts.documents.models import Document

_SUBJECTS = ((Activity, "activity"), (WbsElement, "wbs_element"))


def _conditions(deleted) -> list:
    conditions = []
    for obj in deleted:
        if isinstance(obj, Project):
            conditions.append(Document.project_id == obj.id)
        for model, subject_type in _SUBJECTS:
            if isinstance(obj, model):
                conditions.append(and_(Document.subject_type == subject_type, Document.subject_id == obj.id))
    return conditions


@event.listens_for(Session, "before_flush")
def _documents_of_deleted_subjects(session: Session, flush_context, instances) -> None:
    conditions = _conditions(session.deleted)
    if not conditions:
        return
    with session.no_autoflush:
        documents = [document for document in session.scalars(select(Document).where(or_(*conditions)))
                     if document not in session.deleted]
        if not documents:
            return
        blobs = [version.blob for document in documents for version in document.versions]
        for document in documents:
            audit.record(session, actor=None, action="delete", entity=document,
                         before={**document.audit_state(), "reason": f"its {document.subject_type} was deleted"})
        # By statement, before the flush deletes the subject (whose foreign keys would cascade first); the
        # versions and tags go with them (ON DELETE CASCADE), then the bytes.
        session.execute(delete(Document).where(Document.id.in_([document.id for document in documents])))
        for document in documents:
            for child in (*document.versions, *document.tags):
                session.expunge(child)
            session.expunge(document)
        for blob in blobs:
            storage.drop(session, blob)


def move_documents(session: Session, *, subject_type: str, from_id: int, to_id: int,
                   account_id: int | None = None) -> int:
    """Re-hang the documents of subject ``from_id`` on ``to_id`` (a merge), with ``account_id`` their new anchor
    when given; returns how many moved."""
    values = {"subject_id": to_id}
    if account_id is not None:
        values["account_id"] = account_id
    moved = session.execute(update(Document).where(Document.subject_type == subject_type,
                                                   Document.subject_id == from_id)
                            .values(**values).execution_options(synchronize_session=False)).rowcount
    return moved or 0


def move_account_documents(session: Session, *, from_account_id: int, to_account_id: int) -> None:
    """A merged account's documents, and those of the contacts that moved with it, anchored on the kept account."""
    move_documents(session, subject_type="account", from_id=from_account_id, to_id=to_account_id,
                   account_id=to_account_id)
    session.execute(update(Document).where(Document.account_id == from_account_id)
                    .values(account_id=to_account_id).execution_options(synchronize_session=False))

"""Documents: adding (version 1), new versions, lists by subject, search, changes, deletion. No Flask.

Rights follow the document's anchor (``models``): read the subject → read its documents; edit rights on the
anchor to add, change or delete them. A file is checked before anything is stored: not empty, at most
``max_length`` bytes, its type read from the bytes and matching its name's extension (``crmpm.files.content``),
its name made safe. Its bytes go to the configured storage (``crmpm.files.storage``), its text (PDF, DOCX,
text) is kept for search (``crmpm.files.text``). Every change is audited in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.errors import Invalid, NotFound
from crmpm.files import storage
from crmpm.files.content import detect, safe_name
from crmpm.files.text import extract
from crmpm.search import Hit, contains, first_match, fold
from crmpm.users.models import User
from eps.models import EpsNode, Project
from eps.permissions import Permission, principal_grant_paths, reads_everything, visible
from wbs.models import Activity, WbsElement

from accounts.documents.models import KINDS, SUBJECT_TYPES, TAG_LENGTH, Document, DocumentTag, DocumentVersion
from accounts.models import Account, Contact, Deal
from accounts.permissions import authorize_on, named, readable_account_ids

__all__ = [
    "DEFAULT_MAX_LENGTH", "MAX_TAGS", "Anchor", "add_document", "add_version", "anchor_of", "delete_document",
    "document_subject", "get_document_or_raise", "get_subject_or_raise", "list_documents", "list_versions", "read_version",
    "find_documents", "readable_documents", "search_documents", "update_document", "version_of",
]

DEFAULT_MAX_LENGTH = 50 * 1024 * 1024
MAX_TAGS = 20

# How errors name a subject of each type (accounts.permissions.named).
_LABELS = {"account": "account", "contact": "contact", "deal": "deal", "project": "project",
           "wbs_element": "WBS element", "activity": "activity"}
# The model behind each subject type.
_MODELS = {"account": Account, "contact": Contact, "deal": Deal, "project": Project, "wbs_element": WbsElement,
           "activity": Activity}


@dataclass(frozen=True)
class Anchor:
    """Where a subject's documents hang and what decides who may read them."""

    subject_type: str
    subject_id: int
    account_id: int | None
    project_id: int | None
    governed_by: EpsNode | Project
    label: str


def anchor_of(session: Session, subject) -> Anchor:
    """The anchor of ``subject`` (an Account, Contact, Deal, Project, WbsElement or Activity)."""
    if isinstance(subject, Account):
        return Anchor("account", subject.id, subject.id, None, subject.eps_node, "account")
    if isinstance(subject, Contact):
        return Anchor("contact", subject.id, subject.account_id, None, subject.account.eps_node, "contact")
    if isinstance(subject, Deal):
        return Anchor("deal", subject.id, None, subject.project_id, subject.project, "deal")
    if isinstance(subject, Project):
        return Anchor("project", subject.id, None, subject.id, subject, "project")
    if isinstance(subject, WbsElement | Activity):
        project = session.get(Project, subject.project_id)
        subject_type = "wbs_element" if isinstance(subject, WbsElement) else "activity"
        return Anchor(subject_type, subject.id, None, project.id, project, _LABELS[subject_type])
    raise TypeError(f"documents cannot hang on a {type(subject).__name__}")


def _authorize(session: Session, *, user: User, anchor: Anchor, permission: Permission) -> None:
    obj = type("Subject", (), {"id": anchor.subject_id})()
    authorize_on(session, user=user, obj=obj, governed_by=anchor.governed_by, label=anchor.label,
                 permission=permission)


def get_subject_or_raise(session: Session, *, user: User, subject_type: str, subject_id: int,
                         permission: Permission = Permission.read, project_id: int | None = None):
    """The subject, when ``user`` has ``permission`` on its anchor; NotFound when absent or unreadable.

    ``project_id``: a WBS element or activity must belong to that project (the API's paths name both).
    """
    model = _MODELS[subject_type]
    subject = session.get(model, subject_id)
    if subject is None or (project_id is not None and getattr(subject, "project_id", None) != project_id):
        raise NotFound("{target} not found", target=named(_LABELS[subject_type], subject_id))
    _authorize(session, user=user, anchor=anchor_of(session, subject), permission=permission)
    return subject


def document_subject(session: Session, document: Document):
    """The account, contact, deal, project, WBS element or activity ``document`` hangs on (None if gone)."""
    return session.get(_MODELS[document.subject_type], document.subject_id)


def _document_anchor(session: Session, document: Document) -> Anchor:
    if document.account_id is not None:
        account = session.get(Account, document.account_id)
        return Anchor(document.subject_type, document.id, account.id, None, account.eps_node, "document")
    project = session.get(Project, document.project_id)
    return Anchor(document.subject_type, document.id, None, project.id, project, "document")


def get_document_or_raise(session: Session, *, user: User, document_id: int,
                          permission: Permission = Permission.read, field: str | None = None) -> Document:
    """The document, when ``user`` has ``permission`` on its anchor; NotFound when absent or unreadable."""
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound("document {document_id} not found", document_id=document_id,
                       errors={field: ["not found"]} if field else None)
    try:
        _authorize(session, user=user, anchor=_document_anchor(session, document), permission=permission)
    except NotFound:
        raise NotFound("document {document_id} not found", document_id=document_id,
                       errors={field: ["not found"]} if field else None) from None
    return document


# Checks


def _kind(kind: str | None) -> str:
    kind = (kind or "other").strip().lower()
    if kind not in KINDS:
        raise Invalid("the kind must be one of {kinds}", kinds=", ".join(KINDS),
                      errors={"kind": [f"one of {', '.join(KINDS)}"]})
    return kind


def _tags(tags) -> list[str]:
    if isinstance(tags, str):
        tags = tags.split(",")
    seen: dict[str, str] = {}
    for tag in tags or ():
        text = " ".join(str(tag).split())
        if not text:
            continue
        if len(text) > TAG_LENGTH:
            raise Invalid("a tag has at most {length} characters", length=TAG_LENGTH,
                          errors={"tags": [f"at most {TAG_LENGTH} characters each"]})
        seen.setdefault(text.casefold(), text)
    if len(seen) > MAX_TAGS:
        raise Invalid("a document has at most {count} tags", count=MAX_TAGS,
                      errors={"tags": [f"at most {MAX_TAGS} tags"]})
    return sorted(seen.values(), key=str.casefold)


def _name(name: str | None) -> str:
    try:
        return safe_name(name)
    except Invalid as exc:
        raise Invalid(exc.template, errors={"name": exc.errors["file"]}, **exc.params) from None


def _checked_file(data: bytes, *, name: str, content_type: str | None, max_length: int) -> tuple[str, str]:
    """The file's safe name and its type read from the bytes; Invalid (naming ``file``) when refused."""
    if len(data) > max_length:
        raise Invalid("the file is larger than the limit of {limit} bytes", limit=max_length,
                      errors={"file": [f"at most {max_length} bytes"]})
    file_name = safe_name(name)
    detected = detect(data, file_name)
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream" and declared != detected.content_type:
        raise Invalid("the file's content is {type}, not {declared}", type=detected.content_type,
                      declared=declared, errors={"file": [f"the content is {detected.content_type}"]})
    return file_name, detected.content_type


def _new_version(session: Session, *, actor, document: Document, number: int, file_name: str,
                 content_type: str, data: bytes) -> DocumentVersion:
    blob = storage.put(session, data)
    version = DocumentVersion(document=document, number=number, file_name=file_name, content_type=content_type,
                              size=len(data), sha256=blob.sha256, blob=blob, text=extract(data, content_type),
                              uploaded_by_id=getattr(actor, "id", None))
    session.add(version)
    return version


# Changes


def add_document(session: Session, *, actor: User, subject, name: str, kind: str, data: bytes,
                 content_type: str | None = None, tags=(), generated_from: str | None = None,
                 max_length: int = DEFAULT_MAX_LENGTH) -> Document:
    """A new document on ``subject`` holding ``data`` as version 1 (edit rights on the subject's anchor).

    ``name`` is the file's name (made safe; its extension must fit the bytes); ``content_type``, when given,
    must be what the bytes are. Nothing is stored when the file is refused.
    """
    anchor = anchor_of(session, subject)
    _authorize(session, user=actor, anchor=anchor, permission=Permission.edit)
    kind = _kind(kind)
    tags = _tags(tags)
    file_name, detected = _checked_file(data, name=name, content_type=content_type, max_length=max_length)
    document = Document(subject_type=anchor.subject_type, subject_id=anchor.subject_id,
                        account_id=anchor.account_id, project_id=anchor.project_id, name=file_name, kind=kind,
                        current_version=1, generated_from=generated_from, created_by_id=getattr(actor, "id", None),
                        tags=[DocumentTag(tag=tag) for tag in tags])
    session.add(document)
    _new_version(session, actor=actor, document=document, number=1, file_name=file_name, content_type=detected,
                 data=data)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=document, after=document.audit_state())
    return document


def add_version(session: Session, *, actor: User, document: Document, name: str, data: bytes,
                content_type: str | None = None, max_length: int = DEFAULT_MAX_LENGTH) -> DocumentVersion:
    """A new version of ``document`` holding ``data`` (edit rights); older versions stay."""
    _authorize(session, user=actor, anchor=_document_anchor(session, document), permission=Permission.edit)
    file_name, detected = _checked_file(data, name=name, content_type=content_type, max_length=max_length)
    before = document.audit_state()
    if session.get_bind().dialect.name == "postgresql":
        session.refresh(document, with_for_update=True)  # two uploads at once get numbers one after the other
    number = document.current_version + 1
    version = _new_version(session, actor=actor, document=document, number=number, file_name=file_name,
                           content_type=detected, data=data)
    document.current_version = number
    session.flush()
    audit.record(session, actor=actor, action="add_version", entity=document, before=before,
                 after={**document.audit_state(), "file_name": file_name, "size": len(data)})
    return version


def update_document(session: Session, *, actor: User, document: Document, name: str | None = None,
                    kind: str | None = None, tags=None, client_visible: bool | None = None) -> Document:
    """Rename ``document``, change its kind, replace its tags or show it to the clients on the portal (edit
    rights; who of the clients sees it: ``accounts.portal.access.client_documents``)."""
    _authorize(session, user=actor, anchor=_document_anchor(session, document), permission=Permission.edit)
    before = document.audit_state()
    if client_visible is not None and client_visible != document.client_visible:
        before["client_visible"] = document.client_visible
        document.client_visible = client_visible
    if name is not None:
        document.name = _name(name)
    if kind is not None:
        document.kind = _kind(kind)
    if tags is not None:
        wanted = _tags(tags)
        keep = {tag.tag: tag for tag in document.tags}
        document.tags = [keep.get(tag) or DocumentTag(tag=tag) for tag in wanted]
    session.flush()
    after = document.audit_state()
    if "client_visible" in before:
        after["client_visible"] = document.client_visible
    if after != before:
        audit.record(session, actor=actor, action="update", entity=document, before=before, after=after)
    return document


def delete_document(session: Session, *, actor: User, document: Document) -> None:
    """Delete ``document``, every version and their stored bytes (edit rights)."""
    _authorize(session, user=actor, anchor=_document_anchor(session, document), permission=Permission.edit)
    audit.record(session, actor=actor, action="delete", entity=document, before=document.audit_state())
    blobs = [version.blob for version in document.versions]
    session.delete(document)
    session.flush()
    for blob in blobs:
        storage.drop(session, blob)
    session.flush()


# Reading


def version_of(session: Session, *, document: Document, number: int | None = None) -> DocumentVersion:
    """Version ``number`` of ``document`` (its current one when None); NotFound naming ``version``."""
    number = document.current_version if number is None else number
    version = session.scalar(select(DocumentVersion).where(DocumentVersion.document_id == document.id,
                                                           DocumentVersion.number == number))
    if version is None:
        raise NotFound("version {number} of document {document_id} not found", number=number,
                       document_id=document.id, errors={"version": ["not found"]})
    return version


def list_versions(session: Session, *, document: Document) -> Select:
    """A select of ``document``'s versions, newest first."""
    return (select(DocumentVersion).where(DocumentVersion.document_id == document.id)
            .order_by(DocumentVersion.number.desc()))


def read_version(session: Session, version: DocumentVersion) -> bytes:
    """The bytes of ``version``, from its storage."""
    return storage.read(session, version.blob)


def list_documents(session: Session, *, subject) -> Select:
    """A select of the documents on ``subject`` (the caller has checked it may read the subject), newest first."""
    anchor = anchor_of(session, subject)
    return (select(Document).where(Document.subject_type == anchor.subject_type,
                                   Document.subject_id == anchor.subject_id)
            .order_by(Document.updated_at.desc(), Document.id.desc()))


def readable_documents(session: Session, *, user: User):
    """A condition true for the documents ``user`` may read (their anchor's rights), or None for all."""
    if user.is_admin:
        return None
    paths = principal_grant_paths(session, user=user)
    if reads_everything(session, user=user, paths=paths):
        return None
    readable_projects = select(Project.id).where(visible(session, user=user, model=Project, paths=paths))
    return or_(Document.account_id.in_(readable_account_ids(session, user=user, paths=paths)),
               Document.project_id.in_(readable_projects))


def search_documents(session: Session, *, user: User, text: str | None = None, kind: str | None = None,
                     tag: str | None = None, subject_type: str | None = None) -> Select:
    """A select of the documents ``user`` may read whose name or current text holds ``text``, newest first."""
    query = select(Document).order_by(Document.updated_at.desc(), Document.id.desc())
    condition = readable_documents(session, user=user)
    if condition is not None:
        query = query.where(condition)
    if text:
        in_text = exists(select(DocumentVersion.id).where(
            DocumentVersion.document_id == Document.id, DocumentVersion.number == Document.current_version,
            contains([DocumentVersion.text], text)))
        query = query.where(or_(contains([Document.name], text), in_text))
    if kind:
        query = query.where(Document.kind == _kind(kind))
    if tag:
        query = query.where(exists(select(DocumentTag.id).where(DocumentTag.document_id == Document.id,
                                                               DocumentTag.tag == tag.strip())))
    if subject_type:
        if subject_type not in SUBJECT_TYPES:
            raise Invalid("the subject type must be one of {types}", types=", ".join(SUBJECT_TYPES),
                          errors={"subject_type": [f"one of {', '.join(SUBJECT_TYPES)}"]})
        query = query.where(Document.subject_type == subject_type)
    return query


# How much of a version's text a search hit shows around the words found.
SNIPPET = 60


def _snippet(text: str, wanted: str) -> str:
    folded, needle = fold(text) or "", fold(wanted.strip()) or ""
    at = folded.find(needle) if needle else -1
    if at < 0 or len(folded) != len(text):
        return text[: SNIPPET * 2]
    start = max(at - SNIPPET, 0)
    return ("…" if start else "") + text[start:at + len(needle) + SNIPPET] + (
        "…" if at + len(needle) + SNIPPET < len(text) else "")


def find_documents(session: Session, *, user: User, text: str, limit: int) -> list[Hit]:
    """Readable documents whose name or current text holds ``text``, newest first (the search across the
    product, ``accounts.search.KINDS``)."""
    if not text.strip():
        return []
    documents = session.scalars(search_documents(session, user=user, text=text).limit(limit)).all()
    texts = dict(session.execute(select(DocumentVersion.document_id, DocumentVersion.text).where(
        DocumentVersion.document_id.in_([document.id for document in documents]),
        DocumentVersion.number == Document.current_version, DocumentVersion.document_id == Document.id)).all()
    ) if documents else {}
    hits = []
    for document in documents:
        found = first_match([("name", document.name)], text) or ("text", _snippet(texts.get(document.id, ""), text))
        hits.append(Hit(kind="documents", id=document.id, title=document.name, field=found[0], value=found[1],
                        detail=document.kind))
    return hits

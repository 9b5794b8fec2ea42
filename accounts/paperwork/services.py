"""Generated paperwork: templates (the defaults and administrators' replacements) and generating a
document from a deal, a project or an invoice, stored as version 1 of a document on the deal or project.

Rights: generating needs edit rights on the deal's or project's project (an invoice's document goes on its
deal, else its project); templates are changed by administrators only and listed for everyone signed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.billing import invoices as invoicing
from accounts.billing.models import Invoice
from accounts.documents import services as documents
from accounts.documents.models import Document
from accounts.models import Deal
from accounts.paperwork import context as contexts
from accounts.paperwork import pdf
from accounts.paperwork.models import PaperworkTemplate
from accounts.paperwork.render import check_template, render
from crmpm import audit
from crmpm.errors import Forbidden, Invalid, NotFound
from crmpm.files import storage
from crmpm.users.models import User
from eps.models import Project
from eps.permissions import Permission, authorize

KINDS = contexts.KINDS
LANGUAGES = contexts.LANGUAGES
FORMATS = ("pdf", "docx")
DEFAULTS = Path(__file__).resolve().parent / "templates"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CONTENT_TYPES = {"pdf": "application/pdf", "docx": DOCX_TYPE}
# Made only from an invoice: they print its number and dates.
FROM_INVOICE = ("invoice", "act")


@dataclass
class TemplateInfo:
    """A kind and language's template: the default, or the replacement an administrator uploaded."""

    kind: str
    language: str
    custom: bool
    file_name: str
    uploaded_at: datetime | None = None
    uploaded_by_id: int | None = None

    @property
    def name(self) -> str:
        return template_name(self.kind, self.language, custom=self.custom)


def template_name(kind: str, language: str, *, custom: bool) -> str:
    """What a generated document records as made from: ``invoice.ru`` (default) or ``invoice.ru (uploaded)``."""
    return f"{kind}.{language}" + (" (uploaded)" if custom else "")


ALLOWED = {"kind": KINDS, "language": LANGUAGES, "format": FORMATS}


def _wrong(**values: str) -> dict[str, str]:
    """The fields among ``values`` (kind, language, format) holding something not allowed, each with what is."""
    return {name: f"one of {', '.join(ALLOWED[name])}" for name, value in values.items() if value not in ALLOWED[name]}


def check_kind_language(kind: str, language: str) -> None:
    errors = _wrong(kind=kind, language=language)
    if errors:
        raise Invalid("unknown paperwork template {kind}.{language}", kind=kind, language=language, errors=errors)


def default_template(kind: str, language: str) -> bytes:
    check_kind_language(kind, language)
    return (DEFAULTS / f"{kind}.{language}.docx").read_bytes()


def _replacement(session: Session, kind: str, language: str) -> PaperworkTemplate | None:
    return session.scalars(select(PaperworkTemplate).where(PaperworkTemplate.kind == kind,
                                                           PaperworkTemplate.language == language)).first()




def template_of(session: Session, kind: str, language: str) -> tuple[bytes, TemplateInfo]:
    """The template in use for a kind and language: the uploaded replacement, else the default."""
    check_kind_language(kind, language)
    row = _replacement(session, kind, language)
    if row is None:
        return default_template(kind, language), TemplateInfo(kind, language, False, f"{kind}.{language}.docx")
    return storage.read(session, row.blob), TemplateInfo(kind, language, True, row.file_name, row.uploaded_at, row.uploaded_by_id)


def list_templates(session: Session) -> list[TemplateInfo]:
    """Every kind and language, with whether an administrator replaced its template."""
    rows = {(row.kind, row.language): row for row in session.scalars(select(PaperworkTemplate))}
    listed = []
    for kind in KINDS:
        for language in LANGUAGES:
            row = rows.get((kind, language))
            listed.append(TemplateInfo(kind, language, False, f"{kind}.{language}.docx") if row is None else
                          TemplateInfo(kind, language, True, row.file_name, row.uploaded_at, row.uploaded_by_id))
    return listed


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("only administrators change paperwork templates")


def upload_template(session: Session, *, actor: User, kind: str, language: str, data: bytes,
                    file_name: str = "") -> TemplateInfo:
    """Replace a kind and language's template (administrators); it must render with sample data, every
    placeholder known, or nothing is stored."""
    _require_admin(actor)
    check_kind_language(kind, language)
    check_template(data, contexts.sample(kind, language))
    row = _replacement(session, kind, language)
    before = row.audit_state() if row is not None else None
    old_blob = row.blob if row is not None else None
    blob = storage.put(session, data)
    name = (Path(file_name.replace("\\", "/")).name or f"{kind}.{language}.docx")[:255]
    if row is None:
        row = PaperworkTemplate(kind=kind, language=language, file_name=name, blob=blob, uploaded_by_id=actor.id)
        session.add(row)
    else:
        row.blob, row.file_name, row.uploaded_by_id, row.uploaded_at = blob, name, actor.id, datetime.now().astimezone()
    session.flush()
    if old_blob is not None:
        storage.drop(session, old_blob)
    audit.record(session, actor=actor, action="paperwork_template.upload", entity=row, before=before,
                 after=row.audit_state())
    return TemplateInfo(kind, language, True, row.file_name, row.uploaded_at, row.uploaded_by_id)


def restore_default(session: Session, *, actor: User, kind: str, language: str) -> TemplateInfo:
    """Go back to the default template of a kind and language (administrators)."""
    _require_admin(actor)
    check_kind_language(kind, language)
    row = _replacement(session, kind, language)
    if row is not None:
        audit.record(session, actor=actor, action="paperwork_template.restore", entity=row,
                     before=row.audit_state())
        blob = row.blob
        session.delete(row)
        session.flush()
        storage.drop(session, blob)
    return TemplateInfo(kind, language, False, f"{kind}.{language}.docx")


def _today(actor: User) -> date:
    try:
        return datetime.now(ZoneInfo(actor.time_zone)).date()
    except (KeyError, ValueError):
        return datetime.now().astimezone().date()


def check_request(kind: str, language: str, fmt: str) -> None:
    errors = _wrong(kind=kind, language=language, format=fmt)
    if errors:
        raise Invalid("the document cannot be made: {fields}", fields=", ".join(sorted(errors)), errors=errors)


def generate(session: Session, *, actor: User, kind: str, language: str, deal: Deal | None = None,
             project: Project | None = None, invoice: Invoice | None = None, fmt: str = "pdf",
             today: date | None = None) -> Document:
    """Render a kind of document in a language from a deal, a project or an invoice and store it as a new
    document (version 1) on the project when made from it, else on the deal (an invoice's deal, else its
    project); ``fmt`` is ``pdf`` or ``docx``."""
    check_request(kind, language, fmt)
    if (deal is None) + (project is None) + (invoice is None) != 2:
        raise ValueError("one of deal, project and invoice is needed")
    src = contexts.sources(session, deal=deal, project=project, invoice=invoice)
    authorize(session, user=actor, obj=src.project, permission=Permission.edit)
    if kind in FROM_INVOICE:
        if src.invoice is None:
            raise Invalid("an invoice or an act is made from an invoice: generate it on the invoice",
                          errors={"kind": "needs an invoice"})
        if src.invoice.number is None or src.invoice.status in ("draft", "cancelled"):
            raise Invalid("invoice {invoice_id} is {status}: only an issued invoice is printed",
                          invoice_id=src.invoice.id, status=src.invoice.status,
                          errors={"kind": f"the invoice is {src.invoice.status}"})
    day = today or _today(actor)
    template, info = template_of(session, kind, language)
    values = contexts.build(session, kind=kind, language=language, deal=deal, project=project, invoice=invoice,
                            today=day)
    data = render(template, values)
    if fmt == "pdf":
        data = pdf.docx_to_pdf(data)
    doc = values["doc"]
    title = f"{doc['title']} № {doc['number']}" if language == "ru" else f"{doc['title']} No. {doc['number']}"
    name = f"{title} {doc['date_short']}.{fmt}".replace("/", "-")
    # Kept where it was asked for: on the project when made from it, else on the deal (an invoice's, if any).
    subject = src.project if project is not None or src.deal is None else src.deal
    return documents.add_document(session, actor=actor, subject=subject, name=name, kind=kind, data=data,
                                  content_type=CONTENT_TYPES[fmt], generated_from=info.name)


def get_invoice_or_raise(session: Session, *, user: User, invoice_id: int, field: str | None = None) -> Invoice:
    """``accounts.billing.invoices.get_invoice_or_raise``, its refusal naming the request's field."""
    try:
        return invoicing.get_invoice_or_raise(session, user=user, invoice_id=invoice_id)
    except NotFound:
        raise NotFound("invoice {invoice_id} not found", invoice_id=invoice_id,
                       errors={field: ["not found"]} if field else None) from None

"""Importing leads: by external id, each new one on its branch (``region``), with its owner and status."""

from __future__ import annotations

from typing import Any

from crmpm import audit

from accounts import leads, services
from accounts.csvio import Record
from accounts.imports.job import ImportJob, Progress
from accounts.imports.report import RowRefused
from accounts.models import Lead, LeadStatus

PRELOAD = [(Lead, "external_id")]
NOT_STORED: set[str] = set()


def import_rows(job: ImportJob, records: list[Record], progress: Progress) -> None:
    """Import the lead rows in file order."""
    job.run_rows(records, lambda record: import_lead(job, record), progress)


def _values(job: ImportJob, fields: dict) -> dict[str, Any]:
    """The lead fields of the row that ``leads.upsert_lead`` takes."""
    values: dict[str, Any] = {}
    for name, key in (("company", "company"), ("name", "contact_name"), ("source", "source"),
                      ("channel", "channel"), ("product", "product")):
        if job.given(fields, name):
            values[key] = fields[name] or ""
    if job.given(fields, "email"):
        values["email"] = fields["email"]
    if job.given(fields, "phone"):
        values["phone"] = fields["phone"].e164 if fields["phone"] else None
    return values


def _status(fields: dict) -> LeadStatus | None:
    if fields.get("status") is None:
        return None
    try:
        return LeadStatus(fields["status"])
    except ValueError:
        raise RowRefused("status", f"status {fields['status']!r} is not one of "
                                   f"{', '.join(s.value for s in LeadStatus)}") from None


def import_lead(job: ImportJob, record: Record) -> str:
    """Create or update one lead; then its owner and status, with one audit entry for both."""
    fields = record.fields
    external_id = job.need_external_id(record)
    values = _values(job, fields)
    owner = job.refs.user(fields["owner"]) if job.given(fields, "owner") else None
    status = _status(fields)
    existing = job.refs.own(Lead, external_id, "lead")
    if existing is None:
        region = job.refs.node(fields.get("region"))
        lead, _created = leads.upsert_lead(job.session, actor=job.actor, external_id=external_id,
                                           region=region, created_at=fields.get("created_at"), **values)
        job.remember(Lead, external_id, lead)
        before = None
    else:
        lead, before = existing, existing.audit_state()
        leads.upsert_lead(job.session, actor=job.actor, external_id=external_id, region=existing.region_node,
                          **values)
    state = lead.audit_state()
    if owner is not None and owner.id != lead.owner_id:
        lead.owner_id = services.active_user(job.session, user_id=owner.id, field="owner_id").id
    if status is not None and status is not lead.status and lead.deal_id is None:
        # A lead already qualified into an imported deal keeps that status.
        lead.status = status
    if lead.audit_state() != state:
        job.session.flush()
        audit.record(job.session, actor=job.actor, action="update", entity=lead, before=state,
                     after=lead.audit_state())
    if before is None:
        return "created"
    return "unchanged" if lead.audit_state() == before else "updated"

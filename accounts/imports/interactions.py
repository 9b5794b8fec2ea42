"""Importing interactions: the journal is append-only, so an interaction already imported is left as it is.

``purpose`` is kept at the start of the summary.
"""

from __future__ import annotations

from accounts import activities
from accounts.csvio import Record
from accounts.imports.job import ImportJob, Progress
from accounts.imports.report import RowRefused
from accounts.models import Account, Contact, Deal, Interaction, Lead

PRELOAD = [(Interaction, "external_id"), (Account, "account"), (Contact, "contact"), (Deal, "deal"),
           (Lead, "lead")]
NOT_STORED: set[str] = set()


def import_rows(job: ImportJob, records: list[Record], progress: Progress) -> None:
    """Import the interaction rows in file order."""
    job.run_rows(records, lambda record: import_interaction(job, record), progress)


def import_interaction(job: ImportJob, record: Record) -> str:
    """Record one interaction, linked to the account, contact, deal and lead its row names."""
    fields = record.fields
    external_id = job.need_external_id(record)
    if job.refs.external(Interaction, external_id) is not None:
        return "unchanged"
    links = {
        "account": job.refs.account(fields.get("account")),
        "contact": job.refs.referenced(Contact, "contact", fields.get("contact"), "contact"),
        "deal": job.refs.referenced(Deal, "deal", fields.get("deal"), "deal"),
        "lead": job.refs.referenced(Lead, "lead", fields.get("lead"), "lead"),
    }
    if fields.get("direction") is None:
        raise RowRefused("direction", "direction is required: inbound or outbound")
    summary = fields.get("summary") or ""
    if fields.get("purpose"):
        summary = f"Purpose: {fields['purpose']}" + (f"\n{summary}" if summary else "")
    interaction, _created = activities.record_interaction_once(
        job.session, actor=job.actor, external_id=external_id, kind=fields["kind"],
        direction=fields["direction"], occurred_at=fields["occurred_at"],
        user=job.refs.user(fields.get("owner")), subject=fields.get("subject") or "", summary=summary,
        duration_minutes=fields.get("duration_minutes"), **links)
    job.remember(Interaction, external_id, interaction)
    return "created"

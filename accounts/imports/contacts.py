"""Importing contacts: by external id, each at the account its row names (by external id or exact name)."""

from __future__ import annotations

from typing import Any

from accounts import services
from accounts.csvio import Record
from accounts.imports.job import ImportJob, Progress
from accounts.imports.report import RowRefused
from accounts.models import Account, Contact

PRELOAD = [(Contact, "external_id"), (Account, "account")]
NOT_STORED = {"source"}


def import_rows(job: ImportJob, records: list[Record], progress: Progress) -> None:
    """Import the contact rows in file order."""
    job.run_rows(records, lambda record: import_contact(job, record), progress)


def import_contact(job: ImportJob, record: Record) -> str:
    """Create or update one contact; ``name`` splits into first and last names when they are not mapped."""
    fields = record.fields
    external_id = job.need_external_id(record)
    account = job.refs.account(fields.get("account"))
    if account is None:
        raise RowRefused("account", "account is required: a contact belongs to an account")
    values: dict[str, Any] = {}
    first, last = fields.get("first_name"), fields.get("last_name")
    if "first_name" not in job.mapped and "last_name" not in job.mapped:
        first, _space, last = (fields.get("name") or "").rpartition(" ")
    values["first_name"], values["last_name"] = first or "", last or ""
    for name in ("title", "email"):
        if job.given(fields, name):
            values[name] = fields[name] or ("" if name == "title" else None)
    if job.given(fields, "phone") or job.given(fields, "mobile"):
        phone = fields.get("phone") or fields.get("mobile")
        values["phone"] = phone.e164 if phone else None
    if job.given(fields, "owner"):
        values["owner"] = job.refs.user(fields["owner"])
    existing = job.refs.own(Contact, external_id, "contact")
    if existing is None:
        contact, _created = services.upsert_contact(job.session, actor=job.actor, external_id=external_id,
                                                    account=account, **values)
        if fields.get("created_at") is not None:
            contact.created_at = fields["created_at"]
        job.remember(Contact, external_id, contact)
        return "created"
    before = existing.audit_state()
    services.upsert_contact(job.session, actor=job.actor, external_id=external_id, account=account, **values)
    return "unchanged" if existing.audit_state() == before else "updated"

"""Importing contacts: by external id, each at the account its row names (by external id or exact name).

Phones and e-mails: every phone and e-mail field the mapping maps (``phone``, ``mobile``,
``phone_work``, ``email_home``... each cell possibly holding several) becomes one of the
contact's channels of that field's kind, in field order (``Record.fields["channels"]``). The file
is the source of the types it maps: a re-import makes the contact's phones (or e-mails) those of
its row, in the row's order, and keeps the channels of a type the mapping does not map. A phone
that cannot be normalized is not stored (the contact's channels are E.164, so duplicates can be
found); the report's warning names it with its line, column and text.
"""

from __future__ import annotations

from typing import Any

from accounts import services
from accounts.csvio import KINDS, FieldType, Record
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
    if job.given(fields, "title"):
        values["title"] = fields["title"] or ""
    if job.given(fields, "owner"):
        values["owner"] = job.refs.user(fields["owner"])
    existing = job.refs.own(Contact, external_id, "contact")
    channels = file_channels(job, fields, existing)
    if channels is not None:
        values["channels"] = channels
    if existing is None:
        contact, _created = services.upsert_contact(job.session, actor=job.actor, external_id=external_id,
                                                    account=account, **values)
        if fields.get("created_at") is not None:
            contact.created_at = fields["created_at"]
        job.remember(Contact, external_id, contact)
        return "created"
    before = _state(existing)
    services.upsert_contact(job.session, actor=job.actor, external_id=external_id, account=account, **values)
    return "unchanged" if _state(existing) == before else "updated"


def _state(contact: Contact) -> tuple:
    """What a re-import may change: the contact's fields and all its phones and e-mails (not only the first)."""
    channels = sorted((channel.type.value, channel.position, channel.kind.value, channel.value)
                      for channel in contact.channels)
    return contact.audit_state(), channels


def file_channels(job: ImportJob, fields: dict, existing: Contact | None) -> list[tuple[str, str, str]] | None:
    """The contact's channels as the row gives them (see the module's docstring), or None when no phone or
    e-mail field is mapped."""
    mapped_types = {channel_type for channel_type, name in _CHANNEL_TYPES.items() if name & job.mapped}
    if not mapped_types:
        return None
    kept = [(channel.type.value, channel.kind.value, channel.value) for channel in existing.channels
            if channel.type.value not in mapped_types] if existing is not None else []
    return [*fields.get("channels", ()), *kept]


_CHANNEL_TYPES = {"phone": {spec.name for spec in KINDS["contacts"].channel_fields if spec.type is FieldType.PHONE},
                  "email": {spec.name for spec in KINDS["contacts"].channel_fields if spec.type is FieldType.EMAIL}}

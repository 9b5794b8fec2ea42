"""Importing contacts: by external id, each at the account its row names (by external id or exact name).

Phones and e-mails: every phone and e-mail field the mapping maps (``phone``, ``mobile``,
``phone_work``, ``email_home``... each cell possibly holding several) becomes one of the
contact's channels of that field's kind, in field order (``Record.fields["channels"]``). The file
is the source of the types it maps: a re-import makes the contact's phones (or e-mails) those of
its row, in the row's order, and keeps the channels of a type the mapping does not map. A phone
that cannot be normalized is not stored (the contact's channels are E.164, so duplicates can be
found); the report's warning names it with its line, column and text.

A row naming no account is a **private client** (B2C): the contact gets a person
account of its own on the row's branch (``region``, a column or a default;
``services.create_private_client``), named after the person and following their
name. A known contact keeps the account it has when its row names none.

Names: the parts (``first_name``, ``last_name``, ``patronymic``) when the row gives
any of them, else the full ``name`` split by ``accounts.names.split_full_name``
(Фамилия Имя Отчество for Russian names): a full-name column wins over empty
first/last columns.

``deal``: the external id of a deal this contact is the contact of (Bitrix24's
DEAL_ID). The deal becomes this contact's (edit rights on the deal; the contact
must be at the deal's account). A deal not imported yet is a note of the report,
not an error: import the deals, then this file again to link it.
"""

from __future__ import annotations

from typing import Any

from accounts import deals as deal_services
from accounts import services
from accounts.csvio import KINDS, FieldType, Record
from accounts.imports.job import ImportJob, Progress
from accounts.imports.report import RowRefused
from accounts.models import Account, Contact, Deal
from accounts.names import person_name

PRELOAD = [(Contact, "external_id"), (Account, "account"), (Deal, "deal")]
NOT_STORED = {"source"}


def import_rows(job: ImportJob, records: list[Record], progress: Progress) -> None:
    """Import the contact rows in file order."""
    job.run_rows(records, lambda record: import_contact(job, record), progress)


def import_contact(job: ImportJob, record: Record) -> str:
    """Create or update one contact, and link it to the row's deal."""
    fields = record.fields
    external_id = job.need_external_id(record)
    account = job.refs.account(fields.get("account"))
    values: dict[str, Any] = {}
    person = person_name(full=fields.get("name"), first=fields.get("first_name"), last=fields.get("last_name"),
                         patronymic=fields.get("patronymic"))
    values["first_name"], values["last_name"] = person.first, person.last
    if person.patronymic or "patronymic" in job.mapped or "name" in job.mapped:
        values["patronymic"] = person.patronymic
    if job.given(fields, "title"):
        values["title"] = fields["title"] or ""
    if job.given(fields, "owner"):
        values["owner"] = job.refs.user(fields["owner"])
    existing = job.refs.own(Contact, external_id, "contact")
    channels = file_channels(job, fields, existing)
    if channels is not None:
        values["channels"] = channels
    if existing is None:
        region = None
        if account is None:
            if fields.get("region") is None:
                raise RowRefused("account", "no account: name the contact's company (account), or give the branch "
                                            "(region) to make the contact a private client")
            region = job.refs.node(fields["region"])
        contact, _created = services.upsert_contact(job.session, actor=job.actor, external_id=external_id,
                                                    account=account, region=region, **values)
        if fields.get("created_at") is not None:
            contact.created_at = fields["created_at"]
        job.remember(Contact, external_id, contact)
        _link_deal(job, record, contact)
        return "created"
    before = _state(existing)
    services.upsert_contact(job.session, actor=job.actor, external_id=external_id, account=account, **values)
    linked = _link_deal(job, record, existing)
    return "unchanged" if _state(existing) == before and not linked else "updated"


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


def _link_deal(job: ImportJob, record: Record, contact: Contact) -> bool:
    """Make the row's ``deal`` this contact's; True when it changed."""
    ref = record.fields.get("deal")
    if ref is None:
        return False
    deal = job.refs.external(Deal, ref)
    if deal is None:
        job.after_commit(lambda: job.report.notes.append(
            f"line {record.line}: deal {ref!r} is not imported yet, so contact {record.external_id!r} is not "
            "linked to it; import the deals, then this file again"))
        return False
    if not job.refs.readable(deal):
        raise RowRefused("deal", f"unknown deal {ref!r} (no deal you may read has this external id)", status=404)
    if deal.contact_id == contact.id:
        return False
    if deal.account_id != contact.account_id:
        raise RowRefused("deal", f"deal {ref!r} is at another account than the contact")
    deal_services.update_deal(job.session, actor=job.actor, deal=deal, contact=contact)
    return True

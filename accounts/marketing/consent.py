"""Consent and opt-out per person and channel: the one home of "may we send this person a message".

Every change is audited (when, how, by whom: the record the law on personal data asks for). An opt-out always
wins; consent is needed only where the sender asks for it (advertising: ``Campaign.consent_required``).
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from accounts.marketing.models import CHANNELS, ContactConsent
from accounts.permissions import authorize_on
from crmpm import audit
from crmpm.database import utcnow
from crmpm.errors import Invalid
from crmpm.users.models import User
from eps.permissions import Permission


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise Invalid("unknown channel", errors={"channel": [f"one of {', '.join(CHANNELS)}"]})
    return channel


def _row(session: Session, contact_id: int, channel: str) -> ContactConsent:
    row = session.scalar(select(ContactConsent).where(ContactConsent.contact_id == contact_id,
                                                      ContactConsent.channel == channel))
    if row is None:
        row = ContactConsent(contact_id=contact_id, channel=channel, consent_source="", opt_out_source="")
        session.add(row)
    return row


def record_consent(session: Session, *, contact_id: int, channel: str, source: str, actor: User | None) -> ContactConsent:
    """The person consented to ``channel`` (and so withdraws an earlier opt-out)."""
    row = _row(session, contact_id, check_channel(channel))
    before = row.audit_state() if row.id else None
    row.consented_at, row.consent_source = utcnow(), source[:200]
    row.opted_out_at, row.opt_out_source = None, ""
    session.flush()
    audit.record(session, actor=actor, action="update" if before else "create", entity=row, before=before,
                 after=row.audit_state())
    return row


def record_opt_out(session: Session, *, contact_id: int, channel: str, source: str, actor: User | None) -> ContactConsent:
    """The person opted out of ``channel`` (an unsubscribe link, a request, by hand): no message goes out after."""
    row = _row(session, contact_id, check_channel(channel))
    before = row.audit_state() if row.id else None
    if row.opted_out_at is None:
        row.opted_out_at = utcnow()
    row.opt_out_source = source[:200]
    session.flush()
    audit.record(session, actor=actor, action="update" if before else "create", entity=row, before=before,
                 after=row.audit_state())
    return row


def opted_out_ids(channel: str) -> Select:
    """A select of the ids of the contacts who opted out of ``channel``."""
    return select(ContactConsent.contact_id).where(ContactConsent.channel == channel,
                                                   ContactConsent.opted_out_at.is_not(None))


def consented_ids(channel: str) -> Select:
    """A select of the ids of the contacts whose consent to ``channel`` stands (given, not withdrawn)."""
    return select(ContactConsent.contact_id).where(ContactConsent.channel == channel,
                                                   ContactConsent.consented_at.is_not(None),
                                                   ContactConsent.opted_out_at.is_(None))


def consents_of(session: Session, contact_id: int) -> list[dict]:
    """Every channel (``CHANNELS``, in order) with when and how the person consented and opted out (None, "")."""
    rows = {row.channel: row for row in session.scalars(select(ContactConsent).where(ContactConsent.contact_id == contact_id))}
    return [{"channel": channel,
             "consented_at": getattr(rows.get(channel), "consented_at", None),
             "consent_source": getattr(rows.get(channel), "consent_source", ""),
             "opted_out_at": getattr(rows.get(channel), "opted_out_at", None),
             "opt_out_source": getattr(rows.get(channel), "opt_out_source", ""),
             "may_send": rows.get(channel) is None or rows[channel].opted_out_at is None,
             "consent_stands": rows.get(channel) is not None and rows[channel].consented_at is not None
             and rows[channel].opted_out_at is None}
            for channel in CHANNELS]


def set_consent(session: Session, *, actor: User, contact, channel: str, consent: bool, source: str) -> ContactConsent:
    """Record by hand that ``contact`` consented to (``consent``) or opted out of ``channel``: edit rights on the
    contact's account; ``source`` says how (a signed form, a call, a letter)."""
    authorize_on(session, user=actor, obj=contact, governed_by=contact.account.eps_node, label="contact",
                 permission=Permission.edit)
    check_channel(channel)
    if not isinstance(consent, bool):
        raise Invalid("consent is true or false", errors={"consent": ["true or false"]})
    source = (source or "").strip() if isinstance(source, str) else ""
    if not source:
        raise Invalid("say how the person consented or opted out", errors={"source": ["required"]})
    if len(source) > 200:
        raise Invalid("the source is too long", errors={"source": ["at most 200 characters"]})
    record = record_consent if consent else record_opt_out
    return record(session, contact_id=contact.id, channel=channel, source=source, actor=actor)


def merge_consents(session: Session, *, keep_id: int, merge_id: int, actor: User | None) -> None:
    """A contact merged into another: the kept one takes every choice the person made through either record.

    An opt-out made through either stays (the earliest one counts: the person said no then); a consent stands
    only if neither record opted out of the channel since. The merged record's rows go (audited).
    """
    kept = {row.channel: row for row in session.scalars(select(ContactConsent)
                                                        .where(ContactConsent.contact_id == keep_id))}
    for row in list(session.scalars(select(ContactConsent).where(ContactConsent.contact_id == merge_id))):
        target = kept.get(row.channel) or _row(session, keep_id, row.channel)
        before = target.audit_state() if target.id else None
        if row.opted_out_at is not None and (target.opted_out_at is None or row.opted_out_at < target.opted_out_at):
            target.opted_out_at, target.opt_out_source = row.opted_out_at, row.opt_out_source
        if row.consented_at is not None and (target.consented_at is None or row.consented_at > target.consented_at):
            target.consented_at, target.consent_source = row.consented_at, row.consent_source
        session.flush()
        audit.record(session, actor=actor, action="update" if before else "create", entity=target, before=before,
                     after={**target.audit_state(), "merged_from_contact_id": merge_id})
        audit.record(session, actor=actor, action="delete", entity=row, before=row.audit_state())
        session.delete(row)
    session.flush()


def opted_out(session: Session, *, contact_id: int, channel: str) -> bool:
    """Whether the contact opted out of ``channel``: every message to a person on it asks this (or
    :func:`opted_out_ids` for many) first."""
    return session.scalar(opted_out_ids(channel).where(ContactConsent.contact_id == contact_id).limit(1)) is not None

"""Consent and opt-out per person and channel: the one home of "may we send this person a message".

Every change is audited (when, how, by whom: the record the law on personal data asks for). An opt-out always
wins; consent is needed only where the sender asks for it (advertising: ``Campaign.consent_required``).
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from accounts.marketing.models import CHANNELS, ContactConsent
from crmpm import audit
from crmpm.database import utcnow
from crmpm.errors import Invalid
from crmpm.users.models import User


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

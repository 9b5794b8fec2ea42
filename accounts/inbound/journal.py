"""How a call, a message or an e-mail from an integration becomes one interaction in the client journal.

Who the client is: an e-mail replying to one recorded before (In-Reply-To, References: one received here, or one
crmpm sent and filed, ``accounts.mail_journal``) goes where that one went (its deal, contact, account or lead; a
lead qualified since, to what it became); otherwise the phone (E.164) or
address is matched to a contact among the accounts the integration's acting user may change, and the interaction
goes on that contact, its account and the account's open deal (the contact's own first, then the newest). An
unknown sender, or one known only outside the acting user's reach (nothing of another branch is disclosed or
touched), is an open lead with that phone or address in reach, else a new lead on the integration's region node,
routed by the routing rules (``accounts.leads.receive_lead``); the next call from that number finds that lead.

Each event is recorded once per (integration, external id): the ``inbound_events`` row is claimed in a savepoint
before anything else is written, so of two deliveries at once the unique constraint lets one through and the other
finds its row. A call reported again (ringing, then completed) updates the one interaction's duration and the
event's recording and outcome instead of recording a second call. The interaction itself is recorded by
``accounts.activities.create_interaction`` (audit, ``interaction.recorded``), with the acting user's rights.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.database import utcnow
from crmpm.errors import Forbidden, Invalid, NotFound
from crmpm.users.models import User
from eps.models import EpsNode
from eps.permissions import Permission, access_to

from accounts import services
from accounts.activities import FUTURE_SLACK, create_interaction
from accounts.inbound.mail import ParsedMail
from accounts.inbound.models import EXTERNAL_ID_LENGTH, InboundEvent, Integration, IntegrationKind
from accounts.leads import receive_lead
from accounts.mail_journal import journal_key
from accounts.models import (
    Account, Contact, Deal, Direction, Interaction, InteractionKind, Lead, LeadStatus, PipelineStage, StageKind,
)
from accounts.normalize import normalize_email, normalize_phone
from accounts.permissions import editable_deal_ids

# How much of one e-mail's or message's text the journal keeps; the rest is cut with a note saying how much.
MAX_TEXT = 100_000
# Candidates read when matching a phone or address (a switchboard number may be shared by many contacts).
MAX_CANDIDATES = 50


class CallDirection:
    inbound = "in"
    outbound = "out"
    missed = "missed"
    ALL = (inbound, outbound, missed)


@dataclass
class Recorded:
    """What one delivery recorded (``created``) or found already recorded."""

    event: InboundEvent
    interaction: Interaction | None
    created: bool


@dataclass
class Party:
    """Where an interaction goes: a contact at an account (and its open deal), or a lead."""

    account: Account | None = None
    contact: Contact | None = None
    deal: Deal | None = None
    lead: Lead | None = None


# Recording


def record_call(session: Session, *, integration: Integration, external_id: str, from_number: str,
                to_number: str, direction: str, started_at: datetime, duration_seconds: int = 0,
                recording_url: str | None = None) -> Recorded:
    """A telephony call event: recorded once; reported again, its duration, outcome and recording updated."""
    _kind(integration, IntegrationKind.telephony)
    if direction not in CallDirection.ALL:
        raise Invalid("a call's direction is in, out or missed", errors={"direction": ["in, out or missed"]})
    _aware(started_at, "started_at")
    # The client is the other end: the caller of an inbound or missed call, the called of an outbound one.
    field, number = ("to", to_number) if direction == CallDirection.outbound else ("from", from_number)
    phone = services.clean(field, number, normalize_phone)
    if phone is None:
        raise Invalid("the client's number is needed", errors={field: ["required"]})
    status = "missed" if direction == CallDirection.missed else "answered" if duration_seconds else "ringing"
    event, created = _claim(session, integration, external_id)
    if not created:
        _amend_call(session, integration=integration, event=event, status=status, duration_seconds=duration_seconds,
                    recording_url=recording_url)
        return Recorded(event, event.interaction, False)
    party = _party(session, integration, phone=phone, name="", message="")
    words = {CallDirection.inbound: "Call from", CallDirection.outbound: "Call to",
             CallDirection.missed: "Missed call from"}
    interaction = _record(session, integration, party, kind=InteractionKind.call,
                          direction=Direction.outbound if direction == CallDirection.outbound else Direction.inbound,
                          at=started_at, subject=f"{words[direction]} {phone}",
                          summary=_recording_line(recording_url), duration_minutes=_minutes(duration_seconds))
    event.interaction, event.status = interaction, status
    event.duration_seconds, event.recording_url = duration_seconds, recording_url
    session.flush()
    return Recorded(event, interaction, True)


def record_message(session: Session, *, integration: Integration, external_id: str, sent_at: datetime,
                   text: str, direction: str = "in", channel: str = "", phone: str | None = None,
                   email: str | None = None, name: str = "") -> Recorded:
    """A messenger or chat message: recorded once, on the sender's contact (by phone or address) or a lead."""
    _kind(integration, IntegrationKind.messenger)
    if direction not in ("in", "out"):
        raise Invalid("a message's direction is in or out", errors={"direction": ["in or out"]})
    _aware(sent_at, "sent_at")
    phone = services.clean("phone", phone, normalize_phone)
    email = services.clean("email", email, normalize_email)
    name = (name or "").strip()
    if not (phone or email or name):
        raise Invalid("a message needs the sender's phone, e-mail or name", errors={"phone": ["required"]})
    event, created = _claim(session, integration, external_id)
    if not created:
        return Recorded(event, event.interaction, False)
    body = _cut(text)
    party = _party(session, integration, phone=phone, email=email, name=name, message=body)
    who = name or phone or email
    via = f" via {channel.strip()}" if channel.strip() else ""
    interaction = _record(session, integration, party, kind=InteractionKind.messenger,
                          direction=Direction.inbound if direction == "in" else Direction.outbound, at=sent_at,
                          subject=f"Message{via} {'from' if direction == 'in' else 'to'} {who}", summary=body)
    event.interaction = interaction
    session.flush()
    return Recorded(event, interaction, True)


def record_email(session: Session, *, integration: Integration, mail: ParsedMail,
                 received_at: datetime | None = None) -> Recorded:
    """An inbound e-mail: recorded once per Message-ID, threaded onto what it replies to, else on the sender."""
    _kind(integration, IntegrationKind.email)
    sender = services.clean("from", mail.sender, normalize_email)
    if sender is None:
        raise Invalid("the sender's address is needed", errors={"from": ["required"]})
    now = received_at or utcnow()
    at = min(mail.sent_at, now) if mail.sent_at is not None and mail.sent_at.tzinfo is not None else now
    # Without a Message-ID the message's own content identifies it, so a redelivery is still recorded once.
    external_id = mail.message_id or "sha256:" + hashlib.sha256(
        "\x00".join([sender, mail.subject, mail.text, at.isoformat() if mail.sent_at else ""]).encode()).hexdigest()
    event, created = _claim(session, integration, external_id)
    if not created:
        return Recorded(event, event.interaction, False)
    body = _cut(mail.text)
    lines = [body] if body else []
    if mail.to or mail.cc:
        lines.append("To: " + ", ".join(mail.to) + (f"\nCc: {', '.join(mail.cc)}" if mail.cc else ""))
    if mail.attachments:
        lines.append("Attachments (not stored): " + ", ".join(mail.attachments))
    party = _thread(session, integration.acting_user, [*mail.in_reply_to, *reversed(mail.references)])
    if party is None:
        party = _party(session, integration, email=sender, name=mail.sender_name,
                       message=f"{mail.subject}\n\n{body}".strip())
    interaction = _record(session, integration, party, kind=InteractionKind.email, direction=Direction.inbound,
                          at=at, subject=mail.subject.strip() or f"E-mail from {sender}",
                          summary="\n\n".join(lines))
    event.interaction = interaction
    session.flush()
    _campaign_reply(session, integration, mail, body)
    return Recorded(event, interaction, True)


def _campaign_reply(session: Session, integration: Integration, mail: ParsedMail, body: str) -> None:
    """A reply to a campaign's message counts as the campaign's response (and may make it a lead); a lead the
    acting user may not make leaves just the interaction."""
    from accounts.marketing.responses import record_reply

    try:
        with session.begin_nested():
            record_reply(session, message_ids=[*mail.in_reply_to, *mail.references], actor=integration.acting_user,
                         note=f"{mail.subject}\n\n{body}".strip())
    except (Forbidden, NotFound):
        pass


# Once per external id


def _claim(session: Session, integration: Integration, external_id: str) -> tuple[InboundEvent, bool]:
    """The event's row, new (True) or delivered before (False); a concurrent twin waits on the unique key."""
    external_id = (external_id or "").strip()
    if not external_id or len(external_id) > EXTERNAL_ID_LENGTH:
        raise Invalid("an event needs its external id, of at most {length} characters", length=EXTERNAL_ID_LENGTH,
                      errors={"external_id": [f"1 to {EXTERNAL_ID_LENGTH} characters"]})
    existing = _event(session, integration, external_id)
    if existing is not None:
        return existing, False
    savepoint = session.begin_nested()
    event = InboundEvent(integration_id=integration.id, external_id=external_id, status="", received_at=utcnow())
    session.add(event)
    try:
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        existing = _event(session, integration, external_id)
        if existing is None:
            raise
        return existing, False
    savepoint.commit()
    return event, True


def _event(session: Session, integration: Integration, external_id: str) -> InboundEvent | None:
    return session.scalar(select(InboundEvent).where(InboundEvent.integration_id == integration.id,
                                                     InboundEvent.external_id == external_id))


def _amend_call(session: Session, *, integration: Integration, event: InboundEvent, status: str,
                duration_seconds: int, recording_url: str | None) -> None:
    """A later report of the same call: a longer duration, a recording or an outcome replace what was known."""
    interaction = event.interaction
    changed = False
    if duration_seconds and duration_seconds != event.duration_seconds:
        event.duration_seconds, changed = duration_seconds, True
    if recording_url and recording_url != event.recording_url:
        event.recording_url, changed = recording_url, True
    if status != event.status and status != "ringing":
        event.status, changed = status, True
    if not changed:
        return
    event.updated_at = utcnow()
    if interaction is not None:
        before = interaction.audit_state()
        interaction.duration_minutes = _minutes(event.duration_seconds or 0)
        if event.recording_url:
            kept = [line for line in interaction.summary.splitlines() if not line.startswith("Recording: ")]
            interaction.summary = "\n".join([*kept, _recording_line(event.recording_url)]).strip()
        session.flush()
        audit.record(session, actor=integration.acting_user, action="update", entity=interaction, before=before,
                     after={**interaction.audit_state(), "duration_minutes": interaction.duration_minutes})
    session.flush()


# Who the client is


def _party(session: Session, integration: Integration, *, phone: str | None = None, email: str | None = None,
           name: str, message: str) -> Party:
    user = integration.acting_user
    contact = _contact(session, user, phone=phone, email=email)
    if contact is not None:
        return Party(account=contact.account, contact=contact, deal=_open_deal(session, user, contact))
    lead = _open_lead(session, user, phone=phone, email=email)
    if lead is None:
        lead = receive_lead(session, actor=user, region=integration.region_node, route=True,
                            contact_name=name[:200], phone=phone, email=email, source=integration.name[:100],
                            channel=integration.kind.value, message=message)
    return Party(lead=lead)


def _may_change(session: Session, user: User, node: EpsNode) -> bool:
    return access_to(session, user=user, obj=node).can(Permission.edit)


def _contact(session: Session, user: User, *, phone: str | None, email: str | None) -> Contact | None:
    """The oldest contact with this phone or address whose account ``user`` may change."""
    query = services.contacts_with(phone=phone, email=email)
    if query is None:
        return None
    for contact in session.scalars(query.limit(MAX_CANDIDATES)):
        account = contact.account
        if account.merged_into_id is None and _may_change(session, user, account.eps_node):
            return contact
    return None


def _open_deal(session: Session, user: User, contact: Contact) -> Deal | None:
    """The account's open deal the interaction belongs to: the contact's own first, then the newest."""
    deals = list(session.scalars(
        select(Deal).join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(Deal.account_id == contact.account_id, PipelineStage.kind == StageKind.open)
        .order_by(case((Deal.contact_id == contact.id, 0), else_=1), Deal.created_at.desc(), Deal.id.desc())
        .limit(MAX_CANDIDATES)))
    editable = editable_deal_ids(session, user=user, deal_ids=[deal.id for deal in deals])
    return next((deal for deal in deals if deal.id in editable), None)


def _open_lead(session: Session, user: User, *, phone: str | None, email: str | None) -> Lead | None:
    """An open lead (new or assigned) with this phone or address that ``user`` may change, the oldest."""
    keys = [column == value for column, value in ((Lead.phone, phone), (Lead.email, email)) if value]
    if not keys:
        return None
    query = (select(Lead).where(or_(*keys), Lead.status.in_((LeadStatus.new, LeadStatus.assigned)))
             .order_by(Lead.id).limit(MAX_CANDIDATES))
    return next((lead for lead in session.scalars(query) if _may_change(session, user, lead.region_node)), None)


def _thread(session: Session, user: User, message_ids: list[str]) -> Party | None:
    """Where the latest e-mail among ``message_ids`` went, if ``user`` may still change it: one received
    (an ``inbound_events`` row of an e-mail integration) or one we sent (filed by ``accounts.mail_journal``)."""
    message_ids = message_ids[:100]
    if not message_ids:
        return None
    received = (select(InboundEvent.interaction_id).join(Integration, Integration.id == InboundEvent.integration_id)
                .where(Integration.kind == IntegrationKind.email, InboundEvent.external_id.in_(message_ids)))
    sent = Interaction.external_id.in_([journal_key(message_id) for message_id in message_ids])
    earlier = session.scalars(
        select(Interaction).where(or_(Interaction.id.in_(received), sent))
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(MAX_CANDIDATES))
    for interaction in earlier:
        if interaction.lead_id is not None and interaction.account_id is None:
            lead = session.get(Lead, interaction.lead_id)
            if lead.status is LeadStatus.qualified and lead.account_id is not None:
                party = Party(account=session.get(Account, lead.account_id),
                              contact=session.get(Contact, lead.contact_id) if lead.contact_id else None,
                              deal=session.get(Deal, lead.deal_id) if lead.deal_id else None)
            else:
                party = Party(lead=lead)
        else:
            party = Party(account=session.get(Account, interaction.account_id),
                          contact=session.get(Contact, interaction.contact_id) if interaction.contact_id else None,
                          deal=session.get(Deal, interaction.deal_id) if interaction.deal_id else None)
        node = party.account.eps_node if party.account is not None else party.lead.region_node
        if not _may_change(session, user, node):
            continue
        if party.deal is not None and not editable_deal_ids(session, user=user, deal_ids=[party.deal.id]):
            party.deal = None
        return party
    return None


# Pieces


def _record(session: Session, integration: Integration, party: Party, **fields) -> Interaction:
    return create_interaction(session, actor=integration.acting_user, kind=fields["kind"],
                              direction=fields["direction"], occurred_at=fields["at"], account=party.account,
                              lead=party.lead if party.account is None else None, contact=party.contact,
                              deal=party.deal, subject=fields["subject"], summary=fields.get("summary", ""),
                              duration_minutes=fields.get("duration_minutes"))


def _kind(integration: Integration, kind: IntegrationKind) -> None:
    if integration.kind is not kind:
        raise Invalid("a {kind} integration cannot record this", kind=integration.kind.value,
                      errors={"integration": [integration.kind.value]})


def _aware(value: datetime, field: str) -> None:
    """A point in time (with its zone) that is not ahead of now (the journal holds what happened)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid("{field} needs a time zone", field=field, errors={field: ["a time zone is needed"]})
    if value > utcnow() + FUTURE_SLACK:
        raise Invalid("{field} lies in the future", field=field, errors={field: ["in the future"]})


def _minutes(seconds: int) -> int:
    return math.ceil(seconds / 60)


def _recording_line(url: str | None) -> str:
    return f"Recording: {url}" if url else ""


def _cut(text: str) -> str:
    text = (text or "").strip()
    if len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f"\n[{len(text) - MAX_TEXT} more characters not kept]"

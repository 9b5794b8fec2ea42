"""Mail that went to a client lands in the client's journal: the consumer of ``mail.sent`` events.

``crmpm.mail`` records ``mail.sent`` on what a message was about (a deal, a contact, a lead or an
account) once the SMTP server has taken it; this consumer files it as an outbound e-mail
interaction there, once (its external id is the message's Message-ID), written by whoever asked for
the message (the owner of the deal, lead or account when the system did), with that person's rights.
"""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy.orm import Session

from crmpm.errors import CrmpmError
from crmpm.events import DomainEvent
from crmpm.users.models import User

from accounts.activities import record_interaction_once
from accounts.models import EXTERNAL_ID_LENGTH, Account, Contact, Deal, Direction, InteractionKind, Lead

log = logging.getLogger(__name__)

SUBJECTS = {"deals": Deal, "contacts": Contact, "leads": Lead, "accounts": Account}
MAX_SUMMARY = 10_000


def handle(session: Session, event: DomainEvent) -> None:
    """File a sent message about a client as an outbound e-mail interaction, once."""
    model = SUBJECTS.get(event.subject_type) if event.type == "mail.sent" else None
    subject = session.get(model, event.subject_id) if model is not None else None
    if subject is None:
        return
    links = _links(session, subject)
    actor = session.get(User, event.actor_id) if event.actor_id else None
    actor = actor or _owner(session, subject)
    if actor is None:
        log.warning("mail %s about %s %s has no one to file it in the journal", event.payload.get("message_id"),
                    event.subject_type, event.subject_id)
        return
    payload = event.payload
    recipients = ", ".join(payload.get("to", []) + payload.get("cc", []))
    try:
        record_interaction_once(session, actor=actor, external_id=journal_key(payload["message_id"]),
                                kind=InteractionKind.email, direction=Direction.outbound,
                                occurred_at=event.occurred_at, subject=payload.get("subject", ""),
                                summary=f"To: {recipients}\n\n{payload.get('text', '')}"[:MAX_SUMMARY], **links)
    except CrmpmError as exc:  # the asker lost the rights meanwhile: the event stays readable, the journal untouched
        log.warning("mail %s not filed in the journal of %s %s: %s", payload.get("message_id"), event.subject_type,
                    event.subject_id, exc.message)


def _links(session: Session, subject) -> dict:
    if isinstance(subject, Deal):
        contact = session.get(Contact, subject.contact_id) if subject.contact_id else None
        return {"deal": subject, "account": subject.account, "contact": contact}
    if isinstance(subject, Contact):
        return {"contact": subject, "account": subject.account}
    if isinstance(subject, Lead):
        return {"lead": subject}
    return {"account": subject}


def _owner(session: Session, subject) -> User | None:
    """Who files a message the system sent: the owner of the deal, lead, contact or account."""
    owner_id = subject.owner_id or (subject.account.owner_id if isinstance(subject, Contact) else None)
    return session.get(User, owner_id) if owner_id else None


def journal_key(message_id: str) -> str:
    """The external id of the interaction a sent message is filed as: ``mail:<Message-ID>``, or its digest when
    that is longer than an external id may be. A client's reply names the Message-ID, and the inbound e-mail
    threads onto that interaction by this key (``accounts.inbound.journal``)."""
    key = f"mail:{message_id}"
    if len(key) <= EXTERNAL_ID_LENGTH:
        return key
    return "mail:sha256:" + hashlib.sha256(message_id.encode()).hexdigest()[:EXTERNAL_ID_LENGTH - 12]

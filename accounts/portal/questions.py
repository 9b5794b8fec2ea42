"""A client's question on the portal: an interaction on the account's timeline and a task for its owner.

The question is an inbound interaction of kind ``web_form`` (written by the client in a form of our own site —
not a live chat, not a paper letter), from the client's contact, about the account and, when it names a shared
project, that project's deal; its subject and text are the interaction's subject and summary. The task to answer
it goes to the account's owner (else the deal's owner, else the first user who may read the account), due by
the end of the next working day in their time zone, titled in their language; ``task.created`` tells them (``accounts.notifying``). Both
carry the same ``external_id`` (``portal-question:<token>``), by which the client's list finds a question's task
and shows whether it is answered (done). Rate limits are the edge's (``crmpm.ratelimit`` kind
``portal-question``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm.database import utcnow
from crmpm.errors import Invalid
from crmpm.users.models import User

from accounts import activities
from accounts.automation.rules import due_at
from accounts.models import Account, Contact, Deal, Direction, Interaction, InteractionKind, Task, TaskStatus
from accounts.portal.access import get_shared_project_or_raise
from accounts.portal.models import PortalUser

SUBJECT_LENGTH = 200
TEXT_LENGTH = 5000
KEY_PREFIX = "portal-question:"
DUE_WORKING_DAYS = 1
TASK_TITLES = {"ru": "Ответить на вопрос клиента: {subject}", "en": "Answer the client's question: {subject}"}


@dataclass
class Question:
    """A question as its author sees it: what they asked, when, and whether it is answered."""

    interaction: Interaction
    status: str  # open | done | cancelled


def _owner(session: Session, account: Account, deal: Deal | None) -> User | None:
    for user_id in (account.owner_id, deal.owner_id if deal else None):
        user = session.get(User, user_id) if user_id else None
        if user is not None and user.is_active and not user.is_client:
            return user
    readers = activities.assignable_users(session, account=account, limit=1)
    return readers[0] if readers else None


def ask(session: Session, *, client: PortalUser, subject: str, text: str, project_id: int | None = None) -> Interaction:
    """Record ``client``'s question and give its owner a task to answer it."""
    subject, text = (subject or "").strip(), (text or "").strip()
    errors = {}
    if not subject or len(subject) > SUBJECT_LENGTH:
        errors["subject"] = [f"1 to {SUBJECT_LENGTH} characters"]
    if not text or len(text) > TEXT_LENGTH:
        errors["text"] = [f"1 to {TEXT_LENGTH} characters"]
    if errors:
        raise Invalid("a question needs a subject of at most {subject} characters and a text of at most {text}",
                      subject=SUBJECT_LENGTH, text=TEXT_LENGTH, errors=errors)
    deal = None
    if project_id is not None:
        project = get_shared_project_or_raise(session, client, project_id)
        deal = session.scalar(select(Deal).where(Deal.project_id == project.id,
                                                 Deal.account_id == client.account_id))
    account = session.get(Account, client.account_id)
    contact = session.get(Contact, client.contact_id)
    if contact is not None and contact.account_id != account.id:
        contact = None
    key = KEY_PREFIX + secrets.token_hex(12)
    now = utcnow()
    interaction = activities.create_interaction(
        session, actor=client.user, kind=InteractionKind.web_form, direction=Direction.inbound, occurred_at=now,
        account=account, contact=contact, deal=deal, subject=subject, summary=text, external_id=key)
    owner = _owner(session, account, deal)
    if owner is not None:
        zone = ZoneInfo(owner.time_zone or "UTC")
        title = TASK_TITLES.get(owner.locale, TASK_TITLES["en"]).format(subject=subject)
        activities.create_task(session, actor=client.user, title=title[:500],
                               due_at=due_at(now, DUE_WORKING_DAYS, zone), assignee=owner, account=account,
                               deal=deal, contact=contact, external_id=key)
    return interaction


def questions_of(session: Session, client: PortalUser, *, limit: int = 100) -> list[Question]:
    """The questions ``client`` asked, newest first, with the status of the task answering each."""
    rows = session.execute(
        select(Interaction, Task.status)
        .outerjoin(Task, Task.external_id == Interaction.external_id)
        .where(Interaction.user_id == client.user_id, Interaction.account_id == client.account_id,
               Interaction.external_id.startswith(KEY_PREFIX, autoescape=True))
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(limit)).all()
    return [Question(interaction, (status or TaskStatus.open).value) for interaction, status in rows]

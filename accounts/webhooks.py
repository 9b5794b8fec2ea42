"""Which events reach which webhooks: each subscriber receives only what they may read, when it is sent.

``handle`` (a consumer of domain events, ``crmpm.event_consumers``) makes a delivery for every
active webhook subscribed to the event's type whose owner is active and may read the event now
(``accounts.events.visible_events``, the one rule for integrators), and asks for its first attempt
(the ``webhooks.deliver`` job, handed over when the consumer's delivery commits). ``deliver`` (the
job) asks again before each attempt: an owner who lost the rights since receives nothing more.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm.events import DomainEvent, Event
from crmpm.jobs import JobContext
from crmpm.users.models import User
from crmpm.webhooks import services as webhooks
from crmpm.webhooks.models import Webhook

from accounts.events import visible_events


def may_read(session: Session, user: User | None, event_id: int) -> bool:
    """True when ``user`` is active and may read event ``event_id`` now."""
    if user is None or not user.is_active:
        return False
    condition = visible_events(session, user=user)
    query = select(Event.id).where(Event.id == event_id)
    if condition is not None:
        query = query.where(condition)
    return session.scalar(query) is not None


def handle(session: Session, event: DomainEvent) -> None:
    """A delivery (and its job) per active webhook subscribed to ``event.type`` whose owner may read it."""
    for webhook in webhooks.subscribed(session, event):
        if may_read(session, session.get(User, webhook.owner_id), event.id):
            webhooks.enqueue(session, webhook, event)


def deliver(ctx: JobContext) -> dict:
    """One attempt of a webhook delivery (the ``webhooks.deliver`` job); a later one scheduled if it fails."""
    session = ctx.session
    delivery = webhooks.claim(session, delivery_id=int(ctx.params["delivery_id"]), after=int(ctx.params["after"]))
    if delivery is None:
        return {"status": "overtaken"}  # delivered, given up, or attempted since by another job (a replay)
    webhook = session.get(Webhook, delivery.webhook_id)
    row = session.scalar(select(Event).where(Event.id == delivery.event_id))
    if row is None:
        webhooks.give_up(session, delivery, "the event is no longer kept")
    elif not may_read(session, session.get(User, webhook.owner_id), delivery.event_id):
        webhooks.give_up(session, delivery, "the webhook's owner may no longer read this event")
    else:
        return webhooks.attempt(session, delivery, webhook, DomainEvent.of(row))
    return {"status": delivery.status}

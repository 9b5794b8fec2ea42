"""Webhook subscriptions and their deliveries: the rules of who sees them, retries and disabling.

A webhook is seen and changed by its owner and by administrators only; anyone else gets NotFound
(it names nothing). Which events reach a webhook is a rights rule of the layers above (the
consumer in ``accounts.webhooks`` asks ``accounts.events``); this module knows subscriptions,
attempts and their schedule.

Retries: after the n-th failed attempt the next comes ``RETRY_BASE · 2^(n-1)`` later (30 s, 1 min,
2 min … at most an hour apart) until ``RETRY_WINDOW`` (24 h) after the delivery was created; then
the delivery is ``gave_up``. After ``DISABLE_AFTER`` failed attempts in a row (of any deliveries,
20 unless configured) the webhook is disabled, audited, and ``webhook.disabled`` is recorded; any
success resets the count. The CRMPM_WEBHOOK_RETRY_BASE, CRMPM_WEBHOOK_RETRY_WINDOW (seconds) and
CRMPM_WEBHOOK_DISABLE_AFTER environment variables change them (tests shorten them).
"""

from __future__ import annotations

import json
import os
import secrets as secrets_module
import time
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crmpm import audit, events, jobs
from crmpm.database import utcnow
from crmpm.errors import Conflict, Invalid, NotFound
from crmpm.events import DomainEvent
from crmpm.webhooks import sending, signing, targets
from crmpm.webhooks.models import Webhook, WebhookDelivery

DELIVER_KIND = "webhooks.deliver"
MAX_PER_USER = 50
RETRY_CAP = 3600.0


def retry_base() -> float:
    return float(os.environ.get("CRMPM_WEBHOOK_RETRY_BASE") or 30)


def retry_window() -> float:
    return float(os.environ.get("CRMPM_WEBHOOK_RETRY_WINDOW") or 24 * 3600)


def disable_after() -> int:
    return int(os.environ.get("CRMPM_WEBHOOK_DISABLE_AFTER") or 20)


def retry_delay(failures: int) -> timedelta:
    """How long after its ``failures``-th failed attempt a delivery is tried again."""
    return timedelta(seconds=min(retry_base() * 2 ** max(failures - 1, 0), RETRY_CAP))


def new_secret() -> str:
    return secrets_module.token_urlsafe(32)


def body_of(event: DomainEvent) -> bytes:
    """The JSON body delivered for ``event``: the fields of a ``GET /api/v1/events`` item, its payload as ``data``."""
    return json.dumps({"id": event.id, "type": event.type, "occurred_at": event.occurred_at.isoformat(),
                       "version": event.version, "subject_type": event.subject_type, "subject_id": event.subject_id,
                       "actor_id": event.actor_id, "data": event.payload},
                      separators=(",", ":"), ensure_ascii=False).encode()


# Reading

def get_or_raise(session: Session, *, user, webhook_id: int) -> Webhook:
    """Webhook ``webhook_id`` if ``user`` owns it or administers; NotFound otherwise."""
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or not (user.is_admin or webhook.owner_id == user.id):
        raise NotFound("no webhook {id}", id=webhook_id)
    return webhook


def list_(*, user):
    """A select of the webhooks ``user`` sees, newest first: their own; an administrator's, all."""
    query = select(Webhook).order_by(Webhook.id.desc())
    if not user.is_admin:
        query = query.where(Webhook.owner_id == user.id)
    return query


def deliveries(webhook: Webhook):
    """A select of ``webhook``'s deliveries, newest first."""
    return (select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
            .order_by(WebhookDelivery.id.desc()))


def get_delivery_or_raise(session: Session, webhook: Webhook, delivery_id: int) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFound("no delivery {id}", id=delivery_id)
    return delivery


# Events addressed to one webhook (its id in the payload's ``webhook_id``), whatever it subscribes to.
ADDRESSED = ("automation.webhook", "campaign.message")


def subscribed(session: Session, event: DomainEvent) -> list[Webhook]:
    """The active webhooks subscribed to ``event``'s type that existed when it happened (an older event still
    waiting for the dispatcher is not sent to a webhook created since); whose owner may read it is the caller's.
    An event of ``ADDRESSED`` types goes to the webhook it names only (an automation rule's call)."""
    query = (select(Webhook).where(Webhook.active.is_(True), Webhook.created_at <= event.occurred_at)
             .order_by(Webhook.id))
    if event.type in ADDRESSED:
        return list(session.scalars(query.where(Webhook.id == event.payload.get("webhook_id"))))
    # A JSON list's membership is not asked of the database (SQLite and PostgreSQL differ); webhooks are few.
    return [hook for hook in session.scalars(query) if event.type in hook.events]


# Changing

def _check_url(url: str) -> str:
    try:
        targets.resolve(url)
    except targets.TargetRefused as exc:
        raise Invalid("the webhook URL is refused: {reason}", reason=str(exc), errors={"url": [str(exc)]}) from None
    return url


def _check_events(types: list[str]) -> list[str]:
    unknown = sorted(set(types) - set(events.TYPES))
    if unknown:
        raise Invalid("unknown event types: {types}", types=", ".join(unknown),
                      errors={"events": [f"unknown event type: {name}" for name in unknown]})
    if not types:
        raise Invalid("{field} is required", field="events", errors={"events": ["name at least one event type"]})
    return list(dict.fromkeys(types))


def create(session: Session, *, actor, url: str, events: list[str], secret: str | None = None,
           description: str = "") -> Webhook:
    """A new webhook of ``actor``'s (any active user may subscribe; they receive what they may read)."""
    types = _check_events(events)
    _check_url(url)
    owned = session.scalar(select(func.count()).select_from(Webhook).where(Webhook.owner_id == actor.id))
    if owned >= MAX_PER_USER:
        raise Conflict("a user may have at most {limit} webhooks", limit=MAX_PER_USER)
    webhook = Webhook(owner_id=actor.id, url=url, events=types, secret=secret or new_secret(), active=True,
                      description=description or "", consecutive_failures=0, created_at=utcnow())
    session.add(webhook)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=webhook, after=audit_state(webhook))
    return webhook


def update_(session: Session, webhook: Webhook, *, actor, changes: dict) -> Webhook:
    """Change url, events, description, secret or ``active`` (true re-enables a disabled webhook, count reset)."""
    before = audit_state(webhook)
    if "events" in changes:
        webhook.events = _check_events(changes["events"])
    if "url" in changes:
        webhook.url = _check_url(changes["url"])
    if "description" in changes:
        webhook.description = changes["description"] or ""
    if changes.get("secret"):
        webhook.secret = changes["secret"]
    if "active" in changes and changes["active"] != webhook.active:
        webhook.active = changes["active"]
        if webhook.active:
            webhook.consecutive_failures, webhook.disabled_at, webhook.disabled_reason = 0, None, None
        else:
            webhook.disabled_at, webhook.disabled_reason = utcnow(), "disabled by a user"
    session.flush()
    after = audit_state(webhook)
    if "secret" in changes:
        after["secret_rotated"] = True
    audit.record(session, actor=actor, action="update", entity=webhook, before=before, after=after)
    return webhook


def delete(session: Session, webhook: Webhook, *, actor) -> None:
    """Remove ``webhook`` and its delivery log (audited)."""
    audit.record(session, actor=actor, action="delete", entity=webhook, before=audit_state(webhook))
    session.delete(webhook)
    session.flush()


def audit_state(webhook: Webhook) -> dict:
    """What the audit keeps of a webhook (never its secret)."""
    return {"owner_id": webhook.owner_id, "url": webhook.url, "events": list(webhook.events),
            "active": webhook.active, "description": webhook.description}


# Delivering

def enqueue(session: Session, webhook: Webhook, event: DomainEvent) -> WebhookDelivery:
    """A delivery of ``event`` to ``webhook`` and the job that makes its first attempt, after the commit."""
    delivery = WebhookDelivery(webhook_id=webhook.id, event_id=event.id, event_type=event.type, attempts=0,
                               status="pending", next_attempt_at=utcnow(), created_at=utcnow())
    session.add(delivery)
    session.flush()
    _ask(session, delivery)
    return delivery


def _ask(session: Session, delivery: WebhookDelivery, delay: timedelta | None = None) -> None:
    # ``after``: the attempts made when it was asked; a job that finds more was overtaken and does nothing.
    jobs.start(session, kind=DELIVER_KIND, params={"delivery_id": delivery.id, "after": delivery.attempts},
               delay=delay)


def replay(session: Session, webhook: Webhook, delivery: WebhookDelivery) -> WebhookDelivery:
    """A new attempt of ``delivery`` now, whatever its status (its webhook must be active).

    Failing, it is retried only while within the retry window of the delivery's creation.
    """
    if not webhook.active:
        raise Conflict("webhook {id} is disabled: enable it before replaying", id=webhook.id)
    delivery.status, delivery.next_attempt_at = "pending", utcnow()
    session.flush()
    _ask(session, delivery)
    return delivery


def claim(session: Session, *, delivery_id: int, after: int) -> WebhookDelivery | None:
    """Delivery ``delivery_id`` if a job asked after ``after`` attempts is still the one to make the next.

    On PostgreSQL the row stays locked until the job's transaction ends, so two jobs never
    attempt the same delivery at once.
    """
    query = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    delivery = session.scalar(query)
    if delivery is None or delivery.attempts != after or delivery.status in ("succeeded", "gave_up"):
        return None
    return delivery


def give_up(session: Session, delivery: WebhookDelivery, reason: str) -> None:
    """Stop delivering ``delivery`` (kept in the log with ``reason``; a replay may try it again)."""
    delivery.status, delivery.error, delivery.next_attempt_at = "gave_up", reason[:500], None


def attempt(session: Session, delivery: WebhookDelivery, webhook: Webhook, event: DomainEvent) -> dict:
    """Make one attempt of ``delivery`` now and record it: success, a retry scheduled, or given up."""
    if not webhook.active:
        give_up(session, delivery, "the webhook is disabled")
        return {"status": delivery.status}
    body = body_of(event)
    headers = signing.headers(webhook.secret, int(time.time()), body)
    headers.update({signing.EVENT: event.type, signing.DELIVERY: str(delivery.id)})
    try:
        target = targets.resolve(webhook.url)
    except targets.TargetRefused as exc:
        outcome = sending.Outcome(None, 0, None, f"target refused: {exc}")
    else:
        outcome = sending.post(target, body, headers)
    now = utcnow()
    delivery.attempts += 1
    delivery.status_code, delivery.duration_ms = outcome.status_code, outcome.duration_ms
    delivery.response_excerpt, delivery.error = outcome.excerpt, outcome.error
    if outcome.succeeded:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "succeeded", now, None
        session.execute(update(Webhook).where(Webhook.id == webhook.id, Webhook.consecutive_failures != 0)
                        .values(consecutive_failures=0).execution_options(synchronize_session=False))
        return {"status": "succeeded", "status_code": outcome.status_code}
    if outcome.status_code is not None and delivery.error is None:
        delivery.error = f"the receiver answered {outcome.status_code}"
    delay = retry_delay(delivery.attempts)
    if (now + delay - delivery.created_at).total_seconds() > retry_window():
        delivery.status, delivery.next_attempt_at = "gave_up", None
    else:
        delivery.status, delivery.next_attempt_at = "failed", now + delay
        _ask(session, delivery, delay)
    _count_failure(session, webhook, outcome)
    return {"status": delivery.status, "status_code": outcome.status_code, "error": delivery.error}


def _count_failure(session: Session, webhook: Webhook, outcome: sending.Outcome) -> None:
    failures = session.execute(
        update(Webhook).where(Webhook.id == webhook.id)
        .values(consecutive_failures=Webhook.consecutive_failures + 1).returning(Webhook.consecutive_failures)
        .execution_options(synchronize_session=False)).scalar_one()
    session.expire(webhook, ["consecutive_failures"])
    if failures < disable_after() or not webhook.active:
        return
    before = audit_state(webhook)
    webhook.active, webhook.disabled_at = False, utcnow()
    webhook.disabled_reason = f"{failures} failed attempts in a row"
    session.flush()
    audit.record(session, actor=None, action="disable", entity=webhook, before=before, after=audit_state(webhook))
    events.record(session, "webhook.disabled", webhook, {
        "owner_id": webhook.owner_id, "url": webhook.url, "failures": failures,
        "last_status": outcome.status_code})

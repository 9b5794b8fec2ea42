"""Delivering events to their consumers: at least once, in order, each consumer at its own pace.

A consumer is a function ``handle(session, event)`` registered by the package that owns it under
the ``crmpm.event_consumers`` entry point (the core never imports them). Each consumer has a
cursor; one delivery run takes a batch of the events after it, calls the consumer on each in
order, each in a savepoint, and moves the cursor in the same transaction as what the consumer
wrote, so a process killed in the middle delivers the batch again (at least once) and a
consumer's own writes happen once. A consumer that fails on an event stops there (later events
of that subject must not overtake it) and gets it again on the next runs; after ``MAX_ATTEMPTS``
the event is recorded in ``event_failures`` with the error and the consumer moves past it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from importlib.metadata import entry_points

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm.database import roll_back_savepoint, utcnow
from crmpm.events.models import Event, EventCursor, EventFailure
from crmpm.events.recording import DomainEvent

log = logging.getLogger(__name__)

CONSUMER_GROUP = "crmpm.event_consumers"
MAX_ATTEMPTS = 5
BATCH = 500

Consumer = Callable[[Session, DomainEvent], None]


@lru_cache(maxsize=1)
def installed_consumers() -> dict[str, Consumer]:
    """The consumers the installed packages register, by name."""
    return {entry.name: entry.load() for entry in entry_points(group=CONSUMER_GROUP)}


def committed_after(after: int, limit: int):
    """A select of up to ``limit`` committed events after id ``after``, in the order of their commits."""
    return select(Event).where(Event.id > after).order_by(Event.id).limit(limit)


def pending(session: Session, *, after: int, limit: int) -> list[DomainEvent]:
    """Up to ``limit`` committed events after id ``after``, in the order of their commits."""
    query = committed_after(after, limit)
    return [DomainEvent.of(row) for row in session.scalars(query)]


def _cursor(session: Session, consumer: str) -> EventCursor | None:
    """The consumer's cursor, locked for this delivery run; None if another run holds it."""
    query = select(EventCursor).where(EventCursor.consumer == consumer)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    cursor = session.scalar(query)
    if cursor is None:
        cursor = EventCursor(consumer=consumer, last_id=0, failures=0)
        session.add(cursor)
        session.flush()
    return cursor


def deliver(session: Session, consumer: str, handle: Consumer, *, batch: int = BATCH) -> int:
    """One delivery run of ``consumer`` in the caller's transaction: how many events it took."""
    cursor = _cursor(session, consumer)
    if cursor is None:
        return 0
    delivered = 0
    for event in pending(session, after=cursor.last_id, limit=batch):
        savepoint = session.begin_nested()
        try:
            handle(session, event)
            savepoint.commit()
        except Exception as exc:  # noqa: BLE001 - any consumer failure is kept, not raised to the dispatcher
            roll_back_savepoint(savepoint)  # whatever the consumer wrote, by the ORM or not
            if not _failed(session, cursor, event, exc):
                break
        else:
            delivered += 1
        cursor.last_id = event.id
        cursor.failing_event_id, cursor.failures, cursor.last_error = None, 0, None
    cursor.updated_at = utcnow()
    return delivered


def _failed(session: Session, cursor: EventCursor, event: DomainEvent, exc: Exception) -> bool:
    """Count a failure of ``event``; True when the consumer gives up on it (recorded) and moves on."""
    error = f"{exc.__class__.__name__}: {exc}"[:4000]
    log.warning("event consumer %s failed on event %s (%s): %s", cursor.consumer, event.id, event.type, error)
    cursor.failures = (cursor.failures if cursor.failing_event_id == event.id else 0) + 1
    cursor.failing_event_id, cursor.last_error = event.id, error
    if cursor.failures < MAX_ATTEMPTS:
        return False
    session.add(EventFailure(consumer=cursor.consumer, event_id=event.id, attempts=cursor.failures, error=error))
    return True


def dispatch(new_session: Callable[[], Session], consumers: dict[str, Consumer] | None = None, *,
             batch: int = BATCH) -> int:
    """Deliver what is pending to every consumer, each in its own transaction; events delivered."""
    total = 0
    for name, handle in sorted((consumers if consumers is not None else installed_consumers()).items()):
        session = new_session()
        try:
            total += deliver(session, name, handle, batch=batch)
            session.commit()
        except Exception:
            session.rollback()
            log.exception("delivering events to %s failed", name)
        finally:
            session.close()
    return total

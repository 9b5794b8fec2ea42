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

from sqlalchemy import literal_column, or_, select
from sqlalchemy.orm import Session

from crmpm.database import utcnow
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


def settled(session: Session):
    """A condition true for events whose transaction, and every older one, has ended.

    On PostgreSQL an id is given out when the row is inserted, not when it commits: an event of
    a transaction still running may carry a smaller id than one already committed. Reading only
    events older than the oldest transaction still running in this database never leaves one
    behind. Transactions of the server's other databases cannot write these events, so they hold
    nothing back (the snapshot's own xmin counts them: one long transaction anywhere on the
    server would stop delivery here); a transaction is known to be another database's by its
    backend in ``pg_stat_activity`` (a backend never changes database), and one not found there
    counts, to be safe.
    """
    if session.get_bind().dialect.name != "postgresql":
        return None
    # The reader's own transaction's events are settled for itself (it sees them, and ends after them).
    return or_(Event.txid < literal_column(_OLDEST_RUNNING_HERE),
               Event.txid == literal_column("pg_current_xact_id_if_assigned()::text::bigint"))


# The oldest transaction id still running, other databases' left out (backend_xid is the 32-bit
# form of an xid8: compared modulo 2^32), or the next id to be given out when none runs.
_OLDEST_RUNNING_HERE = """coalesce(
    (select min(running::text::bigint) from pg_snapshot_xip(pg_current_snapshot()) as running
     where running::text::bigint % 4294967296 not in (
         select backend_xid::text::bigint from pg_stat_activity
         where backend_xid is not null and datname is distinct from current_database())),
    pg_snapshot_xmax(pg_current_snapshot())::text::bigint)"""


def pending(session: Session, *, after: int, limit: int) -> list[DomainEvent]:
    """Up to ``limit`` settled events after id ``after``, oldest first."""
    query = select(Event).where(Event.id > after).order_by(Event.id).limit(limit)
    condition = settled(session)
    if condition is not None:
        query = query.where(condition)
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
            savepoint.rollback()
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

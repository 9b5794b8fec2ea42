"""Writing events: one function, called by the service that made the change, in its transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import event, func, insert, select, update
from sqlalchemy.orm import Session

from crmpm.database import forget_transaction_memo, utcnow
from crmpm.events.models import Event, EventCounter

# Bumped when the payload of an event type changes shape in a way consumers must know.
VERSION = 1


@dataclass(frozen=True)
class DomainEvent:
    """An event as consumers and integrators receive it: ids and facts, no ORM objects."""

    id: int
    type: str
    version: int
    subject_type: str
    subject_id: int | None
    payload: dict
    actor_id: int | None
    occurred_at: datetime

    @classmethod
    def of(cls, row) -> "DomainEvent":
        return cls(id=row.id, type=row.type, version=row.version, subject_type=row.subject_type,
                   subject_id=row.subject_id, payload=row.payload or {}, actor_id=row.actor_id,
                   occurred_at=row.occurred_at)


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)  # money keeps its exact digits
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"an event payload holds ids and plain facts, not {type(value).__name__}")


def subject_of(subject) -> tuple[str, int | None]:
    """``(subject_type, subject_id)`` of an ORM row (its table name and id) or of a given pair."""
    if isinstance(subject, tuple):
        return subject
    return subject.__tablename__, subject.id


def record(session: Session, type: str, subject, payload: dict | None = None, *, actor=None,
           version: int = VERSION) -> None:
    """Record that ``type`` happened to ``subject``, in the caller's transaction.

    A rolled-back transaction (or savepoint) records nothing; a committed one gets its events
    numbered in commit order as it commits (``_number_events``) and delivered
    (``crmpm.events.delivery.dispatch``). ``payload`` holds ids and plain facts (Decimals become
    exact strings, times ISO text).
    """
    record_many(session, type, [(subject_of(subject), payload)], actor=actor, version=version)


def record_many(session: Session, type: str, events: list[tuple[tuple[str, int | None], dict]], *,
                actor=None, version: int = VERSION) -> None:
    """Record one event of ``type`` per ``(subject, payload)`` in one statement (bulk imports)."""
    if not events:
        return
    session.flush()
    actor_id = getattr(actor, "id", actor)
    now = utcnow()
    rows = [{"type": type, "version": version, "subject_type": subject[0], "subject_id": subject[1],
             "payload": json.loads(json.dumps(payload or {}, default=_plain)), "actor_id": actor_id,
             "occurred_at": now} for subject, payload in events]
    forget_transaction_memo(session)
    session.execute(insert(Event), rows)
    session.info[_UNNUMBERED] = True


# An event's row is written at once (so a savepoint rolled back takes it away), but its id, the
# place in the order readers follow, is given only as its transaction commits: the transaction
# locks the counter row, numbers its events after the last id, and holds the lock until its commit
# is visible. So ids follow commits: when a reader sees an id, every smaller one is committed and
# visible too, and a reader that keeps the last id it saw never passes an event committed later
# (a PostgreSQL sequence gives ids at insert time, in another order than commits). The lock is held
# only from numbering to commit, a few milliseconds, however long the transaction ran before.
_UNNUMBERED = "crmpm.events.unnumbered"


@event.listens_for(Session, "before_commit")
def _number_events(session: Session) -> None:
    if not session.info.pop(_UNNUMBERED, False):
        return
    forget_transaction_memo(session)
    unnumbered = select(Event.row_id).where(Event.id.is_(None)).order_by(Event.row_id)
    row_ids = session.scalars(unnumbered).all()
    if not row_ids:
        return
    counter = session.execute(
        update(EventCounter).where(EventCounter.name == "events")
        .values(last_id=EventCounter.last_id + len(row_ids)).returning(EventCounter.last_id)).scalar_one_or_none()
    if counter is None:  # the counter row was removed (a table emptied by hand): start after the last id
        counter = (session.scalar(select(func.max(Event.id))) or 0) + len(row_ids)
        session.execute(insert(EventCounter).values(name="events", last_id=counter))
    first = counter - len(row_ids) + 1
    session.execute(update(Event), [{"row_id": row_id, "id": first + offset} for offset, row_id in enumerate(row_ids)])


@event.listens_for(Session, "after_rollback")
def _forget_unnumbered(session: Session) -> None:
    session.info.pop(_UNNUMBERED, None)

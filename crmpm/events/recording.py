"""Writing events: one function, called by the service that made the change, in its transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import insert, literal_column
from sqlalchemy.orm import Session

from crmpm.database import forget_transaction_memo, utcnow
from crmpm.events.models import Event

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

    The change it describes is flushed first, so its row locks are taken before the event gets
    its id: two transactions changing one subject record their events in the order they commit.
    A rolled-back transaction records nothing; a committed one is delivered (``crmpm.events.delivery.dispatch``).
    ``payload`` holds ids and plain facts (Decimals become exact strings, times ISO text).
    """
    session.flush()
    subject_type, subject_id = subject_of(subject)
    values = {
        "type": type, "version": version, "subject_type": subject_type, "subject_id": subject_id,
        "payload": json.loads(json.dumps(payload or {}, default=_plain)),
        "actor_id": getattr(actor, "id", actor), "occurred_at": utcnow(),
    }
    if session.get_bind().dialect.name == "postgresql":
        values["txid"] = literal_column("pg_current_xact_id()::text::bigint")
    forget_transaction_memo(session)
    session.execute(insert(Event).values(**values))


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
    statement = insert(Event)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.values(txid=literal_column("pg_current_xact_id()::text::bigint"))
    forget_transaction_memo(session)
    session.execute(statement, rows)

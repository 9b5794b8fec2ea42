"""The outbox: one row per domain event, written in the transaction of the change it describes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crmpm.database import Base, utcnow

# SQLite gives an INTEGER PRIMARY KEY the rowid (monotonic); elsewhere a 64-bit identity.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class Event(Base):
    """What happened in the domain: its type, its subject, the facts consumers need, who and when.

    ``id`` is the event's place in the order of commits, given when its transaction commits
    (``crmpm.events.recording``), so a reader that keeps the last id it saw never passes an event
    committed later; until then it is empty and the row is known by ``row_id``.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_subject", "subject_type", "subject_id", "id"),
        Index("ix_events_type", "type", "id"),
        Index("ix_events_unordered", "row_id", postgresql_where=text("id IS NULL"), sqlite_where=text("id IS NULL")),
    )

    row_id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    type: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(default=1)
    subject_type: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventCounter(Base):
    """The last event id given out: one row, locked by each committing transaction while it numbers its events."""

    __tablename__ = "event_counter"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)


class EventCursor(Base):
    """How far one consumer has been given the events: every id up to ``last_id`` is delivered."""

    __tablename__ = "event_cursors"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    # The event the consumer failed on, retried on the next runs until it succeeds or is given up.
    failing_event_id: Mapped[int | None] = mapped_column(BigInteger)
    failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(default=utcnow)


class EventFailure(Base):
    """An event a consumer gave up on after its retries: kept with the error, never silently dropped."""

    __tablename__ = "event_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    consumer: Mapped[str] = mapped_column(String(100), index=True)
    event_id: Mapped[int] = mapped_column(BigInteger)
    attempts: Mapped[int]
    error: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)

"""A worker process: Huey's consumer running crmpm's jobs, the periodic schedule and the event dispatcher."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import delete, func, select

from crmpm.database import db, utcnow
from crmpm.events import delivery as events_dispatch
from crmpm.events.models import Event, EventCursor
from crmpm.jobs.engine import DEFAULT_QUEUE, engine_for
from crmpm.jobs.kinds import periodic_kinds
from crmpm.jobs.models import Job, JobFile
from crmpm.jobs.runner import recover, run_job
from crmpm.jobs.services import start

log = logging.getLogger(__name__)

# Finished periodic jobs (those with a key) are kept this long, then removed by the recovery tick.
KEEP_PERIODIC = timedelta(days=7)


def tick(app: Flask, kind: str) -> None:
    """Ask for the periodic job ``kind`` of this minute; asked by several workers, it starts once."""
    minute = utcnow().replace(second=0, microsecond=0)
    with app.app_context(), db.transaction() as session:
        start(session, kind=kind, key=f"{kind}@{minute.isoformat()}", max_attempts=1)


def recovery_tick(app: Flask) -> None:
    """Every minute: requeue jobs whose worker died, resend the unsent, prune old periodic jobs and expired files."""
    with app.app_context(), db.transaction() as session:
        recover(session)
        session.execute(delete(Job).where(Job.key.is_not(None), Job.status.in_(("succeeded", "failed")),
                                          Job.finished_at < utcnow() - KEEP_PERIODIC))
        session.execute(delete(JobFile).where(JobFile.expires_at < utcnow()))


def events_waiting(app: Flask, consumers: list[str]) -> bool:
    """Whether any consumer is behind the newest event (read without taking SQLite's write lock)."""
    with app.app_context():
        session = db.read_session()
        try:
            newest = session.scalar(select(func.max(Event.id)))
            if newest is None:
                return False
            cursors = dict(session.execute(select(EventCursor.consumer, EventCursor.last_id)).all())
        finally:
            session.close()
    return any(cursors.get(name, 0) < newest for name in consumers)


class Dispatcher(threading.Thread):
    """Delivers events to the installed consumers every ``interval`` seconds while the worker runs."""

    def __init__(self, app: Flask, interval: float) -> None:
        super().__init__(daemon=True, name="crmpm-events")
        self.app, self.interval, self.stopped = app, interval, threading.Event()

    def run(self) -> None:
        consumers = events_dispatch.installed_consumers()
        while not self.stopped.wait(self.interval):
            if not consumers:
                continue
            try:
                if events_waiting(self.app, list(consumers)):
                    with self.app.app_context():
                        events_dispatch.dispatch(db.new_session, consumers)
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("event dispatch failed")


def consumer(app: Flask, *, concurrency: int = 2, queue: str = DEFAULT_QUEUE, periodic: bool = True):
    """The Huey consumer of ``queue`` for ``app``, with crmpm's periodic jobs registered on it."""
    engine = engine_for(app.config, queue)
    if periodic:
        engine.periodic("crmpm.recover", {"minute": "*"}, lambda: recovery_tick(app))
        for kind, schedule in periodic_kinds().items():
            engine.periodic(f"crmpm.tick.{kind}", schedule, lambda kind=kind: tick(app, kind))
    return engine.consumer(lambda job_id: run_job(app, job_id, queue=queue), workers=concurrency, periodic=periodic)


def run(app: Flask, *, concurrency: int = 2, queue: str = DEFAULT_QUEUE, periodic: bool = True,
        dispatch_interval: float = 1.0) -> None:
    """Run a worker until SIGINT or SIGTERM: recover what a dead worker left, then consume."""
    recovery_tick(app)
    dispatcher = Dispatcher(app, dispatch_interval)
    dispatcher.start()
    try:
        consumer(app, concurrency=concurrency, queue=queue, periodic=periodic).run()
    finally:
        dispatcher.stopped.set()

"""Running jobs: claim an attempt, do the work in one transaction, finish, retry or fail; recover the lost.

At least once: a worker killed in the middle of a job leaves the job ``running`` with a heartbeat
that stops; ``recover`` (every minute, and at every worker's start) puts it back in the queue,
and the work, rolled back with the dead worker's connection, is done again from the start.
Never twice: the work and the job's ``succeeded`` state commit together, and only for the
attempt that still holds the claim.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from crmpm.database import db, utcnow
from crmpm.errors import CrmpmError
from crmpm.jobs.engine import DEFAULT_QUEUE, Engine, engine_for, worker_name
from crmpm.jobs.kinds import JobContext, installed_kinds
from crmpm.jobs.models import Job
from crmpm.jobs.services import backoff, engine_of, send_after_commit

log = logging.getLogger(__name__)

# A claim holds this long without a heartbeat; a worker beats every LEASE / 4. CRMPM_JOBS_LEASE_SECONDS
# shortens it where a dead worker must be noticed sooner (the tests that kill workers).
LEASE = timedelta(seconds=float(os.environ.get("CRMPM_JOBS_LEASE_SECONDS") or 30))
# A queued job handed to the engine this long ago and still not claimed is handed over again.
RESEND_AFTER = timedelta(minutes=5)
# A job that could not be claimed because the database was locked or away is handed over again after this.
CLAIM_AGAIN = timedelta(seconds=5)


def _claim(session: Session, job_id: int, worker: str) -> int | None:
    """Take job ``job_id`` for a new attempt; its number, or None if it is not for running now."""
    now = utcnow()
    claimed = session.execute(
        update(Job).where(Job.id == job_id, Job.status == "queued", Job.run_after <= now)
        .values(status="running", attempt=Job.attempt + 1, worker=worker, lease_until=now + LEASE,
                started_at=now, progress=0.0, message=None, error=None)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return None
    return session.scalar(select(Job.attempt).where(Job.id == job_id))


class _Heartbeat(threading.Thread):
    """Beats for one job while it runs, so recovery knows its worker lives."""

    def __init__(self, engine: Engine, job_id: int) -> None:
        super().__init__(daemon=True, name=f"crmpm-heartbeat-{job_id}")
        self.engine, self.job_id, self.done = engine, job_id, threading.Event()

    def run(self) -> None:
        while not self.done.wait(LEASE.total_seconds() / 4):
            try:
                self.engine.beat(self.job_id)
            except Exception:  # noqa: BLE001 - a missed beat only risks a duplicate attempt, never lost work
                log.warning("heartbeat of job %s not stored", self.job_id)


def run_job(app: Flask, job_id: int, *, worker: str | None = None, queue: str = DEFAULT_QUEUE) -> str | None:
    """Run job ``job_id`` once if it is due: the status it ends in, or None if it was not ours to run.

    ``queue`` is the one the job came from: if the database cannot be written to claim it (on
    SQLite, another job's transaction holds the write lock past the busy timeout), the job is
    handed back to it to be tried again in ``CLAIM_AGAIN``, instead of being lost until recovery.
    """
    worker = worker or worker_name()
    with app.app_context():
        try:
            with db.transaction() as session:
                attempt = _claim(session, job_id, worker)
                queue = session.scalar(select(Job.queue).where(Job.id == job_id))
        except OperationalError as exc:
            log.warning("job %s not claimed (%s); asked again in %s", job_id, exc.orig, CLAIM_AGAIN)
            engine_for(app.config, queue).send(job_id, delay=CLAIM_AGAIN.total_seconds())
            return None
        if attempt is None:
            return None
        engine = engine_for(app.config, queue or DEFAULT_QUEUE)
        engine.beat(job_id)
        heartbeat = _Heartbeat(engine, job_id)
        heartbeat.start()
        try:
            return _attempt(engine, job_id, attempt)
        finally:
            heartbeat.done.set()
            engine.forget(job_id)


def _attempt(engine: Engine, job_id: int, attempt: int) -> str:
    session = db.new_session()
    try:
        job = session.get(Job, job_id)
        function = installed_kinds().get(job.kind)
        if function is None:
            raise LookupError(f"no job kind {job.kind!r} is installed in this worker")
        actor = _actor(session, job.created_by_id)
        context = JobContext(session=session, job_id=job_id, params=dict(job.params or {}), actor=actor,
                             report=lambda fraction, message: engine.put_progress(job_id, fraction, message))
        result = function(context)
        finished = session.execute(
            update(Job).where(Job.id == job_id, Job.attempt == attempt, Job.status == "running")
            .values(status="succeeded", result=result, progress=1.0, finished_at=utcnow(), lease_until=None,
                    error=None)
            .execution_options(synchronize_session=False))
        if finished.rowcount != 1:
            session.rollback()  # recovered and claimed again meanwhile: that attempt's work counts
            return "superseded"
        session.commit()
        return "succeeded"
    except Exception as exc:  # noqa: BLE001 - whatever the job raised is kept on the job
        session.rollback()
        return _failed(job_id, attempt, exc)
    finally:
        session.close()


def _actor(session: Session, user_id: int | None):
    if user_id is None:
        return None
    from crmpm.users.models import User

    return session.get(User, user_id)


def _failed(job_id: int, attempt: int, exc: Exception) -> str:
    """Keep the error; queue the job again after its backoff, or fail it for good.

    crmpm's own errors (bad input, a refusal) would fail the same way again: no retry for them.
    """
    if isinstance(exc, CrmpmError):
        error = exc.message + ("" if not exc.errors else f" {exc.errors}")
    else:
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        log.warning("job %s attempt %s failed: %s", job_id, attempt, error)
    with db.transaction() as session:
        job = session.get(Job, job_id)
        if job is None or job.status != "running" or job.attempt != attempt:
            return "superseded"
        job.error, job.lease_until = error[:10000], None
        if isinstance(exc, CrmpmError) or attempt >= job.max_attempts:
            job.status, job.finished_at = "failed", utcnow()
            return "failed"
        job.worker = None
        delay = backoff(attempt)
        job.status, job.run_after, job.sent_at = "queued", utcnow() + delay, utcnow()
        send_after_commit(session, job.id, queue=job.queue, delay=delay.total_seconds())
        return "queued"


def recover(session: Session) -> dict:
    """Queue again the jobs whose worker died (no heartbeat within the lease) and resend the unsent.

    A worker's death counts as a failed attempt: a job that was on its last one fails (a job that
    kills its worker, out of memory say, is not run again and again). Returns how many of each.
    Run every minute by every worker (a periodic job) and when one starts.
    """
    now = utcnow()
    requeued = resent = failed = 0
    running = session.scalars(select(Job).where(Job.status == "running", Job.lease_until < now)).all()
    for job in running:
        beat = engine_of(session, job.queue).last_beat(job.id)
        if beat is not None and beat > time.time() - LEASE.total_seconds():
            continue
        if job.attempt >= job.max_attempts:
            values = {"status": "failed", "finished_at": now, "lease_until": None,
                      "error": f"its worker ({job.worker}) stopped during its last attempt ({job.attempt})"}
        else:
            values = {"status": "queued", "run_after": now, "sent_at": now, "worker": None,
                      "message": "its worker stopped; queued again"}
        # Only the attempt read above: another worker's recovery may have requeued it, and a worker claimed it since.
        lost = session.execute(update(Job).where(Job.id == job.id, Job.status == "running", Job.attempt == job.attempt)
                               .values(**values).execution_options(synchronize_session=False))
        if lost.rowcount != 1:
            continue
        if values["status"] == "failed":
            failed += 1
            continue
        send_after_commit(session, job.id, queue=job.queue)
        requeued += 1
    stale = session.scalars(select(Job).where(Job.status == "queued", Job.run_after <= now,
                                              Job.sent_at < now - RESEND_AFTER)).all()
    for job in stale:
        job.sent_at = now
        send_after_commit(session, job.id, queue=job.queue)
        resent += 1
    if requeued or resent or failed:
        log.info("job recovery: %s requeued, %s resent, %s failed", requeued, resent, failed)
    return {"requeued": requeued, "resent": resent, "failed": failed}


def run_due(app: Flask, *, limit: int | None = None) -> list[tuple[int, str | None]]:
    """Run every queued job that is due, here and now, oldest first (``crmpm jobs run``, tests)."""
    with app.app_context():
        session = db.new_session()
        try:
            ids = session.scalars(select(Job.id).where(Job.status == "queued", Job.run_after <= utcnow())
                                  .order_by(Job.id).limit(limit)).all()
        finally:
            session.close()
    return [(job_id, run_job(app, job_id)) for job_id in ids]

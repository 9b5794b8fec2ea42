"""Asking for jobs and reading them: the rules of who sees a job and what it shows."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from crmpm.database import utcnow
from crmpm.errors import Conflict, NotFound
from crmpm.jobs.engine import DEFAULT_QUEUE, Engine, engine_for
from crmpm.jobs.kinds import installed_kinds
from crmpm.jobs.models import Job, JobFile

_UNSENT = "crmpm.jobs.unsent"
# How long a job's file (an upload it reads, an export it wrote) is kept; the workers' recovery tick removes it after.
FILE_KEPT = timedelta(days=1)
CONFIG_KEY = "crmpm.config"


def config_of(session: Session) -> dict:
    """The settings of the app ``session`` belongs to (a job's, a worker's or a request's)."""
    config = session.info.get(CONFIG_KEY)
    if config is None:
        from flask import current_app

        config = current_app.config
    return config


def public_url(session: Session) -> str:
    """Where people outside reach crmpm (``PUBLIC_URL``, from CRMPM_PUBLIC_URL), without a trailing slash; "" when
    unset. The one home of the links that e-mails carry (notifications, campaigns, portal invitations and surveys):
    a request's Host header cannot change it."""
    return (config_of(session).get("PUBLIC_URL") or "").rstrip("/")


def engine_of(session: Session, queue: str = DEFAULT_QUEUE) -> Engine:
    """The job engine of the app ``session`` belongs to."""
    return engine_for(config_of(session), queue)


def start(session: Session, *, kind: str, params: dict | None = None, actor=None, key: str | None = None,
          queue: str = DEFAULT_QUEUE, max_attempts: int = 3, delay: timedelta | None = None) -> Job:
    """Ask for a job of ``kind``: a row in the caller's transaction, handed to the workers after its commit.

    With ``key``, a second ask (another worker's scheduler, a retried request) returns the job
    the first one started instead of starting another. With ``delay``, it runs no sooner than that after now.
    """
    if kind not in installed_kinds():
        raise NotFound("no job kind {kind}", kind=kind)
    if key is not None:
        existing = session.scalar(select(Job).where(Job.key == key))
        if existing is not None:
            return existing
    now = utcnow()
    job = Job(kind=kind, queue=queue, key=key, params=json.loads(json.dumps(params or {}, default=str)),
              status="queued", progress=0.0, attempt=0, max_attempts=max_attempts,
              created_by_id=getattr(actor, "id", None), created_at=now, run_after=now + (delay or timedelta()),
              sent_at=now)
    if key is None:
        session.add(job)
        session.flush()
    else:
        try:
            with session.begin_nested():
                session.add(job)
        except IntegrityError:
            return session.scalar(select(Job).where(Job.key == key))
    send_after_commit(session, job.id, queue=queue, delay=delay.total_seconds() if delay else None)
    return job


def send_after_commit(session: Session, job_id: int, *, queue: str = DEFAULT_QUEUE, delay: float | None = None) -> None:
    """Hand ``job_id`` to the workers once ``session`` commits (nothing if it, or the savepoint asking, rolls back)."""
    session.info.setdefault(_UNSENT, []).append((session.get_nested_transaction(), queue, job_id, delay))


@event.listens_for(Session, "after_commit")
def _send_committed(session: Session) -> None:
    # SQLAlchemy calls this for a savepoint's commit too: its rows are not committed yet (a worker on
    # PostgreSQL would not find the job to claim), so what it asked for waits for the outer commit.
    if session.in_nested_transaction():
        return
    for _savepoint, queue, job_id, delay in session.info.pop(_UNSENT, []):
        try:
            engine_of(session, queue).send(job_id, delay=delay)
        except Exception:  # noqa: BLE001 - the row stays queued; recovery sends it again
            import logging

            logging.getLogger(__name__).exception("job %s could not be handed to the workers; recovery will", job_id)


@event.listens_for(Session, "after_soft_rollback")
def _drop_unsent(session: Session, previous_transaction) -> None:
    """A rolled-back transaction sends nothing; a rolled-back savepoint, nothing asked for inside it.

    (``after_rollback`` would not do: it fires while the session is still in its transaction.)
    """
    unsent = session.info.get(_UNSENT)
    if not unsent:
        return
    if not previous_transaction.nested:
        session.info.pop(_UNSENT, None)
        return
    session.info[_UNSENT] = [entry for entry in unsent if not _inside(entry[0], previous_transaction)]


def _inside(transaction, savepoint) -> bool:
    while transaction is not None:
        if transaction is savepoint:
            return True
        transaction = transaction.parent
    return False


def readable(session: Session, *, user, job_id: int) -> Job:
    """Job ``job_id`` if ``user`` created it or administers; NotFound otherwise (it names nothing)."""
    job = session.get(Job, job_id)
    if job is None or not (user.is_admin or job.created_by_id == user.id):
        raise NotFound("no job {id}", id=job_id)
    return job


def list_(*, user, everyone: bool = False):
    """A select of the jobs ``user`` sees, newest first: their own; an administrator's ``everyone``."""
    query = select(Job).order_by(Job.id.desc())
    if not (user.is_admin and everyone):
        query = query.where(Job.created_by_id == user.id)
    return query


def snapshot(session: Session, job: Job) -> dict:
    """What the API shows of ``job``: its row, with the progress its worker reports while it runs
    (kept outside the job's transaction, so it is read from the engine's store, never written here)."""
    progress, message = job.progress, job.message
    if job.status == "running":
        try:
            reported = engine_of(session, job.queue).progress(job.id)
        except Exception:  # noqa: BLE001 - the store is unreachable: show the last progress kept
            reported = None
        if reported is not None:
            progress, message = reported
    return {"id": job.id, "kind": job.kind, "status": job.status, "progress": progress, "message": message,
            "result": job.result, "error": job.error, "created_at": job.created_at, "started_at": job.started_at,
            "finished_at": job.finished_at, "created_by": job.created_by_id, "attempt": job.attempt,
            "max_attempts": job.max_attempts, "run_after": job.run_after}


def retry(session: Session, *, user, job_id: int) -> Job:
    """Queue a failed job again, attempts counted afresh; only a failed job may be retried."""
    job = readable(session, user=user, job_id=job_id)
    if job.status != "failed":
        raise Conflict("job {id} has not failed: only a failed job can be retried", id=job.id)
    now = utcnow()
    job.status, job.attempt, job.run_after, job.sent_at = "queued", 0, now, now
    job.finished_at, job.progress = None, 0.0
    send_after_commit(session, job.id, queue=job.queue)
    return job


def backoff(attempt: int) -> timedelta:
    """How long a job waits after its ``attempt``-th failure: 10 s, 40 s, 160 s … at most an hour."""
    return timedelta(seconds=min(10 * 4 ** max(attempt - 1, 0), 3600))


def attach_file(session: Session, *, job_id: int, name: str, content_type: str, data: bytes,
                keep: timedelta = FILE_KEPT, purpose: str = "result") -> JobFile:
    """Keep ``data`` with job ``job_id`` in the database (every worker and app server reads it) for ``keep``.

    ``purpose``: "upload" for the file the job is asked with, "result" for one it produced (downloadable).
    """
    now = utcnow()
    stored = JobFile(job_id=job_id, name=name[:255], purpose=purpose, content_type=content_type, size=len(data),
                     data=data, created_at=now, expires_at=now + keep)
    session.add(stored)
    session.flush()
    return stored


def job_file(session: Session, *, job_id: int, purpose: str = "result", with_data: bool = True) -> JobFile | None:
    """Job ``job_id``'s file of ``purpose`` still kept: its upload (the first) or its result (the newest)."""
    order = JobFile.id if purpose == "upload" else JobFile.id.desc()
    query = select(JobFile).where(JobFile.job_id == job_id, JobFile.purpose == purpose).order_by(order).limit(1)
    if not with_data:
        query = query.options(defer(JobFile.data))
    return session.scalar(query)

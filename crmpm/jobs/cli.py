"""``crmpm worker``, ``crmpm jobs …`` and ``crmpm events tail``."""

from __future__ import annotations

import json
import time

import click


def _app():
    from crmpm.cli import get_app

    return get_app()


@click.command("worker")
@click.option("--concurrency", type=click.IntRange(min=1, max=64), default=None,
              help="Jobs run at once by this process (threads) [default: 1 on SQLite, whose write lock a job holds "
                   "for its whole run; 2 on PostgreSQL].")
@click.option("--queues", default="default", show_default=True,
              help="Comma-separated queues to work on; a process per queue after the first.")
@click.option("--no-periodic", is_flag=True, help="Do not ask for the periodic jobs from this worker.")
@click.option("--dispatch-interval", type=click.FloatRange(min=0.05), default=1.0, show_default=True,
              help="Seconds between deliveries of new events to their consumers.")
def worker(concurrency: int | None, queues: str, no_periodic: bool, dispatch_interval: float) -> None:
    """Run jobs and periodic jobs and deliver events, until SIGINT or SIGTERM.

    Any number of workers on any number of machines share the work when CRMPM_JOBS_URL names
    a Redis (redis://host:6379/0); unset, workers on this machine share an SQLite file.
    """
    import subprocess
    import sys

    from crmpm.jobs import worker as worker_module
    from crmpm.jobs.engine import jobs_url

    names = [name.strip() for name in queues.split(",") if name.strip()] or ["default"]
    from crmpm.database import db

    app = _app()
    if concurrency is None:
        concurrency = 1 if app.config["DATABASE_URL"].startswith("sqlite") else 2
    click.echo(f"crmpm worker: queue {names[0]}, {concurrency} at once, store {jobs_url(app.config)}")
    children = [subprocess.Popen([sys.executable, "-m", "crmpm", "worker", "--queues", name, "--concurrency",
                                  str(concurrency), "--no-periodic", "--dispatch-interval", "3600"])
                for name in names[1:]]
    try:
        worker_module.run(app, concurrency=concurrency, queue=names[0], periodic=not no_periodic,
                          dispatch_interval=dispatch_interval)
    finally:
        for child in children:
            stop_worker(child)


def stop_worker(process, *, patience: float = 30.0) -> None:
    """Stop a worker process: SIGINT lets its running jobs finish (Huey's graceful stop), for at most
    ``patience`` seconds; then SIGKILL (what it was running is recovered and run again)."""
    import signal
    import subprocess

    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=patience)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs."""


def _line(view: dict) -> str:
    progress = f"{view['progress'] * 100:.0f}%"
    return (f"{view['id']:>6}  {view['kind']:<24} {view['status']:<9} {progress:>4}  "
            f"{view['created_at']:%Y-%m-%d %H:%M}  {view['message'] or view['error'] or ''}")


@jobs_group.command("list")
@click.option("--status", type=click.Choice(["queued", "running", "succeeded", "failed"]))
@click.option("--limit", type=click.IntRange(min=1, max=10_000), default=50, show_default=True)
def jobs_list(status: str | None, limit: int) -> None:
    """The newest jobs of every user."""
    from sqlalchemy import select

    from crmpm import jobs

    from crmpm.database import db

    app = _app()
    with app.app_context(), db.transaction() as session:
        query = select(jobs.Job).order_by(jobs.Job.id.desc()).limit(limit)
        if status:
            query = query.where(jobs.Job.status == status)
        for job in session.scalars(query):
            click.echo(_line(jobs.snapshot(session, job)))


@jobs_group.command("show")
@click.argument("job_id", type=click.IntRange(min=1))
def jobs_show(job_id: int) -> None:
    """One job as JSON, with its parameters."""
    from crmpm import jobs
    from crmpm.errors import NotFound

    from crmpm.database import db

    app = _app()
    with app.app_context(), db.transaction() as session:
        job = session.get(jobs.Job, job_id)
        if job is None:
            raise NotFound("no job {id}", id=job_id)
        view = jobs.snapshot(session, job) | {"params": job.params, "queue": job.queue, "worker": job.worker}
    click.echo(json.dumps(view, default=str, indent=2, ensure_ascii=False))


@jobs_group.command("retry")
@click.argument("job_id", type=click.IntRange(min=1))
def jobs_retry(job_id: int) -> None:
    """Queue a failed job again."""
    from crmpm import jobs
    from crmpm.cli import acting_user

    from crmpm.database import db

    app = _app()
    with app.app_context(), db.transaction() as session:
        job = jobs.retry(session, user=acting_user(session, None), job_id=job_id)
        click.echo(f"job {job.id} queued again")


@jobs_group.command("run")
@click.option("--limit", type=click.IntRange(min=1), default=None)
def jobs_run(limit: int | None) -> None:
    """Run the queued jobs that are due here and now, without a worker, then stop."""
    from crmpm.jobs.runner import run_due

    for job_id, status in run_due(_app(), limit=limit):
        click.echo(f"job {job_id}: {status or 'not run (taken by a worker)'}")


@click.group("events")
def events_group() -> None:
    """Domain events."""


@events_group.command("tail")
@click.option("--after", type=click.IntRange(min=0), default=None, help="Start after this id (default: the last 20).")
@click.option("--type", "types", multiple=True, help="Only this type (repeatable).")
@click.option("--follow/--no-follow", "-f", default=False, help="Keep printing new events as they come.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True)
def events_tail(after: int | None, types: tuple[str, ...], follow: bool, interval: float) -> None:
    """Print events, one JSON object a line, oldest first."""
    from sqlalchemy import func, select

    from crmpm import events

    from crmpm.database import db

    app = _app()
    with app.app_context():
        if after is None:
            with db.transaction() as session:
                newest = session.scalar(select(func.max(events.Event.id))) or 0
            after = max(newest - 20, 0)
        while True:
            with db.transaction() as session:
                page = events.page(session, after=after, types=list(types) or None, limit=500)
            for event in page:
                click.echo(json.dumps({"id": event.id, "type": event.type, "version": event.version,
                                       "subject_type": event.subject_type, "subject_id": event.subject_id,
                                       "payload": event.payload, "actor_id": event.actor_id,
                                       "occurred_at": event.occurred_at.isoformat()}, ensure_ascii=False))
                after = event.id
            if not follow:
                return
            if not page:
                time.sleep(interval)

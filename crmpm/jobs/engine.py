"""The job engine (Huey), seen from crmpm: the one module that imports it.

Huey carries job ids from whoever asks for work to the workers, runs periodic jobs without
system cron, and keeps two small facts a running job reports outside its own transaction: its
progress and its heartbeat. Everything else about a job (its parameters, status, result, error,
attempts) is a row of crmpm's ``jobs`` table (``crmpm.jobs.models``), written in the same
transactions as the work. The store is chosen by ``CRMPM_JOBS_URL``:

- unset: an SQLite file in the instance folder (``jobs.sqlite3``), nothing to install; every
  worker on this machine shares it;
- ``redis://host:port/db``: Redis, shared by workers on any number of machines;
- ``memory://``: this process only (tests that run jobs in-process).

Why Huey, and what crmpm adds to it (a claim per attempt, leases and recovery, because Huey
loses a task whose worker is killed): ``docs/decisions/0005-job-engine.md``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"


def jobs_url(config: dict) -> str:
    """Where the queue lives: ``JOBS_URL``, else the SQLite file in the instance folder."""
    url = config.get("JOBS_URL")
    if url:
        return url
    folder = Path(config.get("INSTANCE_PATH") or "instance").resolve()
    return f"sqlite:///{folder / 'jobs.sqlite3'}"


class Engine:
    """One queue of one store: sends job ids, keeps progress and heartbeats, runs the consumer."""

    def __init__(self, url: str, queue: str = DEFAULT_QUEUE, namespace: str = "crmpm") -> None:
        self.url = url
        self.queue = queue
        self.huey = _huey(url, f"{namespace}-{queue}")
        self._run: Callable[[int], None] | None = None
        self._task = self.huey.task(name="crmpm.run_job")(self._run_job)

    def _run_job(self, job_id: int) -> None:
        if self._run is None:
            raise RuntimeError("this process is not a worker: no job runner is installed")
        self._run(job_id)

    # Asking for work

    def send(self, job_id: int, *, delay: float | None = None) -> None:
        """Hand job ``job_id`` to the workers (after ``delay`` seconds)."""
        if delay:
            self._task.schedule(args=(job_id,), delay=delay)
        else:
            self._task(job_id)

    def pending(self) -> int:
        """Messages waiting in the queue (not counting scheduled ones)."""
        return self.huey.pending_count()

    # Facts a running job reports outside its transaction

    def put_progress(self, job_id: int, fraction: float, message: str | None) -> None:
        self.huey.put(f"progress:{job_id}", (fraction, message))

    def progress(self, job_id: int) -> tuple[float, str | None] | None:
        value = self.huey.get(f"progress:{job_id}", peek=True)
        return tuple(value) if value is not None else None

    def forget(self, job_id: int) -> None:
        self.huey.get(f"progress:{job_id}")
        self.huey.get(f"heartbeat:{job_id}")

    def beat(self, job_id: int) -> None:
        """Say that job ``job_id``'s worker is alive now."""
        self.huey.put(f"heartbeat:{job_id}", time.time())

    def last_beat(self, job_id: int) -> float | None:
        return self.huey.get(f"heartbeat:{job_id}", peek=True)

    # Workers

    def periodic(self, name: str, schedule: dict, function: Callable[[], None]) -> None:
        """Run ``function`` on ``schedule`` (crontab fields: minute, hour, day, month, day_of_week)."""
        self.huey.periodic_task(crontab(**schedule), name=name)(function)

    def consumer(self, run: Callable[[int], None], *, workers: int, periodic: bool = True):
        """A Huey consumer whose workers (threads) run jobs through ``run``."""
        self._run = run
        return self.huey.create_consumer(workers=workers, worker_type="thread", periodic=periodic,
                                         check_worker_health=True, max_delay=1.0, scheduler_interval=1)


def _huey(url: str, name: str) -> Huey:
    if url.startswith("redis://") or url.startswith("rediss://"):
        return RedisHuey(name, url=url, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), results=False, timeout=30)
    if url == "memory://":
        return MemoryHuey(name, results=False)
    raise ValueError(f"CRMPM_JOBS_URL must be redis://…, sqlite:///… or memory://, not {url!r}")


_engines: dict[tuple[str, str, str], Engine] = {}


def engine_for(config: dict, queue: str = DEFAULT_QUEUE) -> Engine:
    """The engine of ``config``'s store for ``queue``, one per process.

    ``JOBS_NAMESPACE`` (default ``crmpm``) names the queues, so several installations (or test
    runs) can share one Redis.
    """
    key = (jobs_url(config), queue, config.get("JOBS_NAMESPACE") or "crmpm")
    if key not in _engines:
        _engines[key] = Engine(*key)
    return _engines[key]


def worker_name() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"

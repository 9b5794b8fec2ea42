"""The jobs of bench/bench_job_engines.py, declared for one job engine per process.

Imported by the bench's driver and by the engines' own worker commands, both with
the same environment:

- ``BENCH_ENGINE``: huey-sqlite, huey-redis (either with ``+leases``), dramatiq, rq, celery or procrastinate;
- ``BENCH_URL``: the Redis URL (with its db number), the SQLite file or the PostgreSQL DSN;
- ``BENCH_PREFIX``: a key prefix or queue name unique to the run;
- ``BENCH_DIR``: where the jobs leave their marks (files appended to, so any process can count);
- ``BENCH_REDELIVERY``: seconds after which an engine that has the setting gives a dead
  worker's job to another worker (Dramatiq's heartbeat timeout, Celery's visibility timeout), and
  the lease of the ``+leases`` variants;
- ``BENCH_MAINTENANCE_CHANCE``: Dramatiq's maintenance chance per million broker commands (its default 1000).

Two jobs: ``noop`` appends one byte to ``done`` (the driver counts bytes) and ``sleeper``
writes a line to ``started``, sleeps 3 s and writes a line to ``finished``.
"""

from __future__ import annotations

import os
import time

ENGINE = os.environ.get("BENCH_ENGINE", "")
URL = os.environ.get("BENCH_URL", "")
PREFIX = os.environ.get("BENCH_PREFIX", "bench")
DIR = os.environ.get("BENCH_DIR", ".")
REDELIVERY = float(os.environ.get("BENCH_REDELIVERY", "30"))
MAINTENANCE_CHANCE = int(os.environ.get("BENCH_MAINTENANCE_CHANCE", "1000"))
SLEEP = 3.0

_fds: dict[str, int] = {}


def _mark(name: str, data: bytes) -> None:
    fd = _fds.get(name)
    if fd is None:
        fd = _fds[name] = os.open(os.path.join(DIR, name), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.write(fd, data)


def noop_body() -> None:
    _mark("done", b".")


def sleeper_body() -> None:
    _mark("started", f"{os.getpid()} {time.time()}\n".encode())
    time.sleep(SLEEP)
    _mark("finished", f"{os.getpid()} {time.time()}\n".encode())


BODIES = {"noop": noop_body, "sleeper": sleeper_body}


class Leases:
    """The design crmpm would add to an engine that loses a popped job: a jobs table with leases.

    A row per job (the SQLite file stands in for crmpm's database); the worker claims the row with a
    lease, renews it while the job runs, and marks it done; a periodic task re-enqueues a job whose
    lease ran out (its worker died).
    """

    def __init__(self, path: str, lease: float):
        import threading

        self.path, self.lease, self._local = path, lease, threading.local()

    def db(self):
        import sqlite3

        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("pragma journal_mode=wal")
            conn.execute("create table if not exists jobs (id integer primary key, kind text, status text,"
                         " attempts integer default 0, lease_until real)")
        return conn

    def create(self, kind: str) -> int:
        return self.db().execute("insert into jobs (kind, status) values (?, 'queued')", (kind,)).lastrowid

    def claim(self, job_id: int) -> bool:
        now = time.time()
        return self.db().execute(
            "update jobs set status = 'running', attempts = attempts + 1, lease_until = ? where id = ? and"
            " (status = 'queued' or (status = 'running' and lease_until < ?))",
            (now + self.lease, job_id, now)).rowcount == 1

    def keep(self, job_id: int):
        import threading

        stop = threading.Event()

        def renew():
            while not stop.wait(self.lease / 3):
                self.db().execute("update jobs set lease_until = ? where id = ?", (time.time() + self.lease, job_id))

        threading.Thread(target=renew, daemon=True).start()
        return stop

    def finish(self, job_id: int) -> None:
        self.db().execute("update jobs set status = 'done', lease_until = null where id = ?", (job_id,))

    def expired(self) -> list[tuple[int, str]]:
        db = self.db()
        rows = db.execute("select id, kind from jobs where status = 'running' and lease_until < ?",
                          (time.time(),)).fetchall()
        for job_id, _ in rows:
            db.execute("update jobs set status = 'queued' where id = ? and status = 'running'", (job_id,))
        return rows


if ENGINE.startswith("huey"):
    from huey import RedisHuey, SqliteHuey, crontab

    if ENGINE.startswith("huey-redis"):
        huey = RedisHuey(PREFIX, url=URL, results=False)
    else:
        huey = SqliteHuey(PREFIX, filename=URL, results=False)

    if ENGINE.endswith("+leases"):
        leases = Leases(os.path.join(DIR, "jobs.db"), REDELIVERY)

        @huey.task()
        def run_job(job_id, kind):
            if not leases.claim(job_id):
                return
            stop = leases.keep(job_id) if kind == "sleeper" else None
            try:
                BODIES[kind]()
            finally:
                if stop:
                    stop.set()
            leases.finish(job_id)

        @huey.periodic_task(crontab(minute="*"))
        def recover():
            for job_id, kind in leases.expired():
                run_job(job_id, kind)

        def prepare():
            leases.db()

        def enqueue_noop():
            run_job(leases.create("noop"), "noop")

        def enqueue_sleeper():
            run_job(leases.create("sleeper"), "sleeper")

    else:

        @huey.task()
        def noop():
            noop_body()

        @huey.task()
        def sleeper():
            sleeper_body()

        def enqueue_noop():
            noop()

        def enqueue_sleeper():
            sleeper()

elif ENGINE == "dramatiq":
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=URL, namespace=PREFIX, heartbeat_timeout=int(REDELIVERY * 1000),
                         maintenance_chance=MAINTENANCE_CHANCE)
    dramatiq.set_broker(broker)

    @dramatiq.actor(queue_name=PREFIX, max_retries=3)
    def noop():
        noop_body()

    @dramatiq.actor(queue_name=PREFIX, max_retries=3)
    def sleeper():
        sleeper_body()

    def enqueue_noop():
        noop.send()

    def enqueue_sleeper():
        sleeper.send()

elif ENGINE == "rq":
    from redis import Redis
    from rq import Queue, Retry

    queue = Queue(PREFIX, connection=Redis.from_url(URL))

    def noop():
        noop_body()

    def sleeper():
        sleeper_body()

    def enqueue_noop():
        queue.enqueue(noop)

    def enqueue_sleeper():
        # Without retries left, RQ moves an abandoned job to its failed registry instead of re-running it.
        queue.enqueue(sleeper, retry=Retry(max=2), job_timeout=int(REDELIVERY))

elif ENGINE == "celery":
    from celery import Celery

    celery_app = Celery(PREFIX, broker=URL)
    celery_app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=PREFIX,
        broker_transport_options={"visibility_timeout": REDELIVERY, "global_keyprefix": f"{PREFIX}:"},
        worker_hijack_root_logger=False,
    )

    @celery_app.task(name="noop")
    def noop():
        noop_body()

    @celery_app.task(name="sleeper")
    def sleeper():
        sleeper_body()

    def enqueue_noop():
        noop.delay()

    def enqueue_sleeper():
        sleeper.delay()

elif ENGINE == "procrastinate":
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=URL))

    @app.task(queue=PREFIX, name="noop")
    def noop():
        noop_body()

    @app.task(queue=PREFIX, name="sleeper", retry=3)
    def sleeper():
        sleeper_body()

    @app.periodic(cron="* * * * * */5")
    @app.task(queue=PREFIX, name="retry_stalled")
    async def retry_stalled(timestamp: int):
        # Procrastinate leaves a dead worker's job "doing"; its documentation has the user retry stalled jobs.
        for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=REDELIVERY):
            await app.job_manager.retry_job(job)

    def prepare():
        app.open()
        app.schema_manager.apply_schema()

    def enqueue_noop():
        noop.defer()

    def enqueue_sleeper():
        sleeper.defer()

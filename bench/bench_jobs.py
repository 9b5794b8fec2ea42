"""Jobs and events: what asking for a job adds to a transaction, how fast workers run no-op jobs, how fast
events reach a consumer, how long a 100,000-row import takes as a job.

Four measurements, each on the embedded set-up (SQLite database, SQLite job store in the instance
folder) and on the one for several machines (PostgreSQL database, Redis job store), on throwaway
databases (a SQLite file in a temporary folder; a PostgreSQL database next to ``--postgres``, dropped
after) and a Redis namespace of the run's own (its keys deleted after):

- enqueue: ``--enqueue`` transactions that update one row and commit, alternating with the same
  transaction plus ``jobs.start(kind="jobs.noop")`` (the row, and the hand-over to the store after
  the commit): p50 and p99 of each, and the difference: the overhead asking for a job adds to a request;
- throughput: ``--jobs`` no-op jobs asked for in transactions of 1,000 (timed: jobs asked for per
  second), then run by 1 and by 2 ``crmpm worker`` processes started after (``--concurrency 2`` each, as
  ``crmpm serve`` starts one): jobs per second from the first job's start to the last one's end (the
  jobs' own times), and how many ran more than once (must be none);
- events: ``--events`` events recorded in one transaction, then ``crmpm.events.delivery.dispatch`` run
  until a no-op consumer has them all: events delivered per second;
- import: ``--import-rows`` generated deals (``bench/bench_crm_import.py``'s CSV) posted to
  ``POST /api/v1/imports/deals?async=true`` on ``crmpm serve --no-worker`` with one ``crmpm worker``:
  time to the 202, time to the job's end, peak memory of the web processes and of the worker.

    make bench-jobs
    .venv/bin/python bench/bench_jobs.py [--jobs 10000] [--enqueue 500] [--events 20000]
        [--import-rows 100000] [--only enqueue,throughput,events,import] [--postgres URL] [--redis URL]

Without a reachable PostgreSQL or Redis, the set-up for several machines is left out with a note.
The table goes to the screen and, with the load average, to ``bench/results/`` (not in git).
Figures: BENCHMARKS.md, "Jobs and events (issue 11)".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from sqlalchemy import func, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from crmpm import create_app, events, jobs, migrate  # noqa: E402
from crmpm.database import db, make_engine  # noqa: E402
from crmpm.events import delivery  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
SECRET = "bench-jobs-" + "k" * 40
BATCH = 1000


def _psycopg(url: str) -> str:
    return "postgresql+psycopg://" + url.removeprefix("postgresql://") if url.startswith("postgresql://") else url


class Site:
    """A migrated throwaway database and a job store; ``close`` removes what it made."""

    def __init__(self, folder: Path, database: str, store: str, args) -> None:
        self.folder, self.database, self.store = folder, database, store
        self.namespace = f"bench-{uuid.uuid4().hex[:10]}"
        self._admin = None
        if database == "sqlite":
            self.database_url = f"sqlite:///{folder / 'crmpm.db'}"
        else:
            self._admin = make_engine(_psycopg(args.postgres), isolation_level="AUTOCOMMIT")
            self._name = f"crmpm_bench_{uuid.uuid4().hex[:10]}"
            with self._admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self._name}"'))
            self.database_url = make_url(_psycopg(args.postgres)).set(database=self._name).render_as_string(
                hide_password=False)
        self.jobs_url = args.redis if store == "redis" else None
        self._redis = args.redis
        migrate.upgrade(url=self.database_url)
        self.app = create_app({"DATABASE_URL": self.database_url, "JOBS_URL": self.jobs_url,
                               "JOBS_NAMESPACE": self.namespace, "INSTANCE_PATH": str(folder),
                               "SECRET_KEY": SECRET})
        self.processes: list[subprocess.Popen] = []

    @property
    def name(self) -> str:
        return f"{self.database} db, {self.store} store"

    def env(self) -> dict:
        env = dict(os.environ, CRMPM_DATABASE_URL=self.database_url, CRMPM_INSTANCE_PATH=str(self.folder),
                   CRMPM_SECRET_KEY=SECRET, CRMPM_JOBS_NAMESPACE=self.namespace,
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        env.pop("CRMPM_JOBS_URL", None)
        if self.jobs_url:
            env["CRMPM_JOBS_URL"] = self.jobs_url
        return env

    def worker(self) -> subprocess.Popen:
        log = open(self.folder / f"worker-{len(self.processes)}.log", "wb")  # noqa: SIM115 - with the process
        process = subprocess.Popen([sys.executable, "-m", "crmpm", "worker", "--concurrency", "2",
                                    "--dispatch-interval", "3600"], env=self.env(), stdout=log,
                                   stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def stop_workers(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []

    def count(self, *conditions) -> int:
        with self.app.app_context():
            session = db.read_session()
            try:
                return session.scalar(select(func.count(jobs.Job.id)).where(*conditions))
            finally:
                session.close()

    def close(self) -> None:
        self.stop_workers()
        self.app.extensions["crmpm.database"].engine.dispose()
        if self._admin is not None:
            with self._admin.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        f"WHERE datname = '{self._name}' AND pid <> pg_backend_pid()"))
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self._name}"'))
            self._admin.dispose()
        if self.store == "redis":
            import redis

            client = redis.Redis.from_url(self._redis)
            for key in client.scan_iter(f"*{self.namespace}*"):
                client.delete(key)


def _reachable(args) -> dict[str, str | None]:
    """Why PostgreSQL / Redis cannot be used (None when they can)."""
    reasons = {}
    try:
        engine = make_engine(_psycopg(args.postgres), connect_args={"connect_timeout": 5})
        with engine.connect():
            pass
        engine.dispose()
        reasons["postgresql"] = None
    except Exception as exc:  # noqa: BLE001
        reasons["postgresql"] = f"PostgreSQL at {args.postgres} is not reachable: {exc.__class__.__name__}"
    try:
        import redis

        redis.Redis.from_url(args.redis, socket_connect_timeout=2).ping()
        reasons["redis"] = None
    except Exception as exc:  # noqa: BLE001
        reasons["redis"] = f"Redis at {args.redis} is not reachable: {exc.__class__.__name__}"
    return reasons


@contextmanager
def _site(database: str, store: str, args):
    with tempfile.TemporaryDirectory(prefix="crmpm-bench-jobs-") as folder:
        site = Site(Path(folder), database, store, args)
        try:
            yield site
        finally:
            site.close()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


# Enqueue overhead


def bench_enqueue(site: Site, count: int) -> dict:
    from crmpm.users import services as users

    app = site.app
    with app.app_context(), db.transaction() as session:
        user = users.create(session, actor=None, email="bench@example.test", name="Bench", password=None)
        user_id = user.id

    def plain(n: int, with_job: bool) -> float:
        started = time.perf_counter()
        with app.app_context(), db.transaction() as session:
            from crmpm.users.models import User

            session.execute(update(User).where(User.id == user_id).values(name=f"Bench {n}"))
            if with_job:
                jobs.start(session, kind="jobs.noop", actor=None)
        return time.perf_counter() - started

    for n in range(20):  # warm-up: connections, the store's tables, caches
        plain(n, n % 2 == 0)
    times = {False: [], True: []}
    for n in range(2 * count):
        times[n % 2 == 1].append(plain(n, n % 2 == 1))
    figures = {}
    for label, with_job in (("plain", False), ("with job", True)):
        figures[label] = {"p50_ms": 1000 * _percentile(times[with_job], 0.5),
                          "p99_ms": 1000 * _percentile(times[with_job], 0.99)}
    figures["overhead"] = {key: figures["with job"][key] - figures["plain"][key] for key in ("p50_ms", "p99_ms")}
    return figures


# Throughput


def bench_throughput(site: Site, count: int, workers: int) -> dict:
    started = time.perf_counter()
    for first in range(0, count, BATCH):
        with site.app.app_context(), db.transaction() as session:
            for _ in range(min(BATCH, count - first)):
                jobs.start(session, kind="jobs.noop")
    enqueued = time.perf_counter() - started
    for _ in range(workers):
        site.worker()
    _until(site, count, patience=max(900, count / 5))
    with site.app.app_context():
        session = db.read_session()
        try:
            first_start, last_finish = session.execute(
                select(func.min(jobs.Job.started_at), func.max(jobs.Job.finished_at))).one()
        finally:
            session.close()
    elapsed = (last_finish - first_start).total_seconds()
    attempts = site.count(jobs.Job.attempt != 1)
    site.stop_workers()
    return {"jobs": count, "workers": workers, "seconds": elapsed, "jobs_per_s": count / elapsed,
            "enqueue_s": enqueued, "enqueue_per_s": count / enqueued, "jobs_not_run_once": attempts}


def _until(site: Site, succeeded: int, *, patience: float) -> None:
    deadline = time.monotonic() + patience
    while site.count(jobs.Job.status == "succeeded") < succeeded:
        if time.monotonic() > deadline:
            raise SystemExit(f"{site.name}: jobs not done after {patience:.0f} s; see {site.folder}/worker-*.log")
        if any(process.poll() is not None for process in site.processes):
            raise SystemExit(f"{site.name}: a worker stopped")
        time.sleep(0.25)


# Events


def bench_events(site: Site, count: int) -> dict:
    app = site.app
    with app.app_context(), db.transaction() as session:
        for first in range(0, count, 5000):
            events.record_many(session, "deal.stage_changed",
                               [(("deals", n % 500 + 1), {"from_stage_id": 1, "to_stage_id": 2, "status": "open"})
                                for n in range(first, min(first + 5000, count))])
    seen = []

    def consumer(session, event) -> None:
        seen.append(event.id)

    # On PostgreSQL only events older than the oldest transaction running on the server are read
    # (crmpm.events.delivery.settled): runs that deliver nothing while another transaction holds
    # that back are counted apart (waited), not as delivery time.
    delivering = waited = 0.0
    deadline = time.monotonic() + 300
    with app.app_context():
        while len(seen) < count:
            started = time.perf_counter()
            delivered = delivery.dispatch(db.new_session, {"bench.noop": consumer})
            spent = time.perf_counter() - started
            if delivered:
                delivering += spent
                continue
            waited += spent + 0.02
            if time.monotonic() > deadline:
                raise SystemExit(f"{site.name}: dispatch stopped at {len(seen)} of {count} events")
            time.sleep(0.02)
    assert seen == sorted(seen) and len(set(seen)) == count
    return {"events": count, "seconds": delivering, "events_per_s": count / delivering, "waited_s": waited}


# The 100,000-row import through the API as a job


def _peak_rss_mb(pids: list[int]) -> float:
    """The largest peak resident size (VmHWM) among ``pids``, in MB."""
    peaks = []
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return max(peaks, default=0.0)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def bench_import(site: Site, rows: int) -> dict:
    """``POST /api/v1/imports/deals?async=true`` of ``rows`` generated deals to ``crmpm serve --no-worker``,
    run by one ``crmpm worker``: time to the 202, time to the job's end, peak memory of each side."""
    import socket

    import requests

    import bench_crm_import as crm
    from crmpm.users import services as users

    engine = site.app.extensions["crmpm.database"].engine
    sellers = crm.prepare(engine, n_accounts=1000)
    with site.app.app_context(), db.transaction() as session:
        admin = users.get_by_email(session, email="bench-admin@example.test")
        _token, secret = users.create_token(session, actor=None, user=admin, name="bench")
    csv_path, mapping_path = site.folder / "deals.csv", site.folder / "deals.json"
    crm.write_csv(csv_path, n_deals=rows, n_accounts=1000, sellers=sellers)
    mapping_path.write_text(json.dumps(crm.MAPPING), encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(site.folder / "serve.log", "wb")  # noqa: SIM115 - with the process
    serve = subprocess.Popen([sys.executable, "-m", "crmpm", "serve", "--no-worker", "--port", str(port)],
                             env=site.env(), stdout=log, stderr=subprocess.STDOUT)
    site.processes.append(serve)
    worker = site.worker()
    base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {secret}"}
    deadline = time.monotonic() + 120
    while True:
        try:
            requests.get(f"{base}/api/v1/me", headers=headers, timeout=5)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise SystemExit(f"crmpm serve does not answer; see {site.folder}/serve.log") from None
            time.sleep(0.2)
    started = time.perf_counter()
    with csv_path.open("rb") as csv_file, mapping_path.open("rb") as mapping_file:
        answer = requests.post(f"{base}/api/v1/imports/deals?async=true", headers=headers, timeout=600,
                               files={"file": ("deals.csv", csv_file, "text/csv"),
                                      "mapping": ("deals.json", mapping_file, "application/json")})
    accepted = time.perf_counter() - started
    if answer.status_code != 202:
        raise SystemExit(f"import answered {answer.status_code}: {answer.text[:500]}")
    location = answer.headers["Location"]
    while True:
        job = requests.get(f"{base}{location}", headers=headers, timeout=30).json()
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.25)
    done = time.perf_counter() - started
    web_peak = _peak_rss_mb([serve.pid, *_children(serve.pid)])
    worker_peak = _peak_rss_mb([worker.pid, *_children(worker.pid)])
    from accounts.models import Deal

    with site.app.app_context():
        session = db.read_session()
        try:
            deals = session.scalar(select(func.count(Deal.id)))
        finally:
            session.close()
    return {"rows": rows, "csv_mb": csv_path.stat().st_size / 1e6, "to_202_s": accepted, "to_done_s": done,
            "status": job["status"], "created": (job.get("result") or {}).get("created"), "deals": deals,
            "web_peak_rss_mb": web_peak, "worker_peak_rss_mb": worker_peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--enqueue", type=int, default=500, help="transactions of each kind")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--only", default="enqueue,throughput,events,import")
    parser.add_argument("--postgres", default=os.environ.get("CRMPM_TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--redis", default=os.environ.get("CRMPM_TEST_REDIS_URL", DEFAULT_REDIS))
    args = parser.parse_args()
    parts = set(args.only.split(","))
    reasons = _reachable(args)
    set_ups = [("sqlite", "sqlite")]
    if reasons["postgresql"] or reasons["redis"]:
        print(f"NOTE: PostgreSQL + Redis left out: {reasons['postgresql'] or reasons['redis']}")
    else:
        set_ups.append(("postgresql", "redis"))
    report = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "load_before": os.getloadavg(), "cpus": os.cpu_count(), "results": []}

    def out(kind: str, site_name: str, figures: dict) -> None:
        report["results"].append({"measure": kind, "set_up": site_name, **figures})
        print(f"{kind:<10} {site_name:<32} " + "  ".join(
            f"{key}={value:.2f}" if isinstance(value, float) else f"{key}={value}" for key, value in
            (figures.items() if kind != "enqueue" else
             ((f"{label} {key}", value) for label, values in figures.items() for key, value in values.items()))),
            flush=True)

    for database, store in set_ups:
        if "enqueue" in parts:
            with _site(database, store, args) as site:
                out("enqueue", site.name, bench_enqueue(site, args.enqueue))
        if "throughput" in parts:
            for workers in (1, 2):
                with _site(database, store, args) as site:
                    out("throughput", site.name, bench_throughput(site, args.jobs, workers))
        if "events" in parts:
            with _site(database, store, args) as site:
                out("events", f"{database} db", bench_events(site, args.events))
        if "import" in parts:
            with _site(database, store, args) as site:
                out("import", site.name, bench_import(site, args.import_rows))
    report["load_after"] = os.getloadavg()
    print(f"load average before {report['load_before']}, after {report['load_after']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"jobs-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()

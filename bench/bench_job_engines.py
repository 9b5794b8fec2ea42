"""Benchmark of job engines for crmpm's background jobs (issue 11), on 127.0.0.1 only.

For each engine installed (it installs nothing), in a fresh process per engine:

- enqueue latency: p50/p99 of 2,000 enqueues of a no-op job, the enqueue call alone, no worker running;
- throughput: 10,000 no-op jobs with 1 and with 2 worker processes (the engine's own worker
  command, started with subprocess and warmed up), from the first enqueue until the last job is done;
- SIGKILL mid-job: one job that sleeps 3 s and then writes a mark; its worker's process group is
  killed with SIGKILL while it sleeps, a new worker is started, and the bench waits (120 s by default)
  for the job to run again and finish.

Engines: huey-sqlite (SqliteHuey, the embedded case), huey-redis (RedisHuey), dramatiq (Redis broker),
rq, celery (Redis broker, acks_late + reject_on_worker_lost, prefetch 1, solo pool) and, given
``--pg-url``, procrastinate (PostgreSQL, in a throwaway database). ``huey-sqlite+leases`` and
``huey-redis+leases`` add what crmpm would build on Huey: a jobs table (SQLite) whose row a worker claims
with a lease and renews while the job runs, and a periodic task (every minute) that re-enqueues a job
whose lease ran out. The Redis engines use one empty Redis database (the highest empty one of 1-15
unless ``--redis-db`` says) and a key prefix unique to the run, and empty that database when done.
The jobs themselves are in bench/job_engine_apps.py. Raw figures go to bench/results/job_engines-<time>.json.

    .venv/bin/python bench/bench_job_engines.py [--engines huey-sqlite,dramatiq --jobs 10000 --kill-wait 120]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
ENGINES = {
    "huey-sqlite": "huey",
    "huey-redis": "huey",
    "huey-sqlite+leases": "huey",
    "huey-redis+leases": "huey",
    "dramatiq": "dramatiq",
    "rq": "rq",
    "celery": "celery",
    "procrastinate": "procrastinate",
}
REDIS_ENGINES = {"huey-redis", "huey-redis+leases", "dramatiq", "rq", "celery"}


def installed(engine: str) -> bool:
    return importlib.util.find_spec(ENGINES[engine]) is not None


def worker_command(engine: str, env: dict, *, index: int, kill_test: bool) -> list[str]:
    """The engine's own worker, one process doing one job at a time."""
    if engine.startswith("huey"):
        return [str(BIN / "huey_consumer"), "job_engine_apps.huey", "-w", "1", "-k", "thread", "-q"]
    if engine == "dramatiq":
        return [str(BIN / "dramatiq"), "job_engine_apps", "--processes", "1", "--threads", "1",
                "-Q", env["BENCH_PREFIX"]]
    if engine == "rq":
        # The maintenance that finds abandoned jobs runs every 10 minutes by default.
        interval = ["--maintenance-interval", "15"] if kill_test else []
        return [str(BIN / "rq"), "worker", "--url", env["BENCH_URL"], "-q", *interval, env["BENCH_PREFIX"]]
    if engine == "celery":
        return [str(BIN / "celery"), "-A", "job_engine_apps:celery_app", "worker", "-P", "solo", "-c", "1",
                "-n", f"w{index}-{env['BENCH_PREFIX']}@%h", "--without-gossip", "--without-mingle",
                "--without-heartbeat", "-Q", env["BENCH_PREFIX"], "-l", "warning"]
    if engine == "procrastinate":
        return [str(BIN / "procrastinate"), "--app=job_engine_apps.app", "worker", "--concurrency", "1",
                "--queues", env["BENCH_PREFIX"]]
    raise ValueError(engine)


class Workers:
    """Worker processes, each in its own process group so SIGKILL takes the whole worker."""

    def __init__(self, engine: str, env: dict, run_dir: Path):
        self.engine, self.env, self.run_dir = engine, env, run_dir
        self.procs: list[subprocess.Popen] = []
        self.started = 0

    def start(self, n: int, *, kill_test: bool = False) -> None:
        for _ in range(n):
            index = self.started
            self.started += 1
            log = open(self.run_dir / f"worker-{index}.log", "wb")
            self.procs.append(subprocess.Popen(
                worker_command(self.engine, self.env, index=index, kill_test=kill_test), env=self.env,
                cwd=BENCH, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def kill(self, proc: subprocess.Popen) -> None:
        # Every process of the worker, also one in a process group of its own (RQ's work horse: os.setpgrp).
        for pid in [proc.pid, *descendants(proc.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill(proc)
        self.procs = []


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def count(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def wait_until(predicate, timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def drain(apps, done: Path, target: int, timeout: float) -> bool:
    return wait_until(lambda: count(done) >= target, timeout)


def measure_enqueue(apps, done: Path, n: int) -> dict:
    times = []
    for _ in range(n):
        start = time.perf_counter_ns()
        apps.enqueue_noop()
        times.append((time.perf_counter_ns() - start) / 1e6)
    cuts = statistics.quantiles(times, n=100)
    return {"n": n, "p50_ms": round(cuts[49], 3), "p99_ms": round(cuts[98], 3),
            "mean_ms": round(statistics.fmean(times), 3)}


def measure_throughput(apps, workers: Workers, done: Path, n: int, n_workers: int, timeout: float) -> dict:
    workers.start(n_workers)
    warm = count(done) + 10 * n_workers
    for _ in range(10 * n_workers):
        apps.enqueue_noop()
    ready = drain(apps, done, warm, 120)
    base = count(done)
    start = time.perf_counter()
    for _ in range(n):
        apps.enqueue_noop()
    enqueued = time.perf_counter() - start
    finished = drain(apps, done, base + n, timeout)
    elapsed = time.perf_counter() - start
    got = count(done) - base
    workers.stop()
    return {"workers": n_workers, "jobs": n, "done": got, "complete": finished, "warmed_up": ready,
            "seconds": round(elapsed, 2), "enqueue_seconds": round(enqueued, 2),
            "jobs_per_s": round(got / elapsed, 1)}


def measure_kill(apps, workers: Workers, run_dir: Path, wait: float) -> dict:
    started, finished, done = run_dir / "started", run_dir / "finished", run_dir / "done"
    workers.start(1, kill_test=True)
    warm = count(done) + 1
    apps.enqueue_noop()
    drain(apps, done, warm, 120)
    apps.enqueue_sleeper()
    if not wait_until(lambda: len(lines(started)) >= 1, 60):
        workers.stop()
        return {"error": "the job never started"}
    time.sleep(1.0)
    killed_at = time.time()
    workers.kill(workers.procs[0])
    workers.start(1, kill_test=True)
    rerun = wait_until(lambda: len(lines(finished)) >= 1, wait, step=0.2)
    after = float(lines(finished)[0].split()[1]) - killed_at if rerun else None
    runs = len(lines(started))
    workers.stop()
    return {"completed_after_kill": rerun, "seconds_after_kill": round(after, 1) if after else None,
            "times_started": runs, "waited_s": wait}


def run_engine(engine: str, args) -> dict:
    """Runs in a child process: imports the engine's jobs with this run's environment and measures."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"crmpm-jobs-{engine}-"))
    env = dict(os.environ, BENCH_ENGINE=engine, BENCH_PREFIX=f"crmpm-bench-{uuid.uuid4().hex[:8]}",
               BENCH_DIR=str(run_dir), BENCH_REDELIVERY=str(args.redelivery),
               BENCH_MAINTENANCE_CHANCE=str(args.maintenance_chance),
               PYTHONPATH=os.pathsep.join([str(BENCH), os.environ.get("PYTHONPATH", "")]))
    if engine in REDIS_ENGINES:
        env["BENCH_URL"] = f"redis://127.0.0.1:6379/{args.redis_db}"
    elif engine.startswith("huey-sqlite"):
        env["BENCH_URL"] = str(run_dir / "huey.db")
    else:
        env["BENCH_URL"] = create_database(args.pg_url, env["BENCH_PREFIX"].replace("-", "_"))
    os.environ.update(env)
    sys.path.insert(0, str(BENCH))
    import job_engine_apps as apps

    getattr(apps, "prepare", lambda: None)()

    done = run_dir / "done"
    workers = Workers(engine, env, run_dir)
    result = {"engine": engine, "version": _version(ENGINES[engine]), "run_dir": str(run_dir)}
    try:
        result["enqueue"] = measure_enqueue(apps, done, args.enqueues)
        workers.start(1)
        drain(apps, done, args.enqueues, args.timeout)
        workers.stop()
        if not args.skip_throughput:
            result["throughput"] = [measure_throughput(apps, workers, done, args.jobs, n, args.timeout)
                                    for n in (1, 2)]
        if not args.skip_kill:
            result["sigkill"] = measure_kill(apps, workers, run_dir, args.kill_wait)
    finally:
        workers.stop()
        if engine == "procrastinate":
            apps.app.close()
            drop_database(args.pg_url, env["BENCH_URL"])
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
    return result


def create_database(admin_url: str, name: str) -> str:
    """A throwaway PostgreSQL database next to ``admin_url``'s, for procrastinate's schema."""
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def _version(package: str) -> str:
    from importlib.metadata import version
    return version(package)


def pick_redis_db(requested: int | None) -> int:
    import redis

    for db in ([requested] if requested is not None else range(15, 0, -1)):
        if redis.Redis(host="127.0.0.1", port=6379, db=db).dbsize() == 0:
            return db
    raise SystemExit("no empty Redis database among 1-15" if requested is None
                     else f"Redis db {requested} is not empty")


def empty_redis_db(db: int) -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()


def table(results: list[dict]) -> str:
    rows = ["| engine | enqueue p50 / p99 ms | 1 worker jobs/s | 2 workers jobs/s"
            " | SIGKILL mid-job: re-run and finished |",
            "|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            rows.append(f"| {r['engine']} | {r['error']} | | | |")
            continue
        e = r["enqueue"]
        t = {x["workers"]: x for x in r.get("throughput", [])}
        k = r.get("sigkill", {})

        def rate(x):
            if x is None:
                return "not measured"
            return f"{x['jobs_per_s']:,}" + ("" if x["complete"] else f" ({x['done']:,} of {x['jobs']:,} done)")

        kill = ("not measured" if not k else k.get("error") or
                (f"no, not within {k['waited_s']:.0f} s" if not k["completed_after_kill"] else
                 f"finished {k['seconds_after_kill']} s after the kill, not run again: a process survived"
                 if k["times_started"] == 1 else
                 f"yes, {k['seconds_after_kill']} s after the kill (started {k['times_started']}×)"))
        rows.append(f"| {r['engine']} {r['version']} | {e['p50_ms']} / {e['p99_ms']} | {rate(t.get(1))}"
                    f" | {rate(t.get(2))} | {kill} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help="comma-separated, of: " + ", ".join(ENGINES) + " (those not installed are skipped)")
    parser.add_argument("--enqueues", type=int, default=2000, help="no-op jobs timed one enqueue call each")
    parser.add_argument("--jobs", type=int, default=10000, help="no-op jobs per throughput run")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a throughput run may take")
    parser.add_argument("--kill-wait", type=float, default=120, help="seconds to wait for a killed job to finish")
    parser.add_argument("--redelivery", type=float, default=30,
                        help="seconds: Dramatiq heartbeat timeout, Celery visibility timeout, RQ job timeout,"
                             " the +leases lease")
    parser.add_argument("--maintenance-chance", type=int, default=1000,
                        help="Dramatiq: broker commands in a million that also requeue dead workers' jobs"
                             " (its default)")
    parser.add_argument("--skip-throughput", action="store_true", help="leave out the throughput runs")
    parser.add_argument("--skip-kill", action="store_true", help="leave out the SIGKILL test")
    parser.add_argument("--keep", action="store_true", help="keep each engine's directory of marks and worker logs")
    parser.add_argument("--redis-db", type=int, default=None, help="an empty Redis database (default: highest empty)")
    parser.add_argument("--pg-url", default=None,
                        help="PostgreSQL DSN to connect with; procrastinate runs in a throwaway database"
                             " created next to it")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        try:
            result = run_engine(args.child, args)
        except Exception as exc:  # the table says which engine failed and why
            result = {"engine": args.child, "error": f"{type(exc).__name__}: {exc}"}
        Path(args.out).write_text(json.dumps(result, indent=2))
        return

    engines = [e for e in args.engines.split(",") if e]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    if "procrastinate" in engines and not args.pg_url:
        engines.remove("procrastinate")
    results = []
    for engine in engines:
        if not installed(engine):
            print(f"{engine}: not installed, skipped", file=sys.stderr)
            continue
        db = pick_redis_db(args.redis_db) if engine in REDIS_ENGINES else 0
        out = Path(tempfile.mkstemp(suffix=".json")[1])
        command = [sys.executable, __file__, "--child", engine, "--out", str(out), "--redis-db", str(db),
                   *_passed_on(args)]
        print(f"{engine}…", file=sys.stderr, flush=True)
        try:
            subprocess.run(command, check=False)
            results.append(json.loads(out.read_text() or '{"engine": "%s", "error": "no result"}' % engine))
        finally:
            out.unlink(missing_ok=True)
            if engine in REDIS_ENGINES:
                empty_redis_db(db)
    print(table(results))
    report = {"taken_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "load": os.getloadavg(), "cpus": os.cpu_count(), "python": sys.version.split()[0],
              "args": vars(args), "results": results}
    path = BENCH / "results" / f"job_engines-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    print(f"raw figures: {path}", file=sys.stderr)


def _passed_on(args) -> list[str]:
    passed = ["--enqueues", str(args.enqueues), "--jobs", str(args.jobs), "--timeout", str(args.timeout),
              "--kill-wait", str(args.kill_wait), "--redelivery", str(args.redelivery),
              "--maintenance-chance", str(args.maintenance_chance)]
    if args.skip_throughput:
        passed.append("--skip-throughput")
    if args.skip_kill:
        passed.append("--skip-kill")
    if args.keep:
        passed.append("--keep")
    if args.pg_url:
        passed += ["--pg-url", args.pg_url]
    return passed


if __name__ == "__main__":
    main()

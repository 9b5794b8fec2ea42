"""The 100,000-row deals import through the API as a job, against the same import answered synchronously.

For each run a throwaway PostgreSQL database (next to ``--postgres``) is created and migrated;
``bench_crm_import.prepare`` makes the administrator, ten branches, the sellers and the pipeline
(no accounts), ``crmpm tokens create`` the administrator's API token. ``crmpm serve`` is started on a
free port of 127.0.0.1 with its job worker beside gunicorn (``crmpm worker``, a child of the serve
process), with an instance folder of its own and, for the Redis store, ``CRMPM_JOBS_URL`` naming an
empty Redis database (the highest empty of 1-15) and a ``CRMPM_JOBS_NAMESPACE`` of its own. The
accounts CSV is imported synchronously (``POST /api/v1/imports/accounts``), then the deals CSV
(``bench_crm_import.write_csv``, the Zoho-style file of the synchronous import benchmark) is sent:

- ``async-redis``, ``async-sqlite``: ``POST /api/v1/imports/deals?async=true`` (multipart: ``file``,
  ``mapping``); timed to the 202, then ``GET /api/v1/jobs/{id}`` is polled every ``--poll`` seconds
  (each answer's progress kept) until the job has succeeded: time to done;
- ``sync``: ``POST /api/v1/imports/deals`` without async: time to the answer. Under ``crmpm serve``
  gunicorn kills a worker silent for 30 s (its default ``timeout``), so a longer import answers 500
  and writes nothing;
- ``sync-long-timeout``: the same request to the same app under crmpm's gunicorn settings
  (``crmpm.cli.run_gunicorn``, workers from ``serving_settings``) with gunicorn's ``timeout`` raised
  to 1,800 s and no job worker: what the synchronous import costs when it is let finish.

Meanwhile ``GET /api/v1/me`` is requested every 0.1 s (p50/p99 of its latency, and its failures:
whether the web stays responsive), and every 0.2 s ``/proc/<pid>/status`` (VmRSS, VmHWM) of the
serve process tree is read: the web processes (gunicorn's master and workers) and the job worker
(the ``crmpm worker`` child and its own children). At the end the deals in the database are counted
(they must be N). A table is printed; the raw figures go to ``bench/results/import_job-*.json``
(git-ignored). Databases are dropped, processes stopped, the Redis keys of the namespace deleted
(and the Redis database flushed when nothing else is in it).

    make bench-import-job
    .venv/bin/python bench/bench_import_job.py --deals 100000 --accounts 1000 [--runs async-redis,async-sqlite,sync]

Figures and notes: BENCHMARKS.md, "The 100,000-row import as a job (issue 11)".
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bench_crm_import import MAPPING, prepare, write_csv  # noqa: E402
from bench_http import HOST, Server, _crmpm, _env, _free_port  # noqa: E402
from bench_job_engines import descendants, pick_redis_db  # noqa: E402
from bench_wbs_db import Database  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
ADMIN = "bench-admin@example.test"
RUNS = ("async-redis", "async-sqlite", "sync", "sync-long-timeout")
LONG_TIMEOUT = 1800
ACCOUNT_MAPPING = {"columns": {"Account Id": "external_id", "Account Name": "name", "Branch": "region"}}
RSS_EVERY = 0.2
ME_EVERY = 0.1


# HTTP --------------------------------------------------------------------------------------------

def _request(method: str, url: str, token: str, *, body: bytes | None = None, content_type: str | None = None,
             timeout: float = 30) -> tuple[int, dict | None]:
    headers = {"Authorization": f"Bearer {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, {"raw": raw[:500].decode("utf-8", "replace")}


def _multipart(csv_path: Path, mapping: dict) -> tuple[bytes, str]:
    """The import's form: the CSV as ``file``, the mapping JSON as ``mapping``."""
    boundary = uuid.uuid4().hex
    parts = [
        (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{csv_path.name}"\r\n'
         "Content-Type: text/csv\r\n\r\n").encode(), csv_path.read_bytes(), b"\r\n",
        (f'--{boundary}\r\nContent-Disposition: form-data; name="mapping"; filename="mapping.json"\r\n'
         "Content-Type: application/json\r\n\r\n").encode(), json.dumps(mapping).encode(), b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _import(base: str, token: str, kind: str, csv_path: Path, mapping: dict, *, asynchronous: bool,
            timeout: float) -> tuple[float, int, dict | None]:
    body, content_type = _multipart(csv_path, mapping)
    url = f"{base}/api/v1/imports/{kind}" + ("?async=true" if asynchronous else "")
    started = time.perf_counter()
    try:
        status, answer = _request("POST", url, token, body=body, content_type=content_type, timeout=timeout)
    except OSError as exc:  # the connection dropped (a killed gunicorn worker) or timed out
        status, answer = 0, {"error": repr(exc)}
    return time.perf_counter() - started, status, answer


# Sampling ----------------------------------------------------------------------------------------

def _status_kb(pid: int) -> tuple[int, int] | None:
    """VmRSS and VmHWM of ``pid`` in kB; None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = dict(line.split(":", 1) for line in text.splitlines() if line.startswith(("VmRSS", "VmHWM")))
    try:
        return int(values["VmRSS"].split()[0]), int(values["VmHWM"].split()[0])
    except (KeyError, ValueError):
        return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def process_tree(serve_pid: int) -> tuple[list[int], list[int]]:
    """The web processes (the serve process, gunicorn's master, and its workers) and the job worker's."""
    below = descendants(serve_pid)
    roots = [pid for pid in below if "crmpm worker" in _cmdline(pid)]
    worker = set(roots)
    for root in roots:
        worker.update(descendants(root))
    return [serve_pid, *(pid for pid in below if pid not in worker)], sorted(worker)


class MemorySampler(threading.Thread):
    """Every 0.2 s: VmRSS and VmHWM of each web and worker process; keeps the per-process peaks and the sums."""

    def __init__(self, serve_pid: int):
        super().__init__(daemon=True)
        self.serve_pid, self.stopped = serve_pid, threading.Event()
        self.samples: list[dict] = []
        self.hwm: dict[str, dict[int, int]] = {"web": {}, "worker": {}}
        self.hwm_before: dict[str, dict[int, int]] = {"web": {}, "worker": {}}
        self.started_at = time.perf_counter()

    def sample(self) -> dict:
        web, worker = process_tree(self.serve_pid)
        row = {"t": round(time.perf_counter() - self.started_at, 3)}
        for role, pids in (("web", web), ("worker", worker)):
            total = 0
            for pid in pids:
                figures = _status_kb(pid)
                if figures is None:
                    continue
                total += figures[0]
                self.hwm_before[role].setdefault(pid, figures[1])
                self.hwm[role][pid] = max(self.hwm[role].get(pid, 0), figures[1])
            row[f"{role}_rss_kb"], row[f"{role}_processes"] = total, len(pids)
        return row

    def run(self) -> None:
        while not self.stopped.is_set():
            self.samples.append(self.sample())
            self.stopped.wait(RSS_EVERY)

    def growth(self, role: str) -> float:
        return max((kb - self.hwm_before[role][pid] for pid, kb in self.hwm[role].items()), default=0) / 1024

    def stop(self) -> dict:
        self.stopped.set()
        self.join()
        self.samples.append(self.sample())
        first = self.samples[0]
        return {
            "web_rss_start_mb": first["web_rss_kb"] / 1024, "worker_rss_start_mb": first["worker_rss_kb"] / 1024,
            "web_rss_sum_peak_mb": max(s["web_rss_kb"] for s in self.samples) / 1024,
            "worker_rss_sum_peak_mb": max(s["worker_rss_kb"] for s in self.samples) / 1024,
            "web_process_hwm_max_mb": max(self.hwm["web"].values(), default=0) / 1024,
            "worker_process_hwm_max_mb": max(self.hwm["worker"].values(), default=0) / 1024,
            # The processes' own peaks when sampling began (the app's start-up included): what the import added
            # shows against these.
            "web_process_hwm_before_mb": max(self.hwm_before["web"].values(), default=0) / 1024,
            "worker_process_hwm_before_mb": max(self.hwm_before["worker"].values(), default=0) / 1024,
            # The most any one process's peak grew while sampled (the web process that took the request).
            "web_process_growth_max_mb": self.growth("web"), "worker_process_growth_max_mb": self.growth("worker"),
            "hwm_kb": {role: {str(pid): kb for pid, kb in peaks.items()} for role, peaks in self.hwm.items()},
            "samples": self.samples,
        }


class Prober(threading.Thread):
    """``GET /api/v1/me`` every 0.1 s (one at a time): latencies and failures."""

    def __init__(self, base: str, token: str):
        super().__init__(daemon=True)
        self.base, self.token, self.stopped = base, token, threading.Event()
        self.latencies: list[float] = []
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.stopped.is_set():
            started = time.perf_counter()
            try:
                status, _ = _request("GET", f"{self.base}/api/v1/me", self.token, timeout=30)
                if status != 200:
                    self.failures.append(str(status))
            except OSError as exc:
                self.failures.append(repr(exc))
            elapsed = time.perf_counter() - started
            self.latencies.append(elapsed * 1000)
            self.stopped.wait(max(0.0, ME_EVERY - elapsed))

    def stop(self) -> dict:
        self.stopped.set()
        self.join()
        return latency_figures(self.latencies, self.failures)


def latency_figures(latencies: list[float], failures: list[str]) -> dict:
    ordered = sorted(latencies)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")

    return {"requests": len(ordered), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": ordered[-1] if ordered
            else float("nan"), "mean_ms": statistics.mean(ordered) if ordered else float("nan"),
            "failures": len(failures), "failure_samples": failures[:5]}


def baseline_latency(base: str, token: str, seconds: float) -> dict:
    """/api/v1/me's latency with nothing else running, after a warm-up (each gunicorn worker's first
    requests are slower)."""
    for _ in range(30):
        _request("GET", f"{base}/api/v1/me", token)
    prober = Prober(base, token)
    prober.start()
    time.sleep(seconds)
    return prober.stop()


# One run -----------------------------------------------------------------------------------------

def write_accounts(path: Path, n_accounts: int) -> None:
    """The accounts the deals CSV names (``A0``.. by external id), on the branches ``BR0``-``BR9``."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(ACCOUNT_MAPPING["columns"]))
        for i in range(n_accounts):
            writer.writerow([f"A{i}", f"Client {i}", f"BR{i % 10}"])


def count_deals(url: str) -> int:
    from sqlalchemy import func, select

    from accounts.models import Deal
    from crmpm.database import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(Deal))
    finally:
        engine.dispose()


def poll_job(base: str, token: str, job_id: int, every: float, timeout: float) -> tuple[dict, list[dict]]:
    """GET the job until it is succeeded or failed; its last answer and the progress seen on the way."""
    started, seen = time.perf_counter(), []
    while True:
        status, job = _request("GET", f"{base}/api/v1/jobs/{job_id}", token, timeout=30)
        t = time.perf_counter() - started
        if status != 200:
            raise SystemExit(f"GET /api/v1/jobs/{job_id} answered {status}: {job}")
        if not seen or (seen[-1]["status"], seen[-1]["progress"], seen[-1]["message"]) != \
                (job["status"], job["progress"], job["message"]):
            seen.append({"t": round(t, 3), "status": job["status"], "progress": job["progress"],
                         "message": job["message"]})
        if job["status"] in ("succeeded", "failed"):
            return job, seen
        if t > timeout:
            raise SystemExit(f"job {job_id} not done after {timeout:.0f} s: {job}")
        time.sleep(every)


def _seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()


def one_run(kind: str, args, folder: Path, deals_csv: Path, accounts_csv: Path, sellers_seed: list) -> dict:
    """A fresh database and server; the accounts imported; the deals imported as ``kind`` says."""
    from crmpm.database import make_engine

    load_start = os.getloadavg()
    with Database("postgresql", args.postgres) as url, tempfile.TemporaryDirectory(dir=folder) as instance:
        engine = make_engine(url)
        sellers = prepare(engine, n_accounts=0)
        engine.dispose()
        assert sellers == sellers_seed, "the sellers of the CSV are the ones prepared"
        env = _env(url)
        env.update({"CRMPM_INSTANCE_PATH": instance, "CRMPM_UPLOAD_DIR": str(Path(instance) / "uploads")})
        env.pop("CRMPM_NO_WORKER", None)
        redis_db = namespace = None
        if kind == "async-redis":
            redis_db = pick_redis_db(args.redis_db)
            namespace = f"bench-import-{uuid.uuid4().hex[:8]}"
            env.update({"CRMPM_JOBS_URL": f"redis://127.0.0.1:6379/{redis_db}", "CRMPM_JOBS_NAMESPACE": namespace})
        else:
            env.pop("CRMPM_JOBS_URL", None)
            env["CRMPM_JOBS_NAMESPACE"] = f"bench-import-{uuid.uuid4().hex[:8]}"
        token = _crmpm(env, "tokens", "create", ADMIN, "--name", "bench-import-job").strip()
        port = _free_port()
        if kind == "sync-long-timeout":
            command = [sys.executable, __file__, "--serve-long-timeout", str(port), str(args.web_workers or 0)]
        else:
            command = [sys.executable, "-m", "crmpm", "serve", "--host", HOST, "--port", str(port)]
            if args.web_workers:
                command += ["--workers", str(args.web_workers)]
        base = f"http://{HOST}:{port}"
        RESULTS.mkdir(parents=True, exist_ok=True)
        try:
            with Server("crmpm serve", command, env, f"{base}/api/openapi.json", RESULTS / f"import_job-{kind}.log") \
                    as server:
                result = measure(kind, args, server, base, token, deals_csv, accounts_csv)
            result["deals_in_db"] = count_deals(url)
        finally:
            if redis_db is not None:
                result_redis = clean_redis(redis_db, namespace)
        if redis_db is not None:
            result |= {"redis_db": redis_db, "redis_cleanup": result_redis}
    result |= {"run": kind, "load_start": load_start, "load_end": os.getloadavg()}
    return result


def measure(kind: str, args, server: Server, base: str, token: str, deals_csv: Path, accounts_csv: Path) -> dict:
    took, status, answer = _import(base, token, "accounts", accounts_csv, ACCOUNT_MAPPING, asynchronous=False,
                                   timeout=600)
    if status != 200 or answer.get("created") != args.accounts:
        raise SystemExit(f"the accounts import answered {status}: {str(answer)[:500]}")
    print(f"  {kind}: {args.accounts:,} accounts imported (sync) in {took:.1f} s", flush=True)
    web, worker = process_tree(server.process.pid)
    if kind.startswith("async") and not worker:
        raise SystemExit("no `crmpm worker` process below `crmpm serve`")
    idle = baseline_latency(base, token, args.baseline)
    sampler, prober = MemorySampler(server.process.pid), Prober(base, token)
    sampler.start()
    prober.start()
    result: dict = {"web_processes": len(web), "worker_processes": len(worker), "me_idle": idle,
                    "accounts_import_s": took}
    try:
        took, status, answer = _import(base, token, "deals", deals_csv, MAPPING, asynchronous=kind.startswith("async"),
                                       timeout=args.timeout)
        result |= {"response_s": took, "response_status": status}
        if not kind.startswith("async"):
            result["report"] = _short(answer)
            result["done_s"] = took
        else:
            if status != 202:
                raise SystemExit(f"the async import answered {status}: {str(answer)[:500]}")
            print(f"  {kind}: 202 after {took:.2f} s, job {answer['id']}", flush=True)
            job, progress = poll_job(base, token, answer["id"], args.poll, args.timeout)
            result |= {"done_s": took + progress[-1]["t"], "job_status": job["status"], "job_error": job["error"],
                       "job_run_s": _seconds_between(job["started_at"], job["finished_at"]),
                       "job_queue_s": _seconds_between(job["created_at"], job["started_at"]),
                       "report": _short(job["result"]), "progress": progress}
    finally:
        result["me_during"] = prober.stop()
        result["memory"] = sampler.stop()
    return result


def _short(report: dict | None) -> dict | None:
    if not isinstance(report, dict):
        return report
    return {key: value for key, value in report.items() if key != "errors"} | {
        "errors_first": (report.get("errors") or [])[:3]}


def clean_redis(db: int, namespace: str) -> dict:
    """Delete the namespace's keys; flush the database when nothing else is left in it."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=db)
    keys = list(client.scan_iter(match=f"*{namespace}*", count=1000))
    if keys:
        client.delete(*keys)
    left = client.dbsize()
    if left == 0:
        client.flushdb()
    return {"deleted_keys": len(keys), "keys_left_of_others": left}


# Report ------------------------------------------------------------------------------------------

def table(results: list[dict], args) -> str:
    lines = [f"crmpm: {args.deals:,} deals imported through the API, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M}"
             f" UTC, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end", "",
             "| run | answer | time to answer s | time to done s | job ran s | rows/s | web: peak RSS of one process, "
             "MB (before, growth) | all web processes MB | worker peak RSS MB (RSS before) "
             "| /me p50 / p99 ms during (idle) | /me failures | deals in DB | load 1 min start → end |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        m, during, idle = r["memory"], r["me_during"], r["me_idle"]
        done = r.get("done_s")
        ran = r.get("job_run_s")
        finished = r.get("job_status") == "succeeded" or r["response_status"] == 200
        rows_s = f"{args.deals / (ran or done):,.0f}" if finished and (ran or done) else "-"
        worker = (f"{m['worker_process_hwm_max_mb']:.0f} ({m['worker_rss_start_mb']:.0f})"
                  if m["worker_process_hwm_max_mb"] else "-")
        lines.append(
            f"| {r['run']} | {r['response_status']} | {r['response_s']:.2f} | {done:.1f} | "
            f"{'-' if ran is None else f'{ran:.1f}'} | {rows_s} | "
            f"{m['web_process_hwm_max_mb']:.0f} ({m['web_process_hwm_before_mb']:.0f}, "
            f"+{m['web_process_growth_max_mb']:.0f}) | "
            f"{m['web_rss_sum_peak_mb']:.0f} | {worker} | "
            f"{during['p50_ms']:.1f} / {during['p99_ms']:.1f} ({idle['p50_ms']:.1f} / {idle['p99_ms']:.1f}) | "
            f"{during['failures']} of {during['requests']} | {r['deals_in_db']:,} | "
            f"{r['load_start'][0]:.1f} → {r['load_end'][0]:.1f} |")
    for r in results:
        if r.get("progress"):
            shown = ", ".join(f"{p['t']:.1f} s {p['status']} {p['progress']:.0%}" for p in _thin(r["progress"], 8))
            lines.append(f"\n{r['run']} progress seen by the poll (after the 202): {shown}")
    return "\n".join(lines)


def _thin(items: list, n: int) -> list:
    if len(items) <= n:
        return items
    step = (len(items) - 1) / (n - 1)
    return [items[round(i * step)] for i in range(n)]


def serve_long_timeout(port: int, workers: int) -> None:
    """crmpm under its own gunicorn settings, but for gunicorn's worker ``timeout`` (1,800 s, not 30 s)."""
    import gunicorn.config

    from crmpm import create_app
    from crmpm.cli import run_gunicorn, serving_settings

    gunicorn.config.Timeout.default = LONG_TIMEOUT  # read when run_gunicorn's Config is made
    workers, threads = serving_settings(sqlite=False, workers=workers or None)
    run_gunicorn(create_app(), host=HOST, port=port, workers=workers, threads=threads)


def expected_deals(result: dict, n: int) -> int:
    """N after a job or an answered import; none after a synchronous import that failed (all or nothing)."""
    return n if result["run"].startswith("async") or result["response_status"] == 200 else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, default=100_000, help="deals in the CSV (default 100,000)")
    parser.add_argument("--accounts", type=int, default=1_000, help="accounts the deals belong to (default 1,000)")
    parser.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated, in order: {', '.join(RUNS)}")
    parser.add_argument("--postgres", default=os.environ.get("CRMPM_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
                        help="server to make the throwaway databases on")
    parser.add_argument("--redis-db", type=int, help="Redis database for the Redis store (default: highest empty "
                                                     "of 1-15)")
    parser.add_argument("--web-workers", type=int, help="gunicorn workers (default: crmpm serve's)")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between GETs of the job")
    parser.add_argument("--baseline", type=float, default=3.0, help="seconds of /api/v1/me before the import")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for an import")
    parser.add_argument("--serve-long-timeout", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_long_timeout:
        serve_long_timeout(*args.serve_long_timeout)
        return 0
    runs = [run.strip() for run in args.runs.split(",") if run.strip()]
    if unknown := set(runs) - set(RUNS):
        parser.error(f"unknown runs: {', '.join(sorted(unknown))}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start",
          flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="crmpm-import-job-") as folder_name:
        folder = Path(folder_name)
        sellers = [f"seller{i}@example.test" for i in range(20)]  # prepare()'s, checked in each run
        deals_csv, accounts_csv = folder / "deals.csv", folder / "accounts.csv"
        write_csv(deals_csv, n_deals=args.deals, n_accounts=args.accounts, sellers=sellers)
        write_accounts(accounts_csv, args.accounts)
        print(f"deals CSV: {args.deals:,} rows, {deals_csv.stat().st_size / 1e6:.1f} MB", flush=True)
        for kind in runs:
            result = one_run(kind, args, folder, deals_csv, accounts_csv, sellers)
            results.append(result)
            print(f"  {kind}: answer {result['response_status']} after {result['response_s']:.2f} s, done after "
                  f"{result['done_s']:.1f} s, {result['deals_in_db']:,} deals in the database", flush=True)
    text = table(results, args)
    print()
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}"
    (RESULTS / f"import_job-{stamp}.md").write_text(text + "\n")
    (RESULTS / f"import_job-{stamp}.json").write_text(json.dumps({"args": vars(args), "results": results},
                                                                 indent=2, default=str) + "\n")
    print(f"\nwritten to bench/results/import_job-{stamp}.md and .json")
    bad = [r["run"] for r in results if r["deals_in_db"] != expected_deals(r, args.deals)]
    if bad:
        print(f"WRONG: deals in the database after {', '.join(bad)}: expected {args.deals:,} after a job or an "
              "answered import, none after a failed synchronous one")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

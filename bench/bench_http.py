"""API throughput under load: ``wrk`` against ``crmpm serve`` on PostgreSQL, beside a one-line Flask app.

Creates a throwaway PostgreSQL database (next to ``--postgres``), migrates it,
loads the demo data and creates an API token with the ``crmpm`` command, then
starts two gunicorn servers on random ports of 127.0.0.1 with the same settings
(``crmpm.cli.serving_settings`` and ``run_gunicorn``): ``crmpm serve`` and the
ceiling, a Flask app whose one view returns a constant. ``wrk`` loads each path
for ``--duration`` seconds with the same threads and connections; the ceiling is
measured before and after each path's run and the path's rate is given as a share
of their mean, so the figures travel between machines and loads. ``--rounds`` (3)
runs every path that many times, in turn: a shared machine's speed drifts within
minutes, so a path is reported by its median round, every round's share beside
it. Before loading a
path, one request checks that it answers 200 (a fast 401 would be no figure),
and wrk's count of non-2xx answers is reported.

    make bench-http
    .venv/bin/python bench/bench_http.py [--duration 10] [--rounds 3] [--connections 16] [--threads 2]
        [--workers N] [--server-threads N] [--user am@crmpm.local] [--postgres URL] [--keep]

``--inprocess`` adds, per path, the time of one request through Flask's test
client (no HTTP, no gunicorn) and the SQL statements it runs; ``--profile PATH``
prints where one in-process request spends its time (cProfile).

Targets (share of the ceiling): /api/v1/me >= 30 %, /api/v1/projects >= 20 %,
/api/v1/deals >= 15 %, /api/openapi.json >= 50 %. Figures and how they were
reached: BENCHMARKS.md, "API throughput".
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pstats
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

RESULTS = ROOT / "bench" / "results"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"

# (path, whether it needs the token, target share of the ceiling)
PATHS = [
    ("/api/v1/me", True, 0.30),
    ("/api/v1/projects", True, 0.20),
    ("/api/v1/deals", True, 0.15),
    ("/api/openapi.json", False, 0.50),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _env(url: str) -> dict:
    env = {**os.environ, "CRMPM_DATABASE_URL": url, "CRMPM_SECRET_KEY": os.urandom(24).hex()}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _crmpm(env: dict, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "crmpm", *args], env=env, capture_output=True, text=True,
                            timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"crmpm {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def _get(url: str, token: str | None, timeout: float = 10) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Server:
    """A gunicorn server in a child process, stopped (its process group) on exit."""

    def __init__(self, name: str, command: list[str], env: dict, probe: str, log: Path):
        self.name, self.command, self.env, self.probe, self.log = name, command, env, probe, log

    def __enter__(self) -> Server:
        self.log_file = self.log.open("w")
        self.process = subprocess.Popen(self.command, env=self.env, stdout=subprocess.DEVNULL, stderr=self.log_file,
                                        start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(self.probe, None, timeout=2)
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{self.name} did not start; see {self.log}")
                time.sleep(0.2)

    def __exit__(self, *_exc):
        try:
            os.killpg(self.process.pid, 15)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()
        self.log_file.close()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, token: str | None, args) -> dict:
    """One wrk run: requests per second, latency p50/p99 in ms, non-2xx answers and socket errors."""
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True,
                            timeout=args.duration + 60).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+(\S+)\s*$", output, re.MULTILINE))
    if "50" not in latency or "99" not in latency:
        raise SystemExit(f"unexpected wrk output:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return {"rps": rate, "requests": requests, "p50_ms": _ms(latency["50"]), "p99_ms": _ms(latency["99"]),
            "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": sum(map(int, errors.groups())) if errors else 0}


def _cpu_seconds(pids) -> float:
    """User + system CPU time used so far by these processes (gone ones count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


class ServerCpu:
    """CPU time of a gunicorn server's workers, plus (for crmpm) the PostgreSQL backends serving its database."""

    def __init__(self, server: Server, admin_url: str | None = None, database: str | None = None):
        self.server, self.admin_url, self.database = server, admin_url, database

    def pids(self) -> tuple[list[int], list[int]]:
        """The server's processes (master and workers), and the database backends serving its database."""
        server = [self.server.process.pid, *_children(self.server.process.pid)]
        backends = []
        if self.database:
            import psycopg

            with psycopg.connect(self.admin_url.replace("postgresql+psycopg://", "postgresql://"),
                                 autocommit=True) as connection:
                backends = [pid for (pid,) in connection.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,))]
        return server, backends

    def __call__(self, run):
        """Run ``run()`` (a wrk run) and add the CPU milliseconds per request of the app and the database."""
        server, backends = self.pids()
        before = _cpu_seconds(server), _cpu_seconds(backends)
        figures = run()
        server_after, backends_after = self.pids()
        after = _cpu_seconds(set(server) | set(server_after)), _cpu_seconds(set(backends) | set(backends_after))
        requests = figures["requests"] or 1
        figures["app_cpu_ms"] = (after[0] - before[0]) * 1000 / requests
        figures["db_cpu_ms"] = (after[1] - before[1]) * 1000 / requests
        figures["server_cpu_ms"] = figures["app_cpu_ms"] + figures["db_cpu_ms"]
        return figures


def run_http(url: str, token: str, args) -> dict:
    """Each path's wrk run between two runs of the ceiling; a path's share is against the mean of its two."""
    from sqlalchemy.engine import make_url

    from crmpm.cli import serving_settings

    workers, threads = serving_settings(sqlite=False, workers=args.workers, threads=args.server_threads)
    env = _env(url)
    RESULTS.mkdir(parents=True, exist_ok=True)
    crmpm_port, ceiling_port = _free_port(), _free_port()
    serve = [sys.executable, "-m", "crmpm", "serve", "--host", HOST, "--port", str(crmpm_port)]
    if args.workers:
        serve += ["--workers", str(args.workers)]
    if args.server_threads:
        serve += ["--threads", str(args.server_threads)]
    ceiling = [sys.executable, __file__, "--serve-ceiling", str(ceiling_port), str(workers), str(threads)]
    crmpm_base, ceiling_base = f"http://{HOST}:{crmpm_port}", f"http://{HOST}:{ceiling_port}/"
    print(f"gunicorn: {workers} worker(s) x {threads} thread(s); wrk: {args.threads} threads, "
          f"{args.connections} connections, {args.duration} s per run", flush=True)
    with Server("crmpm serve", serve, env, f"{crmpm_base}/api/openapi.json", RESULTS / "http-crmpm.log") as crmpm, \
            Server("ceiling app", ceiling, env, ceiling_base, RESULTS / "http-ceiling.log") as ceiling_server:
        for path, needs_token, _target in PATHS:
            status, body = _get(crmpm_base + path, token if needs_token else None)
            if status != 200:
                raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
            if path.endswith(("/projects", "/deals")):
                print(f"  {path}: {json.loads(body)['total']} rows visible, {len(body):,} bytes a page", flush=True)
        crmpm_cpu = ServerCpu(crmpm, args.postgres, make_url(url).database)
        ceiling_cpu = ServerCpu(ceiling_server)

        def measure_ceiling():
            figures = ceiling_cpu(lambda: wrk(ceiling_base, None, args))
            print(f"  ceiling: {figures['rps']:,.0f} req/s", flush=True)
            return figures

        ceilings, rounds = [measure_ceiling()], {path: [] for path, _needs_token, _target in PATHS}
        for number in range(args.rounds):
            for path, needs_token, _target in PATHS:
                figures = crmpm_cpu(lambda: wrk(crmpm_base + path, token if needs_token else None, args))
                ceilings.append(measure_ceiling())
                figures["ceiling_rps"] = statistics.mean(c["rps"] for c in ceilings[-2:])
                figures["share"] = figures["rps"] / figures["ceiling_rps"]
                rounds[path].append(figures)
                print(f"  round {number + 1}, {path}: {figures['rps']:,.0f} req/s, {figures['share']:.1%} of the "
                      "ceiling", flush=True)
    # A shared machine's speed drifts within minutes: each path is reported by its median round (by share), with
    # every round's share beside it.
    paths = {}
    for path, measured in rounds.items():
        ordered = sorted(measured, key=lambda figures: figures["share"])
        paths[path] = {**ordered[(len(ordered) - 1) // 2], "shares": [figures["share"] for figures in measured]}
    return {"workers": workers, "server_threads": threads, "ceilings": ceilings, "paths": paths}


def run_inprocess(url: str, token: str, args) -> dict:
    """Per path: the median time of one request through the test client, and the SQL statements it runs."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from crmpm import create_app
    from crmpm.database import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    client = app.test_client()
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    # Every engine's: GET requests read on an engine of their own (crmpm.database.begin_on_write_engine).
    event.listen(Engine, "before_cursor_execute", lambda *a, **_k: statements.append(a[2]))
    figures = {}
    for path, needs_token, _target in PATHS:
        headers = {"Authorization": f"Bearer {token}"} if needs_token else {}
        for _ in range(5):
            assert client.get(path, headers=headers).status_code == 200
        times = []
        for _ in range(args.repeat):
            statements.clear()
            started = time.perf_counter()
            client.get(path, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
        figures[path] = {"median_ms": statistics.median(times), "queries": len(statements)}
    engine.dispose()
    return figures


def profile(url: str, token: str, path: str, repeat: int) -> None:
    from crmpm import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/v1/") else {}
    for _ in range(5):
        assert client.get(path, headers=headers).status_code == 200
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        client.get(path, headers=headers)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


def report(http: dict | None, inprocess: dict | None, args) -> str:
    lines = [f"crmpm API throughput, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
             f"load average {os.getloadavg()[0]:.2f} at the end"]
    if http:
        ceiling_cpu = statistics.mean(c["server_cpu_ms"] for c in http["ceilings"])
        lines += [f"gunicorn {http['workers']} worker(s) x {http['server_threads']} thread(s); wrk -t{args.threads} "
                  f"-c{args.connections} -d{args.duration}s; ceiling runs "
                  + ", ".join(f"{c['rps']:,.0f}" for c in http["ceilings"])
                  + f" req/s (each path's run between two), server CPU {ceiling_cpu:.2f} ms a request", "",
                  "| path | req/s | share of ceiling (median round) | target | every round | p50 ms | p99 ms "
                  "| CPU ms/request: app + database | non-2xx |", "|---|---:|---:|---:|---|---:|---:|---:|---:|"]
        for path, _needs_token, target in PATHS:
            figure = http["paths"][path]
            verdict = "met" if figure["share"] >= target else "MISSED"
            every = ", ".join(f"{share:.1%}" for share in figure["shares"])
            lines.append(f"| {path} | {figure['rps']:,.0f} | {figure['share']:.1%} | >= {target:.0%} {verdict} | "
                         f"{every} | "
                         f"{figure['p50_ms']:.1f} | {figure['p99_ms']:.1f} | "
                         f"{figure['app_cpu_ms']:.2f} + {figure['db_cpu_ms']:.2f} | "
                         f"{figure['non_2xx'] + figure['socket_errors']} |")
    if inprocess:
        lines += ["", "In-process (Flask test client, no HTTP):", "", "| path | median ms | SQL statements |",
                  "|---|---:|---:|"]
        lines += [f"| {path} | {figure['median_ms']:.2f} | {figure['queries']} |" for path, figure in inprocess.items()]
    return "\n".join(lines)


def serve_ceiling(port: int, workers: int, threads: int) -> None:
    """The ceiling: a one-line Flask app under crmpm's gunicorn settings."""
    from flask import Flask

    from crmpm.cli import run_gunicorn

    app = Flask("ceiling")
    app.add_url_rule("/", "hello", lambda: "ok")
    run_gunicorn(app, host=HOST, port=port, workers=workers, threads=threads)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server to make the throwaway database on")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per path")
    parser.add_argument("--rounds", type=int, default=3, help="runs of every path, each between two of the ceiling "
                        "(the median round is reported)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: crmpm serve's)")
    parser.add_argument("--server-threads", type=int, help="gunicorn threads per worker (default: crmpm serve's)")
    parser.add_argument("--user", default="am@crmpm.local", help="whose token (demo: an account manager)")
    parser.add_argument("--inprocess", action="store_true", help="also time each path in-process and count SQL")
    parser.add_argument("--no-http", action="store_true", help="skip the wrk runs")
    parser.add_argument("--repeat", type=int, default=200, help="in-process requests per path")
    parser.add_argument("--profile", metavar="PATH", help="profile in-process requests to PATH and stop")
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument("--serve-ceiling", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_ceiling:
        serve_ceiling(*args.serve_ceiling)
        return 0
    if not args.no_http and not args.profile and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk; `make bench-http` does it as root)")

    from bench_wbs_db import Database

    with Database("postgresql", args.postgres, keep=args.keep) as url:
        env = _env(url)
        _crmpm(env, "demo")
        token = _crmpm(env, "tokens", "create", args.user, "--name", "bench-http").strip()
        if args.profile:
            profile(url, token, args.profile, args.repeat)
            return 0
        http = None if args.no_http else run_http(url, token, args)
        inprocess = run_inprocess(url, token, args) if args.inprocess else None
    text = report(http, inprocess, args)
    print()
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}"
    (RESULTS / f"http-{stamp}.md").write_text(text + "\n")
    (RESULTS / f"http-{stamp}.json").write_text(json.dumps({"args": vars(args), "http": http, "inprocess": inprocess},
                                                            indent=2) + "\n")
    print(f"\nwritten to bench/results/http-{stamp}.md and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())

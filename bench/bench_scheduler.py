"""Benchmark the CPM scheduler and the XER reader on synthetic projects.

Usage (from the repository root)::

    python bench/bench_scheduler.py                 # N = 1,000 / 10,000 / 100,000
    python bench/bench_scheduler.py --million       # also N = 1,000,000
    python bench/bench_scheduler.py --sizes 5000    # any sizes
    python bench/bench_scheduler.py --xer 4000      # XER import of a 4,000-activity file

Each size is run in a fresh child process so that peak memory
(``ru_maxrss``) belongs to that size alone; timings are the best of
``--repeat`` runs of :func:`wbs.scheduling.schedule` (inputs built
beforehand), as wall-clock and as CPU time of the process (the latter moves
less when other work shares the machine; the load average is printed).

The generator makes N activities in about 150 layers (chains through the
layers plus cross links to the next two),
about 1.5 N relationships of all four types with lags (some negative), three
calendars (5-day with two periods a day and holidays, 6-day, 24-hour), a
few constraints, and the first fifth of the network in progress or complete.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from wbs.scheduling import (  # noqa: E402
    Activity,
    ActivityType,
    Calendar,
    ConstraintType,
    Relationship,
    RelationshipType,
    ScheduleOptions,
    schedule,
)

DATA_DATE = dt.datetime(2025, 3, 3, 8, 0)
DEPTH = 150  # activities along the deepest chain


def calendars():
    """Three calendars: 5-day with holidays, 6-day, 24-hour."""
    holidays = {}
    d = dt.date(2024, 1, 1)
    rng = random.Random(7)
    while d < dt.date(2040, 1, 1):
        if rng.random() < 0.03:
            holidays[d] = ()
        d += dt.timedelta(days=1)
    five = Calendar("1", "5-day", exceptions=holidays)
    six = Calendar("2", "6-day", week=tuple(((7 * 60, 12 * 60), (13 * 60, 16 * 60)) if i < 6 else () for i in range(7)))
    return {c.id: c for c in (five, six, Calendar.twenty_four_hour("3", "24-hour"))}


def generate(n, seed=1):
    """Return ``(activities, relationships, calendars, options)`` for N activities."""
    rng = random.Random(seed)
    cal_ids = ["1"] * 6 + ["2"] * 3 + ["3"]
    types = [RelationshipType.FS] * 7 + [RelationshipType.SS, RelationshipType.FF, RelationshipType.SF]
    progressed = n // 5
    acts = []
    for i in range(n):
        hours = rng.choice((0, 8, 16, 24, 40, 80)) if i % 50 else 0
        kind = ActivityType.TASK
        if hours == 0:
            kind = ActivityType.FINISH_MILESTONE if i % 2 else ActivityType.START_MILESTONE
        cstr = cdate = None
        if i % 97 == 0 and i:
            cstr = rng.choice((ConstraintType.START_ON_OR_AFTER, ConstraintType.FINISH_ON_OR_BEFORE))
            cdate = DATA_DATE + dt.timedelta(days=rng.randint(0, 400))
        act_s = act_f = None
        remaining = hours
        if i < progressed:
            # The first fifth: two thirds complete, the rest in progress.
            act_s = DATA_DATE - dt.timedelta(days=rng.randint(5, 60))
            if i % 3:
                act_f = act_s + dt.timedelta(days=2)
                remaining = 0
            else:
                remaining = hours / 2
        acts.append(
            Activity(
                id=str(i),
                code=f"A{i:07d}",
                type=kind,
                original_duration_hours=hours,
                remaining_duration_hours=remaining,
                calendar_id=rng.choice(cal_ids),
                constraint=cstr,
                constraint_date=cdate,
                actual_start=act_s,
                actual_finish=act_f,
            )
        )
    rels = []
    # Layers: activity i sits in layer i // width, so the network is about
    # DEPTH activities deep whatever N is, like a real project.
    width = max(1, -(-n // DEPTH))
    for i in range(width, n):
        rels.append(Relationship(str(i - width), str(i), RelationshipType.FS, 0))
    # Cross links to the next two layers: about 0.5 N more, all types and lags.
    extra = int(n * 1.5) - len(rels)
    for _ in range(max(extra, 0)):
        a = rng.randrange(0, max(1, n - width))
        layer = a // width + rng.randint(1, 2)
        b = min(n - 1, layer * width + rng.randrange(width))
        if b <= a:
            continue
        lag = rng.choice((0, 0, 0, 8, 16, -8))
        rels.append(Relationship(str(a), str(b), rng.choice(types), lag))
    options = ScheduleOptions(data_date=DATA_DATE, project_start=DATA_DATE, default_calendar_id="1")
    return acts, rels, calendars(), options


def _measure_schedule(n, repeat):
    t0 = time.perf_counter()
    acts, rels, cals, opts = generate(n)
    gen = time.perf_counter() - t0
    best = best_cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        res = schedule(acts, rels, cals, opts)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    assert len(res) == n
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "n": n,
        "relationships": len(rels),
        "generate_s": round(gen, 3),
        "schedule_s": round(best, 3),
        "schedule_cpu_s": round(best_cpu, 3),
        "peak_rss_mb": round(rss_mb, 1),
    }


def _measure_xer(n):
    from wbs.interchange.xer.mapping import load_project
    from wbs.interchange.xer.reader import read_xer
    from wbs.interchange.xer.writer import project_to_xer, write_xer_file

    acts, rels, cals, opts = generate(n)
    res = schedule(acts, rels, cals, opts)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"synthetic-{n}.xer")
        write_xer_file(project_to_xer(acts, rels, cals, opts, code=f"SYN{n}", results=res), path)
        size = os.path.getsize(path)
        t0 = time.perf_counter()
        xer = read_xer(path)
        t_read = time.perf_counter() - t0
        project = load_project(xer)
        t_load = time.perf_counter() - t0
        schedule(project.activities, project.relationships, project.calendars, project.options)
        t_all = time.perf_counter() - t0
    return {"n": n, "file_mb": round(size / 1e6, 2), "read_s": round(t_read, 3), "read_and_map_s": round(t_load, 3), "read_map_schedule_s": round(t_all, 3)}


def _child(args):
    cmd = [sys.executable, __file__] + args
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    ap.add_argument("--million", action="store_true", help="also run N = 1,000,000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--xer", type=int, default=4_000, help="activities in the XER import test (0 to skip)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--one-xer", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(_measure_schedule(args.one, args.repeat)))
        return
    if args.one_xer:
        print(json.dumps(_measure_xer(args.one_xer)))
        return
    sizes = list(args.sizes) + ([1_000_000] if args.million else [])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.2f} at start")
    print(f"{'N':>9} {'rels':>9} {'schedule s':>11} {'(CPU s)':>8} {'peak RSS MB':>12} {'(generate s)':>13}")
    for n in sizes:
        repeat = args.repeat if n <= 100_000 else 1
        r = _child(["--one", str(n), "--repeat", str(repeat)])
        print(
            f"{r['n']:>9,} {r['relationships']:>9,} {r['schedule_s']:>11.3f} {r['schedule_cpu_s']:>8.3f} "
            f"{r['peak_rss_mb']:>12.1f} {r['generate_s']:>13.3f}"
        )
    if args.xer:
        r = _child(["--one-xer", str(args.xer)])
        print(
            f"XER import, {r['n']:,} activities ({r['file_mb']} MB): read {r['read_s']:.3f} s, "
            f"read+map {r['read_and_map_s']:.3f} s, read+map+schedule {r['read_map_schedule_s']:.3f} s"
        )


if __name__ == "__main__":
    main()

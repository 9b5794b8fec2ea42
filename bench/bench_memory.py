"""Peak memory of the interchange paths a web worker runs: MSPDI export, the largest accepted XER import,
and an oversize XER refused.

Usage (from the repository root)::

    .venv/bin/python bench/bench_memory.py                         # SQLite, 100,000 activities
    .venv/bin/python bench/bench_memory.py --backend postgresql --activities 100000
    .venv/bin/python bench/bench_memory.py --skip-import           # the export and the refusal only
    .venv/bin/python bench/bench_memory.py --only-export           # the MSPDI export only

Every measure runs in a child process of its own, so that one's peak is not the
next one's floor; the figure is the child's peak resident memory (``VmHWM``)
after its set-up (imports, the app, the file read into memory as an upload is),
and the growth over that set-up.

- MSPDI export of a project of ``--activities`` activities (built as
  ``bench_wbs_db`` builds it: about 1.5 links per activity, a three-level WBS,
  three calendars): *whole*, the document as the export built it before
  (``write_mspdi(exchange_of(...))``), and *streamed*, the chunks of
  ``wbs.interchange.mspdi.export.mspdi_chunks`` written to /dev/null as a download sends them.
- XER import of the largest file the default limits accept (``wbs.interchange.limits``:
  ``--activities`` activities and relationships padded with forward FS links up
  to ``--relationships``): the whole import, checks, insert, schedule, commit.
- An XER file of 1,000,000 relationships among 10,000 activities (about the issue's 30 MB file): *before*,
  what parsing it took (``read_xer_project``, the step that grew the worker);
  *after*, what refusing it takes (``check_file`` counts and answers 422).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import bench_scheduler  # noqa: E402
from bench_wbs_db import Database, _reset_peak, _rss_mb, build  # noqa: E402

DEFAULT_URL = os.environ.get("CRMPM_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _current_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def largest_xer(activities: int, relationships: int) -> bytes:
    """An XER file of ``activities`` activities and ``relationships`` links (forward only: no loop)."""
    from wbs.scheduling import cpm
    from wbs.interchange.xer.writer import project_to_xer, write_xer
    from bench_wbs_db import _wbs_of

    acts, rels, cals, options = bench_scheduler.generate(activities, seed=4)
    elements, leaves = _wbs_of(activities)
    acts = [dataclasses.replace(a, wbs_id=leaves[i * len(leaves) // activities]) for i, a in enumerate(acts)]
    seen, unique = set(), []
    for r in rels:
        if (r.predecessor, r.successor) not in seen:
            seen.add((r.predecessor, r.successor))
            unique.append(r)
    rng = random.Random(7)
    while len(unique) < relationships:
        i = rng.randrange(activities - 1)
        j = rng.randrange(i + 1, min(activities, i + 2_000))
        if (str(i), str(j)) not in seen:
            seen.add((str(i), str(j)))
            unique.append(bench_scheduler.Relationship(str(i), str(j), bench_scheduler.RelationshipType.FS, 0))
    results = cpm.schedule(acts, unique, cals, options)
    xer = project_to_xer(acts, unique, cals, options, code=f"XER{activities}", wbs_parents=dict(elements),
                         results=results)
    return write_xer(xer).encode("cp1252")


# Children: each prints one JSON line.


def child(mode: str, args: list[str]) -> dict:
    from sqlalchemy.orm import Session

    from crmpm.database import make_engine
    from crmpm.errors import Invalid
    from crmpm.users.models import User
    from eps.models import EpsNode, Project
    from wbs import interchange
    from wbs.interchange.mspdi import export as mspdi_export
    from wbs.interchange.limits import FileLimits, check_file
    from wbs.interchange.mspdi import write_mspdi

    figures: dict = {}
    if mode in ("mspdi-whole", "mspdi-streamed"):
        url, project_id = args[0], int(args[1])
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            project = session.get(Project, project_id)
            baseline = _current_rss_mb()
            _reset_peak()
            started = time.perf_counter()
            if mode == "mspdi-whole":
                data = write_mspdi(interchange.exchange_of(session, project=project))
                size = len(data)
            else:
                size = 0
                with open(os.devnull, "wb") as sink:
                    for chunk in mspdi_export.mspdi_chunks(session, project=project):
                        sink.write(chunk)
                        size += len(chunk)
            figures["bytes"] = size
    elif mode == "xer-import":
        url, admin_id, node_id, file = args[0], int(args[1]), int(args[2]), args[3]
        data = Path(file).read_bytes()
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            admin, node = session.get(User, admin_id), session.get(EpsNode, node_id)
            baseline = _current_rss_mb()
            _reset_peak()
            started = time.perf_counter()
            check_file("xer", data, FileLimits())
            project = interchange.import_xer(session, actor=admin, data=data, eps_node=node, code="LARGEST")
            session.commit()
            figures["bytes"] = len(data)
            figures["project"] = project.id
    elif mode in ("oversize-parse", "oversize-refuse"):
        data = Path(args[0]).read_bytes()
        baseline = _current_rss_mb()
        _reset_peak()
        started = time.perf_counter()
        try:
            if mode == "oversize-parse":
                interchange.read_xer_project(data)
            else:
                check_file("xer", data, FileLimits())
            figures["outcome"] = "read"
        except Invalid as exc:
            figures["outcome"] = f"refused: {exc.message}"
        figures["bytes"] = len(data)
    else:
        raise SystemExit(f"unknown mode {mode}")
    figures.update(seconds=round(time.perf_counter() - started, 2), baseline_mb=baseline, peak_mb=_rss_mb())
    figures["growth_mb"] = round(figures["peak_mb"] - baseline, 1)
    return figures


def _run_child(mode: str, *args) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, *map(str, args)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _line(name: str, figures: dict) -> str:
    return (f"  {name:<34} peak {figures['peak_mb']:>8.1f} MB  growth {figures['growth_mb']:>8.1f} MB  "
            f"{figures['seconds']:>7.2f} s  {figures.get('bytes', 0) / 1e6:8.1f} MB file"
            + (f"  ({figures['outcome']})" if "outcome" in figures else ""))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL server for the throwaway database")
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--relationships", type=int, default=400_000,
                        help="links in the largest accepted XER (the default limit)")
    parser.add_argument("--oversize-relationships", type=int, default=1_000_000)
    parser.add_argument("--oversize-activities", type=int, default=10_000,
                        help="activities of the oversize file (10,000: about 30 MB, like the issue's file)")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--only-export", action="store_true", help="the MSPDI export only")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1:])))
        return 0

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}",
          flush=True)
    report: dict = {}
    with Database(args.backend, args.url) as url, tempfile.TemporaryDirectory() as tmp:
        print(f"{args.backend}: building a project of {args.activities:,} activities", flush=True)
        ids = build(url, [args.activities])
        project_id = ids["projects"][args.activities]
        print("MSPDI export", flush=True)
        for mode in ("mspdi-whole", "mspdi-streamed"):
            report[mode] = _run_child(mode, url, project_id)
            print(_line(mode, report[mode]), flush=True)
        if args.only_export:
            return _finish(args, report)
        print(f"XER of {args.oversize_relationships:,} relationships", flush=True)
        oversize = Path(tmp) / "oversize.xer"
        oversize.write_bytes(largest_xer(args.oversize_activities, args.oversize_relationships))
        for mode in ("oversize-parse", "oversize-refuse"):
            report[mode] = _run_child(mode, oversize)
            print(_line(mode, report[mode]), flush=True)
        if not args.skip_import:
            print(f"XER import of the largest accepted file ({args.activities:,} activities, "
                  f"{args.relationships:,} relationships)", flush=True)
            largest = Path(tmp) / "largest.xer"
            largest.write_bytes(largest_xer(args.activities, args.relationships))
            report["xer-import"] = _run_child("xer-import", url, ids["admin"], ids["node"], largest)
            print(_line("xer-import", report["xer-import"]), flush=True)
    return _finish(args, report)


def _finish(args, report: dict) -> int:
    if "mspdi-whole" in report:
        whole, streamed = report["mspdi-whole"], report["mspdi-streamed"]
        print(f"MSPDI export growth: {whole['growth_mb']} MB whole, {streamed['growth_mb']} MB streamed "
              f"({whole['growth_mb'] / max(streamed['growth_mb'], 0.1):.1f}x less)")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

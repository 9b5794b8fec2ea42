"""Benchmark MS Project XML (MSPDI) import into SQLite.

Usage (from the repository root)::

    .venv/bin/python bench/bench_mspdi.py                  # 4,000 activities, best of 3
    .venv/bin/python bench/bench_mspdi.py --n 10000 --repeat 1

The file is made by crmpm's own writer (:func:`wbs.interchange.mspdi.writer.write_mspdi`) from the
scheduler benchmark's synthetic network (:func:`bench_scheduler.generate`: about
1.5 N relationships of all four types with lags, three calendars with holidays,
constraints, the first fifth in progress or complete), placed in a two-level WBS
of 50 summary tasks, with names, notes and costs. Each run imports it into a
fresh, migrated SQLite database file through :func:`wbs.interchange.import_mspdi`
— parse, check, write every row, roll costs up, schedule, store the dates — and
commits, as ``crmpm mspdi import`` does. Reported, best of ``--repeat``: the
parse alone, the whole import with commit (wall clock and process CPU time), a
second schedule of the imported project (to show the scheduling share), and
the export back to MSPDI.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_scheduler import generate  # noqa: E402

from sqlalchemy import select  # noqa: E402

from crmpm import create_app, migrate  # noqa: E402
from crmpm.database import db  # noqa: E402
from crmpm.users import services as users  # noqa: E402
from eps import services as eps_services  # noqa: E402
from eps.models import EpsNode, Project  # noqa: E402
from wbs import interchange  # noqa: E402
from wbs.scheduling import service as scheduling_service  # noqa: E402
from wbs.interchange.model import ExchangeActivity, ExchangePlan, ExchangeProject, ExchangeWbs  # noqa: E402
from wbs.interchange.mspdi import read_mspdi, write_mspdi  # noqa: E402


def synthetic_file(n: int) -> bytes:
    activities, links, calendars, options = generate(n)
    # The generator may link a pair twice; a file (and crmpm) holds one link per pair.
    relationships = list({(r.predecessor, r.successor): r for r in reversed(links)}.values())[::-1]
    wbs = [ExchangeWbs(f"w{top}", f"{top}", f"Stage {top}", None, top) for top in range(1, 6)]
    wbs += [ExchangeWbs(f"w{top}.{sub}", f"{top}.{sub}", f"Package {top}.{sub}", f"w{top}", sub)
            for top in range(1, 6) for sub in range(1, 10)]
    leaves = [w.id for w in wbs if "." in w.id]
    items = [ExchangeActivity(
        id=a.id, code=a.code, name=f"Activity {a.code}", wbs_id=leaves[i * len(leaves) // n], type=a.type,
        original_duration_hours=a.original_duration_hours, remaining_duration_hours=a.remaining_duration_hours,
        calendar_id=a.calendar_id, constraint=a.constraint, constraint_date=a.constraint_date,
        actual_start=a.actual_start, actual_finish=a.actual_finish,
        percent_complete=100.0 if a.actual_finish else (50.0 if a.actual_start else 0.0),
        budgeted_cost=Decimal(1000 + i % 997), actual_cost=Decimal(500 if a.actual_start else 0),
        notes="Synthetic" if i % 10 == 0 else "") for i, a in enumerate(activities)]
    plan = ExchangePlan(data_date=options.data_date, planned_start=options.project_start,
                        default_calendar_id=options.default_calendar_id)
    return write_mspdi(ExchangeProject(code=f"SYN{n}", name=f"Synthetic {n}", plan=plan, calendars=calendars,
                                       wbs=wbs, activities=items, relationships=relationships))


def import_once(data: bytes) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url=url)
        app = create_app({"DATABASE_URL": url})
        with app.app_context():
            with db.transaction() as session:
                admin = users.create(session, actor=None, email="bench@example.test", name="Bench", password=None,
                                     is_admin=True)
                eps_services.create_node(session, actor=admin, code="BENCH", name="Bench", parent=None)
            wall, cpu = time.perf_counter(), time.process_time()
            with db.transaction() as session:
                admin = users.get_by_email(session, email="bench@example.test")
                node = session.scalar(select(EpsNode).where(EpsNode.code == "BENCH"))
                project_id = interchange.import_mspdi(session, actor=admin, data=data, eps_node=node).id
            figures = {"import_s": time.perf_counter() - wall, "import_cpu_s": time.process_time() - cpu}
            wall = time.perf_counter()
            with db.transaction() as session:
                admin = users.get_by_email(session, email="bench@example.test")
                scheduling_service.schedule_project(session, actor=admin, project=session.get(Project, project_id))
            figures["reschedule_s"] = time.perf_counter() - wall
            wall = time.perf_counter()
            with db.transaction() as session:
                interchange.export_mspdi(session, project=session.get(Project, project_id))
            figures["export_s"] = time.perf_counter() - wall
    return figures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    data = synthetic_file(args.n)
    parse_s = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        parsed = read_mspdi(data)
        parse_s.append(time.perf_counter() - started)
    runs = [import_once(data) for _ in range(args.repeat)]
    best = {key: round(min(run[key] for run in runs), 3) for key in runs[0]}
    print(json.dumps({
        "activities": len(parsed.activities), "relationships": len(parsed.relationships),
        "wbs_elements": len(parsed.wbs), "file_mb": round(len(data) / 1e6, 2), "parse_s": round(min(parse_s), 3),
        **{f"{key}_best": value for key, value in best.items()},
        "import_s_all": [round(run["import_s"], 3) for run in runs]}))


if __name__ == "__main__":
    main()

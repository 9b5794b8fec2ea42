"""A week's timesheet save: 10 activities × 7 days, against a bare insert of the same lines. Same run, same database.

For each database (a SQLite file in a temporary folder; a throwaway PostgreSQL database next to ``--postgres``,
dropped after), migrated to head: an administrator, two projects of five activities each under one node, an
engineer linked to a resource assigned to the ten activities, and ``--weeks`` earlier weeks of theirs already
saved (70 lines each, so the tables are not empty). Then, alternating, ``--repeat`` times each:

- ``api``: ``PUT /api/v1/timesheets/{resource}/{week}`` with the 70 lines, through the app (token, schema, the
  service, the answer with the week read back), one request = one transaction;
- ``service``: ``wbs.resources.timesheets.save_week`` of the same 70 lines in a transaction of its own (the
  user and resource loaded, the whole week checked, old lines replaced, audited), committed;
- ``ceiling``: the bare work in the same kind of transaction: delete the week's lines and insert the same 70 rows
  with one executemany, committed (no checks, no audit).

Each save changes every line's hours (alternating 2 and 2.25: 20 and 22.5 hours a day), so the lines are really replaced every time.
Printed: median and p95 of each, and the service / ceiling and api / ceiling ratios. Raw figures:
``bench/results/timesheets-*.json`` (git-ignored).

    .venv/bin/python bench/bench_timesheets.py [--repeat 200] [--weeks 200] [--postgres URL] [--only sqlite,postgresql]

Figures: BENCHMARKS.md, "Timesheets: a week's save (issue 15)".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

RESULTS = ROOT / "bench" / "results"
WEEK = date(2026, 11, 30)


def prepare(app, weeks: int) -> dict:
    """The world; returns the ids the measurements need."""
    from crmpm.database import db
    from crmpm.users import services as users
    from eps import services as eps_services
    from wbs import services as wbs_services
    from wbs.resources import timesheets
    from wbs.resources.models import Assignment, Resource, ResourceRate

    with app.app_context():
        with db.transaction() as session:
            admin = users.create(session, actor=None, email="bench-admin@example.test", name="Admin",
                                 password=None, is_admin=True)
            engineer = users.create(session, actor=admin, email="bench-eng@example.test", name="Engineer",
                                    password=None)
            node = eps_services.create_node(session, actor=admin, code="ENT", name="Enterprise", parent=None)
            resource = Resource(code="ENG", name="Engineer", user_id=engineer.id)
            resource.rates.append(ResourceRate(effective_from=date(2026, 1, 1), price_per_unit=Decimal("80.00")))
            session.add(resource)
            session.flush()
            activity_ids = []
            for p in range(2):
                project = eps_services.create_project(session, actor=admin, code=f"P{p}", name=f"Project {p}",
                                                      eps_node=node)
                for a in range(5):
                    activity = wbs_services.create_activity(session, actor=admin, project=project, code=f"A{a}",
                                                            name=f"Activity {a}")
                    session.add(Assignment(project_id=project.id, activity_id=activity.id, resource_id=resource.id,
                                           budgeted_units=400.0, remaining_units=400.0))
                    activity_ids.append(activity.id)
            session.flush()
            for n in range(1, weeks + 1):
                monday = WEEK - timedelta(days=7 * n)
                timesheets.save_week(session, actor=engineer, resource=resource, week=monday,
                                     lines=week_lines(activity_ids, monday, Decimal("2")))
            ids = {"engineer": engineer.id, "resource": resource.id, "activities": activity_ids}
            ids["token"] = users.create_token(session, actor=None, user=engineer, name="bench")[1]
    return ids


def week_lines(activity_ids, monday, hours):
    return [{"activity_id": activity_id, "day": monday + timedelta(days=d), "hours": hours, "note": ""}
            for activity_id in activity_ids for d in range(7)]


def measure(app, ids: dict, repeat: int) -> dict:
    from crmpm.database import db
    from crmpm.users.models import User
    from wbs.resources import timesheets
    from wbs.resources.models import Resource
    from wbs.resources.timesheet_models import Timesheet, TimesheetLine

    client = app.test_client()
    headers = {"Authorization": f"Bearer {ids['token']}"}
    path = f"/api/v1/timesheets/{ids['resource']}/{WEEK.isoformat()}"
    times: dict[str, list[float]] = {"api": [], "service": [], "ceiling": []}
    with app.app_context():
        # The week exists (a first save), so every measured save replaces 70 lines.
        with db.transaction() as session:
            timesheets.save_week(session, actor=session.get(User, ids["engineer"]),
                                 resource=session.get(Resource, ids["resource"]), week=WEEK,
                                 lines=week_lines(ids["activities"], WEEK, Decimal("2")))
        with db.transaction() as session:
            sheet_id = session.scalar(select(Timesheet.id).where(Timesheet.resource_id == ids["resource"],
                                                                 Timesheet.week_start == WEEK))
            project_of = dict(session.execute(text("SELECT id, project_id FROM activities")).all())
        for i in range(repeat):
            hours = Decimal("2.25") if i % 2 else Decimal("2")
            body = {"lines": [{"activity_id": line["activity_id"], "day": line["day"].isoformat(),
                               "hours": str(line["hours"])} for line in week_lines(ids["activities"], WEEK, hours)]}
            started = time.perf_counter()
            response = client.put(path, json=body, headers=headers)
            times["api"].append(time.perf_counter() - started)
            assert response.status_code == 200, response.get_json()

            hours = Decimal("2") if i % 2 else Decimal("2.25")
            lines = week_lines(ids["activities"], WEEK, hours)
            started = time.perf_counter()
            with db.transaction() as session:
                timesheets.save_week(session, actor=session.get(User, ids["engineer"]),
                                     resource=session.get(Resource, ids["resource"]), week=WEEK, lines=lines)
            times["service"].append(time.perf_counter() - started)

            rows = [{"timesheet_id": sheet_id, "project_id": project_of[line["activity_id"]],
                     "activity_id": line["activity_id"], "day": line["day"], "hours": line["hours"], "note": ""}
                    for line in lines]
            started = time.perf_counter()
            with db.transaction() as session:
                session.execute(delete(TimesheetLine).where(TimesheetLine.timesheet_id == sheet_id))
                session.execute(insert(TimesheetLine.__table__), rows)
            times["ceiling"].append(time.perf_counter() - started)
    result = {}
    for name, values in times.items():
        values = sorted(values)
        result[name] = {"median_ms": statistics.median(values) * 1000,
                        "p95_ms": values[int(len(values) * 0.95) - 1] * 1000}
    result["service_over_ceiling"] = result["service"]["median_ms"] / result["ceiling"]["median_ms"]
    result["api_over_ceiling"] = result["api"]["median_ms"] / result["ceiling"]["median_ms"]
    return result


def run(url: str, folder: str, args) -> dict:
    from crmpm import create_app, migrate

    migrate.upgrade(url=url)
    app = create_app({"DATABASE_URL": url, "JOBS_URL": "memory://", "INSTANCE_PATH": folder,
                      "SECRET_KEY": os.urandom(24).hex(), "RATELIMIT_ENABLED": False})
    ids = prepare(app, args.weeks)
    figures = measure(app, ids, args.repeat)
    app.extensions["crmpm.database"].engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=200)
    parser.add_argument("--only", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=os.environ.get("CRMPM_BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    from crmpm.database import make_engine

    figures: dict = {"repeat": args.repeat, "weeks": args.weeks, "lines": 70}
    only = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as folder:
        if "sqlite" in only:
            figures["sqlite"] = run(f"sqlite:///{folder}/bench.db", folder, args)
        if "postgresql" in only:
            admin_engine = make_engine(args.postgres, isolation_level="AUTOCOMMIT")
            name = f"crmpm_bench_{uuid.uuid4().hex[:8]}"
            with admin_engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
                figures["postgresql"] = run(url, folder, args)
            finally:
                with admin_engine.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin_engine.dispose()
    for backend in ("sqlite", "postgresql"):
        if backend not in figures:
            continue
        f = figures[backend]
        print(f"{backend}: a week of 70 lines saved")
        for name in ("api", "service", "ceiling"):
            print(f"  {name:8s} median {f[name]['median_ms']:6.1f} ms   p95 {f[name]['p95_ms']:6.1f} ms")
        print(f"  service / ceiling {f['service_over_ceiling']:.1f}×, api / ceiling {f['api_over_ceiling']:.1f}×")
    try:
        load = os.getloadavg()
        figures["load_average"] = load
        print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    except OSError:
        pass
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"timesheets-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

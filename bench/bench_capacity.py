"""Capacity benchmark: 500 resources × 10,000 projects × 52 weeks, on PostgreSQL and SQLite.

The portfolio: 20 branches under a root, 10,000 projects spread over them, one activity each, 500 resources
(a branch each; 20 resource calendars with a fortnight's vacation each, the rest on the built-in week), and
40,000 assignments through 2027 (four per project, 1 to 6 weeks long, 8 to 240 h, one in five front loaded).
Their booked hours are built by ``wbs.resources.loads.refresh`` (timed: the full rebuild a ``crmpm`` job runs).

Timed, median of ``--repeat`` runs, on a warm session:

* ``capacity_admin_ms``: ``wbs.resources.capacity.capacity`` for an administrator, 2027 by week (52 weeks ×
  500 resources: available hours from each calendar and rate period, booked hours, over-allocation);
* ``capacity_viewer_ms``: the same for a user who reads 5 of the 20 branches (booked vs the anonymous
  "other" total, resources of readable branches or booked on readable projects);
* ``capacity_month_ms``: the administrator's by month;
* ``ceiling_sql_ms``: the ceiling beside them, the bare SQL aggregate alone (``SELECT resource_id, day,
  sum(hours) … GROUP BY``, the statement the service runs for an administrator, on the connection, rows
  fetched, nothing else): what any capacity answer built on the derived table must at least cost;
* ``python_loop_ms``: a fixed loop of 3 million additions: how fast the machine was during this run, so that
  runs on busy or idle machines can be compared.

    PYTHONPATH=. .venv/bin/python bench/bench_capacity.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--repeat 5] [--backend postgresql|sqlite|both]

Throwaway databases (a PostgreSQL database next to the given one, a temporary SQLite file) are made and dropped.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import String, func, insert, select, text, type_coerce
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from crmpm import migrate
from crmpm.database import make_engine, utcnow
from crmpm.users.models import User
from eps.models import EpsNode, Grant, Project, Role, node_segment, project_segment
from wbs.models import Activity, Calendar, CalendarException
from wbs.resources import loads
from wbs.resources.capacity import capacity
from wbs.resources.loads import ResourceLoad
from wbs.resources.models import Assignment, Resource

SEED = 20261204
BRANCHES, PROJECTS, RESOURCES, PER_PROJECT = 20, 10_000, 500, 2
TARGET_MS = 300.0
START, END = date(2027, 1, 4), date(2027, 12, 31)  # 52 weeks, Monday first
WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]


def build(session: Session, rng: random.Random) -> dict:
    """Bulk-insert the portfolio (fixture data: no audit, no listener work)."""
    now = utcnow()
    nodes = [{"id": 1, "code": "ROOT", "name": "Company", "parent_id": None, "path": f"/{node_segment(1)}/",
              "depth": 0, "protected": False, "protect_path": "", "original_budget": Decimal("0.00"),
              "current_budget": Decimal("0.00"), "created_at": now, "updated_at": now}]
    for i in range(2, BRANCHES + 2):
        nodes.append({**nodes[0], "id": i, "code": f"BR{i:02d}", "name": f"Branch {i}", "parent_id": 1,
                      "path": f"/{node_segment(1)}/{node_segment(i)}/", "depth": 1})
    session.execute(insert(EpsNode), nodes)
    branches = nodes[1:]
    projects, activities = [], []
    for pid in range(1, PROJECTS + 1):
        branch = branches[pid % BRANCHES]
        projects.append({"id": pid, "code": f"P{pid:05d}", "name": f"Project {pid}", "eps_node_id": branch["id"],
                         "path": f"{branch['path']}{project_segment(pid)}/", "depth": 2, "protected": False,
                         "protect_path": "", "description": "", "planned_cost": Decimal("0.00"),
                         "actual_cost": Decimal("0.00"), "original_budget": Decimal("0.00"),
                         "current_budget": Decimal("0.00"), "created_at": now, "updated_at": now})
        activities.append({"id": pid, "project_id": pid, "code": "A1", "name": "Work"})
    session.execute(insert(Project), projects)
    session.execute(insert(Activity), activities)
    calendars = []
    for cid in range(1, 21):
        calendars.append({"id": cid, "name": f"Person {cid}", "week": WEEK, "hours_per_day": 8.0, "kind": "resource",
                          "created_at": now})
    session.execute(insert(Calendar), calendars)
    exceptions = []
    for cid in range(1, 21):
        first = START + timedelta(days=rng.randrange(0, 330))
        exceptions.extend({"calendar_id": cid, "day": first + timedelta(days=d), "periods": []} for d in range(14))
    session.execute(insert(CalendarException), exceptions)
    resources = [{"id": rid, "code": f"R{rid:03d}", "name": f"Resource {rid}", "type": "labor", "seq": 0,
                  "calendar_id": rid if rid <= 20 else None, "max_units_per_hour": 1.0,
                  "default_units_per_hour": 1.0, "unit_of_measure": "", "eps_node_id": branches[rid % BRANCHES]["id"],
                  "active": True, "created_at": now} for rid in range(1, RESOURCES + 1)]
    session.execute(insert(Resource), resources)
    assignments = []
    for pid in range(1, PROJECTS + 1):
        for _ in range(PER_PROJECT):
            begin = datetime.combine(START, datetime.min.time()) + timedelta(days=rng.randrange(0, 330), hours=8)
            finish = begin + timedelta(days=rng.randint(5, 42), hours=9)
            units = float(rng.randint(8, 120))
            assignments.append({"project_id": pid, "activity_id": pid, "resource_id": rng.randint(1, RESOURCES),
                                "budgeted_units": units, "actual_units": 0.0, "remaining_units": units,
                                "units_per_hour": 1.0, "budgeted_cost": Decimal("0.00"),
                                "actual_cost": Decimal("0.00"), "remaining_cost": Decimal("0.00"),
                                "rate_source": "resource", "start": begin, "finish": finish,
                                "curve": "front_loaded" if rng.random() < 0.2 else "uniform", "created_at": now})
    for chunk in range(0, len(assignments), 5000):
        session.execute(insert(Assignment), assignments[chunk:chunk + 5000])
    admin = User(email="admin@bench.test", name="Admin", is_admin=True, password_hash="x")
    viewer = User(email="viewer@bench.test", name="Viewer", password_hash="x")
    session.add_all([admin, viewer])
    session.flush()
    for branch in branches[:5]:
        session.execute(insert(Grant).values(user_id=viewer.id, eps_node_id=branch["id"], role=Role.viewer,
                                             created_at=now))
    return {"admin_id": admin.id, "viewer_id": viewer.id}


def _drain(rows) -> None:
    # Rows read one by one and dropped, as the service reads them (a list of all would cost collections).
    for _row in rows:
        pass


def _loop() -> int:
    total = 0
    for i in range(3_000_000):
        total += i
    return total


def run(url: str, repeat: int) -> dict:
    migrate.upgrade(url=url)
    engine = make_engine(url)
    results: dict = {}
    try:
        with Session(engine) as session:
            start = time.perf_counter()
            ids = build(session, random.Random(SEED))
            results["build_s"] = time.perf_counter() - start
            start = time.perf_counter()
            results["load_rows"] = loads.refresh(session)
            results["refresh_all_s"] = time.perf_counter() - start
            session.commit()
        # Statistics, and on PostgreSQL the visibility map too (as autovacuum keeps it), so that index-only
        # scans are open to every query alike.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
        with Session(engine) as session:
            admin, viewer = session.get(User, ids["admin_id"]), session.get(User, ids["viewer_id"])
            check = capacity(session, user=admin, start=START, end=END, period="week")
            results["periods"], results["items"] = len(check.periods), len(check.items)
            results["over_allocated_cells"] = sum(sum(row.over_allocated) for row in check.items)
            # The administrator's aggregate as the service states it, alone: no rights, no resources, no calendars.
            ceiling = (select(ResourceLoad.resource_id, type_coerce(ResourceLoad.day, String),
                              func.sum(ResourceLoad.hours))
                       .where(ResourceLoad.resource_id.is_not(None), ResourceLoad.day >= START,
                              ResourceLoad.day < check.ends[-1])
                       .group_by(ResourceLoad.resource_id, ResourceLoad.day))
            connection = session.connection()
            results["ceiling_rows"] = len(connection.execute(ceiling).fetchall())
            # Interleaved rounds, so that a busy moment of the machine weighs on every figure alike.
            measured = {
                "capacity_admin_ms": lambda: capacity(session, user=admin, start=START, end=END, period="week"),
                "capacity_viewer_ms": lambda: capacity(session, user=viewer, start=START, end=END, period="week"),
                "capacity_month_ms": lambda: capacity(session, user=admin, start=START, end=END, period="month"),
                "ceiling_sql_ms": lambda: _drain(connection.execute(ceiling)),
                "python_loop_ms": _loop,
            }
            samples: dict[str, list[float]] = {key: [] for key in measured}
            for key, fn in measured.items():
                fn()  # warm-up
            for _round in range(repeat):
                for key, fn in measured.items():
                    begin = time.perf_counter()
                    fn()
                    samples[key].append((time.perf_counter() - begin) * 1000)
            results.update({key: statistics.median(values) for key, values in samples.items()})
            results["ratio_admin_to_ceiling"] = results["capacity_admin_ms"] / results["ceiling_sql_ms"]
            results["ratio_viewer_to_ceiling"] = results["capacity_viewer_ms"] / results["ceiling_sql_ms"]
    finally:
        engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="both")
    args = parser.parse_args()
    failed = False
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            failed |= report("sqlite", run(f"sqlite:///{Path(folder) / 'bench.db'}", args.repeat))
    if args.backend in ("postgresql", "both"):
        admin_url = args.url.replace("postgresql://", "postgresql+psycopg://", 1)
        name = f"crmpm_bench_{uuid.uuid4().hex[:10]}"
        admin_engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            failed |= report("postgresql", run(url, args.repeat))
        finally:
            with admin_engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin_engine.dispose()
    return 1 if failed else 0


def report(backend: str, results: dict) -> bool:
    print(f"\n{backend}:")
    for key, value in results.items():
        print(f"  {key:26s} {value:12.2f}" if isinstance(value, float) else f"  {key:26s} {value:12d}")
    slow = [key for key in ("capacity_admin_ms", "capacity_viewer_ms") if results[key] > TARGET_MS]
    if slow:
        print(f"  over the {TARGET_MS:.0f} ms target: {', '.join(slow)}")
    return bool(slow)


if __name__ == "__main__":
    sys.exit(main())

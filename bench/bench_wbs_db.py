"""WBS and scheduling benchmark through the database, timed from the service layer.

On PostgreSQL (a throwaway database next to ``--url``) and on SQLite (a temporary
file), builds projects of 1,000 / 10,000 / 100,000 activities with the synthetic
generator of ``bench/bench_scheduler.py`` (calendars, a three-level WBS, activities
with progress and costs, about 1.5 N relationships, a few links from another
project), bulk-inserted through SQLAlchemy core, then times:

* ``scheduling_service.schedule_project`` (load + CPM + store, flushed; the split
  is measured around ``cpm.schedule_with_summary``): the first schedule (every
  row written, baseline set), a reschedule with nothing changed, and a
  reschedule after moving the data date a week (nearly every row changes);
* ``services.list_activities``: the first page of 50 plus the count, as the API
  pages it;
* ``scheduling_service.earned_value`` and ``services.wbs_tree``;
* ``interchange.export_xer``;
* with ``--export-only``, nothing but the XER export of each project (scheduled
  first, so the file carries dates): ``export_xer_to`` streaming into a file and
  ``export_xer`` returning bytes, each in its own child process (its peak RSS its
  own); ``--before PATH`` also times ``export_xer`` of another checkout (say
  ``git archive`` of the previous commit) on the same database;
* ``interchange.import_xer`` of a 4,000-activity XER file (it schedules after
  importing), split into reading + mapping, inserting, and scheduling.

    .venv/bin/python bench/bench_wbs_db.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--backends postgresql sqlite] [--sizes 1000 10000 100000] [--repeat 3] [--xer 4000]
    .venv/bin/python bench/bench_wbs_db.py --profile-xer 4000   # where an XER import's time goes (PostgreSQL)
    .venv/bin/python bench/bench_wbs_db.py --export-only [--before /tmp/previous-checkout]

Each project is measured in a fresh child process, so its peak RSS
(``VmHWM``, reset after start-up) belongs to that project's operations alone
(plus the 80 MB the process holds before them); the peak is printed after the
schedule runs (which come first) and at the end. Times are wall clock
(the median of ``--repeat`` runs, each in a new session, rolled back); the
load average at start is printed, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime as dt
import json
import os
import pstats
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# --before PATH runs the export children on another checkout's code (same database, same run).
CODE = Path(os.environ.get("CRMPM_BENCH_CODE") or ROOT)
for path in (ROOT, ROOT / "bench", CODE):  # CODE first (bench_scheduler adds ROOT only when missing)
    if str(path) in sys.path:
        sys.path.remove(str(path))
    sys.path.insert(0, str(path))

from sqlalchemy import func, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import bench_scheduler  # noqa: E402
from crmpm import migrate  # noqa: E402
from crmpm.database import make_engine, utcnow  # noqa: E402
from crmpm.users import services as users  # noqa: E402
from crmpm.users.models import User  # noqa: E402
from eps import services as eps_services  # noqa: E402
from eps.models import EpsNode, Project  # noqa: E402
from wbs import interchange, services  # noqa: E402
from wbs.scheduling import service as scheduling_service  # noqa: E402
from wbs.models import Activity, Calendar, CalendarException, ProjectPlan, Relationship, WbsElement  # noqa: E402
from wbs.scheduling import cpm  # noqa: E402
from wbs.interchange.xer import project as xer_project  # noqa: E402
from wbs.interchange.xer.writer import project_to_xer, write_xer  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGETS = {("postgresql", 10_000): 1.0, ("postgresql", 100_000): 10.0}  # schedule_project, seconds
XER_TARGET_S = 3.0
MEMORY_TARGET_MB = 500.0
CHUNK = 10_000
EXTERNAL_LINKS = 10  # links into each bigger project from the smallest one


# Building the database


def _psycopg(url: str) -> str:
    return "postgresql+psycopg://" + url.removeprefix("postgresql://") if url.startswith("postgresql://") else url


def _next_id(session: Session, table) -> int:
    return (session.scalar(select(func.max(table.c.id))) or 0) + 1


def _chunks(rows: list[dict]):
    for start in range(0, len(rows), CHUNK):
        yield rows[start:start + CHUNK]


def _wbs_of(n: int) -> tuple[list[tuple[str, str | None]], list[str]]:
    """A three-level WBS: 8 areas of 8 parts each, and one leaf per 50 activities under them."""
    elements: list[tuple[str, str | None]] = []
    parts = []
    for a in range(8):
        elements.append((f"W{a}", None))
        for b in range(8):
            parts.append(f"W{a}.{b}")
            elements.append((parts[-1], f"W{a}"))
    leaves = []
    for c in range(max(1, -(-n // 50))):
        leaves.append(f"{parts[c % len(parts)]}.{c}")
        elements.append((leaves[-1], parts[c % len(parts)]))
    return elements, leaves


def build_project(session: Session, *, admin: User, node: EpsNode, n: int, feeder: list[int] | None) -> int:
    """One project of ``n`` activities, bulk-inserted (fixture data: no audit, no per-row services)."""
    project = eps_services.create_project(session, actor=admin, code=f"BENCH{n}", name=f"Bench {n:,}",
                                          eps_node=node)
    session.flush()
    acts, rels, cals, _options = bench_scheduler.generate(n)
    rng = random.Random(n)

    calendar_ids = {}
    next_calendar, next_exception = _next_id(session, Calendar.__table__), _next_id(session, CalendarException.__table__)
    exceptions = []
    for key, cal in cals.items():
        calendar_ids[key] = next_calendar
        session.execute(insert(Calendar.__table__), [{
            "id": next_calendar, "project_id": project.id, "name": cal.name, "hours_per_day": cal.hours_per_day,
            "week": [[list(p) for p in day] for day in cal.week], "external_id": key, "created_at": utcnow()}])
        for day, periods in sorted(cal.exceptions.items()):
            exceptions.append({"id": next_exception, "calendar_id": next_calendar, "day": day,
                               "periods": [list(p) for p in periods]})
            next_exception += 1
        next_calendar += 1
    session.execute(insert(CalendarException.__table__), exceptions)
    session.execute(insert(ProjectPlan.__table__), [{
        "project_id": project.id, "time_zone": "Europe/Moscow", "data_date": bench_scheduler.DATA_DATE,
        "planned_start": bench_scheduler.DATA_DATE, "default_calendar_id": calendar_ids["1"],
        "progress_mode": "retained_logic", "lag_calendar": "predecessor", "float_type": "finish",
        "critical_definition": "total_float", "critical_float_hours": 0.0, "open_ended_critical": False,
        "use_expected_finish": True}])

    elements, leaves = _wbs_of(n)
    element_ids = {}
    next_element = _next_id(session, WbsElement.__table__)
    element_rows = []
    for seq, (code, parent) in enumerate(elements):
        element_ids[code] = next_element
        element_rows.append({"id": next_element, "project_id": project.id, "parent_id": element_ids.get(parent),
                             "code": code, "name": f"Element {code}", "seq": seq * 10, "external_id": None})
        next_element += 1
    session.execute(insert(WbsElement.__table__), element_rows)

    first = _next_id(session, Activity.__table__)
    rows = []
    for i, a in enumerate(acts):
        budget = Decimal(rng.randint(1_000, 5_000_000)) / 100
        done = 100.0 if a.actual_finish else (50.0 if a.actual_start else 0.0)
        rows.append({
            "id": first + i, "project_id": project.id, "wbs_element_id": element_ids[leaves[i * len(leaves) // n]],
            "code": a.code, "name": f"Activity {i} of {n}", "type": a.type.value,
            "original_duration_hours": a.original_duration_hours,
            "remaining_duration_hours": a.remaining_duration_hours, "calendar_id": calendar_ids[a.calendar_id],
            "constraint_type": a.constraint.value if a.constraint else None, "constraint_date": a.constraint_date,
            "secondary_constraint_type": None, "secondary_constraint_date": None,
            "actual_start": a.actual_start, "actual_finish": a.actual_finish, "expected_finish": None,
            "percent_complete": done, "budgeted_cost": budget,
            "actual_cost": (budget * Decimal(done) / 100).quantize(Decimal("0.01")),
            "external_id": None, "notes": "", "critical": False, "longest_path": False})
    for chunk in _chunks(rows):
        session.execute(insert(Activity.__table__), chunk)
    del rows

    pairs = {}
    for r in rels:
        pairs.setdefault((first + int(r.predecessor), first + int(r.successor)), r)
    if feeder:
        for k in range(EXTERNAL_LINKS):
            pairs[(feeder[k * len(feeder) // EXTERNAL_LINKS], first + n // 2 + k)] = bench_scheduler.Relationship(
                "", "", bench_scheduler.RelationshipType.FS, 0)
    next_link = _next_id(session, Relationship.__table__)
    links = [{"id": next_link + k, "predecessor_id": p, "successor_id": s, "type": r.type.value,
              "lag_hours": float(r.lag_hours)} for k, ((p, s), r) in enumerate(pairs.items())]
    for chunk in _chunks(links):
        session.execute(insert(Relationship.__table__), chunk)
    return project.id


def reset_sequences(session: Session) -> None:
    """After rows were inserted with explicit ids (PostgreSQL): the id sequences continue after them."""
    for table in ("calendars", "calendar_exceptions", "wbs_elements", "activities", "activity_relationships"):
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))


def build(url: str, sizes: list[int]) -> dict:
    """The admin, an EPS node and one project per size; returns their ids."""
    engine = make_engine(url)
    with Session(engine) as session:
        admin = users.create(session, actor=None, email="bench@bench.test", name="Bench", password=None,
                             is_admin=True)
        node = eps_services.create_node(session, actor=admin, code="BENCH", name="Bench", parent=None)
        projects = {}
        feeder = None
        for n in sorted(sizes):
            started = time.perf_counter()
            projects[n] = build_project(session, admin=admin, node=node, n=n, feeder=feeder)
            if feeder is None:
                feeder = list(session.scalars(select(Activity.id).where(Activity.project_id == projects[n])
                                              .order_by(Activity.id)))
            print(f"  built {n:>7,} activities in {time.perf_counter() - started:5.1f} s", flush=True)
        if engine.dialect.name == "postgresql":
            reset_sequences(session)
        session.commit()
        ids = {"admin": admin.id, "node": node.id, "projects": projects}
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    engine.dispose()
    return ids


# Measuring (in a child process)


class Split:
    """Times of the three parts of ``schedule_project``: load, CPM, store (everything after the CPM)."""

    def __init__(self):
        self.original = cpm.schedule_with_summary
        self.cpm_started = self.cpm_ended = 0.0
        cpm.schedule_with_summary = self._wrapped

    def _wrapped(self, *args, **kwargs):
        self.cpm_started = time.perf_counter()
        try:
            return self.original(*args, **kwargs)
        finally:
            self.cpm_ended = time.perf_counter()

    def run(self, fn) -> dict:
        started = time.perf_counter()
        fn()
        ended = time.perf_counter()
        return {"total": ended - started, "load": self.cpm_started - started,
                "schedule": self.cpm_ended - self.cpm_started, "store": ended - self.cpm_ended}


def _median_split(samples: list[dict]) -> dict:
    best = sorted(samples, key=lambda s: s["total"])[len(samples) // 2]
    return {key: round(value, 3) for key, value in best.items()}


def _reset_peak() -> None:
    """Forget the peak so far (importing briefly takes some 60 MB more than it keeps)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


def _rss_mb() -> float:
    """Peak resident memory of this process so far (VmHWM: unlike ru_maxrss, not inherited over exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return round(statistics.median(samples), 4)


def measure_project(url: str, admin_id: int, project_id: int, repeat: int) -> dict:
    engine = make_engine(url)
    _reset_peak()
    split = Split()
    out: dict = {}

    def schedule(prepare=None, commit=False):
        with Session(engine, expire_on_commit=False) as session:
            admin, project = session.get(User, admin_id), session.get(Project, project_id)
            if prepare:
                prepare(session, project)
            holder = {}
            times = split.run(lambda: holder.update(
                summary=scheduling_service.schedule_project(session, actor=admin, project=project)))
            if commit:
                started = time.perf_counter()
                session.commit()
                times["commit"] = time.perf_counter() - started
            else:
                session.rollback()
            return times, holder["summary"]

    first = [schedule()[0] for _ in range(repeat)]
    out["first"] = _median_split(first)
    committed, summary = schedule(commit=True)
    out["first_committed"] = {key: round(value, 3) for key, value in committed.items()}
    out["activities"], out["relationships"], out["critical"] = (summary.activities, summary.relationships,
                                                                 summary.critical)
    out["unchanged"] = _median_split([schedule()[0] for _ in range(repeat)])

    def move_data_date(session, project):
        plan = session.get(ProjectPlan, project.id)
        session.execute(update(ProjectPlan).where(ProjectPlan.project_id == project.id)
                        .values(data_date=plan.data_date + dt.timedelta(days=7)))
        session.expire(plan)

    out["data_date_moved"] = _median_split([schedule(move_data_date)[0] for _ in range(repeat)])
    out["rss_after_schedule_mb"] = _rss_mb()

    with Session(engine, expire_on_commit=False) as session:
        project = session.get(Project, project_id)

        def first_page():
            query = services.list_activities(session, project=project)
            session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
            session.scalars(query.limit(50)).all()
            session.expunge_all()
            session.add(project)

        out["list_page_s"] = _timed(first_page, repeat * 3)
        out["earned_value_s"] = _timed(lambda: scheduling_service.earned_value(session, project=project), repeat)
        out["wbs_tree_s"] = _timed(lambda: services.wbs_tree(session, project=project), repeat)
        started = time.perf_counter()
        data = interchange.export_xer(session, project=project)
        out["export_s"] = round(time.perf_counter() - started, 3)
        out["export_mb"] = round(len(data) / 1e6, 2)
        session.rollback()
    out["rss_peak_mb"] = _rss_mb()
    engine.dispose()
    return out


def measure_export(url: str, project_id: int, mode: str, repeat: int) -> dict:
    """Time one project's XER export: ``stream`` (export_xer_to into a file) or ``bytes`` (export_xer)."""
    engine = make_engine(url)
    _reset_peak()
    samples, cpu, size = [], [], 0
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "export.xer"
        for _ in range(repeat):
            with Session(engine, expire_on_commit=False) as session:
                project = session.get(Project, project_id)
                started, cpu_started = time.perf_counter(), time.process_time()
                if mode == "stream":
                    with target.open("wb") as out:
                        size = interchange.export_xer_to(session, project=project, out=out)
                else:
                    data = interchange.export_xer(session, project=project)
                    size = len(data)
                    del data
                samples.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
                session.rollback()
    out = {"s": round(statistics.median(samples), 3), "min_s": round(min(samples), 3),
           "cpu_s": round(statistics.median(cpu), 3), "mb": round(size / 1e6, 2),
           "rss_peak_mb": _rss_mb(), "code": str(Path(interchange.__file__).parents[2])}
    engine.dispose()
    return out


def schedule_all(url: str, admin_id: int, projects: dict) -> None:
    """Schedule and commit every project, so that exports carry dates and floats."""
    engine = make_engine(url)
    for project_id in projects.values():
        with Session(engine) as session:
            scheduling_service.schedule_project(session, actor=session.get(User, admin_id),
                                                project=session.get(Project, project_id))
            session.commit()
    engine.dispose()


def run_export_only(args) -> int:
    load = os.getloadavg()[0]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.2f} at start", flush=True)
    report = {}
    for backend in args.backends:
        with Database(backend, args.url) as url:
            print(f"{backend}: building {', '.join(f'{n:,}' for n in args.sizes)} activities", flush=True)
            ids = build(url, args.sizes)
            schedule_all(url, ids["admin"], ids["projects"])
            for n in sorted(args.sizes):
                project_id = str(ids["projects"][n])
                runs = {mode: _child(["--one-export", url, project_id, mode, "--repeat", str(args.repeat)])
                        for mode in ("stream", "bytes")}
                if args.before:
                    runs["before"] = _child(["--one-export", url, project_id, "bytes", "--repeat", str(args.repeat)],
                                            code=args.before)
                report[(backend, n)] = runs
                print(f"{backend} N={n:,} XER export ({runs['bytes']['mb']} MB), load average "
                      f"{os.getloadavg()[0]:.2f}", flush=True)
                for mode, label in (("before", "before: export_xer"), ("stream", "export_xer_to a file"),
                                    ("bytes", "export_xer -> bytes")):
                    if mode in runs:
                        r = runs[mode]
                        print(f"  {label:<22} {r['s']:7.3f} s (best {r['min_s']:.3f}; this process's CPU "
                              f"{r['cpu_s']:.3f} s), peak RSS {r['rss_peak_mb']:.0f} MB", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({f"{k[0]}:{k[1]}": v for k, v in report.items()}, indent=1))
    return 0


def synthetic_xer(n: int) -> bytes:
    """A P6 XER file of ``n`` activities with a WBS, written by our own writer from the generator's project."""
    acts, rels, cals, options = bench_scheduler.generate(n, seed=4)
    elements, leaves = _wbs_of(n)
    acts = [dataclasses.replace(a, wbs_id=leaves[i * len(leaves) // n]) for i, a in enumerate(acts)]
    seen, unique = set(), []
    for r in rels:
        if (r.predecessor, r.successor) not in seen:
            seen.add((r.predecessor, r.successor))
            unique.append(r)
    results = cpm.schedule(acts, unique, cals, options)
    xer = project_to_xer(acts, unique, cals, options, code=f"XER{n}", wbs_parents=dict(elements), results=results)
    return write_xer(xer).encode("cp1252")


def measure_xer(url: str, admin_id: int, node_id: int, n: int, repeat: int) -> dict:
    engine = make_engine(url)
    data = synthetic_xer(n)
    _reset_peak()
    split = {"read": 0.0, "schedule": 0.0}
    read_xer, schedule_project = xer_project.read_xer, scheduling_service.schedule_project

    def timed_read(*args, **kwargs):
        started = time.perf_counter()
        try:
            return read_xer(*args, **kwargs)
        finally:
            split["read"] += time.perf_counter() - started

    def timed_schedule(*args, **kwargs):
        started = time.perf_counter()
        try:
            return schedule_project(*args, **kwargs)
        finally:
            split["schedule"] += time.perf_counter() - started

    samples = []
    for attempt in range(repeat):
        with Session(engine, expire_on_commit=False) as session:
            admin, node = session.get(User, admin_id), session.get(EpsNode, node_id)
            split.update(read=0.0, schedule=0.0)
            xer_project.read_xer, scheduling_service.schedule_project = timed_read, timed_schedule
            try:
                started = time.perf_counter()
                project = interchange.import_xer(session, actor=admin, data=data, eps_node=node,
                                                 code=f"XER{attempt}")
                session.flush()
                total = time.perf_counter() - started
            finally:
                xer_project.read_xer, scheduling_service.schedule_project = read_xer, schedule_project
            count = session.scalar(select(func.count()).select_from(Activity).where(Activity.project_id == project.id))
            assert count == n, count
            started = time.perf_counter()
            interchange.export_xer(session, project=project)
            export = time.perf_counter() - started
            session.rollback()
        samples.append({"total": total, "read": split["read"], "schedule": split["schedule"],
                        "insert": total - split["read"] - split["schedule"], "export": export})
    out = _median_split(samples)
    out["file_mb"] = round(len(data) / 1e6, 2)
    out["rss_peak_mb"] = _rss_mb()
    engine.dispose()
    return out


def profile_xer(url: str, admin_id: int, node_id: int, n: int) -> None:
    engine = make_engine(url)
    data = synthetic_xer(n)
    with Session(engine) as session:
        admin, node = session.get(User, admin_id), session.get(EpsNode, node_id)
        profiler = cProfile.Profile()
        profiler.enable()
        interchange.import_xer(session, actor=admin, data=data, eps_node=node, code="PROFILE")
        session.flush()
        profiler.disable()
        session.rollback()
    engine.dispose()
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)


# Driving


def _child(args: list[str], code: str | None = None) -> dict:
    env = {**os.environ, "CRMPM_BENCH_CODE": code} if code else None
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True,
                         env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


class Database:
    """A throwaway database: a new PostgreSQL database next to ``admin_url``, or a temporary SQLite file."""

    def __init__(self, backend: str, admin_url: str, *, keep: bool = False):
        self.backend, self.admin_url, self.keep = backend, _psycopg(admin_url), keep
        self.tmp = None

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            self.tmp = tempfile.TemporaryDirectory()
            self.url = f"sqlite:///{self.tmp.name}/bench.db"
        else:
            self.name = f"crmpm_bench_{uuid.uuid4().hex[:10]}"
            admin = make_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
            admin.dispose()
            self.url = make_url(self.admin_url).set(database=self.name).render_as_string(hide_password=False)
        migrate.upgrade(url=self.url)
        return self.url

    def __exit__(self, *_exc):
        if self.tmp is not None:
            self.tmp.cleanup()
        elif self.keep:
            print(f"kept {self.url}")
        else:
            admin = make_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            admin.dispose()


def _flag(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return "ok" if value < target else "MISSED"


def run(args) -> int:
    load = os.getloadavg()[0]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.2f} at start", flush=True)
    report = {}
    for backend in args.backends:
        with Database(backend, args.url) as url:
            print(f"{backend}: building {', '.join(f'{n:,}' for n in args.sizes)} activities", flush=True)
            ids = build(url, args.sizes)
            for n in sorted(args.sizes):
                r = _child(["--one", url, str(ids["admin"]), str(ids["projects"][n]), "--repeat", str(args.repeat)])
                report[(backend, n)] = r
                target = TARGETS.get((backend, n))
                print(f"{backend} N={n:,} ({r['activities']:,} activities, {r['relationships']:,} links)", flush=True)
                for kind in ("first", "unchanged", "data_date_moved"):
                    s = r[kind]
                    print(f"  schedule_project {kind:<16} {s['total']:7.3f} s  (load {s['load']:.3f}, "
                          f"schedule {s['schedule']:.3f}, store {s['store']:.3f})  "
                          f"{_flag(s['total'], target)}", flush=True)
                print(f"  commit after first schedule {r['first_committed']['commit']:.3f} s; peak RSS after "
                      f"the schedules {r['rss_after_schedule_mb']:.0f} MB "
                      f"{_flag(r['rss_after_schedule_mb'], MEMORY_TARGET_MB if n >= 100_000 else None)}")
                print(f"  list first page + count {r['list_page_s']:.4f} s, earned value {r['earned_value_s']:.3f} s, "
                      f"WBS tree {r['wbs_tree_s']:.3f} s, export XER {r['export_s']:.3f} s ({r['export_mb']} MB), "
                      f"peak RSS {r['rss_peak_mb']:.0f} MB", flush=True)
            if args.xer:
                r = _child(["--one-xer", url, str(ids["admin"]), str(ids["node"]), str(args.xer),
                            "--repeat", str(args.repeat)])
                report[(backend, "xer")] = r
                print(f"{backend} XER import of {args.xer:,} activities ({r['file_mb']} MB): {r['total']:.3f} s "
                      f"(read + map {r['read']:.3f}, insert {r['insert']:.3f}, schedule {r['schedule']:.3f}) "
                      f"{_flag(r['total'], XER_TARGET_S if backend == 'postgresql' else None)}; "
                      f"export {r['export']:.3f} s; peak RSS {r['rss_peak_mb']:.0f} MB", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({f"{k[0]}:{k[1]}": v for k, v in report.items()}, indent=1))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL server to make the throwaway database on")
    parser.add_argument("--backends", nargs="+", default=["postgresql", "sqlite"], choices=["postgresql", "sqlite"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--xer", type=int, default=4_000, help="activities in the XER import (0 to skip)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--profile-xer", type=int, help="profile one XER import of this many activities")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--export-only", action="store_true", help="time only the XER export of each size")
    parser.add_argument("--before", help="with --export-only: also time export_xer of the checkout at this path")
    parser.add_argument("--one-xer", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--one-export", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_export:
        url, project_id, mode = args.one_export
        print(json.dumps(measure_export(url, int(project_id), mode, args.repeat)))
        return 0
    if args.one:
        url, admin_id, project_id = args.one
        print(json.dumps(measure_project(url, int(admin_id), int(project_id), args.repeat)))
        return 0
    if args.one_xer:
        url, admin_id, node_id, n = args.one_xer
        print(json.dumps(measure_xer(url, int(admin_id), int(node_id), int(n), args.repeat)))
        return 0
    if args.profile_xer:
        with Database("postgresql", args.url) as url:
            ids = build(url, [])
            profile_xer(url, ids["admin"], ids["node"], args.profile_xer)
        return 0
    if args.export_only:
        return run_export_only(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())

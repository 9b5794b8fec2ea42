"""Resource levelling of 10,000 activities with 200 resources, beside the plain CPM schedule of the same network.

The network is ``bench_scheduler.generate`` (N activities about 150 deep, 1.5 N links of all types and lags,
three calendars, the first fifth progressed); each unfinished task needs one resource (70 %) or two, at 0.5
or 1 unit per hour, from R resources whose limits are 1, 2 or 3 units per hour (resource i's is 1 + i % 3).

- ``cpm``: ``wbs.scheduling.cpm.schedule`` of the network (the peer: what scheduling the same plan costs);
- ``level``: ``wbs.resources.levelling.level`` on the CPM dates (the engine alone), options: priorities early
  start then total float, not within float, threshold 100 %;
- ``job`` (``--job``): the same plan stored in a throwaway SQLite database (migrated), scheduled by
  ``wbs.scheduling.service.schedule_project`` (the peer, timed), then levelled by the ``wbs.level`` job run
  in-process by ``crmpm.jobs.runner.run_job`` (timed from the job's start to its end: loading the plan,
  levelling, storing 10,000 levelled dates and the run).

After levelling, the over-allocations left are counted, and those not explained by the load of in-progress
activities alone (which the leveller books at their dates and never moves): that second count must be 0.

    PYTHONPATH=. .venv/bin/python bench/bench_levelling.py [--activities 10000] [--resources 200] [--repeat 3]
        [--within-float] [--job]

Figures and notes: BENCHMARKS.md, "Resource levelling (issue 15)".
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bench_scheduler import generate  # noqa: E402
from wbs.resources import levelling  # noqa: E402
from wbs.scheduling import schedule  # noqa: E402
from wbs.scheduling.model import ActivityType  # noqa: E402


def network(n):
    """``bench_scheduler.generate(n)`` with one link per (predecessor, successor, type), as the database keeps."""
    acts, rels, calendars, options = generate(n)
    seen, kept = set(), []
    for link in rels:
        key = (link.predecessor, link.successor, link.type)
        if key not in seen:
            seen.add(key)
            kept.append(link)
    return acts, kept, calendars, options


def demands_for(activities, n_resources, seed=5):
    """(activity index, resource index, units) for every unfinished task with work."""
    rng = random.Random(seed)
    out = []
    for i, a in enumerate(activities):
        if a.actual_finish is not None or not a.remaining_duration_hours or a.type != ActivityType.TASK:
            continue
        for r in rng.sample(range(n_resources), 1 if rng.random() < 0.7 else 2):
            out.append((i, r, rng.choice((0.5, 1.0))))
    return out


def limit_of(r):
    return float(1 + r % 3)


def _engine_input(acts, rels, results, demands, n_resources):
    activities = []
    for i, a in enumerate(acts):
        r = results[a.id]
        activities.append(levelling.LevelActivity(
            id=i, code=a.code, early_start=r.early_start, early_finish=r.early_finish,
            duration_hours=a.remaining_duration_hours or 0.0, calendar_id=a.calendar_id, late_start=r.late_start,
            late_finish=r.late_finish, total_float_hours=r.total_float_hours, free_float_hours=r.free_float_hours,
            fixed=a.actual_start is not None or a.actual_finish is not None))
    links = [levelling.LevelLink(int(x.predecessor), int(x.successor), x.type.value, x.lag_hours) for x in rels]
    resources = [levelling.LevelResource(r, f"R{r:03d}", limit_of(r)) for r in range(n_resources)]
    return activities, links, resources, [levelling.Demand(i, r, u) for i, r, u in demands]


def _left_by_levelled(activities, demands, result):
    """Over-allocations left where the in-progress (fixed) activities' load alone is within the limit."""
    fixed = {a.id for a in activities if a.fixed}
    by_resource = {}
    for d in demands:
        by_resource.setdefault(d.resource, []).append(d)
    count = 0
    for over in result.overallocations:
        load = 0.0
        for d in by_resource.get(over.resource_id, ()):
            start, finish = result.dates[d.activity]
            if d.activity in fixed and start is not None and start < over.finish and finish > over.start:
                load += d.units
        if load <= over.limit + 1e-9:
            count += 1
    return count


def measure_engine(n, n_resources, repeat, within_float=False):
    acts, rels, calendars, options = network(n)
    demands = demands_for(acts, n_resources)
    cpm_times, level_times = [], []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        results = schedule(acts, rels, calendars, options)
        cpm_times.append(time.perf_counter() - started)
        activities, links, resources, engine_demands = _engine_input(acts, rels, results, demands, n_resources)
        started = time.perf_counter()
        result = levelling.level(activities, links, calendars, resources, engine_demands, levelling.LevelOptions(within_float=within_float))
        level_times.append(time.perf_counter() - started)
    return {"activities": n, "links": len(rels), "left_by_levelled": _left_by_levelled(activities, engine_demands,
                                                                                        result), "resources": n_resources, "assignments": len(demands),
            "cpm_s": min(cpm_times), "level_s": min(level_times), "ratio": min(level_times) / min(cpm_times),
            "moved": len(result.moved), "unresolved": len(result.unresolved),
            "overallocations_left": len(result.overallocations),
            "cpm_finish": max(r.early_finish for r in results.values()).isoformat(),
            "levelled_finish": result.finish.isoformat()}


def measure_job(n, n_resources):
    """The same plan in a migrated SQLite file: scheduled by the service, levelled by the job (both timed)."""
    from sqlalchemy.orm import Session

    from crmpm import create_app, jobs, migrate
    from crmpm.jobs.runner import run_job
    from eps import services as eps_services
    from crmpm.users import services as users
    from wbs import services
    from wbs.models import Activity, Relationship
    from wbs.resources import levelling_service
    from wbs.resources.models import Assignment, Resource
    from wbs.scheduling import service as scheduling_service

    acts, rels, calendars, options = network(n)
    demands = demands_for(acts, n_resources)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        migrate.upgrade(url=url)
        app = create_app({"DATABASE_URL": url, "JOBS_URL": "memory://", "INSTANCE_PATH": folder})
        engine = app.extensions["crmpm.database"].engine
        with app.app_context(), Session(engine, expire_on_commit=False) as session:
            admin = users.create(session, actor=None, email="bench@crmpm.local", name="Bench", password=None,
                                 is_admin=True)
            node = eps_services.create_node(session, actor=admin, code="BENCH", name="Bench", parent=None)
            project = eps_services.create_project(session, actor=admin, code="LEVEL", name="Levelling", eps_node=node)
            ids = {}
            for key, calendar in calendars.items():
                stored = services.create_calendar(
                    session, actor=admin, name=calendar.name, project=project,
                    week=[[list(p) for p in day] for day in calendar.week],
                    exceptions={d: [list(p) for p in periods] for d, periods in calendar.exceptions.items()})
                ids[key] = stored.id
            services.update_plan(session, actor=admin, project=project, data_date=options.data_date,
                                 planned_start=options.data_date, default_calendar_id=ids["1"])
            rows = [Activity(project_id=project.id, code=a.code, name=a.code, type=a.type.value,
                             original_duration_hours=a.original_duration_hours,
                             remaining_duration_hours=a.remaining_duration_hours, calendar_id=ids[a.calendar_id],
                             constraint_type=a.constraint.value if a.constraint else None,
                             constraint_date=a.constraint_date, actual_start=a.actual_start,
                             actual_finish=a.actual_finish, notes="") for a in acts]
            session.add_all(rows)
            session.flush()
            session.add_all([Relationship(predecessor_id=rows[int(x.predecessor)].id,
                                          successor_id=rows[int(x.successor)].id, type=x.type.value,
                                          lag_hours=x.lag_hours) for x in rels])
            resources = [Resource(code=f"R{r:03d}", name=f"Resource {r}", max_units_per_hour=limit_of(r))
                         for r in range(n_resources)]
            session.add_all(resources)
            session.flush()
            session.add_all([Assignment(project_id=project.id, activity_id=rows[i].id, resource_id=resources[r].id,
                                        units_per_hour=u) for i, r, u in demands])
            session.commit()
            started = time.perf_counter()
            scheduling_service.schedule_project(session, actor=admin, project=project)
            session.commit()
            schedule_s = time.perf_counter() - started
            job = levelling_service.start_levelling(session, actor=admin, project=project)
            session.commit()
            job_id = job.id
            started = time.perf_counter()
            status = run_job(app, job_id)
            job_s = time.perf_counter() - started
            session.expire_all()
            result = jobs.snapshot(session, session.get(type(job), job_id))["result"]
        engine.dispose()
    return {"schedule_service_s": schedule_s, "level_job_s": job_s, "ratio": job_s / schedule_s, "status": status,
            "job_result": result}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--resources", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--within-float", action="store_true", help="level within total float (the engine only)")
    parser.add_argument("--job", action="store_true", help="also through the wbs.level job on a SQLite database")
    args = parser.parse_args(argv)
    figures = {"engine": measure_engine(args.activities, args.resources, args.repeat,
                                           args.within_float)}
    e = figures["engine"]
    print(f"engine: {e['activities']} activities, {e['links']} links, {e['resources']} resources, "
          f"{e['assignments']} assignments")
    print(f"  cpm schedule {e['cpm_s']:.3f} s | level {e['level_s']:.3f} s | level/cpm {e['ratio']:.2f}")
    print(f"  moved {e['moved']}, unresolved {e['unresolved']}, over-allocations left {e['overallocations_left']} "
          f"(not from in-progress load alone: {e['left_by_levelled']}); "
          f"finish {e['cpm_finish']} (CPM) → {e['levelled_finish']} (levelled)")
    if args.job:
        figures["job"] = measure_job(args.activities, args.resources)
        j = figures["job"]
        print(f"job: schedule_project {j['schedule_service_s']:.3f} s | wbs.level job {j['level_job_s']:.3f} s "
              f"({j['status']}) | job/schedule {j['ratio']:.2f}")
        print(f"  {json.dumps(j['job_result'])}")
    return figures


if __name__ == "__main__":
    main()

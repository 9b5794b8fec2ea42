"""Levelling stored projects: scope and rights, the options, loading the leveller's input, storing its output.

The leveller (:mod:`wbs.resources.levelling`) is pure; this module reads its input from the database (the
CPM dates of every activity of the projects in scope, their links, the resources' assignments and limits,
and the load of the same resources in projects outside the scope), runs it, writes the levelled dates into
``Activity.levelled_start``/``levelled_finish`` (the CPM dates stay) and records a :class:`LevellingRun`.

Rights: the asker needs edit rights on every project levelled. A project asked for by id that the asker
cannot read is NotFound by its id only; one they may read but not edit is Forbidden. Levelling an EPS node
takes the projects under it the asker may read (all must be editable); projects they cannot read are not
levelled, and their assignments of the shared resources count only as load, never named in the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crmpm import audit, jobs
from crmpm.errors import Invalid, Phrase
from crmpm.jobs import Job
from crmpm.users.models import User
from eps import services as eps_services
from eps.models import EpsNode, Project
from eps.permissions import Permission, authorize
from wbs import services
from wbs.models import Activity, Relationship
from wbs.resources import levelling
from wbs.resources.costs import max_units_on
from wbs.resources.levelling_models import LevellingRun, LevellingRunProject
from wbs.resources.models import Assignment, Resource, ResourceRate
from wbs.scheduling import service as scheduling_service

__all__ = ["KIND", "DEFAULT_OPTIONS", "PRIORITY_FIELDS", "check_options", "scope_projects", "start_levelling",
           "level_projects", "last_run", "report_for"]

KIND = "wbs.level"
LOCAL = "%Y-%m-%dT%H:%M"
PRIORITY_FIELDS = levelling.PRIORITY_FIELDS
DEFAULT_OPTIONS: dict[str, Any] = {"priorities": [["early_start", "asc"], ["total_float", "asc"]],
                                   "within_float": False, "minimum_float_hours": 0.0, "threshold_percent": 100.0,
                                   "preserve_scheduled_dates": True}
MAX_PROJECTS = 2000  # projects in one run
MAX_REPORT_ROWS = 2000  # entries of each list kept in a run's report (the counts are complete)
FIXED_TYPES = ("level_of_effort", "wbs_summary")
STEPS = {"load": Phrase("loading the plans"), "level": Phrase("levelling"), "store": Phrase("storing the dates")}
Progress = Callable[[float, str | None], None]


def check_options(values: dict | None) -> dict:
    """The options with defaults filled in and checked; Invalid naming the field otherwise."""
    options = {**DEFAULT_OPTIONS, **{k: v for k, v in (values or {}).items() if v is not None}}
    unknown = sorted(set(options) - set(DEFAULT_OPTIONS))
    if unknown:
        raise Invalid("unknown levelling option {name}", name=unknown[0], errors={unknown[0]: ["unknown option"]})
    priorities = options["priorities"]
    if not isinstance(priorities, (list, tuple)) or len(priorities) > len(PRIORITY_FIELDS):
        raise Invalid("priorities: a list of at most {n} (field, order) pairs", n=len(PRIORITY_FIELDS),
                      errors={"priorities": ["a list of (field, order) pairs"]})
    checked = []
    for pair in priorities:
        if (not isinstance(pair, (list, tuple)) or len(pair) != 2 or pair[0] not in PRIORITY_FIELDS
                or pair[1] not in ("asc", "desc")):
            raise Invalid("priorities: {value} is not a (field, asc|desc) pair of a known field", value=str(pair)[:80],
                          errors={"priorities": [f"fields: {', '.join(PRIORITY_FIELDS)}; orders: asc, desc"]})
        checked.append([pair[0], pair[1]])
    for name, low, high in (("minimum_float_hours", 0.0, 100000.0), ("threshold_percent", 1.0, 1000.0)):
        value = options[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise Invalid("{field} must be a number from {low} to {high}", field=name, low=low, high=high,
                          errors={name: [f"from {low} to {high}"]})
        options[name] = float(value)
    for name in ("within_float", "preserve_scheduled_dates"):
        if not isinstance(options[name], bool):
            raise Invalid("{field} must be true or false", field=name, errors={name: ["true or false"]})
    options["priorities"] = checked
    return options


def _engine_options(options: dict) -> levelling.LevelOptions:
    return levelling.LevelOptions(
        priorities=tuple((f, o) for f, o in options["priorities"]), within_float=options["within_float"],
        minimum_float_hours=options["minimum_float_hours"], threshold_percent=options["threshold_percent"],
        preserve_scheduled_dates=options["preserve_scheduled_dates"])


def scope_projects(session: Session, *, actor: User, project_ids: Sequence[int] = (),
                   eps_node_id: int | None = None) -> list[Project]:
    """The projects to level, each checked for edit rights (load → authorize): by ids, or under an EPS node."""
    projects: dict[int, Project] = {}
    for project_id in project_ids:
        project = eps_services.get_project_or_raise(session, user=actor, project_id=int(project_id),
                                                    field="project_ids")
        authorize(session, user=actor, obj=project, permission=Permission.edit)
        projects[project.id] = project
    if eps_node_id is not None:
        node = eps_services.get_node_or_raise(session, user=actor, node_id=int(eps_node_id), field="eps_node_id")
        for project in session.scalars(eps_services.list_projects(session, user=actor, eps_node=node)
                                       .limit(MAX_PROJECTS + 1)):
            authorize(session, user=actor, obj=project, permission=Permission.edit)
            projects[project.id] = project
    if len(projects) > MAX_PROJECTS:
        raise Invalid("at most {n} projects are levelled at once", n=MAX_PROJECTS,
                      errors={"project_ids": ["too many projects"]})
    return sorted(projects.values(), key=lambda p: p.id)


def start_levelling(session: Session, *, actor: User, project: Project | None = None,
                    eps_node: EpsNode | None = None, with_project_ids: Sequence[int] = (),
                    options: dict | None = None) -> Job:
    """Ask a worker to level ``project`` (with ``with_project_ids``) or every project under ``eps_node``.

    Rights and options are checked now, and again by the job for its asker.
    """
    ids = ([project.id] if project is not None else []) + [int(i) for i in with_project_ids]
    checked = check_options(options)
    scope_projects(session, actor=actor, project_ids=ids, eps_node_id=eps_node.id if eps_node else None)
    params = {"project_ids": ids, "eps_node_id": eps_node.id if eps_node else None, "options": checked,
              "project_id": project.id if project is not None else None}
    return jobs.start(session, kind=KIND, params=params, actor=actor)


def _silent(_fraction: float, _message: str | None) -> None:
    pass


def _local(value: datetime | None) -> str | None:
    return value.strftime(LOCAL) if value is not None else None


def level_projects(session: Session, *, actor: User, projects: Sequence[Project], options: dict | None = None,
                   project: Project | None = None, eps_node: EpsNode | None = None, job_id: int | None = None,
                   progress: Progress | None = None) -> LevellingRun:
    """Level ``projects`` together and store the levelled dates and the run (edit rights on each)."""
    report_progress = progress or _silent
    checked = check_options(options)
    for each in projects:
        authorize(session, user=actor, obj=each, permission=Permission.edit)
    report_progress(0.0, str(STEPS["load"]))
    data = load_input(session, projects=projects)
    started = time.perf_counter()
    result = levelling.level(data["activities"], data["links"], data["calendars"], data["resources"],
                             data["demands"], _engine_options(checked), background=data["background"],
                             progress=lambda done: report_progress(0.1 + 0.7 * done, str(STEPS["level"])))
    elapsed = round((time.perf_counter() - started) * 1000)
    report_progress(0.8, str(STEPS["store"]))
    rows = [{"id": activity_id, "levelled_start": start, "levelled_finish": finish}
            for activity_id, (start, finish) in result.dates.items()]
    for chunk in range(0, len(rows), 1000):
        session.execute(update(Activity), rows[chunk:chunk + 1000])
    project_of = data["project_of"]
    run = LevellingRun(
        created_by_id=actor.id, scope="eps_node" if eps_node is not None else "project",
        project_id=project.id if project is not None else None,
        eps_node_id=eps_node.id if eps_node is not None else None, job_id=job_id, options=checked,
        report=_report(result, project_of), activities=len(result.dates), moved=len(result.moved),
        unresolved=len(result.unresolved), overallocations=len(result.overallocations), milliseconds=elapsed,
        projects=[LevellingRunProject(project_id=p.id) for p in projects])
    session.add(run)
    session.flush()
    audit.record(session, actor=actor, action="level", entity=run,
                 after={"projects": [p.id for p in projects], "options": checked, "moved": run.moved,
                        "unresolved": run.unresolved})
    report_progress(1.0, None)
    return run


def _report(result: levelling.LevellingResult, project_of: dict[int, int]) -> dict:
    """The run's report as JSON: every entry with its activity's project (for filtering by the reader's rights)."""
    moved = [{"activity_id": m.activity, "project_id": project_of.get(m.activity), "code": m.code,
              "early_start": _local(m.early_start), "start": _local(m.start), "finish": _local(m.finish),
              "delay_hours": round(m.delay_hours, 2), "reason": m.reason, "resource_id": m.resource_id,
              "resource_code": m.resource_code, "conflict_start": _local(m.conflict_start),
              "conflict_finish": _local(m.conflict_finish)}
             for m in sorted(result.moved, key=lambda m: (-m.delay_hours, m.code))[:MAX_REPORT_ROWS]]
    unresolved = [{"activity_id": u.activity, "project_id": project_of.get(u.activity), "code": u.code,
                   "resource_id": u.resource_id, "resource_code": u.resource_code, "start": _local(u.start),
                   "finish": _local(u.finish), "reason": u.reason, "needed_start": _local(u.needed_start)}
                  for u in result.unresolved[:MAX_REPORT_ROWS]]
    over = [{"resource_id": o.resource_id, "resource_code": o.resource_code, "start": _local(o.start),
             "finish": _local(o.finish), "units": round(o.units, 3), "limit": round(o.limit, 3)}
            for o in result.overallocations[:MAX_REPORT_ROWS]]
    return {"moved": moved, "unresolved": unresolved, "overallocations": over, "finish": _local(result.finish)}


def load_input(session: Session, *, projects: Sequence[Project]) -> dict:
    """The leveller's input for ``projects``: activities, links, calendars, resources, demands, outside load."""
    ids = [p.id for p in projects]
    calendars: dict = {}
    default_of: dict[int, str] = {}
    for project in projects:
        plan = services.get_plan(session, project=project)
        calendars.update(scheduling_service.project_calendars(session, project=project))
        default_of[project.id] = str(plan.default_calendar_id) if plan.default_calendar_id else "default"
    columns = (Activity.id, Activity.project_id, Activity.code, Activity.type, Activity.original_duration_hours,
               Activity.remaining_duration_hours, Activity.calendar_id, Activity.early_start, Activity.early_finish,
               Activity.late_start, Activity.late_finish, Activity.total_float_hours, Activity.free_float_hours,
               Activity.actual_start, Activity.actual_finish)
    activities = []
    project_of: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        for (id_, project_id, code, type_, original, remaining, calendar_id, es, ef, ls, lf, tf, ff, actual_start,
             actual_finish) in session.execute(select(*columns).where(Activity.project_id.in_(ids[start:start + 500]))
                                               .order_by(Activity.id)):
            key = str(calendar_id) if calendar_id else default_of[project_id]
            if key not in calendars:
                key = "default"
            duration = remaining if remaining is not None else original
            project_of[id_] = project_id
            activities.append(levelling.LevelActivity(
                id=id_, code=code, early_start=es, early_finish=ef, duration_hours=duration or 0.0, calendar_id=key,
                late_start=ls, late_finish=lf, total_float_hours=tf, free_float_hours=ff, project_id=project_id,
                fixed=actual_start is not None or actual_finish is not None or type_ in FIXED_TYPES))
    inside = set(project_of)
    links = []
    demands = []
    resource_ids: set[int] = set()
    wanted = sorted(inside)
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start:start + 1000]
        links += [levelling.LevelLink(p, s, t, lag) for p, s, t, lag in session.execute(
            select(Relationship.predecessor_id, Relationship.successor_id, Relationship.type, Relationship.lag_hours)
            .where(Relationship.successor_id.in_(chunk))) if p in inside]
        for activity_id, resource_id, units in session.execute(
                select(Assignment.activity_id, Assignment.resource_id, Assignment.units_per_hour)
                .where(Assignment.activity_id.in_(chunk), Assignment.resource_id.is_not(None))):
            demands.append(levelling.Demand(activity_id, resource_id, units or 0.0))
            resource_ids.add(resource_id)
    resources = []
    background = []
    wanted_resources = sorted(resource_ids)
    rates: dict[int, list[ResourceRate]] = {}
    for start in range(0, len(wanted_resources), 1000):
        chunk = wanted_resources[start:start + 1000]
        for rate in session.scalars(select(ResourceRate).where(ResourceRate.resource_id.in_(chunk))):
            rates.setdefault(rate.resource_id, []).append(rate)
        for resource_id, code, max_units in session.execute(
                select(Resource.id, Resource.code, Resource.max_units_per_hour).where(Resource.id.in_(chunk))):
            periods = tuple((datetime(r.effective_from.year, r.effective_from.month, r.effective_from.day),
                             max_units_on(max_units, rates[resource_id], r.effective_from))
                            for r in sorted(rates.get(resource_id, []), key=lambda r: r.effective_from))
            resources.append(levelling.LevelResource(resource_id, code, max_units_on(max_units, [], None), periods))
        # The same resources' work in projects outside the scope: a fixed load at its levelled (else early) dates.
        for resource_id, units, start_at, finish_at, early_start, early_finish in session.execute(
                select(Assignment.resource_id, Assignment.units_per_hour, Activity.levelled_start,
                       Activity.levelled_finish, Activity.early_start, Activity.early_finish)
                .join(Activity, Activity.id == Assignment.activity_id)
                .where(Assignment.resource_id.in_(chunk), Activity.project_id.not_in(ids))):
            begin, end = (start_at, finish_at) if start_at and finish_at else (early_start, early_finish)
            if begin is not None and end is not None and end > begin and units:
                background.append(levelling.Booking(resource_id, begin, end, units))
    return {"activities": activities, "links": links, "calendars": calendars, "resources": resources,
            "demands": demands, "background": background, "project_of": project_of}


def last_run(session: Session, *, user: User, project: Project) -> LevellingRun | None:
    """The last levelling run that included ``project`` (read rights on it), or None."""
    authorize(session, user=user, obj=project, permission=Permission.read)
    return session.scalar(select(LevellingRun).join(LevellingRunProject)
                          .where(LevellingRunProject.project_id == project.id)
                          .order_by(LevellingRun.id.desc()).limit(1))


def report_for(session: Session, *, user: User, run: LevellingRun) -> dict:
    """``run`` as the reader may see it: entries of projects they cannot read are left out (and not named)."""
    project_ids = [link.project_id for link in run.projects]
    readable = set(session.scalars(eps_services.list_projects(session, user=user).with_only_columns(Project.id)
                                   .where(Project.id.in_(project_ids))))
    report = run.report or {}

    def keep(rows):
        return [row for row in rows if row.get("project_id") in readable]

    return {"id": run.id, "created_at": run.created_at, "created_by_id": run.created_by_id, "scope": run.scope,
            "project_ids": sorted(readable), "options": run.options, "activities": run.activities,
            "moved_count": run.moved, "unresolved_count": run.unresolved,
            "overallocation_count": run.overallocations, "milliseconds": run.milliseconds, "job_id": run.job_id,
            "finish": report.get("finish"), "moved": keep(report.get("moved", [])),
            "unresolved": keep(report.get("unresolved", [])), "overallocations": report.get("overallocations", [])}

"""The neutral project in and out of the database, whatever file it came from or goes to.

A format's reader checks its file completely into the neutral
:class:`~wbs.interchange.model.ExchangeProject` (table or element and line named on any
fault) before :func:`import_project` writes the first row: the project with its
calendars, plan, WBS, activities, costs and relationships, the pool's resources and roles it names (matched
by code, created when missing: :mod:`wbs.interchange.resources`) and its assignments, scheduled — all in the
caller's one transaction, so a failure leaves nothing behind, not even a resource. The file's named baselines become
the project's (:func:`wbs.baselines.add_baseline`) before its first schedule, so its primary is the
file's rather than that schedule. :func:`exchange_of` reads a stored project back as the neutral
project for a writer; export writes what import reads, so import → export → import gives the same
project, schedule and baselines, in either format.

Nothing here knows a file format: XER lives in :mod:`wbs.interchange.xer`, MSPDI in
:mod:`wbs.interchange.mspdi`.
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from crmpm import audit, events
from crmpm.users.models import User
from eps import services as eps_services
from eps.models import EpsNode, Project
from eps.permissions import Permission, authorize
from wbs import baselines as baseline_service, services
from wbs.scheduling import service as scheduling_service
from wbs.interchange.codes import codes_of, store_codes
from wbs.interchange.resources import resources_of, store_assignments, store_pool
from wbs.interchange.model import (ExchangeActivity, ExchangeBaseline, ExchangeBaselineActivity, ExchangePlan,
                                   ExchangeProject, ExchangeWbs)
from wbs.models import Activity, Calendar, CalendarException, ProjectPlan, Relationship, WbsElement
from wbs.resources.models import Assignment
from wbs.scheduling import model as sched
from wbs.scheduling.model import ActivityResult

__all__ = ["import_project", "replace_plan", "exchange_of", "exchange_activity", "exchange_plan",
           "exchange_baselines"]


def import_project(session: Session, *, actor: User, eps_node: EpsNode, source: ExchangeProject, file_format: str,
                   code: str | None, name: str | None, warnings: list[str] | None) -> Project:
    """Store a read file's checked project as a new project under ``eps_node`` (the caller checked the rights); its warnings go on the audit record and, when a list is given, to ``warnings``."""
    project = _store_project(session, actor=actor, eps_node=eps_node, source=source, code=code, name=name)
    # What the file held that crmpm cannot represent stays on record with the project.
    audit.record(session, actor=actor, action="import", entity=project,
                 after={"format": file_format, "activities": len(source.activities),
                        "relationships": len(source.relationships), "left_out": source.warnings})
    events.record(session, "import.finished", project,
                  {"kind": file_format, "created": 1, "updated": 0, "failed": 0, "job_id": None,
                   "project_id": project.id, "activities": len(source.activities),
                   "relationships": len(source.relationships), "warnings": len(source.warnings)}, actor=actor)
    if warnings is not None:
        warnings.extend(source.warnings)
    return project


def replace_plan(session: Session, *, actor: User, project: Project, source: ExchangeProject) -> Project:
    """Replace ``project``'s plan (its calendars, WBS, activities, relationships, scheduling settings) with
    the file's, then schedule it (edit rights). The project itself, its grants, budget and deal stay.

    Links between this project and others go with the old activities. The file is read and checked
    before this is called, and a refusal (a loop, a bad calendar) rolls back with the caller's
    transaction, so the old plan is never half replaced.
    """
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    before = {"activities": session.scalar(select(func.count()).select_from(Activity)
                                           .where(Activity.project_id == project.id))}
    activity_ids = select(Activity.id).where(Activity.project_id == project.id)
    session.execute(delete(Assignment).where(Assignment.project_id == project.id))
    session.execute(delete(Relationship).where(Relationship.predecessor_id.in_(activity_ids)))
    session.execute(delete(Relationship).where(Relationship.successor_id.in_(activity_ids)))
    session.execute(delete(Activity).where(Activity.project_id == project.id))
    plan = services.get_plan(session, project=project)
    plan.default_calendar_id = None
    plan.scheduled_at = plan.early_finish = plan.late_finish = None
    session.flush()
    # Children before parents: a WBS element refers to its parent.
    elements = services.list_elements(session, project=project)
    for element in reversed(elements):
        session.delete(element)
        session.flush()
    for calendar in session.scalars(select(Calendar).where(Calendar.project_id == project.id)):
        session.delete(calendar)
    session.flush()
    session.expire_all()
    _store_plan(session, actor=actor, project=project, source=source)
    audit.record(session, actor=actor, action="replace_plan", entity=project, before=before,
                 after={"activities": len(source.activities), "relationships": len(source.relationships),
                        "left_out": source.warnings})
    return project


def _store_project(session: Session, *, actor: User, eps_node: EpsNode, source: ExchangeProject,
                   code: str | None, name: str | None) -> Project:
    """Write a checked neutral project as a new crmpm project and schedule it, in the caller's transaction."""
    project = eps_services.create_project(session, actor=actor, code=(code or source.code)[:40],
                                          name=(name or source.name)[:200], eps_node=eps_node)
    _store_plan(session, actor=actor, project=project, source=source, with_baselines=True)
    return project


def _store_plan(session: Session, *, actor: User, project: Project, source: ExchangeProject,
                with_baselines: bool = False) -> None:
    """Write a checked neutral project's plan into an empty ``project`` and schedule it; with its baselines
    for a new project (a replaced plan keeps the project's own baselines' names, not the file's)."""
    calendar_ids = {}
    for key, calendar in source.calendars.items():
        stored = Calendar(project_id=project.id, name=calendar.name or f"Calendar {key}",
                          hours_per_day=calendar.hours_per_day, external_id=str(key)[:60],
                          week=[[list(p) for p in day] for day in calendar.week])
        stored.exceptions = [CalendarException(day=day, periods=[list(p) for p in periods])
                             for day, periods in sorted(calendar.exceptions.items())]
        session.add(stored)
        session.flush()
        calendar_ids[key] = stored.id

    plan = source.plan
    changes = {}
    if plan.time_zone:
        changes["time_zone"] = plan.time_zone
    services.update_plan(
        session, actor=actor, project=project, data_date=plan.data_date, planned_start=plan.planned_start,
        must_finish_by=plan.must_finish_by, default_calendar_id=calendar_ids.get(plan.default_calendar_id),
        progress_mode=plan.progress_mode.value, lag_calendar=plan.lag_calendar.value,
        float_type=plan.float_type.value, critical_definition=plan.critical_definition.value,
        critical_float_hours=plan.critical_float_hours, open_ended_critical=plan.open_ended_critical,
        use_expected_finish=plan.use_expected_finish, **changes)

    element_ids: dict[str, int] = {}
    used_codes: set[str] = set()
    for item in source.wbs:
        element_code = item.code[:60]
        if element_code in used_codes:
            # Codes of other tools are unique among siblings at most; crmpm codes are unique per project.
            element_code = f"{element_code}.{item.id}"[:60]
        used_codes.add(element_code)
        element = WbsElement(project_id=project.id, parent_id=element_ids.get(item.parent_id), code=element_code,
                             name=(item.name or element_code)[:300], seq=item.seq, external_id=str(item.id)[:60])
        session.add(element)
        session.flush()
        element_ids[item.id] = element.id

    # The enterprise pool's resources and roles the file names: matched by code, created when missing.
    pool = store_pool(session, actor=actor, source=source.resources)
    # Thousands of rows: one multi-row INSERT per table rather than the unit of work's object by object.
    rows = [dict(
        project_id=project.id, code=item.code[:60], name=item.name[:300], type=item.type.value,
        wbs_element_id=element_ids.get(item.wbs_id), original_duration_hours=item.original_duration_hours,
        remaining_duration_hours=item.remaining_duration_hours, calendar_id=calendar_ids.get(item.calendar_id),
        primary_resource_id=pool.resources.get(item.primary_resource_id),
        constraint_type=item.constraint.value if item.constraint else None, constraint_date=item.constraint_date,
        secondary_constraint_type=item.secondary_constraint.value if item.secondary_constraint else None,
        secondary_constraint_date=item.secondary_constraint_date, actual_start=item.actual_start,
        actual_finish=item.actual_finish, expected_finish=item.expected_finish,
        percent_complete=item.percent_complete, budgeted_cost=item.budgeted_cost, actual_cost=item.actual_cost,
        external_id=str(item.id)[:60], notes=item.notes, critical=False, longest_path=False)
        for item in source.activities]
    activity_ids = {}
    if rows:
        stored = session.scalars(insert(Activity).returning(Activity.id, sort_by_parameter_order=True), rows).all()
        activity_ids = {item.id: stored_id for item, stored_id in zip(source.activities, stored)}
    links = [dict(predecessor_id=activity_ids[link.predecessor], successor_id=activity_ids[link.successor],
                  type=link.type.value if hasattr(link.type, "value") else str(link.type), lag_hours=link.lag_hours)
             for link in source.relationships]
    if links:
        session.execute(insert(Relationship), links)
    # Assignments with the file's costs; their activities' costs become their sums (wbs.resources.costs).
    store_assignments(session, project=project, assignments=source.resources.assignments,
                      activity_ids=activity_ids, keys=pool)
    _store_codes(session, actor=actor, project=project, source=source, activity_ids=activity_ids,
                 element_ids=element_ids)
    services.roll_up_costs(session, project=project)
    if with_baselines:
        _store_baselines(session, actor=actor, project=project, source=source, activity_ids=activity_ids)
    # Scheduling checks the network (loops, calendars) before anything is stored; a refusal
    # here rolls the whole import back with the caller's transaction.
    # It also moves the assignments to their activities' dates and rebuilds their booked hours (the
    # assignments came in by a statement, which the booked hours' flush listener does not see).
    scheduling_service.schedule_project(session, actor=actor, project=project)


def _store_codes(session: Session, *, actor: User, project: Project, source: ExchangeProject,
                 activity_ids: dict, element_ids: dict) -> None:
    """The file's activity codes and UDFs (:mod:`wbs.interchange.codes`)."""
    store_codes(session, actor=actor, project=project, codes=source.codes, activity_ids=activity_ids,
                element_ids=element_ids, warnings=source.warnings)
def _store_baselines(session: Session, *, actor: User, project: Project, source: ExchangeProject,
                     activity_ids: dict[str, int]) -> None:
    """The file's baselines as the project's named baselines, before its first schedule (which then takes
    none of its own: the file's primary is the one the project compares against)."""
    taken: set[str] = set()
    for baseline in source.baselines:
        values = {activity_ids[key]: (kept.start, kept.finish, kept.duration_hours, kept.budgeted_cost)
                  for key, kept in baseline.activities.items() if key in activity_ids}
        # P6 lets two baselines share a name; a project's baselines are told apart by theirs.
        name, number = baseline.name.strip(), 1
        while name in taken:
            number += 1
            name = f"{baseline.name.strip()} ({number})"
        taken.add(name)
        baseline_service.add_baseline(session, actor=actor, project=project, name=name, role=baseline.role,
                                      values=values)


def exchange_baselines(session: Session, *, project: Project) -> list[ExchangeBaseline]:
    """The project's baselines as the neutral ones, primary first, keyed by activity id as :func:`exchange_of`
    keys its activities."""
    return [ExchangeBaseline(name=baseline.name, role=baseline.role,
                             activities={str(activity_id): ExchangeBaselineActivity(*kept)
                                         for activity_id, kept in values.items()})
            for baseline, values in baseline_service.baselines_with_values(session, project=project)]


def exchange_of(session: Session, *, project: Project) -> ExchangeProject:
    """A stored project as the neutral project, with its last schedule (calendars: the used ones and the default)."""
    loaded = scheduling_service.load_input(session, project=project)
    plan = loaded.plan
    default_calendar = loaded.options.default_calendar_id
    used = {str(a.calendar_id) for a in loaded.activities if a.calendar_id} | {default_calendar}
    calendars = {key: calendar for key, calendar in loaded.calendars.items() if key in used}
    elements = session.scalars(select(WbsElement).where(WbsElement.project_id == project.id)
                               .order_by(WbsElement.seq, WbsElement.code)).all()
    activities = [exchange_activity(a) for a in loaded.activities]
    resources, _primaries = resources_of(session, project=project)
    return ExchangeProject(
        code=project.code, name=project.name,
        plan=exchange_plan(plan, default_calendar_id=default_calendar),
        calendars=calendars,
        wbs=[ExchangeWbs(id=str(e.id), code=e.code, name=e.name, parent_id=str(e.parent_id) if e.parent_id else None,
                         seq=e.seq) for e in services.tree_order(elements)],
        activities=activities, relationships=list(loaded.relationships), codes=codes_of(session, project=project),
        baselines=exchange_baselines(session, project=project), resources=resources)


def exchange_activity(activity: Activity) -> ExchangeActivity:
    """A stored activity as the neutral activity, with its last schedule."""
    a = activity
    result = (ActivityResult(**{field: getattr(a, field) for field in scheduling_service.RESULT_FIELDS})
              if a.early_start is not None else None)
    return ExchangeActivity(
        id=str(a.id), code=a.code, name=a.name, wbs_id=str(a.wbs_element_id) if a.wbs_element_id else None,
        type=sched.ActivityType(a.type), original_duration_hours=a.original_duration_hours,
        remaining_duration_hours=a.remaining_duration_hours,
        calendar_id=str(a.calendar_id) if a.calendar_id else None,
        constraint=sched.ConstraintType(a.constraint_type) if a.constraint_type else None,
        constraint_date=a.constraint_date,
        secondary_constraint=(sched.ConstraintType(a.secondary_constraint_type)
                              if a.secondary_constraint_type else None),
        secondary_constraint_date=a.secondary_constraint_date, actual_start=a.actual_start,
        actual_finish=a.actual_finish, expected_finish=a.expected_finish, percent_complete=a.percent_complete,
        budgeted_cost=a.budgeted_cost, actual_cost=a.actual_cost, notes=a.notes or "", result=result,
        primary_resource_id=str(a.primary_resource_id) if a.primary_resource_id else None)


def exchange_plan(plan: ProjectPlan, *, default_calendar_id: str) -> ExchangePlan:
    """A stored plan as the neutral plan."""
    return ExchangePlan(
        data_date=plan.data_date, planned_start=plan.planned_start, must_finish_by=plan.must_finish_by,
        default_calendar_id=default_calendar_id, progress_mode=sched.ProgressMode(plan.progress_mode),
        lag_calendar=sched.LagCalendar(plan.lag_calendar), float_type=sched.FloatType(plan.float_type),
        critical_definition=sched.CriticalDefinition(plan.critical_definition),
        critical_float_hours=plan.critical_float_hours, open_ended_critical=plan.open_ended_critical,
        use_expected_finish=plan.use_expected_finish, time_zone=plan.time_zone,
        early_finish=plan.early_finish, late_finish=plan.late_finish)

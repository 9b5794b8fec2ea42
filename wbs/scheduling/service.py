"""Running the CPM scheduler on a stored project, and earned value at the data date.

The scheduler (``wbs.scheduling``) is a pure function over plain dataclasses; this
module loads its input from the database, runs it, and stores its output.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from crmpm import audit, events
from crmpm.database import begin_writing, utcnow
from crmpm.errors import Conflict, Invalid, Phrase
from crmpm.users.models import User
from eps.models import Project
from eps.permissions import Permission, authorize
from wbs import baselines, services
from wbs.models import Activity, Calendar, ProjectPlan, Relationship, WbsElement
from wbs.resources import loads
from wbs.resources.models import Assignment, Resource
from wbs.scheduling import cpm
from wbs.scheduling import model as sched
from wbs.scheduling.calendars import WorkTime
from wbs.scheduling.errors import DependencyLoop, ScheduleInputError

DEFAULT_CALENDAR = "default"
RESULT_FIELDS = ("early_start", "early_finish", "late_start", "late_finish", "remaining_early_start",
                 "remaining_early_finish", "remaining_late_start", "remaining_late_finish", "total_float_hours",
                 "free_float_hours", "critical", "longest_path")
# What scheduling reads of each activity: the scheduler's input, the stored results (so rows whose
# results did not change are not rewritten) and the baseline (set on the first schedule).
SCHEDULE_COLUMNS = ("id", "code", "wbs_element_id", "type", "original_duration_hours", "remaining_duration_hours",
                    "calendar_id", "constraint_type", "constraint_date", "secondary_constraint_type",
                    "secondary_constraint_date", "actual_start", "actual_finish", "percent_complete",
                    "expected_finish", "baseline_start", *RESULT_FIELDS)
_INPUT_WIDTH = SCHEDULE_COLUMNS.index("baseline_start")
_ACTUAL_START, _ACTUAL_FINISH = SCHEDULE_COLUMNS.index("actual_start"), SCHEDULE_COLUMNS.index("actual_finish")
_BASELINE_START = SCHEDULE_COLUMNS.index("baseline_start")
_STORED_RESULTS = slice(SCHEDULE_COLUMNS.index(RESULT_FIELDS[0]), None)
# Slow Enum(value) calls (Python-level hashing) replaced by dict look-ups; unknown values still raise.
_ACTIVITY_TYPES = {t.value: t for t in sched.ActivityType}
_CONSTRAINTS = {t.value: t for t in sched.ConstraintType}
_RELATIONSHIP_TYPES = {t.value: t for t in sched.RelationshipType}


def calendar_to_model(calendar: Calendar, exceptions: bool = True) -> sched.Calendar:
    """The scheduler's view of a stored calendar (``exceptions=False``: without its exception days)."""
    return sched.Calendar(
        id=str(calendar.id), name=calendar.name,
        week=tuple(tuple((start, end) for start, end in day) for day in calendar.week),
        exceptions={e.day: tuple((start, end) for start, end in e.periods) for e in calendar.exceptions}
        if exceptions else {},
        hours_per_day=calendar.hours_per_day)


def _enum(members: dict, cls, value):
    member = members.get(value)
    return member if member is not None else cls(value)


def activity_to_model(activity: Activity, external_early_start: datetime | None = None) -> sched.Activity:
    """The scheduler's view of a stored activity."""
    return sched.Activity(
        id=str(activity.id), code=activity.code,
        wbs_id=str(activity.wbs_element_id) if activity.wbs_element_id else None,
        type=_enum(_ACTIVITY_TYPES, sched.ActivityType, activity.type),
        original_duration_hours=activity.original_duration_hours,
        remaining_duration_hours=activity.remaining_duration_hours,
        calendar_id=str(activity.calendar_id) if activity.calendar_id else None,
        constraint=(_enum(_CONSTRAINTS, sched.ConstraintType, activity.constraint_type)
                    if activity.constraint_type else None),
        constraint_date=activity.constraint_date,
        secondary_constraint=(_enum(_CONSTRAINTS, sched.ConstraintType, activity.secondary_constraint_type)
                              if activity.secondary_constraint_type else None),
        secondary_constraint_date=activity.secondary_constraint_date,
        actual_start=activity.actual_start, actual_finish=activity.actual_finish,
        percent_complete=activity.percent_complete, expected_finish=activity.expected_finish,
        external_early_start=external_early_start)


def _row_to_model(row: tuple, external_early_start: datetime | None) -> sched.Activity:
    """:func:`activity_to_model` of a row of ``SCHEDULE_COLUMNS``, unpacked by position (reading
    a row's fields by name costs more than building the model)."""
    (id_, code, wbs_element_id, type_, original_duration, remaining_duration, calendar_id, constraint_type,
     constraint_date, secondary_constraint_type, secondary_constraint_date, actual_start, actual_finish,
     percent_complete, expected_finish) = row[:_INPUT_WIDTH]
    return sched.Activity(
        id=str(id_), code=code, wbs_id=str(wbs_element_id) if wbs_element_id else None,
        type=_enum(_ACTIVITY_TYPES, sched.ActivityType, type_),
        original_duration_hours=original_duration, remaining_duration_hours=remaining_duration,
        calendar_id=str(calendar_id) if calendar_id else None,
        constraint=_enum(_CONSTRAINTS, sched.ConstraintType, constraint_type) if constraint_type else None,
        constraint_date=constraint_date,
        secondary_constraint=(_enum(_CONSTRAINTS, sched.ConstraintType, secondary_constraint_type)
                              if secondary_constraint_type else None),
        secondary_constraint_date=secondary_constraint_date, actual_start=actual_start, actual_finish=actual_finish,
        percent_complete=percent_complete, expected_finish=expected_finish,
        external_early_start=external_early_start)


def options_of(plan: ProjectPlan, data_date: datetime) -> sched.ScheduleOptions:
    """The scheduler's options from a project plan."""
    return sched.ScheduleOptions(
        data_date=data_date, project_start=plan.planned_start, must_finish_by=plan.must_finish_by,
        default_calendar_id=str(plan.default_calendar_id) if plan.default_calendar_id else DEFAULT_CALENDAR,
        progress=sched.ProgressMode(plan.progress_mode), lag_calendar=sched.LagCalendar(plan.lag_calendar),
        float_type=sched.FloatType(plan.float_type), critical=sched.CriticalDefinition(plan.critical_definition),
        critical_float_hours=plan.critical_float_hours, open_ended_critical=plan.open_ended_critical,
        use_expected_finish=plan.use_expected_finish)


@dataclass(frozen=True)
class ScheduleInput:
    """Everything the scheduler needs for one project, loaded in a few queries.

    ``activities`` are entities from :func:`load_input`; scheduling itself reads tuples of
    ``SCHEDULE_COLUMNS`` instead, which are several times cheaper to load.
    """

    plan: ProjectPlan
    activities: Sequence[Activity]
    models: list[sched.Activity]
    relationships: list[sched.Relationship]
    calendars: dict[str, sched.Calendar]
    options: sched.ScheduleOptions
    wbs_parents: dict[str, str | None]


def load_input(session: Session, *, project: Project) -> ScheduleInput:
    """Load a project's network as scheduler input (cross-project predecessors become external dates)."""
    activities = session.scalars(select(Activity).where(Activity.project_id == project.id).order_by(Activity.id)).all()
    return _input(session, project, activities, [a.id for a in activities], activity_to_model)


def _load_rows(session: Session, *, project: Project) -> ScheduleInput:
    """Like :func:`load_input`, with tuples of ``SCHEDULE_COLUMNS`` instead of entities."""
    columns = [getattr(Activity, name) for name in SCHEDULE_COLUMNS]
    rows = session.execute(select(*columns).where(Activity.project_id == project.id).order_by(Activity.id)).all()
    rows = [tuple(row) for row in rows]
    return _input(session, project, rows, [row[0] for row in rows], _row_to_model)


def _input(session: Session, project: Project, activities: Sequence, ids: list[int], to_model) -> ScheduleInput:
    plan = services.get_plan(session, project=project)
    inside = set(ids)
    # Only links into the project matter (those out of it belong to the other project's schedule).
    successor = aliased(Activity)
    links = session.execute(
        select(Relationship.predecessor_id, Relationship.successor_id, Relationship.type, Relationship.lag_hours)
        .join(successor, successor.id == Relationship.successor_id)
        .where(successor.project_id == project.id)
        .order_by(Relationship.id)).all()
    relationships = []
    outside = []
    for predecessor_id, successor_id, type_, lag_hours in links:
        if predecessor_id in inside:
            relationships.append(sched.Relationship(
                predecessor=str(predecessor_id), successor=str(successor_id),
                type=_enum(_RELATIONSHIP_TYPES, sched.RelationshipType, type_), lag_hours=lag_hours))
        else:
            outside.append((predecessor_id, successor_id, type_))
    external = external_early_starts(session, outside)
    calendars = project_calendars(session, project=project)
    data_date = plan.data_date or plan.planned_start or services.project_local_now(plan)
    elements = session.execute(select(WbsElement.id, WbsElement.parent_id)
                               .where(WbsElement.project_id == project.id)).all()
    models = [to_model(a, external.get(i)) for a, i in zip(activities, ids)]
    resource_calendars = primary_resource_calendars(session, project=project)
    if resource_calendars:
        models = [_on_resource_calendar(model, resource_calendars, calendars) for model in models]
    return ScheduleInput(
        plan=plan, activities=activities, models=models,
        relationships=relationships, calendars=calendars, options=options_of(plan, data_date),
        wbs_parents={str(i): (str(p) if p else None) for i, p in elements})


def primary_resource_calendars(session: Session, *, project: Project) -> dict[str, str]:
    """The calendar (key) of the primary resource of each resource-dependent activity of ``project`` whose
    primary resource has one, by activity key: what :func:`wbs.scheduling.model.working_calendar_id` needs."""
    rows = session.execute(
        select(Activity.id, Resource.calendar_id).join(Resource, Resource.id == Activity.primary_resource_id)
        .where(Activity.project_id == project.id, Activity.type == sched.ActivityType.RESOURCE_DEPENDENT.value,
               Resource.calendar_id.is_not(None))).all()
    return {str(activity_id): str(calendar_id) for activity_id, calendar_id in rows}


def _on_resource_calendar(model: sched.Activity, resource_calendars: dict[str, str],
                          calendars: dict[str, sched.Calendar]) -> sched.Activity:
    """``model`` on the calendar P6's rule gives it (a calendar the project cannot use is not taken)."""
    resource_calendar = resource_calendars.get(model.id)
    if resource_calendar not in calendars:
        return model
    calendar_id = sched.working_calendar_id(model.type, model.calendar_id, resource_calendar)
    return model if calendar_id == model.calendar_id else replace(model, calendar_id=calendar_id)


def project_calendars(session: Session, *, project: Project, exceptions: bool = True) -> dict[str, sched.Calendar]:
    """The calendars a project's activities may use (the built-in default, the global ones, its own, and the
    resources' own for resource-dependent activities), by key;
    ``exceptions=False``: without their exception days (enough for their hours a day, as a page shows durations)."""
    calendars = {DEFAULT_CALENDAR: sched.Calendar(id=DEFAULT_CALENDAR, name="Standard")}
    query = services.list_calendars(session, user=None, project=project, resources=True)
    if exceptions:
        query = query.options(selectinload(Calendar.exceptions))
    for calendar in session.scalars(query):
        calendars[str(calendar.id)] = calendar_to_model(calendar, exceptions)
    return calendars


def activity_calendar(session: Session, *, project: Project, activity: Activity) -> sched.Calendar:
    """The calendar the scheduler times ``activity`` by: its own, else the project's default, else the built-in one."""
    plan = services.get_plan(session, project=project)
    resource_calendar = None
    if activity.primary_resource_id is not None:
        resource = session.get(Resource, activity.primary_resource_id)
        resource_calendar = resource.calendar_id if resource is not None else None
    return calendar_of(activity, plan, project_calendars(session, project=project), resource_calendar)


def calendar_of(activity: Activity, plan: ProjectPlan, calendars: dict[str, sched.Calendar],
                resource_calendar_id: int | None = None) -> sched.Calendar:
    """``activity``'s calendar among ``calendars`` (from :func:`project_calendars`): a resource-dependent
    activity's primary resource's (``resource_calendar_id``) when it has one, else its own, else the project's."""
    own = activity.calendar_id
    if resource_calendar_id is not None and str(resource_calendar_id) in calendars:
        own = sched.working_calendar_id(activity.type, own, resource_calendar_id)
    key = own or plan.default_calendar_id
    return calendars.get(str(key) if key else DEFAULT_CALENDAR) or calendars[DEFAULT_CALENDAR]


def work_hours_until(session: Session, *, project: Project, activity: Activity, finish: datetime) -> float:
    """Hours of work in ``activity``'s calendar from its start (actual, else early) to ``finish``: the original
    duration that makes it finish there. Conflict when it has no start yet; Invalid when ``finish`` is not after it."""
    start = activity.actual_start or activity.early_start
    if start is None:
        raise Conflict("activity {code} has no start yet: schedule the project first", code=activity.code,
                       errors={"finish": ["no start"]})
    minutes = WorkTime(activity_calendar(session, project=project, activity=activity), around=start).work_between(
        start, finish)
    if minutes <= 0:
        raise Invalid("activity {code} cannot finish before it starts ({start})", code=activity.code, start=start,
                      errors={"finish": ["before the start"]})
    return minutes / 60


def hours_of_days(session: Session, *, project: Project, activity: Activity, days: float) -> float:
    """``days`` of work in hours of ``activity``'s calendar (its hours per day)."""
    return days * activity_calendar(session, project=project, activity=activity).hours_per_day


def external_early_starts(session: Session, outside: Sequence[tuple[int, int, str]]) -> dict[int, datetime]:
    """The external early start of each successor of links ``(predecessor_id, successor_id, type)`` from
    other projects: a predecessor elsewhere holds its successor here back from its stored schedule, as
    P6's external early start does."""
    external: dict[int, datetime] = {}
    if not outside:
        return external
    dates = {}
    wanted = sorted({predecessor_id for predecessor_id, _s, _t in outside})
    for start in range(0, len(wanted), 1000):
        dates.update((i, (es, ef)) for i, es, ef in session.execute(
            select(Activity.id, Activity.early_start, Activity.early_finish)
            .where(Activity.id.in_(wanted[start:start + 1000]))))
    for predecessor_id, successor_id, type_ in outside:
        early_start, early_finish = dates[predecessor_id]
        when = early_finish if type_ in ("FS", "FF") else early_start
        if when is not None:
            external[successor_id] = max(external.get(successor_id, when), when)
    return external


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: loading and storing a big project makes many objects and
    no cycles, and each generation-2 pass would rescan all of them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class ScheduleSummary:
    """What one schedule run did."""

    project_id: int
    data_date: datetime
    start: datetime | None
    finish: datetime | None
    late_finish: datetime | None
    activities: int
    relationships: int
    critical: int
    milliseconds: float
    changed: int = 0  # activities whose computed dates, floats or criticality changed


Progress = Callable[[float, str | None], None]
# What a schedule run as a job says it is doing (translated where it is shown).
STEPS = {"load": Phrase("loading the plan"), "network": Phrase("checking the network"),
         "forward pass": Phrase("forward pass"), "backward pass": Phrase("backward pass"),
         "floats": Phrase("floats and the critical path"), "results": Phrase("floats and the critical path"),
         "passes": Phrase("scheduling"), "store": Phrase("storing the dates")}


def _silent(_fraction: float, _message: str | None) -> None:
    pass


def schedule_project(session: Session, *, actor: User, project: Project, job_id: int | None = None,
                     progress: Progress | None = None) -> ScheduleSummary:
    """Schedule the project by CPM and store every activity's dates (edit rights).

    A loop or bad data is refused before anything is stored, naming the activities. Every schedule
    is audited and recorded as a ``project.scheduled`` event (with ``job_id`` when a job ran it);
    ``progress(fraction, message)``, if given, hears how far it got.
    """
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    report = progress or _silent
    with no_cyclic_gc():
        report(0.0, str(STEPS["load"]))
        loaded = _load_rows(session, project=project)
        started = time.perf_counter()
        try:
            results, summary = cpm.schedule_with_summary(
                loaded.models, loaded.relationships, loaded.calendars, loaded.options, loaded.wbs_parents,
                progress=lambda done, name: report(0.15 + 0.6 * done, str(STEPS.get(name, STEPS["passes"]))))
        except DependencyLoop as exc:
            raise Conflict("dependency loop: {loop}", loop=" → ".join(exc.cycle + exc.cycle[:1]),
                           errors={"activities": exc.cycle}) from None
        except ScheduleInputError as exc:
            raise Invalid(str(exc), errors={"activities": [exc.activity] if exc.activity else []}) from None
        elapsed = (time.perf_counter() - started) * 1000
        report(0.75, str(STEPS["store"]))
        first_schedule = bool(loaded.activities) and all(row[_BASELINE_START] is None for row in loaded.activities)
        critical, changed = _store_results(session, loaded.activities, results)
        assignments_follow_activities(session, project_id=project.id)
        if first_schedule:
            # The first schedule's dates are the project's first baseline, its primary.
            baselines.first_schedule_baseline(session, actor=actor, project=project)
        plan = loaded.plan
        plan.scheduled_at = utcnow()
        plan.data_date = loaded.options.data_date
        plan.early_finish = summary.early_finish if loaded.activities else None
        plan.late_finish = summary.late_finish if loaded.activities else None
        session.flush()
        outcome = ScheduleSummary(
            project_id=project.id, data_date=loaded.options.data_date,
            start=summary.start if loaded.activities else None, finish=plan.early_finish,
            late_finish=plan.late_finish, activities=len(loaded.activities),
            relationships=len(loaded.relationships), critical=critical, milliseconds=round(elapsed, 2),
            changed=changed)
        audit.record(session, actor=actor, action="schedule", entity=project,
                     after={"data_date": outcome.data_date, "finish": outcome.finish,
                            "activities": outcome.activities, "critical": outcome.critical})
        events.record(session, "project.scheduled", project,
                      {"activities": outcome.activities, "finish": outcome.finish, "data_date": outcome.data_date,
                       "critical": outcome.critical, "job_id": job_id}, actor=actor)
    report(1.0, None)
    return outcome


_results_of = attrgetter(*RESULT_FIELDS)
_BASELINE_FIELDS = ("baseline_start", "baseline_finish")
_PG_TYPES = {"id": "integer", "total_float_hours": "double precision", "free_float_hours": "double precision",
             "critical": "boolean", "longest_path": "boolean"}  # the others are dates


def _store_results(session: Session, rows: list[tuple],
                   results: dict[str, sched.ActivityResult]) -> tuple[int, int]:
    """Write the results of activities whose results changed; on the project's first schedule, also
    the baseline. Returns how many activities are critical and how many rows changed."""
    first_schedule = all(row[_BASELINE_START] is None for row in rows)
    keys = ("id", *RESULT_FIELDS, *(_BASELINE_FIELDS if first_schedule else ()))
    changed = []
    critical = 0
    for row in rows:
        result = results[str(row[0])]
        values = _results_of(result)
        critical += result.critical
        if first_schedule:
            changed.append((row[0], *values, row[_ACTUAL_START] or result.early_start,
                            row[_ACTUAL_FINISH] or result.early_finish))
        elif values != row[_STORED_RESULTS]:
            changed.append((row[0], *values))
    if not changed:
        return critical, 0
    if session.get_bind().dialect.name == "postgresql":
        _update_by_copy(session, keys, changed)
    else:
        _update_by_executemany(session, keys, changed)
    # Entities of these activities already in the session (the caller's, an import's) get the new
    # values, as the unit of work would have given them.
    by_id = {values[0]: values for values in changed}
    for entity in list(session.identity_map.values()):
        if isinstance(entity, Activity) and entity.id in by_id:
            for key, value in zip(keys[1:], by_id[entity.id][1:]):
                set_committed_value(entity, key, value)
    return critical, len(changed)


def assignments_follow_activities(session: Session, *, project_id: int) -> None:
    """Each assignment of the project takes its activity's stored dates, so capacity reads the schedule: the
    remaining early start and finish of work still to do; an assignment finished keeps its actual dates, and
    one of a finished activity the activity's actual dates (its own actual start when it has one). The booked
    hours (``wbs.resources.loads``) follow."""
    table, activity = Assignment.__table__, Activity.__table__

    def of_activity(column):
        return select(column).where(activity.c.id == table.c.activity_id).scalar_subquery()

    start = case(
        (table.c.actual_finish.is_not(None), func.coalesce(table.c.actual_start, table.c.start)),
        (of_activity(activity.c.actual_finish).is_not(None),
         func.coalesce(table.c.actual_start, of_activity(activity.c.actual_start))),
        else_=func.coalesce(of_activity(activity.c.remaining_early_start), table.c.start))
    finish = case(
        (table.c.actual_finish.is_not(None), table.c.actual_finish),
        (of_activity(activity.c.actual_finish).is_not(None), of_activity(activity.c.actual_finish)),
        else_=func.coalesce(of_activity(activity.c.remaining_early_finish), table.c.finish))
    result = session.execute(update(table).where(table.c.project_id == project_id).values(start=start, finish=finish))
    if result.rowcount:
        # A statement: the booked hours' flush listener does not see it, so they are rebuilt here.
        loads.refresh(session, project_ids=[project_id])
        for entity in list(session.identity_map.values()):
            if isinstance(entity, Assignment) and entity.project_id == project_id:
                session.expire(entity, ["start", "finish"])


def _update_by_executemany(session: Session, keys: tuple[str, ...], changed: list[tuple]) -> None:
    """One UPDATE by primary key, executed for many rows (SQLite runs it in-process).

    Plain positional rows converted by the columns' own bind processors: the ORM's bulk UPDATE
    builds a dictionary and bookkeeping per row: 4.8 s instead of 3.5 s and 240 MB more at 100,000.
    """
    table = Activity.__table__
    connection = session.connection()
    dialect = connection.dialect
    processors = [table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys[1:]]
    placeholders = ", ".join(f"{key} = ?" for key in keys[1:])
    rows = [(*(value if process is None else process(value) for process, value in zip(processors, values[1:])),
             values[0]) for values in changed]
    connection.exec_driver_sql(f"UPDATE {table.name} SET {placeholders} WHERE id = ?", rows)


def _update_by_copy(session: Session, keys: tuple[str, ...], changed: list[tuple]) -> None:
    """PostgreSQL: COPY the new values into a temporary table and UPDATE from it in one statement.

    One UPDATE per activity costs a round trip each, even pipelined, and psycopg adapts big array
    parameters element by element in Python; binary COPY is formatted in C. Together that is
    seconds saved per 100,000 activities.
    """
    table = Activity.__tablename__
    types = [_PG_TYPES.get(key, "timestamp without time zone") for key in keys]
    connection = session.connection()
    begin_writing(connection)  # the temporary table lives until the commit, so a transaction must be open
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(f"CREATE TEMPORARY TABLE schedule_results "
                       f"({', '.join(f'{key} {type_}' for key, type_ in zip(keys, types))}) ON COMMIT DROP")
        with cursor.copy(f"COPY schedule_results ({', '.join(keys)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for values in changed:
                copy.write_row(values)
        cursor.execute(f"UPDATE {table} SET {', '.join(f'{key} = v.{key}' for key in keys[1:])} "
                       f"FROM schedule_results AS v WHERE {table}.id = v.id")
        cursor.execute("DROP TABLE schedule_results")
    finally:
        cursor.close()


def set_baseline(session: Session, *, actor: User, project: Project) -> int:
    """Make the current schedule the baseline earned value is measured against (edit rights): a new named
    baseline, the project's primary (``wbs.baselines``). Returns how many activities it holds."""
    baseline = baselines.set_primary_from_schedule(session, actor=actor, project=project)
    audit.record(session, actor=actor, action="baseline", entity=project,
                 after={"activities": baseline.activity_count, "baseline": baseline.name})
    return baseline.activity_count


# Earned value

CENT = Decimal("0.01")


@dataclass(frozen=True)
class EarnedValue:
    """Earned value figures at the data date (money in the base currency)."""

    data_date: datetime | None
    bac: Decimal
    pv: Decimal
    ev: Decimal
    ac: Decimal

    @property
    def sv(self) -> Decimal:
        return self.ev - self.pv

    @property
    def cv(self) -> Decimal:
        return self.ev - self.ac

    @property
    def spi(self) -> Decimal | None:
        return (self.ev / self.pv).quantize(Decimal("0.0001"), ROUND_HALF_UP) if self.pv else None

    @property
    def cpi(self) -> Decimal | None:
        return (self.ev / self.ac).quantize(Decimal("0.0001"), ROUND_HALF_UP) if self.ac else None

    @property
    def eac(self) -> Decimal:
        """Estimate at completion: actual cost plus the remaining budget at the cost performance so far."""
        if not self.ac or not self.ev:
            return self.bac if not self.ac else (self.ac + self.bac - self.ev).quantize(CENT)
        return (self.ac + (self.bac - self.ev) * self.ac / self.ev).quantize(CENT, ROUND_HALF_UP)

    @property
    def etc(self) -> Decimal:
        return self.eac - self.ac

    @property
    def vac(self) -> Decimal:
        return self.bac - self.eac


def _planned_fraction(activity, data_date: datetime) -> Decimal:
    """How much of an activity the baseline planned done by the data date (linear in time)."""
    start, finish = activity.baseline_start, activity.baseline_finish
    if start is None or finish is None or data_date <= start:
        return Decimal(0)
    if data_date >= finish or finish <= start:
        return Decimal(1)
    return Decimal((data_date - start).total_seconds()) / Decimal((finish - start).total_seconds())


def earned_value(session: Session, *, project: Project, wbs_element: WbsElement | None = None,
                 sums: dict[int | None, services.PlanSums] | None = None,
                 elements: list | None = None) -> EarnedValue:
    """PV, EV and AC of the project (or one WBS branch) at the data date; SV, CV, SPI, CPI, EAC follow.

    The sums come from one pass over the plan (``services.plan_sums``: pass ``sums`` and the WBS ``elements``
    when the caller has them); only the activities the data date cuts through (planned partly done by then)
    come back to be prorated here, and only when there are some.
    """
    plan = services.get_plan(session, project=project)
    data_date = plan.data_date
    if sums is None:
        sums = services.plan_sums(session, project=project, data_date=data_date)
    branch = None
    if wbs_element is not None:
        if elements is None:
            elements = services.element_outline(session, project=project)
        branch = services.branch_ids(elements, wbs_element.id)
    chosen = services.PlanSums.total(part for element_id, part in sums.items()
                                     if branch is None or element_id in branch)
    # EV per distinct percentage: the same products as row by row, in as many terms as there are percentages.
    ev = sum((Decimal(budget) * Decimal(str(done)) / 100 for done, budget in chosen.budget_by_percent.items()
              if budget is not None), Decimal(0))
    pv = Decimal(0)
    if data_date is not None:
        pv = Decimal(chosen.planned_done)
        if chosen.cut:
            start, finish = Activity.baseline_start, Activity.baseline_finish
            cut = select(Activity.budgeted_cost, start, finish).where(
                Activity.project_id == project.id, start.is_not(None), finish.is_not(None), start < data_date,
                finish > data_date, finish > start)
            if branch is not None:
                cut = cut.where(Activity.wbs_element_id.in_(sorted(branch)))
            pv += sum((row.budgeted_cost * _planned_fraction(row, data_date) for row in session.execute(cut)),
                      Decimal(0))
    return EarnedValue(data_date=data_date, bac=Decimal(chosen.budgeted), pv=pv.quantize(CENT, ROUND_HALF_UP),
                       ev=ev.quantize(CENT, ROUND_HALF_UP), ac=Decimal(chosen.actual))


def critical_path(session: Session, *, project: Project) -> list[Activity]:
    """The critical activities of the last schedule, in date order."""
    return list(session.scalars(services.list_activities(session, project=project, critical_only=True)))

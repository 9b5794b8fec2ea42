"""Running the CPM scheduler on a stored project, and earned value at the data date.

The scheduler (``wbs.scheduling``) is a pure function over plain dataclasses; this
module loads its input from the database, runs it, and stores its output.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.database import utcnow
from crmpm.errors import Conflict, Invalid
from crmpm.users.models import User
from eps.models import Project
from eps.permissions import Permission, authorize
from wbs import services
from wbs.models import Activity, Calendar, ProjectPlan, Relationship, WbsElement
from wbs.scheduling import cpm
from wbs.scheduling import model as sched
from wbs.scheduling.errors import DependencyLoop, ScheduleInputError

DEFAULT_CALENDAR = "default"
RESULT_FIELDS = ("early_start", "early_finish", "late_start", "late_finish", "remaining_early_start",
                 "remaining_early_finish", "remaining_late_start", "remaining_late_finish", "total_float_hours",
                 "free_float_hours", "critical", "longest_path")


def calendar_to_model(calendar: Calendar) -> sched.Calendar:
    """The scheduler's view of a stored calendar."""
    return sched.Calendar(
        id=str(calendar.id), name=calendar.name,
        week=tuple(tuple((start, end) for start, end in day) for day in calendar.week),
        exceptions={e.day: tuple((start, end) for start, end in e.periods) for e in calendar.exceptions},
        hours_per_day=calendar.hours_per_day)


def activity_to_model(activity: Activity, external_early_start: datetime | None = None) -> sched.Activity:
    """The scheduler's view of a stored activity."""
    return sched.Activity(
        id=str(activity.id), code=activity.code,
        wbs_id=str(activity.wbs_element_id) if activity.wbs_element_id else None,
        type=sched.ActivityType(activity.type),
        original_duration_hours=activity.original_duration_hours,
        remaining_duration_hours=activity.remaining_duration_hours,
        calendar_id=str(activity.calendar_id) if activity.calendar_id else None,
        constraint=sched.ConstraintType(activity.constraint_type) if activity.constraint_type else None,
        constraint_date=activity.constraint_date,
        secondary_constraint=(sched.ConstraintType(activity.secondary_constraint_type)
                              if activity.secondary_constraint_type else None),
        secondary_constraint_date=activity.secondary_constraint_date,
        actual_start=activity.actual_start, actual_finish=activity.actual_finish,
        percent_complete=activity.percent_complete, expected_finish=activity.expected_finish,
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
    """Everything the scheduler needs for one project, loaded in a few queries."""

    plan: ProjectPlan
    activities: list[Activity]
    models: list[sched.Activity]
    relationships: list[sched.Relationship]
    calendars: dict[str, sched.Calendar]
    options: sched.ScheduleOptions
    wbs_parents: dict[str, str | None]


def load_input(session: Session, *, project: Project) -> ScheduleInput:
    """Load a project's network as scheduler input (cross-project predecessors become external dates)."""
    plan = services.get_plan(session, project=project)
    activities = session.scalars(select(Activity).where(Activity.project_id == project.id).order_by(Activity.id)).all()
    inside = {a.id for a in activities}
    links = session.scalars(services.list_relationships(session, project=project)).all()
    external: dict[int, datetime] = {}
    relationships = []
    for link in links:
        if link.predecessor_id in inside and link.successor_id in inside:
            relationships.append(sched.Relationship(predecessor=str(link.predecessor_id),
                                                    successor=str(link.successor_id),
                                                    type=sched.RelationshipType(link.type), lag_hours=link.lag_hours))
        elif link.successor_id in inside:
            # A predecessor in another project holds this one back from its stored schedule, as P6's
            # external early start does.
            other = link.predecessor
            when = other.early_finish if link.type in ("FS", "FF") else other.early_start
            if when is not None:
                external[link.successor_id] = max(external.get(link.successor_id, when), when)
    calendars = {DEFAULT_CALENDAR: sched.Calendar(id=DEFAULT_CALENDAR, name="Standard")}
    for calendar in session.scalars(services.list_calendars(session, user=None, project=project)):
        calendars[str(calendar.id)] = calendar_to_model(calendar)
    data_date = plan.data_date or plan.planned_start or services.project_local_now(plan)
    elements = session.execute(select(WbsElement.id, WbsElement.parent_id)
                               .where(WbsElement.project_id == project.id)).all()
    return ScheduleInput(
        plan=plan, activities=list(activities),
        models=[activity_to_model(a, external.get(a.id)) for a in activities],
        relationships=relationships, calendars=calendars, options=options_of(plan, data_date),
        wbs_parents={str(i): (str(p) if p else None) for i, p in elements})


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


def schedule_project(session: Session, *, actor: User, project: Project) -> ScheduleSummary:
    """Schedule the project by CPM and store every activity's dates (edit rights).

    A loop or bad data is refused before anything is stored, naming the activities.
    """
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    loaded = load_input(session, project=project)
    started = time.perf_counter()
    try:
        results, summary = cpm.schedule_with_summary(loaded.models, loaded.relationships, loaded.calendars,
                                                     loaded.options, loaded.wbs_parents)
    except DependencyLoop as exc:
        raise Conflict(f"dependency loop: {' → '.join(exc.cycle + exc.cycle[:1])}",
                       errors={"activities": exc.cycle}) from None
    except ScheduleInputError as exc:
        raise Invalid(str(exc), errors={"activities": [exc.activity] if exc.activity else []}) from None
    elapsed = (time.perf_counter() - started) * 1000
    first_schedule = all(a.baseline_start is None for a in loaded.activities)
    for activity in loaded.activities:
        result = results[str(activity.id)]
        for field in RESULT_FIELDS:
            setattr(activity, field, getattr(result, field))
        if first_schedule:
            activity.baseline_start = activity.actual_start or result.early_start
            activity.baseline_finish = activity.actual_finish or result.early_finish
    plan = loaded.plan
    plan.scheduled_at = utcnow()
    plan.data_date = loaded.options.data_date
    plan.early_finish = summary.early_finish if loaded.activities else None
    plan.late_finish = summary.late_finish if loaded.activities else None
    session.flush()
    outcome = ScheduleSummary(
        project_id=project.id, data_date=loaded.options.data_date,
        start=summary.start if loaded.activities else None, finish=plan.early_finish, late_finish=plan.late_finish,
        activities=len(loaded.activities), relationships=len(loaded.relationships),
        critical=sum(1 for a in loaded.activities if a.critical), milliseconds=round(elapsed, 2))
    audit.record(session, actor=actor, action="schedule", entity=project,
                 after={"data_date": outcome.data_date, "finish": outcome.finish, "activities": outcome.activities,
                        "critical": outcome.critical})
    return outcome


def set_baseline(session: Session, *, actor: User, project: Project) -> int:
    """Make the current schedule the baseline earned value is measured against (edit rights)."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    activities = session.scalars(select(Activity).where(Activity.project_id == project.id)).all()
    for activity in activities:
        activity.baseline_start = activity.actual_start or activity.early_start
        activity.baseline_finish = activity.actual_finish or activity.early_finish
    session.flush()
    audit.record(session, actor=actor, action="baseline", entity=project, after={"activities": len(activities)})
    return len(activities)


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


def _planned_fraction(activity: Activity, data_date: datetime) -> Decimal:
    """How much of an activity the baseline planned done by the data date (linear in time)."""
    start, finish = activity.baseline_start, activity.baseline_finish
    if start is None or finish is None or data_date <= start:
        return Decimal(0)
    if data_date >= finish or finish <= start:
        return Decimal(1)
    return Decimal((data_date - start).total_seconds()) / Decimal((finish - start).total_seconds())


def earned_value(session: Session, *, project: Project, wbs_element: WbsElement | None = None) -> EarnedValue:
    """PV, EV and AC of the project (or one WBS branch) at the data date; SV, CV, SPI, CPI, EAC follow."""
    plan = services.get_plan(session, project=project)
    data_date = plan.data_date
    activities = session.scalars(services.list_activities(session, project=project, wbs_element=wbs_element)).all()
    bac = sum((a.budgeted_cost for a in activities), Decimal("0.00"))
    ac = sum((a.actual_cost for a in activities), Decimal("0.00"))
    ev = sum((a.budgeted_cost * Decimal(str(a.percent_complete)) / 100 for a in activities), Decimal(0))
    pv = Decimal(0)
    if data_date is not None:
        pv = sum((a.budgeted_cost * _planned_fraction(a, data_date) for a in activities), Decimal(0))
    return EarnedValue(data_date=data_date, bac=bac, pv=pv.quantize(CENT, ROUND_HALF_UP),
                       ev=ev.quantize(CENT, ROUND_HALF_UP), ac=ac)


def critical_path(session: Session, *, project: Project) -> list[Activity]:
    """The critical activities of the last schedule, in date order."""
    return list(session.scalars(services.list_activities(session, project=project, critical_only=True)))

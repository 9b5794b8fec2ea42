"""Booked hours: each assignment's units spread over its dates, kept as a derived table (``resource_loads``).

The rule (one home; capacity, levelling and the pages read the table, never spread units again):

* An assignment's remaining units are spread over ``start`` .. ``finish``; its actual units over
  ``actual_start`` .. ``actual_finish`` (an assignment still in progress: up to where its remaining work starts,
  else its finish; no actual start: over ``start`` .. ``finish`` like the remaining units).
* The spread follows working time: the resource's calendar, else the activity's, else the project's default,
  else the built-in standard week (``wbs.scheduling.service``'s default), through the scheduler's own
  ``WorkTime`` clock. A span without working time (a milestone, a start equal to its finish) puts all its units
  on its first day.
* By the assignment's curve over the fraction ``x`` of the span's working time elapsed: the cumulative share is
  ``x`` (uniform), ``2x - x²`` (front loaded), ``x²`` (back loaded), ``3x² - 2x³`` (bell): P6's simple curves
  as smooth profiles, not its 21-point tables.
* Units are hours (``wbs.resources.models``); a material resource's units are quantities, not hours, so its
  assignments have no rows (capacity lists labour and non-labour resources). A row holds one assignment's
  hours in one *chunk*: a week (Monday first) cut at month boundaries, keyed by the chunk's first day; so the
  sum of a week's or a month's rows is exact for both periods.

``refresh(session, assignment_ids=..., project_ids=...)`` rebuilds the rows of some assignments (all when
neither is given). ORM changes to assignments refresh themselves: a session listener, registered when this
module is imported (``wbs.resources`` imports it, so the app does), refreshes the assignments a flush wrote or
deleted, and those of resources whose calendar or type changed. Bulk paths that write with Core statements
(``bulk_insert``, the XER import) call ``refresh`` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, delete, event, func, insert, inspect, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, selectinload

from crmpm.database import Base
from wbs.models import Activity, Calendar, CalendarException, ProjectPlan
from wbs.resources.models import Assignment, Resource
from wbs.scheduling import model as sched
from wbs.scheduling.calendars import NoWorkingTime, WorkTime, to_minutes

__all__ = ["ResourceLoad", "chunks", "cumulative_share", "refresh", "spread", "week_start"]

_CHUNK = 500


class ResourceLoad(Base):
    """Hours of one assignment in one chunk (a week cut at month boundaries), derived by :func:`refresh`."""

    __tablename__ = "resource_loads"
    __table_args__ = (
        # Capacity sums a resource's (or a role's) hours over a range of days, split by project: covering
        # indexes, so the sum reads no table rows (on SQLite three to five times faster than the table).
        Index("ix_resource_loads_resource_day", "resource_id", "day", "project_id", "hours"),
        Index("ix_resource_loads_role_day", "role_id", "day", "project_id", "hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("resource_assignments.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[int | None] = mapped_column(Integer)
    role_id: Mapped[int | None] = mapped_column(Integer)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float)
    # The part of ``hours`` that is actual (done) work.
    actual_hours: Mapped[float] = mapped_column(Float, default=0.0)


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def _next_boundary(day: date) -> date:
    """The first day after ``day`` that starts a week or a month."""
    monday = week_start(day) + timedelta(days=7)
    first = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return min(monday, first)


def chunks(first: date, last: date) -> list[tuple[date, date]]:
    """The chunks covering the days ``first`` .. ``last``: [start, end) pairs, cut at Mondays and firsts of months."""
    result = []
    day = first
    while day <= last:
        end = _next_boundary(day)
        result.append((day, end))
        day = end
    return result


def cumulative_share(curve: str, x: float) -> float:
    """The share of an assignment's units done once ``x`` (0..1) of its working time has passed."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if curve == "front_loaded":
        return 2 * x - x * x
    if curve == "back_loaded":
        return x * x
    if curve == "bell":
        return 3 * x * x - 2 * x * x * x
    return x


def _midnight(day: date) -> int:
    return to_minutes(datetime(day.year, day.month, day.day))


def spread(worktime: WorkTime, start: datetime, finish: datetime, units: float,
           curve: str = "uniform") -> list[tuple[date, float]]:
    """``units`` spread over ``start`` .. ``finish`` on ``worktime``: (chunk's first day, hours) for each chunk."""
    if not units:
        return []
    if finish < start:
        finish = start
    a, b = to_minutes(start), to_minutes(finish)
    w0, w1 = worktime.work_before(a), worktime.work_before(b)
    total = w1 - w0
    if total <= 0:
        return [(start.date(), float(units))]
    result = []
    done = 0.0
    for first, end in chunks(start.date(), finish.date()):
        upto = min(b, _midnight(end))
        share = cumulative_share(curve, (worktime.work_before(upto) - w0) / total)
        hours = units * share - done
        done = units * share
        if hours:
            result.append((first, hours))
    return result


class _Calendars:
    """The scheduler's calendars of one refresh, by id (None: the built-in standard week), each with its clock."""

    def __init__(self, session: Session):
        self.session = session
        self.clocks: dict[int | None, WorkTime | None] = {}

    def load(self, ids: Iterable[int]) -> None:
        from wbs.scheduling.service import calendar_to_model

        wanted = [i for i in set(ids) if i is not None and i not in self.clocks]
        for start in range(0, len(wanted), _CHUNK):
            part = wanted[start:start + _CHUNK]
            for calendar in self.session.scalars(select(Calendar).where(Calendar.id.in_(part))
                                                 .options(selectinload(Calendar.exceptions))):
                self.clocks[calendar.id] = _clock(calendar_to_model(calendar))

    def clock(self, calendar_id: int | None) -> WorkTime | None:
        if calendar_id not in self.clocks:
            if calendar_id is not None:
                self.load([calendar_id])
            if calendar_id not in self.clocks:  # gone, or the built-in one
                if None not in self.clocks:
                    self.clocks[None] = _clock(sched.Calendar(id="default", name="Standard"))
                return self.clocks[None]
        return self.clocks[calendar_id]


def _clock(calendar: sched.Calendar) -> WorkTime | None:
    try:
        return WorkTime(calendar)
    except NoWorkingTime:
        return None


def _rows_of(calendars: _Calendars, row) -> list[dict]:
    (assignment_id, resource_id, role_id, project_id, start, finish, actual_start, actual_finish, actual_units,
     remaining_units, curve, calendar_id) = row
    clock = calendars.clock(calendar_id)
    hours: dict[date, list[float]] = {}

    def add(span_start, span_finish, units, index):
        if span_start is None or not units:
            return
        if span_finish is None:
            span_finish = span_start
        if clock is None:
            pieces = [(span_start.date(), float(units))]
        else:
            try:
                pieces = spread(clock, span_start, span_finish, units, curve or "uniform")
            except NoWorkingTime:
                pieces = [(span_start.date(), float(units))]
        for day, value in pieces:
            hours.setdefault(day, [0.0, 0.0])[index] += value

    add(start, finish, remaining_units, 0)
    if actual_units:
        if actual_start is None:
            add(start, finish, actual_units, 1)
        else:
            end = actual_finish or (start if start is not None and start > actual_start else finish)
            add(actual_start, end, actual_units, 1)
    return [{"assignment_id": assignment_id, "resource_id": resource_id, "role_id": role_id,
             "project_id": project_id, "day": day, "hours": remaining + actual, "actual_hours": actual}
            for day, (remaining, actual) in sorted(hours.items())]


def _source():
    calendar = (select(Resource.calendar_id).where(Resource.id == Assignment.resource_id)
                .correlate(Assignment).scalar_subquery())
    default = (select(ProjectPlan.default_calendar_id).where(ProjectPlan.project_id == Assignment.project_id)
               .correlate(Assignment).scalar_subquery())
    activity_calendar = (select(Activity.calendar_id).where(Activity.id == Assignment.activity_id)
                         .correlate(Assignment).scalar_subquery())
    material = select(Resource.id).where(Resource.id == Assignment.resource_id, Resource.type == "material")
    return select(Assignment.id, Assignment.resource_id, Assignment.role_id, Assignment.project_id,
                  Assignment.start, Assignment.finish, Assignment.actual_start, Assignment.actual_finish,
                  Assignment.actual_units, Assignment.remaining_units, Assignment.curve,
                  func.coalesce(calendar, activity_calendar, default)).where(~material.correlate(Assignment).exists())


def refresh(session: Session, *, assignment_ids: Iterable[int] | None = None,
            project_ids: Iterable[int] | None = None) -> int:
    """Rebuild the load rows of ``assignment_ids`` and of every assignment of ``project_ids`` (all, when neither
    is given); the number of rows written. Statements only: the session's objects are not touched."""
    table = ResourceLoad.__table__
    calendars = _Calendars(session)
    written = 0
    if assignment_ids is None and project_ids is None:
        session.execute(delete(table))
        batches = [_source().order_by(Assignment.id)]
    else:
        batches = []
        for key, ids in ((table.c.assignment_id, assignment_ids), (table.c.project_id, project_ids)):
            ids = sorted(set(ids or ()))
            column = Assignment.id if key is table.c.assignment_id else Assignment.project_id
            for start in range(0, len(ids), _CHUNK):
                part = ids[start:start + _CHUNK]
                session.execute(delete(table).where(key.in_(part)))
                batches.append(_source().where(column.in_(part)))
    for query in batches:
        pending: list[dict] = []
        for partition in session.execute(query).partitions(2000):
            calendars.load({row[-1] for row in partition})
            for row in partition:
                pending.extend(_rows_of(calendars, row))
            if len(pending) >= 5000:
                session.execute(insert(table), pending)
                written += len(pending)
                pending = []
        if pending:
            session.execute(insert(table), pending)
            written += len(pending)
    return written


# -- keeping the table true for ORM changes ------------------------------------------------------------

_PENDING = "crmpm.resource_loads.pending"
_LOAD_FIELDS = {"resource_id", "role_id", "project_id", "activity_id", "start", "finish", "actual_start",
                "actual_finish", "actual_units", "remaining_units", "curve"}


def _changed(obj, fields: set[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[key].history.has_changes() for key in fields if key in state.attrs)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, flush_context) -> None:
    pending = session.info.setdefault(_PENDING, {"assignments": set(), "resources": set(), "calendars": set(),
                                                 "activities": set(), "projects": set()})
    for obj in session.new:
        if isinstance(obj, Assignment):
            pending["assignments"].add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, Assignment) and _changed(obj, _LOAD_FIELDS):
            pending["assignments"].add(obj.id)
        elif isinstance(obj, Resource) and _changed(obj, {"calendar_id", "type"}):
            pending["resources"].add(obj.id)
        elif isinstance(obj, Activity) and _changed(obj, {"calendar_id"}):
            pending["activities"].add(obj.id)
        elif isinstance(obj, ProjectPlan) and _changed(obj, {"default_calendar_id"}):
            pending["projects"].add(obj.project_id)
        elif isinstance(obj, Calendar) and _changed(obj, {"week"}):
            pending["calendars"].add(obj.id)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, CalendarException) and obj.calendar_id is not None:
            pending["calendars"].add(obj.calendar_id)
    for obj in session.deleted:
        if isinstance(obj, Assignment):
            pending["assignments"].discard(obj.id)
            session.execute(delete(ResourceLoad.__table__).where(ResourceLoad.__table__.c.assignment_id == obj.id))
    if not any(pending.values()):
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_flush_postexec")
def _refresh_changes(session: Session, flush_context) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    ids = set(pending["assignments"])
    conditions = []
    if pending["resources"]:
        conditions.append(Assignment.resource_id.in_(pending["resources"]))
    if pending["activities"]:
        conditions.append(Assignment.activity_id.in_(pending["activities"]))
    if pending["projects"]:
        conditions.append(Assignment.project_id.in_(pending["projects"]))
    if pending["calendars"]:
        calendars = list(pending["calendars"])
        conditions.append(Assignment.resource_id.in_(select(Resource.id).where(Resource.calendar_id.in_(calendars))))
        conditions.append(Assignment.activity_id.in_(select(Activity.id).where(Activity.calendar_id.in_(calendars))))
        conditions.append(Assignment.project_id.in_(
            select(ProjectPlan.project_id).where(ProjectPlan.default_calendar_id.in_(calendars))))
    if conditions:
        ids.update(session.scalars(select(Assignment.id).where(or_(*conditions))))
    if ids:
        refresh(session, assignment_ids=ids)


# -- plans not yet booked (the pipeline's demand) ----------------------------------------------------------


PlanHours = tuple[int | None, int | None, date, float]


def plan_hours(session: Session, *, plans: list[tuple[int, date, float]]) -> list[PlanHours]:
    """Hours a plan would book, by the same rule as the loads: for each (project id, first day, factor), the
    project's assignments' budgeted units spread over their dates moved by whole days so that the earliest
    starts on ``first day``, × ``factor``. Rows (resource id, role id, chunk's first day, hours)."""
    project_ids = sorted({project_id for project_id, _day, _factor in plans})
    rows_of: dict[int, list] = {}
    for start in range(0, len(project_ids), _CHUNK):
        part = project_ids[start:start + _CHUNK]
        query = (_source().add_columns(Assignment.budgeted_units)
                 .where(Assignment.project_id.in_(part), Assignment.start.is_not(None)))
        for row in session.execute(query):
            rows_of.setdefault(row[3], []).append(row)
    calendars = _Calendars(session)
    calendars.load({row[11] for rows in rows_of.values() for row in rows})
    result = []
    for project_id, first_day, factor in plans:
        rows = rows_of.get(project_id)
        if not rows or not factor:
            continue
        shift = first_day - min(row[4] for row in rows).date()
        for row in rows:
            (_id, resource_id, role_id, _project, begin, end, *_rest, curve, calendar_id, budgeted) = row
            clock = calendars.clock(calendar_id)
            begin = begin + shift
            end = end + shift if end is not None else begin
            if clock is None:
                pieces = [(begin.date(), float(budgeted))]
            else:
                try:
                    pieces = spread(clock, begin, end, budgeted, curve or "uniform")
                except NoWorkingTime:
                    pieces = [(begin.date(), float(budgeted))]
            result.extend((resource_id, role_id, day, hours * factor) for day, hours in pieces)
    return result

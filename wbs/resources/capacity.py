"""Capacity across the EPS: per resource (and per role) and period, hours available against hours booked.

* Periods are whole weeks (Monday first) or whole months covering ``start`` .. ``end``, named by their first day.
* Available hours: the resource's calendar (else the built-in standard week) working hours in the period ×
  its max units per hour in effect each day (``wbs.resources.costs.max_units_on``: the rate period's limit, else
  the resource's own). The calendar's hours come from the scheduler's clock (``WorkTime``).
* Booked hours: the rows of ``resource_loads`` (``wbs.resources.loads``: remaining and actual units spread
  over the assignments' dates) on projects the viewer may read (``eps.permissions.visible``), and, with an
  ``eps_node``, under that node. Everything else a resource carries (projects the viewer cannot read, or
  outside the node asked for) is ``other_hours``: one anonymous total per period, never split by project.
* Over-allocated: booked + other > available (a small tolerance for rounding).
* Which resources are listed: those of a branch (``Resource.eps_node_id``) the viewer may read and those with
  hours booked on a project the viewer may read within the range; everyone's for those who read everything.
  Filters: ``branch`` (resources of that node's subtree), ``role`` (resources able to fill it).
* Role rows (``with_roles``): every role (or the one filtered by), with the available hours of the listed
  resources that can fill it and the hours of assignments made with that role (named or not), split the same way.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import String, and_, case, func, literal, select, true, type_coerce
from sqlalchemy.orm import Session, selectinload

from crmpm.errors import Invalid
from crmpm.users.models import User
from eps.models import EpsNode, Project
from eps.permissions import principal_grant_paths, reads_everything, visible
from wbs.models import Calendar
from wbs.resources import services as pool
from wbs.resources.costs import max_units_on
from wbs.resources.loads import ResourceLoad, week_start
from wbs.resources.models import Resource, ResourceRate, ResourceRole, ResourceRoleLink
from wbs.scheduling import model as sched
from wbs.scheduling.calendars import NoWorkingTime, WorkTime, to_minutes

__all__ = ["PERIODS", "MAX_DAYS", "Capacity", "CapacityRow", "capacity", "check_range", "period_index", "period_starts",
           "week_start"]

PERIODS = ("week", "month")
# Three years: 157 weeks or 37 months at most in one answer.
MAX_DAYS = 3 * 366
_TOLERANCE = 1e-6


@dataclass
class CapacityRow:
    """One resource's (or role's) figures, one value per period."""

    id: int
    code: str
    name: str
    available_hours: list[float]
    booked_hours: list[float]
    other_hours: list[float]
    branch_id: int | None = None
    demand_hours: list[float] | None = None

    @property
    def resource_id(self) -> int:
        return self.id

    @property
    def role_id(self) -> int:
        return self.id

    @property
    def over_allocated(self) -> list[bool]:
        return [booked + other > available + _TOLERANCE
                for available, booked, other in zip(self.available_hours, self.booked_hours, self.other_hours)]


@dataclass
class Capacity:
    """The periods' first days, a row per resource, and (when asked) a row per role."""

    period: str
    periods: list[date]
    items: list[CapacityRow]
    roles: list[CapacityRow] = field(default_factory=list)

    @property
    def ends(self) -> list[date]:
        """Each period's end (the next one's first day)."""
        return [*self.periods[1:], _next_start(self.periods[-1], self.period)] if self.periods else []


def check_range(start: date | None, end: date | None, period: str | None) -> None:
    """Invalid (naming the field) for a missing or unknown period, a range ending before it starts or too long."""
    errors = {}
    if period not in PERIODS:
        errors["period"] = [f"one of {', '.join(PERIODS)}"]
    if start is None:
        errors["from"] = ["a date is needed"]
    if end is None:
        errors["to"] = ["a date is needed"]
    if start is not None and end is not None:
        if end < start:
            errors["to"] = ["before from"]
        elif (end - start).days > MAX_DAYS:
            errors["to"] = [f"at most {MAX_DAYS} days after from"]
    if errors:
        raise Invalid("the capacity's range is not valid: {fields}", fields=", ".join(sorted(errors)),
                      errors=errors)


def _next_start(day: date, period: str) -> date:
    if period == "week":
        return day + timedelta(days=7)
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def period_starts(start: date, end: date, period: str) -> list[date]:
    """The first days of the whole periods covering ``start`` .. ``end``."""
    day = week_start(start) if period == "week" else start.replace(day=1)
    result = []
    while day <= end:
        result.append(day)
        day = _next_start(day, period)
    return result


def period_index(periods: list[date], period: str):
    """A function from a day (within the periods) to its period's index."""
    if period == "week":
        first = periods[0]
        return lambda day: (day - first).days // 7
    first = periods[0]
    return lambda day: (day.year - first.year) * 12 + day.month - first.month


def _midnight_minutes(day: date) -> int:
    return to_minutes(datetime(day.year, day.month, day.day))


class _Availability:
    """Available hours per period: each calendar's working hours per period (read from its clock, kept for
    calendars alike: ``_period_hours``), scaled by each resource's max units, cut where a rate period starts."""

    def __init__(self, periods: list[date], ends: list[date]):
        self.periods, self.ends = periods, ends
        self.bounds = tuple(_midnight_minutes(day) for day in [*periods, ends[-1]])

    def of(self, calendar: sched.Calendar, resource) -> list[float]:
        first, last = self.periods[0], self.ends[-1]
        changes = [rate for rate in resource.rates
                   if rate.max_units_per_hour is not None and first < rate.effective_from < last]
        if changes:
            return available_hours(_clock(calendar), resource, self.periods, self.ends)
        hours = _period_hours(*_calendar_key(calendar), self.bounds)
        if hours is None:
            return [0.0] * len(self.periods)
        units = max_units_on(resource.max_units_per_hour, resource.rates, first)
        return [value * units for value in hours]


def _calendar_key(calendar: sched.Calendar) -> tuple:
    return calendar.week, tuple(sorted(calendar.exceptions.items()))


@functools.lru_cache(maxsize=512)
def _period_hours(week: tuple, exceptions: tuple, bounds: tuple[int, ...]) -> tuple[float, ...] | None:
    """Working hours between consecutive ``bounds`` (clock minutes) of the calendar with this week and these
    exceptions; None when it has no working time. Kept per process: a calendar's content is its key."""
    clock = _clock(sched.Calendar(id="capacity", week=week, exceptions=dict(exceptions)))
    if clock is None:
        return None
    readings = [clock.work_before(minute) for minute in bounds]
    return tuple((b - a) / 60.0 for a, b in zip(readings, readings[1:]))


def _clock(calendar: sched.Calendar) -> WorkTime | None:
    try:
        return WorkTime(calendar)
    except NoWorkingTime:
        return None


def available_hours(clock: WorkTime | None, resource, periods: list[date], ends: list[date]) -> list[float]:
    """Working hours of ``clock`` in each period × the resource's max units per hour in effect each day."""
    if clock is None:
        return [0.0] * len(periods)
    changes = sorted({rate.effective_from for rate in resource.rates if rate.max_units_per_hour is not None})
    result = []
    for first, end in zip(periods, ends):
        # Cut the period where a rate period starts; the limit is constant within each piece.
        cuts = [first, *(day for day in changes if first < day < end), end]
        total = 0.0
        for a, b in zip(cuts, cuts[1:]):
            units = max_units_on(resource.max_units_per_hour, resource.rates, a)
            if units:
                minutes = clock.work_before(_midnight_minutes(b)) - clock.work_before(_midnight_minutes(a))
                total += minutes / 60.0 * units
        result.append(total)
    return result


def _calendars(session: Session, calendar_ids: set[int]) -> dict[int | None, sched.Calendar]:
    """The scheduler's view of the calendars ``calendar_ids`` by id; None: the built-in standard week."""
    from wbs.scheduling.service import calendar_to_model

    calendars: dict[int | None, sched.Calendar] = {None: sched.Calendar(id="default", name="Standard")}
    if calendar_ids:
        for calendar in session.scalars(select(Calendar).where(Calendar.id.in_(calendar_ids))
                                        .options(selectinload(Calendar.exceptions))):
            calendars[calendar.id] = calendar_to_model(calendar)
    return calendars


@dataclass
class _Resource:
    """What capacity reads of a resource (rows, not ORM objects: 500 of them per answer)."""

    id: int
    code: str
    name: str
    calendar_id: int | None
    max_units_per_hour: float
    eps_node_id: int | None
    active: bool
    rates: list = field(default_factory=list)


def _resources(session: Session, query) -> list[_Resource]:
    resources = [_Resource(*row) for row in session.execute(query)]
    by_id = {resource.id: resource for resource in resources}
    if by_id:
        limits = select(ResourceRate).where(ResourceRate.max_units_per_hour.is_not(None))
        if len(by_id) < 1000:
            limits = limits.where(ResourceRate.resource_id.in_(list(by_id)))
        for rate in session.scalars(limits):
            if rate.resource_id in by_id:
                by_id[rate.resource_id].rates.append(rate)
    return resources


def _counted_condition(session: Session, user: User, eps_node: EpsNode | None):
    """A condition on ``ResourceLoad.project_id`` true for the hours counted as booked (not other), or None: all."""
    conditions = []
    if eps_node is not None:
        conditions.append(Project.path.like(f"{eps_node.path}%"))
    if not user.is_admin:
        paths = principal_grant_paths(session, user=user)
        if not reads_everything(session, user=user, paths=paths):
            conditions.append(visible(session, user=user, model=Project, paths=paths))
    if not conditions:
        return None
    return ResourceLoad.project_id.in_(select(Project.id).where(and_(*conditions)))


def _day_index(periods: list[date], end: date, period: str) -> dict:
    """Each day from the first period to ``end`` (as a date and as ISO text, as SQLite hands it) → its period."""
    index = period_index(periods, period)
    result: dict = {}
    day = periods[0]
    while day < end:
        result[day] = result[day.isoformat()] = index(day)
        day += timedelta(days=1)
    return result


def _sums(session: Session, key, periods: list[date], end: date, counted, day_index: dict, keys=None):
    """{key value: (booked per period, other per period)} from the loads between the first period and ``end``."""
    booked = func.sum(case((counted, ResourceLoad.hours), else_=0.0)) if counted is not None else \
        func.sum(ResourceLoad.hours)
    other = func.sum(case((counted, 0.0), else_=ResourceLoad.hours)) if counted is not None else literal(0.0)
    # The day as the driver gives it (text on SQLite): the index knows both forms, and 10⁵ rows skip parsing.
    day = type_coerce(ResourceLoad.day, String)
    query = (select(key, day, booked, other)
             .where(key.is_not(None), ResourceLoad.day >= periods[0], ResourceLoad.day < end)
             .group_by(key, ResourceLoad.day))
    if keys is not None:
        query = query.where(key.in_(keys))
    size = len(periods)
    result: dict[int, tuple[list[float], list[float]]] = {}
    # Plain rows from the connection (the ORM's row handling costs as much as the sum on 10⁵ rows); the
    # session is flushed first, so its pending assignments' hours are in the table (``loads``' listener).
    session.flush()
    for value, when, booked_hours, other_hours in session.connection().execute(query):
        sums = result.get(value)
        if sums is None:
            sums = result[value] = ([0.0] * size, [0.0] * size)
        i = day_index[when]
        sums[0][i] += booked_hours or 0.0
        sums[1][i] += other_hours or 0.0
    return result


def capacity(session: Session, *, user: User, start: date, end: date, period: str,
             eps_node: EpsNode | None = None, branch: EpsNode | None = None, role: ResourceRole | None = None,
             with_roles: bool = False) -> Capacity:
    """Capacity of the resources ``user`` may see between ``start`` and ``end`` by ``period`` (see the module).

    ``eps_node`` and ``branch`` are nodes the caller has loaded with read rights checked (404 otherwise)."""
    check_range(start, end, period)
    periods = period_starts(start, end, period)
    ends = [*periods[1:], _next_start(periods[-1], period)]
    day_index = _day_index(periods, ends[-1], period)
    counted = _counted_condition(session, user, eps_node)

    resources_query = select(Resource.id, Resource.code, Resource.name, Resource.calendar_id,
                             Resource.max_units_per_hour, Resource.eps_node_id, Resource.active).where(
        Resource.type != "material").order_by(Resource.code)  # a material's quantities are not hours
    if branch is not None:
        resources_query = resources_query.join(EpsNode, EpsNode.id == Resource.eps_node_id).where(
            EpsNode.path.like(f"{branch.path}%"))
    if role is not None:
        resources_query = resources_query.where(Resource.id.in_(
            select(ResourceRoleLink.resource_id).where(ResourceRoleLink.role_id == role.id)))
    candidates = _resources(session, resources_query)
    by_resource = _sums(session, ResourceLoad.resource_id, periods, ends[-1], counted, day_index,
                        keys=None if branch is None and role is None else [r.id for r in candidates])

    shown = _shown_resources(session, user, candidates, by_resource, eps_node, counted)
    calendars = _calendars(session, {r.calendar_id for r in shown if r.calendar_id is not None})
    availability = _Availability(periods, ends)
    items = []
    nothing = ([0.0] * len(periods), [0.0] * len(periods))
    for resource in shown:
        booked, other = by_resource.get(resource.id, nothing)
        calendar = calendars.get(resource.calendar_id, calendars[None])
        items.append(CapacityRow(id=resource.id, code=resource.code, name=resource.name, branch_id=resource.eps_node_id,
                                 available_hours=availability.of(calendar, resource),
                                 booked_hours=list(booked), other_hours=list(other)))
    roles = _role_rows(session, items, shown, periods, ends, day_index, counted, role) if with_roles else []
    return Capacity(period=period, periods=periods, items=items, roles=roles)


def _shown_resources(session: Session, user: User, candidates: list[_Resource], by_resource: dict,
                     eps_node: EpsNode | None, counted) -> list[_Resource]:
    """The candidates the viewer may see: readable branch, or booked hours on a counted project in the range."""
    booked_ids = {key for key, (booked, _other) in by_resource.items() if any(booked)}
    if user.is_admin or counted is None:
        everything = True
    else:
        paths = principal_grant_paths(session, user=user)
        everything = reads_everything(session, user=user, paths=paths)
    if everything and eps_node is None:
        return [r for r in candidates if r.active or r.id in by_resource]
    if everything:
        readable_branch = true()
    else:
        readable_branch = visible(session, user=user, model=EpsNode)
    if eps_node is not None:
        readable_branch = and_(readable_branch, EpsNode.path.like(f"{eps_node.path}%"))
    branch_ids = set(session.scalars(select(EpsNode.id).where(readable_branch)))
    return [r for r in candidates
            if r.id in booked_ids or (r.active and r.eps_node_id is not None and r.eps_node_id in branch_ids)]


def _role_rows(session: Session, items: list[CapacityRow], shown: list[_Resource], periods, ends, day_index,
               counted, role: ResourceRole | None) -> list[CapacityRow]:
    shown_ids = [r.id for r in shown]
    links = session.execute(select(ResourceRoleLink.role_id, ResourceRoleLink.resource_id)
                            .where(ResourceRoleLink.resource_id.in_(shown_ids))).all() if shown_ids else []
    available_of = {item.id: item.available_hours for item in items}
    by_role = _sums(session, ResourceLoad.role_id, periods, ends[-1], counted, day_index,
                    keys=[role.id] if role is not None else None)
    rows = []
    nothing = ([0.0] * len(periods), [0.0] * len(periods))
    for each in [role] if role is not None else session.scalars(pool.list_roles(session, user=None).limit(500)):
        available = [0.0] * len(periods)
        for role_id, resource_id in links:
            if role_id == each.id:
                available = [a + b for a, b in zip(available, available_of[resource_id])]
        booked, other = by_role.get(each.id, nothing)
        rows.append(CapacityRow(id=each.id, code=each.code, name=each.name, available_hours=available,
                                booked_hours=list(booked), other_hours=list(other)))
    return rows

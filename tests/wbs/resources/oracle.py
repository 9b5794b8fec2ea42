"""Test helpers: rows built with the models directly, and booked hours worked out day by day (the oracle).

The oracle does not use ``WorkTime`` nor ``wbs.resources.loads``: it walks the calendar one day at a time,
intersects each day's periods (the week's pattern, or the day's exception) with the assignment's span, and
gives each day its share of the units by the curve's cumulative share of the working minutes elapsed.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from wbs.models import Activity, Calendar, CalendarException, ProjectPlan
from wbs.resources.models import Assignment, Resource, ResourceRate

_n = itertools.count(1)

NINE_TO_SIX = [[540, 780], [840, 1080]]  # 09:00-13:00, 14:00-18:00: 8 h
STANDARD = [NINE_TO_SIX] * 5 + [[], []]


def calendar(session, *, week=None, exceptions=None, project=None, kind="resource") -> Calendar:
    made = Calendar(name=f"Calendar {next(_n)}", week=week or STANDARD, hours_per_day=8.0, kind=kind,
                    project_id=project.id if project is not None else None)
    for day, periods in (exceptions or {}).items():
        made.exceptions.append(CalendarException(day=day, periods=periods))
    session.add(made)
    session.flush()
    return made


def resource(session, *, calendar_=None, max_units=1.0, node=None, code=None, name=None, rates=()) -> Resource:
    n = next(_n)
    made = Resource(code=code or f"R{n}", name=name or f"Resource {n}", calendar_id=calendar_.id if calendar_ else None,
                    max_units_per_hour=max_units, eps_node_id=node.id if node is not None else None)
    for effective_from, units in rates:
        made.rates.append(ResourceRate(effective_from=effective_from, max_units_per_hour=units))
    session.add(made)
    session.flush()
    return made


def activity(session, *, project, calendar_=None) -> Activity:
    made = Activity(project_id=project.id, code=f"A{next(_n)}", name="Work",
                    calendar_id=calendar_.id if calendar_ else None)
    session.add(made)
    session.flush()
    return made


def assign(session, *, project, resource_=None, role=None, start, finish, remaining=0.0, actual=0.0,
           activity_=None, curve="uniform", actual_start=None, actual_finish=None) -> Assignment:
    activity_ = activity_ or activity(session, project=project)
    made = Assignment(project_id=project.id, activity_id=activity_.id,
                      resource_id=resource_.id if resource_ else None, role_id=role.id if role else None,
                      remaining_units=remaining, actual_units=actual, budgeted_units=remaining + actual,
                      start=start, finish=finish, actual_start=actual_start, actual_finish=actual_finish, curve=curve)
    session.add(made)
    session.flush()
    return made


def project_default(session, project, calendar_) -> None:
    plan = session.get(ProjectPlan, project.id) or ProjectPlan(project_id=project.id)
    plan.default_calendar_id = calendar_.id
    session.add(plan)
    session.flush()


CURVES = {
    "uniform": lambda x: x,
    "front_loaded": lambda x: 2 * x - x * x,
    "back_loaded": lambda x: x * x,
    "bell": lambda x: 3 * x * x - 2 * x ** 3,
}


def day_minutes(week, exceptions, day: date, lo: int = 0, hi: int = 1440) -> int:
    """Working minutes of ``day`` between minute ``lo`` and ``hi`` of it."""
    periods = exceptions[day] if day in exceptions else week[day.weekday()]
    return sum(max(0, min(end, hi) - max(start, lo)) for start, end in periods)


def daily_hours(week, exceptions, start: datetime, finish: datetime, units: float,
                curve: str = "uniform") -> dict[date, float]:
    """{day: hours} of ``units`` spread over ``start`` .. ``finish`` one day at a time."""
    minutes = {}
    day = start.date()
    while day <= finish.date():
        lo = start.hour * 60 + start.minute if day == start.date() else 0
        hi = finish.hour * 60 + finish.minute if day == finish.date() else 1440
        minutes[day] = day_minutes(week, exceptions, day, lo, hi)
        day += timedelta(days=1)
    total = sum(minutes.values())
    if total == 0:
        return {start.date(): units}
    share = CURVES[curve]
    result, elapsed = {}, 0
    for day, work in minutes.items():
        result[day] = units * (share((elapsed + work) / total) - share(elapsed / total))
        elapsed += work
    return result


def by_week(daily: dict[date, float]) -> dict[date, float]:
    sums: dict[date, float] = {}
    for day, hours in daily.items():
        monday = day - timedelta(days=day.weekday())
        sums[monday] = sums.get(monday, 0.0) + hours
    return sums


def by_month(daily: dict[date, float]) -> dict[date, float]:
    sums: dict[date, float] = {}
    for day, hours in daily.items():
        first = day.replace(day=1)
        sums[first] = sums.get(first, 0.0) + hours
    return sums


def available_by_day(week, exceptions, first: date, last: date, units_on) -> dict[date, float]:
    """{day: working hours × the units available that day} for ``first`` .. ``last``."""
    result = {}
    day = first
    while day <= last:
        result[day] = day_minutes(week, exceptions, day) / 60 * units_on(day)
        day += timedelta(days=1)
    return result

"""Booked hours (``resource_loads``) against a day-by-day oracle, and the listener keeping them true."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.wbs.resources import oracle
from wbs.models import CalendarException
from wbs.resources import loads
from wbs.resources.loads import ResourceLoad
from wbs.resources.models import Assignment

ROOT = Path(__file__).resolve().parents[3]
HOLIDAYS = {date(2027, 3, 8): [], date(2027, 3, 5): [[540, 780]], date(2027, 3, 13): [[600, 840]]}


def stored(session, assignment_id=None, resource_id=None) -> dict[date, float]:
    query = select(ResourceLoad.day, func.sum(ResourceLoad.hours)).group_by(ResourceLoad.day)
    if assignment_id is not None:
        query = query.where(ResourceLoad.assignment_id == assignment_id)
    if resource_id is not None:
        query = query.where(ResourceLoad.resource_id == resource_id)
    return dict(session.execute(query).all())


def summed(rows: dict[date, float], key) -> dict[date, float]:
    sums: dict[date, float] = {}
    for day, hours in rows.items():
        sums[key(day)] = sums.get(key(day), 0.0) + hours
    return sums


def week_of(day):
    return date.fromordinal(day.toordinal() - day.weekday())


def month_of(day):
    return day.replace(day=1)


def assert_close(actual: dict, expected: dict):
    keys = {k for k, v in {**actual, **expected}.items() if abs(v) > 1e-9}
    for key in sorted(keys):
        assert actual.get(key, 0.0) == pytest.approx(expected.get(key, 0.0), abs=1e-6), key


@pytest.fixture
def world(session):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin)
    project = factories.project(session, actor=admin, node=node)
    return admin, node, project


@pytest.mark.parametrize("curve", ["uniform", "front_loaded", "back_loaded", "bell"])
def test_weeks_and_months_match_a_day_by_day_spread_over_the_resources_calendar(session, world, curve):
    """An assignment from Wed 17 Feb 10:30 to Tue 16 Mar 2027 15:00, 130 h, on a calendar with a holiday
    (8 Mar), a short Friday (5 Mar, morning only) and a working Saturday (13 Mar, 10:00-14:00): its week and
    month sums equal those of the oracle's day-by-day spread, and every chunk lies in one week and one month."""
    _admin, _node, project = world
    cal = oracle.calendar(session, exceptions=HOLIDAYS)
    worker = oracle.resource(session, calendar_=cal)
    start, finish = datetime(2027, 2, 17, 10, 30), datetime(2027, 3, 16, 15, 0)
    assignment = oracle.assign(session, project=project, resource_=worker, start=start, finish=finish,
                               remaining=130.0, curve=curve)
    daily = oracle.daily_hours(oracle.STANDARD, HOLIDAYS, start, finish, 130.0, curve)
    rows = stored(session, assignment.id)
    assert_close(summed(rows, week_of), oracle.by_week(daily))
    assert_close(summed(rows, month_of), oracle.by_month(daily))
    assert sum(rows.values()) == pytest.approx(130.0)
    for day in rows:  # a chunk starts on a Monday, a first of a month, or the assignment's first day
        assert day.weekday() == 0 or day.day == 1 or day == start.date()


def test_the_activitys_calendar_then_the_projects_default_when_the_resource_has_none(session, world):
    """Without a resource calendar the activity's calendar spreads the hours; without that, the project's
    default. Both calendars here work Monday to Thursday only, with different hours."""
    _admin, _node, project = world
    four_days = [[[480, 720]]] * 4 + [[], [], []]      # 4 h a day, Mon-Thu
    long_days = [[[420, 1020]]] * 4 + [[], [], []]     # 10 h a day, Mon-Thu
    activity_calendar = oracle.calendar(session, week=four_days, kind="")
    default_calendar = oracle.calendar(session, week=long_days, kind="")
    oracle.project_default(session, project, default_calendar)
    worker = oracle.resource(session)
    start, finish = datetime(2027, 1, 27, 8, 0), datetime(2027, 2, 9, 17, 0)
    on_activity = oracle.assign(session, project=project, resource_=worker, start=start, finish=finish, remaining=40.0,
                                activity_=oracle.activity(session, project=project, calendar_=activity_calendar))
    on_default = oracle.assign(session, project=project, resource_=worker, start=start, finish=finish, remaining=40.0)
    assert_close(summed(stored(session, on_activity.id), week_of),
                 oracle.by_week(oracle.daily_hours(four_days, {}, start, finish, 40.0)))
    assert_close(summed(stored(session, on_default.id), month_of),
                 oracle.by_month(oracle.daily_hours(long_days, {}, start, finish, 40.0)))


def test_actual_units_spread_over_the_actual_dates_and_remaining_over_the_remaining_ones(session, world):
    _admin, _node, project = world
    worker = oracle.resource(session, calendar_=oracle.calendar(session))
    actual_start, actual_finish = datetime(2027, 1, 4, 9, 0), datetime(2027, 1, 15, 18, 0)
    start, finish = datetime(2027, 1, 18, 9, 0), datetime(2027, 2, 12, 18, 0)
    assignment = oracle.assign(session, project=project, resource_=worker, start=start, finish=finish, remaining=60.0,
                               actual=24.0, actual_start=actual_start, actual_finish=actual_finish)
    expected = oracle.daily_hours(oracle.STANDARD, {}, start, finish, 60.0)
    for day, hours in oracle.daily_hours(oracle.STANDARD, {}, actual_start, actual_finish, 24.0).items():
        expected[day] = expected.get(day, 0.0) + hours
    assert_close(summed(stored(session, assignment.id), week_of), oracle.by_week(expected))
    actual = dict(session.execute(select(ResourceLoad.day, ResourceLoad.actual_hours)
                                  .where(ResourceLoad.assignment_id == assignment.id)).all())
    assert sum(actual.values()) == pytest.approx(24.0)


def test_a_span_without_working_time_books_its_units_on_its_first_day(session, world):
    _admin, _node, project = world
    worker = oracle.resource(session)
    saturday = datetime(2027, 1, 9, 10, 0)
    assignment = oracle.assign(session, project=project, resource_=worker, start=saturday,
                               finish=datetime(2027, 1, 10, 16, 0), remaining=5.0)
    assert stored(session, assignment.id) == {date(2027, 1, 9): pytest.approx(5.0)}


def test_the_listener_keeps_loads_true_after_updates_and_deletes(session, world):
    _admin, _node, project = world
    cal = oracle.calendar(session)
    worker = oracle.resource(session, calendar_=cal)
    start, finish = datetime(2027, 4, 5, 9, 0), datetime(2027, 4, 23, 18, 0)
    assignment = oracle.assign(session, project=project, resource_=worker, start=start, finish=finish, remaining=30.0)

    assignment.remaining_units = 45.0
    assignment.finish = datetime(2027, 5, 7, 18, 0)
    session.flush()
    expected = oracle.daily_hours(oracle.STANDARD, {}, start, assignment.finish, 45.0)
    assert_close(summed(stored(session, assignment.id), month_of), oracle.by_month(expected))

    # A vacation on the resource's calendar moves its hours to the other days.
    vacation = {date(2027, 4, 12 + i): [] for i in range(5)}
    for day, periods in vacation.items():
        cal.exceptions.append(CalendarException(day=day, periods=periods))
    session.flush()
    expected = oracle.daily_hours(oracle.STANDARD, vacation, start, assignment.finish, 45.0)
    assert_close(summed(stored(session, assignment.id), week_of), oracle.by_week(expected))
    assert stored(session, assignment.id).get(date(2027, 4, 12), 0.0) == 0.0

    # Another resource: the rows follow it.
    other = oracle.resource(session, calendar_=oracle.calendar(session))
    assignment.resource_id = other.id
    session.flush()
    assert stored(session, resource_id=worker.id) == {}
    assert sum(stored(session, resource_id=other.id).values()) == pytest.approx(45.0)

    session.delete(assignment)
    session.flush()
    assert session.scalar(select(func.count()).select_from(ResourceLoad)) == 0


def test_refresh_rebuilds_rows_written_around_the_orm(session, world):
    """Rows written by Core statements (as bulk paths do) have no loads until ``refresh``; a full rebuild then
    writes the same rows the listener wrote."""
    _admin, _node, project = world
    worker = oracle.resource(session)
    listened = oracle.assign(session, project=project, resource_=worker, start=datetime(2027, 6, 1, 9, 0),
                             finish=datetime(2027, 6, 30, 18, 0), remaining=70.0)
    activity = oracle.activity(session, project=project)
    session.execute(Assignment.__table__.insert().values(
        project_id=project.id, activity_id=activity.id, resource_id=worker.id, budgeted_units=10.0,
        actual_units=0.0, remaining_units=10.0, units_per_hour=1.0, budgeted_cost=0, actual_cost=0,
        remaining_cost=0, rate_source="resource", curve="uniform", start=datetime(2027, 6, 7, 9, 0),
        finish=datetime(2027, 6, 8, 18, 0), created_at=datetime(2027, 1, 1, tzinfo=timezone.utc)))
    assert sum(stored(session, resource_id=worker.id).values()) == pytest.approx(70.0)
    before = stored(session, listened.id)
    loads.refresh(session, project_ids=[project.id])
    assert sum(stored(session, resource_id=worker.id).values()) == pytest.approx(80.0)
    assert stored(session, listened.id) == pytest.approx(before)
    loads.refresh(session)
    assert sum(stored(session, resource_id=worker.id).values()) == pytest.approx(80.0)
    assert stored(session, listened.id) == pytest.approx(before)


def test_the_app_alone_keeps_loads_true(tmp_path):
    """A process that changes assignments through the ORM only (a job, a command) has the listener once it has
    made the app, though it never imported ``wbs.resources.loads`` itself."""
    script = ("import sys; from crmpm import create_app\n"
              "before = 'wbs.resources.loads' in sys.modules\n"
              "create_app({'DATABASE_URL': sys.argv[1], 'TESTING': True, 'JOBS_URL': 'memory://'})\n"
              "from sqlalchemy import event; from sqlalchemy.orm import Session\n"
              "from wbs.resources import loads\n"
              "print(before, event.contains(Session, 'after_flush', loads._note_changes))")
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, "-c", script, f"sqlite:///{tmp_path / 'app.db'}"], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PYTHONPATH": path})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True"

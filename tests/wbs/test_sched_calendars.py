"""Working-time arithmetic of wbs.scheduling.calendars."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbs.scheduling.calendars import NoWorkingTime, WorkTime, from_minutes, to_minutes
from wbs.scheduling.model import Calendar

D = dt.datetime
STD = Calendar("std")
HOLIDAYS = Calendar(
    "hol",
    exceptions={
        dt.date(2025, 1, 1): (),  # Wednesday holiday
        dt.date(2025, 1, 4): ((9 * 60, 11 * 60),),  # Saturday worked 09-11
    },
)
WEEK = st.datetimes(min_value=D(2024, 1, 1), max_value=D(2027, 1, 1)).map(lambda d: d.replace(second=0, microsecond=0))
MINUTES = st.integers(min_value=1, max_value=60 * 8 * 300)
CALS = st.sampled_from([STD, HOLIDAYS, Calendar.twenty_four_hour(), Calendar("night", week=tuple(((0, 360), (1320, 1440)) for _ in range(7)))])


def test_minute_conversion_round_trips():
    d = D(2025, 12, 4, 17, 0)
    assert from_minutes(to_minutes(d)) == d
    assert to_minutes(D(1899, 12, 30)) == 0


def test_add_work_skips_lunch_nights_and_weekends():
    wt = WorkTime(STD)
    assert wt.add_work(D(2025, 1, 3, 11, 0), 120) == D(2025, 1, 3, 14, 0)
    assert wt.add_work(D(2025, 1, 3, 16, 0), 120) == D(2025, 1, 6, 9, 0)
    # A finish lands at the end of a working stretch, never at the next start.
    assert wt.add_work(D(2025, 1, 6, 8, 0), 480) == D(2025, 1, 6, 17, 0)
    assert wt.add_work(D(2025, 1, 6, 8, 0), 240) == D(2025, 1, 6, 12, 0)


def test_subtract_work_lands_on_a_start():
    wt = WorkTime(STD)
    assert wt.subtract_work(D(2025, 1, 6, 17, 0), 480) == D(2025, 1, 6, 8, 0)
    assert wt.subtract_work(D(2025, 1, 6, 9, 0), 120) == D(2025, 1, 3, 16, 0)
    assert wt.subtract_work(D(2025, 1, 6, 17, 0), 240) == D(2025, 1, 6, 13, 0)


def test_next_and_previous_working():
    wt = WorkTime(STD)
    assert wt.next_working(D(2025, 1, 3, 17, 0)) == D(2025, 1, 6, 8, 0)
    assert wt.next_working(D(2025, 1, 6, 12, 30)) == D(2025, 1, 6, 13, 0)
    assert wt.next_working(D(2025, 1, 6, 10, 0)) == D(2025, 1, 6, 10, 0)
    assert wt.previous_working(D(2025, 1, 6, 8, 0)) == D(2025, 1, 3, 17, 0)
    assert wt.previous_working(D(2025, 1, 6, 12, 30)) == D(2025, 1, 6, 12, 0)


def test_exceptions_holiday_and_extra_working_day():
    wt = WorkTime(HOLIDAYS)
    # Tuesday 31 Dec 17:00 + 1 h: Wednesday is a holiday.
    assert wt.add_work(D(2024, 12, 31, 16, 0), 120) == D(2025, 1, 2, 9, 0)
    # Friday 3 Jan 17:00 + 1 h: Saturday 4 Jan works 09-11.
    assert wt.add_work(D(2025, 1, 3, 16, 0), 120) == D(2025, 1, 4, 10, 0)
    assert wt.work_between(D(2025, 1, 4, 0, 0), D(2025, 1, 5, 0, 0)) == 120


def test_twenty_four_hour_calendar():
    wt = WorkTime(Calendar.twenty_four_hour())
    assert wt.add_work(D(2025, 1, 3, 16, 0), 24 * 60) == D(2025, 1, 4, 16, 0)
    assert wt.work_between(D(2025, 1, 3), D(2025, 1, 10)) == 7 * 1440


def test_calendar_without_work_is_refused():
    with pytest.raises(NoWorkingTime):
        WorkTime(Calendar("idle", week=((),) * 7))


def test_far_dates_grow_the_table_consistently():
    wt = WorkTime(STD, around=D(2025, 1, 1))
    a, b = D(1990, 3, 5, 8, 0), D(2090, 3, 6, 8, 0)
    total = wt.work_between(a, b)
    assert wt.add_work(a, total) == wt.previous_working(b)
    assert wt.work_between(b, a) == -total


@settings(max_examples=300, deadline=None)
@given(cal=CALS, start=WEEK, minutes=MINUTES)
def test_add_then_subtract_round_trips(cal, start, minutes):
    wt = WorkTime(cal)
    end = wt.add_work(start, minutes)
    assert wt.subtract_work(end, minutes) == wt.next_working(start)
    assert wt.work_between(start, end) == minutes


@settings(max_examples=300, deadline=None)
@given(cal=CALS, a=WEEK, b=WEEK)
def test_between_is_consistent_with_add(cal, a, b):
    wt = WorkTime(cal)
    if b < a:
        a, b = b, a
    w = wt.work_between(a, b)
    assert w >= 0
    assert wt.work_between(b, a) == -w
    if w:
        # Adding the work found between a and b from a reaches b, or the
        # end of the working stretch b sits after.
        assert wt.add_work(a, w) == wt.previous_working(b)


@settings(max_examples=200, deadline=None)
@given(cal=CALS, t=WEEK)
def test_next_working_is_working_and_not_before(cal, t):
    wt = WorkTime(cal)
    n = wt.next_working(t)
    assert n >= t
    assert wt.is_working_minute(to_minutes(n))
    assert wt.work_between(t, n) == 0
    p = wt.previous_working(t)
    assert p <= t and wt.work_between(p, t) == 0

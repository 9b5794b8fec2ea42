"""A user's absences take days off their resource's calendar, and give them back exactly when removed or ended."""

from datetime import date, datetime, timezone

import pytest

from accounts import routing
from tests import factories
from wbs import services as wbs_services
from wbs.models import Calendar

UTC = timezone.utc
WEEK = [[[480, 1020]]] * 5 + [[], []]


@pytest.fixture
def admin(session):
    return factories.admin(session)


@pytest.fixture
def person(session, admin):
    """A user in Moscow (UTC+3) linked to a resource on a global calendar with a holiday on Friday 6 March 2026
    and a short day on Thursday 5 March."""
    user = factories.user(session)
    user.time_zone = "Europe/Moscow"
    base = wbs_services.create_calendar(session, actor=admin, name="Standard", week=WEEK,
                                        exceptions={date(2026, 3, 6): [], date(2026, 3, 5): [[480, 720]]})
    resource = factories.resource(session, actor=admin, code="IVANOV", user_id=user.id, calendar_id=base.id)
    return {"user": user, "resource": resource, "base": base}


def _days(session, resource):
    calendar = session.get(Calendar, resource.calendar_id)
    return calendar, {e.day: e.periods for e in calendar.exceptions}


def _local_days(first: date, last: date):
    """An absence from local midnight of ``first`` to local midnight after ``last`` in Moscow (UTC+3)."""
    return (datetime(first.year, first.month, first.day - 1, 21, tzinfo=UTC),
            datetime(last.year, last.month, last.day, 21, tzinfo=UTC))


def test_an_absence_makes_its_days_non_working_on_a_calendar_of_the_resource_made_from_its_base(session, person):
    starts, ends = _local_days(date(2026, 3, 4), date(2026, 3, 9))
    routing.create_absence(session, actor=person["user"], user=person["user"], starts_at=starts, ends_at=ends)
    calendar, days = _days(session, person["resource"])
    assert calendar.kind == "resource" and calendar.id != person["base"].id
    assert calendar.week == WEEK
    assert {day: days[day] for day in days if date(2026, 3, 3) <= day <= date(2026, 3, 10)} == {
        date(2026, 3, 4): [], date(2026, 3, 5): [], date(2026, 3, 6): [], date(2026, 3, 7): [],
        date(2026, 3, 8): [], date(2026, 3, 9): []}
    # The base calendar is left as it was.
    assert {e.day: e.periods for e in person["base"].exceptions} == {date(2026, 3, 5): [[480, 720]],
                                                                    date(2026, 3, 6): []}


def test_removing_the_absence_restores_holidays_and_short_days_as_they_were(session, person):
    starts, ends = _local_days(date(2026, 3, 4), date(2026, 3, 9))
    absence = routing.create_absence(session, actor=person["user"], user=person["user"], starts_at=starts,
                                     ends_at=ends)
    routing.delete_absence(session, actor=person["user"], absence=absence)
    _calendar, days = _days(session, person["resource"])
    assert days == {date(2026, 3, 5): [[480, 720]], date(2026, 3, 6): []}


def test_ending_an_absence_early_gives_back_the_days_after_it(session, person):
    starts, ends = _local_days(date(2026, 3, 2), date(2026, 3, 6))
    absence = routing.create_absence(session, actor=person["user"], user=person["user"], starts_at=starts,
                                     ends_at=ends)
    routing.end_absence(session, actor=person["user"], absence=absence, ends_at=_local_days(date(2026, 3, 2),
                                                                                            date(2026, 3, 3))[1])
    _calendar, days = _days(session, person["resource"])
    assert days == {date(2026, 3, 2): [], date(2026, 3, 3): [], date(2026, 3, 5): [[480, 720]],
                    date(2026, 3, 6): []}
    routing.delete_absence(session, actor=person["user"], absence=absence)
    assert _days(session, person["resource"])[1] == {date(2026, 3, 5): [[480, 720]], date(2026, 3, 6): []}


def test_a_day_two_absences_cover_stays_off_until_both_are_gone(session, person):
    first = routing.create_absence(session, actor=person["user"], user=person["user"],
                                   starts_at=_local_days(date(2026, 3, 4), date(2026, 3, 5))[0],
                                   ends_at=_local_days(date(2026, 3, 4), date(2026, 3, 5))[1])
    second = routing.create_absence(session, actor=person["user"], user=person["user"],
                                    starts_at=_local_days(date(2026, 3, 5), date(2026, 3, 5))[0],
                                    ends_at=_local_days(date(2026, 3, 5), date(2026, 3, 5))[1])
    routing.delete_absence(session, actor=person["user"], absence=first)
    days = _days(session, person["resource"])[1]
    assert (date(2026, 3, 4) in days, days[date(2026, 3, 5)]) == (False, [])
    routing.delete_absence(session, actor=person["user"], absence=second)
    assert _days(session, person["resource"])[1] == {date(2026, 3, 5): [[480, 720]], date(2026, 3, 6): []}


def test_a_user_without_a_resource_changes_no_calendar(session, admin):
    user = factories.user(session)
    before = session.query(Calendar).count()
    routing.create_absence(session, actor=user, user=user, starts_at=datetime(2026, 3, 1, tzinfo=UTC),
                           ends_at=datetime(2026, 3, 3, tzinfo=UTC))
    assert session.query(Calendar).count() == before


def test_the_days_of_an_absence_are_its_local_days():
    """Its docstring's example: 21:00 UTC on 1 March is midnight of 2 March in Moscow; the absence ends at midnight
    of 4 March, which it leaves alone."""
    import doctest

    from accounts import resource_absences

    assert doctest.testmod(resource_absences).failed == 0

"""Capacity per resource and period: available and booked hours against the day-by-day oracle, and rights."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from crmpm.errors import Invalid
from eps.models import Role
from tests import factories
from tests.wbs.resources import oracle
from wbs.resources.capacity import capacity
from wbs.resources.costs import max_units_on
from wbs.resources.models import ResourceRole, ResourceRoleLink

VACATION = {date(2027, 3, 8): [], date(2027, 3, 9): [], date(2027, 2, 26): [[540, 780]]}


def series(result, resource_id, field="booked_hours"):
    row = next(item for item in result.items if item.id == resource_id)
    return dict(zip(result.periods, getattr(row, field)))


def expected_on(periods, sums):
    return {start: pytest.approx(sums.get(start, 0.0), abs=1e-6) for start in periods}


@pytest.fixture
def world(session):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin)
    return admin, node


@pytest.mark.parametrize("period", ["week", "month"])
def test_booked_and_available_hours_match_the_day_by_day_oracle(session, world, period):
    """Two assignments of one resource on two projects, one front loaded, over a calendar with a vacation and a
    short day; the resource works at 1.0 until 1 March 2027 and 0.5 from then (a rate period). Booked: the
    oracle's daily spread summed by period; available: the calendar's hours each day × the units that day."""
    admin, node = world
    p1, p2 = (factories.project(session, actor=admin, node=node) for _ in range(2))
    cal = oracle.calendar(session, exceptions=VACATION)
    worker = oracle.resource(session, calendar_=cal, node=node, rates=[(date(2027, 3, 1), 0.5)])
    spans = [(p1, datetime(2027, 2, 10, 9, 0), datetime(2027, 3, 19, 18, 0), 120.0, "uniform"),
             (p2, datetime(2027, 2, 22, 13, 0), datetime(2027, 4, 2, 11, 0), 90.0, "front_loaded")]
    daily: dict[date, float] = {}
    for project, start, finish, units, curve in spans:
        oracle.assign(session, project=project, resource_=worker, start=start, finish=finish, remaining=units,
                      curve=curve)
        for day, hours in oracle.daily_hours(oracle.STANDARD, VACATION, start, finish, units, curve).items():
            daily[day] = daily.get(day, 0.0) + hours
    result = capacity(session, user=admin, start=date(2027, 2, 1), end=date(2027, 4, 30), period=period)
    group = oracle.by_week if period == "week" else oracle.by_month
    assert result.periods[0] == (date(2027, 2, 1))
    assert series(result, worker.id) == expected_on(result.periods, group(daily))
    assert series(result, worker.id, "other_hours") == expected_on(result.periods, {})

    last = result.ends[-1] - timedelta(days=1)
    available = oracle.available_by_day(oracle.STANDARD, VACATION, result.periods[0], last,
                                        lambda day: 0.5 if day >= date(2027, 3, 1) else 1.0)
    assert series(result, worker.id, "available_hours") == expected_on(result.periods, group(available))


def test_over_allocation_is_booked_plus_other_above_available(session, world):
    """A week of 40 h available: 30 h on a readable project and 20 h on one the viewer cannot read make 50 h,
    over-allocated though the readable part alone is not."""
    admin, node = world
    viewer = factories.user(session)
    readable, hidden = (factories.project(session, actor=admin, node=node) for _ in range(2))
    factories.grant(session, actor=admin, role=Role.viewer, target=readable, user=viewer)
    worker = oracle.resource(session, calendar_=oracle.calendar(session))
    monday = datetime(2027, 5, 3, 9, 0)
    oracle.assign(session, project=readable, resource_=worker, start=monday, finish=monday + timedelta(days=4, hours=9),
                  remaining=30.0)
    oracle.assign(session, project=hidden, resource_=worker, start=monday, finish=monday + timedelta(days=4, hours=9),
                  remaining=20.0)
    result = capacity(session, user=viewer, start=date(2027, 5, 3), end=date(2027, 5, 9), period="week")
    [row] = result.items
    assert (row.available_hours, row.booked_hours, row.other_hours) == ([40.0], [pytest.approx(30.0)],
                                                                        [pytest.approx(20.0)])
    assert row.over_allocated == [True]


def test_a_viewer_sees_only_resources_of_readable_branches_or_booked_on_readable_projects(session, world):
    admin, node = world
    elsewhere = factories.node(session, actor=admin)
    viewer = factories.user(session)
    readable = factories.project(session, actor=admin, node=node)
    hidden = factories.project(session, actor=admin, node=elsewhere)
    factories.grant(session, actor=admin, role=Role.viewer, target=node, user=viewer)
    at_home = oracle.resource(session, node=node, name="Home engineer")
    visiting = oracle.resource(session, node=elsewhere, name="Visiting engineer")
    secret = oracle.resource(session, node=elsewhere, name="Secret engineer")
    start, finish = datetime(2027, 5, 3, 9, 0), datetime(2027, 5, 7, 18, 0)
    oracle.assign(session, project=readable, resource_=visiting, start=start, finish=finish, remaining=8.0)
    oracle.assign(session, project=hidden, resource_=secret, start=start, finish=finish, remaining=8.0)
    oracle.assign(session, project=hidden, resource_=visiting, start=start, finish=finish, remaining=5.0)
    result = capacity(session, user=viewer, start=date(2027, 5, 1), end=date(2027, 5, 31), period="month")
    assert {item.name for item in result.items} == {"Home engineer", "Visiting engineer"}
    row = next(item for item in result.items if item.id == visiting.id)
    assert (row.booked_hours, row.other_hours) == ([pytest.approx(8.0)], [pytest.approx(5.0)])
    assert at_home.id in {item.id for item in result.items}


def test_the_eps_node_filter_counts_its_projects_and_leaves_the_rest_anonymous(session, world):
    admin, node = world
    inner = factories.node(session, actor=admin, parent=node)
    inside = factories.project(session, actor=admin, node=inner)
    outside = factories.project(session, actor=admin, node=node)
    worker = oracle.resource(session)
    start, finish = datetime(2027, 5, 3, 9, 0), datetime(2027, 5, 7, 18, 0)
    oracle.assign(session, project=inside, resource_=worker, start=start, finish=finish, remaining=12.0)
    oracle.assign(session, project=outside, resource_=worker, start=start, finish=finish, remaining=7.0)
    result = capacity(session, user=admin, start=date(2027, 5, 3), end=date(2027, 5, 3), period="week",
                      eps_node=inner)
    row = next(item for item in result.items if item.id == worker.id)
    assert (row.booked_hours, row.other_hours) == ([pytest.approx(12.0)], [pytest.approx(7.0)])


def test_role_rows_and_the_role_filter(session, world):
    """Role rows: the available hours of the listed resources able to fill the role, and the hours of the
    assignments made with it (a named one and a generic one)."""
    admin, node = world
    project = factories.project(session, actor=admin, node=node)
    role = ResourceRole(code="PLC", name="PLC programmer")
    session.add(role)
    session.flush()
    able, unable = oracle.resource(session, max_units=0.5), oracle.resource(session)
    session.add(ResourceRoleLink(resource_id=able.id, role_id=role.id))
    session.flush()
    start, finish = datetime(2027, 5, 3, 8, 0), datetime(2027, 5, 7, 17, 0)
    oracle.assign(session, project=project, resource_=able, role=role, start=start, finish=finish, remaining=6.0)
    oracle.assign(session, project=project, role=role, start=start, finish=finish, remaining=9.0)
    oracle.assign(session, project=project, resource_=unable, start=start, finish=finish, remaining=4.0)
    result = capacity(session, user=admin, start=date(2027, 5, 3), end=date(2027, 5, 9), period="week", role=role,
                      with_roles=True)
    assert [item.id for item in result.items] == [able.id]
    [row] = result.roles
    assert row.id == role.id
    assert row.available_hours == [pytest.approx(40.0 * 0.5)]  # the built-in week: 5 × 8 h at half time
    assert row.booked_hours == [pytest.approx(15.0)]


@pytest.mark.parametrize("start, end, period, field", [
    (date(2027, 5, 3), date(2027, 5, 1), "week", "to"),
    (date(2027, 1, 1), date(2031, 1, 1), "week", "to"),
    (date(2027, 1, 1), date(2027, 2, 1), "fortnight", "period"),
])
def test_bad_ranges_are_refused_naming_the_field(session, world, start, end, period, field):
    admin, _node = world
    with pytest.raises(Invalid) as raised:
        capacity(session, user=admin, start=start, end=end, period=period)
    assert field in raised.value.errors


def test_max_units_on_is_the_one_home_of_the_rate_periods_limit():
    """The oracle above hands the rate periods to the oracle by hand; this pins the rule it assumes."""

    class Rate:
        def __init__(self, day, units):
            self.effective_from, self.max_units_per_hour = day, units

    rates = [Rate(date(2027, 3, 1), 0.5)]
    assert max_units_on(1.0, rates, date(2027, 2, 28)) == 1.0
    assert max_units_on(1.0, rates, date(2027, 3, 1)) == 0.5

"""P6's duration types, as pure rules and through the assignment service (figures worked by hand)."""

import pytest

from tests import factories
from wbs import services as wbs_services
from wbs.resources import duration
from wbs.resources import services as pool
from wbs.resources.duration import Work, recompute

START = Work(units=40.0, units_per_hour=1.0, duration=40.0)

# (duration type, what changed, its new value, the work after), each worked from 40 h at 1.0 over 40 h:
CASES = [
    # Fixed duration and units/time: a new duration or rate moves the units; new units move the rate.
    ("fixed_duration_and_units_time", "duration", 24.0, Work(24.0, 1.0, 24.0)),    # 1.0 × 24
    ("fixed_duration_and_units_time", "units_per_hour", 0.5, Work(20.0, 0.5, 40.0)),  # 0.5 × 40
    ("fixed_duration_and_units_time", "units", 60.0, Work(60.0, 1.5, 40.0)),       # 60 / 40
    # Fixed duration and units: a new duration or new units move the rate; a new rate moves the units.
    ("fixed_duration_and_units", "duration", 80.0, Work(40.0, 0.5, 80.0)),          # 40 / 80
    ("fixed_duration_and_units", "units", 10.0, Work(10.0, 0.25, 40.0)),            # 10 / 40
    ("fixed_duration_and_units", "units_per_hour", 2.0, Work(80.0, 2.0, 40.0)),     # 2 × 40
    # Fixed units: a new duration moves the rate; a new rate or new units move the duration.
    ("fixed_units", "duration", 20.0, Work(40.0, 2.0, 20.0)),                       # 40 / 20
    ("fixed_units", "units_per_hour", 0.5, Work(40.0, 0.5, 80.0)),                  # 40 / 0.5
    ("fixed_units", "units", 30.0, Work(30.0, 1.0, 30.0)),                          # 30 / 1.0
    # Fixed units/time: a new duration moves the units; new units or a new rate move the duration.
    ("fixed_units_time", "duration", 10.0, Work(10.0, 1.0, 10.0)),                  # 1.0 × 10
    ("fixed_units_time", "units", 20.0, Work(20.0, 1.0, 20.0)),                     # 20 / 1.0
    ("fixed_units_time", "units_per_hour", 4.0, Work(40.0, 4.0, 10.0)),             # 40 / 4
]


@pytest.mark.parametrize("duration_type, changed, value, expected", CASES)
def test_each_duration_type_moves_what_p6_moves(duration_type, changed, value, expected):
    after = recompute(duration_type, START, changed, value)
    assert after == pytest.approx(expected)
    assert after.units == pytest.approx(after.units_per_hour * after.duration)


def test_a_zero_duration_or_rate_leaves_the_other_as_it_was():
    assert recompute("fixed_duration_and_units", START, "duration", 0.0) == Work(40.0, 1.0, 0.0)
    assert recompute("fixed_units", START, "units_per_hour", 0.0) == Work(40.0, 0.0, 40.0)


def test_unknown_types_and_changes_are_errors():
    with pytest.raises(ValueError):
        recompute("fixed_nothing", START, "units", 1.0)
    with pytest.raises(ValueError):
        recompute("fixed_units", START, "cost", 1.0)


def test_the_rules_hold_their_docstring_examples():
    import doctest

    assert doctest.testmod(duration).failed == 0


@pytest.fixture
def admin(session):
    return factories.admin(session)


def _activity(session, admin, duration_type, hours=40.0):
    node = factories.node(session, actor=admin)
    project = factories.project(session, actor=admin, node=node)
    activity = wbs_services.create_activity(session, actor=admin, project=project, code="A", name="A",
                                            original_duration_hours=hours, duration_type=duration_type)
    return project, activity


def test_fixed_units_a_new_rate_moves_the_activity_duration(session, admin):
    """40 h of work at 1.0 over 40 h; the rate halves to 0.5: still 40 h of work, now over 40 / 0.5 = 80 h.
    At 25.00 an hour the cost stays 40 × 25.00 = 1000.00."""
    project, activity = _activity(session, admin, "fixed_units")
    resource = factories.resource(session, actor=admin, price="25.00")
    assignment = factories.assignment(session, actor=admin, activity=activity, resource=resource)
    pool.update_assignment(session, actor=admin, project=project, assignment=assignment, units_per_hour=0.5)
    assert (assignment.budgeted_units, assignment.units_per_hour) == (40.0, 0.5)
    assert activity.original_duration_hours == 80.0
    assert assignment.budgeted_cost == activity.budgeted_cost == project.planned_cost
    assert activity.budgeted_cost == pytest.approx(1000)


def test_fixed_duration_and_units_time_a_new_duration_moves_the_units_and_cost(session, admin):
    """1.0 over 40 h at 25.00; the duration becomes 24 h: 24 h of work, 24 × 25.00 = 600.00."""
    project, activity = _activity(session, admin, "fixed_duration_and_units_time")
    resource = factories.resource(session, actor=admin, price="25.00")
    assignment = factories.assignment(session, actor=admin, activity=activity, resource=resource)
    pool.update_assignment(session, actor=admin, project=project, assignment=assignment, duration_hours=24.0)
    assert activity.original_duration_hours == 24.0
    assert (assignment.budgeted_units, assignment.remaining_units) == (24.0, 24.0)
    assert str(project.planned_cost) == "600.00"


def test_fixed_duration_and_units_new_units_move_the_rate(session, admin):
    """60 h of work in the fixed 40 h: 60 / 40 = 1.5 units per hour; the duration stays."""
    project, activity = _activity(session, admin, "fixed_duration_and_units")
    assignment = factories.assignment(session, actor=admin, activity=activity, resource=factories.resource(
        session, actor=admin))
    pool.update_assignment(session, actor=admin, project=project, assignment=assignment, budgeted_units=60.0)
    assert (assignment.units_per_hour, activity.original_duration_hours) == (1.5, 40.0)


def test_fixed_units_time_new_units_move_the_duration_and_the_other_assignments_follow_it(session, admin):
    """Two assignments at 1.0 over 40 h; the first's units become 20: its duration is 20 / 1.0 = 20 h, the
    activity's too, and the second (fixed units/time) works 1.0 × 20 = 20 h."""
    project, activity = _activity(session, admin, "fixed_units_time")
    first = factories.assignment(session, actor=admin, activity=activity,
                                 resource=factories.resource(session, actor=admin))
    second = factories.assignment(session, actor=admin, activity=activity,
                                  resource=factories.resource(session, actor=admin))
    pool.update_assignment(session, actor=admin, project=project, assignment=first, budgeted_units=20.0)
    assert activity.original_duration_hours == 20.0
    assert (second.budgeted_units, second.units_per_hour) == (20.0, 1.0)

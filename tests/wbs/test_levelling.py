"""The leveller's rules on small built cases, each worked out by hand.

Every case uses P6's standard calendar (Monday to Friday, 08:00-12:00 and 13:00-17:00), Monday
2025-01-06 as its first day, and one resource ENG with a limit of 1 unit per hour unless it says
otherwise. An 8-hour activity starting Monday 08:00 finishes Monday 17:00; the next working minute
after Monday 17:00 is Tuesday 08:00.
"""

import datetime as dt
import doctest

import pytest

import wbs.resources.levelling
from wbs.resources.levelling import (Booking, Demand, LevelActivity, LevelLink, LevellingError, LevelOptions,
                                     LevelResource, level)
from wbs.scheduling.model import Calendar

CAL = {"std": Calendar("std")}
MON8, MON12, MON13, MON17 = (dt.datetime(2025, 1, 6, h) for h in (8, 12, 13, 17))
TUE8, TUE12, TUE13, TUE17 = (dt.datetime(2025, 1, 7, h) for h in (8, 12, 13, 17))
WED8, WED17 = dt.datetime(2025, 1, 8, 8), dt.datetime(2025, 1, 8, 17)
ENG = LevelResource(id=7, code="ENG", max_units=1.0)


def monday(id_, code, **kw):
    """An 8-hour activity whose CPM dates are Monday 08:00-17:00."""
    values = dict(id=id_, code=code, early_start=MON8, early_finish=MON17, duration_hours=8, calendar_id="std")
    values.update(kw)
    return LevelActivity(**values)


def test_docstring_example():
    result = doctest.testmod(wbs.resources.levelling)
    assert result.attempted > 0 and result.failed == 0


def test_two_activities_competing_for_one_resource():
    """A and B need ENG full time on Monday. By activity id A keeps Monday; B waits for A's booking to end
    (Monday 17:00 → Tuesday 08:00) and moves 8 working hours, ENG over-allocated Monday 08:00-17:00."""
    result = level([monday(1, "A"), monday(2, "B")], [], CAL, [ENG], [Demand(1, 7, 1), Demand(2, 7, 1)],
                   LevelOptions(priorities=(("activity_id", "asc"),)))
    assert result.dates[1] == (MON8, MON17)
    assert result.dates[2] == (TUE8, TUE17)
    [move] = result.moved
    assert (move.activity, move.delay_hours, move.reason, move.resource_code) == (2, 8.0, "resource", "ENG")
    assert (move.conflict_start, move.conflict_finish) == (MON8, MON17)
    assert result.unresolved == [] and result.overallocations == []


@pytest.mark.parametrize("priorities, keeps, moves", [
    ((("priority", "asc"),), 2, 1),          # B has priority 1 (top), A 3: B keeps Monday
    ((("activity_id", "desc"),), 2, 1),      # B before A by id descending
    ((("activity_id", "asc"),), 1, 2),       # A before B
    ((("total_float", "asc"), ("activity_id", "asc")), 2, 1),  # B has less float (0 h against A's 16 h)
])
def test_priority_decides_who_keeps_the_date(priorities, keeps, moves):
    acts = [monday(1, "A", priority=3, total_float_hours=16), monday(2, "B", priority=1, total_float_hours=0)]
    result = level(acts, [], CAL, [ENG], [Demand(1, 7, 1), Demand(2, 7, 1)], LevelOptions(priorities=priorities))
    assert result.dates[keeps] == (MON8, MON17)
    assert result.dates[moves] == (TUE8, TUE17)


def test_within_float_refuses_a_move_past_the_late_finish():
    """B has 4 h of float (late finish Tuesday 12:00); levelling would finish it Tuesday 17:00, past that,
    so within float the move is refused: B stays on Monday, reported unresolved (needed Tuesday 08:00), and
    ENG stays over-allocated Monday 08:00-17:00 at 2 units against 1."""
    acts = [monday(1, "A"), monday(2, "B", late_start=MON12, late_finish=TUE12, total_float_hours=4)]
    result = level(acts, [], CAL, [ENG], [Demand(1, 7, 1), Demand(2, 7, 1)],
                   LevelOptions(priorities=(("activity_id", "asc"),), within_float=True))
    assert result.dates[2] == (MON8, MON17)
    assert result.moved == []
    [left] = result.unresolved
    assert (left.activity, left.reason, left.resource_code, left.needed_start) == (2, "float", "ENG", TUE8)
    [over] = result.overallocations
    assert (over.start, over.finish, over.units, over.limit) == (MON8, MON17, 2.0, 1.0)


def test_within_float_allows_a_move_inside_the_float():
    """With 8 h of float (late finish Tuesday 17:00) the same move fits exactly."""
    acts = [monday(1, "A"), monday(2, "B", late_start=TUE8, late_finish=TUE17, total_float_hours=8)]
    result = level(acts, [], CAL, [ENG], [Demand(1, 7, 1), Demand(2, 7, 1)],
                   LevelOptions(priorities=(("activity_id", "asc"),), within_float=True))
    assert result.dates[2] == (TUE8, TUE17)
    assert result.unresolved == []


def test_minimum_float_preserved_shortens_the_allowed_delay():
    """8 h of float with 4 h to be preserved leaves 4 h (finish by Tuesday 12:00): the 8-hour move is refused."""
    acts = [monday(1, "A"), monday(2, "B", late_start=TUE8, late_finish=TUE17, total_float_hours=8)]
    result = level(acts, [], CAL, [ENG], [Demand(1, 7, 1), Demand(2, 7, 1)],
                   LevelOptions(priorities=(("activity_id", "asc"),), within_float=True, minimum_float_hours=4))
    assert result.dates[2] == (MON8, MON17)
    assert [u.reason for u in result.unresolved] == ["float"]


@pytest.mark.parametrize("threshold, b_dates", [(100, (TUE8, TUE17)), (120, (MON8, MON17))])
def test_threshold_lets_120_percent_pass(threshold, b_dates):
    """A and B each need 0.6 of ENG: together 1.2 units per hour. At 100 % that is over the limit and B moves;
    at 120 % the limit is 1.2 and both keep Monday."""
    result = level([monday(1, "A"), monday(2, "B")], [], CAL, [ENG], [Demand(1, 7, 0.6), Demand(2, 7, 0.6)],
                   LevelOptions(priorities=(("activity_id", "asc"),), threshold_percent=threshold))
    assert result.dates[2] == b_dates
    assert result.overallocations == []


def test_relationships_respected_after_a_delay():
    """A and C compete for ENG on Monday; A keeps it, C moves to Tuesday 08:00-17:00. C's successors, which
    use no resource, follow by logic: D (FS, 8 h) from Tuesday 17:00 to Wednesday 08:00-17:00; E (SS + 4 h,
    4 h) from C's start + 4 working hours = Tuesday 12:00, the next working minute 13:00, to 17:00;
    F (FF, 4 h) must finish with C at Tuesday 17:00, so starts 13:00. Each moved 8 hours, by logic."""
    acts = [monday(1, "A"), monday(3, "C"),
            LevelActivity(4, "D", TUE8, TUE17, 8, "std"),
            LevelActivity(5, "E", MON13, MON17, 4, "std"),
            LevelActivity(6, "F", MON13, MON17, 4, "std")]
    links = [LevelLink(3, 4, "FS"), LevelLink(3, 5, "SS", 4), LevelLink(3, 6, "FF")]
    result = level(acts, links, CAL, [ENG], [Demand(1, 7, 1), Demand(3, 7, 1)],
                   LevelOptions(priorities=(("activity_id", "asc"),)))
    assert result.dates[3] == (TUE8, TUE17)
    assert result.dates[4] == (WED8, WED17)
    assert result.dates[5] == (TUE13, TUE17)
    assert result.dates[6] == (TUE13, TUE17)
    reasons = {m.code: (m.reason, m.delay_hours) for m in result.moved}
    assert reasons == {"C": ("resource", 8.0), "D": ("logic", 8.0), "E": ("logic", 8.0), "F": ("logic", 8.0)}


def test_a_successor_is_not_levelled_before_its_predecessor():
    """B follows A (FS) and both need ENG: no competition; B keeps its CPM dates Tuesday 08:00-17:00."""
    acts = [monday(1, "A"), LevelActivity(2, "B", TUE8, TUE17, 8, "std")]
    result = level(acts, [LevelLink(1, 2)], CAL, [ENG], [Demand(1, 7, 1), Demand(2, 7, 1)])
    assert result.dates == {1: (MON8, MON17), 2: (TUE8, TUE17)}
    assert result.moved == []


def test_several_projects_share_a_resource_by_project_priority():
    """Project 1 (priority 50) and project 2 (priority 10, higher) each have a Monday activity on ENG;
    levelled together by project priority, project 2's keeps Monday and project 1's moves to Tuesday,
    although its code comes first."""
    acts = [monday(1, "P1-A", project_id=1, project_priority=50), monday(2, "P2-A", project_id=2, project_priority=10)]
    result = level(acts, [], CAL, [ENG], [Demand(1, 7, 1), Demand(2, 7, 1)],
                   LevelOptions(priorities=(("project_priority", "asc"),)))
    assert result.dates[2] == (MON8, MON17)
    assert result.dates[1] == (TUE8, TUE17)


def test_load_from_projects_outside_the_scope_is_respected():
    """Another project's activity (not levelled, a fixed load) holds ENG on Monday: X moves to Tuesday."""
    result = level([monday(1, "X")], [], CAL, [ENG], [Demand(1, 7, 1)],
                   background=[Booking(7, MON8, MON17, 1.0)])
    assert result.dates[1] == (TUE8, TUE17)
    assert (result.moved[0].conflict_start, result.moved[0].conflict_finish) == (MON8, MON17)


def test_limit_by_period():
    """ENG's limit rises to 2 from Tuesday 00:00. A, B, C all need 1 unit on Monday: A keeps Monday; B and C
    both fit on Tuesday, side by side."""
    eng = LevelResource(id=7, code="ENG", max_units=1.0, periods=((dt.datetime(2025, 1, 7), 2.0),))
    acts = [monday(1, "A"), monday(2, "B"), monday(3, "C")]
    result = level(acts, [], CAL, [eng], [Demand(i, 7, 1) for i in (1, 2, 3)],
                   LevelOptions(priorities=(("activity_id", "asc"),)))
    assert [result.dates[i] for i in (1, 2, 3)] == [(MON8, MON17), (TUE8, TUE17), (TUE8, TUE17)]


def test_started_activities_are_not_moved():
    """Z is in progress (fixed) on Monday; A, though first by id, is the one that moves."""
    acts = [monday(1, "A"), monday(2, "Z", fixed=True)]
    result = level(acts, [], CAL, [ENG], [Demand(1, 7, 1), Demand(2, 7, 1)],
                   LevelOptions(priorities=(("activity_id", "asc"),)))
    assert result.dates[2] == (MON8, MON17)
    assert result.dates[1] == (TUE8, TUE17)


def test_demand_above_the_limit_cannot_be_levelled():
    """A needs 2 units of a 1-unit resource: no delay helps; it stays and is reported (limit)."""
    result = level([monday(1, "A")], [], CAL, [ENG], [Demand(1, 7, 2)])
    assert result.dates[1] == (MON8, MON17)
    assert [(u.code, u.reason) for u in result.unresolved] == [("A", "limit")]
    assert [(o.units, o.limit) for o in result.overallocations] == [(2.0, 1.0)]


def test_bad_priority_field_is_refused():
    with pytest.raises(LevellingError, match="priority"):
        level([monday(1, "A")], [], CAL, [ENG], [], LevelOptions(priorities=(("colour", "asc"),)))


def test_each_activity_is_booked_once():
    """A and B are both in progress (fixed), B after A: A holds ENG on Monday, B on Tuesday, one unit each.
    Placing A releases B; B must not be booked a second time when the first activities are walked: no day
    holds more than the one unit."""
    acts = [monday(1, "A", fixed=True), LevelActivity(2, "B", TUE8, TUE17, 8, "std", fixed=True)]
    result = level(acts, [LevelLink(1, 2)], CAL, [ENG], [Demand(1, 7, 1), Demand(2, 7, 1)])
    assert result.dates == {1: (MON8, MON17), 2: (TUE8, TUE17)}
    assert result.overallocations == []


def test_a_milestone_follows_its_levelled_predecessor_and_uses_nothing():
    """M (a finish milestone on ENG, no duration) follows B, which moves to Tuesday: M lands at Tuesday 17:00
    although ENG is busy then, since a milestone does no work."""
    acts = [monday(1, "A"), monday(2, "B"), LevelActivity(3, "M", MON17, MON17, 0, "std")]
    result = level(acts, [LevelLink(2, 3)], CAL, [ENG], [Demand(1, 7, 1), Demand(2, 7, 1), Demand(3, 7, 1)],
                   LevelOptions(priorities=(("activity_id", "asc"),)))
    assert result.dates[3] == (TUE17, TUE17)
    assert result.overallocations == []

"""CPM on tiny networks whose dates are checked by hand.

Calendar: Monday-Friday 08:00-12:00 and 13:00-17:00.  Data date Monday
2025-01-06 08:00 unless a test says otherwise.  Mon 6 .. Fri 10 January.
"""

import datetime as dt

import pytest

from wbs.scheduling import (
    Activity,
    ActivityType,
    Calendar,
    ConstraintType,
    DependencyLoop,
    FloatType,
    LagCalendar,
    ProgressMode,
    Relationship,
    RelationshipType,
    ScheduleInputError,
    ScheduleOptions,
    schedule,
)
from wbs.scheduling.cpm import schedule_with_summary

D = dt.datetime
MON = D(2025, 1, 6, 8, 0)
CALS = {"std": Calendar("std"), "24h": Calendar.twenty_four_hour("24h")}
OPTS = ScheduleOptions(data_date=MON, default_calendar_id="std")
FS, SS, FF, SF = RelationshipType.FS, RelationshipType.SS, RelationshipType.FF, RelationshipType.SF


def act(id, hours=8, **kw):
    kw.setdefault("calendar_id", "std")
    return Activity(id, id, original_duration_hours=hours, remaining_duration_hours=kw.pop("remaining", hours), **kw)


def dates(r):
    return r.early_start, r.early_finish, r.late_start, r.late_finish


def run(acts, rels, **opts):
    return schedule(acts, rels, CALS, ScheduleOptions(**{"data_date": MON, "default_calendar_id": "std", **opts}))


def test_finish_to_start():
    res = run([act("A", 16), act("B", 8)], [Relationship("A", "B")])
    assert dates(res["A"]) == (MON, D(2025, 1, 7, 17), MON, D(2025, 1, 7, 17))
    assert dates(res["B"]) == (D(2025, 1, 8, 8), D(2025, 1, 8, 17), D(2025, 1, 8, 8), D(2025, 1, 8, 17))
    assert res["A"].critical and res["B"].critical and res["B"].longest_path


def test_start_to_start_with_lag():
    res = run([act("A", 16), act("B", 8)], [Relationship("A", "B", SS, 8)])
    assert res["B"].early_start == D(2025, 1, 7, 8)
    assert res["B"].early_finish == D(2025, 1, 7, 17)
    # B is not a finish-side successor of A: A is open-ended and may finish by the project end.
    assert res["A"].total_float_hours == 0


def test_finish_to_finish():
    res = run([act("A", 16), act("B", 8)], [Relationship("A", "B", FF)])
    assert (res["B"].early_start, res["B"].early_finish) == (D(2025, 1, 7, 8), D(2025, 1, 7, 17))


def test_start_to_finish_with_lag():
    res = run([act("A", 16), act("B", 8)], [Relationship("A", "B", SF, 16)])
    assert (res["B"].early_start, res["B"].early_finish) == (D(2025, 1, 7, 8), D(2025, 1, 7, 17))


def test_negative_lag_overlaps():
    res = run([act("A", 16), act("B", 8)], [Relationship("A", "B", FS, -8)])
    assert res["B"].early_start == D(2025, 1, 7, 8)
    assert res["A"].late_finish == D(2025, 1, 7, 17)


def test_total_and_free_float():
    # A(8) -> C, B(16) -> C: A can slip 8 h without moving C.
    res = run([act("A", 8), act("B", 16), act("C", 8)], [Relationship("A", "C"), Relationship("B", "C")])
    assert res["C"].early_start == D(2025, 1, 8, 8)
    assert res["A"].total_float_hours == 8 and res["A"].free_float_hours == 8
    assert res["A"].late_start == D(2025, 1, 7, 8)
    assert not res["A"].critical and res["B"].critical
    assert res["B"].longest_path and not res["A"].longest_path


def test_float_types():
    # A start-on-or-after Tue pushes early start; the finish side is open.
    acts = [act("A", 8), act("B", 24)]
    for ftype in FloatType:
        res = run(acts, [], float_type=ftype)
        assert res["A"].total_float_hours == 16


def test_open_ended_activity_floats_to_project_finish():
    res = run([act("A", 16), act("B", 8), act("C", 8)], [Relationship("A", "B")])
    assert res["C"].late_finish == D(2025, 1, 8, 17)
    assert res["C"].total_float_hours == 16


def test_open_ended_activities_critical():
    acts = [act("A", 16), act("B", 8), act("C", 8), act("D", 8)]
    res = run(acts, [Relationship("A", "B"), Relationship("C", "D")], open_ended_critical=True)
    assert res["D"].late_finish == res["D"].early_finish == D(2025, 1, 7, 17)
    assert res["C"].total_float_hours == 0 and res["C"].critical and res["D"].critical
    plain = run(acts, [Relationship("A", "B"), Relationship("C", "D")])
    assert plain["C"].total_float_hours == 8 and not plain["C"].critical


def test_must_finish_by_sets_late_finish_of_open_ends():
    res = run([act("A", 16)], [], must_finish_by=D(2025, 1, 10, 17))
    assert res["A"].late_finish == D(2025, 1, 10, 17)
    assert res["A"].total_float_hours == 24


@pytest.mark.parametrize(
    "ctype, cdate, expect",
    [
        # (early start, early finish, late start, late finish) of B (8 h) after A (8 h).
        (ConstraintType.START_ON_OR_AFTER, D(2025, 1, 8, 8), (D(2025, 1, 8, 8), D(2025, 1, 8, 17), D(2025, 1, 8, 8), D(2025, 1, 8, 17))),
        (ConstraintType.START_ON_OR_BEFORE, D(2025, 1, 7, 8), (D(2025, 1, 7, 8), D(2025, 1, 7, 17), D(2025, 1, 7, 8), D(2025, 1, 7, 17))),
        (ConstraintType.FINISH_ON_OR_AFTER, D(2025, 1, 9, 17), (D(2025, 1, 9, 8), D(2025, 1, 9, 17), D(2025, 1, 9, 8), D(2025, 1, 9, 17))),
        (ConstraintType.FINISH_ON_OR_BEFORE, D(2025, 1, 6, 17), (D(2025, 1, 7, 8), D(2025, 1, 7, 17), D(2025, 1, 6, 8), D(2025, 1, 6, 17))),
        (ConstraintType.START_ON, D(2025, 1, 8, 8), (D(2025, 1, 8, 8), D(2025, 1, 8, 17), D(2025, 1, 8, 8), D(2025, 1, 8, 17))),
        (ConstraintType.FINISH_ON, D(2025, 1, 9, 17), (D(2025, 1, 9, 8), D(2025, 1, 9, 17), D(2025, 1, 9, 8), D(2025, 1, 9, 17))),
        # Mandatory dates win over logic: B may not wait for A.
        (ConstraintType.MANDATORY_START, D(2025, 1, 6, 8), (D(2025, 1, 6, 8), D(2025, 1, 6, 17), D(2025, 1, 6, 8), D(2025, 1, 6, 17))),
        (ConstraintType.MANDATORY_FINISH, D(2025, 1, 10, 17), (D(2025, 1, 10, 8), D(2025, 1, 10, 17), D(2025, 1, 10, 8), D(2025, 1, 10, 17))),
    ],
)
def test_constraints(ctype, cdate, expect):
    res = run([act("A", 8), act("B", 8, constraint=ctype, constraint_date=cdate)], [Relationship("A", "B")])
    assert dates(res["B"]) == expect


def test_as_late_as_possible_uses_free_float():
    # A(8) -> C, B(16) -> C: A as late as possible moves to Tuesday.
    acts = [act("A", 8, constraint=ConstraintType.AS_LATE_AS_POSSIBLE), act("B", 16), act("C", 8)]
    res = run(acts, [Relationship("A", "C"), Relationship("B", "C")])
    assert (res["A"].early_start, res["A"].early_finish) == (D(2025, 1, 7, 8), D(2025, 1, 7, 17))
    assert res["A"].free_float_hours == 0 and res["A"].total_float_hours == 0
    assert res["C"].early_start == D(2025, 1, 8, 8)


def test_finish_counted_back_by_a_negative_lag_lands_at_a_start():
    """A negative lag on a finish-to-finish link is counted back from the predecessor's finish; the
    counting stops at the start of a working period, and P6 stores that as the successor's finish.

    A (24 h) runs Mon 6 - Wed 8 Jan 17:00.  B (8 h) must finish no earlier than 8 working hours before
    A's finish: counted back from Wed 17:00 that is Wed 08:00, so B finishes Wed 08:00 (the same instant
    in working time as Tue 17:00) and starts Tue 08:00.  Nothing waits for B's finish: it may slip to the
    project finish, Wed 17:00, 8 h of total float.  options-695.xer shows it: A2240, FF -72 h from A2130
    (finish Thu 18 Sep 2025 17:00), finishes Mon 8 Sep 08:00.
    """
    res = run([act("A", 24), act("B", 8)], [Relationship("A", "B", FF, -8)])
    assert (res["B"].early_start, res["B"].early_finish) == (D(2025, 1, 7, 8), D(2025, 1, 8, 8))
    assert res["B"].total_float_hours == 8


def test_late_start_held_by_a_start_to_start_link_into_non_working_time():
    """A start held back by a start-to-start link keeps the latest moment not after the successor's
    start; when that falls outside the predecessor's work time, P6 stores the end of the previous work,
    not the next work start (the late start must not come after what it waits for).

    Calendar "7d": every day 08:00-16:00.  L (7d, 96 h) runs Mon 6 - Fri 17 Jan 16:00: the project
    finish.  B (7d, 8 h) -> C (7d, 40 h): C late Mon 13 08:00 - Fri 17 16:00, so B late Sun 12
    08:00-16:00.  A (std, 8 h) SS -> B: A may start no later than Sun 12 08:00, on its own calendar the
    end of Fri 10, 17:00; nothing waits for its finish, so its late finish is 8 working hours on, Mon 13
    17:00.  Early dates Mon 6 08:00-17:00: 40 h of total float.  A file exported by P6 8.1 (an HS2
    cost-loaded programme, measured by bench/bench_p6_fidelity.py) stores this for eight activities:
    P1EWCC-PWP02-5090 (calendar Mon-Fri 08:00-17:00, SS to P1EWCC-PWP02-5100 on a seven-day
    calendar, late start Sat 9 Jun 2018 08:00) has late start Fri 8 Jun 2018 17:00.
    """
    seven = (((480, 960),),) * 7
    cals = {**CALS, "7d": Calendar("7d", week=seven)}
    acts = [act("L", 96, calendar_id="7d"), act("B", 8, calendar_id="7d"), act("C", 40, calendar_id="7d"),
            act("A", 8)]
    res = schedule(acts, [Relationship("B", "C"), Relationship("A", "B", SS)], cals, OPTS)
    assert (res["B"].late_start, res["B"].late_finish) == (D(2025, 1, 12, 8), D(2025, 1, 12, 16))
    assert dates(res["A"]) == (MON, D(2025, 1, 6, 17), D(2025, 1, 10, 17), D(2025, 1, 13, 17))
    assert res["A"].total_float_hours == 40


def test_start_to_finish_dates_keep_the_instant_of_the_start_they_follow():
    """Through a start-to-finish link without lag, a finish follows a start and a start is held by a
    finish: P6 keeps the instant itself, a finish at the start of a working day (08:00, not the end of
    the day before) and a late start at the end of a working day (17:00, not the next morning), also
    when the finish side allows the same late dates.

    Z (16 h) -> A (8 h) SF -> B (8 h) -> C (8 h, finish on or before Thu 9 17:00); L (32 h) alone.
    Early: Z Mon 6 - Tue 7, A Wed 8 08:00-17:00; B must finish no earlier than A starts, Wed 8 08:00,
    so it runs Tue 7 08:00 - Wed 8 08:00.  Late: C Thu 9, B finishes by Thu 9 08:00, that is Wed 8
    17:00 on its calendar; A must start by B's late finish, Wed 8 17:00, and finishes 8 h on, Thu 9
    17:00: the project finish (L's) allows exactly that too.  A has 8 h of total float.  In a P6 8.2
    file measured by bench/bench_p6_fidelity.py (XERNative's test-app/wk2.xer), activity 1570 (SF from
    1580) finishes Thu 24 Oct 2013 08:00 and 1600 (SF into 1590, late finish Wed 4 Feb 2015 16:00) has
    late start Wed 4 Feb 2015 16:00.
    """
    acts = [act("Z", 16), act("A"), act("B"), act("C", constraint=ConstraintType.FINISH_ON_OR_BEFORE,
                                                        constraint_date=D(2025, 1, 9, 17)), act("L", 32)]
    rels = [Relationship("Z", "A"), Relationship("A", "B", SF), Relationship("B", "C")]
    res = run(acts, rels)
    assert (res["B"].early_start, res["B"].early_finish) == (D(2025, 1, 7, 8), D(2025, 1, 8, 8))
    assert dates(res["A"]) == (D(2025, 1, 8, 8), D(2025, 1, 8, 17), D(2025, 1, 8, 17), D(2025, 1, 9, 17))
    assert res["A"].total_float_hours == 8


def test_as_late_as_possible_chain_moves_latest_first():
    """P6 moves an "as late as possible" activity by its free float.  When its successor is as late as
    possible too, the successor moves first and the predecessor then uses the room that leaves.

    A (8 h) -> B (8 h) -> D (8 h), C (32 h) -> D; A and B as late as possible.  Early dates: A Mon,
    B Tue, C Mon-Thu, D Fri 10 Jan.  B's free float towards D is Wed and Thu (16 h): B moves to Thu 9.
    A's free float towards the moved B is then Tue and Wed (16 h): A moves to Wed 8.  Both use up
    their total float (16 h each, late dates A Wed, B Thu) and keep no free float; D stays on Fri.
    options-695.xer has such chains (A5070 before A10200).
    """
    alap = {"constraint": ConstraintType.AS_LATE_AS_POSSIBLE}
    acts = [act("A", 8, **alap), act("B", 8, **alap), act("C", 32), act("D", 8)]
    res = run(acts, [Relationship("A", "B"), Relationship("B", "D"), Relationship("C", "D")])
    assert (res["A"].early_start, res["A"].early_finish) == (D(2025, 1, 8, 8), D(2025, 1, 8, 17))
    assert (res["B"].early_start, res["B"].early_finish) == (D(2025, 1, 9, 8), D(2025, 1, 9, 17))
    assert res["A"].total_float_hours == res["B"].total_float_hours == 0
    assert res["A"].free_float_hours == res["B"].free_float_hours == 0
    assert res["D"].early_start == D(2025, 1, 10, 8)


def test_free_float_before_a_moved_as_late_as_possible_activity():
    """The free float of an activity before an "as late as possible" one is measured to where that one
    moved (in options-695.xer this matches P6's free float of two more activities).

    E (8 h) -> A (8 h, as late as possible) -> D (8 h), C (24 h) -> D.  Early dates: E Mon, A Tue,
    C Mon-Wed, D Thu 9 Jan.  A moves by its free float (Wed, 8 h) to Wed 8; E may then slip by Tue:
    free float 8 h, as its total float (late finish Tue 17:00).
    """
    acts = [act("E", 8), act("A", 8, constraint=ConstraintType.AS_LATE_AS_POSSIBLE), act("C", 24), act("D", 8)]
    res = run(acts, [Relationship("E", "A"), Relationship("A", "D"), Relationship("C", "D")])
    assert res["A"].early_start == D(2025, 1, 8, 8)
    assert res["E"].free_float_hours == 8 and res["E"].total_float_hours == 8


def test_finish_on_or_before_gives_negative_float():
    res = run([act("A", 8), act("B", 8, constraint=ConstraintType.FINISH_ON_OR_BEFORE, constraint_date=D(2025, 1, 6, 17))], [Relationship("A", "B")])
    assert res["B"].total_float_hours == -8
    assert res["A"].total_float_hours == -8
    assert res["A"].late_finish == D(2025, 1, 3, 17)


def test_secondary_constraint():
    res = run(
        [act("A", 8, constraint=ConstraintType.START_ON_OR_AFTER, constraint_date=D(2025, 1, 7, 8),
             secondary_constraint=ConstraintType.FINISH_ON_OR_BEFORE, secondary_constraint_date=D(2025, 1, 7, 12))],
        [],
    )
    assert res["A"].early_start == D(2025, 1, 7, 8)
    assert res["A"].late_finish == D(2025, 1, 7, 12)
    assert res["A"].total_float_hours == -4  # 12:00-17:00 less lunch


def test_milestones():
    acts = [act("A", 16), act("F", 0, type=ActivityType.FINISH_MILESTONE), act("S", 0, type=ActivityType.START_MILESTONE), act("B", 8)]
    rels = [Relationship("A", "F"), Relationship("F", "S"), Relationship("S", "B")]
    res = run(acts, rels)
    assert (res["F"].early_start, res["F"].early_finish) == (D(2025, 1, 7, 17), D(2025, 1, 7, 17))
    assert (res["S"].early_start, res["S"].early_finish) == (D(2025, 1, 8, 8), D(2025, 1, 8, 8))
    assert res["F"].late_finish == D(2025, 1, 7, 17)
    assert res["S"].late_start == D(2025, 1, 8, 8)
    assert res["B"].early_start == D(2025, 1, 8, 8)


def test_level_of_effort_spans_its_neighbours_and_drives_nothing():
    acts = [act("A", 16), act("B", 8), act("L", 8, type=ActivityType.LEVEL_OF_EFFORT), act("C", 8)]
    rels = [Relationship("A", "B"), Relationship("A", "L", SS), Relationship("L", "B", FF), Relationship("L", "C")]
    res = run(acts, rels)
    assert (res["L"].early_start, res["L"].early_finish) == (MON, D(2025, 1, 8, 17))
    assert res["L"].total_float_hours == 0
    # C follows the LOE but is not driven by it.
    assert res["C"].early_start == MON


def test_level_of_effort_from_all_link_types():
    # L starts after A (FS) and ends by the later of C's start (FS to C) and
    # D's finish (FF from D): C starts Thu 08:00, so Wed 17:00; D ends Wed 17:00.
    acts = [act("A", 8), act("B", 16), act("C", 8), act("D", 24), act("L", 8, type=ActivityType.LEVEL_OF_EFFORT)]
    rels = [Relationship("A", "B"), Relationship("B", "C"), Relationship("A", "L"),
            Relationship("L", "C"), Relationship("D", "L", FF)]
    res = run(acts, rels)
    assert res["L"].early_start == D(2025, 1, 7, 8)  # after A
    assert res["L"].early_finish == D(2025, 1, 8, 17)
    assert res["C"].early_start == D(2025, 1, 9, 8)


def test_wbs_summary_spans_its_activities():
    acts = [act("A", 16, wbs_id="w1"), act("B", 8, wbs_id="w2"), act("W", 0, type=ActivityType.WBS_SUMMARY, wbs_id="w0")]
    res = schedule(acts, [Relationship("A", "B")], CALS, OPTS, wbs_parents={"w1": "w0", "w2": "w0", "w0": None})
    assert (res["W"].early_start, res["W"].early_finish) == (MON, D(2025, 1, 8, 17))


def test_completed_predecessor_releases_successor_at_data_date():
    acts = [act("A", 8, remaining=0, actual_start=D(2025, 1, 2, 8), actual_finish=D(2025, 1, 2, 17)), act("B", 8)]
    res = run(acts, [Relationship("A", "B")])
    assert res["B"].early_start == MON
    assert res["A"].early_start == res["A"].early_finish == MON  # P6 reports the data date
    assert res["A"].total_float_hours is None


@pytest.mark.parametrize("mode, late_finish, total_float", [
    (ProgressMode.RETAINED_LOGIC, D(2025, 1, 6, 17), -8),
    (ProgressMode.PROGRESS_OVERRIDE, D(2025, 1, 7, 17), 0),
])
def test_completed_successor_passes_its_late_date_back(mode, late_finish, total_float):
    """A completed activity still has late dates (from its own successors), and under retained logic
    P6 holds its predecessors to them; under progress override a completed successor holds nothing back.

    A (24 h, started Thu 2 Jan, 16 h left) FF -> B (complete Thu 2) -> C (8 h, finish on or before Tue
    7 17:00).  C late Tue 7 08:00-17:00, so B's late date is Tue 7 08:00 and A must finish by then: on
    its calendar Mon 6 17:00.  A's early finish is Tue 7 17:00 (16 h from the data date): -8 h of total
    float.  Under progress override A is held only by the project finish, Tue 7 17:00: no float.  The
    HS2 cost-loaded P6 8.1 file measured by bench/bench_p6_fidelity.py (retained logic) shows it:
    P1EWCC-PWP01-3040, under way, FF to the completed P1EWCC-PWP02-3800 (late date Mon 30 Oct 2017
    08:00), has late finish Fri 27 Oct 2017 17:00; options-695.xer (progress override) does not.
    """
    acts = [act("A", 24, remaining=16, actual_start=D(2025, 1, 2, 8)),
            act("B", 8, remaining=0, actual_start=D(2025, 1, 2, 8), actual_finish=D(2025, 1, 2, 17)),
            act("C", 8, constraint=ConstraintType.FINISH_ON_OR_BEFORE, constraint_date=D(2025, 1, 7, 17))]
    res = run(acts, [Relationship("A", "B", FF), Relationship("B", "C")], progress=mode)
    assert res["A"].early_finish == D(2025, 1, 7, 17)
    assert res["A"].late_finish == late_finish
    assert res["A"].total_float_hours == total_float


def test_lag_after_completed_predecessor_counts_from_actual_finish():
    acts = [act("A", 8, remaining=0, actual_start=D(2025, 1, 3, 8), actual_finish=D(2025, 1, 3, 17)), act("B", 8)]
    res = run(acts, [Relationship("A", "B", FS, 16)])
    assert res["B"].early_start == D(2025, 1, 8, 8)


def test_in_progress_remaining_work_starts_at_data_date():
    acts = [act("A", 24, remaining=8, actual_start=D(2025, 1, 2, 8))]
    res = run(acts, [], data_date=D(2025, 1, 6, 12, 0))
    assert res["A"].early_start == D(2025, 1, 6, 13)
    assert res["A"].early_finish == D(2025, 1, 7, 12)
    assert res["A"].remaining_early_start == res["A"].early_start


@pytest.mark.parametrize(
    "mode, start",
    [(ProgressMode.RETAINED_LOGIC, D(2025, 1, 8, 8)), (ProgressMode.PROGRESS_OVERRIDE, MON)],
)
def test_out_of_sequence_progress(mode, start):
    # S started although its predecessor P has not.
    acts = [act("P", 16), act("S", 16, remaining=8, actual_start=D(2025, 1, 3, 8))]
    res = run(acts, [Relationship("P", "S")], progress=mode)
    assert res["S"].early_start == start
    assert res["S"].early_finish == start.replace(hour=17)


@pytest.mark.parametrize(
    "lagcal, start",
    [
        (LagCalendar.PREDECESSOR, D(2025, 1, 8, 8)),  # 24 h of a 24-hour calendar: Tue 08:00 -> Wed 08:00
        (LagCalendar.TWENTY_FOUR_HOUR, D(2025, 1, 8, 8)),
        (LagCalendar.SUCCESSOR, D(2025, 1, 10, 8)),  # three 8-hour days from Tue 08:00 -> Thu 17:00
        (LagCalendar.PROJECT_DEFAULT, D(2025, 1, 10, 8)),
    ],
)
def test_lag_calendars(lagcal, start):
    acts = [act("A", 24, calendar_id="24h"), act("B", 8)]
    res = run(acts, [Relationship("A", "B", FS, 24)], lag_calendar=lagcal)
    assert res["A"].early_finish == D(2025, 1, 7, 8)
    assert res["B"].early_start == start


def test_project_start_after_data_date():
    res = run([act("A", 8)], [], project_start=D(2025, 1, 8, 0, 0))
    assert res["A"].early_start == D(2025, 1, 8, 8)


def test_expected_finish_sets_remaining_duration():
    acts = [act("A", 24, remaining=8, actual_start=D(2025, 1, 2, 8), expected_finish=D(2025, 1, 8, 17))]
    res = run(acts, [])
    assert res["A"].early_finish == D(2025, 1, 8, 17)


def test_expected_finish_before_a_not_started_activity_can_start_is_ignored():
    """Under "use expected finish dates" P6 makes the remaining duration run to the expected finish.
    Work under way whose expected finish has passed ends at once; work not started whose expected
    finish falls before it can start keeps its own duration (P6 will not date it backwards).

    A (16 h) -> B (8 h, expected finish Mon 6 17:00).  B cannot start before Wed 8 08:00, so its
    expected finish is ignored: B runs Wed 8 08:00-17:00.  C (24 h, started Thu 2, 8 h left, expected
    finish Fri 3 17:00, before the data date): no work left, it finishes at the data date, Mon 6 08:00.
    In the HS2 cost-loaded P6 8.1 file measured by bench/bench_p6_fidelity.py, COST-2410 (4152 h, not
    started, early start 1 Jan 2018, expected finish 29 Dec 2017) keeps its 4152 h (early finish 26
    Dec 2019), and P1EWCC-PWP04-1330 (under way, expected finish 24 Jul 2017, before the data date 16
    Sep 2017) has no remaining duration.
    """
    acts = [act("A", 16), act("B", 8, expected_finish=D(2025, 1, 6, 17)),
            act("C", 24, remaining=8, actual_start=D(2025, 1, 2, 8), expected_finish=D(2025, 1, 3, 17))]
    res = run(acts, [Relationship("A", "B")])
    assert (res["B"].early_start, res["B"].early_finish) == (D(2025, 1, 8, 8), D(2025, 1, 8, 17))
    assert res["C"].early_finish == MON


def test_summary():
    _res, summary = schedule_with_summary([act("A", 16)], [], CALS, OPTS)
    assert summary.early_finish == D(2025, 1, 7, 17)


# -- errors ---------------------------------------------------------------------


def test_loop_is_reported_with_its_codes():
    acts = [act("A"), act("B"), act("C"), act("D")]
    rels = [Relationship("D", "A"), Relationship("A", "B"), Relationship("B", "C"), Relationship("C", "A")]
    with pytest.raises(DependencyLoop) as err:
        run(acts, rels)
    assert sorted(err.value.cycle) == ["A", "B", "C"]
    assert "A" in str(err.value) and "->" in str(err.value)


def test_loop_is_found_before_input_errors():
    acts = [act("A", calendar_id="missing"), act("B")]
    with pytest.raises(DependencyLoop):
        run(acts, [Relationship("A", "B"), Relationship("B", "A", "XX")])


def test_self_loop():
    with pytest.raises(DependencyLoop) as err:
        run([act("A")], [Relationship("A", "A")])
    assert err.value.cycle == ["A"]


@pytest.mark.parametrize(
    "acts, rels, culprit",
    [
        ([act("A"), act("B")], [Relationship("A", "B", "XX")], "B"),
        ([act("A"), act("B")], [Relationship("A", "B", FS, "8")], "B"),
        ([act("A"), act("B")], [Relationship("A", "B", FS, float("nan"))], "B"),
        ([act("A", "eight")], [], "A"),
        ([act("A", calendar_id="nope")], [], "A"),
        ([act("A"), act("B")], [Relationship("A", "Z")], "A"),
    ],
)
def test_bad_input_names_the_activity(acts, rels, culprit):
    with pytest.raises(ScheduleInputError) as err:
        run(acts, rels)
    assert err.value.activity == culprit
    assert culprit in str(err.value)


def test_idle_calendar_is_an_input_error():
    cals = {"idle": Calendar("idle", week=((),) * 7)}
    with pytest.raises(ScheduleInputError):
        schedule([act("A", calendar_id="idle")], [], cals, OPTS)


@pytest.mark.parametrize(
    "lag, from_early, start",
    [
        (0, True, D(2025, 1, 8, 8)),  # waits for A's remaining work (Wed)
        (0, False, MON),  # A has started: the link is satisfied
        (16, True, D(2025, 1, 9, 8)),  # 8 h of lag spent since Fri; 8 h from Wed 08:00
        (16, False, D(2025, 1, 7, 8)),  # Fri 08:00 + 16 h = Mon 17:00
    ],
)
def test_start_to_start_lag_from_a_started_predecessor(lag, from_early, start):
    # A started Friday 3 Jan out of sequence; P (not started) holds its remaining work to Wednesday.
    acts = [act("P", 16), act("A", 24, remaining=8, actual_start=D(2025, 1, 3, 8)), act("B", 8)]
    rels = [Relationship("P", "A"), Relationship("A", "B", SS, lag)]
    res = run(acts, rels, ss_lag_from_early_start=from_early)
    assert res["A"].early_start == D(2025, 1, 8, 8)
    assert res["B"].early_start == start


def test_suspended_activity_resumes_at_its_resume_date():
    acts = [act("A", 24, remaining=8, actual_start=D(2025, 1, 2, 8), resume_date=D(2025, 1, 8, 8))]
    res = run(acts, [])
    assert (res["A"].early_start, res["A"].early_finish) == (D(2025, 1, 8, 8), D(2025, 1, 8, 17))


def test_calendar_that_runs_out_of_work_is_an_input_error():
    # Only one working day ever: a 16-hour activity cannot finish.
    cals = {"one": Calendar("one", week=((),) * 7, exceptions={dt.date(2025, 1, 6): ((480, 960),)})}
    with pytest.raises(ScheduleInputError):
        schedule([act("A", 16, calendar_id="one")], [], cals, ScheduleOptions(data_date=MON))


@pytest.mark.parametrize(
    "mode, start",
    [
        (ProgressMode.RETAINED_LOGIC, D(2025, 1, 8, 8)),  # logic passes through completed A2: waits for A1
        (ProgressMode.PROGRESS_OVERRIDE, MON),
        (ProgressMode.ACTUAL_DATES, MON),
    ],
)
def test_completed_out_of_sequence_activity(mode, start):
    # A1 -> A2 -> A3; A2 was done last week although A1 has not started.
    acts = [act("A1", 16), act("A2", 8, remaining=0, actual_start=D(2025, 1, 2, 8), actual_finish=D(2025, 1, 2, 17)),
            act("A3", 8)]
    res = run(acts, [Relationship("A1", "A2"), Relationship("A2", "A3")], progress=mode)
    assert res["A3"].early_start == start
    # Completed activities are reported at the data date, as P6 stores them.
    assert res["A2"].early_start == res["A2"].early_finish == MON


def test_actual_dates_mode_follows_an_actual_finish_after_the_data_date():
    acts = [act("A2", 8, remaining=0, actual_start=D(2025, 1, 6, 8), actual_finish=D(2025, 1, 7, 17)), act("A3", 8)]
    res = run(acts, [Relationship("A2", "A3")], progress=ProgressMode.ACTUAL_DATES)
    assert res["A3"].early_start == D(2025, 1, 8, 8)


@pytest.mark.parametrize("mode", [ProgressMode.RETAINED_LOGIC, ProgressMode.PROGRESS_OVERRIDE])
@pytest.mark.parametrize("lag, start", [(0, MON), (8, D(2025, 1, 7, 8))])
def test_actual_finish_after_the_data_date_counts_as_the_data_date(mode, lag, start):
    """P6's scheduling options (Oracle's note "Retained Logic, Progress Override and Actual Dates
    explained"): only *Actual Dates* schedules a successor from an actual finish after the data date.
    Under the other two a completed activity releases its successors at the data date.

    A2 is complete, finished Tue 7 Jan 17:00, after the data date Mon 6 Jan 08:00.  A3 (8 h) follows by
    FS: without lag it starts at the data date, Mon 08:00; with 8 h of lag, one working day later,
    Tue 08:00 (not Wed 8 Jan, as the actual finish would give: see the *Actual Dates* test above).
    options-695.xer (progress override) shows it: A10290 starts at its data date, 09:40, though its
    completed predecessor M1030 finished at 17:00 that day.
    """
    acts = [act("A2", 8, remaining=0, actual_start=MON, actual_finish=D(2025, 1, 7, 17)), act("A3", 8)]
    res = run(acts, [Relationship("A2", "A3", FS, lag)], progress=mode)
    assert res["A3"].early_start == start
    assert res["A3"].early_finish == start.replace(hour=17)


@pytest.mark.parametrize("link, late_finish, total_float", [(FS, D(2025, 1, 8, 17), 16), (FF, D(2025, 1, 7, 17), 8)])
def test_progress_override_link_into_the_start_of_work_under_way(link, late_finish, total_float):
    """Under progress override an activity under way no longer waits for its predecessors, and the
    start it has already made holds nothing back in the backward pass either; its finish still does.

    S started Fri 3 Jan; its remaining 8 h run Mon 6 Jan; T (8 h) follows it, Tue; Z (24 h, alone) makes
    the project finish Wed 8 Jan 17:00.  Late dates: T Wed 08:00-17:00, S must finish by Tue 17:00.
    P (8 h, not started, Mon) links to S:

    * FS: the link goes into S's start, which happened: P is an open end, late finish the project's,
      Wed 17:00, total float 16 h;
    * FF: P must finish by S's late finish, Tue 17:00: total float 8 h.

    options-695.xer shows it: A9410 (under way) keeps its own finish as late finish, 0 float, though an
    FS -80 h link goes into A9510, under way and late; its FF link into A9780 holds it to A9780's late finish.
    """
    acts = [act("P", 8), act("S", 16, remaining=8, actual_start=D(2025, 1, 3, 8)), act("T", 8), act("Z", 24)]
    res = run(acts, [Relationship("P", "S", link), Relationship("S", "T")], progress=ProgressMode.PROGRESS_OVERRIDE)
    assert res["S"].early_start == MON and res["T"].early_start == D(2025, 1, 7, 8)
    assert res["S"].late_finish == D(2025, 1, 7, 17)
    assert res["P"].late_finish == late_finish
    assert res["P"].total_float_hours == total_float


def test_lag_from_a_completed_activity_held_by_retained_logic():
    # A2 finished Fri 3 Jan 17:00 out of sequence, with an 8 h lag to A3 of
    # which no working time has elapsed by Mon 08:00; A1 holds A2 to Tue
    # 17:00, so A3 waits for Tue 17:00 + 8 h.
    acts = [act("A1", 16), act("A2", 8, remaining=0, actual_start=D(2025, 1, 3, 8), actual_finish=D(2025, 1, 3, 17)),
            act("A3", 8)]
    res = run(acts, [Relationship("A1", "A2"), Relationship("A2", "A3", FS, 8)])
    assert res["A3"].early_start == D(2025, 1, 9, 8)

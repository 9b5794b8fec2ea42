"""Properties of CPM schedules on random networks (hypothesis)."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from wbs.scheduling import (
    Activity,
    ActivityType,
    Calendar,
    Relationship,
    RelationshipType,
    ScheduleOptions,
    schedule,
)
from wbs.scheduling.calendars import WorkTime

DD = dt.datetime(2025, 1, 6, 8, 0)
CALS = {
    "std": Calendar("std", exceptions={dt.date(2025, 1, 20): (), dt.date(2025, 2, 3): ()}),
    "6d": Calendar("6d", week=tuple(((7 * 60, 15 * 60),) if d < 6 else () for d in range(7))),
}
WORK = {k: WorkTime(c) for k, c in CALS.items()}
TYPES = [RelationshipType.FS, RelationshipType.SS, RelationshipType.FF, RelationshipType.SF]


@st.composite
def networks(draw):
    n = draw(st.integers(1, 25))
    cals = draw(st.sampled_from([["std"], ["6d"], ["std", "6d"]]))
    acts = []
    for i in range(n):
        kind = draw(st.sampled_from([ActivityType.TASK] * 6 + [ActivityType.START_MILESTONE, ActivityType.FINISH_MILESTONE]))
        hours = 0 if kind != ActivityType.TASK else draw(st.sampled_from([8, 16, 4, 40, 0.5]))
        acts.append(Activity(str(i), f"A{i}", type=kind, original_duration_hours=hours,
                             remaining_duration_hours=hours, calendar_id=draw(st.sampled_from(cals))))
    rels = []
    for _ in range(draw(st.integers(0, 2 * n))):
        if n < 2:
            break
        a = draw(st.integers(0, n - 2))
        b = draw(st.integers(a + 1, n - 1))
        rels.append(Relationship(str(a), str(b), draw(st.sampled_from(TYPES)), draw(st.sampled_from([0, 0, 8, 4, -4]))))
    return acts, rels


@settings(max_examples=150, deadline=None)
@given(networks())
def test_schedule_invariants(net):
    acts, rels = net
    one_calendar = len({a.calendar_id for a in acts}) == 1
    by_id = {a.id: a for a in acts}
    res = schedule(acts, rels, CALS, ScheduleOptions(data_date=DD, default_calendar_id="std"))
    for a in acts:
        r = res[a.id]
        wt = WORK[a.calendar_id]
        assert r.early_start >= DD
        assert r.early_start <= r.early_finish and r.late_start <= r.late_finish
        assert r.critical == (r.total_float_hours <= 0)
        if one_calendar:
            # Without constraints or a must-finish-by date nothing is
            # negative.  (Across calendars it can be, in P6 too: a date that
            # is a finish on one calendar is idle time on another.)
            assert r.total_float_hours >= 0
            assert -1e-9 <= r.free_float_hours <= r.total_float_hours + 1e-9
        if a.type == ActivityType.TASK and a.remaining_duration_hours:
            assert wt.work_between(r.early_start, r.early_finish) == round(a.remaining_duration_hours * 60)
            assert wt.work_between(r.late_start, r.late_finish) == round(a.remaining_duration_hours * 60)
            assert wt.is_working_minute(_m(r.early_start))
    # Zero-lag logic is honoured, in the successor's working time (a finish
    # at 17:00 and the next 08:00 are the same moment of work).
    for rel in rels:
        if rel.lag_hours:
            continue
        p, s = res[rel.predecessor], res[rel.successor]
        w = WORK[by_id[rel.successor].calendar_id].work_between
        if rel.type == RelationshipType.FS:
            assert w(p.early_finish, s.early_start) >= 0 and w(p.late_finish, s.late_start) >= 0
        elif rel.type == RelationshipType.SS:
            assert w(p.early_start, s.early_start) >= 0
        elif rel.type == RelationshipType.FF:
            assert w(p.early_finish, s.early_finish) >= 0
    # Something drives the project end.  (Not necessarily with zero float:
    # a negative lag can give the last activity float of its own.)
    last = max(r.early_finish for r in res.values())
    assert any(r.longest_path and r.early_finish == last for r in res.values())


def _m(d):
    from wbs.scheduling.calendars import to_minutes

    return to_minutes(d)


@st.composite
def progressed_networks(draw):
    from wbs.scheduling import ConstraintType, ProgressMode

    acts, rels = draw(networks())
    out = []
    for a in acts:
        state = draw(st.sampled_from(["new", "new", "started", "done"]))
        kw = {}
        if state == "started" and a.type == ActivityType.TASK:
            kw = dict(actual_start=DD - dt.timedelta(days=draw(st.integers(1, 10))),
                      remaining_duration_hours=a.original_duration_hours / 2)
        elif state == "done":
            start = DD - dt.timedelta(days=draw(st.integers(2, 10)))
            kw = dict(actual_start=start, actual_finish=start + dt.timedelta(hours=8), remaining_duration_hours=0)
        if draw(st.booleans()) and draw(st.booleans()):
            kw["constraint"] = draw(st.sampled_from(list(ConstraintType)))
            kw["constraint_date"] = DD + dt.timedelta(hours=draw(st.integers(-48, 400)))
        out.append(a.__class__(**{**{f: getattr(a, f) for f in a.__slots__}, **kw}))
    options = ScheduleOptions(
        data_date=DD, default_calendar_id="std", progress=draw(st.sampled_from(list(ProgressMode))),
        must_finish_by=draw(st.sampled_from([None, DD + dt.timedelta(days=20)])),
        open_ended_critical=draw(st.booleans()),
    )
    return out, rels, options


@settings(max_examples=150, deadline=None)
@given(progressed_networks())
def test_progressed_networks_schedule_sanely(net):
    acts, rels, options = net
    res = schedule(acts, rels, CALS, options)
    for a in acts:
        r = res[a.id]
        w = WORK[a.calendar_id]
        if a.actual_finish is not None:
            assert r.total_float_hours is None and r.early_start == r.early_finish == DD
            continue
        # Remaining work never starts before the data date...
        assert w.work_between(DD, r.early_start) >= 0
        # ...and the dates of each activity are in order.
        assert r.early_start <= r.early_finish and r.late_start <= r.late_finish
        assert r.remaining_early_start == r.early_start
        assert r.total_float_hours is not None and r.free_float_hours is not None

"""Critical path method (CPM) scheduling with Primavera P6's rules.

:func:`schedule` is a pure function: activities, relationships, calendars
and options in; a dict of :class:`~wbs.scheduling.model.ActivityResult` out.

How it works
------------
Inputs are validated and indexed into flat lists (one slot per activity,
times as integer minutes on one timeline, see
:mod:`wbs.scheduling.calendars`).  A topological order is computed once by
Kahn's algorithm over integer adjacency lists; when it cannot be completed
the leftover subgraph is handed to :func:`networkx.find_cycle` to name the
loop (:class:`~wbs.scheduling.errors.DependencyLoop`).

The forward pass then gives every unfinished activity its (remaining) early
dates, the backward pass its late dates, and a last pass the floats, the
longest path, level-of-effort and WBS summary dates.

The P6 rules implemented
------------------------
* Nothing unfinished is scheduled before the data date; not-started work not
  before the project's planned start either.
* Completed activities keep their actual dates; their successors are tied to
  those actual dates (``actual finish + lag``), which in practice releases
  them at the data date.  P6 reports a completed activity's early start and
  finish as the data date.
* In-progress activities: the remaining work starts at the data date (or
  later, see below) and lasts the remaining duration.
* Out-of-sequence progress follows the progress option.  *Retained logic*:
  unfinished predecessors still hold back the remaining work of a started
  activity, and pass through a completed one to its successors (a completed
  activity with zero work left "finishes" only when its predecessors let
  it; lag not yet elapsed at the data date runs on from there).  *Progress
  override*: started and completed activities ignore their predecessors.
  *Actual dates*: started activities as under retained logic, completed ones
  drive their successors by their actual dates, even after the data date.
* Start-to-start lag from a started predecessor: the part not yet worked off
  since its actual start runs from its remaining early start ("lag from
  early start"), or the whole lag from the actual start.
* Starts snap forward to the next working minute of the activity's calendar
  (an 08:00), finishes back to the end of the last working minute (a
  17:00); a finish milestone sits at a finish, a start milestone at a start.
* Lags are counted in work minutes of the lag calendar the options choose.
* Constraints: start/finish on-or-after push the early dates, on-or-before
  pull the late dates, "on" does both, mandatory ones pin the dates even
  against logic, external dates (links to other projects) act like
  on-or-after / on-or-before.
* Open ends: an activity without successors on its finish side must finish
  by the must-finish-by date, or else by the project's early finish (by its
  own early finish when open-ended activities are made critical).
* Total float is measured in work hours of the activity's calendar between
  early and late finish, start, or the smaller of both; free float is the
  smallest slack towards any successor, or towards the project finish.
* A level-of-effort activity drives nothing: it spans from its earliest
  predecessor-side date to its latest successor-side date.  A WBS summary
  spans the activities below its WBS element.

Example
-------
>>> import datetime as dt
>>> from wbs.scheduling.model import Activity, Calendar, Relationship, ScheduleOptions
>>> acts = [Activity("a", "A", original_duration_hours=16, remaining_duration_hours=16, calendar_id="std"),
...         Activity("b", "B", original_duration_hours=8, remaining_duration_hours=8, calendar_id="std")]
>>> res = schedule(acts, [Relationship("a", "b")], {"std": Calendar("std")},
...                ScheduleOptions(data_date=dt.datetime(2025, 1, 6, 8, 0)))
>>> res["b"].early_start, res["b"].early_finish
(datetime.datetime(2025, 1, 8, 8, 0), datetime.datetime(2025, 1, 8, 17, 0))
"""

from __future__ import annotations

import gc
import math
import numbers
from collections import deque

import networkx as nx

from wbs.scheduling.calendars import NoWorkingTime, WorkTime, from_minutes, to_minutes
from wbs.scheduling.errors import DependencyLoop, ScheduleInputError
from wbs.scheduling.model import (
    ActivityResult,
    ActivityType,
    Calendar,
    ConstraintType,
    CriticalDefinition,
    FloatType,
    LagCalendar,
    ProgressMode,
    ProjectSummary,
    RelationshipType,
)

__all__ = ["schedule", "schedule_with_summary", "topological_order"]

# Integer codes used inside the passes.
_FS, _SS, _FF, _SF = 0, 1, 2, 3
# Keyed by the enum *values*: Enum.__hash__ is Python code, and these
# lookups run once per relationship.
_REL_CODES = {"FS": _FS, "SS": _SS, "FF": _FF, "SF": _SF, "PR_FS": _FS, "PR_SS": _SS, "PR_FF": _FF, "PR_SF": _SF}

_NOT_STARTED, _IN_PROGRESS, _COMPLETE = 0, 1, 2
_NORMAL, _START_MS, _FINISH_MS, _LOE, _WBS = 0, 1, 2, 3, 4
_KIND = {
    ActivityType.TASK.value: _NORMAL,
    ActivityType.RESOURCE_DEPENDENT.value: _NORMAL,
    ActivityType.START_MILESTONE.value: _START_MS,
    ActivityType.FINISH_MILESTONE.value: _FINISH_MS,
    ActivityType.LEVEL_OF_EFFORT.value: _LOE,
    ActivityType.WBS_SUMMARY.value: _WBS,
}


# Key of the 24-hour lag calendar among the activity calendars.
_LAG_24H = ("lag calendar", "24h")


def _enum_value(value):
    """The value of an enum member, or the object itself (a plain string)."""
    return getattr(value, "_value_", value)


def _minutes_of(value, what, label):
    """Hours (a real number) to whole minutes, or a ScheduleInputError."""
    if type(value) is float or type(value) is int:  # the common case, without ABC checks
        if value - value == 0:  # finite: inf - inf and nan - nan are nan
            return int(round(value * 60))
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ScheduleInputError(f"{what} must be a finite number of hours, got {value!r}", label)
    return int(round(float(value) * 60))


def _constraints(a, label, use_expected):
    """``(constraints, external early start, external late finish, expected finish)`` in minutes."""
    lst = []
    if a.constraint is not None:
        if a.constraint_date is None and a.constraint != ConstraintType.AS_LATE_AS_POSSIBLE:
            raise ScheduleInputError(f"constraint {_enum_value(a.constraint)} without a date", label)
        lst.append((a.constraint, to_minutes(a.constraint_date) if a.constraint_date is not None else None))
    if a.secondary_constraint is not None:
        if a.secondary_constraint_date is None:
            raise ScheduleInputError("secondary constraint without a date", label)
        lst.append((a.secondary_constraint, to_minutes(a.secondary_constraint_date)))

    def minutes(value):
        return to_minutes(value) if value is not None else None

    early = a.external_early_start
    if a.resume_date is not None and a.actual_start is not None and a.actual_finish is None:
        # A suspended activity's remaining work waits for its resume date.
        early = a.resume_date if early is None or a.resume_date > early else early
    return (
        lst,
        minutes(early),
        minutes(a.external_late_finish),
        minutes(a.expected_finish) if use_expected else None,
    )


def topological_order(n, succ):
    """Kahn's algorithm over ``succ`` (list of successor index lists).

    Returns
    -------
    order : list of int
        Complete when the graph is acyclic, else shorter than ``n``.
    """
    indeg = [0] * n
    for lst in succ:
        for j in lst:
            indeg[j] += 1
    queue = deque(i for i in range(n) if indeg[i] == 0)
    order = []
    append, popleft = order.append, queue.popleft
    while queue:
        i = popleft()
        append(i)
        for j in succ[i]:
            indeg[j] -= 1
            if indeg[j] == 0:
                queue.append(j)
    return order


def _raise_loop(n, succ, order, labels):
    """Find one cycle among the nodes Kahn's algorithm left over and raise it."""
    done = set(order)
    graph = nx.DiGraph()
    for i in range(n):
        if i in done:
            continue
        for j in succ[i]:
            if j not in done:
                graph.add_edge(i, j)
    cycle = nx.find_cycle(graph)
    raise DependencyLoop([labels[u] for u, _v in cycle])


def schedule(activities, relationships, calendars, options, wbs_parents=None):
    """Schedule a project by the critical path method, the way P6 does.

    Parameters
    ----------
    activities : iterable of Activity
    relationships : iterable of Relationship
    calendars : mapping of str to Calendar
        Every calendar an activity (or the options) refers to.
    options : ScheduleOptions
    wbs_parents : mapping of str to str or None, optional
        WBS element -> parent element; needed only for WBS summary activities.

    Returns
    -------
    dict of str to ActivityResult
        Keyed by :attr:`Activity.id`.

    Raises
    ------
    DependencyLoop
        The relationships form a cycle (checked first).
    ScheduleInputError
        Unknown activity in a relationship, unknown relationship type,
        non-numeric duration or lag, missing calendar, calendar without
        working time, duplicate activity id.
    """
    return schedule_with_summary(activities, relationships, calendars, options, wbs_parents)[0]


def schedule_with_summary(activities, relationships, calendars, options, wbs_parents=None):
    """Like :func:`schedule`, also returning a :class:`ProjectSummary`."""
    # The passes allocate many small objects and no cycles: the cyclic
    # garbage collector would only rescan the inputs again and again.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _schedule(activities, relationships, calendars, options, wbs_parents)
    except NoWorkingTime as exc:
        # A calendar ran out of working time far from the data date.
        raise ScheduleInputError(str(exc)) from None
    finally:
        if enabled:
            gc.enable()


def _schedule(activities, relationships, calendars, options, wbs_parents):
    acts = list(activities)
    rels = list(relationships)
    n = len(acts)
    index = {}
    labels = []
    for i, a in enumerate(acts):
        if a.id in index:
            raise ScheduleInputError("duplicate activity id", a.label)
        index[a.id] = i
        labels.append(a.label)

    # -- graph and loop check first -----------------------------------------
    succ_idx = [[] for _ in range(n)]
    rel_ends = []
    for r in rels:
        p = index.get(r.predecessor)
        s = index.get(r.successor)
        if p is None or s is None:
            missing = r.predecessor if p is None else r.successor
            other = labels[s] if p is None and s is not None else (labels[p] if p is not None else None)
            raise ScheduleInputError(f"relationship refers to unknown activity {missing!r}", other)
        succ_idx[p].append(s)
        rel_ends.append((p, s))
    order = topological_order(n, succ_idx)
    if len(order) < n:
        _raise_loop(n, succ_idx, order, labels)

    # -- validate and index ------------------------------------------------
    dd = to_minutes(options.data_date)
    ps = to_minutes(options.project_start) if options.project_start is not None else dd
    start_floor = max(dd, ps)
    worktimes = {}
    wt_list = []

    def worktime(cal_id, label):
        k = worktimes.get(cal_id)
        if k is None:
            cal = calendars.get(cal_id) if cal_id is not None else None
            if cal is None:
                raise ScheduleInputError(f"calendar {cal_id!r} not found", label)
            try:
                wt_list.append(WorkTime(cal, around=options.data_date))
            except NoWorkingTime as exc:
                raise ScheduleInputError(str(exc), label) from None
            k = worktimes[cal_id] = len(wt_list) - 1
        return k

    default_cal = options.default_calendar_id
    cal_of = [0] * n
    kind = [0] * n
    status = [0] * n
    dur = [0] * n
    act_s = [None] * n
    act_f = [None] * n
    cons = [None] * n
    use_expected = options.use_expected_finish
    kinds = _KIND
    cal_cache = worktimes
    for i, a in enumerate(acts):
        at = a.type
        k = kinds.get(getattr(at, "_value_", at))
        if k is None:
            raise ScheduleInputError(f"unknown activity type {a.type!r}", labels[i])
        kind[i] = k
        cid = a.calendar_id
        if cid is None:
            cid = default_cal
        c = cal_cache.get(cid)
        cal_of[i] = c if c is not None else worktime(cid, labels[i])
        # Durations: finite floats and ints take the fast path (x - x == 0
        # is false for inf and nan); anything else gets _minutes_of's checks.
        h = a.original_duration_hours
        if (type(h) is float or type(h) is int) and h - h == 0:
            orig = int(round(h * 60))
        else:
            orig = _minutes_of(h, "original duration", labels[i])
        h = a.remaining_duration_hours
        if h is None:
            rem = orig
        elif (type(h) is float or type(h) is int) and h - h == 0:
            rem = int(round(h * 60))
        else:
            rem = _minutes_of(h, "remaining duration", labels[i])
        if rem < 0:
            raise ScheduleInputError("remaining duration is negative", labels[i])
        if k == _START_MS or k == _FINISH_MS:
            rem = 0
        dur[i] = rem
        if a.actual_finish is not None:
            status[i] = _COMPLETE
            act_f[i] = to_minutes(a.actual_finish)
            act_s[i] = to_minutes(a.actual_start) if a.actual_start is not None else act_f[i]
        elif a.actual_start is not None:
            status[i] = _IN_PROGRESS
            act_s[i] = to_minutes(a.actual_start)
        if (
            a.constraint is not None
            or a.secondary_constraint is not None
            or a.external_early_start is not None
            or a.external_late_finish is not None
            or a.resume_date is not None
            or (a.expected_finish is not None and use_expected)
        ):
            cons[i] = _constraints(a, labels[i], use_expected)

    if options.lag_calendar == LagCalendar.TWENTY_FOUR_HOUR:
        worktimes[_LAG_24H] = len(wt_list)
        wt_list.append(WorkTime(Calendar.twenty_four_hour(), around=options.data_date))
    elif options.lag_calendar == LagCalendar.PROJECT_DEFAULT:
        if default_cal is None and rels:
            raise ScheduleInputError("lags count on the project default calendar, but none is set")
        if default_cal is not None:
            worktime(default_cal, None)
    wb = [w.work_before for w in wt_list]
    sa = [w.start_at for w in wt_list]
    fa = [w.finish_at for w in wt_list]

    lagmode = options.lag_calendar
    lag24 = worktimes.get(_LAG_24H)
    lagdef = worktimes.get(default_cal) if lagmode == LagCalendar.PROJECT_DEFAULT else None
    preds = [[] for _ in range(n)]
    succs = [[] for _ in range(n)]
    for r, (p, s) in zip(rels, rel_ends):
        rt = r.type
        t = _REL_CODES.get(rt._value_ if type(rt) is RelationshipType else rt)
        if t is None:
            raise ScheduleInputError(
                f"unknown relationship type {r.type!r} from {labels[p]}", labels[s]
            )
        h = r.lag_hours
        if (type(h) is float or type(h) is int) and h - h == 0:
            lag = int(round(h * 60))
        else:
            lag = _minutes_of(h, f"lag of the relationship from {labels[p]}", labels[s])
        if lagmode == LagCalendar.PREDECESSOR:
            lc = cal_of[p]
        elif lagmode == LagCalendar.SUCCESSOR:
            lc = cal_of[s]
        elif lagmode == LagCalendar.TWENTY_FOUR_HOUR:
            lc = lag24
        else:
            lc = lagdef
        preds[s].append((p, t, lag, lc))
        succs[p].append((s, t, lag, lc))

    override = options.progress == ProgressMode.PROGRESS_OVERRIDE
    ss_from_early_start = options.ss_lag_from_early_start
    driven = [k in (_NORMAL, _START_MS, _FINISH_MS) for k in kind]

    # -- forward pass ----------------------------------------------------------
    es = [0] * n  # early start (remaining early start when in progress)
    ef = [0] * n
    rs = [0] * n  # start successors see: actual start once started
    rf = [0] * n  # finish successors see: actual finish once complete
    # Clock readings (calendars.WorkTime.work_before) of the early dates on
    # the activity's own calendar: floats and same-calendar lags then need
    # no calendar lookups.
    wes = [0] * n
    wef = [0] * n
    retained = options.progress == ProgressMode.RETAINED_LOGIC
    pushed = [False] * n  # completed, but held past the data date by retained logic

    def link_base(p, t, lag, lc):
        """Earliest date link p -> (t, lag) allows on the successor side (slow, general path)."""
        sp = status[p]
        from_finish = t == _FS or t == _FF
        if sp == _COMPLETE:
            if from_finish:
                base = fa[lc](wb[lc](act_f[p]) + lag) if lag else act_f[p]
                if pushed[p]:
                    # Lag not yet elapsed at the data date runs on from the
                    # date retained logic holds the predecessor to.
                    left = lag - max(0, wb[lc](dd) - wb[lc](act_f[p])) if lag > 0 else 0
                    alt = fa[lc](wb[lc](ef[p]) + left) if left > 0 else ef[p]
                    if alt > base:
                        base = alt
            else:
                base = fa[lc](wb[lc](act_s[p]) + lag) if lag else act_s[p]
                if pushed[p] and base < dd:
                    base = es[p]
            return base
        if from_finish:
            base = rf[p]
        elif sp == _IN_PROGRESS and ss_from_early_start:
            base = es[p]
            lag = max(0, lag - (wb[lc](dd) - wb[lc](act_s[p]))) if lag > 0 else 0
        else:
            base = rs[p]
        return fa[lc](wb[lc](base) + lag) if lag else base

    start_memo = [{} for _ in wt_list]
    clock_memo = [{} for _ in wt_list]
    finish_memo = [{} for _ in wt_list]
    # Clock readings of the start floors on each calendar.
    w_floor_started = [w(dd) for w in wb]
    w_floor_new = [w(start_floor) for w in wb]
    for i in order:
        if not driven[i]:
            continue
        st = status[i]
        if st == _COMPLETE:
            rs[i] = act_s[i]
            rf[i] = act_f[i]
            e = dd
            if retained:
                # Retained logic passes through a completed activity: with no
                # work left, it still "finishes" only when its unfinished
                # predecessors let it, and its successors wait for that.
                for p, t, lag, lc in preds[i]:
                    if driven[p]:
                        b = link_base(p, t, lag, lc)
                        if b > e:
                            e = b
            es[i] = ef[i] = e
            pushed[i] = e > dd
            continue
        c = cal_of[i]
        w_ = wb[c]
        # Candidate start / finish, with their clock readings on this
        # activity's calendar when known for free (None: ask the calendar).
        if st == _IN_PROGRESS:
            cs, wcs = dd, w_floor_started[c]
        else:
            cs, wcs = start_floor, w_floor_new[c]
        floor, wfloor = cs, wcs
        cf = wcf = None
        if not (override and st == _IN_PROGRESS):
            for p, t, lag, lc in preds[i]:
                if not driven[p]:
                    continue
                sp = status[p]
                if t == _FS or t == _FF:
                    base = rf[p]
                    wp = wef[p] if sp != _COMPLETE else None
                elif sp == _IN_PROGRESS and ss_from_early_start:
                    # Start-side link from a started activity, P6's "lag from
                    # early start": the lag already worked off since the
                    # actual start is spent, the rest runs from where the
                    # remaining work starts.
                    base, wp = es[p], wes[p]
                    if lag > 0:
                        lag = max(0, lag - (wb[lc](dd) - wb[lc](act_s[p])))
                    else:
                        lag = 0
                else:
                    base = rs[p]
                    wp = wes[p] if sp == _NOT_STARTED else None
                if lag:
                    x = (wp if (wp is not None and lc == cal_of[p]) else wb[lc](base)) + lag
                    base = fa[lc](x)
                    wbase = x if lc == c else None
                else:
                    wbase = wp if cal_of[p] == c else None
                if sp == _COMPLETE and pushed[p]:
                    base = link_base(p, t, lag, lc)
                    wbase = None
                if t <= _SS:
                    if base > cs:
                        cs, wcs = base, wbase
                elif cf is None or base > cf:
                    cf, wcf = base, wbase
        d = dur[i]
        k = kind[i]
        mand_s = mand_f = None
        extra = cons[i]
        if extra is not None:
            lst, ext_es, _ext_lf, expf = extra
            for ctype, cd in lst:
                if st == _NOT_STARTED and ctype in (ConstraintType.START_ON_OR_AFTER, ConstraintType.START_ON):
                    if cd > cs:
                        cs, wcs = cd, None
                elif ctype in (ConstraintType.FINISH_ON_OR_AFTER, ConstraintType.FINISH_ON):
                    if cf is None or cd > cf:
                        cf, wcf = cd, None
                elif ctype == ConstraintType.MANDATORY_START and st == _NOT_STARTED:
                    mand_s = cd
                elif ctype == ConstraintType.MANDATORY_FINISH:
                    mand_f = cd
            if ext_es is not None and ext_es > cs:
                cs, wcs = ext_es, None
        if k == _NORMAL:
            if wcs is not None:
                w = wcs
            else:
                m = clock_memo[c]
                w = m.get(cs)
                if w is None:
                    w = m[cs] = w_(cs)
            if cf is not None:
                wf = (wcf if wcf is not None else w_(cf)) - d
                if wf > w:
                    w = wf
            if mand_s is not None:
                # Mandatory dates beat logic, but not the data date.
                w = max(w_(mand_s), wfloor)
            elif mand_f is not None:
                w = max(w_(mand_f) - d, wfloor)
            if extra is not None and extra[3] is not None:
                # Expected finish: the remaining duration is whatever fits.
                d = dur[i] = max(0, w_(extra[3]) - w)
            # Many activities share clock readings: memoised conversions.
            m = start_memo[c]
            e = m.get(w)
            if e is None:
                e = m[w] = sa[c](w)
            es[i] = e
            if d > 0:
                m = finish_memo[c]
                e = m.get(w + d)
                if e is None:
                    e = m[w + d] = fa[c](w + d)
            ef[i] = e
            wes[i] = w
            wef[i] = w + d
        else:
            if cf is None or cf < cs:
                t, wt = cs, wcs
            else:
                t, wt = cf, wcf
            if k == _FINISH_MS:
                if mand_f is not None:
                    t, wt = max(mand_f, floor), None
                elif mand_s is not None:
                    t, wt = max(mand_s, floor), None
                if wt is None:
                    wt = w_(t)
                # A finish milestone sits at a finish: where it is, if that
                # is the end of working time, else at the next start.
                e = fa[c](wt)
                if e != t:
                    e = sa[c](wt)
            else:
                if mand_s is not None:
                    t, wt = max(mand_s, floor), None
                elif mand_f is not None:
                    t, wt = max(mand_f, floor), None
                if wt is None:
                    wt = w_(t)
                e = sa[c](wt)
            es[i] = ef[i] = e
            wes[i] = wef[i] = wt
        rs[i] = act_s[i] if st == _IN_PROGRESS else es[i]
        rf[i] = ef[i]

    live = [i for i in range(n) if driven[i] and status[i] != _COMPLETE]
    early_finish = max((ef[i] for i in live), default=dd)
    open_finish = to_minutes(options.must_finish_by) if options.must_finish_by is not None else early_finish

    # -- backward pass -----------------------------------------------------------
    ls = [0] * n
    lf = [0] * n
    wls = [0] * n
    wlf = [0] * n
    w_open = [w(open_finish) for w in wb]
    open_crit = options.open_ended_critical
    open_end = [False] * n
    for i in reversed(order):
        if not driven[i]:
            continue
        c = cal_of[i]
        # Candidate late finish / late start with clock readings, as forward.
        cand_f = wcf = cand_s = wcs = None
        for s, t, lag, lc in succs[i]:
            if not driven[s] or status[s] == _COMPLETE:
                continue
            if t == _FS or t == _SS:
                base, ws = ls[s], wls[s]
            else:
                base, ws = lf[s], wlf[s]
            if lag > 0 and (t == _SS or t == _SF) and status[i] == _IN_PROGRESS:
                # Mirror of the forward pass: only the lag not yet worked off.
                lag = max(0, lag - (wb[lc](dd) - wb[lc](act_s[i])))
            if lag:
                x = (ws if lc == cal_of[s] else wb[lc](base)) - lag
                base = fa[lc](x)
                wbase = x if lc == c else None
            else:
                wbase = ws if cal_of[s] == c else None
            if t == _FS or t == _FF:
                if cand_f is None or base < cand_f:
                    cand_f, wcf = base, wbase
            elif cand_s is None or base < cand_s:
                cand_s, wcs = base, wbase
        st = status[i]
        if cand_f is None:
            open_end[i] = True
            if open_crit and st != _COMPLETE:
                # "Make open-ended activities critical": nothing waits for
                # the finish, so it may not slip at all.
                cand_f, wcf = ef[i], wef[i]
            else:
                cand_f, wcf = open_finish, w_open[c]
        if st == _COMPLETE:
            lf[i] = ls[i] = cand_f if cand_s is None else min(cand_f, cand_s)
            continue
        w_ = wb[c]
        d = dur[i]
        k = kind[i]
        mand_s = mand_f = None
        extra = cons[i]
        if extra is not None:
            lst, _ext_es, ext_lf, _expf = extra
            for ctype, cd in lst:
                if st == _NOT_STARTED and ctype in (ConstraintType.START_ON_OR_BEFORE, ConstraintType.START_ON):
                    if cand_s is None or cd < cand_s:
                        cand_s, wcs = cd, None
                elif ctype in (ConstraintType.FINISH_ON_OR_BEFORE, ConstraintType.FINISH_ON):
                    if cd < cand_f:
                        cand_f, wcf = cd, None
                elif ctype == ConstraintType.MANDATORY_START and st == _NOT_STARTED:
                    mand_s = cd
                elif ctype == ConstraintType.MANDATORY_FINISH:
                    mand_f = cd
            if ext_lf is not None and ext_lf < cand_f:
                cand_f, wcf = ext_lf, None
        if k == _NORMAL:
            if wcf is not None:
                wf = wcf
            else:
                m = clock_memo[c]
                wf = m.get(cand_f)
                if wf is None:
                    wf = m[cand_f] = w_(cand_f)
            if cand_s is not None:
                x = (wcs if wcs is not None else w_(cand_s)) + d
                if x < wf:
                    wf = x
            if mand_f is not None:
                wf = w_(mand_f)
            elif mand_s is not None:
                wf = w_(mand_s) + d
            m = finish_memo[c]
            e = m.get(wf)
            if e is None:
                e = m[wf] = fa[c](wf)
            lf[i] = e
            if d > 0:
                m = start_memo[c]
                e = m.get(wf - d)
                if e is None:
                    e = m[wf - d] = sa[c](wf - d)
            ls[i] = e
            wlf[i] = wf
            wls[i] = wf - d
        else:
            if cand_s is None or cand_s > cand_f:
                t, wt = cand_f, wcf
            else:
                t, wt = cand_s, wcs
            if mand_f is not None:
                t, wt = mand_f, None
            elif mand_s is not None:
                t, wt = mand_s, None
            if wt is None:
                wt = w_(t)
            if k == _FINISH_MS:
                e = fa[c](wt)
            else:
                # A start milestone sits at a start: where it is, if work
                # starts there, else at the end of the previous work.
                e = sa[c](wt)
                if e != t:
                    e = fa[c](wt)
            ls[i] = lf[i] = e
            wls[i] = wlf[i] = wt

    # -- level of effort and WBS summaries (they drive nothing) ----------------------
    for i in range(n):
        if kind[i] == _LOE and status[i] != _COMPLETE:
            _level_of_effort(i, preds, succs, driven, status, es, ef, ls, lf, rs, rf, cal_of, wb, sa, fa, dd, open_finish)
    if any(k == _WBS for k in kind):
        _wbs_summaries(acts, kind, status, es, ef, ls, lf, cal_of, wb, dur, wbs_parents or {})

    # -- floats, critical, longest path -------------------------------------------
    ftype = options.float_type
    tf = [None] * n
    ff = [None] * n
    for i in range(n):
        st = status[i]
        if st == _COMPLETE:
            continue
        c = cal_of[i]
        w_ = wb[c]
        if not driven[i]:
            # Level of effort / WBS summary: dates set after the passes.
            wes[i], wef[i], wls[i], wlf[i] = w_(es[i]), w_(ef[i]), w_(ls[i]), w_(lf[i])
        if ftype == FloatType.FINISH:
            tf[i] = wlf[i] - wef[i]
        elif ftype == FloatType.START:
            tf[i] = wls[i] - wes[i]
        else:
            tf[i] = min(wls[i] - wes[i], wlf[i] - wef[i])
        if not driven[i]:
            ff[i] = tf[i]
            continue
        best = None
        finish_side = False
        for s, t, lag, lc in succs[i]:
            if not driven[s] or status[s] == _COMPLETE:
                continue
            if t == _FS or t == _FF:
                finish_side = True
            # Slack of the link, in work minutes of this activity's calendar.
            if t == _FS or t == _FF:
                wsrc = wef[i]
            elif st == _NOT_STARTED:
                wsrc = wes[i]
            else:
                wsrc = w_(rs[i])
            if lag:
                if lc == c:
                    wsrc += lag
                else:
                    wsrc = w_(fa[lc](wb[lc](rf[i] if (t == _FS or t == _FF) else rs[i]) + lag))
            if cal_of[s] == c:
                wtarget = wes[s] if t <= _SS else wef[s]
            else:
                wtarget = w_(es[s] if t <= _SS else ef[s])
            slack = wtarget - wsrc
            if best is None or slack < best:
                best = slack
        if not finish_side:
            # Nothing waits for the finish: it may slip to the project's end.
            slack = w_(open_finish) - wef[i]
            if best is None or slack < best:
                best = slack
        if cons[i] is not None and cons[i][3] is not None:
            # An activity held to an expected finish has no free float in P6:
            # every such activity in the reference files shows 0, whatever
            # the slack towards its successors.
            best = 0
        ff[i] = best

    # As late as possible: a not-started activity uses up its free float, so
    # its early dates move later without delaying any successor.
    for i in range(n):
        extra = cons[i]
        if extra is None or status[i] != _NOT_STARTED or not driven[i] or not ff[i] or ff[i] < 0:
            continue
        if any(ct == ConstraintType.AS_LATE_AS_POSSIBLE for ct, _d in extra[0]):
            c = cal_of[i]
            shift = ff[i]
            wes[i] += shift
            wef[i] += shift
            if kind[i] == _FINISH_MS:
                es[i] = ef[i] = fa[c](wef[i])
            else:
                es[i] = sa[c](wes[i])
                ef[i] = fa[c](wef[i]) if wef[i] > wes[i] else es[i]
            rs[i], rf[i] = es[i], ef[i]
            tf[i] -= shift
            ff[i] = 0

    longest = _longest_path(n, order, preds, driven, status, kind, es, ef, rs, rf, cal_of, wb, fa, early_finish)
    threshold = int(round(options.critical_float_hours * 60))
    by_longest = options.critical == CriticalDefinition.LONGEST_PATH
    # P6 reports a completed activity's early dates as the data date, whatever
    # retained logic made of them internally.
    for i in range(n):
        if status[i] == _COMPLETE:
            es[i] = ef[i] = dd

    # Many activities share dates: convert each distinct minute once.
    conv = {m: from_minutes(m) for m in {*es, *ef, *ls, *lf}}
    d_es = [conv[m] for m in es]
    d_ef = [conv[m] for m in ef]
    d_ls = [conv[m] for m in ls]
    d_lf = [conv[m] for m in lf]
    done = [st == _COMPLETE for st in status]
    if by_longest:
        crit = [lp and not dn for lp, dn in zip(longest, done)]
    else:
        crit = [not dn and x <= threshold for x, dn in zip(tf, done)]
    if open_crit:
        for i in range(n):
            if open_end[i] and not done[i]:
                crit[i] = True
    # P6 leaves remaining dates and floats empty once an activity is complete.
    r_es = [None if dn else d for d, dn in zip(d_es, done)]
    r_ef = [None if dn else d for d, dn in zip(d_ef, done)]
    r_ls = [None if dn else d for d, dn in zip(d_ls, done)]
    r_lf = [None if dn else d for d, dn in zip(d_lf, done)]
    tf_h = [None if x is None else x / 60.0 for x in tf]
    ff_h = [None if x is None else x / 60.0 for x in ff]
    # One C-level map instead of a Python loop: this runs once per activity.
    results = dict(
        zip(
            [a.id for a in acts],
            map(ActivityResult, d_es, d_ef, d_ls, d_lf, r_es, r_ef, r_ls, r_lf, tf_h, ff_h, crit, longest),
        )
    )
    late_finish = max((lf[i] for i in live), default=open_finish)
    summary = ProjectSummary(
        data_date=options.data_date,
        start=from_minutes(min((es[i] for i in live), default=dd)),
        early_finish=from_minutes(early_finish),
        late_finish=from_minutes(max(late_finish, open_finish)),
    )
    return results, summary


def _level_of_effort(i, preds, succs, driven, status, es, ef, ls, lf, rs, rf, cal_of, wb, sa, fa, dd, open_finish):
    """Span a level-of-effort activity between its neighbours.

    Its start is the earliest date its links ask it to start (predecessors
    by FS and SS, successors by SS and SF, lags applied); its finish the
    latest date they ask it to finish (predecessors by FF and SF, successors
    by FS and FF).  Late dates likewise from the neighbours' late dates.
    Without a start-side link it starts at the data date; without a
    finish-side link it finishes where it starts (late: at the project's
    open finish).  Remaining work never starts before the data date.
    """
    c = cal_of[i]
    w_ = wb[c]
    s_e = s_l = f_e = f_l = None

    def shift(t, lag, lc):
        return fa[lc](wb[lc](t) + lag) if lag else t

    for p, t, lag, lc in preds[i]:
        if not driven[p]:
            continue
        done = status[p] == _COMPLETE
        if t == _FS or t == _FF:
            be = shift(rf[p], lag, lc)
            bl = be if done else shift(lf[p], lag, lc)
        else:
            be = shift(rs[p], lag, lc)
            bl = be if done else shift(ls[p], lag, lc)
        if t <= _SS:
            s_e = be if s_e is None or be < s_e else s_e
            s_l = bl if s_l is None or bl < s_l else s_l
        else:
            f_e = be if f_e is None or be > f_e else f_e
            f_l = bl if f_l is None or bl > f_l else f_l
    for s, t, lag, lc in succs[i]:
        if not driven[s] or status[s] == _COMPLETE:
            continue
        # The successor side of the link: its start (FS, SS) or finish (FF, SF).
        be = shift(es[s] if (t == _FS or t == _SS) else ef[s], -lag, lc)
        bl = shift(ls[s] if (t == _FS or t == _SS) else lf[s], -lag, lc)
        if t == _SS or t == _SF:
            s_e = be if s_e is None or be < s_e else s_e
            s_l = bl if s_l is None or bl < s_l else s_l
        else:
            f_e = be if f_e is None or be > f_e else f_e
            f_l = bl if f_l is None or bl > f_l else f_l
    if s_e is None or s_e < dd:
        s_e = dd
    e_start = sa[c](w_(s_e))
    if f_e is None or f_e < e_start:
        f_e = e_start
    if f_l is None:
        f_l = open_finish
    if s_l is None or s_l > f_l:
        s_l = f_l
    if s_l < dd:
        s_l = dd
    es[i] = e_start
    ef[i] = max(e_start, fa[c](w_(f_e)))
    ls[i] = sa[c](w_(s_l))
    lf[i] = max(ls[i], fa[c](w_(f_l)))
    rs[i], rf[i] = es[i], ef[i]


def _wbs_summaries(acts, kind, status, es, ef, ls, lf, cal_of, wb, dur, parents):
    """Give each WBS summary activity the span of the activities under its WBS element."""
    def ancestors(w):
        seen = 0
        while w is not None and seen < 1000:
            yield w
            w = parents.get(w)
            seen += 1

    spans = {}
    for i, a in enumerate(acts):
        if kind[i] == _WBS or status[i] == _COMPLETE or a.wbs_id is None:
            continue
        for w in ancestors(a.wbs_id):
            cur = spans.get(w)
            if cur is None:
                spans[w] = [es[i], ef[i], ls[i], lf[i]]
            else:
                cur[0] = min(cur[0], es[i])
                cur[1] = max(cur[1], ef[i])
                cur[2] = min(cur[2], ls[i])
                cur[3] = max(cur[3], lf[i])
    for i, a in enumerate(acts):
        if kind[i] != _WBS:
            continue
        span = spans.get(a.wbs_id)
        if span is not None:
            es[i], ef[i], ls[i], lf[i] = span


def _longest_path(n, order, preds, driven, status, kind, es, ef, rs, rf, cal_of, wb, fa, early_finish):
    """Mark activities on the longest path: back from the latest early finish along zero-slack links."""
    on = [False] * n
    stack = [i for i in range(n) if driven[i] and status[i] != _COMPLETE and ef[i] == early_finish]
    for i in stack:
        on[i] = True
    for i in range(n):
        # A WBS summary ending with the project is on it too.
        if kind[i] == _WBS and status[i] != _COMPLETE and ef[i] == early_finish:
            on[i] = True
    while stack:
        s = stack.pop()
        w_ = wb[cal_of[s]]
        for p, t, lag, lc in preds[s]:
            # Level-of-effort activities drive nothing, but P6 puts one on the
            # longest path when it ends (or starts) exactly with a link to it.
            if on[p] or status[p] == _COMPLETE or not (driven[p] or kind[p] == _LOE):
                continue
            base = rf[p] if (t == _FS or t == _FF) else rs[p]
            if lag:
                base = fa[lc](wb[lc](base) + lag)
            target = es[s] if t <= _SS else ef[s]
            if w_(target) <= w_(base):
                on[p] = True
                stack.append(p)
    return on

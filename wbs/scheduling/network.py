"""Validating and indexing the scheduler's input into a :class:`ScheduleState`.

Activities get positions, relationships become integer adjacency lists, a
topological order is computed once by Kahn's algorithm (when it cannot be
completed, the leftover subgraph is handed to :func:`networkx.find_cycle` to
name the loop), durations and lags become work minutes, and constraints
become :class:`~wbs.scheduling.constraints.Bounds`.
"""

from __future__ import annotations

import math
import numbers
from collections import deque

from wbs.scheduling.state import (COMPLETE, FF, FINISH_MS, FS, IN_PROGRESS, LOE, NORMAL, NOT_STARTED, SF, SS,
                                   START_MS, WBS, ScheduleState)
from wbs.scheduling.calendars import to_minutes
from wbs.scheduling.clocks import Clocks
from wbs.scheduling.constraints import read_bounds
from wbs.scheduling.errors import DependencyLoop, ScheduleInputError
from wbs.scheduling.model import ActivityType, Calendar, LagCalendar, RelationshipType

__all__ = ["build_state", "topological_order"]

# Keyed by the enum *values*: Enum.__hash__ is Python code, and these
# lookups run once per relationship.
_REL_CODES = {"FS": FS, "SS": SS, "FF": FF, "SF": SF,
              "PR_FS": FS, "PR_SS": SS, "PR_FF": FF, "PR_SF": SF}
_KIND = {
    ActivityType.TASK.value: NORMAL,
    ActivityType.RESOURCE_DEPENDENT.value: NORMAL,
    ActivityType.START_MILESTONE.value: START_MS,
    ActivityType.FINISH_MILESTONE.value: FINISH_MS,
    ActivityType.LEVEL_OF_EFFORT.value: LOE,
    ActivityType.WBS_SUMMARY.value: WBS,
}
# Key of the 24-hour lag calendar among the activity calendars.
_LAG_24H = ("lag calendar", "24h")


def build_state(acts, rels, calendars, options):
    """The :class:`ScheduleState` of lists ``acts`` and ``rels``, validated (inputs only)."""
    n = len(acts)
    index, labels = _index(acts)
    succ_idx, ends_p, ends_s = _link_ends(rels, index, labels, n)
    order = topological_order(n, succ_idx)
    if len(order) < n:
        _raise_loop(n, succ_idx, order, labels)
    dd = to_minutes(options.data_date)
    ps = to_minutes(options.project_start) if options.project_start is not None else dd
    clocks = Clocks(calendars, options.data_date)
    kind, status, cal_of, dur, act_s, act_f, bounds = _read_activities(acts, labels, clocks, options)
    lag_cal = _lag_calendar(clocks, options, rels)
    preds, succs = _read_links(rels, ends_p, ends_s, labels, cal_of, lag_cal, options)
    return ScheduleState(
        n=n, labels=labels, order=order, kind=kind, status=status, cal_of=cal_of, dur=dur,
        actual_start=act_s, actual_finish=act_f, bounds=bounds, preds=preds, succs=succs,
        driven=[k <= FINISH_MS for k in kind],  # NORMAL, START_MS, FINISH_MS
        clocks=clocks, data_date=dd, start_floor=max(dd, ps),
    )


def _index(acts):
    index = {}
    labels = []
    for i, a in enumerate(acts):
        if a.id in index:
            raise ScheduleInputError("duplicate activity id", a.label)
        index[a.id] = i
        labels.append(a.label)
    return index, labels


def _link_ends(rels, index, labels, n):
    """Successor lists, and the predecessor and successor positions of each relationship."""
    # Two comprehensions and a C-level ``None in`` test: cheaper than a
    # Python loop making a tuple per relationship.
    pos = index.get
    ends_p = [pos(r.predecessor) for r in rels]
    ends_s = [pos(r.successor) for r in rels]
    if None in ends_p or None in ends_s:
        _raise_unknown(rels, ends_p, ends_s, labels)
    succ_idx = [[] for _ in range(n)]
    for p, s in zip(ends_p, ends_s):
        succ_idx[p].append(s)
    return succ_idx, ends_p, ends_s


def _raise_unknown(rels, ends_p, ends_s, labels):
    """The error of the first relationship naming an unknown activity."""
    for r, p, s in zip(rels, ends_p, ends_s):
        if p is None or s is None:
            missing = r.predecessor if p is None else r.successor
            other = labels[s] if p is None and s is not None else (labels[p] if p is not None else None)
            raise ScheduleInputError(f"relationship refers to unknown activity {missing!r}", other)


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
    import networkx as nx  # only a project with a loop needs it: a schedule starts 0.1 s sooner without

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


def _minutes_of(value, what, label):
    """Hours (a real number) to whole minutes, or a ScheduleInputError."""
    # Finite floats and ints take the fast path (x - x == 0 is false for
    # inf and nan); anything else gets the full checks.
    if (type(value) is float or type(value) is int) and value - value == 0:
        return int(round(value * 60))
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ScheduleInputError(f"{what} must be a finite number of hours, got {value!r}", label)
    return int(round(float(value) * 60))


def _read_activities(acts, labels, clocks, options):
    """Per-activity lists: kind, status, calendar, remaining minutes, actual dates, bounds."""
    n = len(acts)
    kind, status, cal_of, dur = [0] * n, [0] * n, [0] * n, [0] * n
    act_s, act_f, bounds = [None] * n, [None] * n, [None] * n
    default_cal = options.default_calendar_id
    use_expected = options.use_expected_finish
    kinds, position = _KIND, clocks.get
    for i, a in enumerate(acts):
        at = a.type
        k = kinds.get(getattr(at, "_value_", at))
        if k is None:
            raise ScheduleInputError(f"unknown activity type {a.type!r}", labels[i])
        kind[i] = k
        cid = a.calendar_id
        if cid is None:
            cid = default_cal
        c = position(cid)
        cal_of[i] = c if c is not None else clocks.position(cid, labels[i])
        h = a.original_duration_hours
        if (type(h) is float or type(h) is int) and h - h == 0:  # inlined _minutes_of fast path
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
        dur[i] = 0 if k == START_MS or k == FINISH_MS else rem
        if a.actual_finish is not None:
            status[i] = COMPLETE
            act_f[i] = to_minutes(a.actual_finish)
            act_s[i] = to_minutes(a.actual_start) if a.actual_start is not None else act_f[i]
        elif a.actual_start is not None:
            status[i] = IN_PROGRESS
            act_s[i] = to_minutes(a.actual_start)
        if (  # anything read_bounds reads
            a.constraint is not None
            or a.secondary_constraint is not None
            or a.external_early_start is not None
            or a.external_late_finish is not None
            or a.resume_date is not None
            or (a.expected_finish is not None and use_expected)
        ):
            bounds[i] = read_bounds(a, labels[i], status[i] == NOT_STARTED, use_expected)
    return kind, status, cal_of, dur, act_s, act_f, bounds


def _lag_calendar(clocks, options, rels):
    """Calendar position of every lag when one calendar counts them all, else None."""
    mode = options.lag_calendar
    if mode == LagCalendar.TWENTY_FOUR_HOUR:
        return clocks.position(_LAG_24H, calendar=Calendar.twenty_four_hour())
    if mode == LagCalendar.PROJECT_DEFAULT:
        default_cal = options.default_calendar_id
        if default_cal is None and rels:
            raise ScheduleInputError("lags count on the project default calendar, but none is set")
        if default_cal is not None:
            return clocks.position(default_cal)
    return None


def _read_links(rels, ends_p, ends_s, labels, cal_of, lag_cal, options):
    """``preds`` and ``succs``: per activity, its links ``(pred, succ, type, lag minutes, lag calendar)``."""
    n = len(cal_of)
    preds = [[] for _ in range(n)]
    succs = [[] for _ in range(n)]
    by_pred = options.lag_calendar == LagCalendar.PREDECESSOR
    by_succ = options.lag_calendar == LagCalendar.SUCCESSOR
    codes = _REL_CODES
    for r, p, s in zip(rels, ends_p, ends_s):
        rt = r.type
        t = codes.get(rt._value_ if type(rt) is RelationshipType else rt)
        if t is None:
            raise ScheduleInputError(f"unknown relationship type {r.type!r} from {labels[p]}", labels[s])
        h = r.lag_hours
        if (type(h) is float or type(h) is int) and h - h == 0:
            lag = int(round(h * 60)) if h else 0
        else:
            lag = _minutes_of(h, f"lag of the relationship from {labels[p]}", labels[s])
        # One tuple serves both ends: half the allocations (and frees) of a
        # tuple per end, for 1.5 links per activity.
        link = (p, s, t, lag, cal_of[p] if by_pred else cal_of[s] if by_succ else lag_cal)
        preds[s].append(link)
        succs[p].append(link)
    return preds, succs

"""Resource levelling in Primavera P6's spirit: a pure, serial leveller over the CPM network.

No database and no Flask: the input is plain values (:class:`LevelActivity`, :class:`LevelLink`,
:class:`LevelResource`, :class:`Booking`, :class:`LevelOptions`), the output a :class:`LevellingResult`
(levelled start and finish of every activity and a report). ``wbs.resources.levelling_service`` loads
them from the database and stores the result; the CPM early and late dates are never changed.

What P6 does, and what this module follows
-------------------------------------------
The rules below follow Oracle's P6 help on levelling (read 2026-12):

* *Level Resources dialog box* (docs.oracle.com/cd/F51303_01/client_help/en_US/level_resources_dialog_box.htm):
  "Level resources only within activity Total Float: delay activities with resource conflicts only up to
  their late finish date"; "Preserve minimum float when leveling"; "Preserve scheduled early and late dates";
  "Consider assignments in other projects" (resources are shared across the portfolio). Followed:
  ``within_float`` refuses a delay that would finish an activity after its CPM late finish less
  ``minimum_float_hours``; the refused activity keeps its logic-driven date and its over-allocation is
  reported as left; bookings of activities outside the levelled scope (other projects) are a fixed load.
* *Preserve Minimum Activity Float* (docs.oracle.com/en/industries/construction-engineering/primavera-p6-project/
  26/p6-help/preserveminimumactivityfloat-44173a.html): with 5 days of float and 2 days preserved the activity
  may move at most 3 days. Followed as written (working hours of the activity's calendar).
* *Leveling priority definitions* (docs.oracle.com/cd/G25581_01/P6_Pro_Users_Guide/html/
  leveling_priority_definitions.htm) and the Prioritization tab (docs.oracle.com/cd/F74773_01/p6help/en/
  91740.htm): when two activities compete for a resource, the priorities list (field and ascending or
  descending: activity id, activity levelling priority, early start/finish, late start/finish, total float,
  free float, original or remaining duration, project priority) decides; "if leveling priorities conflict,
  P6 uses the Activity ID". Followed: ``LevelOptions.priorities`` with the same fields, the activity code
  then the id as the last keys.
* Over-allocation: P6 Professional's dialog has "Max % to over-allocate resources", which it applies when
  levelling within total float (emerald-associates.com, "Looking for Resource Leveling in Oracle Primavera
  Cloud": "can set the max percent to over-allocate resources when leveling within total float"); XER files keep
  it in SCHEDOPTIONS.``level_over_alloc_pct`` (25 in every real XER file of the fixtures that has the table, beside
  ``level_within_float_flag``, ``level_keep_sched_date_flag``, ``level_float_thrs_cnt`` for the minimum float
  and ``LevelPriorityList``). crmpm's ``threshold_percent`` is the whole limit as a percentage of max units
  (100 by default; 120 lets a resource work at 120 % of its max units per hour) and applies with or without
  the float limit: P6's 25 % within float is ``threshold_percent=125`` with ``within_float``.
* Preserve scheduled early and late dates: P6, unmarked, overwrites the early dates with the levelled
  ones. crmpm always keeps them (the levelled dates have their own columns), so the run is always one with
  the option marked; ``preserve_scheduled_dates`` is recorded with the run's options.

The method (serial, walking time)
---------------------------------
Activities enter a queue once all their predecessors in scope have levelled dates. Each has a *ready*
time: the latest of its CPM early start (which carries the data date, constraints and links from outside)
and what its links ask of its levelled predecessors (FS, SS, FF, SF with lags in the predecessor's
calendar, P6's default lag calendar). The queue is walked in time: the activity with the earliest ready
time, then the highest priority, is tried at that time; if every resource it uses has room for its units
per hour over the whole of its duration (its calendar's working time), it is booked there; else it goes
back into the queue at the end of the first over-allocated stretch it met, and competes again there.
In-progress and completed activities (``fixed``; the service also fixes level of effort and WBS summary
activities) are never moved: they book what they use at their dates. Milestones follow their predecessors and
book nothing. Resource calendars are not read: work follows the activity's calendar.

A hand-worked case
------------------
One engineer (max 1 unit per hour). A and B both need them full time for 8 hours on Monday 2025-01-06
(standard calendar, 08:00-12:00 and 13:00-17:00); no logic. By activity id, A is booked Monday
08:00-17:00; B is tried Monday 08:00, meets A's booking (1 + 1 > 1) until 17:00, goes back into the queue
at 17:00, which the calendar turns into Tuesday 08:00, and is booked there: B moves 8 working hours.

>>> import datetime as dt
>>> from wbs.scheduling.model import Calendar
>>> mon8, mon17 = dt.datetime(2025, 1, 6, 8), dt.datetime(2025, 1, 6, 17)
>>> acts = [LevelActivity(id=i, code=c, early_start=mon8, early_finish=mon17, duration_hours=8,
...                       calendar_id="std") for i, c in ((1, "A"), (2, "B"))]
>>> result = level(acts, [], {"std": Calendar("std")}, [LevelResource(id=7, code="ENG", max_units=1.0)],
...                [Demand(1, 7, 1.0), Demand(2, 7, 1.0)])
>>> result.dates[2]
(datetime.datetime(2025, 1, 7, 8, 0), datetime.datetime(2025, 1, 7, 17, 0))
>>> result.moved[0].delay_hours, result.moved[0].reason, result.moved[0].resource_code
(8.0, 'resource', 'ENG')
"""

from __future__ import annotations

import datetime as _dt
import heapq
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from wbs.scheduling.calendars import WorkTime, from_minutes, to_minutes
from wbs.scheduling.model import Calendar

__all__ = ["PRIORITY_FIELDS", "LevelActivity", "LevelLink", "LevelResource", "Demand", "Booking", "LevelOptions",
           "Move", "Unresolved", "Overallocation", "LevellingResult", "LevellingError", "level"]

# The fields a priority may name (P6's levelling priorities); each maps to a key of LevelActivity.
PRIORITY_FIELDS = ("activity_id", "priority", "project_priority", "early_start", "early_finish", "late_start",
                   "late_finish", "total_float", "free_float", "duration")
_EPS = 1e-9
_FAR = 10 ** 12  # minutes: "never" as a segment end
_MAX_TRIES = 100_000  # per activity: a guard against a limit that never lets it in


class LevellingError(ValueError):
    """Input the leveller cannot work with (an unknown calendar, priority field or resource)."""


@dataclass(slots=True)
class LevelActivity:
    """An activity as the leveller reads it (dates naive, project-local; durations in working hours).

    ``fixed``: in progress, completed or otherwise not to be moved (booked at its early dates).
    ``priority``: P6's activity levelling priority as a number, 1 the top and 5 the lowest.
    ``project_priority``: the project's levelling priority, 1 the highest and 100 the lowest.
    """

    id: int
    code: str
    early_start: _dt.datetime | None
    early_finish: _dt.datetime | None
    duration_hours: float
    calendar_id: str
    late_start: _dt.datetime | None = None
    late_finish: _dt.datetime | None = None
    total_float_hours: float | None = None
    free_float_hours: float | None = None
    priority: int = 3
    project_id: int | None = None
    project_priority: int = 50
    fixed: bool = False


@dataclass(frozen=True, slots=True)
class LevelLink:
    """A relationship ``predecessor → successor`` of type FS, SS, FF or SF with a lag in hours."""

    predecessor: int
    successor: int
    type: str = "FS"
    lag_hours: float = 0.0


@dataclass(frozen=True, slots=True)
class LevelResource:
    """A resource's limit: ``max_units`` per hour, changed from a moment on by ``periods`` ((start, units), sorted)."""

    id: int
    code: str
    max_units: float
    periods: tuple[tuple[_dt.datetime, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Demand:
    """An activity's need of a resource: ``units`` per hour over the activity's working time."""

    activity: int
    resource: int
    units: float


@dataclass(frozen=True, slots=True)
class Booking:
    """A fixed load on a resource from outside the levelled scope (another project's activity)."""

    resource: int
    start: _dt.datetime
    finish: _dt.datetime
    units: float


@dataclass(frozen=True, slots=True)
class LevelOptions:
    """How to level (P6's Level Resources dialog).

    ``priorities``: (field, "asc" | "desc") pairs, the first deciding, from :data:`PRIORITY_FIELDS`.
    ``within_float``: delay only up to the late finish less ``minimum_float_hours``.
    ``threshold_percent``: a resource is over-allocated above this percentage of its max units.
    """

    priorities: tuple[tuple[str, str], ...] = (("early_start", "asc"), ("total_float", "asc"))
    within_float: bool = False
    minimum_float_hours: float = 0.0
    threshold_percent: float = 100.0
    preserve_scheduled_dates: bool = True


@dataclass(frozen=True, slots=True)
class Move:
    """An activity the leveller moved: from its early start to ``start``, by ``delay_hours`` of its calendar.

    ``reason`` is ``resource`` (``resource_id`` was over-allocated from ``conflict_start`` to ``conflict_finish``
    at its early dates) or ``logic`` (a levelled predecessor moved it).
    """

    activity: int
    code: str
    early_start: _dt.datetime
    start: _dt.datetime
    finish: _dt.datetime
    delay_hours: float
    reason: str
    resource_id: int | None = None
    resource_code: str | None = None
    conflict_start: _dt.datetime | None = None
    conflict_finish: _dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Unresolved:
    """An activity left over-allocating ``resource_id``: the delay it needed was refused (``reason``:
    ``float`` within float; ``limit`` its units exceed the resource's limit for good)."""

    activity: int
    code: str
    resource_id: int
    resource_code: str
    start: _dt.datetime
    finish: _dt.datetime
    reason: str
    needed_start: _dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Overallocation:
    """A stretch where a resource's booked units per hour exceed its limit (times the threshold) after levelling."""

    resource_id: int
    resource_code: str
    start: _dt.datetime
    finish: _dt.datetime
    units: float
    limit: float


@dataclass
class LevellingResult:
    """Levelled (start, finish) by activity id, and the report."""

    dates: dict[int, tuple[_dt.datetime | None, _dt.datetime | None]]
    moved: list[Move] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    overallocations: list[Overallocation] = field(default_factory=list)

    @property
    def finish(self) -> _dt.datetime | None:
        """The latest levelled finish."""
        finishes = [f for _s, f in self.dates.values() if f is not None]
        return max(finishes) if finishes else None


class _Profile:
    """A resource's booked units per hour and limit as step functions over minutes (``times[i]`` to ``times[i+1]``)."""

    __slots__ = ("times", "used", "cap")

    def __init__(self, limit: float, periods: Iterable[tuple[int, float]]):
        self.times = [-_FAR]
        self.used = [0.0]
        self.cap = [limit]
        for start, units in periods:
            i = self._split(start)
            for j in range(i, len(self.cap)):
                self.cap[j] = units

    def _split(self, t: int) -> int:
        """Index of the segment starting at ``t``, splitting the one holding it."""
        i = bisect_right(self.times, t) - 1
        if self.times[i] == t:
            return i
        self.times.insert(i + 1, t)
        self.used.insert(i + 1, self.used[i])
        self.cap.insert(i + 1, self.cap[i])
        return i + 1

    def conflict(self, start: int, finish: int, units: float, factor: float) -> int | None:
        """The index of the first segment in [start, finish) without room for ``units``; None when all have."""
        if finish <= start:
            return None  # no working time, no load (a milestone)
        times, used, cap = self.times, self.used, self.cap
        i = bisect_right(times, start) - 1
        n = len(times)
        while i < n and times[i] < finish:
            if used[i] + units > cap[i] * factor + _EPS:
                return i
            i += 1
        return None

    def end_of(self, i: int) -> int:
        return self.times[i + 1] if i + 1 < len(self.times) else _FAR

    def book(self, start: int, finish: int, units: float) -> None:
        if finish <= start or units == 0:
            return
        i = self._split(start)
        j = self._split(finish)
        used = self.used
        for k in range(i, j):
            used[k] += units

    def over(self, factor: float) -> Iterable[tuple[int, int, float, float]]:
        """Maximal stretches (start, finish, peak units, limit) above the limit times ``factor``."""
        times, used, cap = self.times, self.used, self.cap
        run = None
        for i, t in enumerate(times):
            if used[i] > cap[i] * factor + _EPS:
                end = self.end_of(i)
                if run is not None and run[1] == t:
                    run = (run[0], end, max(run[2], used[i]), min(run[3], cap[i] * factor))
                else:
                    if run is not None:
                        yield run
                    run = (t, end, used[i], cap[i] * factor)
        if run is not None:
            yield run


def _rank(activities: Sequence[LevelActivity], priorities: Sequence[tuple[str, str]]) -> list[int]:
    """Each activity's place in the priority order (0 first): the fields in turn, then the code, then the id."""
    getters: dict[str, Callable[[LevelActivity], object]] = {
        "activity_id": lambda a: a.code, "priority": lambda a: a.priority,
        "project_priority": lambda a: a.project_priority,
        "early_start": lambda a: a.early_start, "early_finish": lambda a: a.early_finish,
        "late_start": lambda a: a.late_start, "late_finish": lambda a: a.late_finish,
        "total_float": lambda a: a.total_float_hours, "free_float": lambda a: a.free_float_hours,
        "duration": lambda a: a.duration_hours}
    order = list(range(len(activities)))
    order.sort(key=lambda i: (activities[i].code, activities[i].id))
    # Stable sorts from the last key to the first: the first priority decides, ties fall to the next.
    for name, direction in reversed(list(priorities)):
        if name not in getters:
            raise LevellingError(f"unknown levelling priority {name!r}")
        if direction not in ("asc", "desc"):
            raise LevellingError(f"a priority's order is asc or desc, not {direction!r}")
        get = getters[name]
        present = [i for i in order if get(activities[i]) is not None]
        absent = [i for i in order if get(activities[i]) is None]  # blanks last, as P6 sorts them
        present.sort(key=lambda i: get(activities[i]), reverse=direction == "desc")
        order = present + absent
    rank = [0] * len(activities)
    for place, i in enumerate(order):
        rank[i] = place
    return rank


def level(activities: Sequence[LevelActivity], links: Sequence[LevelLink], calendars: Mapping[str, Calendar],
          resources: Sequence[LevelResource], demands: Sequence[Demand], options: LevelOptions | None = None, *,
          background: Sequence[Booking] = (), progress: Callable[[float], None] | None = None) -> LevellingResult:
    """Level ``activities`` (one project or several) against ``resources``; see the module's notes.

    ``demands`` say which activity uses which resource at what rate; ``background`` is load from outside
    the scope. Links whose ends are not both among ``activities`` are ignored (the CPM early start already
    holds them). Returns every activity's levelled dates and the report.
    """
    options = options or LevelOptions()
    factor = options.threshold_percent / 100.0
    if factor <= 0:
        raise LevellingError("the over-allocation threshold must be above 0 %")
    n = len(activities)
    index = {a.id: i for i, a in enumerate(activities)}
    clocks: dict[str, WorkTime] = {}
    around = next((a.early_start for a in activities if a.early_start is not None), None)

    def clock(key: str) -> WorkTime:
        wt = clocks.get(key)
        if wt is None:
            if key not in calendars:
                raise LevellingError(f"unknown calendar {key!r}")
            wt = clocks[key] = WorkTime(calendars[key], around=around)
        return wt

    act_clock = [clock(a.calendar_id) for a in activities]
    resource_of = {r.id: r for r in resources}
    profiles = {r.id: _Profile(r.max_units, ((to_minutes(s), u) for s, u in r.periods)) for r in resources}
    for booking in background:
        if booking.resource in profiles:
            profiles[booking.resource].book(to_minutes(booking.start), to_minutes(booking.finish), booking.units)
    uses: list[list[tuple[_Profile, int, float]]] = [[] for _ in range(n)]
    for demand in demands:
        i = index.get(demand.activity)
        if i is None:
            continue
        if demand.resource not in profiles:
            raise LevellingError(f"unknown resource {demand.resource!r}")
        if demand.units > 0:
            uses[i].append((profiles[demand.resource], demand.resource, demand.units))

    preds: list[list[tuple[int, str, int]]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    waiting = [0] * n
    for link in links:
        p, s = index.get(link.predecessor), index.get(link.successor)
        if p is None or s is None or p == s:
            continue
        preds[s].append((p, link.type, round(link.lag_hours * 60)))
        succs[p].append(s)
        waiting[s] += 1

    rank = _rank(activities, options.priorities)
    duration = [max(0, round(a.duration_hours * 60)) for a in activities]
    early = [to_minutes(a.early_start) if a.early_start is not None else None for a in activities]
    start = [0] * n
    finish = [0] * n
    done = [False] * n
    result = LevellingResult(dates={})

    def finish_from(i: int, s: int) -> int:
        wt = act_clock[i]
        return wt.finish_at(wt.work_before(s) + duration[i]) if duration[i] else s

    def ready_time(i: int) -> int:
        wt = act_clock[i]
        t = early[i] if early[i] is not None else -_FAR
        for p, kind, lag in preds[i]:
            base = finish[p] if kind in ("FS", "FF") else start[p]
            if lag:
                lag_clock = act_clock[p]
                w = lag_clock.work_before(base) + lag
                base = lag_clock.finish_at(w) if lag > 0 else lag_clock.start_at(w)
            if kind in ("FS", "SS"):
                bound = wt.next_start(base) if duration[i] else base
            else:  # the finish is bound: the latest start that finishes there
                bound = wt.start_at(wt.work_before(base) - duration[i]) if duration[i] else base
            if bound > t:
                t = bound
        return t

    def limit_of(i: int) -> int | None:
        """The latest finish within float, in minutes; None when unbounded."""
        a = activities[i]
        if not options.within_float:
            return None
        if a.late_finish is None:
            return None
        wt = act_clock[i]
        return wt.finish_at(wt.work_before(to_minutes(a.late_finish)) - round(options.minimum_float_hours * 60))

    heap: list[tuple[int, int, int]] = []
    first_conflict: dict[int, tuple[int, int, int]] = {}

    def release(i: int) -> None:
        a = activities[i]
        if a.fixed or early[i] is None:
            s = early[i] if early[i] is not None else None
            _place(i, s, to_minutes(a.early_finish) if a.early_finish is not None else s)
            return
        heapq.heappush(heap, (ready_time(i), rank[i], i))

    placed = 0

    def _place(i: int, s: int | None, f: int | None) -> None:
        nonlocal placed
        done[i] = True
        placed += 1
        if s is not None and f is not None:
            start[i], finish[i] = s, f
            for profile, _rid, units in uses[i]:
                profile.book(s, f, units)
            result.dates[activities[i].id] = (from_minutes(s), from_minutes(f))
        else:
            start[i] = finish[i] = early[i] or 0
            result.dates[activities[i].id] = (None, None)
        for j in succs[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                release(j)
        if progress is not None and placed % 500 == 0:
            progress(placed / n)

    def _report_move(i: int, s: int, f: int) -> None:
        a = activities[i]
        if early[i] is None or s <= early[i]:
            return
        wt = act_clock[i]
        delay = (wt.work_before(s) - wt.work_before(early[i])) / 60
        conflict = first_conflict.get(i)
        if conflict is not None:
            rid, c0, c1 = conflict
            result.moved.append(Move(a.id, a.code, a.early_start, from_minutes(s), from_minutes(f), delay, "resource",
                                     rid, resource_of[rid].code, from_minutes(c0), from_minutes(c1)))
        else:
            result.moved.append(Move(a.id, a.code, a.early_start, from_minutes(s), from_minutes(f), delay, "logic"))

    def leave(i: int, rid: int, reason: str, needed: int | None) -> None:
        """Book ``i`` at its logic-driven time, over-allocating ``rid``; report it (a logic delay is still a move)."""
        a = activities[i]
        s = act_clock[i].next_start(ready_at[i]) if duration[i] else ready_at[i]
        f = finish_from(i, s)
        result.unresolved.append(Unresolved(a.id, a.code, rid, resource_of[rid].code, from_minutes(s),
                                            from_minutes(f), reason,
                                            from_minutes(needed) if needed is not None else None))
        first_conflict.pop(i, None)
        _report_move(i, s, f)
        _place(i, s, f)

    for i in [i for i in range(n) if waiting[i] == 0]:  # listed first: placing one releases its successors
        release(i)
    tries = [0] * n
    ready_at = {}
    while heap:
        t, _r, i = heapq.heappop(heap)
        if i not in ready_at:
            ready_at[i] = t
        wt = act_clock[i]
        s = wt.next_start(t) if duration[i] else t
        f = finish_from(i, s)
        blocked = None
        for profile, rid, units in uses[i]:
            k = profile.conflict(s, f, units, factor)
            if k is not None:
                blocked = (profile, rid, units, k)
                break
        if blocked is None:
            _report_move(i, s, f)
            _place(i, s, f)
            continue
        profile, rid, units, k = blocked
        end = profile.end_of(k)
        if i not in first_conflict:
            first_conflict[i] = (rid, max(profile.times[k], s), min(end, f))
        limit = limit_of(i)
        tries[i] += 1
        if end >= _FAR or tries[i] > _MAX_TRIES:
            leave(i, rid, "limit", None)
        elif limit is not None and finish_from(i, wt.next_start(end) if duration[i] else end) > limit:
            leave(i, rid, "float", wt.next_start(end) if duration[i] else end)
        else:
            heapq.heappush(heap, (end, rank[i], i))

    for i in range(n):  # left in a loop of links (the CPM refuses those): kept at their early dates
        if not done[i]:
            a = activities[i]
            result.dates[a.id] = (a.early_start, a.early_finish)
    for rid, profile in profiles.items():
        code = resource_of[rid].code
        for s, f, peak, cap in profile.over(factor):
            result.overallocations.append(Overallocation(rid, code, from_minutes(s), from_minutes(f), peak, cap))
    if progress is not None:
        progress(1.0)
    return result


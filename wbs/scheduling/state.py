"""The scheduler's working state: flat lists with one slot per activity.

Activities are numbered by their position in the input; every per-activity
quantity is a list indexed by that number, and times are integer minutes
(see :mod:`wbs.scheduling.calendars`).  Lists rather than an object per
activity: the passes run over 100,000 activities, and a list subscript on a
local name is the cheapest access Python has.  Each pass binds the lists it
uses to local names once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ScheduleState", "FS", "SS", "FF", "SF", "NOT_STARTED", "IN_PROGRESS", "COMPLETE",
           "NORMAL", "START_MS", "FINISH_MS", "LOE", "WBS"]

# Relationship types: a link "from finish" is FS or FF, "to start" FS or SS
# (so ``t <= SS`` reads "drives the successor's start").
FS, SS, FF, SF = 0, 1, 2, 3
# Progress.
NOT_STARTED, IN_PROGRESS, COMPLETE = 0, 1, 2
# Activity kinds, in this order (``kind <= FINISH_MS``: drives the schedule):
# tasks (and resource-dependent ones), milestones, and the
# two kinds that drive nothing (level of effort, WBS summary).
NORMAL, START_MS, FINISH_MS, LOE, WBS = 0, 1, 2, 3, 4


def _slots():
    return field(default=None)


@dataclass(slots=True, eq=False)
class ScheduleState:
    """Inputs indexed by activity position, and what the passes compute.

    Links are tuples ``(predecessor, successor, type, lag minutes, lag
    calendar position)``; each relationship's one tuple is in both
    ``preds[successor]`` and ``succs[predecessor]``.  Dates: ``es``/``ef`` early
    (remaining) start and finish, ``ls``/``lf`` late, ``rs``/``rf`` the
    dates successors see (actual start once started, actual finish once
    complete); ``wes``, ``wef``, ``wls``, ``wlf`` are the clock readings of
    the early and late dates on the activity's own calendar.
    """

    # -- inputs (wbs.scheduling.network) --
    n: int
    labels: list
    order: list  # topological
    kind: list
    status: list
    cal_of: list  # calendar position (wbs.scheduling.clocks)
    dur: list  # remaining duration, work minutes
    actual_start: list
    actual_finish: list
    bounds: list  # wbs.scheduling.constraints.Bounds or None
    preds: list
    succs: list
    driven: list  # takes part in the passes (not LOE, not WBS summary)
    clocks: object
    data_date: int
    start_floor: int  # not-started work starts no earlier
    # -- forward pass --
    es: list = _slots()
    ef: list = _slots()
    rs: list = _slots()
    rf: list = _slots()
    wes: list = _slots()
    wef: list = _slots()
    pushed: list = _slots()  # complete, but held past the data date by retained logic
    early_finish: int = 0
    open_finish: int = 0  # where open ends must finish
    # -- backward pass --
    ls: list = _slots()
    lf: list = _slots()
    wls: list = _slots()
    wlf: list = _slots()
    open_end: list = _slots()  # nothing waits for the finish
    # -- floats (work minutes) --
    total_float: list = _slots()
    free_float: list = _slots()

    def live(self):
        """Positions of the unfinished activities that drive the schedule."""
        driven, status = self.driven, self.status
        return [i for i in range(self.n) if driven[i] and status[i] != COMPLETE]

    def done(self):
        """Positions of the completed activities."""
        return [i for i, s in enumerate(self.status) if s == COMPLETE]

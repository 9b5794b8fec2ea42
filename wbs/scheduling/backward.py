"""The backward pass: late dates, in reverse topological order.

* Successors that drive nothing hold nothing back.  A complete successor
  has late dates of its own (from its successors) and holds its
  predecessors to them, except under progress override.
* Under progress override, a link into the start of an activity already
  under way (FS, SS) holds nothing back either: that start has happened.
  A link into its finish (FF, SF) still does.
* A start held back by a start-side link keeps the latest moment not after
  the successor's date (the end of the previous work when that date falls
  outside the activity's work time), as P6 stores it.
* Open ends: an activity without successors on its finish side must finish
  by the must-finish-by date, or else by the project's early finish (by its
  own early finish when open-ended activities are made critical).
* Start-side lag towards a started activity: only the lag not yet worked
  off, the mirror of the forward pass.
* Constraints and mandatory dates through :mod:`wbs.scheduling.constraints`.
"""

from __future__ import annotations

from wbs.scheduling.constraints import pin, window
from wbs.scheduling.model import ProgressMode
from wbs.scheduling.state import COMPLETE, FF, FINISH_MS, FS, IN_PROGRESS, NORMAL, SF, SS

__all__ = ["backward_pass"]


def backward_pass(st, options):
    """Fill ``ls``, ``lf`` (and their clock readings) and ``open_end`` of ``st``."""
    n = st.n
    st.ls, st.lf, st.wls, st.wlf = ls, lf, wls, wlf = [0] * n, [0] * n, [0] * n, [0] * n
    st.open_end = open_end = [False] * n
    driven, status, cal_of, kind, dur, bounds = st.driven, st.status, st.cal_of, st.kind, st.dur, st.bounds
    succs, act_s, dd, ef, wef = st.succs, st.actual_start, st.data_date, st.ef, st.wef
    clocks = st.clocks
    # Memos in the hot loop (``clock``, ``start``, ``finish``), as forward.
    wb, clock, start, finish = clocks.work_before, clocks.clock, clocks.start, clocks.finish
    w_open = [w(st.open_finish) for w in wb]
    open_crit = options.open_ended_critical
    if options.progress == ProgressMode.PROGRESS_OVERRIDE:
        # A link into the start of work under way holds nothing back, nor
        # does a completed successor: left out once, not tested per link.
        succs = [[link for link in links if status[link[1]] != COMPLETE and (link[2] > SS or status[link[1]] != IN_PROGRESS)]
                 for links in succs]
    for i in reversed(st.order):
        if not driven[i]:
            continue
        c = cal_of[i]
        s_i = status[i]
        # Candidate late finish / late start with clock readings, as forward.
        cf = wcf = cs = wcs = None
        cs_at = False  # the start candidate is the successor's own date (no lag)
        for _, s, t, lag, lc in succs[i]:
            if not driven[s]:
                continue
            if t == FS or t == SS:
                base, ws = ls[s], wls[s]
            else:
                base, ws = lf[s], wlf[s]
            if lag > 0 and (t == SS or t == SF) and s_i == IN_PROGRESS:
                lag = max(0, lag - (wb[lc](dd) - wb[lc](act_s[i])))
            if lag:
                x = (ws if lc == cal_of[s] else clock[lc][base]) - lag
                base = finish[lc][x]
                wbase = x if lc == c else None
            else:
                wbase = ws if cal_of[s] == c else None
            if t == FS or t == FF:
                if cf is None or base < cf:
                    cf, wcf = base, wbase
            elif cs is None or base < cs:
                cs, wcs, cs_at = base, wbase, not lag
        if cf is None:
            open_end[i] = True
            if open_crit and s_i != COMPLETE:
                # "Make open-ended activities critical": nothing waits for
                # the finish, so it may not slip at all.
                cf, wcf = ef[i], wef[i]
            else:
                cf, wcf = st.open_finish, w_open[c]
        if s_i == COMPLETE:
            lf[i] = ls[i] = e = cf if cs is None else min(cf, cs)
            wlf[i] = wls[i] = clock[c][e]
            continue
        b = bounds[i]
        if b is not None:
            cs, wcs, cf, wcf = window(b, False, cs, wcs, cf, wcf)
        if kind[i] == NORMAL:
            d = dur[i]
            wf = wcf if wcf is not None else clock[c][cf]
            by_start = False
            if cs is not None:
                x = (wcs if wcs is not None else clock[c][cs]) + d
                if x <= wf:
                    wf, by_start = x, cs_at
            pinned = pin(b, True) if b is not None else None
            if pinned is not None:
                wf, by_start = wb[c](pinned[0]) + (0 if pinned[1] else d), False
            lf[i] = e = finish[c][wf]
            if by_start and d > 0:
                # A start held back by a start-side link keeps the latest
                # moment not after it: the end of the previous work when the
                # successor's date falls outside this activity's work time.
                w0 = wf - d
                ls[i] = cs if start[c][w0] == cs else finish[c][w0]
            else:
                ls[i] = start[c][wf - d] if d > 0 else e
            wlf[i] = wf
            wls[i] = wf - d
        else:
            _place_milestone(st, i, b, cs, wcs, cf, wcf)


def _place_milestone(st, i, b, cs, wcs, cf, wcf):
    """Late date of a milestone: the earlier of its candidates, or its mandatory date."""
    c = st.cal_of[i]
    clocks = st.clocks
    if cs is None or cs > cf:
        t, wt = cf, wcf
    else:
        t, wt = cs, wcs
    pinned = pin(b, True) if b is not None else None
    if pinned is not None:
        t, wt = pinned[0], None
    if wt is None:
        wt = clocks.clock[c][t]
    if st.kind[i] == FINISH_MS:
        e = clocks.finish[c][wt]
    else:
        # A start milestone sits at a start: where it is, if work starts
        # there, else at the end of the previous work.
        e = clocks.start[c][wt]
        if e != t:
            e = clocks.finish[c][wt]
    st.ls[i] = st.lf[i] = e
    st.wls[i] = st.wlf[i] = wt

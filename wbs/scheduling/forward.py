"""The forward pass: early dates, in topological order.

* Nothing unfinished is scheduled before the data date; not-started work
  not before the project's planned start either.
* Completed activities keep their actual dates; successors are tied to
  them (``actual finish + lag``); an actual date after the data date
  counts as the data date, except under "actual dates" (P6's out-of-sequence
  options: only that one follows an actual finish past the data date).
  Under retained logic a completed
  activity still "finishes" only when its unfinished predecessors let it
  (it is then *pushed*), and lag not yet elapsed at the data date runs on
  from there.
* In-progress activities: the remaining work starts at the data date (or
  later) and lasts the remaining duration; under progress override their
  predecessors no longer hold them.
* Start-side lag from a started predecessor, with "lag from early start":
  the part already worked off since its actual start is spent, the rest
  runs from its remaining early start.
* Starts snap forward to the next working minute, finishes back to the end
  of the last one; a finish milestone sits at a finish, a start milestone
  at a start.  A finish set by a negative lag counted back from a finish
  (FF, SF) lands where the counting stops: at the start of a working period.
"""

from __future__ import annotations

from wbs.scheduling.calendars import to_minutes
from wbs.scheduling.constraints import pin, window
from wbs.scheduling.model import ProgressMode
from wbs.scheduling.state import COMPLETE, FF, FINISH_MS, FS, IN_PROGRESS, NORMAL, NOT_STARTED, SF, SS

__all__ = ["forward_pass"]


def forward_pass(st, options):
    """Fill ``es``, ``ef``, ``rs``, ``rf`` (and their clock readings) of ``st``."""
    n = st.n
    st.es, st.ef, st.rs, st.rf = es, ef, rs, rf = [0] * n, [0] * n, [0] * n, [0] * n
    st.wes, st.wef = wes, wef = [0] * n, [0] * n
    st.pushed = pushed = [False] * n
    driven, status, cal_of, kind, dur, bounds = st.driven, st.status, st.cal_of, st.kind, st.dur, st.bounds
    preds, act_s, dd = st.preds, st.actual_start, st.data_date
    clocks = st.clocks
    # The hot loop asks the memos (``clock``, ``start``, ``finish``: a dict
    # subscript), not the calendars: most dates recur across activities.
    wb, clock, start, finish = clocks.work_before, clocks.clock, clocks.start, clocks.finish
    override = options.progress == ProgressMode.PROGRESS_OVERRIDE
    retained = options.progress == ProgressMode.RETAINED_LOGIC
    actual_dates = options.progress == ProgressMode.ACTUAL_DATES
    ss_from_early_start = options.ss_lag_from_early_start
    # Clock readings of the start floors on each calendar.
    w_floor_started = [w(dd) for w in wb]
    w_floor_new = [w(st.start_floor) for w in wb]
    for i in st.order:
        if not driven[i]:
            continue
        s_i = status[i]
        if s_i == COMPLETE:
            _complete(st, i, retained, ss_from_early_start, actual_dates)
            continue
        c = cal_of[i]
        # Candidate start / finish, with their clock readings on this
        # activity's calendar when known for free (None: ask the calendar).
        if s_i == IN_PROGRESS:
            cs, wcs = dd, w_floor_started[c]
        else:
            cs, wcs = st.start_floor, w_floor_new[c]
        floor, wfloor = cs, wcs
        cf = wcf = None
        cf_back = False  # the finish candidate counted back from a finish (negative lag)
        if not (override and s_i == IN_PROGRESS):
            for p, _, t, lag, lc in preds[i]:
                if not driven[p]:
                    continue
                sp = status[p]
                if t == FS or t == FF:
                    base = rf[p]
                    wp = wef[p] if sp != COMPLETE else None
                elif sp == IN_PROGRESS and ss_from_early_start:
                    base, wp = es[p], wes[p]
                    lag = max(0, lag - (wb[lc](dd) - wb[lc](act_s[p]))) if lag > 0 else 0
                else:
                    base = rs[p]
                    wp = wes[p] if sp == NOT_STARTED else None
                if lag:
                    x = (wp if (wp is not None and lc == cal_of[p]) else clock[lc][base]) + lag
                    base = finish[lc][x]
                    wbase = x if lc == c else None
                else:
                    wbase = wp if cal_of[p] == c else None
                if sp == COMPLETE and pushed[p]:
                    base, wbase = _link_date(st, p, t, lag, lc, ss_from_early_start), None
                if t <= SS:
                    if base > cs:
                        cs, wcs = base, wbase
                elif cf is None or base > cf:
                    cf, wcf = base, wbase
                    # Counted back by a negative lag, or a predecessor's
                    # start itself (SF): a start, not the end of a day.
                    cf_back = lag < 0 or (t == SF and not lag)
        b = bounds[i]
        if b is not None:
            cs, wcs, cf, wcf = window(b, True, cs, wcs, cf, wcf)
            cf_back = False  # a constrained finish snaps as usual
        if kind[i] == NORMAL:
            w = wcs if wcs is not None else clock[c][cs]
            if cf is not None:
                wf = (wcf if wcf is not None else clock[c][cf]) - dur[i]
                if wf > w:
                    w = wf
                else:
                    cf_back = False  # the start, not the finish, places it
            if b is not None:
                w = _bounded_task(st, i, b, w, wfloor)
            d = dur[i]
            es[i] = e = start[c][w]
            # Counted back from a later finish, the finish lands where that
            # counting stops: at the start of a working period.
            ef[i] = (start[c][w + d] if cf_back else finish[c][w + d]) if d > 0 else e
            wes[i] = w
            wef[i] = w + d
        else:
            _place_milestone(st, i, b, cs, wcs, cf, wcf, floor)
        rs[i] = act_s[i] if s_i == IN_PROGRESS else es[i]
        rf[i] = ef[i]
    live = st.live()
    st.early_finish = max((ef[i] for i in live), default=dd)
    st.open_finish = st.early_finish if options.must_finish_by is None else to_minutes(options.must_finish_by)


def _complete(st, i, retained, ss_from_early_start, actual_dates):
    """A completed activity: successors see its actual dates; its early dates are the data date.

    Under retained logic, with no work left, it still "finishes" only when
    its unfinished predecessors let it, and its successors wait for that.
    An actual date after the data date holds successors back only under
    "actual dates"; otherwise it counts as the data date.
    """
    e = st.data_date
    if actual_dates:
        st.rs[i] = st.actual_start[i]
        st.rf[i] = st.actual_finish[i]
    else:
        st.rs[i] = min(st.actual_start[i], e)
        st.rf[i] = min(st.actual_finish[i], e)
    if retained:
        driven = st.driven
        for p, _, t, lag, lc in st.preds[i]:
            if driven[p]:
                b = _link_date(st, p, t, lag, lc, ss_from_early_start)
                if b > e:
                    e = b
    st.es[i] = st.ef[i] = e
    st.pushed[i] = e > st.data_date


def _link_date(st, p, t, lag, lc, ss_from_early_start):
    """Earliest date link ``p -> (t, lag)`` allows on the successor side (the general, slow path)."""
    # The memoised conversions, called like the calendar's own.
    wb, fa = st.clocks.clock[lc].__getitem__, st.clocks.finish[lc].__getitem__
    sp, dd = st.status[p], st.data_date
    from_finish = t == FS or t == FF
    if sp == COMPLETE:
        if from_finish:
            act_f = st.rf[p]  # the actual finish, or the data date (see _complete)
            base = fa(wb(act_f) + lag) if lag else act_f
            if st.pushed[p]:
                # Lag not yet elapsed at the data date runs on from the
                # date retained logic holds the predecessor to.
                left = lag - max(0, wb(dd) - wb(act_f)) if lag > 0 else 0
                alt = fa(wb(st.ef[p]) + left) if left > 0 else st.ef[p]
                if alt > base:
                    base = alt
        else:
            base = fa(wb(st.rs[p]) + lag) if lag else st.rs[p]
            if st.pushed[p] and base < dd:
                base = st.es[p]
        return base
    if from_finish:
        base = st.rf[p]
    elif sp == IN_PROGRESS and ss_from_early_start:
        base = st.es[p]
        lag = max(0, lag - (wb(dd) - wb(st.actual_start[p]))) if lag > 0 else 0
    else:
        base = st.rs[p]
    return fa(wb(base) + lag) if lag else base


def _bounded_task(st, i, b, w, wfloor):
    """Start clock reading of task ``i`` under its mandatory dates and expected finish.

    Mandatory dates beat logic, but not the data date.  With an expected
    finish the remaining duration is whatever fits (``st.dur`` changes).
    """
    c = st.cal_of[i]
    w_ = st.clocks.work_before[c]
    pinned = pin(b, False)
    if pinned is not None:
        t, is_finish = pinned
        w = max(w_(t) - st.dur[i] if is_finish else w_(t), wfloor)
    if b.expected_finish is not None:
        left = w_(b.expected_finish) - w
        if left > 0 or st.status[i] != NOT_STARTED:
            # Work under way ends at its expected finish, or at once if that
            # has passed; work not started that would have to end before it
            # begins keeps its own duration.
            st.dur[i] = max(0, left)
    return w


def _place_milestone(st, i, b, cs, wcs, cf, wcf, floor):
    """Early date of a milestone: the later of its candidates, or its mandatory date."""
    c = st.cal_of[i]
    clocks = st.clocks
    if cf is None or cf < cs:
        t, wt = cs, wcs
    else:
        t, wt = cf, wcf
    finish_ms = st.kind[i] == FINISH_MS
    pinned = pin(b, finish_ms) if b is not None else None
    if pinned is not None:
        t, wt = max(pinned[0], floor), None
    if wt is None:
        wt = clocks.clock[c][t]
    if finish_ms:
        # A finish milestone sits at a finish: where it is, if that is the
        # end of working time, else at the next start.
        e = clocks.finish[c][wt]
        if e != t:
            e = clocks.start[c][wt]
    else:
        e = clocks.start[c][wt]
    st.es[i] = st.ef[i] = e
    st.wes[i] = st.wef[i] = wt

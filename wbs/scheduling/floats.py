"""Floats, as-late-as-possible, critical activities and the longest path.

* Total float is measured in work minutes of the activity's calendar
  between early and late finish, start, or the smaller of both
  (:class:`~wbs.scheduling.model.FloatType`).
* Free float is the smallest slack towards any successor, or towards the
  project finish when nothing waits for the activity's finish; an activity
  held to an expected finish has none.
* As late as possible: a not-started activity uses up its free float,
  latest first, so one before another moves as far as the other's move
  allows; the free float of what precedes a moved activity is measured
  again.
* Critical: total float at most the threshold, or on the longest path
  (back from the latest early finish along links without slack); with
  "open-ended activities critical", every open end too.
"""

from __future__ import annotations

from wbs.scheduling.model import CriticalDefinition, FloatType
from wbs.scheduling.state import COMPLETE, FF, FINISH_MS, FS, LOE, NOT_STARTED, SS, WBS

__all__ = ["floats", "as_late_as_possible", "longest_path", "critical"]


def floats(st, options):
    """Fill ``total_float`` and ``free_float`` (work minutes; None when complete)."""
    _total_floats(st, options)
    _free_floats(st)


def _total_floats(st, options):
    status, driven, cal_of = st.status, st.driven, st.cal_of
    es, ef, ls, lf, wes, wef, wls, wlf = st.es, st.ef, st.ls, st.lf, st.wes, st.wef, st.wls, st.wlf
    wb = st.clocks.work_before
    for i in range(st.n):
        if not driven[i] and status[i] != COMPLETE:
            # Level of effort / WBS summary: dates set after the passes.
            w_ = wb[cal_of[i]]
            wes[i], wef[i], wls[i], wlf[i] = w_(es[i]), w_(ef[i]), w_(ls[i]), w_(lf[i])
    # The float type chosen once, then one comprehension over all the
    # activities, blanked for the completed ones (usually the fewer).
    ftype = options.float_type
    if ftype == FloatType.FINISH:
        tf = [late - early for late, early in zip(wlf, wef)]
    elif ftype == FloatType.START:
        tf = [late - early for late, early in zip(wls, wes)]
    else:
        tf = [min(ls_ - es_, lf_ - ef_) for ls_, es_, lf_, ef_ in zip(wls, wes, wlf, wef)]
    for i in st.done():
        tf[i] = None
    st.total_float = tf


def _free_floats(st, among=None):
    """Smallest slack of each activity towards its successors, in its calendar's work minutes.

    ``among``: only these activities, in ``st.free_float`` as it is (default: all, from scratch).
    """
    status, driven, cal_of, es, ef, wes, wef, rs, rf = (
        st.status, st.driven, st.cal_of, st.es, st.ef, st.wes, st.wef, st.rs, st.rf)
    succs, bounds = st.succs, st.bounds
    # The memoised conversions (a dict subscript): a link between two
    # calendars asks for a clock reading the passes have mostly asked already.
    clock, finish = st.clocks.clock, st.clocks.finish
    w_open = [w(st.open_finish) for w in st.clocks.work_before]
    if among is None:
        # Level of effort and WBS summaries: their total float.
        st.free_float = [tf if not d else None for tf, d in zip(st.total_float, driven)]
        among = range(st.n)
    ff = st.free_float
    for i in among:
        if not driven[i] or status[i] == COMPLETE:
            continue
        b = bounds[i]
        if b is not None and b.expected_finish is not None:
            # An activity held to an expected finish has no free float in P6:
            # every such activity in the reference files shows 0, whatever
            # the slack towards its successors.
            ff[i] = 0
            continue
        c = cal_of[i]
        w_ = clock[c]
        best = None
        finish_side = False
        for _, s, t, lag, lc in succs[i]:
            if not driven[s] or status[s] == COMPLETE:
                continue
            from_finish = t == FS or t == FF
            if from_finish:
                finish_side = True
                wsrc = wef[i]
            elif status[i] == NOT_STARTED:
                wsrc = wes[i]
            else:
                wsrc = w_[rs[i]]
            if lag:
                if lc == c:
                    wsrc += lag
                else:
                    wsrc = w_[finish[lc][clock[lc][rf[i] if from_finish else rs[i]] + lag]]
            wtarget = (wes[s] if t <= SS else wef[s]) if cal_of[s] == c else w_[es[s] if t <= SS else ef[s]]
            if best is None or wtarget - wsrc < best:
                best = wtarget - wsrc
        if not finish_side:
            # Nothing waits for the finish: it may slip to the project's end.
            slack = w_open[c] - wef[i]
            if best is None or slack < best:
                best = slack
        ff[i] = best


def as_late_as_possible(st):
    """Move not-started "as late as possible" activities by their free float.

    Their early dates move later without delaying any successor.  Latest
    first (reverse topological order): an activity whose successor is itself
    as late as possible follows it, using the free float its move left.
    The free float of every activity before a moved one is then measured
    again against the moved dates.
    """
    bounds, status, driven = st.bounds, st.status, st.driven
    alap = [i for i in range(st.n) if bounds[i] is not None and bounds[i].as_late_as_possible
            and status[i] == NOT_STARTED and driven[i]]
    if not alap:
        return
    position = {i: k for k, i in enumerate(st.order)}
    alap.sort(key=position.__getitem__, reverse=True)
    ff, tf = st.free_float, st.total_float
    es, ef, wes, wef = st.es, st.ef, st.wes, st.wef
    moved = set()
    for i in alap:
        _free_floats(st, (i,))
        shift = ff[i]
        if not shift or shift < 0:
            continue
        c = st.cal_of[i]
        sa, fa = st.clocks.start_at[c], st.clocks.finish_at[c]
        wes[i] += shift
        wef[i] += shift
        if st.kind[i] == FINISH_MS:
            es[i] = ef[i] = fa(wef[i])
        else:
            es[i] = sa(wes[i])
            ef[i] = fa(wef[i]) if wef[i] > wes[i] else es[i]
        st.rs[i], st.rf[i] = es[i], ef[i]
        tf[i] -= shift
        ff[i] = 0
        moved.add(i)
    if moved:
        _free_floats(st, sorted({p for i in moved for p, *_ in st.preds[i] if driven[p]} - moved))


def longest_path(st):
    """Per activity, whether it is on the longest path.

    Back from the latest early finish along links without slack.  Level of
    effort activities drive nothing, but P6 puts one on the longest path when
    it ends (or starts) exactly with a link to it; a WBS summary ending with
    the project is on it too.
    """
    n, status, driven, kind = st.n, st.status, st.driven, st.kind
    es, ef, rs, rf = st.es, st.ef, st.rs, st.rf
    clock, finish = st.clocks.clock, st.clocks.finish  # memoised, as in _free_floats
    end = st.early_finish
    on = [False] * n
    stack = [i for i in range(n) if driven[i] and status[i] != COMPLETE and ef[i] == end]
    for i in stack:
        on[i] = True
    for i in range(n):
        if kind[i] == WBS and status[i] != COMPLETE and ef[i] == end:
            on[i] = True
    while stack:
        s = stack.pop()
        w_ = clock[st.cal_of[s]]
        for p, _, t, lag, lc in st.preds[s]:
            if on[p] or status[p] == COMPLETE or not (driven[p] or kind[p] == LOE):
                continue
            base = rf[p] if (t == FS or t == FF) else rs[p]
            if lag:
                base = finish[lc][clock[lc][base] + lag]
            target = es[s] if t <= SS else ef[s]
            if w_[target] <= w_[base]:
                on[p] = True
                stack.append(p)
    return on


def critical(st, options, longest):
    """Per activity, whether it is critical (never when complete)."""
    done = [s == COMPLETE for s in st.status]
    threshold = int(round(options.critical_float_hours * 60))
    if options.critical == CriticalDefinition.LONGEST_PATH:
        crit = [lp and not dn for lp, dn in zip(longest, done)]
    else:
        crit = [not dn and x <= threshold for x, dn in zip(st.total_float, done)]
    if options.open_ended_critical:
        for i, open_end in enumerate(st.open_end):
            if open_end and not done[i]:
                crit[i] = True
    return crit

"""Activities that drive nothing: level of effort and WBS summary.

Both are dated after the two passes, from the dates of the activities
around (level of effort) or below (WBS summary) them.
"""

from __future__ import annotations

from wbs.scheduling.state import COMPLETE, FF, FS, LOE, SF, SS, WBS

__all__ = ["level_of_effort", "wbs_summaries"]


def level_of_effort(st):
    """Span every unfinished level-of-effort activity between its neighbours."""
    kind, status = st.kind, st.status
    for i in range(st.n):
        if kind[i] == LOE and status[i] != COMPLETE:
            _span_level_of_effort(st, i)


def _span_level_of_effort(st, i):
    """Span one level-of-effort activity between its neighbours.

    Its start is the earliest date its links ask it to start (predecessors
    by FS and SS, successors by SS and SF, lags applied); its finish the
    latest date they ask it to finish (predecessors by FF and SF, successors
    by FS and FF).  Late dates likewise from the neighbours' late dates.
    Without a start-side link it starts at the data date; without a
    finish-side link it finishes where it starts (late: at the project's
    open finish).  Remaining work never starts before the data date.
    """
    driven, status, es, ef, ls, lf = st.driven, st.status, st.es, st.ef, st.ls, st.lf
    shift, dd = st.clocks.shift, st.data_date
    starts, finishes = [], []  # (early, late) dates each link asks for
    for p, _, t, lag, lc in st.preds[i]:
        if not driven[p]:
            continue
        from_finish = t == FS or t == FF
        be = shift(st.rf[p] if from_finish else st.rs[p], lag, lc)
        bl = be if status[p] == COMPLETE else shift(lf[p] if from_finish else ls[p], lag, lc)
        (starts if t <= SS else finishes).append((be, bl))
    for _, s, t, lag, lc in st.succs[i]:
        if not driven[s] or status[s] == COMPLETE:
            continue
        # The successor side of the link: its start (FS, SS) or finish (FF, SF).
        to_start = t == FS or t == SS
        be = shift(es[s] if to_start else ef[s], -lag, lc)
        bl = shift(ls[s] if to_start else lf[s], -lag, lc)
        (starts if t == SS or t == SF else finishes).append((be, bl))
    s_e = min((e for e, _ in starts), default=None)
    s_l = min((late for _, late in starts), default=None)
    f_e = max((e for e, _ in finishes), default=None)
    f_l = max((late for _, late in finishes), default=None)
    c = st.cal_of[i]
    w_, sa, fa = st.clocks.work_before[c], st.clocks.start_at[c], st.clocks.finish_at[c]
    if s_e is None or s_e < dd:
        s_e = dd
    e_start = sa(w_(s_e))
    if f_e is None or f_e < e_start:
        f_e = e_start
    if f_l is None:
        f_l = st.open_finish
    if s_l is None or s_l > f_l:
        s_l = f_l
    if s_l < dd:
        s_l = dd
    es[i] = e_start
    ef[i] = max(e_start, fa(w_(f_e)))
    ls[i] = sa(w_(s_l))
    lf[i] = max(ls[i], fa(w_(f_l)))
    st.rs[i], st.rf[i] = es[i], ef[i]


def wbs_summaries(st, acts, parents):
    """Give each WBS summary activity the span of the activities under its WBS element."""
    kind, status, es, ef, ls, lf = st.kind, st.status, st.es, st.ef, st.ls, st.lf
    if WBS not in kind:
        return

    def ancestors(w):
        seen = 0
        while w is not None and seen < 1000:
            yield w
            w = parents.get(w)
            seen += 1

    spans = {}
    for i, a in enumerate(acts):
        if kind[i] == WBS or status[i] == COMPLETE or a.wbs_id is None:
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
        if kind[i] != WBS:
            continue
        span = spans.get(a.wbs_id)
        if span is not None:
            es[i], ef[i], ls[i], lf[i] = span

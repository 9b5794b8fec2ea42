"""Critical path method (CPM) scheduling with Primavera P6's rules.

:func:`schedule` is a pure function: activities, relationships, calendars
and options in; a dict of :class:`~wbs.scheduling.model.ActivityResult` out.

How it works
------------
One named pass after the other, over one
:class:`~wbs.scheduling.state.ScheduleState` (flat lists, one slot per
activity, times as integer minutes on one timeline):

1. :mod:`~wbs.scheduling.network`: validate and index the input, compute a
   topological order (or name the loop,
   :class:`~wbs.scheduling.errors.DependencyLoop`);
2. :mod:`~wbs.scheduling.forward`: early dates;
3. :mod:`~wbs.scheduling.backward`: late dates;
4. :mod:`~wbs.scheduling.spans`: level-of-effort and WBS summary dates;
5. :mod:`~wbs.scheduling.floats`: floats, as late as possible, longest
   path, critical activities.

Both passes take constraints from :mod:`~wbs.scheduling.constraints` and
count work time through :mod:`~wbs.scheduling.clocks`.

The P6 rules implemented
------------------------
* Nothing unfinished is scheduled before the data date; not-started work not
  before the project's planned start either.
* Completed activities keep their actual dates; their successors are tied to
  those actual dates (``actual finish + lag``), which in practice releases
  them at the data date.  An actual date after the data date counts as the
  data date, except under *actual dates* (below).  P6 reports a completed
  activity's early start and finish as the data date.
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
  Under progress override a link into the start of an activity under way
  no longer holds its predecessor's late dates either (a link into its
  finish still does).
* Start-to-start lag from a started predecessor: the part not yet worked off
  since its actual start runs from its remaining early start ("lag from
  early start"), or the whole lag from the actual start.
* Starts snap forward to the next working minute of the activity's calendar
  (an 08:00), finishes back to the end of the last working minute (a
  17:00); a finish milestone sits at a finish, a start milestone at a start.
  A finish set by a negative lag counted back from a finish (FF, SF) lands
  where the counting stops, at the start of a working period (an 08:00).
* Lags are counted in work minutes of the lag calendar the options choose.
* Constraints: start/finish on-or-after push the early dates, on-or-before
  pull the late dates, "on" does both, mandatory ones pin the dates even
  against logic, external dates (links to other projects) act like
  on-or-after / on-or-before.
* Open ends: an activity without successors on its finish side must finish
  by the must-finish-by date, or else by the project's early finish (by its
  own early finish when open-ended activities are made critical).
* As late as possible: a not-started activity moves later by its free
  float, the latest first, so a chain of them moves together.
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

from wbs.scheduling.backward import backward_pass
from wbs.scheduling.calendars import NoWorkingTime, from_minutes
from wbs.scheduling.errors import ScheduleInputError
from wbs.scheduling.floats import as_late_as_possible, critical, floats, longest_path
from wbs.scheduling.forward import forward_pass
from wbs.scheduling.model import ActivityResult, ProjectSummary
from wbs.scheduling.network import build_state, topological_order
from wbs.scheduling.spans import level_of_effort, wbs_summaries

__all__ = ["schedule", "schedule_with_summary", "topological_order"]


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


def schedule_with_summary(activities, relationships, calendars, options, wbs_parents=None, progress=None):
    """Like :func:`schedule`, also returning a :class:`ProjectSummary`.

    ``progress``, if given, is called after each pass with the share of the passes done (0.0–1.0)
    and the pass's name: a long schedule run as a job shows how far it got.
    """
    # The passes allocate many small objects and no cycles: the cyclic
    # garbage collector would only rescan the inputs again and again.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _schedule(activities, relationships, calendars, options, wbs_parents, progress or _silent)
    except NoWorkingTime as exc:
        # A calendar ran out of working time far from the data date.
        raise ScheduleInputError(str(exc)) from None
    finally:
        if enabled:
            gc.enable()


def _silent(_fraction, _name):
    pass


def _schedule(activities, relationships, calendars, options, wbs_parents, progress):
    acts = list(activities)
    st = build_state(acts, list(relationships), calendars, options)
    progress(0.2, "network")
    forward_pass(st, options)
    progress(0.45, "forward pass")
    backward_pass(st, options)
    progress(0.7, "backward pass")
    level_of_effort(st)
    wbs_summaries(st, acts, wbs_parents or {})
    floats(st, options)
    as_late_as_possible(st)
    longest = longest_path(st)
    crit = critical(st, options, longest)
    progress(0.9, "floats")
    # P6 reports a completed activity's early dates as the data date, whatever
    # retained logic made of them internally.
    es, ef, dd = st.es, st.ef, st.data_date
    done = st.done()
    for i in done:
        es[i] = ef[i] = dd
    results = _results(st, acts, done, crit, longest), _summary(st, options)
    progress(1.0, "results")
    return results


def _results(st, acts, done, crit, longest):
    """The :class:`ActivityResult` of each activity, by id (``done``: the completed ones)."""
    # Many activities share dates: convert each distinct minute once.
    conv = {m: from_minutes(m) for m in {*st.es, *st.ef, *st.ls, *st.lf}}.__getitem__
    d_es, d_ef, d_ls, d_lf = (list(map(conv, dates)) for dates in (st.es, st.ef, st.ls, st.lf))
    # P6 leaves remaining dates and floats empty once an activity is complete
    # (the floats already are): copies of the dates (C-level), blanked for
    # the completed activities only.
    r_es, r_ef, r_ls, r_lf = d_es[:], d_ef[:], d_ls[:], d_lf[:]
    for i in done:
        r_es[i] = r_ef[i] = r_ls[i] = r_lf[i] = None
    tf_h = [None if x is None else x / 60.0 for x in st.total_float]
    ff_h = [None if x is None else x / 60.0 for x in st.free_float]
    # One C-level map instead of a Python loop: this runs once per activity.
    return dict(
        zip(
            [a.id for a in acts],
            map(ActivityResult, d_es, d_ef, d_ls, d_lf, r_es, r_ef, r_ls, r_lf, tf_h, ff_h, crit, longest),
        )
    )


def _summary(st, options):
    live = st.live()
    late_finish = max((st.lf[i] for i in live), default=st.open_finish)
    return ProjectSummary(
        data_date=options.data_date,
        start=from_minutes(min((st.es[i] for i in live), default=st.data_date)),
        early_finish=from_minutes(st.early_finish),
        late_finish=from_minutes(max(late_finish, st.open_finish)),
    )

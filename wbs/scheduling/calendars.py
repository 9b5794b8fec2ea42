"""Working-time arithmetic on work calendars, at minute precision.

A :class:`WorkTime` is a precomputed view of one
:class:`~wbs.scheduling.model.Calendar`.  Time is an integer count of
minutes since 1899-12-30 00:00 (the day P6 counts calendar exceptions
from), in project-local time; :func:`to_minutes` and :func:`from_minutes`
convert from and to naive ``datetime``.

Internally the calendar is a table over days: the cumulative number of
work minutes before each day, and an index into the few distinct daily
patterns.  Every question is then a bisection over that table plus a walk
over the day's two or three periods:

* ``work_before(t)``: work minutes from a fixed anchor up to ``t`` -- the
  calendar's "clock", so that the work between ``a`` and ``b`` is
  ``work_before(b) - work_before(a)``;
* ``start_at(w)``: the latest moment whose clock reads ``w`` (a start: it
  jumps over idle time to the next working minute);
* ``finish_at(w)``: the earliest moment whose clock reads ``w`` (a finish: it
  stays at the end of the last working minute).

The table grows on demand in both directions without moving the anchor, so
clock readings stay comparable for the life of the object.

Example
-------
>>> import datetime as dt
>>> from wbs.scheduling.model import Calendar
>>> wt = WorkTime(Calendar("std"))
>>> wt.add_work(dt.datetime(2025, 1, 3, 16, 0), 120)   # Friday 16:00 + 2 h
datetime.datetime(2025, 1, 6, 9, 0)
"""

from __future__ import annotations

import datetime as _dt
from bisect import bisect_left, bisect_right

__all__ = [
    "EPOCH",
    "MINUTES_PER_DAY",
    "to_minutes",
    "from_minutes",
    "WorkTime",
    "NoWorkingTime",
]

EPOCH = _dt.datetime(1899, 12, 30)
MINUTES_PER_DAY = 1440
_EPOCH_ORDINAL = EPOCH.toordinal()
# Day 0 (1899-12-30) was a Saturday: weekday() of day d is (d + 5) % 7.
_EPOCH_WEEKDAY = EPOCH.weekday()
# Growth beyond this many days from the anchor means the calendar has no
# working time in that direction; stop instead of growing forever.
_MAX_SPAN_DAYS = 200 * 366


class NoWorkingTime(ValueError):
    """The calendar has no working time where some was needed."""


def to_minutes(value):
    """Minutes since 1899-12-30 00:00 of a naive datetime (seconds dropped)."""
    return (value.toordinal() - _EPOCH_ORDINAL) * MINUTES_PER_DAY + value.hour * 60 + value.minute


def from_minutes(minutes):
    """Inverse of :func:`to_minutes`."""
    day, minute = divmod(minutes, MINUTES_PER_DAY)
    d = _dt.date.fromordinal(_EPOCH_ORDINAL + day)
    return _dt.datetime(d.year, d.month, d.day, minute // 60, minute % 60)


def _pattern(periods):
    """Normalise a day's periods into (starts, ends, work-before-period, total)."""
    clean = sorted((int(s), int(e)) for s, e in periods if e > s)
    merged = []
    for s, e in clean:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    starts, ends, before = [], [], []
    total = 0
    for s, e in merged:
        starts.append(s)
        ends.append(e)
        before.append(total)
        total += e - s
    return tuple(starts), tuple(ends), tuple(before), total


class WorkTime:
    """Precomputed working-time arithmetic for one calendar.

    Parameters
    ----------
    calendar : wbs.scheduling.model.Calendar
    around : datetime, optional
        Where most questions will be asked; the first table is built around
        it (it grows anyway when needed).

    Notes
    -----
    The integer methods (``work_before``, ``start_at``, ``finish_at``,
    ``next_start``, ``previous_finish``) are the scheduler's hot path: each is
    one bisection or one index, O(log n) in the table size.
    """

    __slots__ = ("calendar", "_patterns", "_week", "_exceptions", "_lo", "_n", "_cum", "_pat", "_anchor")

    def __init__(self, calendar, around=None):
        self.calendar = calendar
        patterns = {}
        self._patterns = []

        def pid(periods):
            p = _pattern(periods)
            if p not in patterns:
                patterns[p] = len(self._patterns)
                self._patterns.append(p)
            return patterns[p]

        self._week = tuple(pid(calendar.week[d]) for d in range(7))
        self._exceptions = {
            d.toordinal() - _EPOCH_ORDINAL: pid(periods) for d, periods in calendar.exceptions.items()
        }
        has_work = any(self._patterns[p][3] for p in self._week) or any(
            self._patterns[p][3] for p in self._exceptions.values()
        )
        if not has_work:
            raise NoWorkingTime(f"calendar {calendar.id!r} has no working time")
        centre = to_minutes(around) // MINUTES_PER_DAY if around is not None else 45000
        self._anchor = centre
        self._lo = centre
        self._n = 0
        self._cum = [0]
        self._pat = []
        self._build(centre - 3 * 366, centre + 6 * 366)

    # -- table -------------------------------------------------------------

    def _day_pattern(self, day):
        p = self._exceptions.get(day)
        if p is None:
            p = self._week[(day + _EPOCH_WEEKDAY) % 7]
        return p

    def _build(self, lo, hi):
        """(Re)build the table for days [lo, hi), keeping the anchor's reading."""
        if lo < self._anchor - _MAX_SPAN_DAYS or hi > self._anchor + _MAX_SPAN_DAYS:
            raise NoWorkingTime(
                f"calendar {self.calendar.id!r}: no working time within {_MAX_SPAN_DAYS} days"
            )
        totals = [p[3] for p in self._patterns]
        pat = [self._day_pattern(d) for d in range(lo, hi)]
        cum = [0] * (len(pat) + 1)
        c = 0
        for i, p in enumerate(pat):
            cum[i] = c
            c += totals[p]
        cum[len(pat)] = c
        # Shift so that the anchor day keeps reading as it did.
        if self._n:
            old = self._cum[0]
            shift = old - cum[self._lo - lo]
        else:
            shift = -cum[self._anchor - lo]
        if shift:
            cum = [x + shift for x in cum]
        self._lo, self._n, self._cum, self._pat = lo, len(pat), cum, pat

    def _grow_for_day(self, day):
        lo, hi = self._lo, self._lo + self._n
        span = max(self._n, 366)
        if day < lo:
            lo = min(day - 366, lo - span)
        if day >= hi:
            hi = max(day + 367, hi + span)
        self._build(lo, hi)

    def _grow_for_work(self, w):
        # Grow in the direction the reading lies until it is inside the table.
        while True:
            if w < self._cum[0]:
                self._grow_for_day(self._lo - 1)
            elif w >= self._cum[-1]:
                self._grow_for_day(self._lo + self._n)
            else:
                return

    # -- integer API (hot path) -------------------------------------------

    def work_before(self, t):
        """Clock reading at minute ``t``: work minutes from the anchor to ``t``."""
        d, m = divmod(t, MINUTES_PER_DAY)
        i = d - self._lo
        if i < 0 or i >= self._n:
            self._grow_for_day(d)
            i = d - self._lo
        c = self._cum[i]
        starts, ends, before, total = self._patterns[self._pat[i]]
        for s, e, b in zip(starts, ends, before):
            if m <= s:
                return c + b
            if m < e:
                return c + b + m - s
        return c + total

    def start_at(self, w):
        """Latest minute whose clock reads ``w``: the start of work minute ``w``."""
        cum = self._cum
        i = bisect_right(cum, w) - 1
        if i < 0 or i >= self._n:
            self._grow_for_work(w)
            cum = self._cum
            i = bisect_right(cum, w) - 1
        r = w - cum[i]
        starts, ends, before, _ = self._patterns[self._pat[i]]
        for s, e, b in zip(starts, ends, before):
            if r < b + e - s:
                return (self._lo + i) * MINUTES_PER_DAY + s + r - b
        raise AssertionError("unreachable: table inconsistent")  # pragma: no cover

    def finish_at(self, w):
        """Earliest minute whose clock reads ``w``: the end of work minute ``w - 1``."""
        cum = self._cum
        i = bisect_left(cum, w) - 1
        if i < 0 or i >= self._n:
            self._grow_for_work(w - 1)
            cum = self._cum
            i = bisect_left(cum, w) - 1
        r = w - cum[i]
        starts, ends, before, _ = self._patterns[self._pat[i]]
        for s, e, b in zip(starts, ends, before):
            if r <= b + e - s:
                return (self._lo + i) * MINUTES_PER_DAY + s + r - b
        raise AssertionError("unreachable: table inconsistent")  # pragma: no cover

    def next_start(self, t):
        """First minute at or after ``t`` at which work happens."""
        return self.start_at(self.work_before(t))

    def previous_finish(self, t):
        """Last moment at or before ``t`` that ends a stretch of work (``t`` if working)."""
        return self.finish_at(self.work_before(t))

    def is_working_minute(self, t):
        """Whether the minute starting at ``t`` is working time."""
        return self.work_before(t + 1) > self.work_before(t)

    # -- datetime API -------------------------------------------------------

    def add_work(self, start, minutes):
        """Moment by which ``minutes`` of work begun at ``start`` are done.

        With ``minutes == 0`` this is ``start`` itself; negative minutes
        count backwards (see :meth:`subtract_work`).
        """
        if minutes < 0:
            return self.subtract_work(start, -minutes)
        if minutes == 0:
            return start
        t = to_minutes(start)
        return from_minutes(self.finish_at(self.work_before(t) + minutes))

    def subtract_work(self, finish, minutes):
        """Latest moment from which ``minutes`` of work end at ``finish``."""
        if minutes < 0:
            return self.add_work(finish, -minutes)
        if minutes == 0:
            return finish
        t = to_minutes(finish)
        return from_minutes(self.start_at(self.work_before(t) - minutes))

    def work_between(self, a, b):
        """Work minutes from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
        return self.work_before(to_minutes(b)) - self.work_before(to_minutes(a))

    def next_working(self, moment):
        """First moment at or after ``moment`` that is working time."""
        return from_minutes(self.next_start(to_minutes(moment)))

    def previous_working(self, moment):
        """Last moment at or before ``moment`` that ends working time (itself if working)."""
        return from_minutes(self.previous_finish(to_minutes(moment)))

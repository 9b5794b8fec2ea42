"""Calendar arithmetic of the passes: clock readings on the calendars in use.

Each calendar the schedule needs (activity calendars, and the lag calendar)
gets a position; :class:`Clocks` holds, per position, the three integer
conversions of its :class:`~wbs.scheduling.calendars.WorkTime`
(``work_before``, ``start_at``, ``finish_at``) and a memo of each.  Many
activities share dates, so the memos answer most questions from a dict: a
subscript that falls back to the calendar on a miss.

A clock reading ``w`` on calendar ``c`` is ``work_before[c](t)``; work
minutes add and subtract on clock readings, which is how durations and lags
are counted in work time.
"""

from __future__ import annotations

from wbs.scheduling.calendars import NoWorkingTime, WorkTime
from wbs.scheduling.errors import ScheduleInputError

__all__ = ["Clocks", "Memo"]


class Memo(dict):
    """``memo[x]`` is ``function(x)``, computed once."""

    __slots__ = ("function",)

    def __init__(self, function):
        super().__init__()
        self.function = function

    def __missing__(self, key):
        value = self[key] = self.function(key)
        return value


class Clocks:
    """The calendars in use, by position, with memoised conversions.

    Attributes
    ----------
    work_before, start_at, finish_at : list of callables
        By calendar position, the :class:`WorkTime` conversions.
    clock, start, finish : list of Memo
        The same conversions, memoised: ``clock[c][t]``, ``start[c][w]``,
        ``finish[c][w]``.
    """

    __slots__ = ("_calendars", "_around", "_position", "work_before", "start_at", "finish_at",
                 "clock", "start", "finish")

    def __init__(self, calendars, around):
        self._calendars = calendars
        self._around = around
        self._position = {}
        self.work_before, self.start_at, self.finish_at = [], [], []
        self.clock, self.start, self.finish = [], [], []

    def position(self, key, label=None, calendar=None):
        """Position of calendar ``key`` (looked up among the project's unless given)."""
        c = self._position.get(key)
        if c is not None:
            return c
        if calendar is None:
            calendar = self._calendars.get(key) if key is not None else None
            if calendar is None:
                raise ScheduleInputError(f"calendar {key!r} not found", label)
        try:
            wt = WorkTime(calendar, around=self._around)
        except NoWorkingTime as exc:
            raise ScheduleInputError(str(exc), label) from None
        self.work_before.append(wt.work_before)
        self.start_at.append(wt.start_at)
        self.finish_at.append(wt.finish_at)
        self.clock.append(Memo(wt.work_before))
        self.start.append(Memo(wt.start_at))
        self.finish.append(Memo(wt.finish_at))
        c = self._position[key] = len(self.work_before) - 1
        return c

    def get(self, key):
        """Position of calendar ``key`` if it is in use, else None."""
        return self._position.get(key)

    def shift(self, t, lag, c):
        """Minute ``t`` moved by ``lag`` work minutes of calendar ``c`` (a finish)."""
        return self.finish_at[c](self.work_before[c](t) + lag) if lag else t

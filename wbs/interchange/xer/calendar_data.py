"""Parse P6's ``CALENDAR.clndr_data`` into a :class:`~wbs.scheduling.model.Calendar`.

The field is a tree of nodes written as ``(0||NAME(ATTRIBUTES)(CHILDREN))``,
with ``\\x7f`` characters and spaces as line breaks and indentation::

    (0||CalendarData()(
      (0||DaysOfWeek()(
        (0||1()())                                  Sunday: idle
        (0||2()(                                    Monday: two periods
          (0||0(s|08:00|f|12:00)())
          (0||1(s|13:00|f|17:00)())))
        ...
      (0||Exceptions()(
        (0||0(d|38355)())                           a holiday (day serial)
        (0||11(d|38821)((0||0(s|08:00|f|12:00)()))) a day with its own hours

Weekdays are numbered 1 (Sunday) to 7 (Saturday).  Exception dates are day
serials counted from 1899-12-30.  A period's finish of ``00:00`` (not after
its start) means midnight at the end of the day, so ``s|00:00|f|00:00`` is a
whole day.  Attribute order varies between P6 versions (``f|16:00|s|08:00``).

Broken data (unbalanced brackets, a bad time or serial) raises
:class:`CalendarDataError`, which names the calendar.  What to do with such a
calendar is the caller's decision; :mod:`wbs.interchange.xer.mapping` documents its own.
"""

from __future__ import annotations

import datetime as _dt

from wbs.scheduling.model import Calendar
from wbs.interchange.xer.reader import XerError

__all__ = ["CalendarDataError", "parse_tree", "parse_calendar_data", "has_work_week"]

_EPOCH = _dt.date(1899, 12, 30)
_SEPARATORS = " \t\r\n\x7f"


class CalendarDataError(XerError):
    """``clndr_data`` that cannot be understood."""


def parse_tree(text):
    """Parse ``clndr_data`` into nested ``(name, attrs, children)`` tuples.

    ``attrs`` is a dict built from the ``key|value|key|value`` list.

    Raises
    ------
    CalendarDataError
    """
    n = len(text)

    def skip(i):
        while i < n and text[i] in _SEPARATORS:
            i += 1
        return i

    def expect(i, ch):
        if i >= n or text[i] != ch:
            got = text[i] if i < n else "end of data"
            raise CalendarDataError(f"clndr_data: expected {ch!r} at offset {i}, found {got!r}")
        return i + 1

    def node(i):
        i = expect(skip(i), "(")
        bar = text.find("||", i)
        if bar < 0:
            raise CalendarDataError(f"clndr_data: missing '||' after offset {i}")
        j = text.find("(", bar + 2)
        if j < 0:
            raise CalendarDataError(f"clndr_data: node without attributes at offset {i}")
        name = text[bar + 2 : j].strip()
        k = text.find(")", j + 1)
        if k < 0:
            raise CalendarDataError(f"clndr_data: unterminated attributes at offset {j}")
        raw = text[j + 1 : k]
        parts = raw.split("|") if raw else []
        if len(parts) % 2:
            raise CalendarDataError(f"clndr_data: odd attribute list {raw!r}")
        attrs = dict(zip(parts[0::2], parts[1::2]))
        i = expect(skip(k + 1), "(")
        children = []
        while True:
            i = skip(i)
            if i >= n:
                raise CalendarDataError("clndr_data: unexpected end of data (unbalanced brackets)")
            if text[i] == ")":
                i += 1
                break
            child, i = node(i)
            children.append(child)
        i = expect(skip(i), ")")
        return (name, attrs, children), i

    root, end = node(0)
    if skip(end) != n:
        raise CalendarDataError(f"clndr_data: trailing characters after offset {end}")
    return root


def _minutes(value):
    try:
        h, m = value.strip().split(":")
        h, m = int(h), int(m)
    except (ValueError, AttributeError):
        raise CalendarDataError(f"clndr_data: bad time {value!r}") from None
    if not (0 <= h <= 24 and 0 <= m < 60):
        raise CalendarDataError(f"clndr_data: bad time {value!r}")
    return h * 60 + m


def _periods(children):
    out = []
    for _name, attrs, _ in children:
        if "s" not in attrs or "f" not in attrs:
            raise CalendarDataError(f"clndr_data: period without start and finish: {attrs}")
        s, f = _minutes(attrs["s"]), _minutes(attrs["f"])
        if f <= s:
            f += 1440  # finish at or before start: the period runs to midnight
        out.append((s, min(f, 1440)))
    return tuple(sorted(out))


def _find(node, name):
    for child in node[2]:
        if child[0].lower() == name.lower():
            return child
    return None


def has_work_week(text):
    """Whether ``clndr_data`` gives a work week (a ``DaysOfWeek`` node); without one
    :func:`parse_calendar_data` uses the base calendar's, else the standard week.

    Raises
    ------
    CalendarDataError
    """
    return _find(parse_tree(text or ""), "DaysOfWeek") is not None


def parse_calendar_data(text, calendar_id, name="", hours_per_day=8.0, base=None):
    """Build a :class:`Calendar` from ``clndr_data``.

    Parameters
    ----------
    text : str
        The ``clndr_data`` value.
    calendar_id, name : str
    hours_per_day : float
        ``day_hr_cnt``.
    base : Calendar, optional
        Base calendar whose week is used when the data has no ``DaysOfWeek``
        (resource calendars derived from a global one).

    Raises
    ------
    CalendarDataError
        The data cannot be parsed; the message names the calendar.
    """
    try:
        root = parse_tree(text or "")
        days = _find(root, "DaysOfWeek")
        if days is None:
            week = base.week if base is not None else Calendar(calendar_id).week
        else:
            week = [()] * 7
            for day_name, _attrs, children in days[2]:
                try:
                    p6_day = int(day_name)
                except ValueError:
                    raise CalendarDataError(f"clndr_data: bad weekday {day_name!r}") from None
                if not 1 <= p6_day <= 7:
                    raise CalendarDataError(f"clndr_data: bad weekday {day_name!r}")
                # P6: 1 = Sunday ... 7 = Saturday; Python: 0 = Monday.
                week[(p6_day + 5) % 7] = _periods(children)
            week = tuple(week)
        exceptions = dict(base.exceptions) if (base is not None and days is None) else {}
        exc = _find(root, "Exceptions")
        if exc is not None:
            for _n, attrs, children in exc[2]:
                serial = attrs.get("d")
                try:
                    day = _EPOCH + _dt.timedelta(days=int(serial))
                except (TypeError, ValueError, OverflowError):
                    raise CalendarDataError(f"clndr_data: bad exception day {serial!r}") from None
                exceptions[day] = _periods(children)
    except CalendarDataError as exc_:
        label = f"{calendar_id} ({name})" if name else str(calendar_id)
        raise CalendarDataError(f"calendar {label}: {exc_}", "CALENDAR") from None
    return Calendar(id=str(calendar_id), name=name, week=week, exceptions=exceptions, hours_per_day=hours_per_day)

"""Microsoft Project XML (MSPDI) files to and from the neutral :class:`~wbs.exchange.ExchangeProject`.

Pure: bytes in, bytes out, no database. :func:`read_mspdi` parses a file,
:func:`write_mspdi` writes one that :func:`read_mspdi` reads back to the same
project, and that Microsoft Project opens.

The mapping
-----------
* ``Project``: ``StatusDate`` is the data date, ``StartDate`` the planned start,
  ``CalendarUID`` the default calendar, ``CriticalSlackLimit`` (days) the
  critical float, ``Title`` (else ``Name``) the project name.
* ``Calendars``: ``WeekDays/WeekDay`` (``DayType`` 1 = Sunday … 7 = Saturday)
  with ``WorkingTimes``; exceptions as ``Exceptions/Exception`` (Project 2007 and
  later: a ``TimePeriod`` of days, possibly recurring daily, weekly, monthly or
  yearly) or as ``WeekDay`` with ``DayType`` 0 (Project 2003, which Project still
  writes alongside). Derived calendars inherit missing days and the
  exceptions of their ``BaseCalendarUID``; those no task uses (resources'
  calendars) are left behind.
* ``Tasks``: the task with UID 0 (outline level 0) is the project summary.
  The outline (``OutlineLevel`` in file order, else ``OutlineNumber``) gives the
  hierarchy: summary tasks (``Summary`` = 1, or any task with children) become
  WBS elements, coded by their ``WBS`` field; the other tasks become
  activities, coded by their ``WBS`` field too (else ``OutlineNumber``), under
  their nearest summary task. ``Milestone`` = 1 with no duration is a finish
  milestone; inactive tasks (``Active`` = 0) are left out. Durations are
  ``PT#H#M#S`` in working hours; ``ConstraintType`` 0 as soon as possible, 1 as
  late as possible, 2 must start on, 3 must finish on (mandatory when the
  project honours constraints, as Project does by default), 4 start no earlier
  than, 5 start no later than, 6 finish no earlier than, 7 finish no later
  than; ``Deadline`` is a finish-on-or-before constraint; ``Cost`` /
  ``ActualCost`` are in hundredths of the currency unit, as Project writes them.
  Links to or from summary tasks and to other projects are left out, noted in
  :attr:`ExchangeProject.warnings` (crmpm links activities only).
* ``PredecessorLink``: ``Type`` 0 = FF, 1 = FS, 2 = SF, 3 = SS; ``LinkLag`` in
  tenths of a minute (or in percent of the predecessor's duration when
  ``LagFormat`` is a percentage).

What MSPDI cannot say — P6 activity types (start milestone, level of effort,
resource dependent), P6's two kinds of "start on" / "finish on" constraints,
secondary constraints, expected finish, fractional percent complete and the
project's scheduling options — travels in one task text field aliased
``crmpm`` (``Text1`` in files written here; found by its alias when read) as
``key=value; key=value``. Project keeps custom field values, so a file opened
and saved in Project still round-trips; files from elsewhere need none of it.

Not carried
-----------
Resources and assignments (costs are read from the tasks' totals), baselines,
work weeks (calendar patterns for date ranges; the default week is used),
elapsed durations and lags (read as working hours), manual scheduling (crmpm
schedules every task by CPM), and backward-scheduled projects (scheduled
forward). What is left out of a file is listed in ``warnings``.

Untrusted input
---------------
Files are parsed with the standard library's expat parser into ElementTree
elements (keeping each element's line for error messages), and any document
type declaration is refused: MSPDI never needs one, and without it there are
no entities to expand (no "billion laughs") and nothing external to fetch, so
``defusedxml`` is not needed. Durations and lags beyond
a million hours, dates outside 1900-2199 and calendar exceptions beyond
20,000 days are refused, so a hostile file cannot make the scheduler walk
centuries of calendar.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from xml.parsers import expat

from wbs.exchange import ExchangeActivity, ExchangePlan, ExchangeProject, ExchangeWbs
from wbs.scheduling.model import (
    STANDARD_WEEK,
    ActivityResult,
    ActivityType,
    Calendar,
    ConstraintType,
    CriticalDefinition,
    FloatType,
    LagCalendar,
    ProgressMode,
    Relationship,
    RelationshipType,
)

__all__ = ["MspdiError", "read_mspdi", "write_mspdi", "NAMESPACE", "format_duration", "parse_duration"]

NAMESPACE = "http://schemas.microsoft.com/project"
CRMPM_ALIAS = "crmpm"
TEXT1_FIELD_ID = "188743731"  # Project's task custom field Text1
CENT = Decimal("0.01")
# Exception days one calendar may expand to (about 55 years): a guard against
# a hostile file's "every day for ten thousand years".
MAX_EXCEPTION_DAYS = 20_000
MAX_HOURS = 1_000_000.0  # as wbs.services.MAX_HOURS: about 114 years of round-the-clock work
YEARS = range(1900, 2200)

LINK_TYPES = {0: RelationshipType.FF, 1: RelationshipType.FS, 2: RelationshipType.SF, 3: RelationshipType.SS}
LINK_CODES = {v: k for k, v in LINK_TYPES.items()}
PERCENT_LAG_FORMATS = {19, 20, 51, 52}
HOURS_LAG_FORMAT = 5
DAYS_DURATION_FORMAT = 7
# Project's constraint codes; 2 and 3 are hard in Project (they override links when
# constraints are honoured), like P6's mandatory start and finish.
CONSTRAINT_CODES = {
    None: 0,
    ConstraintType.AS_LATE_AS_POSSIBLE: 1,
    ConstraintType.START_ON: 2,
    ConstraintType.MANDATORY_START: 2,
    ConstraintType.FINISH_ON: 3,
    ConstraintType.MANDATORY_FINISH: 3,
    ConstraintType.START_ON_OR_AFTER: 4,
    ConstraintType.START_ON_OR_BEFORE: 5,
    ConstraintType.FINISH_ON_OR_AFTER: 6,
    ConstraintType.FINISH_ON_OR_BEFORE: 7,
}
SOFT_CONSTRAINTS = {1: ConstraintType.AS_LATE_AS_POSSIBLE, 4: ConstraintType.START_ON_OR_AFTER,
                    5: ConstraintType.START_ON_OR_BEFORE, 6: ConstraintType.FINISH_ON_OR_AFTER,
                    7: ConstraintType.FINISH_ON_OR_BEFORE}

_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


class MspdiError(ValueError):
    """A file that is not usable MSPDI; the message names the element, task UID and line where known."""

    def __init__(self, message: str, *, element: str | None = None, uid: str | int | None = None,
                 line: int | None = None):
        self.message, self.element, self.uid, self.line = message, element, uid, line
        where = ", ".join(part for part in (
            element and (f"{element} UID {uid}" if uid is not None else element),
            line and f"line {line}") if part)
        super().__init__(f"{message} ({where})" if where else message)


# Values


def parse_duration(text: str) -> float:
    """Hours in an xsd:duration as Project writes it (``PT8H0M0S``); days count 24 hours.

    >>> parse_duration("PT7H30M0S")
    7.5
    """
    match = _DURATION.match(text.strip())
    if match is None or text.strip() in ("P", "PT"):
        raise ValueError(f"{text!r} is not a duration like PT8H0M0S")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return parts["d"] * 24 + parts["h"] + parts["m"] / 60 + parts["s"] / 3600


def format_duration(hours: float) -> str:
    """``PT#H#M#S`` for a number of hours, to the second.

    >>> format_duration(7.5)
    'PT7H30M0S'
    """
    seconds = max(0, round(float(hours) * 3600))
    return f"PT{seconds // 3600}H{seconds % 3600 // 60}M{seconds % 60}S"


def _format_date(value: _dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _format_time(minutes: int) -> str:
    minutes %= 1440  # midnight at the end of a day is written 00:00:00, as Project does
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def _format_money(value: Decimal) -> str:
    return str((Decimal(value) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def _format_number(value: float) -> str:
    value = round(float(value), 6)
    return str(int(value)) if value == int(value) else repr(value)


# Reading XML


class _Document:
    """A parsed file: the root element, each element's line, the namespace in use."""

    def __init__(self, data: bytes):
        builder = ET.TreeBuilder()
        self.lines: dict[ET.Element, int] = {}
        parser = expat.ParserCreate(namespace_separator="}")

        def refuse(*_args):
            raise MspdiError("document type declarations are not allowed in MSPDI files",
                             line=parser.CurrentLineNumber)

        def start(tag, attrs):
            element = builder.start("{" + tag if "}" in tag else tag, attrs)
            self.lines[element] = parser.CurrentLineNumber

        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        parser.StartElementHandler = start
        parser.EndElementHandler = lambda tag: builder.end("{" + tag if "}" in tag else tag)
        parser.CharacterDataHandler = builder.data
        parser.buffer_text = True
        try:
            parser.Parse(bytes(data), True)
        except expat.ExpatError as exc:
            raise MspdiError(f"not an XML file: {expat.ErrorString(exc.code)}", line=exc.lineno) from None
        self.root = builder.close()
        tag = self.root.tag
        namespace, _sep, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        if local != "Project" or not namespace.startswith(NAMESPACE):
            found = f"<{local}>" + (f" in namespace {namespace}" if namespace else " without a namespace")
            raise MspdiError(f"not an MS Project XML (MSPDI) file: the root element is {found}, "
                             f"expected <Project> in namespace {NAMESPACE}", line=self.lines.get(self.root))
        self.ns = namespace

    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def child(self, element: ET.Element, name: str) -> ET.Element | None:
        return element.find(self.q(name))

    def children(self, element: ET.Element | None, name: str) -> list[ET.Element]:
        return [] if element is None else element.findall(self.q(name))

    def text(self, element: ET.Element | None, name: str) -> str | None:
        found = None if element is None else element.find(self.q(name))
        if found is None or found.text is None or not found.text.strip():
            return None
        return found.text.strip()

    def line(self, element: ET.Element | None) -> int | None:
        return self.lines.get(element) if element is not None else None


class _Reader:
    """Typed access to child elements, raising :class:`MspdiError` that names where."""

    def __init__(self, doc: _Document):
        self.doc = doc

    def _fail(self, parent, name, what, value, owner, uid):
        line = self.doc.line(self.doc.child(parent, name)) or self.doc.line(parent)
        raise MspdiError(f"{name} {value!r} is not {what}", element=owner, uid=uid, line=line)

    def int(self, parent, name, owner, uid=None, default=None):
        value = self.doc.text(parent, name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            self._fail(parent, name, "a whole number", value, owner, uid)

    def number(self, parent, name, owner, uid=None, default=None):
        value = self.doc.text(parent, name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if number != number or number in (float("inf"), float("-inf")):
            self._fail(parent, name, "a number", value, owner, uid)
        return number

    def money(self, parent, name, owner, uid=None):
        value = self.doc.text(parent, name)
        if value is None:
            return None
        try:
            amount = (Decimal(value) / 100).quantize(CENT, ROUND_HALF_UP)
        except InvalidOperation:
            self._fail(parent, name, "an amount", value, owner, uid)
        if amount < 0:
            self._fail(parent, name, "a positive amount", value, owner, uid)
        return amount

    def flag(self, parent, name, default=False):
        value = self.doc.text(parent, name)
        return default if value is None else value.lower() in ("1", "true")

    def date(self, parent, name, owner, uid=None):
        value = self.doc.text(parent, name)
        if value is None:
            return None
        return self.parse_date(value, parent, name, owner, uid)

    def parse_date(self, value, parent, name, owner, uid=None):
        try:
            parsed = _dt.datetime.fromisoformat(value)
        except ValueError:
            self._fail(parent, name, "a date and time like 2026-03-02T08:00:00", value, owner, uid)
        if parsed.year not in YEARS:
            self._fail(parent, name, f"a date in {YEARS.start}-{YEARS.stop - 1}", value, owner, uid)
        return parsed.replace(tzinfo=None, second=0, microsecond=0)

    def duration(self, parent, name, owner, uid=None, default=None):
        value = self.doc.text(parent, name)
        if value is None:
            return default
        try:
            hours = parse_duration(value)
        except ValueError:
            self._fail(parent, name, "a duration like PT8H0M0S", value, owner, uid)
        if hours > MAX_HOURS:
            self._fail(parent, name, f"a duration of at most {MAX_HOURS:,.0f} hours", value, owner, uid)
        return hours

    def time(self, parent, name, owner, uid=None):
        value = self.doc.text(parent, name)
        match = re.match(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$", value or "")
        if match is None or int(match[1]) > 24 or int(match[2]) > 59:
            self._fail(parent, name, "a time like 08:00:00", value, owner, uid)
        return int(match[1]) * 60 + int(match[2])


def _crmpm_values(text: str | None, *, uid, line) -> dict[str, str]:
    values = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise MspdiError(f"crmpm field part {part.strip()!r} is not key=value", element="Task", uid=uid,
                             line=line)
        values[key.strip()] = unquote(value.strip())
    return values


def _enum(kind, value: str, key: str, *, uid, line):
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise MspdiError(f"crmpm field {key}={value!r} is not one of {allowed}", element="Task", uid=uid,
                         line=line) from None


# Calendars


def _periods(doc: _Document, reader: _Reader, parent, owner, uid) -> tuple[tuple[int, int], ...]:
    periods = []
    for working in doc.children(doc.child(parent, "WorkingTimes"), "WorkingTime"):
        start = reader.time(working, "FromTime", owner, uid)
        end = reader.time(working, "ToTime", owner, uid)
        if end == 0:
            end = 1440
        if end <= start:
            raise MspdiError(f"working time {_format_time(start)}-{_format_time(end)} ends before it starts",
                             element=owner, uid=uid, line=doc.line(working))
        periods.append((start, min(end, 1440)))
    return tuple(sorted(periods))


def _day_periods(doc, reader, parent, owner, uid, default_periods):
    """The periods a WeekDay or Exception gives its day (standard hours when working without times)."""
    periods = _periods(doc, reader, parent, owner, uid)
    if not reader.flag(parent, "DayWorking"):
        return ()
    return periods or default_periods


def _dated_days(doc, reader, period, owner, uid) -> list[_dt.date]:
    start = reader.date(period, "FromDate", owner, uid)
    finish = reader.date(period, "ToDate", owner, uid)
    if start is None:
        raise MspdiError("TimePeriod without FromDate", element=owner, uid=uid, line=doc.line(period))
    finish = finish or start
    last = finish.date()
    if finish.time() == _dt.time(0) and finish.date() > start.date():
        last -= _dt.timedelta(days=1)  # a range ending at midnight does not include that day
    if last < start.date():
        raise MspdiError("TimePeriod ends before it starts", element=owner, uid=uid, line=doc.line(period))
    if (last - start.date()).days > MAX_EXCEPTION_DAYS:
        raise MspdiError(f"exception spans more than {MAX_EXCEPTION_DAYS} days", element=owner, uid=uid,
                         line=doc.line(period))
    return [start.date() + _dt.timedelta(days=n) for n in range((last - start.date()).days + 1)]


def _recurring_days(doc, reader, exception, days: list[_dt.date], uid) -> list[_dt.date] | None:
    """The days of ``days`` (the exception's TimePeriod) its recurrence picks; ``None`` when not understood.

    ``Type``: 1 every day, 7 every ``Period`` days, 6 every ``Period`` weeks on ``DaysOfWeek``
    (bits from Sunday = 1; weeks counted from the Sunday on or before the first day), 4 / 5 every
    ``Period`` months on day ``MonthDay`` / on the ``MonthPosition``-th (0 first … 3 fourth,
    4 last) ``MonthItem`` weekday (3 Sunday … 9 Saturday), 2 / 3 yearly in ``Month`` (0 January)
    on ``MonthDay`` / on the ``MonthPosition``-th ``MonthItem`` weekday.
    """
    def number(name, default=None):
        return reader.int(exception, name, "Calendar", uid, default)

    kind, every = number("Type", 1), max(number("Period", 1) or 1, 1)
    first = days[0]
    if kind == 1:
        return days
    if kind == 7:
        return days[::every]
    if kind == 6:
        mask = number("DaysOfWeek", 0)
        week_zero = first - _dt.timedelta(days=(first.weekday() + 1) % 7)
        return [d for d in days if (d - week_zero).days // 7 % every == 0 and mask >> ((d.weekday() + 1) % 7) & 1]
    if kind in (2, 3):
        month = number("Month")
        if month is None or not 0 <= month <= 11:
            return None
        months = [m for m in _months(first, days[-1]) if m.month == month + 1]
    elif kind in (4, 5):
        months = _months(first, days[-1])[::every]
    else:
        return None
    if kind in (2, 4):
        day = number("MonthDay")
        if day is None or not 1 <= day <= 31:
            return None
        picked = [m.replace(day=day) for m in months if day <= _month_length(m)]
    else:
        item, position = number("MonthItem"), number("MonthPosition")
        if item is None or not 3 <= item <= 9 or position is None or not 0 <= position <= 4:
            return None
        weekday = (item - 4) % 7  # 3 is Sunday, 4 Monday
        picked = []
        for m in months:
            matching = [m.replace(day=n) for n in range(1, _month_length(m) + 1)
                        if m.replace(day=n).weekday() == weekday]
            picked.append(matching[-1] if position == 4 else matching[position])
    return [d for d in picked if first <= d <= days[-1]]


def _months(first: _dt.date, last: _dt.date) -> list[_dt.date]:
    """The first day of every month from ``first``'s to ``last``'s."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + _dt.timedelta(days=32)).replace(day=1)
    return months


def _month_length(month: _dt.date) -> int:
    return ((month + _dt.timedelta(days=32)).replace(day=1) - _dt.timedelta(days=1)).day


def _read_calendar(doc: _Document, reader: _Reader, element, warnings: list[str]):
    uid = reader.int(element, "UID", "Calendar")
    if uid is None:
        raise MspdiError("a calendar without UID", element="Calendar", line=doc.line(element))
    name = doc.text(element, "Name") or f"Calendar {uid}"
    week: dict[int, tuple] = {}
    exceptions: dict[_dt.date, tuple] = {}
    for day in doc.children(doc.child(element, "WeekDays"), "WeekDay"):
        day_type = reader.int(day, "DayType", "Calendar", uid)
        if day_type == 0:  # Project 2003 exception
            period = doc.child(day, "TimePeriod")
            if period is None:
                continue
            periods = _day_periods(doc, reader, day, "Calendar", uid, STANDARD_WEEK[0])
            for when in _dated_days(doc, reader, period, "Calendar", uid):
                exceptions[when] = periods
        elif day_type is not None and 1 <= day_type <= 7:
            weekday = (day_type - 2) % 7  # DayType 1 is Sunday; crmpm counts from Monday
            week[weekday] = _day_periods(doc, reader, day, "Calendar", uid, STANDARD_WEEK[0])
        else:
            raise MspdiError(f"DayType {day_type!r} is not 0-7", element="Calendar", uid=uid, line=doc.line(day))
    for exception in doc.children(doc.child(element, "Exceptions"), "Exception"):
        period = doc.child(exception, "TimePeriod")
        if period is None:
            continue
        days = _recurring_days(doc, reader, exception, _dated_days(doc, reader, period, "Calendar", uid), uid)
        if days is None:
            warnings.append(f"calendar {name}: the recurring exception {doc.text(exception, 'Name') or ''!r} "
                            f"(line {doc.line(exception)}) repeats in a way crmpm does not read; left out")
            continue
        periods = _day_periods(doc, reader, exception, "Calendar", uid, STANDARD_WEEK[0])
        for when in days:
            exceptions[when] = periods
        if len(exceptions) > MAX_EXCEPTION_DAYS:
            raise MspdiError(f"more than {MAX_EXCEPTION_DAYS} exception days", element="Calendar", uid=uid,
                             line=doc.line(exception))
    if doc.children(doc.child(element, "WorkWeeks"), "WorkWeek"):
        warnings.append(f"calendar {name}: work weeks (weekly patterns for date ranges) are not supported; "
                        "the default week is used")
    base = reader.int(element, "BaseCalendarUID", "Calendar", uid, -1)
    is_base = reader.flag(element, "IsBaseCalendar", default=base in (-1, None))
    return str(uid), {"name": name, "week": week, "exceptions": exceptions,
                      "base": None if is_base or base in (-1, None, uid) else str(base)}


def _resolve_calendars(raw: dict[str, dict]) -> dict[str, Calendar]:
    resolved: dict[str, Calendar] = {}

    def build(key, seen=()):
        if key in resolved:
            return resolved[key]
        entry = raw[key]
        base = None
        if entry["base"] in raw and entry["base"] not in seen:
            base = build(entry["base"], seen + (key,))
        week = tuple(entry["week"].get(d, base.week[d] if base else (STANDARD_WEEK[d] if d < 5 else ()))
                     for d in range(7))
        exceptions = dict(base.exceptions) if base else {}
        exceptions.update(entry["exceptions"])
        resolved[key] = Calendar(id=key, name=entry["name"], week=week, exceptions=exceptions,
                                 hours_per_day=_hours_per_day(week))
        return resolved[key]

    for key in raw:
        build(key)
    return resolved


def _hours_per_day(week) -> float:
    """The most common length of a working day (Project keeps no per-calendar figure)."""
    lengths = Counter(sum(end - start for start, end in day) for day in week if day)
    return lengths.most_common(1)[0][0] / 60 if lengths else 8.0


# Tasks


def _outline_level(doc, reader, task, uid) -> int:
    level = reader.int(task, "OutlineLevel", "Task", uid)
    if level is not None:
        return level
    number = doc.text(task, "OutlineNumber")
    if number is not None:
        return 0 if number == "0" else number.count(".") + 1
    return 0 if uid == 0 else 1


def read_mspdi(data: bytes) -> ExchangeProject:
    """Parse an MSPDI file.

    Raises
    ------
    MspdiError
        Not XML, not MSPDI, or a value that cannot be read (naming the element,
        task UID and line).
    """
    doc = _Document(data)
    reader = _Reader(doc)
    root = doc.root
    warnings: list[str] = []

    crmpm_fields = {doc.text(attr, "FieldID") for attr in doc.children(doc.child(root, "ExtendedAttributes"),
                                                                        "ExtendedAttribute")
                    if (doc.text(attr, "Alias") or "").lower() == CRMPM_ALIAS}
    crmpm_fields.discard(None)

    def crmpm_of(task, uid):
        for attr in doc.children(task, "ExtendedAttribute"):
            if doc.text(attr, "FieldID") in crmpm_fields:
                return _crmpm_values(doc.text(attr, "Value"), uid=uid, line=doc.line(attr))
        return {}

    # Calendars
    raw_calendars = {}
    for element in doc.children(doc.child(root, "Calendars"), "Calendar"):
        key, entry = _read_calendar(doc, reader, element, warnings)
        raw_calendars[key] = entry
    calendars = _resolve_calendars(raw_calendars)
    default_calendar = reader.int(root, "CalendarUID", "Project")
    default_calendar_id = str(default_calendar) if default_calendar not in (None, -1) else None
    if default_calendar_id is not None and default_calendar_id not in calendars:
        raise MspdiError(f"CalendarUID {default_calendar} names no calendar in the file", element="Project",
                         line=doc.line(doc.child(root, "CalendarUID")))

    # Tasks: the outline first, so summaries are known before anything else is read
    rows = []
    seen_uids: dict[int, int] = {}
    summary_task = None
    for task in doc.children(doc.child(root, "Tasks"), "Task"):
        line = doc.line(task)
        uid = reader.int(task, "UID", "Task")
        if uid is None:
            raise MspdiError("a task without UID", element="Task", line=line)
        if uid in seen_uids:
            raise MspdiError(f"UID {uid} is used twice (first at line {seen_uids[uid]})", element="Task", uid=uid,
                             line=line)
        seen_uids[uid] = line
        if reader.flag(task, "IsNull"):
            continue
        level = _outline_level(doc, reader, task, uid)
        if level <= 0:
            summary_task = (uid, task)
            continue
        rows.append([uid, level, task, None, False])  # uid, level, element, parent uid, has children
    stack: list[list] = []
    for row in rows:
        while stack and stack[-1][1] >= row[1]:
            stack.pop()
        if stack:
            row[3] = stack[-1][0]
            stack[-1][4] = True
        stack.append(row)
    summaries = {row[0] for row in rows if row[4] or reader.flag(row[2], "Summary")}

    project_values = crmpm_of(summary_task[1], summary_task[0]) if summary_task else {}
    project_line = doc.line(summary_task[1]) if summary_task else doc.line(root)
    minutes_per_day = reader.number(root, "MinutesPerDay", "Project", default=480.0) or 480.0
    honor_constraints = reader.flag(root, "HonorConstraints", default=True)

    # WBS elements from summary tasks
    wbs: list[ExchangeWbs] = []
    sibling_count: Counter = Counter()
    for uid, _level, task, parent, _children in rows:
        if uid not in summaries:
            continue
        sibling_count[parent] += 1
        code = doc.text(task, "WBS") or doc.text(task, "OutlineNumber") or str(uid)
        wbs.append(ExchangeWbs(id=str(uid), code=code, name=doc.text(task, "Name") or code,
                               parent_id=str(parent) if parent is not None else None, seq=sibling_count[parent]))

    # Activities
    activities: list[ExchangeActivity] = []
    used_codes: set[str] = set()
    durations: dict[int, float] = {}
    for uid, _level, task, parent, _children in rows:
        if uid in summaries:
            continue
        if not reader.flag(task, "Active", default=True):
            warnings.append(f"task UID {uid} (line {doc.line(task)}) is inactive in Project and was left out")
            continue
        activity = _read_activity(doc, reader, task, uid, parent, calendars, crmpm_of(task, uid),
                                  honor_constraints, warnings)
        code = activity.code[:60]
        if code in used_codes:
            # crmpm activity codes are unique per project (and at most 60 characters).
            suffix = f".{uid}"
            code = f"{code[:60 - len(suffix)]}{suffix}"
        used_codes.add(code)
        if code != activity.code:
            activity = dataclasses.replace(activity, code=code)
        activities.append(activity)
        durations[uid] = activity.original_duration_hours

    # Relationships
    relationships: list[Relationship] = []
    pairs: set[tuple[int, int]] = set()
    for uid, _level, task, _parent, _children in rows:
        if uid not in durations and uid not in summaries:
            continue  # an inactive task, left out with its links
        for link in doc.children(task, "PredecessorLink"):
            line = doc.line(link)
            predecessor = reader.int(link, "PredecessorUID", "PredecessorLink of Task", uid)
            if predecessor is None:
                raise MspdiError("PredecessorLink without PredecessorUID", element="Task", uid=uid, line=line)
            if reader.flag(link, "CrossProject"):
                warnings.append(f"task UID {uid}: a link to another project (line {line}) was left out")
                continue
            if predecessor not in seen_uids:
                raise MspdiError(f"PredecessorLink to unknown task UID {predecessor}", element="Task", uid=uid,
                                 line=line)
            if predecessor == uid:
                raise MspdiError("a task is linked to itself", element="Task", uid=uid, line=line)
            if predecessor in summaries or uid in summaries:
                warnings.append(f"task UID {uid}: a link with summary task UID "
                                f"{predecessor if predecessor in summaries else uid} (line {line}) was left out; "
                                "crmpm links activities, not WBS elements")
                continue
            if predecessor not in durations:  # the project summary or a blank row
                warnings.append(f"task UID {uid}: a link to task UID {predecessor} (line {line}) was left out")
                continue
            code = reader.int(link, "Type", "PredecessorLink of Task", uid, 1)
            if code not in LINK_TYPES:
                raise MspdiError(f"link Type {code} is not 0 (FF), 1 (FS), 2 (SF) or 3 (SS)", element="Task",
                                 uid=uid, line=line)
            lag = reader.number(link, "LinkLag", "PredecessorLink of Task", uid, 0.0)
            lag_format = reader.int(link, "LagFormat", "PredecessorLink of Task", uid, HOURS_LAG_FORMAT)
            lag_hours = durations[predecessor] * lag / 100 if lag_format in PERCENT_LAG_FORMATS else lag / 600
            if abs(lag_hours) > MAX_HOURS:
                raise MspdiError(f"LinkLag {lag:g} is more than {MAX_HOURS:,.0f} hours", element="Task", uid=uid,
                                 line=line)
            if (predecessor, uid) in pairs:
                raise MspdiError(f"task UID {predecessor} is linked to this task twice", element="Task", uid=uid,
                                 line=line)
            pairs.add((predecessor, uid))
            relationships.append(Relationship(str(predecessor), str(uid), LINK_TYPES[code], round(lag_hours, 6)))

    # Derived calendars nothing uses are resources' own: they stay behind (their bases come along).
    used = {a.calendar_id for a in activities} | {default_calendar_id}
    calendars = {key: calendar for key, calendar in calendars.items()
                 if raw_calendars[key]["base"] is None or key in used}
    plan = _read_plan(doc, reader, root, project_values, project_line, default_calendar_id, minutes_per_day)
    if not reader.flag(root, "ScheduleFromStart", default=True):
        warnings.append("the project is scheduled from its finish in Project; crmpm schedules from the start")
    name = (doc.text(root, "Title") or (doc.text(summary_task[1], "Name") if summary_task else None)
            or doc.text(root, "Name") or "MS Project import")
    code = project_values.get("code") or re.sub(r"\.(xml|mpp)$", "", doc.text(root, "Name") or "", flags=re.I)
    code = re.sub(r"[\x00-\x1f\x7f]", "", code.strip())  # crmpm codes hold no control characters
    return ExchangeProject(code=code or "MSPDI", name=" ".join(name.split()), plan=plan, calendars=calendars, wbs=wbs,
                           activities=activities, relationships=relationships, warnings=warnings)


def _read_activity(doc, reader, task, uid, parent, calendars, values, honor_constraints, warnings):
    line = doc.line(task)
    duration = reader.duration(task, "Duration", "Task", uid, 0.0)
    remaining = reader.duration(task, "RemainingDuration", "Task", uid)
    actual_start = reader.date(task, "ActualStart", "Task", uid)
    actual_finish = reader.date(task, "ActualFinish", "Task", uid)
    if actual_finish is not None and actual_start is None:
        actual_start = actual_finish
    percent = reader.number(task, "PercentComplete", "Task", uid, 0.0)
    if "percent_complete" in values:
        try:
            percent = float(values["percent_complete"])
        except ValueError:
            raise MspdiError(f"crmpm field percent_complete={values['percent_complete']!r} is not a number",
                             element="Task", uid=uid, line=line) from None
    if not 0 <= percent <= 100:
        raise MspdiError(f"PercentComplete {percent:g} is not between 0 and 100", element="Task", uid=uid,
                         line=line)

    if "type" in values:
        kind = _enum(ActivityType, values["type"], "type", uid=uid, line=line)
    elif reader.flag(task, "Milestone") and duration == 0:
        kind = ActivityType.FINISH_MILESTONE
    else:
        kind = ActivityType.TASK

    calendar = reader.int(task, "CalendarUID", "Task", uid, -1)
    calendar_id = None if calendar in (-1, None) else str(calendar)
    if calendar_id is not None and calendar_id not in calendars:
        raise MspdiError(f"CalendarUID {calendar} names no calendar in the file", element="Task", uid=uid,
                         line=doc.line(doc.child(task, "CalendarUID")))

    code = reader.int(task, "ConstraintType", "Task", uid, 0)
    if code not in range(8):
        raise MspdiError(f"ConstraintType {code} is not 0-7", element="Task", uid=uid,
                         line=doc.line(doc.child(task, "ConstraintType")))
    constraint_date = reader.date(task, "ConstraintDate", "Task", uid)
    if code in (2, 3):
        constraint = ((ConstraintType.MANDATORY_START if code == 2 else ConstraintType.MANDATORY_FINISH)
                      if honor_constraints else
                      (ConstraintType.START_ON if code == 2 else ConstraintType.FINISH_ON))
    else:
        constraint = SOFT_CONSTRAINTS.get(code)
    if "constraint" in values:
        constraint = _enum(ConstraintType, values["constraint"], "constraint", uid=uid, line=line) \
            if values["constraint"] else None
    if constraint is not None and constraint is not ConstraintType.AS_LATE_AS_POSSIBLE and constraint_date is None:
        warnings.append(f"task UID {uid}: constraint {constraint.value} without ConstraintDate was left out")
        constraint = None
    if constraint is None or constraint is ConstraintType.AS_LATE_AS_POSSIBLE:
        constraint_date = None

    secondary, secondary_date = None, None
    if values.get("secondary_constraint"):
        secondary = _enum(ConstraintType, values["secondary_constraint"], "secondary_constraint", uid=uid,
                          line=line)
        secondary_date = reader.parse_date(values.get("secondary_constraint_date", ""), task, "crmpm field "
                                           "secondary_constraint_date", "Task", uid)
    deadline = reader.date(task, "Deadline", "Task", uid)
    if deadline is not None and "secondary_constraint" not in values:
        if constraint is None:
            constraint, constraint_date = ConstraintType.FINISH_ON_OR_BEFORE, deadline
        else:
            secondary, secondary_date = ConstraintType.FINISH_ON_OR_BEFORE, deadline

    expected = None
    if values.get("expected_finish"):
        expected = reader.parse_date(values["expected_finish"], task, "crmpm field expected_finish", "Task", uid)

    budgeted = reader.money(task, "Cost", "Task", uid)
    if budgeted is None:
        budgeted = reader.money(task, "FixedCost", "Task", uid) or Decimal("0.00")
    actual_cost = reader.money(task, "ActualCost", "Task", uid) or Decimal("0.00")
    result = None
    dates = [reader.date(task, field, "Task", uid)
             for field in ("EarlyStart", "EarlyFinish", "LateStart", "LateFinish")]
    if all(dates):
        # The file's own schedule, for information: an import schedules the project itself.
        total, free = (reader.number(task, field, "Task", uid) for field in ("TotalSlack", "FreeSlack"))
        result = ActivityResult(*dates, None, None, None, None,
                                None if total is None else round(total / 600, 6),
                                None if free is None else round(free / 600, 6),
                                reader.flag(task, "Critical"), False)
    name = doc.text(task, "Name") or ""
    code_text = doc.text(task, "WBS") or doc.text(task, "OutlineNumber") or f"T{uid}"
    return ExchangeActivity(
        id=str(uid), code=code_text, name=name or code_text, wbs_id=str(parent) if parent is not None else None,
        type=kind, original_duration_hours=round(duration, 6),
        remaining_duration_hours=None if remaining is None else round(remaining, 6),
        calendar_id=calendar_id, constraint=constraint, constraint_date=constraint_date,
        secondary_constraint=secondary, secondary_constraint_date=secondary_date,
        actual_start=actual_start, actual_finish=actual_finish, expected_finish=expected,
        percent_complete=percent, budgeted_cost=budgeted, actual_cost=actual_cost,
        notes=doc.text(task, "Notes") or "", result=result)


def _read_plan(doc, reader, root, values, line, default_calendar_id, minutes_per_day) -> ExchangePlan:
    def option(kind, key, default):
        return _enum(kind, values[key], key, uid=0, line=line) if values.get(key) else default

    def number(key, default):
        if key not in values:
            return default
        try:
            return float(values[key])
        except ValueError:
            raise MspdiError(f"crmpm field {key}={values[key]!r} is not a number", element="Task", uid=0,
                             line=line) from None

    def when(key):
        return reader.parse_date(values[key], root, f"crmpm field {key}", "Task", 0) if values.get(key) else None

    def zone(name):
        if not name:
            return None
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise MspdiError(f"crmpm field time_zone={name!r} is not an IANA time zone", element="Task", uid=0,
                             line=line) from None
        return name

    slack_days = reader.number(root, "CriticalSlackLimit", "Project", default=0.0)
    planned_start = reader.date(root, "StartDate", "Project")
    if "planned_start" in values:
        planned_start = when("planned_start")
    return ExchangePlan(
        data_date=reader.date(root, "StatusDate", "Project"), planned_start=planned_start,
        must_finish_by=when("must_finish_by"), default_calendar_id=default_calendar_id,
        progress_mode=option(ProgressMode, "progress_mode", ProgressMode.RETAINED_LOGIC),
        lag_calendar=option(LagCalendar, "lag_calendar", LagCalendar.PREDECESSOR),
        float_type=option(FloatType, "float_type", FloatType.FINISH),
        critical_definition=option(CriticalDefinition, "critical_definition", CriticalDefinition.TOTAL_FLOAT),
        critical_float_hours=number("critical_float_hours", slack_days * minutes_per_day / 60),
        open_ended_critical=values.get("open_ended_critical", "0") == "1",
        use_expected_finish=values.get("use_expected_finish", "1") == "1",
        time_zone=zone(values.get("time_zone")))


# Writing


def _sub(parent: ET.Element, name: str, value=None) -> ET.Element:
    element = ET.SubElement(parent, name)
    if value is not None:
        element.text = str(value)
    return element


def _crmpm_text(values: dict) -> str:
    # Only what would break the key=value; list is escaped, so codes and names stay readable in Project.
    def escape(value) -> str:
        return str(value).replace("%", "%25").replace(";", "%3B").replace("=", "%3D")

    return "; ".join(f"{key}={escape(value)}" for key, value in values.items())


def _write_periods(parent: ET.Element, periods) -> None:
    _sub(parent, "DayWorking", 1 if periods else 0)
    if periods:
        times = _sub(parent, "WorkingTimes")
        for start, end in periods:
            working = _sub(times, "WorkingTime")
            _sub(working, "FromTime", _format_time(start))
            _sub(working, "ToTime", _format_time(end))


def _exception_runs(exceptions) -> list[tuple[_dt.date, _dt.date, tuple]]:
    """Consecutive days with the same periods, as (first, last, periods)."""
    runs: list[list] = []
    for day in sorted(exceptions):
        periods = tuple(tuple(p) for p in exceptions[day])
        if runs and runs[-1][1] + _dt.timedelta(days=1) == day and runs[-1][2] == periods:
            runs[-1][1] = day
        else:
            runs.append([day, day, periods])
    return [tuple(run) for run in runs]


def _write_calendar(parent: ET.Element, uid: int, calendar: Calendar) -> None:
    element = _sub(parent, "Calendar")
    _sub(element, "UID", uid)
    _sub(element, "Name", calendar.name or f"Calendar {uid}")
    _sub(element, "IsBaseCalendar", 1)
    _sub(element, "BaseCalendarUID", -1)
    weekdays = _sub(element, "WeekDays")
    for day_type in range(1, 8):
        weekday = _sub(weekdays, "WeekDay")
        _sub(weekday, "DayType", day_type)
        _write_periods(weekday, calendar.week[(day_type - 2) % 7])
    runs = _exception_runs(calendar.exceptions)
    if runs:
        exceptions = _sub(element, "Exceptions")
        for first, last, periods in runs:
            exception = _sub(exceptions, "Exception")
            _sub(exception, "EnteredByOccurrences", 0)
            period = _sub(exception, "TimePeriod")
            _sub(period, "FromDate", f"{first.isoformat()}T00:00:00")
            _sub(period, "ToDate", f"{last.isoformat()}T23:59:00")
            _sub(exception, "Occurrences", (last - first).days + 1)
            _sub(exception, "Name", "Working day" if periods else "Holiday")
            _sub(exception, "Type", 1)
            _sub(exception, "Period", 1)
            _write_periods(exception, periods)


class _TaskWriter:
    """Writes tasks in outline order, numbering them 1, 2, … as they come."""

    def __init__(self, tasks: ET.Element, calendar_uids: dict[str, int], placeholder: _dt.datetime):
        self.tasks = tasks
        self.calendar_uids = calendar_uids
        self.placeholder = placeholder
        self.uids: dict[str, int] = {}
        self.elements: dict[str, ET.Element] = {}
        self.next_uid = 1

    def _task(self, uid, name, wbs, outline_number, level) -> ET.Element:
        task = _sub(self.tasks, "Task")
        _sub(task, "UID", uid)
        _sub(task, "ID", uid)
        _sub(task, "Name", name)
        _sub(task, "Type", 1)  # fixed duration: there are no resources to drive it
        _sub(task, "IsNull", 0)
        if wbs is not None:
            _sub(task, "WBS", wbs)
        _sub(task, "OutlineNumber", outline_number)
        _sub(task, "OutlineLevel", level)
        return task

    def summary(self, uid, name, wbs, outline_number, level, start, finish, values=None) -> ET.Element:
        task = self._task(uid, name, wbs, outline_number, level)
        _sub(task, "Start", _format_date(start or self.placeholder))
        _sub(task, "Finish", _format_date(finish or start or self.placeholder))
        _sub(task, "DurationFormat", DAYS_DURATION_FORMAT)
        _sub(task, "Milestone", 0)
        _sub(task, "Summary", 1)
        if values:
            self._crmpm(task, values)
        return task

    def activity(self, activity: ExchangeActivity, outline_number: str, level: int) -> None:
        uid = self.next_uid
        self.next_uid += 1
        self.uids[activity.id] = uid
        result = activity.result
        start = activity.actual_start or (result.early_start if result else None) or self.placeholder
        finish = activity.actual_finish or (result.early_finish if result else None) or start
        task = self._task(uid, activity.name, activity.code, outline_number, level)
        self.elements[activity.id] = task
        _sub(task, "Start", _format_date(start))
        _sub(task, "Finish", _format_date(max(start, finish)))
        _sub(task, "Duration", format_duration(activity.original_duration_hours))
        _sub(task, "DurationFormat", DAYS_DURATION_FORMAT)
        milestone = activity.type in (ActivityType.START_MILESTONE, ActivityType.FINISH_MILESTONE)
        _sub(task, "Milestone", 1 if milestone else 0)
        _sub(task, "Summary", 0)
        if result is not None:
            _sub(task, "Critical", 1 if result.critical else 0)
            for name in ("early_start", "early_finish", "late_start", "late_finish"):
                value = getattr(result, name)
                if value is not None:
                    _sub(task, "".join(part.title() for part in name.split("_")), _format_date(value))
            if result.free_float_hours is not None:
                _sub(task, "FreeSlack", round(result.free_float_hours * 600))
            if result.total_float_hours is not None:
                _sub(task, "TotalSlack", round(result.total_float_hours * 600))
        _sub(task, "FixedCost", _format_money(activity.budgeted_cost))
        _sub(task, "PercentComplete", round(activity.percent_complete))
        _sub(task, "Cost", _format_money(activity.budgeted_cost))
        if activity.actual_start is not None:
            _sub(task, "ActualStart", _format_date(activity.actual_start))
        if activity.actual_finish is not None:
            _sub(task, "ActualFinish", _format_date(activity.actual_finish))
        # No remaining duration means "as planned" to crmpm's scheduler; the element is left out to keep that.
        remaining = activity.remaining_duration_hours
        if activity.actual_start is not None:
            left = activity.original_duration_hours if remaining is None else remaining
            _sub(task, "ActualDuration", format_duration(max(activity.original_duration_hours - left, 0.0)))
        _sub(task, "ActualCost", _format_money(activity.actual_cost))
        if remaining is not None:
            _sub(task, "RemainingDuration", format_duration(remaining))
        _sub(task, "ConstraintType", CONSTRAINT_CODES[activity.constraint])
        _sub(task, "CalendarUID", self.calendar_uids.get(activity.calendar_id, -1) if activity.calendar_id else -1)
        if activity.constraint_date is not None:
            _sub(task, "ConstraintDate", _format_date(activity.constraint_date))
        if activity.secondary_constraint is ConstraintType.FINISH_ON_OR_BEFORE and activity.secondary_constraint_date:
            _sub(task, "Deadline", _format_date(activity.secondary_constraint_date))
        if activity.notes:
            _sub(task, "Notes", activity.notes)
        _sub(task, "PhysicalPercentComplete", round(activity.percent_complete))
        values = {"type": activity.type.value}
        if activity.constraint is not None:
            values["constraint"] = activity.constraint.value
        if activity.secondary_constraint is not None:
            values["secondary_constraint"] = activity.secondary_constraint.value
            if activity.secondary_constraint_date is not None:
                values["secondary_constraint_date"] = _format_date(activity.secondary_constraint_date)
        if activity.expected_finish is not None:
            values["expected_finish"] = _format_date(activity.expected_finish)
        if activity.percent_complete != round(activity.percent_complete):
            values["percent_complete"] = _format_number(activity.percent_complete)
        self._crmpm(task, values)

    @staticmethod
    def _crmpm(task: ET.Element, values: dict) -> None:
        attribute = _sub(task, "ExtendedAttribute")
        _sub(attribute, "FieldID", TEXT1_FIELD_ID)
        _sub(attribute, "Value", _crmpm_text(values))


def _placeholder(plan: ExchangePlan) -> _dt.datetime:
    """The date written where a task has none (no schedule yet)."""
    return plan.planned_start or plan.data_date or _dt.datetime.combine(_dt.date.today(), _dt.time(8))


def _document(project: ExchangeProject, project_start: _dt.datetime,
              placeholder: _dt.datetime) -> tuple[ET.Element, _TaskWriter]:
    """The file's root up to and including the project's own summary task (UID 0), and the task writer."""
    plan = project.plan
    root = ET.Element("Project", {"xmlns": NAMESPACE})
    _sub(root, "SaveVersion", 14)
    _sub(root, "Name", project.code)
    _sub(root, "Title", project.name)
    _sub(root, "ScheduleFromStart", 1)
    project_finish = plan.early_finish or project_start
    _sub(root, "StartDate", _format_date(project_start))
    _sub(root, "FinishDate", _format_date(max(project_finish, project_start)))
    default_calendar = project.calendars.get(plan.default_calendar_id) if plan.default_calendar_id else None
    hours_per_day = default_calendar.hours_per_day if default_calendar else 8.0
    _sub(root, "CriticalSlackLimit", round(plan.critical_float_hours / hours_per_day) if hours_per_day else 0)
    calendar_uids = {key: n for n, key in enumerate(project.calendars, 1)}
    _sub(root, "CalendarUID", calendar_uids.get(plan.default_calendar_id, -1))
    _sub(root, "MinutesPerDay", round(hours_per_day * 60))
    _sub(root, "HonorConstraints", 1)
    if plan.data_date is not None:
        _sub(root, "StatusDate", _format_date(plan.data_date))
    attributes = _sub(root, "ExtendedAttributes")
    attribute = _sub(attributes, "ExtendedAttribute")
    _sub(attribute, "FieldID", TEXT1_FIELD_ID)
    _sub(attribute, "FieldName", "Text1")
    _sub(attribute, "Alias", CRMPM_ALIAS)

    calendars = _sub(root, "Calendars")
    for key, calendar in project.calendars.items():
        _write_calendar(calendars, calendar_uids[key], calendar)

    tasks = _sub(root, "Tasks")
    writer = _TaskWriter(tasks, calendar_uids, placeholder)
    plan_values = {"code": project.code, "progress_mode": plan.progress_mode.value,
                   "lag_calendar": plan.lag_calendar.value, "float_type": plan.float_type.value,
                   "critical_definition": plan.critical_definition.value,
                   "critical_float_hours": _format_number(plan.critical_float_hours),
                   "open_ended_critical": int(plan.open_ended_critical),
                   "use_expected_finish": int(plan.use_expected_finish),
                   "planned_start": _format_date(plan.planned_start) if plan.planned_start else ""}
    if plan.must_finish_by is not None:
        plan_values["must_finish_by"] = _format_date(plan.must_finish_by)
    if plan.time_zone:
        plan_values["time_zone"] = plan.time_zone
    writer.summary(0, project.name, None, "0", 0, project_start, project_finish, plan_values)
    return root, writer


def _summary_dates(task: ET.Element, start, finish, placeholder: _dt.datetime) -> None:
    """A WBS summary spans its activities: the earliest start and latest finish under it."""
    task.find("Start").text = _format_date(start or placeholder)
    task.find("Finish").text = _format_date(max(finish or start or placeholder, start or placeholder))


def _links(task: ET.Element, incoming: list[tuple[int, RelationshipType, float]]) -> None:
    """A task's predecessors, ``(predecessor UID, type, lag hours)``, in the order of their UIDs."""
    # Links go after PhysicalPercentComplete and before the custom field, as the schema orders them.
    position = list(task).index(task.find("ExtendedAttribute"))
    for offset, (uid, type_, lag_hours) in enumerate(sorted(incoming, key=lambda link: link[0])):
        element = ET.Element("PredecessorLink")
        _sub(element, "PredecessorUID", uid)
        _sub(element, "Type", LINK_CODES[RelationshipType(type_)])
        _sub(element, "CrossProject", 0)
        _sub(element, "LinkLag", round(lag_hours * 600))
        _sub(element, "LagFormat", HOURS_LAG_FORMAT)
        task.insert(position + offset, element)


def write_mspdi(project: ExchangeProject) -> bytes:
    """The project as an MSPDI file (UTF-8) that :func:`read_mspdi` reads back to the same project."""
    plan = project.plan
    placeholder = _placeholder(plan)
    starts = [a.actual_start or (a.result.early_start if a.result else None) for a in project.activities]
    starts = [s for s in starts if s is not None]
    project_start = plan.planned_start or (min(starts) if starts else placeholder)
    root, writer = _document(project, project_start, placeholder)

    children: dict[str | None, list[ExchangeWbs]] = {}
    for element in project.wbs:
        children.setdefault(element.parent_id, []).append(element)
    placed: dict[str | None, list[ExchangeActivity]] = {}
    known = {element.id for element in project.wbs}
    for activity in project.activities:
        placed.setdefault(activity.wbs_id if activity.wbs_id in known else None, []).append(activity)

    def outline(parent_id: str | None, prefix: str, level: int) -> tuple:
        dates = []
        number = 0
        for activity in sorted(placed.get(parent_id, []), key=lambda a: a.code):
            number += 1
            writer.activity(activity, f"{prefix}{number}", level)
            result = activity.result
            dates.append((activity.actual_start or (result.early_start if result else None),
                          activity.actual_finish or (result.early_finish if result else None)))
        for element in sorted(children.get(parent_id, []), key=lambda e: (e.seq, e.code)):
            number += 1
            uid = writer.next_uid
            writer.next_uid += 1
            task = writer.summary(uid, element.name, element.code, f"{prefix}{number}", level, None, None)
            start, finish = outline(element.id, f"{prefix}{number}.", level + 1)
            _summary_dates(task, start, finish, placeholder)
            dates.append((start, finish))
        starts = [s for s, _f in dates if s is not None]
        finishes = [f for _s, f in dates if f is not None]
        return (min(starts) if starts else None), (max(finishes) if finishes else None)

    outline(None, "", 1)

    links: dict[str, list[Relationship]] = {}
    for link in project.relationships:
        links.setdefault(link.successor, []).append(link)
    for successor, incoming in links.items():
        _links(writer.elements[successor],
               [(writer.uids[link.predecessor], link.type, link.lag_hours) for link in incoming])

    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# What a streamed file's tasks are: a WBS summary, or an activity with its incoming links.
SummaryEntry = tuple  # ("summary", uid, ExchangeWbs, outline number, level, start, finish)
ActivityEntry = tuple  # ("activity", uid, ExchangeActivity, outline number, level, [(predecessor UID, type, lag)])
_TASK_LEVEL = 2  # Project > Tasks > Task


def stream_mspdi(project: ExchangeProject, *, project_start: _dt.datetime,
                 batches: Iterable[list[tuple]]) -> Iterator[bytes]:
    """The MSPDI file of :func:`write_mspdi`, byte for byte, as chunks: one for the head (plan, calendars, the
    project's summary task), then one per batch of tasks in outline order (``SummaryEntry``/``ActivityEntry``).

    ``project`` carries no activities or relationships: the batches hold them, so only one batch of tasks
    is ever built in memory.
    """
    placeholder = _placeholder(project.plan)
    root, writer = _document(project, project_start, placeholder)
    ET.indent(root, space=" ")
    head = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    end = head.rindex(b"\n </Tasks>")
    yield head[:end]
    for batch in batches:
        writer.tasks = ET.Element("Tasks")
        writer.elements = {}
        for entry in batch:
            if entry[0] == "summary":
                _kind, uid, element, number, level, start, finish = entry
                task = writer.summary(uid, element.name, element.code, number, level, None, None)
                _summary_dates(task, start, finish, placeholder)
            else:
                _kind, uid, activity, number, level, incoming = entry
                writer.next_uid = uid
                writer.activity(activity, number, level)
                if incoming:
                    _links(writer.elements[activity.id], incoming)
        # Serialized as the whole document's Tasks would be, in one call (a call per task cost twice the time),
        # and without the Tasks tags: "\n  <Task>…</Task>" for each task.
        ET.indent(writer.tasks, space=" ", level=_TASK_LEVEL - 1)
        text = ET.tostring(writer.tasks, encoding="unicode")
        yield text[len("<Tasks>"):-len("\n </Tasks>")].encode("utf-8")
    yield head[end:]

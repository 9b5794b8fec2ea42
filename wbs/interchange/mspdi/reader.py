"""An MSPDI file read into the neutral project: :func:`read_mspdi` (see :mod:`wbs.interchange.mspdi`)."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from xml.parsers import expat

from wbs.interchange.model import ExchangeActivity, ExchangePlan, ExchangeProject, ExchangeWbs
from wbs.interchange.mspdi.codes import read_codes
from wbs.interchange.mspdi.baselines import read_baselines
from wbs.interchange.mspdi.resources import PRIMARY_RESOURCE, read_resources
from wbs.interchange.mspdi.common import (CENT, CRMPM_ALIAS, EXTRA_LINKS, HOURS_LAG_FORMAT, LINK_TYPES,
                                          MAX_EXCEPTION_DAYS, MAX_HOURS, NAMESPACE, PERCENT_LAG_FORMATS, SOFT_CONSTRAINTS, YEARS, MspdiError,
                                          format_time, parse_duration)
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
)

__all__ = ["MspdiError", "read_mspdi", "mspdi_counts"]


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
            raise MspdiError(f"working time {format_time(start)}-{format_time(end)} ends before it starts",
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
    crmpm_of = _crmpm_field(doc)
    raw_calendars, calendars, default_calendar_id = _calendars(doc, reader, warnings)
    outline = _Outline.read(doc, reader)
    summary = outline.summary_task
    project_values = crmpm_of(summary[1], summary[0]) if summary else {}
    project_line = doc.line(summary[1]) if summary else doc.line(root)
    minutes_per_day = reader.number(root, "MinutesPerDay", "Project", default=480.0) or 480.0
    honor_constraints = reader.flag(root, "HonorConstraints", default=True)
    wbs = _wbs_elements(doc, outline)
    activities, durations = _activities(doc, reader, outline, calendars, crmpm_of, honor_constraints, warnings)
    relationships = _relationships(doc, reader, outline, durations, warnings, crmpm_of)
    pool, activities = _resources(doc, reader, outline, calendars, activities, crmpm_of, warnings)
    # Derived calendars nothing uses are resources' own: they stay behind (their bases come along), as do the
    # base calendars only resources use (they come in with the resources).
    used = {a.calendar_id for a in activities} | {default_calendar_id}
    calendars = {key: calendar for key, calendar in calendars.items()
                 if (raw_calendars[key]["base"] is None and key not in pool.calendars) or key in used}
    plan = _read_plan(doc, reader, root, project_values, project_line, default_calendar_id, minutes_per_day)
    if not reader.flag(root, "ScheduleFromStart", default=True):
        warnings.append("the project is scheduled from its finish in Project; crmpm schedules from the start")
    name = (doc.text(root, "Title") or (doc.text(summary[1], "Name") if summary else None)
            or doc.text(root, "Name") or "MS Project import")
    code = project_values.get("code") or re.sub(r"\.(xml|mpp)$", "", doc.text(root, "Name") or "", flags=re.I)
    code = re.sub(r"[\x00-\x1f\x7f]", "", code.strip())  # crmpm codes hold no control characters
    codes = read_codes(doc, outline, {a.id for a in activities}, project_values, warnings, crmpm_of)
    return ExchangeProject(code=code or "MSPDI", name=" ".join(name.split()), plan=plan, calendars=calendars, wbs=wbs,
                           activities=activities, relationships=relationships, warnings=warnings, codes=codes,
                           baselines=_baselines(doc, reader, outline, activities, project_values),
                           resources=pool)


def _resources(doc, reader, outline: _Outline, calendars, activities: list[ExchangeActivity], crmpm_of, warnings):
    """The file's resources and assignments (:mod:`wbs.interchange.mspdi.resources`), and the activities with
    the primary resource crmpm's field names."""
    ids = {activity.id for activity in activities}
    tasks = {uid: task for uid, _level, task, _parent, _children in outline.rows if str(uid) in ids}
    pool = read_resources(doc, reader, calendars, {uid: str(uid) for uid in tasks}, warnings)
    known = {resource.id for resource in pool.resources}
    primaries = {}
    for uid, task in tasks.items():
        primary = crmpm_of(task, uid).get(PRIMARY_RESOURCE)
        if primary in known:
            primaries[str(uid)] = primary
    if primaries:
        activities = [dataclasses.replace(a, primary_resource_id=primaries[a.id]) if a.id in primaries else a
                      for a in activities]
    return pool, activities


def _baselines(doc, reader, outline: _Outline, activities: list[ExchangeActivity], project_values: dict):
    """The baselines the activities' tasks hold (:mod:`wbs.interchange.mspdi.baselines`)."""
    ids = {activity.id for activity in activities}
    tasks = [(str(uid), uid, task) for uid, _level, task, _parent, _children in outline.rows if str(uid) in ids]
    return read_baselines(doc, reader, tasks, project_values)


def _crmpm_field(doc: _Document):
    """``crmpm_of(task, uid)``: the ``key=value`` pairs of the task's text field aliased ``crmpm``."""
    crmpm_fields = {doc.text(attr, "FieldID") for attr in doc.children(doc.child(doc.root, "ExtendedAttributes"),
                                                                        "ExtendedAttribute")
                    if (doc.text(attr, "Alias") or "").lower() == CRMPM_ALIAS}
    crmpm_fields.discard(None)

    def crmpm_of(task, uid):
        for attr in doc.children(task, "ExtendedAttribute"):
            if doc.text(attr, "FieldID") in crmpm_fields:
                return _crmpm_values(doc.text(attr, "Value"), uid=uid, line=doc.line(attr))
        return {}

    return crmpm_of


def _calendars(doc: _Document, reader: _Reader, warnings: list[str]):
    """``(raw calendars, resolved calendars, default calendar id)``."""
    root = doc.root
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
    return raw_calendars, calendars, default_calendar_id


@dataclasses.dataclass
class _Outline:
    """The tasks' hierarchy, read before anything else so that summaries are known.

    ``rows``: ``[uid, level, element, parent uid, has children]`` of each task below the project summary,
    in file order; ``summary_task``: ``(uid, element)`` of the project summary (outline level 0), if any;
    ``summaries``: the UIDs of summary tasks (WBS elements); ``seen_uids``: every UID, with its line.
    """

    rows: list[list]
    seen_uids: dict[int, int]
    summary_task: tuple | None
    summaries: set[int]

    @classmethod
    def read(cls, doc: _Document, reader: _Reader) -> _Outline:
        rows = []
        seen_uids: dict[int, int] = {}
        summary_task = None
        for task in doc.children(doc.child(doc.root, "Tasks"), "Task"):
            line = doc.line(task)
            uid = reader.int(task, "UID", "Task")
            if uid is None:
                raise MspdiError("a task without UID", element="Task", line=line)
            if uid in seen_uids:
                raise MspdiError(f"UID {uid} is used twice (first at line {seen_uids[uid]})", element="Task",
                                 uid=uid, line=line)
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
        return cls(rows=rows, seen_uids=seen_uids, summary_task=summary_task, summaries=summaries)


def _wbs_elements(doc: _Document, outline: _Outline) -> list[ExchangeWbs]:
    """The summary tasks as WBS elements, numbered among their siblings."""
    wbs: list[ExchangeWbs] = []
    sibling_count: Counter = Counter()
    for uid, _level, task, parent, _children in outline.rows:
        if uid not in outline.summaries:
            continue
        sibling_count[parent] += 1
        code = doc.text(task, "WBS") or doc.text(task, "OutlineNumber") or str(uid)
        wbs.append(ExchangeWbs(id=str(uid), code=code, name=doc.text(task, "Name") or code,
                               parent_id=str(parent) if parent is not None else None, seq=sibling_count[parent]))
    return wbs


def _activities(doc, reader, outline: _Outline, calendars, crmpm_of, honor_constraints, warnings):
    """The active tasks that are not summaries, as activities with unique codes, and their durations by UID."""
    activities: list[ExchangeActivity] = []
    used_codes: set[str] = set()
    durations: dict[int, float] = {}
    for uid, _level, task, parent, _children in outline.rows:
        if uid in outline.summaries:
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
    return activities, durations


def _relationships(doc, reader, outline: _Outline, durations: dict[int, float], warnings,
                   crmpm_of) -> list[Relationship]:
    """The links between two activities; those crmpm cannot hold are left out with a warning."""
    relationships: list[Relationship] = []
    pairs: set[tuple[int, int]] = set()
    for uid, _level, task, _parent, _children in outline.rows:
        if uid not in durations and uid not in outline.summaries:
            continue  # an inactive task, left out with its links
        for link in doc.children(task, "PredecessorLink"):
            relationship = _read_link(doc, reader, link, uid, outline, durations, pairs, warnings)
            if relationship is not None:
                relationships.append(relationship)
        if uid in durations:
            relationships.extend(_extra_links(crmpm_of(task, uid).get(EXTRA_LINKS), uid, durations, warnings))
    return relationships


def _extra_links(text: str | None, uid: int, durations: dict[int, float], warnings) -> list[Relationship]:
    """The links crmpm kept in its own field beside a pair's one ``PredecessorLink`` (``UID:type code:lag
    hours,…``, :func:`~wbs.interchange.mspdi.writer._links`); one it cannot read is named in a warning."""
    links: list[Relationship] = []
    seen: set[tuple[int, int]] = set()
    for item in text.split(",") if text else ():
        parts = item.strip().split(":")
        try:
            predecessor, code, lag_hours = int(parts[0]), int(parts[1]), float(parts[2])
            kind = LINK_TYPES[code]
        except (ValueError, IndexError, KeyError):
            warnings.append(f"task UID {uid}: crmpm's extra link {item.strip()!r} was left out (not UID:type:lag)")
            continue
        if len(parts) != 3 or predecessor not in durations or predecessor == uid or not math.isfinite(lag_hours) \
                or abs(lag_hours) > MAX_HOURS or (predecessor, code) in seen:
            warnings.append(f"task UID {uid}: crmpm's extra link {item.strip()!r} was left out "
                            "(no such activity, or a link it cannot be)")
            continue
        seen.add((predecessor, code))
        links.append(Relationship(str(predecessor), str(uid), kind, round(lag_hours, 6)))
    return links


def _read_link(doc, reader, link, uid, outline: _Outline, durations, pairs, warnings) -> Relationship | None:
    """One ``PredecessorLink`` of task ``uid``; ``None`` when it is left out (and ``warnings`` say why)."""
    line = doc.line(link)
    predecessor = reader.int(link, "PredecessorUID", "PredecessorLink of Task", uid)
    if predecessor is None:
        raise MspdiError("PredecessorLink without PredecessorUID", element="Task", uid=uid, line=line)
    if reader.flag(link, "CrossProject"):
        warnings.append(f"task UID {uid}: a link to another project (line {line}) was left out")
        return None
    if predecessor not in outline.seen_uids:
        raise MspdiError(f"PredecessorLink to unknown task UID {predecessor}", element="Task", uid=uid, line=line)
    if predecessor == uid:
        raise MspdiError("a task is linked to itself", element="Task", uid=uid, line=line)
    summaries = outline.summaries
    if predecessor in summaries or uid in summaries:
        warnings.append(f"task UID {uid}: a link with summary task UID "
                        f"{predecessor if predecessor in summaries else uid} (line {line}) was left out; "
                        "crmpm links activities, not WBS elements")
        return None
    if predecessor not in durations:  # the project summary or a blank row
        warnings.append(f"task UID {uid}: a link to task UID {predecessor} (line {line}) was left out")
        return None
    code = reader.int(link, "Type", "PredecessorLink of Task", uid, 1)
    if code not in LINK_TYPES:
        raise MspdiError(f"link Type {code} is not 0 (FF), 1 (FS), 2 (SF) or 3 (SS)", element="Task", uid=uid,
                         line=line)
    lag = reader.number(link, "LinkLag", "PredecessorLink of Task", uid, 0.0)
    lag_format = reader.int(link, "LagFormat", "PredecessorLink of Task", uid, HOURS_LAG_FORMAT)
    lag_hours = durations[predecessor] * lag / 100 if lag_format in PERCENT_LAG_FORMATS else lag / 600
    if abs(lag_hours) > MAX_HOURS:
        raise MspdiError(f"LinkLag {lag:g} is more than {MAX_HOURS:,.0f} hours", element="Task", uid=uid, line=line)
    if (predecessor, uid) in pairs:
        raise MspdiError(f"task UID {predecessor} is linked to this task twice", element="Task", uid=uid, line=line)
    pairs.add((predecessor, uid))
    return Relationship(str(predecessor), str(uid), LINK_TYPES[code], round(lag_hours, 6))


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


# Counting before parsing (wbs.interchange.limits)

# The three counted elements in one pass; a namespace prefix (<p:Task>) counts as well.
_MSPDI_ELEMENT = re.compile(rb"<(?:[\w.-]+:)?(Task|PredecessorLink|Calendar)[\s/>]")
_MSPDI_KINDS = {b"Task": "tasks", b"PredecessorLink": "relationships", b"Calendar": "calendars"}


def mspdi_counts(data: bytes) -> dict[str, int]:
    """``Task`` (activities and WBS summaries), ``PredecessorLink`` and ``Calendar`` elements of an MSPDI file."""
    counts = dict.fromkeys(_MSPDI_KINDS.values(), 0)
    for match in _MSPDI_ELEMENT.finditer(data):
        counts[_MSPDI_KINDS[match.group(1)]] += 1
    return counts

"""The neutral project written as an MSPDI file: :func:`write_mspdi` at once, :func:`stream_mspdi` in batches."""

from __future__ import annotations

import datetime as _dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator

from wbs.interchange.model import ExchangeActivity, ExchangePlan, ExchangeProject, ExchangeWbs
from wbs.interchange.mspdi.codes import CodeFields
from wbs.interchange.mspdi.baselines import baseline_plan_values, numbered_baselines, write_task_baselines
from wbs.interchange.mspdi.resources import PRIMARY_RESOURCE, resource_uids, write_resources
from wbs.interchange.mspdi.common import (CONSTRAINT_CODES, CRMPM_ALIAS, DAYS_DURATION_FORMAT, EXTRA_LINKS,
                                          HOURS_LAG_FORMAT, LINK_CODES, NAMESPACE, TEXT1_FIELD_ID, format_date, format_duration,
                                          format_money, format_number, format_time)
from wbs.scheduling.model import ActivityType, Calendar, ConstraintType, Relationship, RelationshipType

__all__ = ["write_mspdi", "stream_mspdi"]


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
            _sub(working, "FromTime", format_time(start))
            _sub(working, "ToTime", format_time(end))


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
        self.codes: CodeFields | None = None
        self.baselines: list = []  # (slot, baseline) written on each activity's task
        self.resource_uids: dict[str, int] = {}  # resource id → its UID, for primary resources

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
        _sub(task, "Start", format_date(start or self.placeholder))
        _sub(task, "Finish", format_date(finish or start or self.placeholder))
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
        _sub(task, "Start", format_date(start))
        _sub(task, "Finish", format_date(max(start, finish)))
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
                    _sub(task, "".join(part.title() for part in name.split("_")), format_date(value))
            if result.free_float_hours is not None:
                _sub(task, "FreeSlack", round(result.free_float_hours * 600))
            if result.total_float_hours is not None:
                _sub(task, "TotalSlack", round(result.total_float_hours * 600))
        _sub(task, "FixedCost", format_money(activity.budgeted_cost))
        _sub(task, "PercentComplete", round(activity.percent_complete))
        _sub(task, "Cost", format_money(activity.budgeted_cost))
        if activity.actual_start is not None:
            _sub(task, "ActualStart", format_date(activity.actual_start))
        if activity.actual_finish is not None:
            _sub(task, "ActualFinish", format_date(activity.actual_finish))
        # No remaining duration means "as planned" to crmpm's scheduler; the element is left out to keep that.
        remaining = activity.remaining_duration_hours
        if activity.actual_start is not None:
            left = activity.original_duration_hours if remaining is None else remaining
            _sub(task, "ActualDuration", format_duration(max(activity.original_duration_hours - left, 0.0)))
        _sub(task, "ActualCost", format_money(activity.actual_cost))
        if remaining is not None:
            _sub(task, "RemainingDuration", format_duration(remaining))
        _sub(task, "ConstraintType", CONSTRAINT_CODES[activity.constraint])
        _sub(task, "CalendarUID", self.calendar_uids.get(activity.calendar_id, -1) if activity.calendar_id else -1)
        if activity.constraint_date is not None:
            _sub(task, "ConstraintDate", format_date(activity.constraint_date))
        if activity.secondary_constraint is ConstraintType.FINISH_ON_OR_BEFORE and activity.secondary_constraint_date:
            _sub(task, "Deadline", format_date(activity.secondary_constraint_date))
        if activity.notes:
            _sub(task, "Notes", activity.notes)
        _sub(task, "PhysicalPercentComplete", round(activity.percent_complete))
        values = {"type": activity.type.value}
        if activity.constraint is not None:
            values["constraint"] = activity.constraint.value
        if activity.secondary_constraint is not None:
            values["secondary_constraint"] = activity.secondary_constraint.value
            if activity.secondary_constraint_date is not None:
                values["secondary_constraint_date"] = format_date(activity.secondary_constraint_date)
        if activity.expected_finish is not None:
            values["expected_finish"] = format_date(activity.expected_finish)
        if activity.percent_complete != round(activity.percent_complete):
            values["percent_complete"] = format_number(activity.percent_complete)
        if activity.primary_resource_id in self.resource_uids:
            values[PRIMARY_RESOURCE] = self.resource_uids[activity.primary_resource_id]
        if self.codes:
            values.update(self.codes.crmpm_task_values(activity.id))
        self._crmpm(task, values)
        if self.codes:
            self.codes.write_task(task, activity.id)
        if self.baselines:
            write_task_baselines(task, activity.id, self.baselines)

    def element_codes(self, task: ET.Element, element_id: str) -> None:
        """A WBS element's UDF values on its summary task (those beyond Project's fields in crmpm's own)."""
        self.codes.write_task(task, element_id, "wbs")
        extra = self.codes.crmpm_task_values(element_id, "wbs")
        if extra:
            self._crmpm(task, extra)

    @staticmethod
    def _crmpm(task: ET.Element, values: dict) -> None:
        attribute = _sub(task, "ExtendedAttribute")
        _sub(attribute, "FieldID", TEXT1_FIELD_ID)
        _sub(attribute, "Value", _crmpm_text(values))


def _add_crmpm_value(task: ET.Element, key: str, value: str) -> None:
    """One more ``key=value`` in the task's crmpm field (written by :meth:`_TaskWriter._crmpm`)."""
    field = next(attribute for attribute in task.iter("ExtendedAttribute")
                 if attribute.findtext("FieldID") == str(TEXT1_FIELD_ID))
    value_element = field.find("Value")
    addition = _crmpm_text({key: value})
    value_element.text = f"{value_element.text}; {addition}" if value_element.text else addition


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
    _sub(root, "StartDate", format_date(project_start))
    _sub(root, "FinishDate", format_date(max(project_finish, project_start)))
    default_calendar = project.calendars.get(plan.default_calendar_id) if plan.default_calendar_id else None
    hours_per_day = default_calendar.hours_per_day if default_calendar else 8.0
    _sub(root, "CriticalSlackLimit", round(plan.critical_float_hours / hours_per_day) if hours_per_day else 0)
    calendar_uids = {key: n for n, key in enumerate(project.calendars, 1)}
    _sub(root, "CalendarUID", calendar_uids.get(plan.default_calendar_id, -1))
    _sub(root, "MinutesPerDay", round(hours_per_day * 60))
    _sub(root, "HonorConstraints", 1)
    if plan.data_date is not None:
        _sub(root, "StatusDate", format_date(plan.data_date))
    attributes = _sub(root, "ExtendedAttributes")
    attribute = _sub(attributes, "ExtendedAttribute")
    _sub(attribute, "FieldID", TEXT1_FIELD_ID)
    _sub(attribute, "FieldName", "Text1")
    _sub(attribute, "Alias", CRMPM_ALIAS)
    codes = _code_fields(project, root, attributes)

    calendars = _sub(root, "Calendars")
    for key, calendar in project.calendars.items():
        _write_calendar(calendars, calendar_uids[key], calendar)
    for key, calendar in project.resources.calendars.items():  # the resources' own, after the project's
        if key not in calendar_uids:
            calendar_uids[key] = len(calendar_uids) + 1
            _write_calendar(calendars, calendar_uids[key], calendar)

    tasks = _sub(root, "Tasks")
    writer = _TaskWriter(tasks, calendar_uids, placeholder)
    uids = resource_uids(project.resources)
    writer.resource_uids = {resource_id: uids[kind, resource_id] for kind, resource_id in uids if kind == "resource"}
    plan_values = {"code": project.code, "progress_mode": plan.progress_mode.value,
                   "lag_calendar": plan.lag_calendar.value, "float_type": plan.float_type.value,
                   "critical_definition": plan.critical_definition.value,
                   "critical_float_hours": format_number(plan.critical_float_hours),
                   "open_ended_critical": int(plan.open_ended_critical),
                   "use_expected_finish": int(plan.use_expected_finish),
                   "planned_start": format_date(plan.planned_start) if plan.planned_start else ""}
    if plan.must_finish_by is not None:
        plan_values["must_finish_by"] = format_date(plan.must_finish_by)
    if plan.time_zone:
        plan_values["time_zone"] = plan.time_zone
    plan_values.update(codes.crmpm_values())
    writer.baselines = numbered_baselines(project)
    plan_values.update(baseline_plan_values(writer.baselines))
    summary = writer.summary(0, project.name, None, "0", 0, project_start, project_finish, plan_values)
    if codes:
        writer.codes = codes
        codes.write_task(summary, None)
    return root, writer


def _code_fields(project: ExchangeProject, root: ET.Element, attributes: ET.Element) -> CodeFields:
    """The project's activity codes and UDFs as outline codes and custom fields (:mod:`.codes`), defined."""
    codes = CodeFields(project.codes)
    codes.write_definitions(root, attributes)
    return codes


def _summary_dates(task: ET.Element, start, finish, placeholder: _dt.datetime) -> None:
    """A WBS summary spans its activities: the earliest start and latest finish under it."""
    task.find("Start").text = format_date(start or placeholder)
    task.find("Finish").text = format_date(max(finish or start or placeholder, start or placeholder))


# Which of a pair's links MS Project gets when P6 linked the pair more than once (an FS and an FF, say).
_LINK_PREFERENCE = {RelationshipType.FS: 0, RelationshipType.SS: 1, RelationshipType.FF: 2, RelationshipType.SF: 3}


def _links(task: ET.Element, incoming: list[tuple[int, RelationshipType, float]]) -> None:
    """A task's predecessors, ``(predecessor UID, type, lag hours)``, in the order of their UIDs.

    MS Project links a pair of tasks once. Where P6 linked a pair more than once, the first link by
    ``_LINK_PREFERENCE`` is the task's ``PredecessorLink`` and the others go into crmpm's own field
    (``extra_links=UID:type code:lag hours,…``), which :func:`~wbs.interchange.mspdi.reader.read_mspdi`
    reads back; the export names them in its warnings (:func:`~wbs.interchange.mspdi.export.mspdi_chunks`).
    """
    kept, extra, seen = [], [], set()
    for link in sorted(incoming, key=lambda link: (link[0], _LINK_PREFERENCE[RelationshipType(link[1])])):
        (extra if link[0] in seen else kept).append(link)
        seen.add(link[0])
    if extra:
        _add_crmpm_value(task, EXTRA_LINKS, ",".join(
            f"{uid}:{LINK_CODES[RelationshipType(type_)]}:{format_number(lag_hours)}" for uid, type_, lag_hours in extra))
    # Links go after PhysicalPercentComplete and before the custom field, as the schema orders them.
    position = list(task).index(task.find("ExtendedAttribute"))
    for offset, (uid, type_, lag_hours) in enumerate(kept):
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
            if writer.codes:
                writer.element_codes(task, element.id)
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
    write_resources(root, project.resources, writer.uids, writer.calendar_uids)

    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# What a streamed file's tasks are: a WBS summary, or an activity with its incoming links; a batch may begin with
# its subjects' codes, ("codes", assignments, UDF values), as :class:`~wbs.interchange.model.ExchangeCodes` holds them.
SummaryEntry = tuple  # ("summary", uid, ExchangeWbs, outline number, level, start, finish)
ActivityEntry = tuple  # ("activity", uid, ExchangeActivity, outline number, level, [(predecessor UID, type, lag)])
_TASK_LEVEL = 2  # Project > Tasks > Task


def stream_mspdi(project: ExchangeProject, *, project_start: _dt.datetime,
                 batches: Iterable[list[tuple]], task_uids: dict[str, int] | None = None) -> Iterator[bytes]:
    """The MSPDI file of :func:`write_mspdi`, byte for byte, as chunks: one for the head (plan, calendars, the
    project's summary task), then one per batch of tasks in outline order (``SummaryEntry``/``ActivityEntry``).

    ``project`` carries no activities or relationships: the batches hold them, so only one batch of tasks
    is ever built in memory.
    """
    placeholder = _placeholder(project.plan)
    root, writer = _document(project, project_start, placeholder)
    # Resources and assignments follow the tasks: the tail of the head (``task_uids``: activity id → task UID).
    write_resources(root, project.resources, task_uids or {}, writer.calendar_uids)
    ET.indent(root, space=" ")
    head = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    end = head.rindex(b"\n </Tasks>")
    yield head[:end]
    for batch in batches:
        writer.tasks = ET.Element("Tasks")
        writer.elements = {}
        for entry in batch:
            if entry[0] == "codes":  # the batch's code and UDF values, replacing the last batch's
                if writer.codes:
                    writer.codes.clear_values()
                    writer.codes.add_assignments(entry[1])
                    writer.codes.add_udf_values(entry[2])
                continue
            if entry[0] == "summary":
                _kind, uid, element, number, level, start, finish = entry
                task = writer.summary(uid, element.name, element.code, number, level, None, None)
                _summary_dates(task, start, finish, placeholder)
                if writer.codes:
                    writer.element_codes(task, element.id)
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

"""Turn XER tables into scheduler inputs (and P6's own results, for comparison).

One :class:`ProjectData` per ``PROJECT`` row:

* ``PROJECT``: ``last_recalc_date`` is the data date, ``plan_start_date`` the
  planned start, ``plan_end_date`` the must-finish-by date, ``clndr_id`` the
  default calendar, ``critical_path_type`` / ``critical_drtn_hr_cnt`` the
  critical definition;
* ``SCHEDOPTIONS``: progress mode (``sched_retained_logic`` = Y: retained
  logic, else ``sched_progress_override`` = Y: progress override, else
  actual dates), lag calendar
  (``sched_calendar_on_relationship_lag``), float type (``sched_float_type``),
  open-ended critical (``sched_open_critical_flag``), expected finish
  (``sched_use_expect_end_flag``), start-to-start lag from early or actual
  start (``sched_lag_early_start_flag``);
* ``CALENDAR``: every calendar (global, project and resource), parsed from
  ``clndr_data``;
* ``PROJWBS``: the WBS tree (parent links, for WBS summary activities);
* ``TASK``: ``status_code`` decides progress (actual dates of a
  ``TK_NotStart`` row are ignored, an active row keeps only its actual
  start), ``target_drtn_hr_cnt`` / ``remain_drtn_hr_cnt`` the durations,
  ``cstr_type``/``cstr_date`` and ``cstr_type2``/``cstr_date2`` the
  constraints, ``expect_end_date``, ``external_early_start_date`` /
  ``external_late_end_date``, and ``resume_date`` of a suspended active row;
  a resource-dependent activity (``TT_Rsrc``) takes the calendar of its
  primary resource (``TASK.rsrc_id`` -> ``RSRC.clndr_id``) when it has one
  (``wbs.scheduling.model.working_calendar_id``, the rule the database's
  scheduling follows too);
* ``TASKPRED``: relationships between two activities of the project; links
  to other projects are left out (P6 then uses the activities' external
  early start / late finish dates);
* ``TASKRSRC`` / ``RSRC`` when present: budgeted (``target_cost``), actual
  (``act_reg_cost + act_ot_cost``) and remaining (``remain_cost``) cost per
  activity, with the short names of the resources assigned (what a schedule
  of the file needs; the import reads the resources, roles and assignments
  themselves in :mod:`wbs.interchange.xer.resources`).

Missing calendars
-----------------
An activity naming a calendar that is not in the file (P6 exports the
calendars of the exported projects, and sometimes not one an activity
still names) is scheduled on the project's default calendar, as P6 does,
with a warning in :attr:`ProjectData.warnings` naming the calendar and
the activities. When the project's default calendar is missing too, the
activities keep their calendar, and scheduling refuses them by code.

A calendar whose ``clndr_data`` gives no work week (no ``DaysOfWeek``, e.g. an
empty ``(0||()())``) and has no base calendar is scheduled on the standard
week, with a warning naming it when the project uses it.

Broken calendars
----------------
A calendar whose ``clndr_data`` cannot be parsed is *dropped with a warning*
(in :attr:`ProjectData.warnings`) when no activity of the project and not the
project itself uses it; when something does use it,
:class:`~wbs.interchange.xer.calendar_data.CalendarDataError` is raised, naming the
calendar.  So a file is only refused when its schedule would depend on the
broken data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from operator import itemgetter

from crmpm.errors import Invalid
from wbs.scheduling.model import (
    Activity,
    ActivityType,
    ConstraintType,
    CriticalDefinition,
    FloatType,
    LagCalendar,
    ProgressMode,
    Relationship,
    RelationshipType,
    ScheduleOptions,
    working_calendar_id,
)
from wbs.interchange.xer.calendar_data import CalendarDataError, has_work_week, parse_calendar_data
from wbs.interchange.xer.reader import XerError, parse_date, parse_number

__all__ = [
    "ProjectData",
    "project_ids",
    "is_baseline_project",
    "choose_project",
    "baseline_projects",
    "load_project",
    "load_projects",
    "TASK_TYPES",
    "CONSTRAINT_TYPES",
    "RELATIONSHIP_TYPES",
    "LAG_CALENDARS",
]

TASK_TYPES = {
    "TT_Task": ActivityType.TASK,
    "TT_Rsrc": ActivityType.RESOURCE_DEPENDENT,
    "TT_Mile": ActivityType.START_MILESTONE,
    "TT_FinMile": ActivityType.FINISH_MILESTONE,
    "TT_LOE": ActivityType.LEVEL_OF_EFFORT,
    "TT_WBS": ActivityType.WBS_SUMMARY,
}
CONSTRAINT_TYPES = {
    "CS_MSO": ConstraintType.START_ON,
    "CS_MSOA": ConstraintType.START_ON_OR_AFTER,
    "CS_MSOB": ConstraintType.START_ON_OR_BEFORE,
    "CS_MEO": ConstraintType.FINISH_ON,
    "CS_MEOA": ConstraintType.FINISH_ON_OR_AFTER,
    "CS_MEOB": ConstraintType.FINISH_ON_OR_BEFORE,
    "CS_MANDSTART": ConstraintType.MANDATORY_START,
    "CS_MANDFIN": ConstraintType.MANDATORY_FINISH,
    "CS_ALAP": ConstraintType.AS_LATE_AS_POSSIBLE,
}
RELATIONSHIP_TYPES = {
    "PR_FS": RelationshipType.FS,
    "PR_SS": RelationshipType.SS,
    "PR_FF": RelationshipType.FF,
    "PR_SF": RelationshipType.SF,
}
LAG_CALENDARS = {
    "rcal_Predecessor": LagCalendar.PREDECESSOR,
    "rcal_Successor": LagCalendar.SUCCESSOR,
    "rcal_24Hour": LagCalendar.TWENTY_FOUR_HOUR,
    "rcal_ProjDefault": LagCalendar.PROJECT_DEFAULT,
}
FLOAT_TYPES = {
    "FT_FF": FloatType.FINISH,
    "FT_SS": FloatType.START,
    "FT_SF": FloatType.START,  # seen in some exporters
    "FT_Min": FloatType.SMALLEST,
    "FT_MIN": FloatType.SMALLEST,
}


@dataclass
class ProjectData:
    """Everything needed to schedule one XER project.

    ``activities`` and ``relationships`` are keyed by P6 ``task_id``;
    ``task_rows`` maps ``task_id`` to the raw TASK row (P6's stored results).
    """

    proj_id: str
    code: str
    activities: list
    relationships: list
    calendars: dict
    options: ScheduleOptions
    wbs_parents: dict = field(default_factory=dict)
    task_rows: dict = field(default_factory=dict)
    costs: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


def project_ids(xer):
    """``[(proj_id, proj_short_name)]`` of the projects in the file, in file order; its baselines are parts of
    their projects, not projects of the file (:func:`is_baseline_project`)."""
    return [(r["proj_id"], r.get("proj_short_name", "")) for r in xer.rows("PROJECT") if not is_baseline_project(r)]


def is_baseline_project(row):
    """Whether a PROJECT row is a baseline: P6 keeps those as projects it hides (``project_flag`` N)."""
    return (row.get("project_flag") or "").strip().upper() == "N"


def choose_project(projects: list[tuple[str, str]], wanted: str | None) -> str:
    """The ``proj_id`` of the project ``wanted`` (its id or ``proj_short_name``) among :func:`project_ids`, the
    first when none is named; Invalid listing the file's projects when it is not there."""
    if wanted is None:
        return projects[0][0]
    for proj_id, code in projects:
        if wanted in (proj_id, code):
            return proj_id
    raise Invalid("the XER file has no project {wanted!r}; it has {codes}",
                  wanted=wanted, codes=", ".join(code for _i, code in projects),
                  errors={"project": ["not in the file"]})


def baseline_projects(rows: list[dict], proj_id: str) -> list[dict]:
    """The PROJECT ``rows`` that are baselines of project ``proj_id``: hidden projects taken from it
    (``orig_proj_id``), and the one its ``sum_base_proj_id`` names (its project baseline), in file order."""
    main = next((row for row in rows if row["proj_id"] == proj_id), {})
    primary = (main.get("sum_base_proj_id") or "").strip()
    return [row for row in rows
            if row["proj_id"] != proj_id and ((row.get("orig_proj_id") == proj_id and is_baseline_project(row))
                                              or row["proj_id"] == primary)]


def _flag(value, default=False):
    if not value:
        return default
    return value.strip().upper() == "Y"


def _row_date(table, row, line, column):
    return parse_date(row.get(column, ""), table.name, line, column)


def _row_number(table, row, line, column, default=None):
    v = parse_number(row.get(column, ""), table.name, line, column)
    return default if v is None else v


class _Cells:
    """The dates and numbers of one table's rows (:func:`parse_date`, :func:`parse_number`), each distinct
    text parsed once: most cells are empty, and 50,000 activities share a few hundred durations and dates.
    ``dates[text]`` and ``numbers[text]`` hold the values parsed so far; ``parse_date`` and ``parse_number``
    parse a text not yet there."""

    __slots__ = ("name", "dates", "numbers")

    def __init__(self, table):
        self.name = table.name
        self.dates = {"": None}
        self.numbers = {"": None}

    def parse_date(self, text, line, column):
        """``text``, not seen before in this table, parsed as a date and kept."""
        value = self.dates[text] = parse_date(text, self.name, line, column)
        return value

    def parse_number(self, text, line, column):
        """``text``, not seen before in this table, parsed as a number and kept."""
        value = self.numbers[text] = parse_number(text, self.name, line, column)
        return value


def _calendars(xer, used):
    """Parse every calendar; broken unused ones become warnings (see module notes)."""
    table = xer.table("CALENDAR")
    parsed, broken, warnings = {}, {}, []
    by_id = {r["clndr_id"]: (r, line) for r, line in zip(table.rows, table.lines)}

    def build(cid, depth=0):
        if cid in parsed or cid in broken:
            return parsed.get(cid)
        row, line = by_id[cid]
        base = None
        base_id = row.get("base_clndr_id") or ""
        if base_id and base_id in by_id and base_id != cid and depth < 10:
            base = build(base_id, depth + 1)
        try:
            hours = _row_number(table, row, line, "day_hr_cnt", 8.0)
            cal = parse_calendar_data(
                row.get("clndr_data", ""), cid, row.get("clndr_name", ""), hours_per_day=hours, base=base
            )
        except CalendarDataError as exc:
            broken[cid] = (str(exc).split(" (table")[0], line)
            return None
        parsed[cid] = cal
        return cal

    for cid in by_id:
        build(cid)
    for cid, (message, line) in broken.items():
        if cid in used:
            raise CalendarDataError(message, "CALENDAR", line)
        warnings.append(f"{message} (table CALENDAR, line {line}); not used by this project, ignored")
    for cid in sorted(used & parsed.keys()):
        row = by_id[cid][0]
        if (row.get("base_clndr_id") or "") not in parsed and not has_work_week(row.get("clndr_data", "")):
            name = row.get("clndr_name", "")
            warnings.append(f"calendar {cid}{f' ({name})' if name else ''} has no work week in the file: its "
                            f"activities are scheduled on the standard week, Monday to Friday 08:00-12:00 and "
                            f"13:00-17:00")
    return parsed, warnings


def _fall_back_on_missing_calendars(activities, calendars, options, warnings):
    """Activities naming a calendar the file does not hold are scheduled on the project's default
    calendar, as P6 does, with a warning naming them (see module notes); the activities, updated."""
    missing = {}
    for a in activities:
        if a.calendar_id is not None and a.calendar_id not in calendars:
            missing.setdefault(a.calendar_id, []).append(a.code)
    if not missing:
        return activities
    fallback = options.default_calendar_id
    if fallback not in calendars:
        return activities  # nothing to fall back on: scheduling refuses, naming the activities
    for calendar_id, codes in missing.items():
        shown = ", ".join(codes[:10]) + (f" and {len(codes) - 10} more" if len(codes) > 10 else "")
        warnings.append(f"calendar {calendar_id} is not in the file: {len(codes)} "
                        f"activit{'y' if len(codes) == 1 else 'ies'} ({shown}) scheduled on the project's "
                        f"default calendar {calendars[fallback].name or fallback}, as P6 does")
    return [replace(a, calendar_id=fallback) if a.calendar_id in missing else a for a in activities]


def load_project(xer, proj_id=None):
    """Build the scheduler inputs of one project.

    Parameters
    ----------
    xer : wbs.interchange.xer.reader.XerFile
    proj_id : str, optional
        ``PROJECT.proj_id`` or ``proj_short_name``; the first project when omitted.

    Raises
    ------
    XerError
        Missing PROJECT table, unknown project, a bad value, or a broken
        calendar the project uses.
    """
    projects, prow, pline = _project_row(xer, proj_id)
    pid = prow["proj_id"]
    options = _options(xer, projects, prow, pline)
    activities, task_rows, used_calendars = _activities(xer, pid, options)
    relationships = _relationships(xer, task_rows.by_id)
    calendars, warnings = _calendars(xer, used_calendars)
    activities = _fall_back_on_missing_calendars(activities, calendars, options, warnings)
    return ProjectData(
        proj_id=pid,
        code=prow.get("proj_short_name", pid),
        activities=activities,
        relationships=relationships,
        calendars=calendars,
        options=options,
        wbs_parents=_wbs_parents(xer, pid),
        task_rows=task_rows,
        costs=_costs(xer, task_rows.by_id),
        warnings=warnings,
    )


def _project_row(xer, proj_id):
    """``(PROJECT table, row, line)`` of the project ``proj_id`` names (``proj_id`` or ``proj_short_name``;
    the first project when ``None``)."""
    projects = xer.table("PROJECT")
    if not projects.rows:
        raise XerError("no PROJECT rows", "PROJECT")
    for row, line in zip(projects.rows, projects.lines):
        if proj_id is None or row["proj_id"] == proj_id or row.get("proj_short_name") == proj_id:
            return projects, row, line
    raise XerError(f"no project {proj_id!r} in file", "PROJECT")


def _options(xer, projects, prow, pline):
    """The project's scheduling options: its PROJECT row and its SCHEDOPTIONS row (P6's defaults without one)."""
    data_date = _row_date(projects, prow, pline, "last_recalc_date")
    plan_start = _row_date(projects, prow, pline, "plan_start_date")
    if data_date is None:
        data_date = plan_start
    if data_date is None:
        raise XerError("project has neither last_recalc_date nor plan_start_date", "PROJECT", pline)
    opts = next((row for row in xer.rows("SCHEDOPTIONS") if row.get("proj_id") == prow["proj_id"]), {})
    ft = opts.get("sched_float_type", "") or "FT_FF"
    critical = (
        CriticalDefinition.LONGEST_PATH
        if prow.get("critical_path_type", "") in ("CT_DrivPath", "CT_LongPath")
        else CriticalDefinition.TOTAL_FLOAT
    )
    return ScheduleOptions(
        data_date=data_date,
        project_start=plan_start,
        must_finish_by=_row_date(projects, prow, pline, "plan_end_date"),
        default_calendar_id=prow.get("clndr_id") or None,
        progress=_progress_mode(opts),
        lag_calendar=LAG_CALENDARS.get(opts.get("sched_calendar_on_relationship_lag", ""), LagCalendar.PREDECESSOR),
        float_type=FLOAT_TYPES.get(ft, FloatType.FINISH),
        critical=critical,
        critical_float_hours=_row_number(projects, prow, pline, "critical_drtn_hr_cnt", 0.0),
        open_ended_critical=_flag(opts.get("sched_open_critical_flag")),
        use_expected_finish=_flag(opts.get("sched_use_expect_end_flag"), True),
        ss_lag_from_early_start=_flag(opts.get("sched_lag_early_start_flag"), True),
    )


def _progress_mode(opts):
    if not opts or _flag(opts.get("sched_retained_logic"), True):
        return ProgressMode.RETAINED_LOGIC
    if _flag(opts.get("sched_progress_override")):
        return ProgressMode.PROGRESS_OVERRIDE
    return ProgressMode.ACTUAL_DATES


def _activities(xer, pid, options):
    """The project's TASK rows as activities: ``(activities, {task_id: row}, calendar ids used)``."""
    resource_calendars = {r.get("rsrc_id", ""): r.get("clndr_id") or None for r in xer.rows("RSRC")}
    tasks = xer.table("TASK")
    cells = _Cells(tasks)
    pick = _picker(tasks, _TASK_COLUMNS, ("proj_id", "task_id", "task_code"))
    data_date = options.data_date
    activities, task_values = [], {}
    used_calendars = {options.default_calendar_id} if options.default_calendar_id else set()
    for row, line in zip(tasks.values, tasks.lines):
        values = pick(row)
        if values[0] != pid:
            continue
        activity = _activity(cells, values, line, data_date, resource_calendars)
        if activity.calendar_id:
            used_calendars.add(activity.calendar_id)
        activities.append(activity)
        task_values[values[1]] = row
    return activities, RowsById(tasks.fields, task_values), used_calendars


class RowsById(Mapping):
    """Rows of one table by id, each a dict of raw strings built when first asked for (from the values the
    reader kept: the schedule never asks, an import asks once per activity)."""

    __slots__ = ("fields", "by_id", "built")

    def __init__(self, fields, by_id):
        self.fields, self.by_id, self.built = fields, by_id, {}

    def __getitem__(self, key):
        row = self.built.get(key)
        if row is None:
            row = self.built[key] = dict(zip(self.fields, self.by_id[key]))
        return row

    def __contains__(self, key):
        return key in self.by_id

    def __iter__(self):
        return iter(self.by_id)

    def __len__(self):
        return len(self.by_id)


_TASK_COLUMNS = ("proj_id", "task_id", "task_code", "task_type", "status_code", "act_start_date", "act_end_date",
                 "cstr_type", "cstr_type2", "clndr_id", "rsrc_id", "target_drtn_hr_cnt", "remain_drtn_hr_cnt",
                 "wbs_id", "cstr_date", "cstr_date2", "phys_complete_pct", "expect_end_date",
                 "external_early_start_date", "external_late_end_date", "resume_date")


def _picker(table, columns, required):
    """A function of one of ``table``'s value lists giving the values of ``columns`` as a tuple, ``""`` for a
    column the table lacks (an XerError when it lacks a ``required`` one): one C call per row."""
    missing = [c for c in required if c not in table.fields]
    if missing and len(table):
        raise XerError(f"missing required column(s) {', '.join(missing)}", table.name, table.field_line or None)
    # Every value list has as many values as the table has fields; a lacking column reads the empty
    # value appended at the end.
    width = len(table.fields)
    at = [table.fields.index(c) if c in table.fields else width for c in columns]
    get = itemgetter(*at)
    if width in at:
        return lambda values: get(values + [""])
    return get


def _activity(cells, values, line, data_date, resource_calendars):
    """One TASK row's values (:data:`_TASK_COLUMNS`) as an activity (``cells``: the TASK table's
    :class:`_Cells`)."""
    (_pid, task_id, code, task_type, status, act_start, act_end, cstr_type, cstr_type2, cal, rsrc_id, original,
     remaining, wbs_id, cstr_date, cstr_date2, pct, expect_end, ext_start, ext_end, resume) = values
    dates, numbers = cells.dates, cells.numbers
    ttype = TASK_TYPES.get(task_type or "TT_Task")
    if ttype is None:
        raise XerError(f"activity {code}: unknown task_type {task_type!r}", "TASK", line)
    act_start, act_end = _actual_dates(
        status,
        dates[act_start] if act_start in dates else cells.parse_date(act_start, line, "act_start_date"),
        dates[act_end] if act_end in dates else cells.parse_date(act_end, line, "act_end_date"),
        data_date,
    )
    cstr = CONSTRAINT_TYPES.get(cstr_type) if cstr_type else None
    cstr2 = CONSTRAINT_TYPES.get(cstr_type2) if cstr_type2 else None
    # A resource-dependent activity works when its primary resource does (the one rule, shared with the database).
    cal = working_calendar_id(ttype, cal or None, resource_calendars.get(rsrc_id or ""))
    original = numbers[original] if original in numbers else cells.parse_number(original, line, "target_drtn_hr_cnt")
    remaining = (numbers[remaining] if remaining in numbers
                 else cells.parse_number(remaining, line, "remain_drtn_hr_cnt"))
    if original is None:
        original = 0.0
    cstr_date = (dates[cstr_date] if cstr_date in dates else cells.parse_date(cstr_date, line, "cstr_date")) \
        if cstr else None
    cstr_date2 = (dates[cstr_date2] if cstr_date2 in dates else cells.parse_date(cstr_date2, line, "cstr_date2")) \
        if cstr2 else None
    pct = numbers[pct] if pct in numbers else cells.parse_number(pct, line, "phys_complete_pct")
    return Activity(
        id=task_id,
        code=code,
        wbs_id=wbs_id or None,
        type=ttype,
        original_duration_hours=original,
        remaining_duration_hours=original if remaining is None else remaining,
        calendar_id=cal,
        constraint=cstr,
        constraint_date=cstr_date,
        secondary_constraint=cstr2,
        secondary_constraint_date=cstr_date2,
        actual_start=act_start,
        actual_finish=act_end,
        percent_complete=0.0 if pct is None else pct,
        expected_finish=dates[expect_end] if expect_end in dates
        else cells.parse_date(expect_end, line, "expect_end_date"),
        external_early_start=dates[ext_start] if ext_start in dates
        else cells.parse_date(ext_start, line, "external_early_start_date"),
        external_late_finish=dates[ext_end] if ext_end in dates
        else cells.parse_date(ext_end, line, "external_late_end_date"),
        resume_date=(dates[resume] if resume in dates else cells.parse_date(resume, line, "resume_date"))
        if status == "TK_Active" else None,
    )


def _actual_dates(status, act_start, act_end, data_date):
    """``(actual start, actual finish)`` as the activity's status allows: none before it starts, no finish
    while it runs (the data date as start when the file has none), both once complete."""
    if status == "TK_NotStart":
        return None, None
    if status == "TK_Active":
        return (data_date if act_start is None else act_start), None
    if status == "TK_Complete":
        if act_end is None:
            act_end = act_start or data_date
        if act_start is None:
            act_start = act_end
    return act_start, act_end


def _relationships(xer, task_ids):
    """TASKPRED rows between two of the project's activities (``task_ids``: a dict or set of their ids)."""
    preds = xer.table("TASKPRED")
    cells = _Cells(preds)
    lags, kind = cells.numbers, RELATIONSHIP_TYPES.get
    pick = _picker(preds, ("task_id", "pred_task_id", "pred_type", "lag_hr_cnt"), ("task_id", "pred_task_id", "pred_type"))
    relationships = []
    add = relationships.append
    for values, line in zip(preds.values, preds.lines):
        successor, predecessor, rtype, lag = pick(values)
        if successor in task_ids and predecessor in task_ids:
            lag = lags[lag] if lag in lags else cells.parse_number(lag, line, "lag_hr_cnt")
            add(Relationship(predecessor, successor, kind(rtype, rtype), 0.0 if lag is None else lag))
    return relationships


def _wbs_parents(xer, pid):
    return {r["wbs_id"]: (r.get("parent_wbs_id") or None) for r in xer.rows("PROJWBS") if r.get("proj_id") == pid}


def _costs(xer, task_ids):
    """Per activity (``task_ids``: a dict or set of the project's ids), TASKRSRC's budget, actual and remaining
    costs summed, and its resources' names."""
    costs = {}
    resources = {r.get("rsrc_id"): r.get("rsrc_short_name") or r.get("rsrc_name") or "" for r in xer.rows("RSRC")}
    trsrc = xer.table("TASKRSRC")
    if not len(trsrc):
        return costs
    columns = ("task_id", "rsrc_id", "target_cost", "act_reg_cost", "act_ot_cost", "remain_cost")
    pick = _picker(trsrc, columns, ())
    cells = _Cells(trsrc)
    numbers = cells.numbers
    for values, line in zip(trsrc.values, trsrc.lines):
        tid, rid, *money = pick(values)
        if tid not in task_ids:
            continue
        budget, regular, overtime, remaining = (
            numbers[v] if v in numbers else cells.parse_number(v, line, column)
            for v, column in zip(money, columns[2:]))
        c = costs.setdefault(tid, {"budget": 0.0, "actual": 0.0, "remaining": 0.0, "resources": []})
        if rid:
            c["resources"].append(resources.get(rid, rid))
        c["budget"] += budget or 0.0
        c["actual"] += (regular or 0.0) + (overtime or 0.0)
        c["remaining"] += remaining or 0.0
    return costs


def load_projects(xer):
    """:func:`load_project` for every project in the file, in file order."""
    return [load_project(xer, pid) for pid, _ in project_ids(xer)]

"""Write XER files.

Two levels:

* :func:`write_xer` serialises an :class:`~wbs.interchange.xer.reader.XerFile` (tables of
  raw strings) exactly, so read -> write -> read is the identity on tables;
* :func:`project_to_xer` builds the tables P6 needs for one project
  (PROJECT, CALENDAR, SCHEDOPTIONS, PROJWBS, TASK, TASKPRED) from scheduler
  inputs, optionally with computed results in TASK's date and float
  columns, so that :func:`wbs.interchange.xer.mapping.load_project` reads back the same
  activities, relationships, calendars and options.

Text is written with ``\\r\\n`` line ends like P6; :func:`write_xer_file`
encodes it as cp1252 when possible and as UTF-8 otherwise (the reader
detects either).

For files too big to hold as one string, :func:`table_lines` and
:func:`encoded_chunks` write the same text line by line as it is produced
(the encoding chosen beforehand with :func:`fits_cp1252`).
"""

from __future__ import annotations

import datetime as _dt

from wbs.scheduling.model import FloatType, CriticalDefinition, ProgressMode
from wbs.interchange.xer.mapping import CONSTRAINT_TYPES, LAG_CALENDARS, RELATIONSHIP_TYPES, TASK_TYPES
from wbs.interchange.xer.reader import XerFile, XerTable

__all__ = ["write_xer", "write_xer_file", "project_to_xer", "calendar_to_clndr_data", "format_date", "format_hours",
           "table_lines", "encoded_chunks", "fits_cp1252", "LINE_END"]

LINE_END = "\r\n"

_EPOCH = _dt.date(1899, 12, 30)
_TASK_TYPE_CODES = {v: k for k, v in TASK_TYPES.items()}
_CONSTRAINT_CODES = {v: k for k, v in CONSTRAINT_TYPES.items()}
_REL_CODES = {v: k for k, v in RELATIONSHIP_TYPES.items()}
_LAG_CODES = {v: k for k, v in LAG_CALENDARS.items()}


def format_date(value):
    """``YYYY-MM-DD HH:MM`` or the empty string."""
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


def format_hours(value):
    """Hours without a spurious ``.0``; empty for ``None``."""
    if value is None:
        return ""
    value = round(float(value), 6)
    return str(int(value)) if value == int(value) else repr(value)


def write_xer(xer, line_end="\r\n"):
    """Serialise an :class:`XerFile` to text."""
    out = ["\t".join(["ERMHDR"] + list(xer.header))]
    for table in xer.tables.values():
        out.append(f"%T\t{table.name}")
        out.append("\t".join(["%F"] + list(table.fields)))
        out.extend("\t".join(["%R", *values]) for values in table.values)
    out.append("%E")
    return line_end.join(out) + line_end


def table_lines(table):
    """The lines (without line ends) of one :class:`XerTable`, as :func:`write_xer` writes them."""
    yield f"%T\t{table.name}"
    yield "\t".join(["%F"] + list(table.fields))
    for values in table.values:
        yield "\t".join(["%R", *values])


def encoded_chunks(lines, encoding, lines_per_chunk=1000):
    """Join ``lines`` with ``\\r\\n`` ends and encode them, a chunk of ``lines_per_chunk`` lines at a time.

    Concatenating the chunks gives ``(LINE_END.join(lines) + LINE_END).encode(encoding)``;
    a line that does not fit ``encoding`` raises :class:`UnicodeEncodeError`.
    """
    batch = []
    for line in lines:
        batch.append(line)
        if len(batch) >= lines_per_chunk:
            batch.append("")
            yield LINE_END.join(batch).encode(encoding)
            batch.clear()
    if batch:
        batch.append("")
        yield LINE_END.join(batch).encode(encoding)


def fits_cp1252(texts):
    """Whether every text of ``texts`` (``None`` allowed) can be written in cp1252, as P6 writes XER files."""
    for text in texts:
        if text and not text.isascii():
            try:
                text.encode("cp1252")
            except UnicodeEncodeError:
                return False
    return True


def write_xer_file(xer, path):
    """Write an :class:`XerFile` to ``path`` (cp1252 when it fits, else UTF-8)."""
    text = write_xer(xer)
    try:
        data = text.encode("cp1252")
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    with open(path, "wb") as fh:
        fh.write(data)


def _hhmm(minutes):
    minutes %= 1440  # 24:00 is written 00:00, as P6 does
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _periods(periods, indent):
    return "".join(
        f"{indent}(0||{k}(s|{_hhmm(s)}|f|{_hhmm(e)})())\x7f\x7f" for k, (s, e) in enumerate(periods)
    )


def calendar_to_clndr_data(calendar):
    """The ``clndr_data`` text of a :class:`~wbs.scheduling.model.Calendar`."""
    parts = ["(0||CalendarData()(\x7f\x7f  (0||DaysOfWeek()(\x7f\x7f"]
    for p6_day in range(1, 8):
        periods = calendar.week[(p6_day + 5) % 7]
        if periods:
            parts.append(f"    (0||{p6_day}()(\x7f\x7f{_periods(periods, '      ')}))\x7f\x7f")
        else:
            parts.append(f"    (0||{p6_day}()())\x7f\x7f")
    parts.append("))\x7f\x7f  (0||VIEW(ShowTotal|Y)())\x7f\x7f  (0||Exceptions()(\x7f\x7f")
    for k, day in enumerate(sorted(calendar.exceptions)):
        periods = calendar.exceptions[day]
        serial = (day - _EPOCH).days
        if periods:
            parts.append(f"    (0||{k}(d|{serial})(\x7f\x7f{_periods(periods, '      ')}))\x7f\x7f")
        else:
            parts.append(f"    (0||{k}(d|{serial})())\x7f\x7f")
    parts.append("))))")
    return "".join(parts)


PROJECT_FIELDS = (
    "proj_id", "proj_short_name", "clndr_id", "last_recalc_date", "plan_start_date", "plan_end_date",
    "scd_end_date", "critical_path_type", "critical_drtn_hr_cnt",
)
SCHEDOPTIONS_FIELDS = (
    "schedoptions_id", "proj_id", "sched_open_critical_flag", "sched_retained_logic", "sched_progress_override",
    "sched_float_type", "sched_calendar_on_relationship_lag", "sched_use_expect_end_flag",
    "sched_lag_early_start_flag",
)
CALENDAR_FIELDS = ("clndr_id", "default_flag", "clndr_name", "proj_id", "base_clndr_id", "clndr_type", "day_hr_cnt", "clndr_data")
PROJWBS_FIELDS = ("wbs_id", "proj_id", "parent_wbs_id", "wbs_short_name", "wbs_name")
TASK_FIELDS = (
    "task_id", "proj_id", "wbs_id", "clndr_id", "phys_complete_pct", "complete_pct_type", "task_type",
    "status_code", "task_code", "task_name", "total_float_hr_cnt", "free_float_hr_cnt", "remain_drtn_hr_cnt",
    "target_drtn_hr_cnt", "cstr_date", "act_start_date", "act_end_date", "late_start_date", "late_end_date",
    "expect_end_date", "early_start_date", "early_end_date", "restart_date", "reend_date",
    "rem_late_start_date", "rem_late_end_date", "cstr_type", "cstr_date2", "cstr_type2",
    "external_early_start_date", "external_late_end_date", "driving_path_flag", "suspend_date", "resume_date",
    "rsrc_id",
)
TASKPRED_FIELDS = ("task_pred_id", "task_id", "pred_task_id", "proj_id", "pred_proj_id", "pred_type", "lag_hr_cnt")


def project_to_xer(
    activities,
    relationships,
    calendars,
    options,
    *,
    proj_id="1",
    code="PROJECT",
    wbs_parents=None,
    results=None,
    header=None,
):
    """Build an :class:`XerFile` holding one project.

    Parameters
    ----------
    activities, relationships, calendars, options :
        As given to :func:`wbs.scheduling.cpm.schedule`.
    proj_id, code : str
        ``PROJECT.proj_id`` and ``proj_short_name``.
    wbs_parents : mapping, optional
        WBS element -> parent; every ``wbs_id`` of an activity gets a row.
    results : mapping of activity id to ActivityResult, optional
        Written into TASK's date, float and driving-path columns.
    header : list of str, optional
        ERMHDR values; a P6 20.12-like default.
    """
    if header is None:
        header = ["20.12", _dt.date.today().isoformat(), "Project", "crmpm", "crmpm", "dbxDatabaseNoName",
                  "Project Management", "USD"]
    tables = {}
    for t in (
        XerTable.of("PROJECT", PROJECT_FIELDS, [_project_row(options, proj_id, code)]),
        XerTable.of("CALENDAR", CALENDAR_FIELDS, _calendar_rows(calendars, options, proj_id)),
        XerTable.of("SCHEDOPTIONS", SCHEDOPTIONS_FIELDS, [_schedoptions_row(options, proj_id)]),
        XerTable.of("PROJWBS", PROJWBS_FIELDS, _wbs_rows(activities, wbs_parents, proj_id)),
        XerTable.of("TASK", TASK_FIELDS, [_task_row(a, proj_id, results.get(a.id) if results else None)
                                        for a in activities]),
        XerTable.of("TASKPRED", TASKPRED_FIELDS, _taskpred_rows(relationships, proj_id)),
    ):
        tables[t.name] = t
    return XerFile(header=list(header), tables=tables, encoding="cp1252")


def _project_row(options, proj_id, code):
    return {
        "proj_id": proj_id,
        "proj_short_name": code,
        "clndr_id": options.default_calendar_id or "",
        "last_recalc_date": format_date(options.data_date),
        "plan_start_date": format_date(options.project_start),
        "plan_end_date": format_date(options.must_finish_by),
        "critical_path_type": "CT_DrivPath" if options.critical == CriticalDefinition.LONGEST_PATH else "CT_TotFloat",
        "critical_drtn_hr_cnt": format_hours(options.critical_float_hours),
    }


_FLOAT_CODES = {FloatType.START: "FT_SS", FloatType.FINISH: "FT_FF", FloatType.SMALLEST: "FT_Min"}


def _schedoptions_row(options, proj_id):
    return {
        "schedoptions_id": proj_id,
        "proj_id": proj_id,
        "sched_open_critical_flag": "Y" if options.open_ended_critical else "N",
        "sched_retained_logic": "Y" if options.progress == ProgressMode.RETAINED_LOGIC else "N",
        "sched_progress_override": "Y" if options.progress == ProgressMode.PROGRESS_OVERRIDE else "N",
        "sched_float_type": _FLOAT_CODES[options.float_type],
        "sched_calendar_on_relationship_lag": _LAG_CODES[options.lag_calendar],
        "sched_use_expect_end_flag": "Y" if options.use_expected_finish else "N",
        "sched_lag_early_start_flag": "Y" if options.ss_lag_from_early_start else "N",
    }


def _calendar_rows(calendars, options, proj_id):
    return [
        {
            "clndr_id": cal.id,
            "default_flag": "Y" if cal.id == options.default_calendar_id else "N",
            "clndr_name": cal.name,
            "proj_id": proj_id,
            "clndr_type": "CA_Project",
            "day_hr_cnt": format_hours(cal.hours_per_day),
            "clndr_data": calendar_to_clndr_data(cal),
        }
        for cal in calendars.values()
    ]


def _wbs_rows(activities, wbs_parents, proj_id):
    """A row per WBS element of ``wbs_parents`` and per ``wbs_id`` an activity names, coded by its id."""
    parents = dict(wbs_parents or {})
    for a in activities:
        if a.wbs_id is not None:
            parents.setdefault(a.wbs_id, None)
    return [
        {"wbs_id": w, "proj_id": proj_id, "parent_wbs_id": p or "", "wbs_short_name": w, "wbs_name": w}
        for w, p in parents.items()
    ]


def _task_row(a, proj_id, result):
    """One activity's TASK row; with its schedule ``result`` when given."""
    if a.actual_finish is not None:
        status = "TK_Complete"
    elif a.actual_start is not None:
        status = "TK_Active"
    else:
        status = "TK_NotStart"
    row = {
        "task_id": a.id,
        "proj_id": proj_id,
        "wbs_id": a.wbs_id or "",
        "clndr_id": a.calendar_id or "",
        "phys_complete_pct": format_hours(a.percent_complete),
        "complete_pct_type": "CP_Drtn",
        "task_type": _TASK_TYPE_CODES[a.type],
        "status_code": status,
        "task_code": a.code,
        "task_name": a.code,
        "remain_drtn_hr_cnt": format_hours(a.remaining_duration_hours),
        "target_drtn_hr_cnt": format_hours(a.original_duration_hours),
        "cstr_type": _CONSTRAINT_CODES.get(a.constraint, "") if a.constraint else "",
        "cstr_date": format_date(a.constraint_date),
        "cstr_type2": _CONSTRAINT_CODES.get(a.secondary_constraint, "") if a.secondary_constraint else "",
        "cstr_date2": format_date(a.secondary_constraint_date),
        "act_start_date": format_date(a.actual_start),
        "act_end_date": format_date(a.actual_finish),
        "expect_end_date": format_date(a.expected_finish),
        "external_early_start_date": format_date(a.external_early_start),
        "external_late_end_date": format_date(a.external_late_finish),
        "resume_date": format_date(a.resume_date),
    }
    if result is not None:
        r = result
        row.update(
            early_start_date=format_date(r.early_start),
            early_end_date=format_date(r.early_finish),
            late_start_date=format_date(r.late_start),
            late_end_date=format_date(r.late_finish),
            restart_date=format_date(r.remaining_early_start),
            reend_date=format_date(r.remaining_early_finish),
            rem_late_start_date=format_date(r.remaining_late_start),
            rem_late_end_date=format_date(r.remaining_late_finish),
            total_float_hr_cnt=format_hours(r.total_float_hours),
            free_float_hr_cnt=format_hours(r.free_float_hours),
            driving_path_flag="Y" if r.longest_path else "N",
        )
    return row


def _taskpred_rows(relationships, proj_id):
    return [
        {
            "task_pred_id": str(k + 1),
            "task_id": rel.successor,
            "pred_task_id": rel.predecessor,
            "proj_id": proj_id,
            "pred_proj_id": proj_id,
            "pred_type": _REL_CODES.get(rel.type, str(rel.type)),
            "lag_hr_cnt": format_hours(rel.lag_hours),
        }
        for k, rel in enumerate(relationships)
    ]

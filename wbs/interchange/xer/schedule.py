"""An XER file's projects scheduled with the file's own options and data date, without a database:
what ``crmpm xer schedule FILE`` (:mod:`wbs.interchange.cli`) prints.

JSON output (``--format json``, the default) per project::

    {"project": "<proj_short_name>", "data_date": "YYYY-MM-DDTHH:MM",
     "activities": [{"code": ..., "early_start": ..., "early_finish": ...,
                     "late_start": ..., "late_finish": ...,
                     "total_float_hours": ..., "free_float_hours": ...,
                     "critical": ...}]}

Dates are project-local ``YYYY-MM-DDTHH:MM`` and mean what P6 stores in
TASK's ``early_start_date``, ``early_end_date``, ``late_start_date`` and
``late_end_date``: remaining dates for activities in progress, the data date
as early start and finish of completed ones (whose floats are ``null``, as
P6 leaves them empty).  Activities are listed in file order.

Several projects in one file: ``--project`` (``proj_short_name`` or
``proj_id``) picks one; without it every project is scheduled and the JSON
output is a *list* of the objects above, in file order (a single project
still prints a single object).

A bad file or an unschedulable project prints one line to stderr and exits
with status 2. Warnings (a calendar missing from the file, replaced by the
project's default as P6 does; a broken calendar nothing uses) go to stderr as
``warning: FILE: project CODE: ...`` lines; the output is unchanged by them.

The JSON text is what ``json.dumps(payload, indent=2)`` gives for :func:`schedule_file`'s dicts, byte
for byte, but :func:`json_text` writes it straight from the results, through one template per
activity: at 50,000 activities the json module's indented (pure Python) encoder and the dicts took a
third of the command's time (``docs/decisions/0008-xer-schedule-json.md``).
"""

from __future__ import annotations

import gc
import json
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii

from wbs.scheduling.cpm import schedule
from wbs.interchange.xer.mapping import load_project, project_ids
from wbs.interchange.xer.reader import XerError, read_xer

__all__ = ["ScheduledProject", "schedule_xer", "schedule_file", "as_dict", "json_text", "as_table"]

# What each activity shows, in order: the JSON keys, and the attributes of its ActivityResult.
_DATES = ("early_start", "early_finish", "late_start", "late_finish")
_FLOATS = ("total_float_hours", "free_float_hours")


@dataclass(frozen=True, slots=True)
class ScheduledProject:
    """One project of a file and its schedule: activities in file order, results by activity id."""

    code: str
    data_date: object
    activities: list
    results: dict


def _fmt(value):
    return value.strftime("%Y-%m-%dT%H:%M") if value is not None else None


def _hours(value):
    return None if value is None else round(value, 4)


def schedule_xer(path, project=None, warnings=None):
    """Schedule the project(s) of an XER file; return a :class:`ScheduledProject` each, in file order.
    What reading had to tell (a calendar missing from the file replaced by the project's default, say)
    is appended to ``warnings`` when a list is given, each prefixed with its project's code.

    Raises
    ------
    XerError, SchedulingError, OSError
    """
    # Reading and mapping build a few hundred thousand rows and values, and no cycles: the cyclic
    # garbage collector would only walk them again and again (a fifth of the time at 50,000 activities).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _schedule_xer(path, project, warnings)
    finally:
        if enabled:
            gc.enable()


def _schedule_xer(path, project, warnings):
    data = read_xer(path)
    ids = project_ids(data)
    if not ids:
        raise XerError("no PROJECT rows", "PROJECT")
    if project is not None:
        chosen = [pid for pid, code in ids if project in (pid, code)]
        if not chosen:
            raise XerError(f"no project {project!r} in file (has: {', '.join(c for _, c in ids)})", "PROJECT")
    else:
        chosen = [pid for pid, _ in ids]
    out = []
    for k, pid in enumerate(chosen):
        pd = load_project(data, pid)
        if warnings is not None:
            warnings.extend(f"project {pd.code}: {warning}" for warning in pd.warnings)
        inputs = pd.activities, pd.relationships, pd.calendars, pd.options, pd.wbs_parents
        code = pd.code
        del pd
        if k == len(chosen) - 1:
            # The file's rows are no longer needed: freed now, the scheduler reuses their memory
            # (a third less at the peak) instead of asking the system for more.
            del data
        res = schedule(*inputs)
        out.append(ScheduledProject(code, inputs[3].data_date, inputs[0], res))
    return out


def as_dict(project):
    """One :class:`ScheduledProject` as the JSON-ready dict described in the module notes."""
    res = project.results
    return {
        "project": project.code,
        "data_date": _fmt(project.data_date),
        "activities": [
            {
                "code": a.code,
                "early_start": _fmt(res[a.id].early_start),
                "early_finish": _fmt(res[a.id].early_finish),
                "late_start": _fmt(res[a.id].late_start),
                "late_finish": _fmt(res[a.id].late_finish),
                "total_float_hours": _hours(res[a.id].total_float_hours),
                "free_float_hours": _hours(res[a.id].free_float_hours),
                "critical": res[a.id].critical,
            }
            for a in project.activities
        ],
    }


def schedule_file(path, project=None, warnings=None):
    """Schedule the project(s) of an XER file; return the JSON-ready dicts (see :func:`schedule_xer`)."""
    return [as_dict(p) for p in schedule_xer(path, project, warnings)]


def _json_value(value):
    """What ``json.dumps`` writes for a number, a boolean or ``None`` (floats as ``float.__repr__``)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) in (int, float) and value - value == 0:  # finite: inf and nan are json's own words
        return repr(value)
    return json.dumps(value)


class _Dates(dict):
    """Each distinct date as its JSON string, formatted once (many activities share a date)."""

    def __missing__(self, value):
        text = self[value] = "null" if value is None else encode_basestring_ascii(_fmt(value))
        return text


class _Hours(dict):
    """Each distinct float of hours (other than zero, which equals -0.0 as a key) as its JSON text, once."""

    def __missing__(self, value):
        text = self[value] = _json_value(round(value, 4))
        return text


def _hours_json(value, hours):
    """:func:`_hours` of ``value`` as JSON, through the ``hours`` cache for non-zero floats."""
    if value is None:
        return "null"
    if type(value) is float and value:
        return hours[value]
    return _json_value(round(value, 4))


def _project_json(project, level):
    """``json.dumps(as_dict(project), indent=2)`` for an object ``level`` levels deep."""
    pad = [" " * (2 * (level + k)) for k in range(4)]
    item = ("{\n" + "".join(f'{pad[3]}"{key}": %s,\n' for key in ("code", *_DATES, *_FLOATS))
            + f'{pad[3]}"critical": %s\n{pad[2]}}}')
    dates = _Dates().__getitem__
    hours = _Hours()
    res = project.results
    items = []
    for a in project.activities:
        r = res[a.id]
        tf, ff, critical = r.total_float_hours, r.free_float_hours, r.critical
        items.append(item % (
            encode_basestring_ascii(a.code), dates(r.early_start), dates(r.early_finish), dates(r.late_start),
            dates(r.late_finish),
            hours[tf] if type(tf) is float and tf else _hours_json(tf, hours),
            hours[ff] if type(ff) is float and ff else _hours_json(ff, hours),
            "true" if critical is True else "false" if critical is False else _json_value(critical)))
    if items:
        activities = f"[\n{pad[2]}" + f",\n{pad[2]}".join(items) + f"\n{pad[1]}]"
    else:
        activities = "[]"
    return (f'{{\n{pad[1]}"project": {encode_basestring_ascii(project.code)},\n'
            f'{pad[1]}"data_date": {dates(project.data_date)},\n'
            f'{pad[1]}"activities": {activities}\n{pad[0]}}}')


def json_text(projects):
    """The JSON output of :class:`ScheduledProject` s: one object for one project, else a list of them;
    exactly ``json.dumps(payload, indent=2)`` of their :func:`as_dict` (without the final newline)."""
    if len(projects) == 1:
        return _project_json(projects[0], 0)
    if not projects:
        return "[]"
    return "[\n  " + ",\n  ".join(_project_json(p, 1) for p in projects) + "\n]"


def as_table(project):
    """One project of :func:`schedule_file` as a text table."""
    cols = ("code", "early_start", "early_finish", "late_start", "late_finish", "total_float_hours",
            "free_float_hours", "critical")
    head = ("code", "early start", "early finish", "late start", "late finish", "TF h", "FF h", "crit")
    rows = [[("" if r[c] is None else ("Y" if r[c] is True else "N" if r[c] is False else str(r[c])))
             for c in cols] for r in project["activities"]]
    widths = [max([len(h)] + [len(r[k]) for r in rows]) for k, h in enumerate(head)]
    lines = [f"project {project['project']}  data date {project['data_date']}"]
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    lines.extend("  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows)
    return "\n".join(lines)

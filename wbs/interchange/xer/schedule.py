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
"""

from __future__ import annotations

from wbs.scheduling.cpm import schedule
from wbs.interchange.xer.mapping import load_project, project_ids
from wbs.interchange.xer.reader import XerError, read_xer

__all__ = ["schedule_file", "as_table"]


def _fmt(value):
    return value.strftime("%Y-%m-%dT%H:%M") if value is not None else None


def _hours(value):
    return None if value is None else round(value, 4)


def schedule_file(path, project=None, warnings=None):
    """Schedule the project(s) of an XER file; return the JSON-ready dicts. What reading had to tell (a
    calendar missing from the file replaced by the project's default, say) is appended to ``warnings``
    when a list is given, each prefixed with its project's code.

    Raises
    ------
    XerError, SchedulingError, OSError
    """
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
    for pid in chosen:
        pd = load_project(data, pid)
        if warnings is not None:
            warnings.extend(f"project {pd.code}: {warning}" for warning in pd.warnings)
        res = schedule(pd.activities, pd.relationships, pd.calendars, pd.options, pd.wbs_parents)
        out.append(
            {
                "project": pd.code,
                "data_date": _fmt(pd.options.data_date),
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
                    for a in pd.activities
                ],
            }
        )
    return out


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

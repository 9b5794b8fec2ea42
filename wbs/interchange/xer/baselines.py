"""A project's named baselines in a P6 XER file, and back.

How P6 keeps baselines: a baseline is a whole copy of the project, a project of its own in the database that
P6 hides from the project list (``PROJECT.project_flag`` = ``N``, ``orig_proj_id`` = the project it was taken
from), with its own PROJWBS (the project node, ``proj_node_flag`` = ``Y``, carries its name), TASK and
TASKRSRC rows. The project names the one it is measured against, its "project baseline", by
``PROJECT.sum_base_proj_id``; the user baselines (primary, secondary, tertiary) are a user preference that
P6 does not export. An ordinary XER export holds no baseline at all, only that id: MPXJ's documentation says
as much ("XER files do not contain baseline data"), and the real files crmpm tests against agree
(``options-695.xer`` and ``three-projects-134.xer`` name baselines 4539, 4538, 4406 and 4437 that are not in
them; ``updates-BL-…`` is a baseline restored as an ordinary project). Recent P6 versions can export chosen
baselines with the project (PROJECT's ``baselines_to_export`` / ``baseline_names_to_export`` columns): they
come as the extra PROJECT rows and their tables described above. No public XER file with one included was
found to check against, so this module follows P6's tables as they stand in the database. Readers match a
baseline's activities to the project's by activity ID (``task_code``), as MPXJ's baseline strategies do:
task ids differ between the copy and the project.

crmpm writes each baseline so: a PROJECT row (``project_flag`` N, ``orig_proj_id`` the project, the name in
``proj_short_name``), its project-node PROJWBS row (the name again, in ``wbs_name``), a TASK row per activity
it holds (``task_code`` the activity's, the kept start and finish as the row's early dates, the duration as
``target_drtn_hr_cnt``) and a TASKRSRC row carrying its budgeted cost, as the project's own costs are
carried; the project's ``sum_base_proj_id`` names the primary. It reads back every baseline project whose
``orig_proj_id`` is the imported project, or which its ``sum_base_proj_id`` names (that one is the primary):
start and finish are the actual dates where the row has them, else the early dates, else the planned
(``target_*``) dates. A ``sum_base_proj_id`` that names no project in the file is left alone. Secondary and
tertiary roles do not travel, as they do not in P6's own files.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from wbs.interchange.model import ExchangeBaseline, ExchangeBaselineActivity
from wbs.interchange.xer.mapping import baseline_projects
from wbs.interchange.xer.reader import XerFile, XerTable, parse_date, parse_number
from wbs.interchange.xer.resources import generic_cost_line
from wbs.interchange.xer.writer import TASK_FIELDS, format_date, format_hours

__all__ = ["BaselineExport", "read_baselines"]

CENT = Decimal("0.01")
SHORT_NAME = 40  # P6's length of a project's ID and a WBS code; the whole name goes in PROJWBS.wbs_name


class BaselineExport:
    """The baselines of one exported project, numbered into the file's id spaces beyond the project's own.

    ``baselines`` are ``(baseline id, name, is primary)`` in the file's order; ``first_ids``: the first free
    ``(proj_id, wbs_id, task_id)``. Their activities come as rows when the TASK table is written
    (:meth:`task_lines`), never all at once.
    """

    def __init__(self, baselines: list[tuple[int, str, bool]], proj_id: str, first_ids: tuple[int, int, int]):
        self.baselines = baselines
        self.proj_id = proj_id
        first_proj, first_wbs, self.first_task = first_ids
        self.ids = {baseline_id: (str(first_proj + n), str(first_wbs + n))
                    for n, (baseline_id, _name, _primary) in enumerate(baselines)}

    def texts(self) -> Iterator[str]:
        for _id, name, _primary in self.baselines:
            yield name

    def add_projects(self, xer: XerFile) -> None:
        """The baselines' PROJECT and project-node PROJWBS rows added to ``xer``'s tables, and the project's
        ``sum_base_proj_id`` naming the primary."""
        if not self.baselines:
            return
        project = _widened(xer.tables["PROJECT"], ("project_flag", "orig_proj_id", "sum_base_proj_id"))
        main = next(row for row in project.rows if row["proj_id"] == self.proj_id)
        main["project_flag"] = "Y"
        template = dict(main)
        wbs = _widened(xer.tables["PROJWBS"], ("proj_node_flag",))
        for baseline_id, name, primary in self.baselines:
            proj_id, wbs_id = self.ids[baseline_id]
            if primary:
                main["sum_base_proj_id"] = proj_id
            project.rows.append({**template, "proj_id": proj_id, "proj_short_name": name[:SHORT_NAME],
                                 "project_flag": "N", "orig_proj_id": self.proj_id, "sum_base_proj_id": ""})
            wbs.rows.append({"wbs_id": wbs_id, "proj_id": proj_id, "parent_wbs_id": "",
                             "wbs_short_name": name[:SHORT_NAME], "wbs_name": name, "proj_node_flag": "Y"})

    def task_lines(self, rows, costs: list[str]) -> Iterator[str]:
        """The baselines' TASK rows (to follow the project's in its TASK table) from ``rows`` of ``(baseline
        id, activity code, start, finish, duration hours, budgeted cost)``; their costs' TASKRSRC lines are
        appended to ``costs``, numbered on from the lines already there."""
        task_id = self.first_task
        for baseline_id, code, start, finish, hours, cost in rows:
            proj_id, wbs_id = self.ids[baseline_id]
            row = {"task_id": str(task_id), "proj_id": proj_id, "wbs_id": wbs_id, "complete_pct_type": "CP_Drtn",
                   "task_type": "TT_Task", "status_code": "TK_NotStart", "task_code": code, "task_name": code,
                   "target_drtn_hr_cnt": format_hours(hours), "remain_drtn_hr_cnt": format_hours(hours),
                   "early_start_date": format_date(start), "early_end_date": format_date(finish)}
            yield "\t".join(("%R", *(row.get(f, "") for f in TASK_FIELDS)))
            if cost:
                costs.append(generic_cost_line(len(costs) + 1, str(task_id), proj_id, cost, 0, cost))
            task_id += 1


def _widened(table: XerTable, fields: tuple[str, ...]) -> XerTable:
    table.fields = list(table.fields) + [f for f in fields if f not in table.fields]
    for row in table.rows:
        for f in fields:
            row.setdefault(f, "")
    return table


def read_baselines(xer: XerFile, proj_id: str, activity_ids: dict[str, str]) -> list[ExchangeBaseline]:
    """The baselines of project ``proj_id`` the file holds; ``activity_ids``: the project's activity ids by
    activity code. XerError naming the table, line and column of a value that cannot be read."""
    projects = xer.table("PROJECT")
    main = next((row for row in projects.rows if row["proj_id"] == proj_id), {})
    primary = (main.get("sum_base_proj_id") or "").strip()
    found = {row["proj_id"]: row for row in baseline_projects(projects.rows, proj_id)}
    if not found:
        return []
    names = {row.get("proj_id"): row.get("wbs_name") for row in xer.rows("PROJWBS")
             if row.get("proj_id") in found and row.get("proj_node_flag") == "Y"}
    costs: dict[str, Decimal] = {}
    trsrc = xer.table("TASKRSRC")
    for row, line in zip(trsrc.rows, trsrc.lines):
        if row.get("proj_id") in found:
            amount = Decimal(repr(_number(trsrc, row, line, "target_cost")))
            costs[row.get("task_id")] = costs.get(row.get("task_id"), Decimal(0)) + amount
    kept: dict[str, dict[str, ExchangeBaselineActivity]] = {key: {} for key in found}
    tasks = xer.table("TASK")
    for row, line in zip(tasks.rows, tasks.lines):
        values = kept.get(row.get("proj_id"))
        activity_id = activity_ids.get(row.get("task_code"))
        if values is None or activity_id is None:
            continue

        def when(*columns):
            for column in columns:
                value = parse_date(row.get(column, ""), tasks.name, line, column)
                if value is not None:
                    return value
            return None

        values[activity_id] = ExchangeBaselineActivity(
            start=when("act_start_date", "early_start_date", "target_start_date"),
            finish=when("act_end_date", "early_end_date", "target_end_date"),
            duration_hours=_number(tasks, row, line, "target_drtn_hr_cnt"),
            budgeted_cost=costs.get(row.get("task_id"), Decimal(0)).quantize(CENT))
    return [ExchangeBaseline(name=(names.get(key) or row.get("proj_short_name") or key).strip(),
                             role="primary" if key == primary else None, activities=kept[key])
            for key, row in found.items()]


def _number(table: XerTable, row: dict, line: int, column: str) -> float:
    value = row.get(column, "")
    return float(parse_number(value, table.name, line, column)) if value.strip() else 0.0

"""One project of a P6 XER file as the checked neutral project (:func:`read_xer_project`), and imported as a
new crmpm project (:func:`import_xer`): the XER side of :mod:`wbs.interchange.store`."""

from __future__ import annotations

from decimal import Decimal

import networkx as nx
from sqlalchemy.orm import Session

from crmpm.errors import Invalid
from crmpm.users.models import User
from eps.models import EpsNode, Project
from eps.permissions import Permission, authorize
from wbs.interchange.model import ExchangeActivity, ExchangePlan, ExchangeProject, ExchangeWbs, checked_links
from wbs.interchange.store import import_project
from wbs.interchange.xer.codes import read_codes
from wbs.interchange.xer.baselines import read_baselines
from wbs.interchange.xer.mapping import choose_project, load_project, project_ids
from wbs.interchange.xer.reader import XerError, read_xer
from wbs.interchange.xer.resources import ReadResources, read_resources
from wbs.scheduling.errors import SchedulingError

__all__ = ["import_xer", "read_xer_project"]

ZERO = Decimal("0.00")


def import_xer(session: Session, *, actor: User, data: bytes, eps_node: EpsNode, proj: str | None = None,
               code: str | None = None, name: str | None = None, warnings: list[str] | None = None) -> Project:
    """Create a project under ``eps_node`` from an XER file (edit rights there), scheduled, and return it.

    What the import had to tell (a calendar missing from the file, replaced by the project's default,
    say) is appended to ``warnings`` when a list is given, and kept in the audit record either way.
    """
    authorize(session, user=actor, obj=eps_node, permission=Permission.edit)
    source = read_xer_project(data, proj=proj)
    return import_project(session, actor=actor, eps_node=eps_node, source=source, file_format="xer", code=code,
                          name=name, warnings=warnings)


def read_xer_project(data: bytes, *, proj: str | None = None) -> ExchangeProject:
    """One project of an XER file as the neutral project, checked; Invalid naming the fault otherwise."""
    try:
        xer = read_xer(bytes(data))
        projects = project_ids(xer)
        if not projects:
            raise Invalid("the XER file holds no project (table PROJECT is empty or missing)",
                          errors={"file": ["no PROJECT rows"]})
        chosen = choose_project(projects, proj)
        loaded = load_project(xer, chosen)
    except XerError as exc:
        raise Invalid("XER file: {problem}", problem=str(exc), errors={"file": [str(exc)]}) from None
    except SchedulingError as exc:
        raise Invalid("XER file: {problem}", problem=str(exc), errors={"file": [str(exc)]}) from None
    source = checked_links(_xer_exchange(xer, loaded, chosen), "XER file: TASKPRED")
    source.baselines = _baselines(xer, chosen, source)
    missing = [activity.code for activity in source.activities
               if activity.calendar_id is not None and activity.calendar_id not in source.calendars]
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise Invalid("XER file: activities {codes} name a calendar that is not in the file, and the project's "
                      "default calendar (PROJECT.clndr_id) is not in it either",
                      codes=shown, errors={"file": ["calendar missing"]})
    return source


def _xer_exchange(xer, loaded, chosen: str) -> ExchangeProject:
    """One XER project as the neutral project, checked (WBS loops, duplicate links) before anything is written."""
    wbs_rows = [r for r in xer.rows("PROJWBS") if r.get("proj_id") == chosen]
    project_node = next((r for r in wbs_rows if r.get("proj_node_flag") == "Y"), None)
    elements = _xer_wbs(wbs_rows, project_node)
    known = {element.id for element in elements}
    warnings = list(loaded.warnings)
    pool = _xer_resources(xer, loaded, chosen, warnings)
    resource_ids = {resource.id for resource in pool.resources.resources}
    activities = []
    for model in loaded.activities:
        row = loaded.task_rows.get(model.id, {})
        budget, actual = pool.folded.get(model.id, (ZERO, ZERO))
        primary = row.get("rsrc_id") or None
        activities.append(ExchangeActivity(
            id=model.id, code=model.code, name=row.get("task_name") or model.code,
            wbs_id=model.wbs_id if model.wbs_id in known else None, type=model.type,
            original_duration_hours=model.original_duration_hours,
            remaining_duration_hours=model.remaining_duration_hours,
            calendar_id=_own_calendar(model, row, loaded), primary_resource_id=primary if primary in resource_ids
            else None,
            constraint=model.constraint, constraint_date=model.constraint_date,
            secondary_constraint=model.secondary_constraint,
            secondary_constraint_date=model.secondary_constraint_date, actual_start=model.actual_start,
            actual_finish=model.actual_finish, expected_finish=model.expected_finish,
            percent_complete=model.percent_complete, budgeted_cost=budget, actual_cost=actual))
    options = loaded.options
    plan = ExchangePlan(
        data_date=options.data_date, planned_start=options.project_start, must_finish_by=options.must_finish_by,
        default_calendar_id=options.default_calendar_id, progress_mode=options.progress,
        lag_calendar=options.lag_calendar, float_type=options.float_type, critical_definition=options.critical,
        critical_float_hours=options.critical_float_hours, open_ended_critical=options.open_ended_critical,
        use_expected_finish=options.use_expected_finish)
    # A resource's own calendar (CA_Rsrc) comes in with its resource, not as the project's, unless it is used.
    used = {a.calendar_id for a in activities} | {options.default_calendar_id}
    resource_only = {row.get("clndr_id") for row in xer.rows("CALENDAR") if row.get("clndr_type") == "CA_Rsrc"} - used
    return ExchangeProject(code=loaded.code, name=(project_node or {}).get("wbs_name") or loaded.code, plan=plan,
                           calendars={k: c for k, c in loaded.calendars.items() if k not in resource_only}, wbs=elements, activities=activities,
                           relationships=list(loaded.relationships), warnings=warnings,
                           codes=_xer_codes(xer, chosen, activities, elements, warnings), resources=pool.resources)


def _xer_resources(xer, loaded, chosen: str, warnings: list[str]) -> ReadResources:
    """The file's resources and roles, and the project's assignments (:mod:`wbs.interchange.xer.resources`)."""
    try:
        return read_resources(xer, chosen, loaded.task_rows, loaded.calendars, warnings)
    except XerError as exc:
        raise Invalid("XER file: {problem}", problem=str(exc), errors={"file": [str(exc)]}) from None


def _own_calendar(model, row: dict, loaded) -> str | None:
    """The activity's own calendar: the scheduler's input has a resource-dependent activity's primary resource's
    (``wbs.scheduling.model.working_calendar_id``), which the database applies itself when it schedules."""
    own = row.get("clndr_id") or None
    if own == model.calendar_id or own is None:
        return model.calendar_id if own is not None else None
    if own not in loaded.calendars:
        default = loaded.options.default_calendar_id
        return default if default in loaded.calendars else own
    return own


def _xer_codes(xer, chosen: str, activities: list[ExchangeActivity], elements: list[ExchangeWbs], warnings):
    """The project's activity codes and UDFs (read for the import only: scheduling a file needs none)."""
    return read_codes(xer, chosen, activity_ids=[a.id for a in activities], wbs_ids=[e.id for e in elements],
                      warnings=warnings)


def _baselines(xer, chosen: str, source: ExchangeProject):
    """The project's baselines the file holds (:mod:`wbs.interchange.xer.baselines`)."""
    try:
        return read_baselines(xer, chosen, {activity.code: activity.id for activity in source.activities})
    except XerError as exc:
        raise Invalid("XER file: {problem}", problem=str(exc), errors={"file": [str(exc)]}) from None


def _xer_wbs(rows: list[dict], project_node: dict | None) -> list[ExchangeWbs]:
    """PROJWBS rows below the project node, parents first."""
    root_id = project_node["wbs_id"] if project_node else None
    graph = nx.DiGraph()
    by_id = {}
    for row in rows:
        if row is project_node:
            continue
        by_id[row["wbs_id"]] = row
        graph.add_node(row["wbs_id"])
    for wbs_id, row in by_id.items():
        parent = row.get("parent_wbs_id") or None
        if parent and parent != root_id and parent in by_id:
            graph.add_edge(parent, wbs_id)
    if not nx.is_directed_acyclic_graph(graph):
        raise Invalid("XER file: PROJWBS parents form a loop", errors={"file": ["PROJWBS loop"]})
    elements = []
    for wbs_id in nx.topological_sort(graph):
        row = by_id[wbs_id]
        parent = row.get("parent_wbs_id") or None
        elements.append(ExchangeWbs(id=wbs_id, code=row.get("wbs_short_name") or wbs_id,
                                    name=row.get("wbs_name") or "",
                                    parent_id=parent if parent in by_id and parent != root_id else None,
                                    seq=int(float(row.get("seq_num") or 0))))
    return elements

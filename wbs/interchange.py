"""Primavera P6 XER files in and out of the database.

Import reads the file completely and checks it (table and line named on any
fault) before the first row is written, then creates the project with its
calendars, plan, WBS, activities, costs and relationships, and schedules it —
all in the caller's one transaction, so a failure leaves nothing behind.
Export writes what import reads, so import → export → import gives the same
project and schedule.
"""

from __future__ import annotations

from decimal import Decimal

import networkx as nx
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm.errors import Conflict, Invalid
from crmpm.users.models import User
from eps import services as eps_services
from eps.models import EpsNode, Project
from eps.permissions import Permission, authorize
from wbs import scheduling_service, services
from wbs.models import Activity, Calendar, CalendarException, Relationship, WbsElement
from wbs.scheduling.errors import SchedulingError
from wbs.xer.mapping import load_project, project_ids
from wbs.scheduling.model import ActivityResult
from wbs.xer.reader import XerError, XerTable, read_xer
from wbs.xer.writer import project_to_xer, write_xer

CENT = Decimal("0.01")


def _money(value) -> Decimal:
    return Decimal(repr(float(value or 0))).quantize(CENT)


def import_xer(session: Session, *, actor: User, data: bytes, eps_node: EpsNode, proj: str | None = None,
               code: str | None = None, name: str | None = None) -> Project:
    """Create a project under ``eps_node`` from an XER file (edit rights there), scheduled, and return it."""
    authorize(session, user=actor, obj=eps_node, permission=Permission.edit)
    try:
        xer = read_xer(bytes(data))
        projects = project_ids(xer)
        if not projects:
            raise Invalid("the XER file holds no project (table PROJECT is empty or missing)",
                          errors={"file": ["no PROJECT rows"]})
        chosen = _choose(projects, proj)
        loaded = load_project(xer, chosen)
    except XerError as exc:
        raise Invalid(f"XER file: {exc}", errors={"file": [str(exc)]}) from None
    except SchedulingError as exc:
        raise Invalid(f"XER file: {exc}", errors={"file": [str(exc)]}) from None

    wbs_rows = [r for r in xer.rows("PROJWBS") if r.get("proj_id") == chosen]
    project_node = next((r for r in wbs_rows if r.get("proj_node_flag") == "Y"), None)
    project_name = name or (project_node or {}).get("wbs_name") or loaded.code
    project = eps_services.create_project(session, actor=actor, code=(code or loaded.code)[:40],
                                          name=project_name[:200], eps_node=eps_node)

    calendar_ids = {}
    for key, calendar in loaded.calendars.items():
        stored = Calendar(project_id=project.id, name=calendar.name or f"Calendar {key}",
                          hours_per_day=calendar.hours_per_day, external_id=str(key)[:60],
                          week=[[list(p) for p in day] for day in calendar.week])
        stored.exceptions = [CalendarException(day=day, periods=[list(p) for p in periods])
                             for day, periods in sorted(calendar.exceptions.items())]
        session.add(stored)
        session.flush()
        calendar_ids[key] = stored.id

    options = loaded.options
    services.update_plan(
        session, actor=actor, project=project, data_date=options.data_date, planned_start=options.project_start,
        must_finish_by=options.must_finish_by,
        default_calendar_id=calendar_ids.get(options.default_calendar_id),
        progress_mode=options.progress.value, lag_calendar=options.lag_calendar.value,
        float_type=options.float_type.value, critical_definition=options.critical.value,
        critical_float_hours=options.critical_float_hours, open_ended_critical=options.open_ended_critical,
        use_expected_finish=options.use_expected_finish)

    element_ids = _import_wbs(session, project=project, rows=wbs_rows, project_node=project_node)
    activity_ids = {}
    for model in loaded.activities:
        row = loaded.task_rows.get(model.id, {})
        costs = loaded.costs.get(model.id, {})
        activity = Activity(
            project_id=project.id, code=model.code[:60], name=(row.get("task_name") or model.code)[:300],
            type=model.type.value, wbs_element_id=element_ids.get(model.wbs_id),
            original_duration_hours=model.original_duration_hours,
            remaining_duration_hours=model.remaining_duration_hours,
            calendar_id=calendar_ids.get(model.calendar_id),
            constraint_type=model.constraint.value if model.constraint else None,
            constraint_date=model.constraint_date,
            secondary_constraint_type=model.secondary_constraint.value if model.secondary_constraint else None,
            secondary_constraint_date=model.secondary_constraint_date,
            actual_start=model.actual_start, actual_finish=model.actual_finish,
            expected_finish=model.expected_finish, percent_complete=model.percent_complete,
            budgeted_cost=_money(costs.get("budget")), actual_cost=_money(costs.get("actual")),
            external_id=str(model.id)[:60], notes="")
        session.add(activity)
        activity_ids[model.id] = activity
    session.flush()
    seen = set()
    for link in loaded.relationships:
        pair = (link.predecessor, link.successor)
        if pair in seen:
            raise Invalid(f"XER file: TASKPRED links {pair[0]} → {pair[1]} twice",
                          errors={"file": ["duplicate relationship"]})
        seen.add(pair)
        session.add(Relationship(predecessor_id=activity_ids[link.predecessor].id,
                                 successor_id=activity_ids[link.successor].id,
                                 type=link.type.value if hasattr(link.type, "value") else str(link.type),
                                 lag_hours=link.lag_hours))
    session.flush()
    services.roll_up_costs(session, project=project)
    # Scheduling checks the network (loops, calendars) before anything is stored; a refusal
    # here rolls the whole import back with the caller's transaction.
    scheduling_service.schedule_project(session, actor=actor, project=project)
    return project


def _choose(projects: list[tuple[str, str]], wanted: str | None) -> str:
    if wanted is None:
        return projects[0][0]
    for proj_id, code in projects:
        if wanted in (proj_id, code):
            return proj_id
    raise Invalid(f"the XER file has no project {wanted!r}; it has {', '.join(code for _i, code in projects)}",
                  errors={"project": ["not in the file"]})


def _import_wbs(session: Session, *, project: Project, rows: list[dict], project_node: dict | None) -> dict:
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
    ids: dict[str, int] = {}
    used_codes: set[str] = set()
    for wbs_id in nx.topological_sort(graph):
        row = by_id[wbs_id]
        parent = row.get("parent_wbs_id") or None
        code = (row.get("wbs_short_name") or wbs_id)[:60]
        if code in used_codes:
            # P6 short names are unique among siblings only; crmpm codes are unique per project.
            code = f"{code}.{wbs_id}"[:60]
        used_codes.add(code)
        element = WbsElement(project_id=project.id, parent_id=ids.get(parent), code=code,
                             name=(row.get("wbs_name") or code)[:300],
                             seq=int(float(row.get("seq_num") or 0)), external_id=str(wbs_id)[:60])
        session.add(element)
        session.flush()
        ids[wbs_id] = element.id
    return ids


def export_xer(session: Session, *, project: Project) -> bytes:
    """The project as an XER file (cp1252 as P6 writes them, UTF-8 when names need it)."""
    loaded = scheduling_service.load_input(session, project=project)
    used = {m.calendar_id for m in loaded.models if m.calendar_id} | {loaded.options.default_calendar_id}
    calendars = {key: cal for key, cal in loaded.calendars.items() if key in used}
    results = {}
    for activity in loaded.activities:
        if activity.early_start is not None:
            results[str(activity.id)] = _stored_result(activity)
    xer = project_to_xer(loaded.models, loaded.relationships, calendars, loaded.options, proj_id=str(project.id),
                         code=project.code, wbs_parents=loaded.wbs_parents, results=results)
    elements = {str(e.id): e for e in session.scalars(select(WbsElement).where(WbsElement.project_id == project.id))}
    for row in xer.tables["PROJWBS"].rows:
        element = elements.get(row["wbs_id"])
        if element is not None:
            row["wbs_short_name"], row["wbs_name"] = element.code, element.name
    by_id = {str(a.id): a for a in loaded.activities}
    for row in xer.tables["TASK"].rows:
        row["task_name"] = by_id[row["task_id"]].name
    _add_costs(xer, loaded.activities)
    text = write_xer(xer)
    try:
        return text.encode("cp1252")
    except UnicodeEncodeError:
        # Names outside cp1252 (Cyrillic, say): UTF-8, which the reader recognises.
        return text.encode("utf-8")


def _stored_result(activity: Activity) -> ActivityResult:
    return ActivityResult(**{field: getattr(activity, field) for field in scheduling_service.RESULT_FIELDS})


def _add_costs(xer, activities: list[Activity]) -> None:
    """One TASKRSRC row per activity with costs, against one generic resource, as P6 reads them back."""
    costed = [a for a in activities if a.budgeted_cost or a.actual_cost]
    if not costed:
        return
    rsrc = XerTable("RSRC", ["rsrc_id", "rsrc_short_name", "rsrc_name", "rsrc_type"])
    rsrc.rows = [{"rsrc_id": "1", "rsrc_short_name": "COST", "rsrc_name": "Cost", "rsrc_type": "RT_Mat"}]
    taskrsrc = XerTable("TASKRSRC", ["taskrsrc_id", "task_id", "proj_id", "rsrc_id", "target_cost",
                                     "act_reg_cost", "act_ot_cost", "remain_cost"])
    taskrsrc.rows = [{"taskrsrc_id": str(n), "task_id": str(a.id), "proj_id": str(a.project_id), "rsrc_id": "1",
                      "target_cost": f"{a.budgeted_cost}", "act_reg_cost": f"{a.actual_cost}", "act_ot_cost": "0",
                      "remain_cost": f"{max(a.budgeted_cost - a.actual_cost, Decimal(0))}"}
                     for n, a in enumerate(costed, 1)]
    xer.tables["RSRC"] = rsrc
    xer.tables["TASKRSRC"] = taskrsrc

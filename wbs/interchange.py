"""Primavera P6 XER and MS Project XML (MSPDI) files in and out of the database.

Import reads the file completely into the neutral :class:`~wbs.exchange.ExchangeProject`
and checks it (table or element and line named on any fault) before the first row
is written, then creates the project with its calendars, plan, WBS, activities,
costs and relationships, and schedules it — all in the caller's one transaction,
so a failure leaves nothing behind. Export writes what import reads, so
import → export → import gives the same project and schedule, in either format.
"""

from __future__ import annotations

from decimal import Decimal

import networkx as nx
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.errors import Conflict, Invalid
from crmpm.users.models import User
from eps import services as eps_services
from eps.models import EpsNode, Project
from eps.permissions import Permission, authorize
from wbs import services
from wbs.scheduling import service as scheduling_service
from wbs.models import Activity, Calendar, CalendarException, Relationship, WbsElement
from wbs.exchange import ExchangeActivity, ExchangePlan, ExchangeProject, ExchangeWbs
from wbs.mspdi import MspdiError, read_mspdi
from wbs.scheduling.errors import SchedulingError
from wbs.xer.mapping import load_project, project_ids
from wbs.xer.reader import XerError, read_xer
from wbs.mspdi_export import exchange_activity, exchange_plan, mspdi_chunks
from wbs.xer_export import export_xer, export_xer_to, xer_chunks

__all__ = ["import_xer", "import_mspdi", "export_xer", "export_xer_to", "xer_chunks", "export_mspdi", "mspdi_chunks",
           "exchange_of"]

CENT = Decimal("0.01")


def _money(value) -> Decimal:
    return Decimal(repr(float(value or 0))).quantize(CENT)


def import_xer(session: Session, *, actor: User, data: bytes, eps_node: EpsNode, proj: str | None = None,
               code: str | None = None, name: str | None = None, warnings: list[str] | None = None) -> Project:
    """Create a project under ``eps_node`` from an XER file (edit rights there), scheduled, and return it.

    What the import had to tell (a calendar missing from the file, replaced by the project's default,
    say) is appended to ``warnings`` when a list is given, and kept in the audit record either way.
    """
    authorize(session, user=actor, obj=eps_node, permission=Permission.edit)
    source = read_xer_project(data, proj=proj)
    return _import(session, actor=actor, eps_node=eps_node, source=source, file_format="xer", code=code, name=name,
                   warnings=warnings)


def read_xer_project(data: bytes, *, proj: str | None = None) -> ExchangeProject:
    """One project of an XER file as the neutral project, checked; Invalid naming the fault otherwise."""
    try:
        xer = read_xer(bytes(data))
        projects = project_ids(xer)
        if not projects:
            raise Invalid("the XER file holds no project (table PROJECT is empty or missing)",
                          errors={"file": ["no PROJECT rows"]})
        chosen = _choose(projects, proj)
        loaded = load_project(xer, chosen)
    except XerError as exc:
        raise Invalid("XER file: {problem}", problem=str(exc), errors={"file": [str(exc)]}) from None
    except SchedulingError as exc:
        raise Invalid("XER file: {problem}", problem=str(exc), errors={"file": [str(exc)]}) from None
    source = _checked_links(_xer_exchange(xer, loaded, chosen), "XER file: TASKPRED")
    missing = [activity.code for activity in source.activities
               if activity.calendar_id is not None and activity.calendar_id not in source.calendars]
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise Invalid("XER file: activities {codes} name a calendar that is not in the file, and the project's "
                      "default calendar (PROJECT.clndr_id) is not in it either",
                      codes=shown, errors={"file": ["calendar missing"]})
    return source


def import_mspdi(session: Session, *, actor: User, data: bytes, eps_node: EpsNode, code: str | None = None,
                 name: str | None = None, warnings: list[str] | None = None) -> Project:
    """Create a project under ``eps_node`` from an MS Project XML file (edit rights there), scheduled, and return
    it; what the file held that crmpm cannot represent is appended to ``warnings`` when a list is given."""
    authorize(session, user=actor, obj=eps_node, permission=Permission.edit)
    source = read_mspdi_project(data)
    return _import(session, actor=actor, eps_node=eps_node, source=source, file_format="mspdi", code=code, name=name,
                   warnings=warnings)


def _import(session: Session, *, actor: User, eps_node: EpsNode, source: ExchangeProject, file_format: str,
            code: str | None, name: str | None, warnings: list[str] | None) -> Project:
    """Store a read file's project; its warnings go on the audit record and, when a list is given, to ``warnings``."""
    project = _store_project(session, actor=actor, eps_node=eps_node, source=source, code=code, name=name)
    # What the file held that crmpm cannot represent stays on record with the project.
    audit.record(session, actor=actor, action="import", entity=project,
                 after={"format": file_format, "activities": len(source.activities),
                        "relationships": len(source.relationships), "left_out": source.warnings})
    if warnings is not None:
        warnings.extend(source.warnings)
    return project


def read_mspdi_project(data: bytes) -> ExchangeProject:
    """An MS Project XML file as the neutral project, checked; Invalid naming the fault otherwise."""
    try:
        source = read_mspdi(bytes(data))
    except MspdiError as exc:
        raise Invalid("MSPDI file: {problem}", problem=str(exc), errors={"file": [str(exc)]}) from None
    return _checked_links(source, "MSPDI file: PredecessorLink")


def _checked_links(source: ExchangeProject, where: str) -> ExchangeProject:
    """``source``, once no two of its links join the same activities with the same type (two links of
    different types between one pair, an FS and an FF say, are P6's and kept); Invalid naming the codes."""
    codes = {activity.id: activity.code for activity in source.activities}
    seen = set()
    for link in source.relationships:
        kind = link.type.value if hasattr(link.type, "value") else str(link.type)
        key = (link.predecessor, link.successor, kind)
        if key in seen:
            predecessor, successor = codes.get(link.predecessor, "?"), codes.get(link.successor, "?")
            raise Invalid("{where} links {predecessor} → {successor} twice as {type}", where=where,
                          predecessor=predecessor, successor=successor, type=kind,
                          errors={"file": [f"duplicate {kind} relationship {predecessor} → {successor}"]})
        seen.add(key)
    return source


def replace_plan(session: Session, *, actor: User, project: Project, source: ExchangeProject) -> Project:
    """Replace ``project``'s plan (its calendars, WBS, activities, relationships, scheduling settings) with
    the file's, then schedule it (edit rights). The project itself, its grants, budget and deal stay.

    Links between this project and others go with the old activities. The file is read and checked
    before this is called, and a refusal (a loop, a bad calendar) rolls back with the caller's
    transaction, so the old plan is never half replaced.
    """
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    before = {"activities": session.scalar(select(func.count()).select_from(Activity)
                                           .where(Activity.project_id == project.id))}
    activity_ids = select(Activity.id).where(Activity.project_id == project.id)
    session.execute(delete(Relationship).where(Relationship.predecessor_id.in_(activity_ids)))
    session.execute(delete(Relationship).where(Relationship.successor_id.in_(activity_ids)))
    session.execute(delete(Activity).where(Activity.project_id == project.id))
    plan = services.get_plan(session, project=project)
    plan.default_calendar_id = None
    plan.scheduled_at = plan.early_finish = plan.late_finish = None
    session.flush()
    # Children before parents: a WBS element refers to its parent.
    elements = services.list_elements(session, project=project)
    for element in reversed(elements):
        session.delete(element)
        session.flush()
    for calendar in session.scalars(select(Calendar).where(Calendar.project_id == project.id)):
        session.delete(calendar)
    session.flush()
    session.expire_all()
    _store_plan(session, actor=actor, project=project, source=source)
    audit.record(session, actor=actor, action="replace_plan", entity=project, before=before,
                 after={"activities": len(source.activities), "relationships": len(source.relationships),
                        "left_out": source.warnings})
    return project


def _xer_exchange(xer, loaded, chosen: str) -> ExchangeProject:
    """One XER project as the neutral project, checked (WBS loops, duplicate links) before anything is written."""
    wbs_rows = [r for r in xer.rows("PROJWBS") if r.get("proj_id") == chosen]
    project_node = next((r for r in wbs_rows if r.get("proj_node_flag") == "Y"), None)
    elements = _xer_wbs(wbs_rows, project_node)
    known = {element.id for element in elements}
    activities = []
    for model in loaded.activities:
        row = loaded.task_rows.get(model.id, {})
        costs = loaded.costs.get(model.id, {})
        activities.append(ExchangeActivity(
            id=model.id, code=model.code, name=row.get("task_name") or model.code,
            wbs_id=model.wbs_id if model.wbs_id in known else None, type=model.type,
            original_duration_hours=model.original_duration_hours,
            remaining_duration_hours=model.remaining_duration_hours, calendar_id=model.calendar_id,
            constraint=model.constraint, constraint_date=model.constraint_date,
            secondary_constraint=model.secondary_constraint,
            secondary_constraint_date=model.secondary_constraint_date, actual_start=model.actual_start,
            actual_finish=model.actual_finish, expected_finish=model.expected_finish,
            percent_complete=model.percent_complete, budgeted_cost=_money(costs.get("budget")),
            actual_cost=_money(costs.get("actual"))))
    options = loaded.options
    plan = ExchangePlan(
        data_date=options.data_date, planned_start=options.project_start, must_finish_by=options.must_finish_by,
        default_calendar_id=options.default_calendar_id, progress_mode=options.progress,
        lag_calendar=options.lag_calendar, float_type=options.float_type, critical_definition=options.critical,
        critical_float_hours=options.critical_float_hours, open_ended_critical=options.open_ended_critical,
        use_expected_finish=options.use_expected_finish)
    return ExchangeProject(code=loaded.code, name=(project_node or {}).get("wbs_name") or loaded.code, plan=plan,
                           calendars=dict(loaded.calendars), wbs=elements, activities=activities,
                           relationships=list(loaded.relationships), warnings=list(loaded.warnings))


def _choose(projects: list[tuple[str, str]], wanted: str | None) -> str:
    if wanted is None:
        return projects[0][0]
    for proj_id, code in projects:
        if wanted in (proj_id, code):
            return proj_id
    raise Invalid("the XER file has no project {wanted!r}; it has {codes}",
                  wanted=wanted, codes=", ".join(code for _i, code in projects),
                  errors={"project": ["not in the file"]})


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


def _store_project(session: Session, *, actor: User, eps_node: EpsNode, source: ExchangeProject,
                   code: str | None, name: str | None) -> Project:
    """Write a checked neutral project as a new crmpm project and schedule it, in the caller's transaction."""
    project = eps_services.create_project(session, actor=actor, code=(code or source.code)[:40],
                                          name=(name or source.name)[:200], eps_node=eps_node)
    _store_plan(session, actor=actor, project=project, source=source)
    return project


def _store_plan(session: Session, *, actor: User, project: Project, source: ExchangeProject) -> None:
    """Write a checked neutral project's plan into an empty ``project`` and schedule it."""
    calendar_ids = {}
    for key, calendar in source.calendars.items():
        stored = Calendar(project_id=project.id, name=calendar.name or f"Calendar {key}",
                          hours_per_day=calendar.hours_per_day, external_id=str(key)[:60],
                          week=[[list(p) for p in day] for day in calendar.week])
        stored.exceptions = [CalendarException(day=day, periods=[list(p) for p in periods])
                             for day, periods in sorted(calendar.exceptions.items())]
        session.add(stored)
        session.flush()
        calendar_ids[key] = stored.id

    plan = source.plan
    changes = {}
    if plan.time_zone:
        changes["time_zone"] = plan.time_zone
    services.update_plan(
        session, actor=actor, project=project, data_date=plan.data_date, planned_start=plan.planned_start,
        must_finish_by=plan.must_finish_by, default_calendar_id=calendar_ids.get(plan.default_calendar_id),
        progress_mode=plan.progress_mode.value, lag_calendar=plan.lag_calendar.value,
        float_type=plan.float_type.value, critical_definition=plan.critical_definition.value,
        critical_float_hours=plan.critical_float_hours, open_ended_critical=plan.open_ended_critical,
        use_expected_finish=plan.use_expected_finish, **changes)

    element_ids: dict[str, int] = {}
    used_codes: set[str] = set()
    for item in source.wbs:
        element_code = item.code[:60]
        if element_code in used_codes:
            # Codes of other tools are unique among siblings at most; crmpm codes are unique per project.
            element_code = f"{element_code}.{item.id}"[:60]
        used_codes.add(element_code)
        element = WbsElement(project_id=project.id, parent_id=element_ids.get(item.parent_id), code=element_code,
                             name=(item.name or element_code)[:300], seq=item.seq, external_id=str(item.id)[:60])
        session.add(element)
        session.flush()
        element_ids[item.id] = element.id

    # Thousands of rows: one multi-row INSERT per table rather than the unit of work's object by object.
    rows = [dict(
        project_id=project.id, code=item.code[:60], name=item.name[:300], type=item.type.value,
        wbs_element_id=element_ids.get(item.wbs_id), original_duration_hours=item.original_duration_hours,
        remaining_duration_hours=item.remaining_duration_hours, calendar_id=calendar_ids.get(item.calendar_id),
        constraint_type=item.constraint.value if item.constraint else None, constraint_date=item.constraint_date,
        secondary_constraint_type=item.secondary_constraint.value if item.secondary_constraint else None,
        secondary_constraint_date=item.secondary_constraint_date, actual_start=item.actual_start,
        actual_finish=item.actual_finish, expected_finish=item.expected_finish,
        percent_complete=item.percent_complete, budgeted_cost=item.budgeted_cost, actual_cost=item.actual_cost,
        external_id=str(item.id)[:60], notes=item.notes, critical=False, longest_path=False)
        for item in source.activities]
    activity_ids = {}
    if rows:
        stored = session.scalars(insert(Activity).returning(Activity.id, sort_by_parameter_order=True), rows).all()
        activity_ids = {item.id: stored_id for item, stored_id in zip(source.activities, stored)}
    links = [dict(predecessor_id=activity_ids[link.predecessor], successor_id=activity_ids[link.successor],
                  type=link.type.value if hasattr(link.type, "value") else str(link.type), lag_hours=link.lag_hours)
             for link in source.relationships]
    if links:
        session.execute(insert(Relationship), links)
    services.roll_up_costs(session, project=project)
    # Scheduling checks the network (loops, calendars) before anything is stored; a refusal
    # here rolls the whole import back with the caller's transaction.
    scheduling_service.schedule_project(session, actor=actor, project=project)


def export_mspdi(session: Session, *, project: Project) -> bytes:
    """The project as an MS Project XML (MSPDI) file, UTF-8 (see :mod:`wbs.mspdi_export` to stream it)."""
    return b"".join(mspdi_chunks(session, project=project))


def exchange_of(session: Session, *, project: Project) -> ExchangeProject:
    """A stored project as the neutral project, with its last schedule (calendars: the used ones and the default)."""
    loaded = scheduling_service.load_input(session, project=project)
    plan = loaded.plan
    default_calendar = loaded.options.default_calendar_id
    used = {str(a.calendar_id) for a in loaded.activities if a.calendar_id} | {default_calendar}
    calendars = {key: calendar for key, calendar in loaded.calendars.items() if key in used}
    elements = session.scalars(select(WbsElement).where(WbsElement.project_id == project.id)
                               .order_by(WbsElement.seq, WbsElement.code)).all()
    activities = [exchange_activity(a) for a in loaded.activities]
    return ExchangeProject(
        code=project.code, name=project.name,
        plan=exchange_plan(plan, default_calendar_id=default_calendar),
        calendars=calendars,
        wbs=[ExchangeWbs(id=str(e.id), code=e.code, name=e.name, parent_id=str(e.parent_id) if e.parent_id else None,
                         seq=e.seq) for e in services.tree_order(elements)],
        activities=activities, relationships=list(loaded.relationships))

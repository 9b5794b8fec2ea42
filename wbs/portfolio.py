"""Read models over many projects and over one big plan: the project list's figures, WBS order, baselines.

Nothing here decides who may read what: project lists start from
:func:`eps.services.list_projects` (filtered in SQL by the user's grants), and
the per-project figures are computed for a page of projects at a time, in a
fixed number of queries whatever the page holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from crmpm.users.models import User
from eps import services as eps_services
from eps.models import EpsNode, Project, Role
from eps.permissions import principal_grant_paths, visible
from wbs import services
from wbs.services import as_datetime, tree_order
from wbs.models import Activity, ProjectPlan, Relationship, WbsElement

__all__ = ["STATUSES", "ProjectFigures", "list_projects", "figures", "project_figures", "eps_paths", "nodes_for_new_projects",
           "Baseline", "baseline", "WbsExtent", "wbs_extent", "wbs_ordered_page", "tree_order", "element_chain",
           "links_among"]

# Where a project's work stands, from its activities' actual dates.
STATUSES = ("no_plan", "not_started", "in_progress", "complete")


def _status_condition(status: str):
    def any_activity(*conditions):
        return exists().where(Activity.project_id == Project.id, *conditions)

    if status == "no_plan":
        return ~any_activity()
    if status == "not_started":
        return and_(any_activity(), ~any_activity(Activity.actual_start.is_not(None)))
    if status == "in_progress":
        return and_(any_activity(Activity.actual_start.is_not(None)), any_activity(Activity.actual_finish.is_(None)))
    if status == "complete":
        return and_(any_activity(), ~any_activity(Activity.actual_finish.is_(None)))
    raise ValueError(f"unknown status {status!r}")


def list_projects(session: Session, *, user: User, eps_node: EpsNode | None = None, search: str | None = None,
                  status: str | None = None) -> Select:
    """A select of the projects ``user`` may read, under ``eps_node``, matching ``search``, in ``status``."""
    query = eps_services.list_projects(session, user=user, eps_node=eps_node, search=search)
    if status:
        query = query.where(_status_condition(status))
    return query


@dataclass(frozen=True)
class ProjectFigures:
    """The schedule figures of one project shown in the project list."""

    activities: int = 0
    critical: int = 0
    percent_complete: float = 0.0  # weighted by original duration (plain average when all are milestones)
    start: datetime | None = None
    finish: datetime | None = None  # of the last schedule
    data_date: datetime | None = None
    planned_start: datetime | None = None
    scheduled_at: datetime | None = None
    started: int = 0
    finished: int = 0

    @property
    def status(self) -> str:
        if not self.activities:
            return "no_plan"
        if self.finished == self.activities:
            return "complete"
        return "in_progress" if self.started else "not_started"


def figures(session: Session, *, project_ids: list[int]) -> dict[int, ProjectFigures]:
    """The list figures of each of ``project_ids`` (two queries, however many projects)."""
    if not project_ids:
        return {}
    plans = {plan.project_id: plan for plan in session.scalars(
        select(ProjectPlan).where(ProjectPlan.project_id.in_(project_ids)))}
    rows = session.execute(
        select(Activity.project_id, func.count(), func.sum(case((Activity.critical.is_(True), 1), else_=0)),
               func.sum(Activity.percent_complete * Activity.original_duration_hours),
               func.sum(Activity.original_duration_hours), func.avg(Activity.percent_complete),
               func.min(func.coalesce(Activity.actual_start, Activity.early_start)),
               func.max(Activity.early_finish),
               func.count(Activity.actual_start), func.count(Activity.actual_finish))
        .where(Activity.project_id.in_(project_ids)).group_by(Activity.project_id)).all()
    by_project = {row[0]: row for row in rows}
    result = {}
    for project_id in project_ids:
        plan = plans.get(project_id)
        row = by_project.get(project_id)
        plan_values = dict(data_date=plan.data_date, planned_start=plan.planned_start,
                           scheduled_at=plan.scheduled_at) if plan else {}
        if row is None:
            result[project_id] = ProjectFigures(**plan_values)
            continue
        _id, count, critical, weighted, hours, average, start, finish, started, finished = row
        result[project_id] = ProjectFigures(
            activities=count, critical=int(critical or 0), percent_complete=_percent(weighted, hours, average),
            start=as_datetime(start), finish=as_datetime(finish), started=started, finished=finished,
            **plan_values)
    return result


def _percent(weighted, hours, average) -> float:
    """Percent complete weighted by original duration (the plain average when all are milestones), to 0.1."""
    return round(float(weighted) / float(hours) if hours else float(average or 0), 1)


def project_figures(plan: ProjectPlan, sums: services.PlanSums) -> ProjectFigures:
    """:func:`figures` of one project from its plan and the sums of all its activities (``services.plan_sums``)."""
    plan_values = dict(data_date=plan.data_date, planned_start=plan.planned_start, scheduled_at=plan.scheduled_at)
    if not sums.activities:
        return ProjectFigures(**plan_values)
    return ProjectFigures(
        activities=sums.activities, critical=sums.critical,
        percent_complete=_percent(sums.weighted_percent, sums.hours, sums.percent / sums.activities),
        start=sums.start, finish=sums.finish, started=sums.started, finished=sums.finished, **plan_values)


def eps_paths(session: Session, *, user: User, projects: list[Project]) -> dict[int, list[EpsNode]]:
    """The readable EPS nodes above each project, root first (one query for the whole page)."""
    wanted = {node_id for project in projects for node_id in project.ancestor_ids}
    if not wanted:
        return {project.id: [] for project in projects}
    nodes = {node.id: node for node in session.scalars(
        select(EpsNode).where(EpsNode.id.in_(wanted), visible(session, user=user, model=EpsNode)))}
    return {project.id: [nodes[i] for i in project.ancestor_ids if i in nodes] for project in projects}


def nodes_for_new_projects(session: Session, *, user: User, limit: int = 500) -> list[EpsNode]:
    """EPS nodes where ``user`` may create projects (edit rights), in tree order, at most ``limit``."""
    query = select(EpsNode).order_by(EpsNode.path).limit(limit)
    if not user.is_admin:
        paths = principal_grant_paths(session, user=user, roles=(Role.editor, Role.manager))
        node_paths = [path for path in paths if not path.rstrip("/").rsplit("/", 1)[-1].startswith("p")]
        query = query.where(visible(session, user=user, model=EpsNode, paths=node_paths))
    return list(session.scalars(query))


@dataclass(frozen=True)
class Baseline:
    """The baseline earned value is measured against: its span and how many activities it covers."""

    start: datetime | None
    finish: datetime | None
    activities: int


def baseline(session: Session, *, project: Project, sums: services.PlanSums | None = None) -> Baseline:
    """The project's baseline (set by its first schedule, or on request); ``sums``: of all its activities
    (``services.plan_sums``) when the caller has them."""
    if sums is not None:
        return Baseline(start=sums.baseline_start, finish=sums.baseline_finish, activities=sums.baselined)
    start, finish, count = session.execute(
        select(func.min(Activity.baseline_start), func.max(Activity.baseline_finish), func.count(Activity.baseline_start))
        .where(Activity.project_id == project.id)).one()
    return Baseline(start=as_datetime(start), finish=as_datetime(finish), activities=count)


def wbs_ordered(query, elements: list):
    """``query`` (of activities) in the order of ``wbs_ordered_page``: by WBS element in tree order (those outside
    the tree first), then early start, then code."""
    ranks = {element.id: rank for rank, element in enumerate(tree_order(elements))}
    first = [case(ranks, value=Activity.wbs_element_id, else_=-1)] if ranks else []
    return query.order_by(None).order_by(*first, *services.SCHEDULE_ORDER, Activity.id)


def wbs_ordered_page(session: Session, *, project: Project, offset: int, limit: int,
                     elements: list | None = None, counts: dict[int | None, int] | None = None
                     ) -> tuple[list[Activity], int]:
    """One window of the project's activities grouped by WBS (tree order, then early start, then code), and
    the total. Activities outside any element of the tree come first.

    Only the window is read: the activity count per element says which elements the window spans, the
    elements it covers whole are read in one query, and at most the first and the last element it cuts
    through are read with an offset each, whatever the size of the plan. ``elements``: the project's
    elements (``services.list_elements`` or ``services.element_outline``) and ``counts``: its activities per
    element (``wbs_extent``) when the caller has them already (read otherwise).
    """
    if counts is None:
        counts = dict(session.execute(
            select(Activity.wbs_element_id, func.count()).where(Activity.project_id == project.id)
            .group_by(Activity.wbs_element_id)).all())
    total = sum(counts.values())
    if elements is None:
        elements = services.element_outline(session, project=project)
    ranked = [element.id for element in tree_order(elements)]
    in_tree = set(ranked)
    outside = tuple(element_id for element_id in counts if element_id not in in_tree)
    groups: list[tuple] = ([outside] if outside else []) + [(element_id,) for element_id in ranked
                                                            if counts.get(element_id)]
    skip, need = max(offset, 0), max(limit, 0)
    whole: list[tuple] = []
    parts: list[tuple[tuple, int, int]] = []
    for group in groups:
        if need <= 0:
            break
        size = sum(counts[element_id] for element_id in group)
        if skip >= size:
            skip -= size
            continue
        take = min(size - skip, need)
        if skip == 0 and take == size:
            whole.append(group)
        else:
            parts.append((group, skip, take))
        need -= take
        skip = 0

    def in_group(group: tuple):
        known = [element_id for element_id in group if element_id is not None]
        condition = Activity.wbs_element_id.in_(known) if known else None
        if None in group:
            condition = Activity.wbs_element_id.is_(None) if condition is None else or_(
                condition, Activity.wbs_element_id.is_(None))
        return condition

    by_dates = services.SCHEDULE_ORDER
    base = select(Activity).where(Activity.project_id == project.id)
    found: dict[tuple, list[Activity]] = {}
    if whole:
        rows = session.scalars(base.where(or_(*(in_group(group) for group in whole))).order_by(*by_dates)).all()
        group_of = {element_id: group for group in whole for element_id in group}
        for activity in rows:
            found.setdefault(group_of[activity.wbs_element_id], []).append(activity)
    for group, start, take in parts:
        found[group] = list(session.scalars(base.where(in_group(group)).order_by(*by_dates).offset(start)
                                            .limit(take)))
    ordered = [group for group in groups if group in found]
    return [activity for group in ordered for activity in found[group]], total


def links_among(session: Session, *, activity_ids: list[int]) -> list[tuple[int, int, str, float]]:
    """(predecessor, successor, type, lag hours) of the relationships between two of ``activity_ids``."""
    if not activity_ids:
        return []
    return [tuple(row) for row in session.execute(
        select(Relationship.predecessor_id, Relationship.successor_id, Relationship.type, Relationship.lag_hours)
        .where(Relationship.predecessor_id.in_(activity_ids), Relationship.successor_id.in_(activity_ids))
        .order_by(Relationship.id))]


@dataclass(frozen=True)
class WbsExtent:
    """Where a plan's activities lie: how many hang under each WBS element (``None``: under none), each element's
    span over its own activities (actual dates, else early; elements without dates left out), and the plan's
    first start, last early finish and baseline span."""

    counts: dict[int | None, int]
    spans: dict[int, tuple[datetime | None, datetime | None]]
    start: datetime | None = None
    finish: datetime | None = None
    baseline_start: datetime | None = None
    baseline_finish: datetime | None = None

    @property
    def activities(self) -> int:
        return sum(self.counts.values())


def wbs_extent(session: Session, *, project: Project) -> WbsExtent:
    """The :class:`WbsExtent` of ``project``'s plan, in one pass over its activities (the Gantt chart's scale,
    summary bars and window need all of it; read apart, a plan of 100,000 activities was scanned four times)."""
    rows = session.execute(
        select(Activity.wbs_element_id, func.count(),
               func.min(func.coalesce(Activity.actual_start, Activity.early_start)),
               func.max(func.coalesce(Activity.actual_finish, Activity.early_finish)),
               func.max(Activity.early_finish), func.min(Activity.baseline_start), func.max(Activity.baseline_finish))
        .where(Activity.project_id == project.id).group_by(Activity.wbs_element_id)).all()
    counts, spans = {}, {}
    for element_id, count, first, last, _early_finish, _baseline_start, _baseline_finish in rows:
        counts[element_id] = count
        if element_id is not None and (first is not None or last is not None):
            spans[element_id] = (as_datetime(first), as_datetime(last))

    def extreme(pick, column: int):
        present = [as_datetime(row[column]) for row in rows if row[column] is not None]
        return pick(present) if present else None

    return WbsExtent(counts=counts, spans=spans, start=extreme(min, 2), finish=extreme(max, 4),
                     baseline_start=extreme(min, 5), baseline_finish=extreme(max, 6))


def element_chain(elements: list[WbsElement], only=None) -> dict[int, list[WbsElement]]:
    """Each element's ancestors and itself, root first; ``only``: just for these element ids (a page's)."""
    by_id = {e.id: e for e in elements}
    chains: dict[int, list[WbsElement]] = {}

    def chain(element_id: int) -> list[WbsElement]:
        found = chains.get(element_id)
        if found is None:
            # Walk up to the first element whose chain is known (or the root); a broken loop stops.
            path, current, seen = [], by_id.get(element_id), set()
            while current is not None and current.id not in chains and current.id not in seen:
                seen.add(current.id)
                path.append(current)
                current = by_id.get(current.parent_id)
            known = chains.get(current.id, []) if current is not None else []
            for element in reversed(path):
                known = chains[element.id] = [*known, element]
            found = chains.get(element_id, [])
        return found

    for element_id in (by_id if only is None else only):
        if element_id in by_id:
            chain(element_id)
    return chains

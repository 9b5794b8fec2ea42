"""What a client sees of a shared project: its milestones, percent complete, the summary level of its plan and
the deal's status. Read-only figures over the plan (``wbs``); the caller has checked the project is shared with
the client (``accounts.portal.access.get_shared_project_or_raise``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Deal
from eps.models import Project
from wbs.models import Activity, WbsElement
from wbs.portfolio import figures
from wbs.services import as_datetime

MILESTONE_TYPES = ("start_milestone", "finish_milestone")


@dataclass(frozen=True)
class Milestone:
    name: str
    when: datetime | None  # the actual date when done, else the planned one
    done: bool


@dataclass(frozen=True)
class SummaryRow:
    """A top-level WBS element (or the whole project): its span and percent complete."""

    name: str
    start: datetime | None
    finish: datetime | None
    percent: float


@dataclass(frozen=True)
class Progress:
    project: Project
    percent: float
    milestones: list[Milestone]
    summary: list[SummaryRow]
    deal: Deal | None

    @property
    def next_milestone(self) -> Milestone | None:
        return next((item for item in self.milestones if not item.done), None)


def _milestone(activity: Activity) -> Milestone:
    start_type = activity.type == "start_milestone"
    actual = activity.actual_start if start_type else activity.actual_finish
    planned = activity.early_start if start_type else activity.early_finish
    done = actual is not None or activity.percent_complete >= 100
    when = actual or planned or activity.constraint_date or (activity.baseline_start if start_type
                                                             else activity.baseline_finish)
    return Milestone(name=activity.name, when=as_datetime(when), done=done)


def milestones(session: Session, project_ids: list[int]) -> dict[int, list[Milestone]]:
    """The milestones of each project, by date (undated last)."""
    found: dict[int, list[Milestone]] = {project_id: [] for project_id in project_ids}
    if not project_ids:
        return found
    for activity in session.scalars(select(Activity).where(Activity.project_id.in_(project_ids),
                                                           Activity.type.in_(MILESTONE_TYPES))
                                    .order_by(Activity.id)):
        found[activity.project_id].append(_milestone(activity))
    for items in found.values():
        items.sort(key=lambda item: (item.when is None, item.when or datetime.min, item.name))
    return found


def deals_of(session: Session, project_ids: list[int]) -> dict[int, Deal]:
    """The deal of each project that has one."""
    if not project_ids:
        return {}
    return {deal.project_id: deal for deal in session.scalars(select(Deal).where(Deal.project_id.in_(project_ids)))}


def overview(session: Session, projects: list[Project]) -> list[Progress]:
    """The list figures of ``projects`` (percent complete, milestones, deal), in their order; no summary rows."""
    ids = [project.id for project in projects]
    percents, marks, deals = figures(session, project_ids=ids), milestones(session, ids), deals_of(session, ids)
    return [Progress(project=project, percent=percents[project.id].percent_complete, milestones=marks[project.id],
                     summary=[], deal=deals.get(project.id)) for project in projects]


def _span(activity: Activity) -> tuple[datetime | None, datetime | None]:
    start = as_datetime(activity.actual_start or activity.early_start or activity.baseline_start)
    finish = as_datetime(activity.actual_finish or activity.early_finish or activity.baseline_finish)
    return start, finish or start


def _row(name: str, activities: list[Activity]) -> SummaryRow:
    starts = [start for start, _ in map(_span, activities) if start is not None]
    finishes = [finish for _, finish in map(_span, activities) if finish is not None]
    hours = sum(item.original_duration_hours for item in activities)
    if hours:
        percent = sum(item.percent_complete * item.original_duration_hours for item in activities) / hours
    else:
        percent = sum(item.percent_complete for item in activities) / len(activities) if activities else 0.0
    return SummaryRow(name=name, start=min(starts, default=None), finish=max(finishes, default=None),
                      percent=round(percent, 1))


def progress(session: Session, project: Project) -> Progress:
    """Everything the portal's project page shows of ``project``'s plan."""
    base = overview(session, [project])[0]
    elements = list(session.scalars(select(WbsElement).where(WbsElement.project_id == project.id)
                                    .order_by(WbsElement.seq, WbsElement.id)))
    parents = {element.id: element.parent_id for element in elements}

    def top(element_id: int | None) -> int | None:
        seen = 0
        while element_id is not None and parents.get(element_id) is not None and seen < len(parents):
            element_id, seen = parents[element_id], seen + 1
        return element_id

    activities = list(session.scalars(select(Activity).where(Activity.project_id == project.id)))
    by_top: dict[int | None, list[Activity]] = {}
    for activity in activities:
        by_top.setdefault(top(activity.wbs_element_id), []).append(activity)
    summary = [_row(project.name, activities)] if activities else []
    summary += [_row(element.name, by_top[element.id]) for element in elements
                if element.parent_id is None and by_top.get(element.id)]
    return Progress(project=project, percent=base.percent, milestones=base.milestones, summary=summary,
                    deal=base.deal)

"""How a project's plan differs from one of its baselines, activity by activity, as P6's variance columns.

Per activity: the baseline's start, finish, planned duration and budgeted cost beside the current ones
(start and finish: actual where the activity has them, else early, as a baseline takes them), and

- start and finish variance: the baseline's date minus the current one, in working hours of the activity's
  calendar (positive: the plan is ahead of the baseline; P6's "Variance - BL Start/Finish Date");
- duration variance: the baseline's planned duration minus the current planned duration (hours);
- cost variance: the baseline's budgeted cost minus the current budgeted cost.

An activity the baseline does not hold (added after it was taken) has no baseline values and no variance.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from eps.models import Project
from wbs import services
from wbs.models import Activity, Baseline, BaselineActivity
from wbs.scheduling.calendars import WorkTime
from wbs.scheduling.service import calendar_of, project_calendars

__all__ = ["variance_rows", "variance_select"]


def variance_select(baseline: Baseline) -> Select:
    """The project's activities in code order beside what ``baseline`` kept of each (outer join)."""
    kept = and_(BaselineActivity.baseline_id == baseline.id, BaselineActivity.activity_id == Activity.id)
    return (select(Activity, BaselineActivity)
            .outerjoin(BaselineActivity, kept)
            .where(Activity.project_id == baseline.project_id)
            .order_by(Activity.code, Activity.id))


def variance_rows(session: Session, *, project: Project, pairs) -> list[dict]:
    """One dict per (activity, what the baseline kept of it or None) of ``pairs`` (a page of
    ``variance_select``), with the current values and the variances (module doc)."""
    pairs = list(pairs)
    plan = services.get_plan(session, project=project)
    calendars = project_calendars(session, project=project) if pairs else {}
    clocks: dict[int, WorkTime] = {}
    rows = []
    for activity, kept in pairs:
        start = activity.actual_start or activity.early_start
        finish = activity.actual_finish or activity.early_finish
        row = {"activity_id": activity.id, "code": activity.code, "name": activity.name, "start": start,
               "finish": finish, "duration_hours": activity.original_duration_hours,
               "budgeted_cost": activity.budgeted_cost, "in_baseline": kept is not None,
               "baseline_start": None, "baseline_finish": None, "baseline_duration_hours": None,
               "baseline_cost": None, "start_variance_hours": None, "finish_variance_hours": None,
               "duration_variance_hours": None, "cost_variance": None}
        if kept is not None:
            calendar = calendar_of(activity, plan, calendars)
            clock = clocks.get(id(calendar))
            if clock is None:
                clock = clocks[id(calendar)] = WorkTime(calendar, around=start or kept.start)
            row.update(baseline_start=kept.start, baseline_finish=kept.finish,
                       baseline_duration_hours=kept.duration_hours, baseline_cost=kept.budgeted_cost,
                       start_variance_hours=_hours_between(clock, start, kept.start),
                       finish_variance_hours=_hours_between(clock, finish, kept.finish),
                       duration_variance_hours=round(kept.duration_hours - activity.original_duration_hours, 4),
                       cost_variance=Decimal(kept.budgeted_cost) - Decimal(activity.budgeted_cost))
        rows.append(row)
    return rows


def _hours_between(clock: WorkTime, current: datetime | None, kept: datetime | None) -> float | None:
    if current is None or kept is None:
        return None
    return round(clock.work_between(current, kept) / 60, 4)


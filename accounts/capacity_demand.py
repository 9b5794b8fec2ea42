"""Demand from the pipeline beside the booked work: open deals' planned templates, weighted by probability.

A deal's planned work is its WBS template (``Deal.template_project_id``): that project's assignments, their
budgeted units spread as bookings are (``wbs.resources.loads.plan_hours``), moved by whole days so that the
earliest starts on the deal's expected close, × the deal's effective probability (``Deal.effective_probability``
in SQL: ``accounts.models.effective_probability``). Only open deals with a template and an expected close count,
and only those the viewer may read (``accounts.permissions.deal_visible``). The hours are shown per resource and
per role (``demand_hours``) and never name the deal.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm.users.models import User
from eps.models import EpsNode
from wbs.resources import capacity as capacity_services
from wbs.resources.loads import PlanHours, plan_hours
from wbs.resources.models import ResourceRole

from accounts.models import Deal, PipelineStage, StageKind, effective_probability
from accounts.permissions import deal_visible

__all__ = ["capacity_with_demand", "demand_rows"]


def demand_rows(session: Session, *, user: User, first: date, end: date) -> list[PlanHours]:
    """(resource id, role id, chunk's first day, weighted hours) of the readable open deals' templates,
    for the chunks from ``first`` to before ``end``."""
    query = (select(Deal.template_project_id, Deal.expected_close, effective_probability(PipelineStage))
             .join(PipelineStage, PipelineStage.id == Deal.stage_id)
             .where(PipelineStage.kind == StageKind.open, Deal.template_project_id.is_not(None),
                    Deal.expected_close.is_not(None), Deal.expected_close < end))
    condition = deal_visible(session, user=user)
    if condition is not None:
        query = query.where(condition)
    plans = [(template_id, close, (probability or 0) / 100.0)
             for template_id, close, probability in session.execute(query)]
    return [row for row in plan_hours(session, plans=plans) if first <= row[2] < end]


def capacity_with_demand(session: Session, *, user: User, start: date, end: date, period: str,
                         eps_node: EpsNode | None = None, branch: EpsNode | None = None,
                         role: ResourceRole | None = None, with_roles: bool = False,
                         demand: bool = False) -> capacity_services.Capacity:
    """``wbs.resources.capacity.capacity``, with each row's ``demand_hours`` from the pipeline when ``demand``."""
    result = capacity_services.capacity(session, user=user, start=start, end=end, period=period, eps_node=eps_node,
                                        branch=branch, role=role, with_roles=with_roles)
    if not demand or not result.periods:
        return result
    first, last = result.periods[0], result.ends[-1]
    index = capacity_services.period_index(result.periods, result.period)
    by_resource: dict[int, list[float]] = {}
    by_role: dict[int, list[float]] = {}
    size = len(result.periods)
    for resource_id, role_id, day, hours in demand_rows(session, user=user, first=first, end=last):
        if resource_id is not None:
            by_resource.setdefault(resource_id, [0.0] * size)[index(day)] += hours
        if role_id is not None:
            by_role.setdefault(role_id, [0.0] * size)[index(day)] += hours
    for item in result.items:
        item.demand_hours = by_resource.get(item.id, [0.0] * size)
    for row in result.roles:
        row.demand_hours = by_role.get(row.id, [0.0] * size)
    return result

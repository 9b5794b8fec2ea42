"""What an assignment costs, and an activity's costs from its assignments: the one home of both rules.

* The price per unit of an assignment is, by its ``rate_source``, its own ``price_per_unit`` (override), the
  role's rate or the resource's rate in effect on a day (the last rate whose ``effective_from`` is on or before
  it; before the first rate, the first one), as P6 prices by its rate tables.
* A cost is units × price, rounded to cents (Decimal throughout; units are floats of hours, taken by their
  shortest decimal text, so 0.1 h stays 0.1 h).
* An activity with assignments costs what they cost: its budgeted and actual costs are their sums (P6 adds
  expenses, which crmpm does not keep). An activity without assignments keeps the costs entered on it; one
  whose last assignment is removed costs nothing (``clear_costs_of_unassigned``), its costs having been theirs.
  ``wbs.services.roll_up_costs`` then carries them up the WBS, the project and the EPS.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wbs.models import Activity
from wbs.resources.models import Assignment, ResourceRate, RoleRate

ZERO = Decimal("0.00")
_CENTS = Decimal("0.01")


def rate_on(rates: Sequence[ResourceRate | RoleRate], day: date | None) -> Decimal:
    """The price per unit in effect on ``day`` among ``rates`` (any order); zero when there are none."""
    if not rates:
        return ZERO
    ordered = sorted(rates, key=lambda r: r.effective_from)
    if day is None:
        return ordered[0].price_per_unit
    price = ordered[0].price_per_unit
    for rate in ordered:
        if rate.effective_from > day:
            break
        price = rate.price_per_unit
    return price


def max_units_on(default: float, rates: Sequence[ResourceRate | RoleRate], day: date | None) -> float:
    """The units per hour available on ``day``: the rate period's own limit where it sets one, else ``default``."""
    limit = default
    for rate in sorted(rates, key=lambda r: r.effective_from):
        if day is not None and rate.effective_from > day:
            break
        if rate.max_units_per_hour is not None:
            limit = rate.max_units_per_hour
    return limit


def price_of(assignment: Assignment, day: date | None = None) -> Decimal:
    """The price per unit of ``assignment`` on ``day`` (its start's day when not given)."""
    if day is None and assignment.start is not None:
        day = assignment.start.date()
    if assignment.rate_source == "override":
        return assignment.price_per_unit or ZERO
    if assignment.rate_source == "role" and assignment.role is not None:
        return rate_on(assignment.role.rates, day)
    if assignment.resource is not None:
        return rate_on(assignment.resource.rates, day)
    if assignment.role is not None:
        return rate_on(assignment.role.rates, day)
    return ZERO


def cost_of(units: float, price: Decimal) -> Decimal:
    """``units`` × ``price``, rounded half up to cents."""
    return (Decimal(repr(float(units))) * price).quantize(_CENTS, rounding=ROUND_HALF_UP)


def price_assignment(assignment: Assignment) -> None:
    """Set the assignment's budgeted, actual and remaining costs from its units and its price."""
    price = price_of(assignment)
    assignment.budgeted_cost = cost_of(assignment.budgeted_units, price)
    assignment.actual_cost = cost_of(assignment.actual_units, price)
    assignment.remaining_cost = cost_of(assignment.remaining_units, price)


def activity_costs_from_assignments(session: Session, activity_ids: Iterable[int]) -> set[int]:
    """Set each activity's budgeted and actual cost to its assignments' sums; the ids of the projects changed.

    Activities of ``activity_ids`` without assignments keep their own costs. The caller rolls the projects
    returned up the EPS (``wbs.services.roll_up_costs``).
    """
    ids = list(set(activity_ids))
    projects: set[int] = set()
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start:chunk_start + 500]
        sums = session.execute(
            select(Assignment.activity_id, func.sum(Assignment.budgeted_cost), func.sum(Assignment.actual_cost))
            .where(Assignment.activity_id.in_(chunk)).group_by(Assignment.activity_id)).all()
        for activity_id, budgeted, actual in sums:
            activity = session.get(Activity, activity_id)
            budgeted, actual = budgeted or ZERO, actual or ZERO
            if activity.budgeted_cost != budgeted or activity.actual_cost != actual:
                activity.budgeted_cost, activity.actual_cost = budgeted, actual
                projects.add(activity.project_id)
    session.flush()
    return projects


def clear_costs_of_unassigned(session: Session, activity_ids: Iterable[int]) -> set[int]:
    """After assignments were removed: each of ``activity_ids`` left without any costs nothing (its costs were
    its assignments'); the ids of the projects changed, for the caller to roll up."""
    ids = list(set(activity_ids))
    projects: set[int] = set()
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start:chunk_start + 500]
        assigned = set(session.scalars(select(Assignment.activity_id).where(Assignment.activity_id.in_(chunk))))
        for activity_id in set(chunk) - assigned:
            activity = session.get(Activity, activity_id)
            if activity is not None and (activity.budgeted_cost != ZERO or activity.actual_cost != ZERO):
                activity.budgeted_cost, activity.actual_cost = ZERO, ZERO
                projects.add(activity.project_id)
    session.flush()
    return projects

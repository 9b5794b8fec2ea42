"""Billing milestones of a project: amounts billed when a point of its plan is reached (milestone billing).

A milestone follows its project's rights: read with the project; created, changed or deleted with budget rights
on it. A milestone billed by an invoice (not a cancelled one) is not changed or deleted; cancelling or deleting
the invoice frees it (``accounts.billing.invoices``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm.audit import services as audit
from crmpm.errors import Conflict, Invalid, NotFound
from crmpm.users.models import User
from eps.models import Project
from eps.permissions import Permission, authorize
from wbs.models import Activity

from accounts.billing.models import BillingMilestone

__all__ = ["create", "delete", "get_milestone_or_raise", "list_", "update"]

MONEY_LIMIT = Decimal("1e13")
FIELDS = ("name", "amount", "planned_date", "activity_id")


def list_(session: Session, *, project: Project):
    """A select of the project's milestones by planned date (undated last), then id."""
    return (select(BillingMilestone).where(BillingMilestone.project_id == project.id)
            .order_by(BillingMilestone.planned_date.is_(None), BillingMilestone.planned_date, BillingMilestone.id))


def get_milestone_or_raise(session: Session, *, project: Project, milestone_id: int) -> BillingMilestone:
    """The project's milestone (the caller has read the project); NotFound otherwise."""
    milestone = session.get(BillingMilestone, milestone_id)
    if milestone is None or milestone.project_id != project.id:
        raise NotFound("billing milestone {milestone_id} not found", milestone_id=milestone_id)
    return milestone


def _clean(session: Session, project: Project, values: dict) -> dict:
    if "name" in values:
        name = (values["name"] or "").strip()
        if not name or len(name) > 500:
            raise Invalid("a milestone needs a name of 1 to 500 characters", errors={"name": ["1 to 500 characters"]})
        values["name"] = name
    if "amount" in values:
        amount = Decimal(values["amount"])
        if not amount.is_finite() or amount <= 0 or amount >= MONEY_LIMIT or amount != amount.quantize(Decimal("0.01")):
            raise Invalid("a milestone's amount must be positive, in kopecks", errors={"amount": ["positive amount"]})
    if values.get("planned_date") is not None and not date(1900, 1, 1) <= values["planned_date"] <= date(2999, 12, 31):
        raise Invalid("the planned date is out of range", errors={"planned_date": ["out of range"]})
    if values.get("activity_id") is not None:
        activity = session.get(Activity, values["activity_id"])
        if activity is None or activity.project_id != project.id:
            raise Invalid("activity {activity_id} is not in the project", activity_id=values["activity_id"],
                          errors={"activity_id": ["not in the project"]})
    return values


def create(session: Session, *, actor: User, project: Project, name: str, amount: Decimal,
           planned_date: date | None = None, activity_id: int | None = None) -> BillingMilestone:
    """A new milestone of the project (budget rights)."""
    authorize(session, user=actor, obj=project, permission=Permission.budget)
    values = _clean(session, project, {"name": name, "amount": amount, "planned_date": planned_date,
                                       "activity_id": activity_id})
    milestone = BillingMilestone(project_id=project.id, **values)
    session.add(milestone)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=milestone, after=milestone.audit_state())
    return milestone


def update(session: Session, *, actor: User, project: Project, milestone: BillingMilestone,
           **changes) -> BillingMilestone:
    """Change a milestone not yet billed (budget rights)."""
    authorize(session, user=actor, obj=project, permission=Permission.budget)
    if milestone.invoice_id is not None:
        raise Conflict("billing milestone {milestone_id} is billed: cancel its invoice first",
                       milestone_id=milestone.id)
    before = milestone.audit_state()
    for key, value in _clean(session, project, {k: v for k, v in changes.items() if k in FIELDS}).items():
        setattr(milestone, key, value)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=milestone, before=before, after=milestone.audit_state())
    return milestone


def delete(session: Session, *, actor: User, project: Project, milestone: BillingMilestone) -> None:
    """Delete a milestone not yet billed (budget rights)."""
    authorize(session, user=actor, obj=project, permission=Permission.budget)
    if milestone.invoice_id is not None:
        raise Conflict("billing milestone {milestone_id} is billed: cancel its invoice first",
                       milestone_id=milestone.id)
    audit.record(session, actor=actor, action="delete", entity=milestone, before=milestone.audit_state())
    session.delete(milestone)
    session.flush()

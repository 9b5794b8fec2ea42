"""Money billed and received per deal, project and EPS node, beside the actual cost: the one home of the rollup.

Definitions (amounts in the base currency):

* **billed**: the totals (with VAT) of the invoices issued, partly paid or paid; drafts and cancelled invoices
  are not billed. **billed_net**: the same without VAT (their subtotals).
* **received**: the payments matched to those invoices (their ``paid_amount``, kept by
  ``accounts.billing.settle``); payments not matched yet belong to no project.
* **outstanding**: what the issued and partly paid invoices still wait for (total − paid);
  **overdue**: the part of it whose due date has passed.
* **actual_cost**: the projects' actual cost (P6's "actual total cost", rolled up the EPS as in ``eps.budgets``).
* **margin**: billed without VAT − actual cost (Odoo's project profitability: revenues invoiced minus costs;
  VAT is the state's money, not revenue). **cash_margin**: received − actual cost, what the money in hand
  covers (received includes VAT as paid).

A node's figures sum its whole subtree (projects whose path starts with the node's). ``figures_of_many``
answers any number of nodes and projects in one statement (one SELECT per row, UNION ALL-ed), so a page of the
budget tree costs one query, not one per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from eps.models import EpsNode, Project

from accounts.billing.models import Invoice
from accounts.models import Deal

__all__ = ["BillingFigures", "figures", "figures_of_deal", "figures_of_many"]

ZERO = Decimal("0.00")
BILLED = ("issued", "partly_paid", "paid")
OPEN = ("issued", "partly_paid")
Costed = aliased(Project, name="costed")  # the projects whose actual cost is summed


@dataclass(frozen=True)
class BillingFigures:
    """What was billed and received for a deal, project or node, and what is left to receive."""

    billed: Decimal = ZERO
    billed_net: Decimal = ZERO
    received: Decimal = ZERO
    outstanding: Decimal = ZERO
    overdue: Decimal = ZERO
    actual_cost: Decimal = ZERO

    @property
    def margin(self) -> Decimal:
        """Billed without VAT less the actual cost."""
        return self.billed_net - self.actual_cost

    @property
    def cash_margin(self) -> Decimal:
        """Received less the actual cost."""
        return self.received - self.actual_cost


def _sums(today: date):
    billed = Invoice.status.in_(BILLED)
    open_ = Invoice.status.in_(OPEN)
    owed = Invoice.total - Invoice.paid_amount
    return (
        func.coalesce(func.sum(case((billed, Invoice.total), else_=ZERO)), ZERO),
        func.coalesce(func.sum(case((billed, Invoice.subtotal), else_=ZERO)), ZERO),
        func.coalesce(func.sum(case((billed, Invoice.paid_amount), else_=ZERO)), ZERO),
        func.coalesce(func.sum(case((open_, owed), else_=ZERO)), ZERO),
        func.coalesce(func.sum(case((and_(open_, Invoice.due_date < today), owed), else_=ZERO)), ZERO),
    )


def _row(key: int, invoices_where, cost_where, today: date):
    cost = (select(func.coalesce(func.sum(Costed.actual_cost), ZERO)).where(cost_where)
            .correlate(None).scalar_subquery())
    return (select(literal(key).label("key"), *_sums(today), cost.label("actual_cost"))
            .select_from(Invoice).join(Project, Project.id == Invoice.project_id)
            .where(invoices_where, Invoice.status.in_(BILLED)))


def figures_of_many(session: Session, objs, *, today: date | None = None) -> dict[tuple[str, int], BillingFigures]:
    """The figures of many nodes, projects and deals at once, keyed by ``(kind, id)`` (``kind``: "node",
    "project" or "deal"), in one statement."""
    today = today or date.today()
    parts, keys = [], []
    for obj in objs:
        if isinstance(obj, EpsNode):
            prefix = f"{obj.path}%"
            parts.append(_row(len(keys), Project.path.like(prefix), Costed.path.like(prefix), today))
            keys.append(("node", obj.id))
        elif isinstance(obj, Project):
            parts.append(_row(len(keys), Invoice.project_id == obj.id, Costed.id == obj.id, today))
            keys.append(("project", obj.id))
        elif isinstance(obj, Deal):
            parts.append(_row(len(keys), Invoice.deal_id == obj.id, Costed.id == obj.project_id, today))
            keys.append(("deal", obj.id))
        else:
            raise TypeError(f"no billing figures for {type(obj).__name__}")
    result = {key: BillingFigures() for key in keys}
    if not parts:
        return result
    statement = parts[0] if len(parts) == 1 else union_all(*parts)
    for key, billed, billed_net, received, outstanding, overdue, cost in session.execute(statement):
        result[keys[key]] = BillingFigures(Decimal(billed), Decimal(billed_net), Decimal(received),
                                           Decimal(outstanding), Decimal(overdue), Decimal(cost))
    return result


def figures(session: Session, *, obj, today: date | None = None) -> BillingFigures:
    """The figures of one node, project or deal."""
    return next(iter(figures_of_many(session, [obj], today=today).values()))


def figures_of_deal(session: Session, *, deal: Deal, today: date | None = None) -> BillingFigures:
    """The figures of a deal: its invoices, and its project's actual cost."""
    return figures(session, obj=deal, today=today)

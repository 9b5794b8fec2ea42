"""Reading project expenses (no rules that change them: ``wbs.expenses.services``)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wbs.expenses.models import ProjectExpense

ZERO = Decimal("0.00")


def expenses_total(session: Session, *, project_id: int) -> Decimal:
    """The sum of the expenses booked to a project (what accounting adds to its activities' actual cost)."""
    total = session.scalar(select(func.coalesce(func.sum(ProjectExpense.amount), ZERO))
                           .where(ProjectExpense.project_id == project_id))
    return Decimal(total).quantize(Decimal("0.01"))

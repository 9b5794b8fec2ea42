"""Cost accounts and the actual costs booked to a project on them (from accounting).

A project's actual cost is its activities' actual costs plus its expenses (``wbs.services.roll_up_costs``),
so accounting's figures roll up the EPS like every other cost. ``row_key`` identifies an expense from a file
(its source's document and line, hashed): importing the same export again records nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crmpm.database import Base, utcnow

CODE_LENGTH = 60
NAME_LENGTH = 300


class CostAccount(Base):
    """An account of the chart of cost accounts (P6's ACCOUNT), in a tree."""

    __tablename__ = "cost_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("cost_accounts.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def audit_state(self) -> dict:
        return {"code": self.code, "name": self.name, "parent_id": self.parent_id}


class ProjectExpense(Base):
    """An actual cost booked to a project on a cost account on a day."""

    __tablename__ = "project_expenses"
    __table_args__ = (Index("ix_project_expenses_project", "project_id", "cost_account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    cost_account_id: Mapped[int] = mapped_column(ForeignKey("cost_accounts.id"), index=True)
    booked_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal]
    description: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(20), default="accounting")
    # The accounting run that brought it (``accounts.accounting.models.AccountingRun.id``), if any.
    run_id: Mapped[int | None] = mapped_column(Integer, index=True)
    row_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    cost_account: Mapped[CostAccount] = relationship()

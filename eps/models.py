"""EPS nodes, projects, grants, budget changes and spending plans.

The tree is stored as a materialized path: every node and project keeps
``path`` (its ancestors' ids and its own, zero-padded to ten digits:
``/0000000001/0000000005/`` for a node, ``/0000000001/p0000000007/`` for a project), so "all descendants of X" is one indexed prefix
query and "all ancestors of X" is a primary-key lookup of the ids in X's path.
``protect_path`` is the path of the nearest protected node at or above the row
(empty when there is none): grants placed above it do not reach the row.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crmpm.database import Base, utcnow
from crmpm.users.models import Team, User

CODE_LENGTH = 40
NAME_LENGTH = 200
PATH_LENGTH = 1000
# Fixed-width segments make the text order of paths the tree order, siblings in creation order
# (with bare ids "/1/10/" would sort before "/1/2/").
SEGMENT_WIDTH = 10


def node_segment(node_id: int) -> str:
    """The path segment of an EPS node."""
    return f"{node_id:0{SEGMENT_WIDTH}d}"


def project_segment(project_id: int) -> str:
    """The path segment of a project."""
    return f"p{project_id:0{SEGMENT_WIDTH}d}"


class Role(str, enum.Enum):
    """What a grant lets its holder do on a node or project and everything below it."""

    viewer = "viewer"
    editor = "editor"
    manager = "manager"
    finance = "finance"


class ChangeStatus(str, enum.Enum):
    """Where a budget change stands."""

    pending = "pending"
    approved = "approved"
    rejected = "rejected"


def _path_index(table: str, *, include: tuple[str, ...] = ()) -> Index:
    # varchar_pattern_ops lets PostgreSQL answer "path LIKE 'prefix%'" from the index
    # whatever the database collation; SQLite ignores the option. ``include`` adds columns
    # a subtree query reads, so PostgreSQL answers it from the index alone.
    return Index(f"ix_{table}_path", "path", postgresql_ops={"path": "varchar_pattern_ops"},
                 postgresql_include=list(include))


class BudgetMixin:
    """Budget columns shared by EPS nodes and projects (P6 terms)."""

    original_budget: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    # original + approved changes, kept in step by the budget service under row locks.
    current_budget: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))


class TreeMixin:
    """Where a row sits in the EPS: its materialized path and its protection boundary."""

    path: Mapped[str] = mapped_column(String(PATH_LENGTH))
    depth: Mapped[int] = mapped_column(Integer)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    protect_path: Mapped[str] = mapped_column(String(PATH_LENGTH), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids of the EPS nodes above this row, root first."""
        return [int(part) for part in self.path.strip("/").split("/")[:-1]]


class EpsNode(TreeMixin, BudgetMixin, Base):
    """A node of the Enterprise Project Structure."""

    __tablename__ = "eps_nodes"
    __table_args__ = (_path_index("eps_nodes"),)
    kind = "node"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("eps_nodes.id"), index=True)

    parent: Mapped[EpsNode | None] = relationship(remote_side=[id])

    def audit_state(self) -> dict:
        return {"code": self.code, "name": self.name, "parent_id": self.parent_id, "path": self.path,
                "protected": self.protected}


class Project(TreeMixin, BudgetMixin, Base):
    """A project: a leaf of the EPS (seen from the CRM side, a deal)."""

    __tablename__ = "projects"
    # Cost rollups sum these over a subtree (eps.budgets): included in the path index.
    __table_args__ = (_path_index("projects", include=("planned_cost", "actual_cost")),)
    kind = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    eps_node_id: Mapped[int] = mapped_column(ForeignKey("eps_nodes.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Costs roll up from the WBS into these, and from here up the EPS.
    planned_cost: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    actual_cost: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    # True once the CRM holds the project as a deal (set by ``accounts.deals.create``, filled by migration 0017;
    # a deal is never detached from its project). The search's projects kind leaves deals out through partial
    # trigram indexes on the projects where it is false, instead of reading every deal.
    is_deal: Mapped[bool] = mapped_column(default=False, server_default=false())

    eps_node: Mapped[EpsNode] = relationship()

    def audit_state(self) -> dict:
        return {"code": self.code, "name": self.name, "eps_node_id": self.eps_node_id, "path": self.path,
                "protected": self.protected, "description": self.description,
                "planned_cost": self.planned_cost, "actual_cost": self.actual_cost}


class Grant(Base):
    """A role given to a user or a team on a node or project, reaching everything below it."""

    __tablename__ = "grants"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (team_id IS NULL)", name="one_principal"),
        CheckConstraint("(eps_node_id IS NULL) <> (project_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    eps_node_id: Mapped[int | None] = mapped_column(ForeignKey("eps_nodes.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, name="grant_role", native_enum=False, length=20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    team: Mapped[Team | None] = relationship()
    eps_node: Mapped[EpsNode | None] = relationship()
    project: Mapped[Project | None] = relationship()

    @property
    def target(self) -> EpsNode | Project:
        return self.eps_node if self.eps_node_id is not None else self.project

    def audit_state(self) -> dict:
        return {"user_id": self.user_id, "team_id": self.team_id, "eps_node_id": self.eps_node_id,
                "project_id": self.project_id, "role": self.role.value}


class BudgetChange(Base):
    """An entry of a node's or project's budget change log."""

    __tablename__ = "budget_changes"
    __table_args__ = (CheckConstraint("(eps_node_id IS NULL) <> (project_id IS NULL)", name="one_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    eps_node_id: Mapped[int | None] = mapped_column(ForeignKey("eps_nodes.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ChangeStatus] = mapped_column(
        Enum(ChangeStatus, name="budget_change_status", native_enum=False, length=20), default=ChangeStatus.pending)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")

    eps_node: Mapped[EpsNode | None] = relationship()
    project: Mapped[Project | None] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def target(self) -> EpsNode | Project:
        return self.eps_node if self.eps_node_id is not None else self.project

    def audit_state(self) -> dict:
        return {"eps_node_id": self.eps_node_id, "project_id": self.project_id, "amount": self.amount,
                "reason": self.reason, "status": self.status.value, "decision_note": self.decision_note}


class SpendingPlanEntry(Base):
    """The amount a node or project plans to spend in one month."""

    __tablename__ = "spending_plan_entries"
    __table_args__ = (
        CheckConstraint("(eps_node_id IS NULL) <> (project_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    eps_node_id: Mapped[int | None] = mapped_column(ForeignKey("eps_nodes.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    # The first day of the month.
    month: Mapped[date]
    amount: Mapped[Decimal]

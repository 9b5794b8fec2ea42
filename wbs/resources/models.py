"""Resources, roles, rates and assignments (P6's RSRC, ROLE, RSRCRATE, ROLERATE, RSRCROLE and TASKRSRC).

Units are hours of work (P6's ``target_qty``); units per time are hours per hour of working time
(``1.0`` is one person full time, P6's 100 %). Money is Decimal. An assignment's dates are project-local
wall-clock times, like its activity's.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crmpm.database import Base, ProjectLocalDateTime, utcnow

CODE_LENGTH = 60
NAME_LENGTH = 300

# P6's resource types (RT_Labor, RT_Equip, RT_Mat).
RESOURCE_TYPES = ("labor", "nonlabor", "material")
# How an assignment's units spread over its dates; uniform is P6's default curve.
CURVES = ("uniform", "front_loaded", "back_loaded", "bell")
# Where an assignment's price per unit comes from (P6's rate source).
RATE_SOURCES = ("resource", "role", "override")
# P6's duration types: what stays fixed when units, units per time or the duration change.
DURATION_TYPES = ("fixed_duration_and_units_time", "fixed_duration_and_units", "fixed_units",
                  "fixed_units_time")


class ResourceRole(Base):
    """A role: a kind of person ("PLC programmer") with rates, assignable before names are known."""

    __tablename__ = "resource_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("resource_roles.id", ondelete="SET NULL"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    external_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rates: Mapped[list[RoleRate]] = relationship(
        back_populates="role", cascade="all, delete-orphan", order_by="RoleRate.effective_from")

    def audit_state(self) -> dict:
        return {"code": self.code, "name": self.name, "parent_id": self.parent_id,
                "rates": {r.effective_from.isoformat(): str(r.price_per_unit) for r in self.rates}}


class RoleRate(Base):
    """A role's price per hour from a date on (P6's ROLERATE)."""

    __tablename__ = "resource_role_rates"
    __table_args__ = (UniqueConstraint("role_id", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("resource_roles.id", ondelete="CASCADE"))
    effective_from: Mapped[date]
    price_per_unit: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    max_units_per_hour: Mapped[float | None] = mapped_column(Float)

    role: Mapped[ResourceRole] = relationship(back_populates="rates")


class Resource(Base):
    """A resource of the company's pool: labour, non-labour (equipment) or material.

    ``calendar_id`` is its working time (a calendar of kind ``resource`` holds its own exceptions:
    vacations, absences); ``max_units_per_hour`` its availability (P6's max units per time, also per
    rate period in ``ResourceRate``); ``user_id`` the crmpm user it is, who books its timesheets;
    ``eps_node_id`` the branch or department it belongs to (for filters; rights follow the projects).
    """

    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    type: Mapped[str] = mapped_column(String(20), default="labor")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id", ondelete="SET NULL"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("calendars.id", ondelete="SET NULL"))
    max_units_per_hour: Mapped[float] = mapped_column(Float, default=1.0)
    default_units_per_hour: Mapped[float] = mapped_column(Float, default=1.0)
    unit_of_measure: Mapped[str] = mapped_column(String(30), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    eps_node_id: Mapped[int | None] = mapped_column(ForeignKey("eps_nodes.id", ondelete="SET NULL"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    external_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rates: Mapped[list[ResourceRate]] = relationship(
        back_populates="resource", cascade="all, delete-orphan", order_by="ResourceRate.effective_from")
    role_links: Mapped[list[ResourceRoleLink]] = relationship(
        back_populates="resource", cascade="all, delete-orphan")

    AUDITED = ("code", "name", "type", "parent_id", "calendar_id", "max_units_per_hour",
               "default_units_per_hour", "unit_of_measure", "user_id", "eps_node_id", "active")

    def audit_state(self) -> dict:
        state = {key: getattr(self, key) for key in self.AUDITED}
        state["rates"] = {r.effective_from.isoformat(): str(r.price_per_unit) for r in self.rates}
        state["roles"] = sorted(link.role_id for link in self.role_links)
        return state


class ResourceRate(Base):
    """A resource's price per hour (per unit for a material) and availability from a date on (P6's RSRCRATE)."""

    __tablename__ = "resource_rates"
    __table_args__ = (UniqueConstraint("resource_id", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    effective_from: Mapped[date]
    price_per_unit: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    max_units_per_hour: Mapped[float | None] = mapped_column(Float)

    resource: Mapped[Resource] = relationship(back_populates="rates")


class ResourceRoleLink(Base):
    """A role a resource can fill, with its proficiency (P6's RSRCROLE; 1 is the best, 5 the least)."""

    __tablename__ = "resource_role_links"
    __table_args__ = (UniqueConstraint("resource_id", "role_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    role_id: Mapped[int] = mapped_column(ForeignKey("resource_roles.id", ondelete="CASCADE"), index=True)
    proficiency: Mapped[int] = mapped_column(Integer, default=3)

    resource: Mapped[Resource] = relationship(back_populates="role_links")
    role: Mapped[ResourceRole] = relationship()


class Assignment(Base):
    """A resource or a role assigned to an activity (P6's TASKRSRC).

    Units: budgeted (the plan), actual (booked, from approved timesheets or progress) and remaining;
    ``units_per_hour`` the rate of work. Costs likewise, Decimal; with ``rate_source`` ``override`` the
    assignment's own ``price_per_unit`` prices it. ``start``/``finish`` are its planned (or remaining)
    dates, ``actual_start``/``actual_finish`` its progress; ``curve`` how its units spread over the dates.
    ``project_id`` is the activity's, kept here for the portfolio queries (capacity) that read by project.
    """

    __tablename__ = "resource_assignments"
    __table_args__ = (
        Index("ix_resource_assignments_resource_id_start", "resource_id", "start"),
        Index("ix_resource_assignments_role_id_start", "role_id", "start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id", ondelete="RESTRICT"))
    role_id: Mapped[int | None] = mapped_column(ForeignKey("resource_roles.id", ondelete="RESTRICT"))
    budgeted_units: Mapped[float] = mapped_column(Float, default=0.0)
    actual_units: Mapped[float] = mapped_column(Float, default=0.0)
    remaining_units: Mapped[float] = mapped_column(Float, default=0.0)
    units_per_hour: Mapped[float] = mapped_column(Float, default=1.0)
    budgeted_cost: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    actual_cost: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    remaining_cost: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    rate_source: Mapped[str] = mapped_column(String(20), default="resource")
    price_per_unit: Mapped[Decimal | None]
    start: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    finish: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    actual_start: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    actual_finish: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    curve: Mapped[str] = mapped_column(String(20), default="uniform")
    external_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    resource: Mapped[Resource | None] = relationship()
    role: Mapped[ResourceRole | None] = relationship()

    AUDITED = ("activity_id", "resource_id", "role_id", "budgeted_units", "actual_units", "remaining_units",
               "units_per_hour", "budgeted_cost", "actual_cost", "remaining_cost", "rate_source",
               "price_per_unit", "start", "finish", "actual_start", "actual_finish", "curve")

    def audit_state(self) -> dict:
        return {key: getattr(self, key) for key in self.AUDITED}

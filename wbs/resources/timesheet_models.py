"""Timesheets: hours a resource's user books per activity and day, a week at a time, approved per project.

* One sheet per resource per week (``week_start`` is the Monday). Its ``status``: ``draft`` (being filled),
  ``submitted`` (waiting for at least one project's decision), ``approved`` (every project with hours on it
  approved), ``rejected`` (every project decided, at least one rejected: open to correction and submitting
  again; the approved projects' lines stay as they are).
* Lines: an activity, a day of the week, hours (0 < h ≤ 24, in quarter hours, at most 24 a day in total) and a
  note. ``project_id`` is the activity's, kept for the approval queue and the rights filters.
* Decisions: one per (sheet, project) with hours on it, ``pending``/``approved``/``rejected``, who decided
  and when, the reason of a rejection. Approving per project lets each PM answer for their own project only,
  and lets a sheet that spans projects of several PMs move on without waiting for the slowest.
* Locks: a period closed through a day, company-wide (``eps_node_id`` null) or for the projects below an EPS
  node. The lock in force for a scope is its latest row, so a later row may open a period again; a project's
  locked-through day is the latest of its scopes' (the company's and its ancestors').
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crmpm.database import Base, utcnow

SHEET_STATUSES = ("draft", "submitted", "approved", "rejected")
DECISION_STATUSES = ("pending", "approved", "rejected")
NOTE_LENGTH = 500
REASON_LENGTH = 2000


class Timesheet(Base):
    """A resource's week of booked hours."""

    __tablename__ = "timesheets"
    __table_args__ = (UniqueConstraint("resource_id", "week_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    week_start: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="draft")
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    lines: Mapped[list[TimesheetLine]] = relationship(
        back_populates="timesheet", cascade="all, delete-orphan",
        order_by="(TimesheetLine.activity_id, TimesheetLine.day)")
    decisions: Mapped[list[TimesheetDecision]] = relationship(
        back_populates="timesheet", cascade="all, delete-orphan", order_by="TimesheetDecision.project_id")

    def audit_state(self) -> dict:
        return {"resource_id": self.resource_id, "week_start": self.week_start, "status": self.status,
                "lines": [[line.activity_id, line.day.isoformat(), str(line.hours), line.note]
                          for line in self.lines]}


class TimesheetLine(Base):
    """Hours on one activity on one day."""

    __tablename__ = "timesheet_lines"
    __table_args__ = (UniqueConstraint("timesheet_id", "activity_id", "day"),
                      Index("ix_timesheet_lines_activity_id_day", "activity_id", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    timesheet_id: Mapped[int] = mapped_column(ForeignKey("timesheets.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    day: Mapped[date]
    # Exact quarter hours; the Money type keeps two decimal places exact on both backends.
    hours: Mapped[Decimal]
    note: Mapped[str] = mapped_column(String(NOTE_LENGTH), default="")

    timesheet: Mapped[Timesheet] = relationship(back_populates="lines")


class TimesheetDecision(Base):
    """A project's answer to a submitted sheet: its lines on the project approved or rejected."""

    __tablename__ = "timesheet_decisions"
    __table_args__ = (UniqueConstraint("timesheet_id", "project_id"),
                      Index("ix_timesheet_decisions_project_id_status", "project_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    timesheet_id: Mapped[int] = mapped_column(ForeignKey("timesheets.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")

    timesheet: Mapped[Timesheet] = relationship(back_populates="decisions")

    def audit_state(self) -> dict:
        return {"timesheet_id": self.timesheet_id, "project_id": self.project_id, "status": self.status,
                "decided_by_id": self.decided_by_id, "reason": self.reason}


class TimesheetLock(Base):
    """Timesheets closed through ``locked_through`` (inclusive), company-wide or below an EPS node."""

    __tablename__ = "timesheet_locks"

    id: Mapped[int] = mapped_column(primary_key=True)
    eps_node_id: Mapped[int | None] = mapped_column(ForeignKey("eps_nodes.id", ondelete="CASCADE"), index=True)
    locked_through: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def audit_state(self) -> dict:
        return {"eps_node_id": self.eps_node_id, "locked_through": self.locked_through}

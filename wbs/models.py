"""Project plans, calendars, WBS elements, activities and relationships.

Dates of activities are project-local wall-clock times (``ProjectLocalDateTime``),
as Primavera P6 keeps them: the project's plan names the time zone they mean.
Durations, lags and floats are in working hours.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crmpm.database import Base, ProjectLocalDateTime, utcnow

CODE_LENGTH = 60
NAME_LENGTH = 300


class ProjectPlan(Base):
    """Scheduling settings and the last schedule's outcome of one project (P6's project options)."""

    __tablename__ = "project_plans"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    data_date: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    planned_start: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    must_finish_by: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    default_calendar_id: Mapped[int | None] = mapped_column(ForeignKey("calendars.id", ondelete="SET NULL"))
    progress_mode: Mapped[str] = mapped_column(String(30), default="retained_logic")
    lag_calendar: Mapped[str] = mapped_column(String(30), default="predecessor")
    float_type: Mapped[str] = mapped_column(String(30), default="finish")
    critical_definition: Mapped[str] = mapped_column(String(30), default="total_float")
    critical_float_hours: Mapped[float] = mapped_column(Float, default=0.0)
    open_ended_critical: Mapped[bool] = mapped_column(Boolean, default=False)
    use_expected_finish: Mapped[bool] = mapped_column(Boolean, default=True)
    scheduled_at: Mapped[datetime | None]
    early_finish: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    late_finish: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)

    def audit_state(self) -> dict:
        return {key: getattr(self, key) for key in (
            "time_zone", "data_date", "planned_start", "must_finish_by", "default_calendar_id", "progress_mode",
            "lag_calendar", "float_type", "critical_definition", "critical_float_hours", "open_ended_critical")}

    @property
    def id(self) -> int:
        return self.project_id


class Calendar(Base):
    """A work calendar: a weekly pattern of periods and dated exceptions; global or a project's own."""

    __tablename__ = "calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    hours_per_day: Mapped[float] = mapped_column(Float, default=8.0)
    # Seven lists (Monday first) of [start, end] minutes after midnight.
    week: Mapped[list] = mapped_column(JSON)
    # "" for a global or project calendar, "resource" for a resource's own (its vacations and absences).
    kind: Mapped[str] = mapped_column(String(20), default="", server_default="")
    external_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    exceptions: Mapped[list[CalendarException]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="CalendarException.day")

    def audit_state(self) -> dict:
        return {"name": self.name, "project_id": self.project_id, "hours_per_day": self.hours_per_day,
                "week": self.week, "exceptions": {e.day.isoformat(): e.periods for e in self.exceptions}}


class CalendarException(Base):
    """A day that differs from the weekly pattern: no periods is a holiday."""

    __tablename__ = "calendar_exceptions"
    __table_args__ = (UniqueConstraint("calendar_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="CASCADE"))
    day: Mapped[date]
    periods: Mapped[list] = mapped_column(JSON)

    calendar: Mapped[Calendar] = relationship(back_populates="exceptions")


class WbsElement(Base):
    """An element of a project's work breakdown structure."""

    __tablename__ = "wbs_elements"
    __table_args__ = (UniqueConstraint("project_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("wbs_elements.id"), index=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    seq: Mapped[int] = mapped_column(Integer, default=0)
    external_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH))

    def audit_state(self) -> dict:
        return {"project_id": self.project_id, "parent_id": self.parent_id, "code": self.code, "name": self.name,
                "seq": self.seq}


class Activity(Base):
    """An activity: its plan, its progress and its last computed schedule."""

    __tablename__ = "activities"
    __table_args__ = (UniqueConstraint("project_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    wbs_element_id: Mapped[int | None] = mapped_column(ForeignKey("wbs_elements.id"), index=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    type: Mapped[str] = mapped_column(String(30), default="task")
    original_duration_hours: Mapped[float] = mapped_column(Float, default=0.0)
    remaining_duration_hours: Mapped[float | None] = mapped_column(Float)
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("calendars.id"))
    # The resource whose calendar a resource-dependent activity follows (P6's TASK.rsrc_id).
    primary_resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id", ondelete="SET NULL"))
    # What stays fixed when units or the duration change (``wbs.resources.models.DURATION_TYPES``).
    duration_type: Mapped[str] = mapped_column(
        String(40), default="fixed_duration_and_units", server_default="fixed_duration_and_units")
    constraint_type: Mapped[str | None] = mapped_column(String(30))
    constraint_date: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    secondary_constraint_type: Mapped[str | None] = mapped_column(String(30))
    secondary_constraint_date: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    actual_start: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    actual_finish: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    expected_finish: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    percent_complete: Mapped[float] = mapped_column(Float, default=0.0)
    budgeted_cost: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    actual_cost: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    external_id: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    notes: Mapped[str] = mapped_column(Text, default="")
    # The plan earned value is measured against (set from the first schedule, or on request).
    baseline_start: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    baseline_finish: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)

    # The last schedule (what P6 stores in TASK); empty until scheduled.
    early_start: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    early_finish: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    late_start: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    late_finish: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    remaining_early_start: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    remaining_early_finish: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    remaining_late_start: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    remaining_late_finish: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    total_float_hours: Mapped[float | None] = mapped_column(Float)
    free_float_hours: Mapped[float | None] = mapped_column(Float)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    longest_path: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last resource levelling's dates (``wbs.resources.levelling``); the CPM dates above stay as they are.
    levelled_start: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    levelled_finish: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)

    wbs_element: Mapped[WbsElement | None] = relationship()

    PLAN_FIELDS = ("code", "name", "type", "wbs_element_id", "original_duration_hours", "remaining_duration_hours",
                   "calendar_id", "primary_resource_id", "duration_type", "constraint_type", "constraint_date",
                   "secondary_constraint_type", "secondary_constraint_date", "actual_start", "actual_finish",
                   "expected_finish", "percent_complete", "budgeted_cost", "actual_cost", "notes")

    def audit_state(self) -> dict:
        return {key: getattr(self, key) for key in self.PLAN_FIELDS}


class Relationship(Base):
    """A logic link between two activities, possibly of different projects.

    Two activities may be linked more than once with different types (an FS and an FF link between
    the same pair, as P6 allows), never twice with the same type.
    """

    __tablename__ = "activity_relationships"
    __table_args__ = (UniqueConstraint("predecessor_id", "successor_id", "type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(2), default="FS")
    lag_hours: Mapped[float] = mapped_column(Float, default=0.0)

    predecessor: Mapped[Activity] = relationship(foreign_keys=[predecessor_id])
    successor: Mapped[Activity] = relationship(foreign_keys=[successor_id])

    def audit_state(self) -> dict:
        return {"predecessor_id": self.predecessor_id, "successor_id": self.successor_id, "type": self.type,
                "lag_hours": self.lag_hours}


# Which baseline a project compares against, as P6 names them; the primary is the one earned value measures.
BASELINE_ROLES = ("primary", "secondary", "tertiary")


class Baseline(Base):
    """A named snapshot of a project's plan: every activity's dates, duration and budgeted cost at one moment.

    A project keeps as many as it likes; at most one of them holds each role (``BASELINE_ROLES``). The
    primary's dates are also the activities' own ``baseline_start``/``baseline_finish``, which earned value
    and the Gantt read (``wbs.baselines`` keeps the two the same).
    """

    __tablename__ = "baselines"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_baselines_project_id_name"),
                      UniqueConstraint("project_id", "role", name="uq_baselines_project_id_role"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    role: Mapped[str | None] = mapped_column(String(10))
    data_date: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)  # the plan's, when it was taken
    activity_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def audit_state(self) -> dict:
        return {"project_id": self.project_id, "name": self.name, "role": self.role,
                "activity_count": self.activity_count}


class BaselineActivity(Base):
    """One activity as a baseline keeps it (its start and finish: actual where it had them, else early)."""

    __tablename__ = "baseline_activities"

    baseline_id: Mapped[int] = mapped_column(ForeignKey("baselines.id", ondelete="CASCADE"), primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)
    start: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    finish: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    duration_hours: Mapped[float] = mapped_column(Float, default=0.0)
    budgeted_cost: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))


Index("ix_activities_project_wbs", Activity.project_id, Activity.wbs_element_id)
# A plan's activities in schedule order (wbs.services.list_activities: early start, unscheduled last, then
# code), so that its first page is read from the index instead of sorting every activity of the plan.
Index("ix_activities_project_early_start", Activity.project_id, Activity.early_start, Activity.code)


# Activity codes (P6's ACTVTYPE, ACTVCODE, TASKACTV) and user-defined fields (UDFTYPE, UDFVALUE): wbs.codes.
CODE_SCOPES = ("global", "eps", "project")
UDF_SUBJECTS = ("activity", "wbs", "project")
UDF_DATA_TYPES = ("text", "number", "integer", "cost", "date", "indicator")
# P6's indicator colours (UDF_G0 .. UDF_G4).
UDF_INDICATORS = ("none", "red", "yellow", "green", "blue")


class ActivityCodeType(Base):
    """A kind of activity code ("Department", "Responsibility"): global, an EPS node's or a project's."""

    __tablename__ = "activity_code_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(10), default="project")
    eps_node_id: Mapped[int | None] = mapped_column(ForeignKey("eps_nodes.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    max_length: Mapped[int] = mapped_column(Integer, default=20)  # of a value's short name (P6's actv_short_len)
    seq: Mapped[int] = mapped_column(Integer, default=0)

    def audit_state(self) -> dict:
        return {"scope": self.scope, "eps_node_id": self.eps_node_id, "project_id": self.project_id,
                "name": self.name, "max_length": self.max_length, "seq": self.seq}


class ActivityCodeValue(Base):
    """One value of a code type; values form a tree (a parent value and its children)."""

    __tablename__ = "activity_code_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("activity_code_types.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("activity_code_values.id", ondelete="CASCADE"),
                                                  index=True)
    value: Mapped[str] = mapped_column(String(CODE_LENGTH))
    description: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    seq: Mapped[int] = mapped_column(Integer, default=0)
    color: Mapped[str] = mapped_column(String(6), default="")

    def audit_state(self) -> dict:
        return {"type_id": self.type_id, "parent_id": self.parent_id, "value": self.value,
                "description": self.description, "seq": self.seq, "color": self.color}


class ActivityCodeAssignment(Base):
    """An activity's value of one code type (at most one per type, as P6)."""

    __tablename__ = "activity_code_assignments"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("activity_code_types.id", ondelete="CASCADE"),
                                         primary_key=True)
    value_id: Mapped[int] = mapped_column(ForeignKey("activity_code_values.id", ondelete="CASCADE"), index=True)


class UdfType(Base):
    """A user-defined field of activities, WBS elements or projects, of one data type (global, as P6's)."""

    __tablename__ = "udf_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    data_type: Mapped[str] = mapped_column(String(10))
    # The type as P6 named it when read from a file (FT_START_DATE and FT_END_DATE are both "date" here).
    file_type: Mapped[str | None] = mapped_column(String(30))

    def audit_state(self) -> dict:
        return {"subject": self.subject, "name": self.name, "data_type": self.data_type}


class UdfValue(Base):
    """The value of one user-defined field for one activity, WBS element or project (in the column of its type)."""

    __tablename__ = "udf_values"
    __table_args__ = (Index("ix_udf_values_subject", "type_id", "project_id", "activity_id", "wbs_element_id",
                            unique=False),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("udf_types.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    wbs_element_id: Mapped[int | None] = mapped_column(ForeignKey("wbs_elements.id", ondelete="CASCADE"),
                                                       index=True)
    text: Mapped[str | None] = mapped_column(Text)
    number: Mapped[float | None] = mapped_column(Float)
    cost: Mapped[Decimal | None]
    date: Mapped[datetime | None] = mapped_column(ProjectLocalDateTime)
    indicator: Mapped[str | None] = mapped_column(String(10))

"""The neutral in-memory project that interchange formats are read into and written from.

A file reader (P6 XER, MS Project XML) turns its file into an :class:`ExchangeProject`;
:mod:`wbs.interchange` stores one as a crmpm project, and builds one from a stored
project for a writer. Nothing here knows about databases or file formats;
:func:`checked_links` is the one rule every read file's project must meet.

Keys (``id`` of activities, WBS elements and calendars) are the file's own
identifiers, as strings; relationships and ``wbs_id`` / ``parent_id`` /
``calendar_id`` refer to them. Dates are naive project-local times, durations,
lags and floats are hours, as everywhere in :mod:`wbs.scheduling`. Baselines
(:class:`ExchangeBaseline`) are named snapshots keyed by the same activity ids;
each format's ``baselines`` module says how its files keep them.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal

from crmpm.errors import Invalid
from wbs.scheduling.model import (
    ActivityResult,
    ActivityType,
    Calendar,
    ConstraintType,
    CriticalDefinition,
    FloatType,
    LagCalendar,
    ProgressMode,
    Relationship,
)

__all__ = ["ExchangeWbs", "ExchangeActivity", "ExchangePlan", "ExchangeBaseline", "ExchangeBaselineActivity",
           "ExchangeProject", "ExchangeCodeType", "ExchangeCodeValue", "ExchangeUdfType", "ExchangeUdfValue",
           "ExchangeCodes", "ExchangeRate", "ExchangeRole", "ExchangeResource", "ExchangeAssignment",
           "ExchangeResources", "checked_links"]

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class ExchangeWbs:
    """One WBS element; ``parent_id`` is another element's ``id`` or ``None`` at the top."""

    id: str
    code: str
    name: str
    parent_id: str | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class ExchangeActivity:
    """One activity: its plan, progress, costs and, when known, its last computed schedule."""

    id: str
    code: str
    name: str
    wbs_id: str | None = None
    type: ActivityType = ActivityType.TASK
    original_duration_hours: float = 0.0
    remaining_duration_hours: float | None = None
    calendar_id: str | None = None
    constraint: ConstraintType | None = None
    constraint_date: _dt.datetime | None = None
    secondary_constraint: ConstraintType | None = None
    secondary_constraint_date: _dt.datetime | None = None
    actual_start: _dt.datetime | None = None
    actual_finish: _dt.datetime | None = None
    expected_finish: _dt.datetime | None = None
    percent_complete: float = 0.0
    budgeted_cost: Decimal = ZERO
    actual_cost: Decimal = ZERO
    notes: str = ""
    result: ActivityResult | None = None
    # The resource (a key of ``ExchangeResources.resources``) whose calendar a resource-dependent activity follows.
    primary_resource_id: str | None = None


@dataclass(frozen=True, slots=True)
class ExchangePlan:
    """The project's scheduling settings (crmpm's ``ProjectPlan``), and its last outcome when known."""

    data_date: _dt.datetime | None = None
    planned_start: _dt.datetime | None = None
    must_finish_by: _dt.datetime | None = None
    default_calendar_id: str | None = None
    progress_mode: ProgressMode = ProgressMode.RETAINED_LOGIC
    lag_calendar: LagCalendar = LagCalendar.PREDECESSOR
    float_type: FloatType = FloatType.FINISH
    critical_definition: CriticalDefinition = CriticalDefinition.TOTAL_FLOAT
    critical_float_hours: float = 0.0
    open_ended_critical: bool = False
    use_expected_finish: bool = True
    time_zone: str | None = None
    early_finish: _dt.datetime | None = None
    late_finish: _dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class ExchangeCodeType:
    """An activity code type; ``scope`` is global, eps or project (``wbs.models.CODE_SCOPES``)."""

    id: str
    name: str
    scope: str = "project"
    max_length: int = 20
    seq: int = 0


@dataclass(frozen=True, slots=True)
class ExchangeCodeValue:
    """A value of a code type; ``parent_id`` is another value of the same type, or ``None`` at the top."""

    id: str
    type_id: str
    value: str
    description: str = ""
    parent_id: str | None = None
    seq: int = 0
    color: str = ""


@dataclass(frozen=True, slots=True)
class ExchangeUdfType:
    """A user-defined field: ``subject`` activity, wbs or project; ``data_type`` one of
    ``wbs.models.UDF_DATA_TYPES``; ``file_type`` the format's own name of the type, to write it back."""

    id: str
    subject: str
    name: str
    data_type: str
    file_type: str | None = None


@dataclass(frozen=True, slots=True)
class ExchangeUdfValue:
    """One UDF's value: ``subject_id`` an activity's or WBS element's ``id``, ``None`` for the project."""

    type_id: str
    subject_id: str | None
    value: object


@dataclass
class ExchangeCodes:
    """A project's activity codes (types, values, ``assignments`` as (activity id, type id, value id)) and UDFs."""

    types: list[ExchangeCodeType] = field(default_factory=list)
    values: list[ExchangeCodeValue] = field(default_factory=list)
    assignments: list[tuple[str, str, str]] = field(default_factory=list)
    udf_types: list[ExchangeUdfType] = field(default_factory=list)
    udf_values: list[ExchangeUdfValue] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.types or self.udf_types)


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """A price per unit (and, when set, the units per hour available) from a day on (P6's RSRCRATE, ROLERATE)."""

    effective_from: _dt.date
    price_per_unit: Decimal = ZERO
    max_units_per_hour: float | None = None


@dataclass(frozen=True, slots=True)
class ExchangeRole:
    """A role of the enterprise pool, matched by ``code`` on import; ``parent_id`` another role's ``id``."""

    id: str
    code: str
    name: str
    parent_id: str | None = None
    seq: int = 0
    rates: tuple[ExchangeRate, ...] = ()


@dataclass(frozen=True, slots=True)
class ExchangeResource:
    """A resource of the enterprise pool, matched by ``code`` on import.

    ``type``: ``wbs.resources.models.RESOURCE_TYPES``; ``calendar_id`` a key of ``ExchangeResources.calendars``;
    ``roles`` (role ``id``, proficiency 1-5) pairs.
    """

    id: str
    code: str
    name: str
    type: str = "labor"
    parent_id: str | None = None
    seq: int = 0
    calendar_id: str | None = None
    max_units_per_hour: float = 1.0
    default_units_per_hour: float = 1.0
    unit_of_measure: str = ""
    active: bool = True
    rates: tuple[ExchangeRate, ...] = ()
    roles: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ExchangeAssignment:
    """A resource or a role on an activity (P6's TASKRSRC): units in hours, costs as the file gives them."""

    id: str
    activity_id: str
    resource_id: str | None = None
    role_id: str | None = None
    budgeted_units: float = 0.0
    actual_units: float = 0.0
    remaining_units: float = 0.0
    units_per_hour: float = 1.0
    budgeted_cost: Decimal = ZERO
    actual_cost: Decimal = ZERO
    remaining_cost: Decimal = ZERO
    rate_source: str = "resource"
    price_per_unit: Decimal | None = None
    start: _dt.datetime | None = None
    finish: _dt.datetime | None = None
    actual_start: _dt.datetime | None = None
    actual_finish: _dt.datetime | None = None
    curve: str = "uniform"


@dataclass
class ExchangeResources:
    """The resources, roles and resource calendars a project's assignments and primary resources name.

    Keyed by the file's own ids, like the rest of the neutral project; the pool is enterprise-wide, so an
    import matches resources and roles by ``code`` and creates only those the pool lacks.
    """

    resources: list[ExchangeResource] = field(default_factory=list)
    roles: list[ExchangeRole] = field(default_factory=list)
    assignments: list[ExchangeAssignment] = field(default_factory=list)
    calendars: dict[str, Calendar] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.resources or self.roles or self.assignments)


@dataclass(frozen=True, slots=True)
class ExchangeBaselineActivity:
    """One activity as a baseline keeps it: its start and finish, planned duration (hours) and budgeted cost."""

    start: _dt.datetime | None = None
    finish: _dt.datetime | None = None
    duration_hours: float = 0.0
    budgeted_cost: Decimal = ZERO


@dataclass
class ExchangeBaseline:
    """A named baseline of the project; ``role`` is ``"primary"``, ``"secondary"``, ``"tertiary"`` or ``None``.

    ``activities`` is keyed by the ``id`` of the project's activities; an activity the baseline did not
    hold (added after it was taken) has no entry.
    """

    name: str
    role: str | None = None
    activities: dict[str, ExchangeBaselineActivity] = field(default_factory=dict)


@dataclass
class ExchangeProject:
    """A whole project as a file holds it.

    ``wbs`` lists parents before their children; ``relationships`` link two
    activities of the project, at most once per pair. Readers guarantee both.
    ``warnings`` name what the file held that crmpm cannot represent and left out.
    """

    code: str
    name: str
    plan: ExchangePlan
    calendars: dict[str, Calendar] = field(default_factory=dict)
    wbs: list[ExchangeWbs] = field(default_factory=list)
    activities: list[ExchangeActivity] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    codes: ExchangeCodes = field(default_factory=ExchangeCodes)
    baselines: list[ExchangeBaseline] = field(default_factory=list)
    resources: ExchangeResources = field(default_factory=ExchangeResources)


def checked_links(source: ExchangeProject, where: str) -> ExchangeProject:
    """``source``, once no two of its links join the same activities with the same type (two links of
    different types between one pair, an FS and an FF say, are P6's and kept); Invalid naming the codes."""
    codes = {activity.id: activity.code for activity in source.activities}
    seen = set()
    for link in source.relationships:
        kind = link.type.value if hasattr(link.type, "value") else str(link.type)
        key = (link.predecessor, link.successor, kind)
        if key in seen:
            predecessor, successor = codes.get(link.predecessor, "?"), codes.get(link.successor, "?")
            raise Invalid("{where} links {predecessor} → {successor} twice as {type}", where=where,
                          predecessor=predecessor, successor=successor, type=kind,
                          errors={"file": [f"duplicate {kind} relationship {predecessor} → {successor}"]})
        seen.add(key)
    return source

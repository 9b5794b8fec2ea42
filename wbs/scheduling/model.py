"""Plain data the CPM scheduler reads and writes.

Everything here is a value, never changed once made: slotted dataclasses and
string enums. Calendars and options are frozen; activities, relationships and
results, made by the hundred thousand, are not (their hash and equality are
still by value): a frozen dataclass sets each field through
``object.__setattr__``, and made that way 50,000 activities took 0.19 s against
0.05 s (``crmpm xer schedule`` spent a tenth of its time there). Change one with
:func:`dataclasses.replace`, as if it were frozen.  Nothing knows about databases, Flask or XER files; the XER
mapping (:mod:`wbs.interchange.xer.mapping`) and the WBS services build these objects.

Times
-----
Every ``datetime`` is *naive* and means wall-clock time in the project's own
time zone ("project-local time"), the way Primavera P6 stores dates.  The
scheduler never converts time zones, and treats a date's minutes exactly:
seconds are ignored.

Durations and lags are in hours (``float``); the scheduler works internally
in whole minutes and rounds to the nearest minute.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Mapping, Optional, Tuple

__all__ = [
    "ActivityType",
    "ConstraintType",
    "RelationshipType",
    "ProgressMode",
    "LagCalendar",
    "FloatType",
    "CriticalDefinition",
    "Period",
    "Calendar",
    "Activity",
    "Relationship",
    "ScheduleOptions",
    "ActivityResult",
    "ProjectSummary",
    "STANDARD_WEEK",
    "TWENTY_FOUR_HOUR_WEEK",
    "working_calendar_id",
]


class ActivityType(str, Enum):
    """Activity types, named after P6's (``TASK.task_type`` in brackets)."""

    TASK = "task"  # TT_Task: task dependent
    RESOURCE_DEPENDENT = "resource_dependent"  # TT_Rsrc
    START_MILESTONE = "start_milestone"  # TT_Mile
    FINISH_MILESTONE = "finish_milestone"  # TT_FinMile
    LEVEL_OF_EFFORT = "level_of_effort"  # TT_LOE
    WBS_SUMMARY = "wbs_summary"  # TT_WBS


def working_calendar_id(activity_type, calendar_id, primary_resource_calendar_id):
    """The calendar an activity is scheduled on: P6's rule, the one home for the XER file path and the database.

    A resource-dependent activity (``TT_Rsrc``) works when its primary resource does: on the resource's
    calendar when the resource has one; every other activity (and one whose primary resource has no
    calendar) on its own ``calendar_id``.

    >>> working_calendar_id(ActivityType.RESOURCE_DEPENDENT, "project", "crane")
    'crane'
    >>> working_calendar_id(ActivityType.TASK, "project", "crane")
    'project'
    >>> working_calendar_id("resource_dependent", "project", None)
    'project'
    """
    if primary_resource_calendar_id and activity_type in (ActivityType.RESOURCE_DEPENDENT, "resource_dependent"):
        return primary_resource_calendar_id
    return calendar_id


class ConstraintType(str, Enum):
    """Date constraints, named after P6's (``TASK.cstr_type`` in brackets)."""

    START_ON = "start_on"  # CS_MSO
    START_ON_OR_AFTER = "start_on_or_after"  # CS_MSOA
    START_ON_OR_BEFORE = "start_on_or_before"  # CS_MSOB
    FINISH_ON = "finish_on"  # CS_MEO
    FINISH_ON_OR_AFTER = "finish_on_or_after"  # CS_MEOA
    FINISH_ON_OR_BEFORE = "finish_on_or_before"  # CS_MEOB
    MANDATORY_START = "mandatory_start"  # CS_MANDSTART
    MANDATORY_FINISH = "mandatory_finish"  # CS_MANDFIN
    AS_LATE_AS_POSSIBLE = "as_late_as_possible"  # CS_ALAP


class RelationshipType(str, Enum):
    """Relationship types: finish-to-start, start-to-start, ..."""

    FS = "FS"
    SS = "SS"
    FF = "FF"
    SF = "SF"


class ProgressMode(str, Enum):
    """How started activities are scheduled against their predecessors.

    ``RETAINED_LOGIC``: the remaining work of a started activity still waits
    for unfinished predecessors, and logic passes through completed
    activities whose predecessors are unfinished.  ``PROGRESS_OVERRIDE``:
    started and completed activities ignore their predecessors; remaining
    work starts at the data date.  ``ACTUAL_DATES``: started activities as
    under retained logic; completed ones drive their successors by their
    actual dates only, even where those fall after the data date.
    """

    RETAINED_LOGIC = "retained_logic"
    PROGRESS_OVERRIDE = "progress_override"
    ACTUAL_DATES = "actual_dates"


class LagCalendar(str, Enum):
    """Calendar used to count relationship lag."""

    PREDECESSOR = "predecessor"
    SUCCESSOR = "successor"
    TWENTY_FOUR_HOUR = "24_hour"
    PROJECT_DEFAULT = "project_default"


class FloatType(str, Enum):
    """Which dates total float is computed from."""

    START = "start"  # late start - early start
    FINISH = "finish"  # late finish - early finish
    SMALLEST = "smallest"  # the smaller of the two


class CriticalDefinition(str, Enum):
    """What makes an activity critical."""

    TOTAL_FLOAT = "total_float"  # total float <= ScheduleOptions.critical_float_hours
    LONGEST_PATH = "longest_path"


Period = Tuple[int, int]
"""A working period inside one day, as minutes after midnight ``(start, end)``.

``end`` may be 1440 (midnight at the end of the day); ``start < end``.
"""

STANDARD_WEEK: Tuple[Tuple[Period, ...], ...] = tuple(
    ((8 * 60, 12 * 60), (13 * 60, 17 * 60)) if d < 5 else () for d in range(7)
)
"""Monday to Friday, 08:00-12:00 and 13:00-17:00."""

TWENTY_FOUR_HOUR_WEEK: Tuple[Tuple[Period, ...], ...] = tuple(((0, 1440),) for _ in range(7))
"""Every minute of every day is working time."""


@dataclass(frozen=True, slots=True)
class Calendar:
    """A work calendar.

    Attributes
    ----------
    id : str
        Key used by :attr:`Activity.calendar_id`.
    name : str
        Display name.
    week : tuple of 7 tuples of Period
        Working periods of each weekday, index 0 is Monday (``date.weekday()``).
        A day can hold several periods, e.g. a morning and an afternoon.
    exceptions : mapping of date to tuple of Period
        Days that differ from the weekly pattern: an empty tuple is a holiday,
        a non-empty tuple gives the day its own periods (which also makes a
        normally idle day a working one).
    hours_per_day : float
        Hours in a "day" when durations are shown in days; not used for
        arithmetic, which always follows the periods.
    """

    id: str
    name: str = ""
    week: Tuple[Tuple[Period, ...], ...] = STANDARD_WEEK
    exceptions: Mapping[_dt.date, Tuple[Period, ...]] = field(default_factory=dict)
    hours_per_day: float = 8.0

    @classmethod
    def twenty_four_hour(cls, id="24h", name="24 hour"):
        """Return a calendar in which all time is working time."""
        return cls(id=id, name=name, week=TWENTY_FOUR_HOUR_WEEK, hours_per_day=24.0)


@dataclass(slots=True, unsafe_hash=True)  # not frozen, for speed: see the module notes
class Activity:
    """One activity of a project, as input to :func:`~wbs.scheduling.cpm.schedule`.

    Attributes
    ----------
    id : str
        Unique key; relationships refer to it.
    code : str
        The activity code people see (P6 ``task_code``); used in error messages.
    wbs_id : str or None
        WBS element the activity hangs under.
    type : ActivityType
    original_duration_hours : float
        Planned (P6 "original") duration in hours of the activity's calendar.
    remaining_duration_hours : float
        Work left from the data date.  For a not-started activity P6 keeps it
        equal to the original duration unless someone changed it.
    calendar_id : str or None
        Key of the activity's calendar; ``None`` means the project default.
    constraint, constraint_date : ConstraintType or None, datetime or None
        Primary constraint.
    secondary_constraint, secondary_constraint_date :
        Secondary constraint (P6 allows only a few combinations; not checked).
    actual_start, actual_finish : datetime or None
        Progress.  An activity with ``actual_finish`` is complete, one with
        only ``actual_start`` is in progress.
    percent_complete : float
        0-100; informative (the remaining duration drives the dates).
    expected_finish : datetime or None
        P6 "expected finish": when :attr:`ScheduleOptions.use_expected_finish`
        is set, the remaining duration is stretched or shrunk to end here.
    external_early_start, external_late_finish : datetime or None
        Dates imposed by relationships to activities in other projects.
    resume_date : datetime or None
        For a suspended activity in progress: its remaining work starts no
        earlier than this (P6 ``resume_date``).
    """

    id: str
    code: str = ""
    wbs_id: Optional[str] = None
    type: ActivityType = ActivityType.TASK
    original_duration_hours: float = 0.0
    remaining_duration_hours: Optional[float] = None
    calendar_id: Optional[str] = None
    constraint: Optional[ConstraintType] = None
    constraint_date: Optional[_dt.datetime] = None
    secondary_constraint: Optional[ConstraintType] = None
    secondary_constraint_date: Optional[_dt.datetime] = None
    actual_start: Optional[_dt.datetime] = None
    actual_finish: Optional[_dt.datetime] = None
    percent_complete: float = 0.0
    expected_finish: Optional[_dt.datetime] = None
    external_early_start: Optional[_dt.datetime] = None
    external_late_finish: Optional[_dt.datetime] = None
    resume_date: Optional[_dt.datetime] = None

    @property
    def label(self):
        """The code if there is one, else the id (for messages)."""
        return self.code or self.id


@dataclass(slots=True, unsafe_hash=True)  # not frozen, for speed: see the module notes
class Relationship:
    """A logic link ``predecessor -> successor``.

    ``lag_hours`` may be negative (a lead).  It is counted on the calendar
    chosen by :attr:`ScheduleOptions.lag_calendar`.
    """

    predecessor: str
    successor: str
    type: RelationshipType = RelationshipType.FS
    lag_hours: float = 0.0


@dataclass(frozen=True, slots=True)
class ScheduleOptions:
    """Project-level scheduling settings (P6's project + SCHEDOPTIONS fields).

    Attributes
    ----------
    data_date : datetime
        Progress is reported up to here; remaining work starts no earlier.
    project_start : datetime or None
        Planned start; nothing is scheduled earlier.  Defaults to the data date.
    must_finish_by : datetime or None
        Late finish of open-ended activities; defaults to the latest early finish.
    default_calendar_id : str or None
        Calendar of activities without one, and of lags under
        :attr:`LagCalendar.PROJECT_DEFAULT`.
    progress : ProgressMode
    lag_calendar : LagCalendar
    float_type : FloatType
    critical : CriticalDefinition
    critical_float_hours : float
        Threshold for :attr:`CriticalDefinition.TOTAL_FLOAT`.
    open_ended_critical : bool
        P6 "make open-ended activities critical": an activity nothing waits
        for (no finish-to-start or finish-to-finish successor) gets its early
        finish as late finish instead of the project's, so it and the chain
        driving it have no float.
    use_expected_finish : bool
        Honour :attr:`Activity.expected_finish`.
    ss_lag_from_early_start : bool
        For start-to-start (and start-to-finish) links from a started
        activity: ``True`` (P6 "calculate start-to-start lag from early
        start") counts the lag not yet worked off since the actual start from
        the predecessor's remaining early start; ``False`` ("from actual
        start") counts the whole lag from the actual start.
    """

    data_date: _dt.datetime
    project_start: Optional[_dt.datetime] = None
    must_finish_by: Optional[_dt.datetime] = None
    default_calendar_id: Optional[str] = None
    progress: ProgressMode = ProgressMode.RETAINED_LOGIC
    lag_calendar: LagCalendar = LagCalendar.PREDECESSOR
    float_type: FloatType = FloatType.FINISH
    critical: CriticalDefinition = CriticalDefinition.TOTAL_FLOAT
    critical_float_hours: float = 0.0
    open_ended_critical: bool = False
    use_expected_finish: bool = True
    ss_lag_from_early_start: bool = True


@dataclass(slots=True, unsafe_hash=True)  # not frozen, for speed: see the module notes
class ActivityResult:
    """Computed dates of one activity.

    The four headline dates mean what P6 stores in ``TASK.early_start_date``,
    ``early_end_date``, ``late_start_date`` and ``late_end_date``:

    * not started: the CPM early and late dates;
    * in progress: the *remaining* dates (the start is where remaining work
      resumes, at or after the data date, not the actual start);
    * complete: early start = early finish = the data date, late start =
      late finish = the date successors would require it to finish by.

    ``remaining_*`` are P6's ``restart_date``, ``reend_date``,
    ``rem_late_start_date`` and ``rem_late_end_date``; ``None`` once complete.

    Floats are in hours of the activity's own calendar; ``None`` once complete.
    """

    early_start: _dt.datetime
    early_finish: _dt.datetime
    late_start: _dt.datetime
    late_finish: _dt.datetime
    remaining_early_start: Optional[_dt.datetime]
    remaining_early_finish: Optional[_dt.datetime]
    remaining_late_start: Optional[_dt.datetime]
    remaining_late_finish: Optional[_dt.datetime]
    total_float_hours: Optional[float]
    free_float_hours: Optional[float]
    critical: bool
    longest_path: bool


@dataclass(frozen=True, slots=True)
class ProjectSummary:
    """Project-level outcome of a schedule run."""

    data_date: _dt.datetime
    start: _dt.datetime
    early_finish: _dt.datetime
    late_finish: _dt.datetime

"""Pure CPM scheduling core of the WBS domain: model, calendars, scheduler.

No database and no Flask: everything here works on plain values.
"""

from wbs.scheduling.calendars import WorkTime
from wbs.scheduling.cpm import schedule, schedule_with_summary
from wbs.scheduling.errors import DependencyLoop, ScheduleInputError, SchedulingError
from wbs.scheduling.model import (
    Activity,
    ActivityResult,
    ActivityType,
    Calendar,
    ConstraintType,
    CriticalDefinition,
    FloatType,
    LagCalendar,
    ProgressMode,
    ProjectSummary,
    Relationship,
    RelationshipType,
    ScheduleOptions,
)

__all__ = [
    "Activity",
    "ActivityResult",
    "ActivityType",
    "Calendar",
    "ConstraintType",
    "CriticalDefinition",
    "DependencyLoop",
    "FloatType",
    "LagCalendar",
    "ProgressMode",
    "ProjectSummary",
    "Relationship",
    "RelationshipType",
    "ScheduleInputError",
    "ScheduleOptions",
    "SchedulingError",
    "WorkTime",
    "schedule",
    "schedule_with_summary",
]

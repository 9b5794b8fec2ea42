"""CPM scheduling of the WBS domain: model, calendars, scheduler, and its service.

The core is pure: no database and no Flask, everything works on plain
values.  :func:`schedule` (in :mod:`~wbs.scheduling.cpm`) chains the passes:

==========================  ================================================
``network``                 validate and index the input; topological order
``state``                   the one state of the passes (lists by activity)
``clocks``, ``calendars``   calendar arithmetic (work-time clock readings)
``constraints``             constraints, read once, applied by both passes
``forward`` / ``backward``  early / late dates
``spans``                   level of effort and WBS summary dates
``floats``                  floats, as late as possible, longest path,
                            critical
==========================  ================================================

:mod:`wbs.scheduling.service` is the one database-bound module: it loads a
stored project, runs the scheduler and stores the results (and earned
value).  It is not imported here, so importing the core needs no database.
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

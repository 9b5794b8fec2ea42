"""Microsoft Project XML (MSPDI) files to and from the neutral :class:`~wbs.interchange.model.ExchangeProject`.

Everything that knows MSPDI's element names lives in this folder:
:mod:`~wbs.interchange.mspdi.reader` (:func:`read_mspdi`, pure: bytes in, the neutral project out),
:mod:`~wbs.interchange.mspdi.writer` (:func:`write_mspdi` writes a file that :func:`read_mspdi` reads back
to the same project, and that Microsoft Project opens), :mod:`~wbs.interchange.mspdi.common` (the codes
and value formats both share), :mod:`~wbs.interchange.mspdi.project` (a file into and out of the database
through :mod:`wbs.interchange.store`) and :mod:`~wbs.interchange.mspdi.export` (a stored project streamed
as MSPDI).

The mapping
-----------
* ``Project``: ``StatusDate`` is the data date, ``StartDate`` the planned start,
  ``CalendarUID`` the default calendar, ``CriticalSlackLimit`` (days) the
  critical float, ``Title`` (else ``Name``) the project name.
* ``Calendars``: ``WeekDays/WeekDay`` (``DayType`` 1 = Sunday … 7 = Saturday)
  with ``WorkingTimes``; exceptions as ``Exceptions/Exception`` (Project 2007 and
  later: a ``TimePeriod`` of days, possibly recurring daily, weekly, monthly or
  yearly) or as ``WeekDay`` with ``DayType`` 0 (Project 2003, which Project still
  writes alongside). Derived calendars inherit missing days and the
  exceptions of their ``BaseCalendarUID``; those no task uses (resources'
  calendars) are not the project's: they come in with their resources.
* ``Tasks``: the task with UID 0 (outline level 0) is the project summary.
  The outline (``OutlineLevel`` in file order, else ``OutlineNumber``) gives the
  hierarchy: summary tasks (``Summary`` = 1, or any task with children) become
  WBS elements, coded by their ``WBS`` field; the other tasks become
  activities, coded by their ``WBS`` field too (else ``OutlineNumber``), under
  their nearest summary task. ``Milestone`` = 1 with no duration is a finish
  milestone; inactive tasks (``Active`` = 0) are left out. Durations are
  ``PT#H#M#S`` in working hours; ``ConstraintType`` 0 as soon as possible, 1 as
  late as possible, 2 must start on, 3 must finish on (mandatory when the
  project honours constraints, as Project does by default), 4 start no earlier
  than, 5 start no later than, 6 finish no earlier than, 7 finish no later
  than; ``Deadline`` is a finish-on-or-before constraint; ``Cost`` /
  ``ActualCost`` are in hundredths of the currency unit, as Project writes them.
  Links to or from summary tasks and to other projects are left out, noted in
  :attr:`ExchangeProject.warnings` (crmpm links activities only).
* ``Resources`` and ``Assignments``: :mod:`~wbs.interchange.mspdi.resources` (resources with their rate
  tables and calendars, generic resources as roles, assignments with their work, costs and dates).
* ``PredecessorLink``: ``Type`` 0 = FF, 1 = FS, 2 = SF, 3 = SS; ``LinkLag`` in
  tenths of a minute (or in percent of the predecessor's duration when
  ``LagFormat`` is a percentage).

What MSPDI cannot say — P6 activity types (start milestone, level of effort,
resource dependent), P6's two kinds of "start on" / "finish on" constraints,
secondary constraints, expected finish, fractional percent complete and the
project's scheduling options — travels in one task text field aliased
``crmpm`` (``Text1`` in files written here; found by its alias when read) as
``key=value; key=value``. Project keeps custom field values, so a file opened
and saved in Project still round-trips; files from elsewhere need none of it.

Not carried
-----------
Resources and assignments (costs are read from the tasks' totals), baselines,
work weeks (calendar patterns for date ranges; the default week is used),
elapsed durations and lags (read as working hours), manual scheduling (crmpm
schedules every task by CPM), and backward-scheduled projects (scheduled
forward). What is left out of a file is listed in ``warnings``.

Untrusted input
---------------
Files are parsed with the standard library's expat parser into ElementTree
elements (keeping each element's line for error messages), and any document
type declaration is refused: MSPDI never needs one, and without it there are
no entities to expand (no "billion laughs") and nothing external to fetch, so
``defusedxml`` is not needed. Durations and lags beyond
a million hours, dates outside 1900-2199 and calendar exceptions beyond
20,000 days are refused, so a hostile file cannot make the scheduler walk
centuries of calendar.
"""

from wbs.interchange.mspdi.common import MspdiError
from wbs.interchange.mspdi.reader import read_mspdi
from wbs.interchange.mspdi.writer import write_mspdi

__all__ = ["MspdiError", "read_mspdi", "write_mspdi"]

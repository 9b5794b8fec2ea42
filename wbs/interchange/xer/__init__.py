"""Primavera P6 XER files: the only place that knows XER's tables and fields.

:mod:`.reader` (the file as tables of strings, and the rows counted before parsing), :mod:`.calendar_data`
(CALENDAR.clndr_data), :mod:`.mapping` (tables to scheduler inputs), :mod:`.resources` (RSRC, RSRCRATE, ROLES,
ROLERATE, RSRCROLE and TASKRSRC in and out), :mod:`.project` (one project as the
neutral project, and imported into the database), :mod:`.writer` (scheduler inputs back to tables and text),
:mod:`.export` (a stored project streamed as XER) and :mod:`.schedule` (a file scheduled without a database).
"""

from wbs.interchange.xer.reader import XerError, XerFile, XerTable, read_xer

__all__ = ["XerError", "XerFile", "XerTable", "read_xer"]

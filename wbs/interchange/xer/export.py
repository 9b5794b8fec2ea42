"""A stored project as a Primavera P6 XER file, written as it is read.

A project of 100,000 activities makes a 34 MB file. Rather than loading entities
and building the file as one string, the export selects plain columns, formats
each TASK and TASKPRED row as it arrives (server-side cursors on PostgreSQL, in
batches on SQLite) and hands the text on in encoded chunks: to a binary stream
(:func:`export_xer_to`), to an HTTP response (:func:`xer_chunks`), or joined
(:func:`export_xer`). The output is the same as building the whole file with
:func:`wbs.interchange.xer.writer.project_to_xer`, followed by the project's baselines as P6 keeps them
(:mod:`wbs.interchange.xer.baselines`: a PROJECT, a PROJWBS and a TASK row per activity each).

The encoding is chosen before the first byte: cp1252 as P6 writes, UTF-8 when a
name or code needs it (Cyrillic, say). Only texts outside ASCII are looked at:
the database picks out the activities that have any, so for a project of plain
names the check is one pass over its activities in the database that returns
nothing (0.03 s at 100,000; reading every name into Python took 0.12 s).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from io import BytesIO
from typing import BinaryIO

from sqlalchemy import LargeBinary, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from crmpm.errors import Conflict
from eps.models import Project
from wbs import baselines as baseline_service, services
from wbs.scheduling import service as scheduling_service
from wbs.models import Activity, Relationship, WbsElement
from wbs.scheduling.model import ActivityType, ConstraintType
from wbs.interchange.codes import assignment_rows, codes_of
from wbs.interchange.xer.codes import code_tables
from wbs.interchange.xer.baselines import BaselineExport
from wbs.interchange.xer.reader import XerTable
from wbs.interchange.resources import resources_of
from wbs.interchange.xer.resources import (TASKRSRC_FIELDS, generic_cost_line, resource_calendar_rows,
                                           resource_tables, taskrsrc_line)
from wbs.interchange.xer.writer import (CALENDAR_FIELDS, TASK_FIELDS, TASKPRED_FIELDS, calendar_to_clndr_data,
                                        encoded_chunks, fits_cp1252, format_date, format_hours, project_to_xer,
                                        table_lines)
from wbs.resources.models import Assignment
from wbs.interchange.xer.mapping import CONSTRAINT_TYPES, RELATIONSHIP_TYPES, TASK_TYPES

__all__ = ["export_xer", "export_xer_to", "xer_chunks", "xer_encoding"]

# Rows fetched per round trip; small enough to keep memory flat, big enough not to wait on the network.
BATCH = 10_000
# Lines per encoded chunk: about 100-200 kB of TASK rows.
CHUNK_LINES = 1_000
# Stored values straight to P6 codes (the enums are str enums, so their values look them up).
_TASK_TYPE_CODES = {kind.value: code for code, kind in TASK_TYPES.items()}
_CONSTRAINT_CODES = {kind.value: code for code, kind in CONSTRAINT_TYPES.items()}
_REL_CODES = {kind.value: code for code, kind in RELATIONSHIP_TYPES.items()}
_TASK_COLUMNS = (
    Activity.id, Activity.wbs_element_id, Activity.calendar_id, Activity.percent_complete, Activity.type,
    Activity.code, Activity.name, Activity.remaining_duration_hours, Activity.original_duration_hours,
    Activity.constraint_type, Activity.constraint_date, Activity.secondary_constraint_type,
    Activity.secondary_constraint_date, Activity.actual_start, Activity.actual_finish, Activity.expected_finish,
    Activity.early_start, Activity.early_finish, Activity.late_start, Activity.late_finish,
    Activity.remaining_early_start, Activity.remaining_early_finish, Activity.remaining_late_start,
    Activity.remaining_late_finish, Activity.total_float_hours, Activity.free_float_hours, Activity.longest_path,
    Activity.budgeted_cost, Activity.actual_cost, Activity.primary_resource_id)
_NO_RESULTS = ("",) * 11


class _Memo(dict):
    """``memo[value]``: ``format(value)``, computed once per distinct value (dates and hours repeat a lot,
    and ``strftime`` costs a microsecond and a half)."""

    def __init__(self, format_):
        super().__init__({None: ""})
        self.format = format_

    def __missing__(self, key):
        text = self[key] = self.format(key)
        return text


def export_xer(session: Session, *, project: Project) -> bytes:
    """The project as an XER file (cp1252 as P6 writes them, UTF-8 when names need it)."""
    out = BytesIO()
    export_xer_to(session, project=project, out=out)
    return out.getvalue()


def export_xer_to(session: Session, *, project: Project, out: BinaryIO) -> int:
    """Write the project as an XER file to the binary stream ``out``, as it is read; return the bytes written."""
    written = 0
    # Hundreds of thousands of short-lived rows and no cycles: a third of the CPU time went to
    # the collector's passes. (Not in xer_chunks, whose caller runs between the chunks.)
    with scheduling_service.no_cyclic_gc():
        for chunk in xer_chunks(session, project=project):
            out.write(chunk)
            written += len(chunk)
    return written


def xer_chunks(session: Session, *, project: Project) -> Iterator[bytes]:
    """The project's XER file as encoded chunks of about 100 kB.

    The small part (plan, calendars, WBS, links from other projects) is read and the encoding
    chosen when this is called, so its errors come before any byte; the activities and links are
    read as the chunks are taken. Taking a chunk raises :class:`~crmpm.errors.Conflict` if a name
    changed to one outside cp1252 while the file was being written in cp1252.
    """
    head = _Head(session, project)
    encoding = xer_encoding(session, project=project, head=head)
    return _chunks(session, project, head, encoding)


def _chunks(session: Session, project: Project, head: _Head, encoding: str) -> Iterator[bytes]:
    try:
        yield from encoded_chunks(_lines(session, project, head), encoding, CHUNK_LINES)
    except UnicodeEncodeError:
        raise Conflict("a name changed during the export and no longer fits the file's encoding; export again",
                       errors={"project": ["changed during the export"]}) from None


class _Head:
    """The small part of the file: plan, calendars, WBS, external dates; read before the rows stream."""

    def __init__(self, session: Session, project: Project):
        plan = services.get_plan(session, project=project)
        data_date = plan.data_date or plan.planned_start or services.project_local_now(plan)
        self.options = scheduling_service.options_of(plan, data_date)
        self.proj_id = str(project.id)
        self.code = project.code
        # Which calendars and WBS elements the activities use, in one pass over them.
        uses = session.execute(select(Activity.calendar_id, Activity.wbs_element_id, func.min(Activity.id))
                               .where(Activity.project_id == project.id)
                               .group_by(Activity.calendar_id, Activity.wbs_element_id)).all()
        used = {str(calendar_id) for calendar_id, _w, _first in uses if calendar_id}
        used.add(self.options.default_calendar_id)
        calendars = scheduling_service.project_calendars(session, project=project)
        self.calendars = {key: calendar for key, calendar in calendars.items() if key in used}
        self.elements = session.execute(select(WbsElement.id, WbsElement.parent_id, WbsElement.code, WbsElement.name)
                                        .where(WbsElement.project_id == project.id)).all()
        self.wbs_parents = {str(i): (str(p) if p else None) for i, p, _c, _n in self.elements}
        # An activity under an element of another project still gets a PROJWBS row (its id for code and name),
        # in the order of the activities.
        for _c, element_id, _first in sorted((u for u in uses if u[1]), key=lambda u: u[2]):
            self.wbs_parents.setdefault(str(element_id), None)
        successor, predecessor = aliased(Activity), aliased(Activity)
        outside = session.execute(
            select(Relationship.predecessor_id, Relationship.successor_id, Relationship.type)
            .join(successor, successor.id == Relationship.successor_id)
            .join(predecessor, predecessor.id == Relationship.predecessor_id)
            .where(successor.project_id == project.id, predecessor.project_id != project.id)
            .order_by(Relationship.id)).all()
        self.external = scheduling_service.external_early_starts(session, [tuple(link) for link in outside])
        self.outside_predecessors = {predecessor_id for predecessor_id, _s, _t in outside}
        self.code_tables = _code_tables(session, project, self.proj_id)
        self.baselines = _baseline_export(session, project, self)
        # The pool's resources, roles and calendars the project names, and its assignments (a few per activity).
        self.resources, _primaries = resources_of(session, project=project)
        self.assigned = {int(a.activity_id) for a in self.resources.assignments}
        # Activities with costs and no assignment carry them on the generic cost resource, as baselines do.
        unassigned_costs = session.scalar(select(func.count()).select_from(Activity).where(
            Activity.project_id == project.id, or_(Activity.budgeted_cost != 0, Activity.actual_cost != 0),
            ~select(Assignment.id).where(Assignment.activity_id == Activity.id).exists()))
        self.resource_tables = resource_tables(self.resources,
                                               generic=bool(unassigned_costs or self.baselines.baselines))

    def texts(self) -> Iterator[str]:
        yield self.code
        for calendar in self.calendars.values():
            yield calendar.name
        for _i, _p, code, name in self.elements:
            yield code
            yield name
        for table in (*self.code_tables, *self.resource_tables):
            for row in table.rows:
                yield from row.values()
        for calendar in self.resources.calendars.values():
            yield calendar.name
        yield from self.baselines.texts()


def xer_encoding(session: Session, *, project: Project, head: _Head | None = None) -> str:
    """``"cp1252"`` when every name and code of the project's file fits it, else ``"utf-8"``."""
    head = head or _Head(session, project)
    if not fits_cp1252(head.texts()):
        return "utf-8"
    query = (select(Activity.code, Activity.name)
             .where(Activity.project_id == project.id,
                    or_(_not_ascii(session, Activity.code), _not_ascii(session, Activity.name)))
             .execution_options(yield_per=BATCH))
    # Rows arrive only for names with a character beyond ASCII; the first one cp1252 lacks settles it.
    with session.connection().execute(query) as rows:
        for code, name in rows:
            if not fits_cp1252((code, name)):
                return "utf-8"
    return "cp1252"


def _code_tables(session: Session, project: Project, proj_id: str) -> list[XerTable]:
    """ACTVTYPE, ACTVCODE, TASKACTV (its header: :func:`_lines` streams its rows), UDFTYPE, UDFVALUE."""
    return code_tables(codes_of(session, project=project, assignments=False), proj_id=proj_id)


def _not_ascii(session: Session, column):
    """Whether a text column holds a character beyond ASCII: more bytes than characters in UTF-8."""
    if session.get_bind().dialect.name == "postgresql":
        return func.octet_length(func.convert_to(column, "UTF8")) != func.char_length(column)
    return func.length(cast(column, LargeBinary)) != func.length(column)  # SQLite stores text as UTF-8


def _lines(session: Session, project: Project, head: _Head) -> Iterator[str]:
    xer = project_to_xer([], [], head.calendars, head.options, proj_id=head.proj_id, code=head.code,
                         wbs_parents=head.wbs_parents)
    names = {str(i): (code, name) for i, _p, code, name in head.elements}
    for row in xer.tables["PROJWBS"].rows:
        if row["wbs_id"] in names:
            row["wbs_short_name"], row["wbs_name"] = names[row["wbs_id"]]
    head.baselines.add_projects(xer)
    xer.tables["CALENDAR"].rows.extend(
        XerTable.of("CALENDAR", CALENDAR_FIELDS, [
            row for row in resource_calendar_rows(head.resources, head.proj_id, calendar_to_clndr_data)
            if row["clndr_id"] not in head.calendars]).rows)
    yield "\t".join(["ERMHDR", *xer.header])
    for name in ("PROJECT", "CALENDAR", "SCHEDOPTIONS", "PROJWBS"):
        yield from table_lines(xer.tables[name])
    for table in head.resource_tables:
        yield from table_lines(table)
    costs: list[str] = []
    yield from _task_lines(session, project, head, costs)
    yield from _baseline_task_lines(session, head, costs)
    yield from _taskpred_lines(session, project, head)
    for table in head.code_tables:
        yield from table_lines(table)
        if table.name == "TASKACTV":  # its rows, the activities' code values, come from a cursor
            with assignment_rows(session, project=project) as rows:
                yield from ("\t".join(("%R", str(a), str(t), str(v), head.proj_id)) for a, t, v in rows)
    if costs or head.resources.assignments:
        yield "%T\tTASKRSRC"
        yield "\t".join(["%F", *TASKRSRC_FIELDS])
        yield from costs
        types = {resource.id: resource.type for resource in head.resources.resources}
        for number, assignment in enumerate(head.resources.assignments, len(costs) + 1):
            yield taskrsrc_line(assignment, head.proj_id, types, number)
    yield "%E"


def _task_lines(session: Session, project: Project, head: _Head, costs: list[str]) -> Iterator[str]:
    """TASK as :func:`~wbs.interchange.xer.writer.project_to_xer` writes it, with names and the stored schedule;
    the TASKRSRC lines of activities with costs are appended to ``costs`` on the way (a tenth of the
    TASK text, and a second pass over the activities would cost more)."""
    yield "%T\tTASK"
    yield "\t".join(["%F", *TASK_FIELDS])
    # A server-side cursor on PostgreSQL: rows arrive BATCH at a time, never all at once.
    rows = session.connection().execute(select(*_TASK_COLUMNS).where(Activity.project_id == project.id)
                                        .order_by(Activity.id).execution_options(yield_per=BATCH))
    with rows:  # closed (its cursor too) when a download stops part-way
        yield from _task_rows(rows, head, costs)


def _task_rows(rows, head: _Head, costs: list[str]) -> Iterator[str]:
    dates, hours, ids = _Memo(format_date), _Memo(format_hours), _Memo(str)
    ids[0] = ""
    assigned = head.assigned
    types = _Memo(lambda value: _code(_TASK_TYPE_CODES, ActivityType, value))
    constraints = _Memo(lambda value: _code(_CONSTRAINT_CODES, ConstraintType, value))
    constraints[""] = ""
    external = {key: format_date(value) for key, value in head.external.items()}
    proj_id = head.proj_id
    zero = Decimal(0)
    for (id_, wbs_id, calendar_id, percent, type_, code, name, remaining, original, constraint, constraint_date,
         constraint2, constraint_date2, actual_start, actual_finish, expected_finish, early_start, early_finish,
         late_start, late_finish, rem_early_start, rem_early_finish, rem_late_start, rem_late_finish, total_float,
         free_float, longest_path, budget, actual, primary_resource) in rows:
        task_id = str(id_)
        if actual_finish is not None:
            status = "TK_Complete"
        elif actual_start is not None:
            status = "TK_Active"
        else:
            status = "TK_NotStart"
        if early_start is None:
            results = _NO_RESULTS
        else:
            results = (hours[total_float], hours[free_float], dates[late_start], dates[late_finish],
                       dates[early_start], dates[early_finish], dates[rem_early_start], dates[rem_early_finish],
                       dates[rem_late_start], dates[rem_late_finish], "Y" if longest_path else "N")
        # In TASK_FIELDS order.
        yield "\t".join((
            "%R", task_id, proj_id, ids[wbs_id], ids[calendar_id], hours[percent], "CP_Drtn", types[type_], status,
            code, name, results[0], results[1], hours[remaining], hours[original], dates[constraint_date],
            dates[actual_start], dates[actual_finish], results[2], results[3], dates[expected_finish],
            results[4], results[5], results[6], results[7], results[8], results[9], constraints[constraint],
            dates[constraint_date2], constraints[constraint2], external.get(id_, ""), "", results[10], "", "",
            ids[primary_resource]))
        if (budget or actual) and id_ not in assigned:
            costs.append(generic_cost_line(len(costs) + 1, task_id, proj_id, budget, actual,
                                           max(budget - actual, zero)))


def _baseline_export(session: Session, project: Project, head: _Head) -> BaselineExport:
    """The project's baselines for the file (:mod:`wbs.interchange.xer.baselines`), their ids after the
    project's own; one query when it has none."""
    found = baseline_service.baselines_in_order(session, project=project)
    if not found:
        return BaselineExport([], head.proj_id, (0, 0, 0))
    last_task = session.scalar(select(func.max(Activity.id)).where(Activity.project_id == project.id)) or 0
    last_wbs = max((int(key) for key in head.wbs_parents if key.isdigit()), default=0)
    return BaselineExport([(b.id, b.name, b.role == "primary") for b in found], head.proj_id,
                          (project.id + 1, last_wbs + 1, last_task + 1))


def _baseline_task_lines(session: Session, head: _Head, costs: list[str]) -> Iterator[str]:
    """The baselines' TASK rows, read as they are written (a server-side cursor on PostgreSQL)."""
    if not head.baselines.baselines:
        return
    kept = baseline_service.kept_values(head.baselines.ids).subquery()
    rows = session.connection().execute(
        select(kept.c.baseline_id, Activity.code, kept.c.start, kept.c.finish, kept.c.duration_hours,
               kept.c.budgeted_cost).join(Activity, Activity.id == kept.c.activity_id)
        .order_by(kept.c.baseline_id, kept.c.activity_id).execution_options(yield_per=BATCH))
    with rows:
        yield from head.baselines.task_lines(rows, costs)


def _code(codes: dict, kind, value) -> str:
    code = codes.get(value)
    if code is None:
        kind(value)  # an unknown stored value is refused by name, as the scheduler's input refuses it
        return ""
    return code


def _taskpred_lines(session: Session, project: Project, head: _Head) -> Iterator[str]:
    """TASKPRED: the links between the project's own activities (those from other projects became
    external dates in TASK)."""
    yield "%T\tTASKPRED"
    yield "\t".join(["%F", *TASKPRED_FIELDS])
    successor = aliased(Activity)
    # Not a server-side cursor: PostgreSQL plans a cursor for its first rows (nested loops in id
    # order, 1.6 s instead of 0.55 s at 150,000 links); four narrow columns fit the client's buffer.
    # Links from other projects are known from the head: skipping them here spares joining every
    # predecessor.
    links = session.connection().execute(
        select(Relationship.predecessor_id, Relationship.successor_id, Relationship.type, Relationship.lag_hours)
        .join(successor, successor.id == Relationship.successor_id)
        .where(successor.project_id == project.id)
        .order_by(Relationship.id))
    outside, proj_id = head.outside_predecessors, head.proj_id
    hours = _Memo(format_hours)
    number = 0
    with links:
        for part in links.partitions(BATCH):
            for predecessor_id, successor_id, type_, lag in part:
                if predecessor_id in outside:
                    continue
                number += 1
                yield "\t".join(("%R", str(number), str(successor_id), str(predecessor_id), proj_id, proj_id,
                                 _REL_CODES.get(type_, str(type_)), hours[lag]))

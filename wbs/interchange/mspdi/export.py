"""A stored project as an MS Project XML (MSPDI) file, written as it is read.

Building the whole document took 194 MB for a project of 100,000 activities
(entities, the neutral project, an element tree, then one string). Here the head
(plan, calendars, WBS) is read first, with one pass over narrow activity columns
that places each activity in the outline, numbers the tasks and dates the WBS
summaries; then the tasks are read, built and sent a batch at a time in outline
order, each batch's links, code values and UDF values with it. What stays in memory for the whole export is
the outline (an activity's code, id and UID) and the code types with their values. The bytes are those of
:func:`wbs.interchange.mspdi.writer.write_mspdi` over :func:`wbs.interchange.store.exchange_of`.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import itemgetter

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from eps.models import Project
from wbs import baselines as baseline_service, services
from wbs.scheduling import service as scheduling_service
from wbs.interchange.codes import codes_of, subject_codes
from wbs.interchange.mspdi.codes import export_warnings
from wbs.interchange.model import ExchangeBaseline, ExchangeBaselineActivity, ExchangeProject, ExchangeWbs
from wbs.interchange.mspdi.writer import _placeholder, stream_mspdi
from wbs.interchange.resources import resources_of
from wbs.interchange.store import exchange_activity, exchange_plan
from wbs.models import Activity, Relationship, WbsElement

__all__ = ["MspdiChunks", "WARNINGS_HEADER", "export_mspdi", "mspdi_chunks"]

# Tasks built and sent at a time; also the rows fetched per round trip.
BATCH = 2_000


def export_mspdi(session: Session, *, project: Project) -> bytes:
    """The project as an MS Project XML (MSPDI) file, UTF-8 (:func:`mspdi_chunks` streams it)."""
    return b"".join(mspdi_chunks(session, project=project))


WARNINGS_HEADER = "X-Crmpm-Export-Warnings"


class MspdiChunks:
    """A file's chunks, and what its export has to tell before the first: ``warnings`` (what MS Project will not
    show as codes or fields; the file keeps them in crmpm's own field) and ``headers`` for a download (their
    count, ``X-Crmpm-Export-Warnings``)."""

    def __init__(self, chunks: Iterator[bytes], warnings: list[str]):
        self.chunks = chunks
        self.warnings = warnings
        self.headers = {WARNINGS_HEADER: str(len(warnings))}

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks


def mspdi_chunks(session: Session, *, project: Project) -> MspdiChunks:
    """The project's MSPDI file (UTF-8) as chunks; the head is read when this is called, so its errors come
    before any byte, the tasks as the chunks are taken."""
    head = _Head(session, project)
    return MspdiChunks(stream_mspdi(head.exchange, project_start=head.project_start, batches=_batches(session, head),
                                    task_uids={str(id_): uid for id_, uid in head.uids.items()}),
                       export_warnings(head.exchange.codes) + _doubled_links(session, project))


def _doubled_links(session: Session, project: Project) -> list[str]:
    """A warning naming the pairs of activities linked more than once (P6 allows an FS and an FF between one
    pair; MS Project holds one link per pair, the others go into crmpm's field: :func:`.writer._links`)."""
    predecessor, successor = aliased(Activity), aliased(Activity)
    pairs = session.execute(
        select(predecessor.code, successor.code, func.count())
        .select_from(Relationship)
        .join(predecessor, predecessor.id == Relationship.predecessor_id)
        .join(successor, successor.id == Relationship.successor_id)
        .where(predecessor.project_id == project.id, successor.project_id == project.id)
        .group_by(predecessor.id, predecessor.code, successor.id, successor.code).having(func.count() > 1)
        .order_by(predecessor.code, successor.code)).all()
    if not pairs:
        return []
    shown = ", ".join(f"{first} → {second}" for first, second, _n in pairs[:5])
    more = f" and {len(pairs) - 5} more" if len(pairs) > 5 else ""
    many = "pairs of activities are" if len(pairs) > 1 else "pair of activities is"
    return [f"{len(pairs)} {many} linked more than once ({shown}{more}); MS Project holds one "
            "link per pair: the file has the first as a link and keeps the others in crmpm's own field"]


class _Head:
    """Plan, calendars, WBS and the outline: where each activity goes, its UID, each summary's dates."""

    def __init__(self, session: Session, project: Project):
        plan = services.get_plan(session, project=project)
        data_date = plan.data_date or plan.planned_start or services.project_local_now(plan)
        default_calendar = scheduling_service.options_of(plan, data_date).default_calendar_id
        elements = session.scalars(select(WbsElement).where(WbsElement.project_id == project.id)
                                   .order_by(WbsElement.seq, WbsElement.code)).all()
        wbs = [ExchangeWbs(id=str(e.id), code=e.code, name=e.name, parent_id=str(e.parent_id) if e.parent_id else None,
                           seq=e.seq) for e in services.tree_order(elements)]
        known = {element.id for element in wbs}
        used = {default_calendar}
        self.placed: dict[str | None, list[tuple[str, int]]] = {}
        # Per WBS element, the earliest start and latest finish of the activities right under it.
        spans: dict[str | None, list] = {}
        earliest = None
        rows = session.connection().execute(
            select(Activity.id, Activity.wbs_element_id, Activity.code, Activity.calendar_id, Activity.actual_start,
                   Activity.early_start, Activity.actual_finish, Activity.early_finish)
            .where(Activity.project_id == project.id).order_by(Activity.id).execution_options(yield_per=BATCH))
        with rows:
            for id_, wbs_id, code, calendar_id, actual_start, early_start, actual_finish, early_finish in rows:
                key = str(wbs_id) if wbs_id else None
                key = key if key in known else None
                self.placed.setdefault(key, []).append((code, id_))
                if calendar_id:
                    used.add(str(calendar_id))
                start = actual_start or early_start
                finish = actual_finish or (early_finish if early_start is not None else None)
                span = spans.setdefault(key, [None, None])
                if start is not None:
                    span[0] = start if span[0] is None else min(span[0], start)
                    earliest = start if earliest is None else min(earliest, start)
                if finish is not None:
                    span[1] = finish if span[1] is None else max(span[1], finish)
        for group in self.placed.values():
            group.sort(key=itemgetter(0))  # by code; stable, so equal codes stay in id order as the export had them
        self.children: dict[str | None, list[ExchangeWbs]] = {}
        for element in wbs:
            self.children.setdefault(element.parent_id, []).append(element)
        for group in self.children.values():
            group.sort(key=lambda e: (e.seq, e.code))
        self.spans = _roll_up(spans, self.children)
        self.uids = {id_: uid for uid, (kind, id_, _n, _l) in enumerate(self.outline(), 1) if kind == "activity"}
        calendars = scheduling_service.project_calendars(session, project=project)
        exchange = exchange_plan(plan, default_calendar_id=default_calendar)
        self.exchange = ExchangeProject(code=project.code, name=project.name, plan=exchange,
                                         calendars={k: c for k, c in calendars.items() if k in used}, wbs=wbs,
                                        codes=codes_of(session, project=project, subjects=False),
                                         resources=resources_of(session, project=project)[0])
        self.project = project
        # The baselines without their values: each batch of tasks reads its own (``_resolved``).
        self.baselines = {b.id: ExchangeBaseline(name=b.name, role=b.role)
                          for b in baseline_service.baselines_in_order(session, project=project)}
        self.exchange.baselines = list(self.baselines.values())
        self.project_start = plan.planned_start or earliest or _placeholder(exchange)
        self.project_id = project.id

    def outline(self, parent_id: str | None = None, prefix: str = "", level: int = 1) -> Iterator[tuple]:
        """``(kind, activity id or WBS element, outline number, level)`` in the file's order: an element's
        activities by code, then its child elements by sequence and code, each followed by its branch."""
        number = 0
        for _code, id_ in self.placed.get(parent_id, ()):
            number += 1
            yield "activity", id_, f"{prefix}{number}", level
        for element in self.children.get(parent_id, ()):
            number += 1
            yield "summary", element, f"{prefix}{number}", level
            yield from self.outline(element.id, f"{prefix}{number}.", level + 1)


def _roll_up(spans: dict, children: dict) -> dict[str, tuple]:
    """Each element's span over its whole branch."""
    totals: dict[str, tuple] = {}

    def total(element_id: str) -> tuple:
        start, finish = spans.get(element_id, (None, None))
        for child in children.get(element_id, ()):
            child_start, child_finish = total(child.id)
            if child_start is not None:
                start = child_start if start is None else min(start, child_start)
            if child_finish is not None:
                finish = child_finish if finish is None else max(finish, child_finish)
        totals[element_id] = (start, finish)
        return start, finish

    for top in children.get(None, ()):
        total(top.id)
    return totals


def _batches(session: Session, head: _Head) -> Iterator[list[tuple]]:
    """The tasks in outline order, BATCH at a time, each activity read with its links."""
    batch: list[tuple] = []
    for uid, entry in enumerate(head.outline(), 1):
        batch.append((uid, *entry))
        if len(batch) == BATCH:
            yield _resolved(session, head, batch)
            batch = []
    if batch:
        yield _resolved(session, head, batch)


def _resolved(session: Session, head: _Head, batch: list[tuple]) -> list[tuple]:
    ids = [id_ for _uid, kind, id_, _n, _l in batch if kind == "activity"]
    activities = {a.id: exchange_activity(a) for a in session.scalars(select(Activity).where(Activity.id.in_(ids)))}
    incoming: dict[int, list] = {}
    links = session.execute(select(Relationship.predecessor_id, Relationship.successor_id, Relationship.type,
                                   Relationship.lag_hours)
                            .where(Relationship.successor_id.in_(ids)).order_by(Relationship.id))
    for predecessor_id, successor_id, type_, lag_hours in links:
        uid = head.uids.get(predecessor_id)
        if uid is not None:  # a link from another project is that project's, not this file's
            incoming.setdefault(successor_id, []).append((uid, type_, lag_hours))
    _batch_baselines(session, head, ids)
    # The batch's code values and UDF values: the whole project's would be held for the whole export.
    elements = [int(item.id) for _uid, kind, item, _n, _l in batch if kind == "summary"]
    resolved = [("codes", *subject_codes(session, project=head.project, activity_ids=ids, element_ids=elements))]
    for uid, kind, item, number, level in batch:
        if kind == "activity":
            resolved.append(("activity", uid, activities[item], number, level, incoming.get(item, [])))
        else:
            start, finish = head.spans.get(item.id, (None, None))
            resolved.append(("summary", uid, item, number, level, start, finish))
    return resolved


def _batch_baselines(session: Session, head: _Head, ids: list[int]) -> None:
    """The baselines' values for this batch's activities only, in the baselines the writer numbered."""
    for baseline in head.baselines.values():
        baseline.activities.clear()
    if head.baselines and ids:
        for baseline_id, activity_id, *kept in session.execute(baseline_service.kept_values(head.baselines, ids)):
            head.baselines[baseline_id].activities[str(activity_id)] = ExchangeBaselineActivity(*kept)

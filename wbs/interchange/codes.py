"""A read file's activity codes and UDFs into the database (:func:`store_codes`), and a stored project's back
out as the neutral :class:`~wbs.interchange.model.ExchangeCodes` (:func:`codes_of`), whatever the format.

Code types are matched by name in their scope, as P6 matches them on import: a global type or an EPS type (of
the node the project is imported under) that already exists takes the file's values it lacks, found by their
place in the tree (parent, then short name).

A type the file holds that does not exist yet is created as P6 creates it for the importing user: in its own
scope when the user may create types there (administrators: global; edit rights on the EPS node: that node's),
otherwise with the project's scope, with a warning naming it, so that a user without the administrator's
privilege never adds global (or others' EPS) types through a file and the file's values are still all kept.
Imports run without a user (``actor=None``, the command line) act with every right. UDF types are global
only (crmpm has no project-scope UDF): they are matched by subject and name; one of another data type, or one
that does not exist and that the user may not create (administrators only, as on the pages), has its values
left out with a warning naming it. What the import adds is audited.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.database import bulk_insert
from crmpm.errors import Forbidden, NotFound
from crmpm.users.models import User
from eps.models import Project
from wbs import codes as code_rules
from wbs import udfs
from wbs.interchange.model import ExchangeCodes, ExchangeCodeType, ExchangeCodeValue, ExchangeUdfType, ExchangeUdfValue
from wbs.models import Activity, ActivityCodeAssignment, ActivityCodeType, ActivityCodeValue, UdfType, UdfValue

__all__ = ["assignment_rows", "store_codes", "codes_of", "subject_codes"]


def store_codes(session: Session, *, actor: User | None, project: Project, codes: ExchangeCodes,
                activity_ids: dict[str, int], element_ids: dict[str, int], warnings: list[str]) -> None:
    """Store a read project's codes and UDFs for the just-stored ``project`` (file ids → stored ids)."""
    if not codes:
        return
    own_names = {item.name[:code_rules.TYPE_NAME_LENGTH] for item in codes.types if item.scope == "project"}
    type_ids = {item.id: _code_type(session, actor, project, item, own_names, warnings) for item in codes.types}
    value_ids = _code_values(session, codes.values, type_ids)
    rows = [{"activity_id": activity_ids[task], "type_id": type_ids[type_id], "value_id": value_ids[value]}
            for task, type_id, value in codes.assignments
            if task in activity_ids and type_id in type_ids and value in value_ids]
    if rows:
        session.flush()
        bulk_insert(session, ActivityCodeAssignment.__table__, rows)
    udf_ids = {}
    for item in codes.udf_types:
        stored = _udf_type(session, actor, item, warnings)
        if stored is not None:
            udf_ids[item.id] = stored
    subjects = {"activity": ("activity_id", activity_ids), "wbs": ("wbs_element_id", element_ids)}
    kinds = {item.id: item for item in codes.udf_types}
    values = []
    for item in codes.udf_values:
        stored = udf_ids.get(item.type_id)
        if stored is None:
            continue
        row = {"type_id": stored.id, "project_id": project.id, "activity_id": None, "wbs_element_id": None,
               "text": None, "number": None, "cost": None, "date": None, "indicator": None}
        subject = kinds[item.type_id].subject
        if subject != "project":
            column, ids = subjects[subject]
            if item.subject_id not in ids:
                continue
            row[column] = ids[item.subject_id]
        row[udfs.COLUMNS[stored.data_type]] = udfs.checked_value(stored, item.value)
        values.append(row)
    own = {row["type_id"] for row in values if row["activity_id"] is None and row["wbs_element_id"] is None}
    if own:  # a plan replaced keeps its project: the file's project values replace those it had
        session.execute(delete(UdfValue).where(UdfValue.project_id == project.id, UdfValue.type_id.in_(own),
                                               UdfValue.activity_id.is_(None), UdfValue.wbs_element_id.is_(None)))
    if values:
        session.flush()
        bulk_insert(session, UdfValue.__table__, values)
    session.flush()
    audit.record(session, actor=actor, action="import_codes", entity=project,
                 after={"code_types": len(type_ids), "code_assignments": len(rows), "udf_types": len(udf_ids),
                        "udf_values": len(values)})


def _code_type(session: Session, actor: User | None, project: Project, item: ExchangeCodeType,
               own_names: set[str], warnings: list[str]) -> int:
    name = item.name[:code_rules.TYPE_NAME_LENGTH]
    found = _found_type(session, project, item.scope, name)
    if found is None and item.scope != "project" and not _may_create(session, actor, project, item.scope):
        kind = "EPS" if item.scope == "eps" else "global"
        if name in own_names:  # the file's project type of that name stays apart
            name = f"{name[:code_rules.TYPE_NAME_LENGTH - len(kind) - 3]} ({kind})"
        warnings.append(f"activity code type {item.name!r} is a{'n' if kind == 'EPS' else ''} {kind} code type in "
                        "the file that does not exist here, and you may not create one there: it is created as "
                        f"the project code type {name!r}")
        item = dataclasses.replace(item, scope="project")
        found = _found_type(session, project, "project", name)
    owner = {"global": {}, "eps": {"eps_node_id": project.eps_node_id},
             "project": {"project_id": project.id}}[item.scope]
    if found is None:
        found = ActivityCodeType(scope=item.scope, name=name, max_length=min(item.max_length, code_rules.MAX_SHORT_LENGTH),
                                 seq=item.seq, **owner)
        session.add(found)
        session.flush()
    elif found.max_length < item.max_length:
        found.max_length = min(item.max_length, code_rules.MAX_SHORT_LENGTH)
    return found.id


def _may_create(session: Session, actor: User | None, project: Project, scope: str) -> bool:
    """Whether ``actor`` may create a code type of ``scope`` where ``project`` is (the rights of the pages)."""
    if actor is None:
        return True
    try:
        code_rules.authorize_new_type(session, user=actor, scope=scope, eps_node_id=project.eps_node_id,
                                      project_id=project.id)
    except (Forbidden, NotFound):
        return False
    return True


def _found_type(session: Session, project: Project, scope: str, name: str) -> ActivityCodeType | None:
    owner = {"global": {}, "eps": {"eps_node_id": project.eps_node_id},
             "project": {"project_id": project.id}}[scope]
    return session.scalar(select(ActivityCodeType).where(
        ActivityCodeType.scope == scope, ActivityCodeType.name == name,
        ActivityCodeType.eps_node_id == owner["eps_node_id"] if "eps_node_id" in owner
        else ActivityCodeType.eps_node_id.is_(None),
        ActivityCodeType.project_id == project.id if scope == "project"
        else ActivityCodeType.project_id.is_(None)).order_by(ActivityCodeType.id).limit(1))


def _code_values(session: Session, values: list[ExchangeCodeValue], type_ids: dict[str, int]) -> dict[str, int]:
    """The file's values as stored ids: existing ones found by (type, parent, short name), the others inserted in
    bulk a level of the tree at a time, parents before children (a value whose parents loop is put at the top)."""
    by_id = {v.id: v for v in values if v.type_id in type_ids}
    depth: dict[str, int] = {}
    for value_id in by_id:
        chain, seen = [], set()
        current = value_id
        while current in by_id and current not in depth and current not in seen:
            seen.add(current)
            chain.append(current)
            current = by_id[current].parent_id
        above = depth.get(current, -1)  # after a loop or an unknown parent: the top
        for item in reversed(chain):
            above += 1
            depth[item] = above
    levels: dict[int, list[ExchangeCodeValue]] = {}
    for value_id, level in depth.items():
        levels.setdefault(level, []).append(by_id[value_id])
    stored_type_ids = set(type_ids.values())
    existing = _existing_values(session, stored_type_ids)
    stored_ids: dict[str, int] = {}
    for level in sorted(levels):
        rows, keys, pending = [], {}, set()
        for item in levels[level]:
            parent = stored_ids.get(item.parent_id) if level else None
            key = (type_ids[item.type_id], parent, item.value[:60])
            keys[item.id] = key
            if key not in existing and key not in pending:
                pending.add(key)
                rows.append({"type_id": key[0], "parent_id": parent, "value": key[2],
                             "description": item.description[:300], "seq": item.seq, "color": item.color[:6]})
        if rows:
            session.flush()
            bulk_insert(session, ActivityCodeValue.__table__, rows)
            existing = _existing_values(session, stored_type_ids)
        for value_id, key in keys.items():
            stored_ids[value_id] = existing[key]
    return stored_ids


def _existing_values(session: Session, type_ids: set[int]) -> dict[tuple, int]:
    """(type, parent, short name) → id of the stored values of ``type_ids`` (the first of equals)."""
    found: dict[tuple, int] = {}
    for id_, type_id, parent_id, value in session.execute(
            select(ActivityCodeValue.id, ActivityCodeValue.type_id, ActivityCodeValue.parent_id, ActivityCodeValue.value)
            .where(ActivityCodeValue.type_id.in_(type_ids)).order_by(ActivityCodeValue.id)):
        found.setdefault((type_id, parent_id, value), id_)
    return found


def _udf_type(session: Session, actor, item: ExchangeUdfType, warnings: list[str]) -> UdfType | None:
    name = item.name[:udfs.NAME_LENGTH]
    found = session.scalar(select(UdfType).where(UdfType.subject == item.subject, UdfType.name == name))
    if found is None:
        try:
            return udfs.create_udf_type(session, actor=actor, subject=item.subject, name=name,
                                        data_type=item.data_type, file_type=item.file_type, _imported=actor is None)
        except Forbidden:
            warnings.append(f"user-defined field {name!r} of {item.subject} does not exist here and only "
                            "administrators create user-defined fields: its values are left out")
            return None
    if found.data_type != item.data_type:
        warnings.append(f"user-defined field {name!r} is a {found.data_type} field here and a {item.data_type} "
                        "field in the file: its values are left out")
        return None
    return found


def codes_of(session: Session, *, project: Project, subjects: bool = True, assignments: bool = True) -> ExchangeCodes:
    """The project's codes as the neutral codes: every type that applies to it with its values, the UDF types its
    values use, the project's own UDF values and, with ``subjects``, its activities' and WBS elements' UDF values
    and (with ``assignments`` too) its activities' code values (:func:`subject_codes` reads those a batch at a
    time, :func:`assignment_rows` streams the code values; ids are the stored ids)."""
    codes = ExchangeCodes()
    types = session.scalars(code_rules.list_code_types(session, project=project)).all()
    codes.types = [ExchangeCodeType(id=str(t.id), name=t.name, scope=t.scope, max_length=t.max_length, seq=t.seq)
                   for t in types]
    values = session.scalars(select(ActivityCodeValue).where(ActivityCodeValue.type_id.in_([t.id for t in types]))
                             .order_by(ActivityCodeValue.type_id, ActivityCodeValue.id)).all()
    codes.values = [ExchangeCodeValue(id=str(v.id), type_id=str(v.type_id), value=v.value, description=v.description,
                                      parent_id=str(v.parent_id) if v.parent_id else None, seq=v.seq, color=v.color)
                    for v in values]
    used = session.scalars(select(UdfType).where(UdfType.id.in_(
        select(UdfValue.type_id).where(UdfValue.project_id == project.id))).order_by(UdfType.id)).all()
    codes.udf_types = [ExchangeUdfType(id=str(t.id), subject=t.subject, name=t.name, data_type=t.data_type,
                                       file_type=t.file_type) for t in used]
    codes.udf_values = _udf_values(session, project, UdfValue.activity_id.is_(None), UdfValue.wbs_element_id.is_(None))
    if subjects:
        activities = select(Activity.id).where(Activity.project_id == project.id)
        codes.assignments, held = _subject_codes(session, project, activities, None, assignments)
        codes.udf_values += held
    return codes


def assignment_rows(session: Session, *, project: Project):
    """The project's activities' code values, ``(activity id, type id, value id)`` by activity and type, as a
    result to iterate (a server-side cursor on PostgreSQL; close it, or use it in ``with``)."""
    return session.connection().execute(
        select(ActivityCodeAssignment.activity_id, ActivityCodeAssignment.type_id, ActivityCodeAssignment.value_id)
        .where(ActivityCodeAssignment.activity_id.in_(select(Activity.id).where(Activity.project_id == project.id)))
        .order_by(ActivityCodeAssignment.activity_id, ActivityCodeAssignment.type_id)
        .execution_options(yield_per=2_000))


def subject_codes(session: Session, *, project: Project, activity_ids: list[int], element_ids: list[int]):
    """``(assignments, udf values)`` of these activities and WBS elements of ``project`` only, as
    :func:`codes_of` gives them for all."""
    return _subject_codes(session, project, activity_ids, element_ids)


def _subject_codes(session: Session, project: Project, activities, element_ids, with_assignments: bool = True):
    assignments = [] if not with_assignments else [(str(a), str(t), str(v)) for a, t, v in session.execute(
        select(ActivityCodeAssignment.activity_id, ActivityCodeAssignment.type_id, ActivityCodeAssignment.value_id)
        .where(ActivityCodeAssignment.activity_id.in_(activities))
        .order_by(ActivityCodeAssignment.activity_id, ActivityCodeAssignment.type_id))]
    held = UdfValue.activity_id.in_(activities)
    if element_ids is None:
        held = or_(held, UdfValue.wbs_element_id.is_not(None))
    elif element_ids:
        held = or_(held, UdfValue.wbs_element_id.in_(element_ids))
    return assignments, _udf_values(session, project, held)


def _udf_values(session: Session, project: Project, *where) -> list[ExchangeUdfValue]:
    rows = session.execute(select(UdfType, UdfValue).join(UdfValue, UdfValue.type_id == UdfType.id)
                           .where(UdfValue.project_id == project.id, *where).order_by(UdfValue.id)).all()
    values = []
    for udf_type, row in rows:
        subject = row.activity_id or row.wbs_element_id
        values.append(ExchangeUdfValue(type_id=str(udf_type.id), subject_id=str(subject) if subject else None,
                                       value=udfs.value_of(udf_type, row)))
    return values

"""Activity codes, as Primavera P6 keeps them: code types, their values in a tree, and each activity's values.

A code type ("Department", "Responsibility") is global, an EPS node's or a project's (``CODE_SCOPES``); it
applies to the activities of every project, of the projects below its node, or of its project alone. Its
values form a tree (a value may have a parent value of the same type); a value's short name is at most the
type's ``max_length`` long and unique among its siblings. An activity holds at most one value of each type.

A project that moves to another EPS branch, alone or with its node (``eps.services.move_project`` /
``move_node``, whoever calls them), keeps the global types and those of the nodes still above it; its
activities' values of the EPS types that no longer apply are removed, audited on the project, and the move's
``warnings`` say how many, as P6 drops the EPS codes of a project moved out of their branch. The EPS tells
:func:`drop_inapplicable_codes` of every move (it is registered with ``eps.services.on_move`` when this module
is imported, which the app does through its API and pages).

Deleting a type deletes its values; deleting a value deletes the values below it. Either way the activities
holding one of them lose it (as P6 does), and the delete says how many activities that was.

Rights: a global type is read by everyone and changed by administrators; an EPS node's type is read with read
rights on the node and changed with edit rights there; a project's type follows the project. An activity's
codes are read with the project and set with edit rights on it. Every change is audited.
"""

from __future__ import annotations

from sqlalchemy import and_, case, delete, false, func, or_, select, update
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound
from crmpm.users.models import User
from eps import services as eps_services
from eps.models import EpsNode, Project
from eps.permissions import Permission, authorize
from wbs.models import (CODE_LENGTH, CODE_SCOPES, NAME_LENGTH, Activity, ActivityCodeAssignment, ActivityCodeType,
                        ActivityCodeValue)

__all__ = ["CODE_SCOPES", "activity_codes", "applicable_types", "authorize_new_type", "create_code_type",
           "create_code_value", "delete_code_type", "delete_code_value", "drop_inapplicable_codes", "filter_by_code",
           "get_code_type_or_raise", "get_code_value_or_raise", "get_project_code_type_or_raise", "group_by_code",
           "list_code_types", "list_code_values", "may_change_type", "may_create_type", "node_code_types",
           "set_activity_codes", "type_values", "update_code_type",
           "update_code_value", "value_paths", "value_tree", "values_of"]

TYPE_NAME_LENGTH = 100
MAX_SHORT_LENGTH = CODE_LENGTH


def applicable_types(project: Project):
    """A SQL condition true for the code types that apply to ``project``'s activities (global, its EPS
    ancestors', its own)."""
    return _applying_at(project.path, project_id=project.id)


def _applying_at(path: str, *, project_id):
    """The rule of where a code type applies, as a SQL condition on :class:`ActivityCodeType`: to the activities of
    the project at ``path`` whose id is ``project_id`` (a value, or a column holding it) a global type applies, an
    EPS node's type when the node is above the project, a project's type in its project. Never NULL."""
    node_ids = [int(part) for part in path.strip("/").split("/") if part and not part.startswith("p")]
    return or_(ActivityCodeType.scope == "global",
               and_(ActivityCodeType.scope == "eps", ActivityCodeType.eps_node_id.in_(node_ids))
               if node_ids else false(),
               and_(ActivityCodeType.scope == "project", ActivityCodeType.project_id == project_id))


def list_code_types(session: Session, *, project: Project):
    """A select of the code types that apply to ``project`` (the caller has read it), global first, by seq."""
    scope_order = func.coalesce(ActivityCodeType.project_id, 0)
    return (select(ActivityCodeType).where(applicable_types(project))
            .order_by(scope_order, ActivityCodeType.seq, ActivityCodeType.id))


def get_code_type_or_raise(session: Session, *, user: User, type_id: int,
                           permission: Permission = Permission.read, field: str | None = None) -> ActivityCodeType:
    """The code type, if ``user`` may read it (NotFound otherwise) and has ``permission`` on it (Forbidden)."""
    code_type = session.get(ActivityCodeType, type_id)
    if code_type is None:
        raise NotFound("activity code type {type_id} not found", type_id=type_id,
                       errors={field: ["not found"]} if field else None)
    try:
        _authorize_type(session, user=user, code_type=code_type, permission=Permission.read)
    except NotFound:
        raise NotFound("activity code type {type_id} not found", type_id=type_id,
                       errors={field: ["not found"]} if field else None) from None
    if permission is not Permission.read:
        _authorize_type(session, user=user, code_type=code_type, permission=permission)
    return code_type


def create_code_type(session: Session, *, actor: User, scope: str, name: str, max_length: int = 20, seq: int = 0,
                     eps_node: EpsNode | None = None, project: Project | None = None) -> ActivityCodeType:
    """A new code type: global (administrators), an EPS node's or a project's (edit rights there); its name is
    unique in its scope."""
    if scope not in CODE_SCOPES:
        raise Invalid("an activity code type's scope is one of {scopes}", scopes=", ".join(CODE_SCOPES),
                      errors={"scope": [f"one of {', '.join(CODE_SCOPES)}"]})
    if (scope == "eps") != (eps_node is not None) or (scope == "project") != (project is not None):
        raise Invalid("an activity code type of scope {scope} needs {needed}", scope=scope,
                      needed={"global": "neither an EPS node nor a project", "eps": "an EPS node",
                              "project": "a project"}[scope],
                      errors={"scope": ["does not match eps_node_id/project_id"]})
    code_type = ActivityCodeType(scope=scope, eps_node_id=eps_node.id if eps_node else None,
                                 project_id=project.id if project else None)
    _authorize_type(session, user=actor, code_type=code_type, permission=Permission.edit)
    code_type.name = _type_name(session, code_type, name)
    code_type.max_length = _max_length(max_length)
    code_type.seq = seq
    session.add(code_type)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=code_type, after=code_type.audit_state())
    return code_type


def update_code_type(session: Session, *, actor: User, code_type: ActivityCodeType, **changes) -> ActivityCodeType:
    """Rename a code type, change its values' maximum length or its order (the rights of its scope)."""
    _authorize_type(session, user=actor, code_type=code_type, permission=Permission.edit)
    before = code_type.audit_state()
    if "max_length" in changes:
        limit = _max_length(changes["max_length"])
        longest = session.scalar(select(func.max(func.length(ActivityCodeValue.value)))
                                 .where(ActivityCodeValue.type_id == code_type.id)) or 0
        if longest > limit:
            raise Conflict("activity code type {name!r} has values of {longest} characters, longer than {limit}",
                           name=code_type.name, longest=longest, limit=limit,
                           errors={"max_length": [f"values up to {longest} characters exist"]})
        code_type.max_length = limit
    if "name" in changes:
        code_type.name = _type_name(session, code_type, changes["name"])
    if "seq" in changes:
        code_type.seq = changes["seq"]
    session.flush()
    if code_type.audit_state() != before:
        audit.record(session, actor=actor, action="update", entity=code_type, before=before,
                     after=code_type.audit_state())
    return code_type


def list_code_values(session: Session, *, code_type: ActivityCodeType):
    """A select of the type's values, by seq then short name (the tree is in their ``parent_id``)."""
    return (select(ActivityCodeValue).where(ActivityCodeValue.type_id == code_type.id)
            .order_by(ActivityCodeValue.seq, ActivityCodeValue.value, ActivityCodeValue.id))


def get_code_value_or_raise(session: Session, *, code_type: ActivityCodeType, value_id: int,
                            field: str | None = None) -> ActivityCodeValue:
    """A value of ``code_type``."""
    value = session.get(ActivityCodeValue, value_id)
    if value is None or value.type_id != code_type.id:
        raise NotFound("activity code value {value_id} not found in type {name!r}", value_id=value_id,
                       name=code_type.name, errors={field: ["not found"]} if field else None)
    return value


def create_code_value(session: Session, *, actor: User, code_type: ActivityCodeType, value: str,
                      description: str = "", parent_id: int | None = None, seq: int = 0,
                      color: str = "") -> ActivityCodeValue:
    """A new value of ``code_type``, under the value ``parent_id`` when given (the rights of the type's scope)."""
    _authorize_type(session, user=actor, code_type=code_type, permission=Permission.edit)
    item = ActivityCodeValue(type_id=code_type.id, seq=seq)
    _set_value_fields(session, code_type, item, value=value, description=description, parent_id=parent_id,
                      color=color)
    session.add(item)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=item, after=item.audit_state())
    return item


def update_code_value(session: Session, *, actor: User, code_type: ActivityCodeType, item: ActivityCodeValue,
                      **changes) -> ActivityCodeValue:
    """Change a value's short name, description, parent, order or colour (the rights of the type's scope)."""
    _authorize_type(session, user=actor, code_type=code_type, permission=Permission.edit)
    before = item.audit_state()
    fields = {key: changes.get(key, getattr(item, key)) for key in ("value", "description", "parent_id", "color")}
    _set_value_fields(session, code_type, item, **fields)
    if "seq" in changes:
        item.seq = changes["seq"]
    session.flush()
    if item.audit_state() != before:
        audit.record(session, actor=actor, action="update", entity=item, before=before, after=item.audit_state())
    return item


def delete_code_type(session: Session, *, actor: User, code_type: ActivityCodeType) -> int:
    """Delete a code type with all its values (the rights of its scope); returns how many activities held one of
    them and lost it."""
    _authorize_type(session, user=actor, code_type=code_type, permission=Permission.edit)
    values = session.scalar(select(func.count()).where(ActivityCodeValue.type_id == code_type.id))
    lost = _drop_values(session, type_id=code_type.id, value_ids=None)
    audit.record(session, actor=actor, action="delete", entity=code_type, before=code_type.audit_state(),
                 after={"values_deleted": values, "activities_losing_it": lost})
    session.delete(code_type)
    session.flush()
    return lost


def delete_code_value(session: Session, *, actor: User, code_type: ActivityCodeType,
                      item: ActivityCodeValue) -> int:
    """Delete a value of ``code_type`` and the values below it (the rights of the type's scope); returns how many
    activities held one of them and lost it."""
    _authorize_type(session, user=actor, code_type=code_type, permission=Permission.edit)
    if item.type_id != code_type.id:
        raise NotFound("activity code value {value_id} not found in type {name!r}", value_id=item.id,
                       name=code_type.name)
    children: dict[int | None, list[int]] = {}
    for value_id, parent_id in session.execute(select(ActivityCodeValue.id, ActivityCodeValue.parent_id)
                                               .where(ActivityCodeValue.type_id == code_type.id)):
        children.setdefault(parent_id, []).append(value_id)
    below, stack = {item.id}, [item.id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in below:
                below.add(child)
                stack.append(child)
    entry = audit.record(session, actor=actor, action="delete", entity=item, before=item.audit_state())
    lost = _drop_values(session, type_id=code_type.id, value_ids=below)
    entry.after = {"values_deleted": len(below), "activities_losing_it": lost}
    session.flush()
    return lost


def _drop_values(session: Session, *, type_id: int, value_ids: set[int] | None) -> int:
    """Delete the values ``value_ids`` of the type (all of them when None) and their assignments; how many
    activities held one."""
    chosen = [ActivityCodeValue.type_id == type_id]
    held = [ActivityCodeAssignment.type_id == type_id]
    if value_ids is not None:
        chosen.append(ActivityCodeValue.id.in_(value_ids))
        held.append(ActivityCodeAssignment.value_id.in_(value_ids))
    session.flush()
    lost = session.scalar(select(func.count()).select_from(ActivityCodeAssignment).where(*held)) or 0
    gone = set(session.scalars(select(ActivityCodeValue.id).where(*chosen)))
    session.execute(delete(ActivityCodeAssignment).where(*held).execution_options(synchronize_session=False))
    # Parents cleared first, so the rows go in any order on either database.
    session.execute(update(ActivityCodeValue).where(*chosen).values(parent_id=None)
                    .execution_options(synchronize_session=False))
    session.execute(delete(ActivityCodeValue).where(*chosen).execution_options(synchronize_session=False))
    # The session lets go of the deleted rows (and of the type's other assignments, flushed above: read again).
    for identity in list(session.identity_map.keys()):
        cls, key = identity[0], identity[1]
        if (cls is ActivityCodeValue and key[0] in gone) or (cls is ActivityCodeAssignment and key[1] == type_id):
            obj = session.identity_map.get(identity)
            if obj is not None:
                session.expunge(obj)
    return lost


def value_paths(session: Session, *, type_ids) -> dict[int, str]:
    """Each value of the types ``type_ids`` by id: its short names from the top of the tree, joined by dots
    ("BT.ESMS"), as P6 shows a hierarchical code."""
    rows = session.execute(select(ActivityCodeValue.id, ActivityCodeValue.parent_id, ActivityCodeValue.value)
                           .where(ActivityCodeValue.type_id.in_(list(type_ids)))).all()
    parents = {value_id: (parent_id, short) for value_id, parent_id, short in rows}
    paths: dict[int, str] = {}

    def path(value_id, depth=0):
        if value_id not in paths:
            parent_id, short = parents[value_id]
            above = path(parent_id, depth + 1) if parent_id in parents and depth < len(parents) else None
            paths[value_id] = f"{above}.{short}" if above else short
        return paths[value_id]

    for value_id in parents:
        path(value_id)
    return paths


def activity_codes(session: Session, *, activity: Activity) -> list[ActivityCodeAssignment]:
    """The activity's code values (the caller has read its project), by type."""
    return session.scalars(select(ActivityCodeAssignment).where(ActivityCodeAssignment.activity_id == activity.id)
                           .order_by(ActivityCodeAssignment.type_id)).all()


def set_activity_codes(session: Session, *, actor: User, project: Project, activity: Activity,
                       values: dict[int, int | None]) -> list[ActivityCodeAssignment]:
    """Set the activity's value of each code type in ``values`` (type id → value id; None clears it); types not
    named keep their value. Edit rights on the project; each type must apply to the project."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    types = {t.id: t for t in session.scalars(select(ActivityCodeType).where(
        ActivityCodeType.id.in_(list(values)), applicable_types(project)))}
    unknown = sorted(set(values) - set(types))
    if unknown:
        raise Invalid("activity code types {ids} do not apply to project {code}",
                      ids=", ".join(map(str, unknown)), code=project.code,
                      errors={"codes": [f"type {type_id} unknown here" for type_id in unknown]})
    wanted = {value_id for value_id in values.values() if value_id is not None}
    known = dict(session.execute(select(ActivityCodeValue.id, ActivityCodeValue.type_id)
                                 .where(ActivityCodeValue.id.in_(wanted))).all())
    wrong = sorted((type_id, value_id) for type_id, value_id in values.items()
                   if value_id is not None and known.get(value_id) != type_id)
    if wrong:
        raise Invalid("activity code values {values} are not values of their types",
                      values=", ".join(f"{v} (type {t})" for t, v in wrong),
                      errors={"codes": [f"value {v} is not a value of type {t}" for t, v in wrong]})
    current = {a.type_id: a for a in activity_codes(session, activity=activity)}
    before = {str(t): a.value_id for t, a in current.items()}
    for type_id, value_id in values.items():
        held = current.get(type_id)
        if value_id is None:
            if held is not None:
                session.delete(held)
        elif held is None:
            session.add(ActivityCodeAssignment(activity_id=activity.id, type_id=type_id, value_id=value_id))
        else:
            held.value_id = value_id
    session.flush()
    after = {str(a.type_id): a.value_id for a in activity_codes(session, activity=activity)}
    if after != before:
        audit.record(session, actor=actor, action="set_codes", entity=activity, before={"codes": before},
                     after={"codes": after})
    return activity_codes(session, activity=activity)


@eps_services.on_move
def drop_inapplicable_codes(session: Session, *, actor: User, move: eps_services.Move,
                            warnings: list[str] | None = None) -> None:
    """After any move in the EPS (a listener of :func:`eps.services.on_move`): remove from the activities of the
    projects it carried the values of code types that no longer apply to them, audited on each project
    (``drop_codes``); a line per project whose activities lost values is appended to ``warnings``."""
    # The moved projects whose activities hold values of types that are not global (most hold none).
    coded = session.execute(
        move.projects().with_only_columns(Project.id, Project.eps_node_id, Project.path).distinct()
        .join(Activity, Activity.project_id == Project.id)
        .join(ActivityCodeAssignment, ActivityCodeAssignment.activity_id == Activity.id)
        .join(ActivityCodeType, ActivityCodeType.id == ActivityCodeAssignment.type_id)
        .where(ActivityCodeType.scope != "global")).all()
    by_node: dict[int, tuple[str, list[int]]] = {}
    for project_id, node_id, path in coded:
        by_node.setdefault(node_id, (path, []))[1].append(project_id)
    stale: dict[int, list[tuple[int, str, int]]] = {}
    # The projects of one node share their ancestors: one question per node among those.
    for path, project_ids in by_node.values():
        for project_id, type_id, name, count in session.execute(
                select(Activity.project_id, ActivityCodeType.id, ActivityCodeType.name, func.count())
                .join(ActivityCodeAssignment, ActivityCodeAssignment.activity_id == Activity.id)
                .join(ActivityCodeType, ActivityCodeType.id == ActivityCodeAssignment.type_id)
                .where(Activity.project_id.in_(project_ids),
                       ~_applying_at(path, project_id=Activity.project_id))
                .group_by(Activity.project_id, ActivityCodeType.id, ActivityCodeType.name)):
            stale.setdefault(project_id, []).append((type_id, name, count))
    if not stale:
        return
    for project in session.scalars(select(Project).where(Project.id.in_(list(stale))).order_by(Project.id)):
        types = stale[project.id]
        names = sorted(name for _id, name, _count in types)
        count = sum(n for _id, _name, n in types)
        session.execute(delete(ActivityCodeAssignment)
                        .where(ActivityCodeAssignment.type_id.in_([type_id for type_id, _n, _c in types]),
                               ActivityCodeAssignment.activity_id.in_(
                                   select(Activity.id).where(Activity.project_id == project.id)))
                        # fetch: the session forgets the values it holds of the rows removed
                        .execution_options(synchronize_session="fetch"))
        audit.record(session, actor=actor, action="drop_codes", entity=project,
                     before={"code_assignments": count, "code_types": names})
        if warnings is not None:
            warnings.append(f"project {project.code}: {count} activity code values of EPS code types that do not "
                            f"apply in its new place were removed ({', '.join(names)})")
    session.flush()


def filter_by_code(session: Session, *, project: Project, query, code: str):
    """``query`` (of activities) narrowed to those holding the value ``code`` names, or a value below it:
    ``"<type>:<value>"``, the type by name (or id) among those that apply to ``project``, the value by its short
    name or its path of short names ("BT.ESMS"). Invalid naming the part not found."""
    type_part, sep, value_part = (code or "").partition(":")
    if not sep or not type_part.strip() or not value_part.strip():
        raise Invalid("a code filter is <type>:<value>, e.g. Phase:DES", errors={"code": ["<type>:<value>"]})
    type_part, value_part = type_part.strip(), value_part.strip()
    types = session.scalars(list_code_types(session, project=project)).all()
    chosen = [t for t in types if t.name == type_part or str(t.id) == type_part]
    if not chosen:
        raise Invalid("no activity code type {name!r} applies to project {code}", name=type_part, code=project.code,
                      errors={"code": [f"no code type {type_part!r} here"]})
    type_ids = [t.id for t in chosen]
    paths = value_paths(session, type_ids=type_ids)
    wanted = {value_id for value_id, path in paths.items()
              if path == value_part or path.rsplit(".", 1)[-1] == value_part}
    if not wanted:
        raise Invalid("activity code {name!r} has no value {value!r}", name=type_part, value=value_part,
                      errors={"code": [f"no value {value_part!r}"]})
    below = {value_id for value_id, path in paths.items()
             if any(path.startswith(paths[w] + ".") for w in wanted)}
    held = select(ActivityCodeAssignment.activity_id).where(ActivityCodeAssignment.value_id.in_(wanted | below))
    return query.where(Activity.id.in_(held))


def authorize_new_type(session: Session, *, user: User, scope: str, eps_node_id: int | None = None,
                       project_id: int | None = None) -> None:
    """Forbidden (or NotFound) unless ``user`` may create a code type of ``scope`` there."""
    code_type = ActivityCodeType(scope=scope, eps_node_id=eps_node_id if scope == "eps" else None,
                                 project_id=project_id if scope == "project" else None)
    _authorize_type(session, user=user, code_type=code_type, permission=Permission.edit)


def get_project_code_type_or_raise(session: Session, *, user: User, project: Project, type_id: int,
                                   field: str | None = None) -> ActivityCodeType:
    """A code type that applies to ``project`` (which the caller has read); NotFound for any other id."""
    code_type = session.scalar(select(ActivityCodeType).where(ActivityCodeType.id == type_id,
                                                             applicable_types(project)))
    if code_type is None:
        raise NotFound("no activity code type {type_id} applies to project {code}", type_id=type_id,
                       code=project.code, errors={field: ["not found"]} if field else None)
    return code_type


def node_code_types(session: Session, *, node: EpsNode):
    """A select of the EPS node's own code types (the caller has read the node), by seq then name."""
    return (select(ActivityCodeType).where(ActivityCodeType.scope == "eps", ActivityCodeType.eps_node_id == node.id)
            .order_by(ActivityCodeType.seq, ActivityCodeType.name, ActivityCodeType.id))


def may_create_type(session: Session, *, user: User, scope: str, eps_node_id: int | None = None,
                    project_id: int | None = None) -> bool:
    """Whether ``user`` may create a code type of ``scope`` there (to show the controls)."""
    try:
        authorize_new_type(session, user=user, scope=scope, eps_node_id=eps_node_id, project_id=project_id)
    except (Forbidden, NotFound):
        return False
    return True


def may_change_type(session: Session, *, user: User, code_type: ActivityCodeType) -> bool:
    """Whether ``user`` may change ``code_type`` and add values to it (to show the controls)."""
    try:
        _authorize_type(session, user=user, code_type=code_type, permission=Permission.edit)
    except (Forbidden, NotFound):
        return False
    return True


def value_tree(values) -> list[tuple[ActivityCodeValue, int]]:
    """``values`` (of one type, in ``list_code_values`` order) in tree order: each value followed by those below
    it, with its depth (0 at the top). A value whose parent is not among them is shown at the top."""
    values = list(values)
    ids = {value.id for value in values}
    below: dict[int | None, list[ActivityCodeValue]] = {}
    for value in values:
        below.setdefault(value.parent_id if value.parent_id in ids else None, []).append(value)
    ordered: list[tuple[ActivityCodeValue, int]] = []
    seen: set[int] = set()
    stack = [(value, 0) for value in reversed(below.get(None, []))]
    while stack:
        value, depth = stack.pop()
        if value.id in seen:
            continue
        seen.add(value.id)
        ordered.append((value, depth))
        stack.extend((child, depth + 1) for child in reversed(below.get(value.id, [])))
    return ordered


def type_values(session: Session, *, type_ids) -> dict[int, list[tuple[ActivityCodeValue, int]]]:
    """The values of each type of ``type_ids`` in tree order with their depth (``value_tree``), in one query."""
    by_type: dict[int, list[ActivityCodeValue]] = {type_id: [] for type_id in type_ids}
    if by_type:
        query = (select(ActivityCodeValue).where(ActivityCodeValue.type_id.in_(list(by_type)))
                 .order_by(ActivityCodeValue.seq, ActivityCodeValue.value, ActivityCodeValue.id))
        for value in session.scalars(query):
            by_type[value.type_id].append(value)
    return {type_id: value_tree(values) for type_id, values in by_type.items()}


def group_by_code(session: Session, *, query, code_type: ActivityCodeType, then=()):
    """``query`` (of activities) ordered by the activity's value of ``code_type``: the values in tree order, the
    activities without one last; within a value by ``then`` (columns of Activity)."""
    ranks = {value.id: rank for rank, (value, _depth) in
             enumerate(type_values(session, type_ids=[code_type.id])[code_type.id])}
    held = select(ActivityCodeAssignment.value_id).where(
        and_(ActivityCodeAssignment.activity_id == Activity.id, ActivityCodeAssignment.type_id == code_type.id)
    ).scalar_subquery()
    first = [case(ranks, value=held, else_=len(ranks))] if ranks else []
    return query.order_by(None).order_by(*first, *then, Activity.id)


def values_of(session: Session, *, code_type: ActivityCodeType, activity_ids) -> dict[int, int]:
    """The value (id) of ``code_type`` each of ``activity_ids`` holds, by activity id (those holding none left
    out)."""
    ids = list(activity_ids)
    if not ids:
        return {}
    return dict(session.execute(select(ActivityCodeAssignment.activity_id, ActivityCodeAssignment.value_id).where(
        ActivityCodeAssignment.type_id == code_type.id, ActivityCodeAssignment.activity_id.in_(ids))).all())


def _authorize_type(session: Session, *, user: User, code_type: ActivityCodeType, permission: Permission) -> None:
    if code_type.scope == "global":
        if permission is not Permission.read and not user.is_admin:
            raise Forbidden("only administrators change global activity codes")
        return
    if code_type.scope == "eps":
        obj = session.get(EpsNode, code_type.eps_node_id)
    else:
        obj = session.get(Project, code_type.project_id)
    authorize(session, user=user, obj=obj, permission=permission)


def _type_name(session: Session, code_type: ActivityCodeType, name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > TYPE_NAME_LENGTH:
        raise Invalid("an activity code type's name is 1 to {limit} characters", limit=TYPE_NAME_LENGTH,
                      errors={"name": [f"1 to {TYPE_NAME_LENGTH} characters"]})
    taken = session.scalar(select(func.count()).where(
        ActivityCodeType.scope == code_type.scope, ActivityCodeType.name == name,
        ActivityCodeType.eps_node_id.is_(None) if code_type.eps_node_id is None
        else ActivityCodeType.eps_node_id == code_type.eps_node_id,
        ActivityCodeType.project_id.is_(None) if code_type.project_id is None
        else ActivityCodeType.project_id == code_type.project_id,
        ActivityCodeType.id != (code_type.id or 0)))
    if taken:
        raise Conflict("an activity code type named {name!r} already exists there", name=name,
                       errors={"name": ["already in use"]})
    return name


def _max_length(value: int) -> int:
    if not isinstance(value, int) or not 1 <= value <= MAX_SHORT_LENGTH:
        raise Invalid("an activity code's maximum length is 1 to {limit}", limit=MAX_SHORT_LENGTH,
                      errors={"max_length": [f"1 to {MAX_SHORT_LENGTH}"]})
    return value


def _set_value_fields(session: Session, code_type: ActivityCodeType, item: ActivityCodeValue, *, value: str,
                      description: str, parent_id: int | None, color: str) -> None:
    value = (value or "").strip()
    if not value or len(value) > code_type.max_length:
        raise Invalid("a value of activity code type {name!r} is 1 to {limit} characters", name=code_type.name,
                      limit=code_type.max_length, errors={"value": [f"1 to {code_type.max_length} characters"]})
    description = (description or "").strip()
    if len(description) > NAME_LENGTH:
        raise Invalid("an activity code value's description is at most {limit} characters", limit=NAME_LENGTH,
                      errors={"description": [f"at most {NAME_LENGTH} characters"]})
    color = (color or "").strip().upper()
    if color and (len(color) != 6 or any(c not in "0123456789ABCDEF" for c in color)):
        raise Invalid("an activity code value's colour is six hexadecimal digits (RRGGBB)",
                      errors={"color": ["six hexadecimal digits"]})
    if parent_id is not None:
        parent = session.get(ActivityCodeValue, parent_id)
        if parent is None or parent.type_id != code_type.id:
            raise Invalid("the parent of a value of activity code type {name!r} is another value of that type",
                          name=code_type.name, errors={"parent_id": ["not a value of this type"]})
        ancestor = parent
        while ancestor is not None:
            if item.id is not None and ancestor.id == item.id:
                raise Invalid("an activity code value cannot be under itself or its own children",
                              errors={"parent_id": ["would make a loop"]})
            ancestor = session.get(ActivityCodeValue, ancestor.parent_id) if ancestor.parent_id else None
    taken = session.scalar(select(func.count()).where(
        ActivityCodeValue.type_id == code_type.id, ActivityCodeValue.value == value,
        ActivityCodeValue.parent_id.is_(None) if parent_id is None else ActivityCodeValue.parent_id == parent_id,
        ActivityCodeValue.id != (item.id or 0)))
    if taken:
        raise Conflict("activity code type {name!r} already has the value {value!r} there", name=code_type.name,
                       value=value, errors={"value": ["already in use among its siblings"]})
    item.value, item.description, item.parent_id, item.color = value, description, parent_id, color

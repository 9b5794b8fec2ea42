"""Creating, changing, moving and deleting EPS nodes and projects, with access checks and audit.

A move (:func:`move_node`, :func:`move_project`) tells the listeners registered with :func:`on_move`, in its
transaction, once the tree is rewritten: the layers above the EPS keep what depends on a project's place in step
with it that way, whoever moved it (the EPS imports none of them). The WBS drops there the activity code values
of EPS code types that no longer apply (``wbs.codes``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, case, func, literal, select, update
from sqlalchemy.orm import Session

from crmpm import audit, codes
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound, Phrase
from crmpm.search import contains
from crmpm.statements import built_once
from crmpm.users.models import User
from eps.models import (CODE_LENGTH, NAME_LENGTH, BudgetChange, EpsNode, Grant, Project, SpendingPlanEntry,
                        node_segment, project_segment)
from eps import budgets
from eps.permissions import Permission, access_to, authorize, visible

# Loading with access checks

def get_node_or_raise(session: Session, *, user: User, node_id: int,
                      permission: Permission = Permission.read, field: str | None = None) -> EpsNode:
    """The node, if ``user`` has ``permission`` on it; NotFound (naming ``field``) when absent or unreadable."""
    node = session.get(EpsNode, node_id)
    if node is None:
        raise NotFound("EPS node {node_id} not found",
                       node_id=node_id, errors={field: ["not found"]} if field else None)
    try:
        authorize(session, user=user, obj=node, permission=permission)
    except NotFound:
        raise NotFound("EPS node {node_id} not found",
                       node_id=node_id, errors={field: ["not found"]} if field else None) from None
    return node


def get_project_or_raise(session: Session, *, user: User, project_id: int,
                         permission: Permission = Permission.read, field: str | None = None) -> Project:
    """The project, if ``user`` has ``permission`` on it; NotFound when absent or unreadable."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("project {project_id} not found",
                       project_id=project_id, errors={field: ["not found"]} if field else None)
    try:
        authorize(session, user=user, obj=project, permission=permission)
    except NotFound:
        raise NotFound("project {project_id} not found",
                       project_id=project_id, errors={field: ["not found"]} if field else None) from None
    return project


# Nodes


def list_nodes(session: Session, *, user: User, parent_id: int | None = None, under: EpsNode | None = None,
               roots: bool = False, search: str | None = None) -> Select:
    """A select of the nodes ``user`` may read, in tree order, optionally children, subtree or roots only."""
    query = select(EpsNode).where(visible(session, user=user, model=EpsNode)).order_by(EpsNode.path)
    if parent_id is not None:
        query = query.where(EpsNode.parent_id == parent_id)
    if roots:
        query = query.where(EpsNode.parent_id.is_(None))
    if under is not None:
        query = query.where(EpsNode.path.like(f"{under.path}%"), EpsNode.id != under.id)
    matches = contains([EpsNode.name, EpsNode.code], search)
    if matches is not None:
        query = query.where(matches)
    return query


def breadcrumbs(session: Session, *, user: User, obj: EpsNode | Project) -> list[EpsNode]:
    """The readable nodes above ``obj``, root first (unreadable ancestors are left out, not revealed)."""
    ids = obj.ancestor_ids
    if not ids:
        return []
    nodes = session.scalars(
        select(EpsNode).where(EpsNode.id.in_(ids), visible(session, user=user, model=EpsNode))
    ).all()
    return sorted(nodes, key=lambda node: node.depth)


def _check_code_free(session: Session, model, code: str, *, exclude_id: int | None = None) -> None:
    query = select(model.id).where(model.code == code)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    if session.scalar(query) is not None:
        what = Phrase("an EPS node") if model is EpsNode else Phrase("a project")
        raise Conflict("{what} with code {code!r} already exists",
                       what=what, code=code, errors={"code": ["already in use"]})


FIRST_CANDIDATES = 10  # a code and its suffixes -2 … -10, looked up at once


def unused_code(session: Session, *, model, name: str, fallback: str = "X") -> str:
    """A free code for a new ``model`` (EpsNode or Project) made from ``name``: ``crmpm.codes.code_from_name``."""
    base = codes.base_code(name, fallback=fallback)
    # The first few candidates by the unique index; the prefix (which may scan) only when all of them are taken.
    candidates = [base] + [codes.with_suffix(base, number, CODE_LENGTH) for number in range(2, FIRST_CANDIDATES + 1)]
    used = set(session.scalars(select(model.code).where(model.code.in_(candidates))))
    if len(used) == len(candidates):
        used.update(session.scalars(select(model.code).where(model.code.like(f"{base}%"))))
    return codes.code_from_name(name, taken=used.__contains__, fallback=fallback, limit=CODE_LENGTH)


BULK_CODES = 50  # past this many names, all codes of the table are read once rather than one prefix per name


def unused_codes(session: Session, *, model, names: list[str], fallback: str = "X") -> list[str]:
    """Free codes for many new rows at once (for multi-row inserts), distinct from each other too."""
    if len(names) > BULK_CODES:
        used = set(session.scalars(select(model.code)))
    else:
        bases = {codes.base_code(name, fallback=fallback) for name in names}
        used = set()
        for base in bases:
            used.update(session.scalars(select(model.code).where(model.code.like(f"{base}%"))))
    return codes.codes_from_names(names, used=used, fallback=fallback, limit=CODE_LENGTH)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_code_and_name(code: str, name: str) -> None:
    """An EPS code is 1 to 40 characters, a name 1 to 200, neither with control characters nor blank."""
    problems = {}
    for field, value, limit in (("code", code, CODE_LENGTH), ("name", name, NAME_LENGTH)):
        if not value.strip():
            problems[field] = ["required"]
        elif len(value) > limit:
            problems[field] = [f"at most {limit} characters"]
        elif _CONTROL.search(value):
            problems[field] = ["control characters are not allowed"]
    if problems:
        raise Invalid("EPS node {code!r}: {problems}", code=code,
                      problems="; ".join(f"{field} {', '.join(why)}" for field, why in problems.items()),
                      errors=problems)


def create_node(session: Session, *, actor: User, code: str, name: str, parent: EpsNode | None,
                protected: bool = False, content: bool = False) -> EpsNode:
    """A new node under ``parent`` (manage rights there), or a new root (administrators).

    ``content``: the node is content of its parent rather than structure, as a
    client account's node is of its branch; edit rights on the parent suffice,
    and it cannot be protected (protection decides who sees what: structure).
    """
    if parent is None:
        if not actor.is_admin:
            raise Forbidden("only administrators create root EPS nodes")
    else:
        needed = Permission.edit if content and not protected else Permission.manage
        authorize(session, user=actor, obj=parent, permission=needed)
    check_code_and_name(code, name)
    _check_code_free(session, EpsNode, code)
    node = EpsNode(code=code, name=name, parent_id=parent.id if parent else None, path="",
                   depth=(parent.depth + 1) if parent else 0, protected=protected, protect_path="")
    session.add(node)
    session.flush()
    node.path = f"{parent.path if parent else '/'}{node_segment(node.id)}/"
    node.protect_path = node.path if protected else (parent.protect_path if parent else "")
    session.flush()
    audit.record(session, actor=actor, action="create", entity=node, after=node.audit_state())
    return node


def update_node(session: Session, *, actor: User, node: EpsNode, code: str | None = None, name: str | None = None,
                protected: bool | None = None) -> EpsNode:
    """Rename a node or change its code (edit rights); protect or unprotect it (manage rights above it)."""
    authorize(session, user=actor, obj=node, permission=Permission.edit)
    check_code_and_name(node.code if code is None else code, node.name if name is None else name)
    before = node.audit_state()
    if code is not None and code != node.code:
        _check_code_free(session, EpsNode, code, exclude_id=node.id)
        node.code = code
    if name is not None:
        node.name = name
    if protected is not None and protected != node.protected:
        _require_manage_above(session, actor=actor, node=node)
        _set_protected(session, node=node, protected=protected)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=node, before=before, after=node.audit_state())
    return node


def _require_manage_above(session: Session, *, actor: User, node: EpsNode) -> None:
    # Protection decides what the grants above a node reach, so it is theirs to set.
    if actor.is_admin:
        return
    if node.parent_id is None:
        raise Forbidden("only administrators protect or unprotect root EPS nodes")
    parent = session.get(EpsNode, node.parent_id)
    if not access_to(session, user=actor, obj=parent).can(Permission.manage):
        raise Forbidden("manage rights on the parent EPS node {parent_id} are needed to change protection",
                        parent_id=parent.id)


def _set_protected(session: Session, *, node: EpsNode, protected: bool) -> None:
    inherited = session.get(EpsNode, node.parent_id).protect_path if node.parent_id else ""
    in_subtree_nodes = EpsNode.path.like(f"{node.path}%")
    in_subtree_projects = Project.path.like(f"{node.path}%")
    if protected:
        # Rows whose boundary lies above this node now stop here; deeper boundaries stay.
        for model, where in ((EpsNode, in_subtree_nodes), (Project, in_subtree_projects)):
            session.execute(
                update(model).where(where, func.length(model.protect_path) < len(node.path))
                .values(protect_path=node.path).execution_options(synchronize_session=False))
    else:
        for model, where in ((EpsNode, in_subtree_nodes), (Project, in_subtree_projects)):
            session.execute(
                update(model).where(where, model.protect_path == node.path)
                .values(protect_path=inherited).execution_options(synchronize_session=False))
    node.protected = protected
    session.flush()
    session.expire_all()


# Moves, and who is told of them


@dataclass(frozen=True)
class Move:
    """What a move changed, as its listeners are told: the node or project moved, its path before and after.

    Every project whose place changed is under ``new_path`` now (the project itself, or the moved subtree's).
    """

    moved: EpsNode | Project
    old_path: str
    new_path: str

    def projects(self) -> Select:
        """A select of the projects the move carried (their paths already rewritten)."""
        return select(Project).where(Project.path.like(f"{self.new_path}%")).order_by(Project.id)


MoveListener = Callable[..., None]
"""``listener(session, *, actor, move, warnings)``: runs in the move's transaction, after the tree is rewritten and
the move audited; it may write (and audit) in ``session``, append what the user should hear to ``warnings`` (a
list, or None when the caller does not ask), and raise a domain error to refuse the move (the caller's transaction
then rolls back)."""

_move_listeners: list[MoveListener] = []


def on_move(listener: MoveListener) -> MoveListener:
    """Tell ``listener`` of every move of a node or a project from now on (registering it twice is once)."""
    if listener not in _move_listeners:
        _move_listeners.append(listener)
    return listener


def move_listeners() -> tuple[MoveListener, ...]:
    """The listeners a move tells, in the order they were registered."""
    return tuple(_move_listeners)


def _tell_moved(session: Session, *, actor: User, move: Move, warnings: list[str] | None) -> None:
    for listener in tuple(_move_listeners):
        listener(session, actor=actor, move=move, warnings=warnings)


def move_node(session: Session, *, actor: User, node: EpsNode, new_parent: EpsNode | None,
              warnings: list[str] | None = None) -> EpsNode:
    """Move ``node`` and its whole subtree under ``new_parent`` (manage rights on both ends); the listeners of
    moves (:func:`on_move`) follow, adding to ``warnings`` what the caller should say."""
    authorize(session, user=actor, obj=node, permission=Permission.manage)
    if new_parent is None:
        if not actor.is_admin:
            raise Forbidden("only administrators move EPS nodes to the top level")
    else:
        authorize(session, user=actor, obj=new_parent, permission=Permission.manage)
        if new_parent.path.startswith(node.path):
            relation = Phrase("itself") if new_parent.id == node.id else Phrase("its own descendant")
            raise Conflict(
                "cannot move EPS node {node_code} (id {node_id}) under {relation} "
                "{new_parent_code} (id {new_parent_id})",
                node_code=node.code, node_id=node.id, relation=relation, new_parent_code=new_parent.code,
                new_parent_id=new_parent.id,
                errors={"parent_id": [f"{new_parent.code} is inside the subtree of {node.code}"]})
    if node.parent_id == (new_parent.id if new_parent else None):
        return node
    before, old_path = node.audit_state(), node.path
    if new_parent is not None:
        budgets.check_room_for_move(session, obj=node, new_parent=new_parent)
    _relocate(session, node=node, new_parent=new_parent)
    session.refresh(node)
    audit.record(session, actor=actor, action="move", entity=node, before=before, after=node.audit_state())
    _tell_moved(session, actor=actor, move=Move(moved=node, old_path=old_path, new_path=node.path),
                warnings=warnings)
    return node


def _relocate(session: Session, *, node: EpsNode, new_parent: EpsNode | None) -> None:
    """Rewrite path, depth and protection boundary of the subtree in two set-based updates."""
    old_prefix = node.path
    new_prefix = f"{new_parent.path if new_parent else '/'}{node_segment(node.id)}/"
    depth_shift = ((new_parent.depth + 1) if new_parent else 0) - node.depth
    inherited = new_parent.protect_path if new_parent else ""
    old_length = len(old_prefix)
    for model in (EpsNode, Project):
        inside = model.protect_path.like(f"{old_prefix}%")
        session.execute(
            update(model)
            .where(model.path.like(f"{old_prefix}%"))
            .values(
                path=literal(new_prefix) + func.substr(model.path, old_length + 1),
                depth=model.depth + depth_shift,
                protect_path=case(
                    (inside, literal(new_prefix) + func.substr(model.protect_path, old_length + 1)),
                    else_=literal(inherited),
                ),
            )
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(EpsNode).where(EpsNode.id == node.id)
        .values(parent_id=new_parent.id if new_parent else None)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.expire_all()


def delete_node(session: Session, *, actor: User, node: EpsNode) -> None:
    """Delete an empty node (manage rights); refused while it holds child nodes or projects."""
    authorize(session, user=actor, obj=node, permission=Permission.manage)
    if node.parent_id is None and not actor.is_admin:
        raise Forbidden("only administrators delete root EPS nodes")
    children = session.scalar(select(func.count()).select_from(EpsNode).where(EpsNode.parent_id == node.id))
    projects = session.scalar(select(func.count()).select_from(Project).where(Project.eps_node_id == node.id))
    if children or projects:
        raise Conflict("EPS node {code} still holds {children} child node(s) and {projects} project(s); "
                       "move or delete them first", code=node.code, children=children, projects=projects)
    if node.current_budget != Decimal("0.00"):
        raise Conflict("EPS node {code} still holds a current budget of {current_budget}; "
                       "bring it to zero first", code=node.code, current_budget=node.current_budget)
    _delete_dependents(session, actor=actor, eps_node_id=node.id)
    audit.record(session, actor=actor, action="delete", entity=node, before=node.audit_state())
    session.delete(node)
    session.flush()


def _delete_dependents(session: Session, *, actor: User, eps_node_id: int | None = None,
                       project_id: int | None = None) -> None:
    # Grants, budget changes and plans belong to their node; they go with it, each grant audited.
    for model in (Grant, BudgetChange, SpendingPlanEntry):
        column = model.eps_node_id if eps_node_id is not None else model.project_id
        for row in session.scalars(select(model).where(column == (eps_node_id or project_id))):
            if model is Grant:
                audit.record(session, actor=actor, action="delete", entity=row, before=row.audit_state())
            session.delete(row)
    session.flush()


# Projects


def list_projects(session: Session, *, user: User, eps_node: EpsNode | None = None, direct_only: bool = False,
                  search: str | None = None) -> Select:
    """A select of the projects ``user`` may read, optionally under one node (or directly under it)."""
    place = None if eps_node is None else (eps_node.id, eps_node.path, direct_only)
    if search and search.strip():
        return _projects_select.__wrapped__(visible(session, user=user, model=Project), place, search)
    return _projects_select(visible(session, user=user, model=Project), place, None)


@built_once
def _projects_select(readable, place: tuple[int, str, bool] | None, search: str | None) -> Select:
    query = select(Project).where(readable).order_by(Project.code, Project.id)
    if place is not None:
        node_id, node_path, direct_only = place
        query = query.where(Project.eps_node_id == node_id if direct_only else Project.path.like(f"{node_path}%"))
    matches = contains([Project.name, Project.code], search)
    if matches is not None:
        query = query.where(matches)
    return query


def project_place(*, project_id: int, eps_node: EpsNode, protected: bool = False) -> dict:
    """Where project ``project_id`` sits under ``eps_node``: its ``path``, ``depth`` and ``protect_path``.

    The one place a project's path is built (fixed-width segment, ``eps.models.project_segment``).
    """
    path = f"{eps_node.path}{project_segment(project_id)}/"
    return {"path": path, "depth": eps_node.depth + 1, "protect_path": path if protected else eps_node.protect_path}


def new_project_row(*, project_id: int, code: str, name: str, eps_node: EpsNode, description: str = "") -> dict:
    """The ``projects`` row of a new unprotected project whose id is already taken, for multi-row inserts.

    The caller has checked the rights on ``eps_node`` and that ``code`` is free.
    """
    return {"id": project_id, "code": code, "name": name, "eps_node_id": eps_node.id, "protected": False,
            "description": description, **project_place(project_id=project_id, eps_node=eps_node)}


def create_project(session: Session, *, actor: User, code: str, name: str, eps_node: EpsNode,
                   description: str = "", protected: bool = False) -> Project:
    """A new project under ``eps_node`` (edit rights there)."""
    authorize(session, user=actor, obj=eps_node, permission=Permission.edit)
    _check_code_free(session, Project, code)
    project = Project(code=code, name=name, eps_node_id=eps_node.id, path="", depth=eps_node.depth + 1,
                      protected=protected, protect_path="", description=description)
    session.add(project)
    session.flush()
    _place(project, eps_node)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=project, after=project.audit_state())
    return project


def _place(project: Project, eps_node: EpsNode) -> None:
    for key, value in project_place(project_id=project.id, eps_node=eps_node, protected=project.protected).items():
        setattr(project, key, value)


def update_project(session: Session, *, actor: User, project: Project, **changes) -> Project:
    """Change a project's code, name, description or costs (edit rights); protection needs manage rights."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    before = project.audit_state()
    if "code" in changes and changes["code"] != project.code:
        _check_code_free(session, Project, changes["code"], exclude_id=project.id)
    protected = changes.pop("protected", None)
    for key, value in changes.items():
        setattr(project, key, value)
    if protected is not None and protected != project.protected:
        node = session.get(EpsNode, project.eps_node_id)
        if not actor.is_admin and not access_to(session, user=actor, obj=node).can(Permission.manage):
            raise Forbidden("manage rights on EPS node {node_id} are needed to change the project's protection",
                            node_id=node.id)
        project.protected = protected
        _place(project, node)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=project, before=before, after=project.audit_state())
    return project


def move_project(session: Session, *, actor: User, project: Project, eps_node: EpsNode,
                 warnings: list[str] | None = None) -> Project:
    """Move a project under another node (manage rights on the project and the new node); the listeners of
    moves (:func:`on_move`) follow, adding to ``warnings`` what the caller should say."""
    authorize(session, user=actor, obj=project, permission=Permission.manage)
    authorize(session, user=actor, obj=eps_node, permission=Permission.manage)
    if project.eps_node_id == eps_node.id:
        return project
    before = project.audit_state()
    budgets.check_room_for_move(session, obj=project, new_parent=eps_node)
    old_path = project.path
    project.eps_node_id = eps_node.id
    _place(project, eps_node)
    session.flush()
    audit.record(session, actor=actor, action="move", entity=project, before=before, after=project.audit_state())
    _tell_moved(session, actor=actor, move=Move(moved=project, old_path=old_path, new_path=project.path),
                warnings=warnings)
    return project


def delete_project(session: Session, *, actor: User, project: Project) -> None:
    """Delete a project (manage rights); its grants, budget log and plan go with it."""
    authorize(session, user=actor, obj=project, permission=Permission.manage)
    if project.current_budget != Decimal("0.00"):
        raise Conflict("project {code} still holds a current budget of {current_budget}; "
                       "bring it to zero first", code=project.code, current_budget=project.current_budget)
    _delete_dependents(session, actor=actor, project_id=project.id)
    audit.record(session, actor=actor, action="delete", entity=project, before=project.audit_state())
    session.delete(project)
    session.flush()

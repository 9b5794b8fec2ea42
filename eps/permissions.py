"""Effective access rights, computed from grants along the tree.

A grant on a node reaches the node and everything below it; a user's rights on
an object are the union of the grants (theirs and their teams') on the object
and its ancestors, stopping at the nearest protected node (``protect_path``).
Administrators pass everywhere. Lists are filtered in SQL with one prefix
condition per grant the user holds.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, case, false, func, literal_column, or_, select, true
from sqlalchemy.orm import Session

from crmpm.database import comma_joined, transaction_memo
from crmpm.rows import fetch_all
from crmpm.errors import Forbidden, NotFound, Phrase
from crmpm.users.models import User, team_members
from eps.models import EpsNode, Grant, Project, Role

__all__ = ["Access", "authorize", "Permission", "PERMISSION_WORDS", "ROLE_PERMISSIONS", "access_to", "accesses",
           "GRANTS_WITH_USER", "holder_ids", "keeps_books", "principal_grant_paths", "reader_ids", "reads_everything", "visible"]


class Permission(str, enum.Enum):
    """One thing a role allows."""

    read = "read"
    edit = "edit"  # change content: names, descriptions, costs, projects under a node
    manage = "manage"  # change structure and grants below the node
    budget = "budget"  # set budgets, approve budget changes


# A permission as messages name it ("manage rights on ..."), translatable by the pages.
PERMISSION_WORDS: dict[Permission, Phrase] = {
    Permission.read: Phrase("read"), Permission.edit: Phrase("edit"), Permission.manage: Phrase("manage"),
    Permission.budget: Phrase("budget"),
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.viewer: frozenset({Permission.read}),
    Role.editor: frozenset({Permission.read, Permission.edit}),
    Role.manager: frozenset({Permission.read, Permission.edit, Permission.manage}),
    Role.finance: frozenset({Permission.read, Permission.budget}),
}


@dataclass(frozen=True)
class Access:
    """A user's effective rights on one object, and the grants they come from."""

    is_admin: bool = False
    grants: tuple[Grant, ...] = field(default=())

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(grant.role for grant in self.grants)

    @property
    def permissions(self) -> frozenset[Permission]:
        if self.is_admin:
            return frozenset(Permission)
        return frozenset().union(*(ROLE_PERMISSIONS[role] for role in self.roles))

    def can(self, permission: Permission) -> bool:
        """Whether this access includes ``permission``."""
        return permission in self.permissions


def reachable_targets(obj: EpsNode | Project) -> tuple[list[int], int | None]:
    """The node ids and project id whose grants reach ``obj``: from its protection boundary down to itself."""
    parts = obj.path.strip("/").split("/")
    boundary = len(obj.protect_path.strip("/").split("/")) - 1 if obj.protect_path else 0
    reachable = parts[boundary:]
    node_ids = [int(part) for part in reachable if not part.startswith("p")]
    project_id = int(reachable[-1][1:]) if reachable and reachable[-1].startswith("p") else None
    return node_ids, project_id


def _principal_clause(user: User):
    teams = select(team_members.c.team_id).where(team_members.c.user_id == user.id).scalar_subquery()
    return or_(Grant.user_id == user.id, Grant.team_id.in_(teams))


def access_to(session: Session, *, user: User, obj: EpsNode | Project) -> Access:
    """The effective access of ``user`` on ``obj``."""
    if user.is_admin:
        return Access(is_admin=True)
    node_ids, project_id = reachable_targets(obj)
    target = Grant.eps_node_id.in_(node_ids) if node_ids else false()
    if project_id is not None:
        target = or_(target, Grant.project_id == project_id)
    grants = session.scalars(
        select(Grant).where(target, _principal_clause(user)).order_by(Grant.id)
    ).all()
    return Access(grants=tuple(grants))


def accesses(session: Session, *, user: User, objects: list[EpsNode | Project]) -> list[Access]:
    """``access_to`` for each of ``objects`` (a tree's worth), from one read of the user's grants."""
    if user.is_admin:
        return [Access(is_admin=True)] * len(objects)
    grants = session.scalars(select(Grant).where(_principal_clause(user)).order_by(Grant.id)).all()
    result = []
    for obj in objects:
        node_ids, project_id = reachable_targets(obj)
        nodes = set(node_ids)
        result.append(Access(grants=tuple(grant for grant in grants if grant.eps_node_id in nodes
                                          or (project_id is not None and grant.project_id == project_id))))
    return result


def reader_ids(obj: EpsNode | Project):
    """A select of the ids of the users who may read ``obj`` through a grant (theirs or a team's); admins aside."""
    return holder_ids(obj, Permission.read)


def holder_ids(obj: EpsNode | Project, permission: Permission):
    """A select of the ids of the users who hold ``permission`` on ``obj`` through a grant (theirs or a team's);
    admins aside."""
    node_ids, project_id = reachable_targets(obj)
    target = Grant.eps_node_id.in_(node_ids) if node_ids else false()
    if project_id is not None:
        target = or_(target, Grant.project_id == project_id)
    target = and_(target, Grant.role.in_([role for role, allowed in ROLE_PERMISSIONS.items() if permission in allowed]))
    direct = select(Grant.user_id).where(target, Grant.user_id.is_not(None))
    through_teams = select(team_members.c.user_id).join(Grant, Grant.team_id == team_members.c.team_id).where(target)
    return direct.union(through_teams)


def principal_grant_paths(session: Session, *, user: User, roles: tuple[Role, ...] | None = None) -> list[str]:
    """The paths of every node and project ``user`` holds a grant on (directly or through a team).

    Read once per transaction (``transaction_memo``): every list of a request filters by them. Asked
    without ``roles``, the same statement also reads what ``reads_everything`` needs. An API request has
    usually read them already, with its token (``GRANTS_WITH_USER``).
    """
    key = ("grant paths", user.id, roles)
    known = transaction_memo(session).get(key)
    if known is not None:
        return list(known)
    rows = fetch_all(session, _grant_paths_query(roles, with_roots=roles is None), {"user_id": user.id})
    return _remember_grant_rows(session, user, roles, rows)


def keeps_books(session: Session, *, user: User) -> bool:
    """Whether ``user`` does the company's bookkeeping work that belongs to no one project (bank statements, the
    unmatched payments, cost accounts and the exchange with accounting): an administrator, or a holder of a role
    with budget rights (the finance role) anywhere in the tree. What each project's rows allow is still checked on
    the project."""
    budget_roles = tuple(role for role, allowed in ROLE_PERMISSIONS.items() if Permission.budget in allowed)
    return user.is_admin or bool(principal_grant_paths(session, user=user, roles=budget_roles))


def _remember_grant_rows(session: Session, user: User, roles: tuple[Role, ...] | None, rows) -> list[str]:
    """Keep ``rows`` of ``_grant_paths_query`` (path, is a root, anything protected) in the transaction memo."""
    # Taken after the statement: its autoflush, if any, has emptied the memo taken before it.
    memo = transaction_memo(session)
    paths = sorted({path for path, is_root, _protected in rows if not is_root})
    memo[("grant paths", user.id, roles)] = paths
    if roles is None:
        roots = {path for path, is_root, _protected in rows if is_root}
        anything_protected = any(protected for _path, is_root, protected in rows if is_root)
        memo[("reads everything", user.id, tuple(paths))] = _covers(roots, anything_protected, paths)
    return list(paths)


@functools.lru_cache(maxsize=None)
def _grant_paths_query(roles: tuple[Role, ...] | None, with_roots: bool = False):
    # Built once per set of roles (every list runs it), with the user as a parameter.
    return _grant_rows(bindparam("user_id"), roles, with_roots)


def _grant_rows(user_id, roles: tuple[Role, ...] | None, with_roots: bool):
    # Rows are (path, is a root, anything protected): granted paths, then, with_roots, the roots of the tree.
    # ``user_id`` is a parameter, or the column of an enclosing statement's users (correlated, two levels up).
    correlated = (user_id.table,) if hasattr(user_id, "table") else ()
    teams = (select(team_members.c.team_id).where(team_members.c.user_id == user_id)
             .correlate(*correlated).scalar_subquery())
    conditions = [or_(Grant.user_id == user_id, Grant.team_id.in_(teams))]
    if roles is not None:
        conditions.append(Grant.role.in_(roles))
    granted = (false().label("is_root"), false().label("anything_protected"))
    node_paths = (select(EpsNode.path, *granted).join(Grant, Grant.eps_node_id == EpsNode.id).where(*conditions)
                  .correlate(*correlated))
    project_paths = (select(Project.path, *granted).join(Grant, Grant.project_id == Project.id).where(*conditions)
                     .correlate(*correlated))
    if not with_roots:
        return node_paths.union_all(project_paths)
    return node_paths.union_all(project_paths, _ROOTS_AND_PROTECTION)


class _GrantsReadWithUser:
    """The caller's grant rows, read by the statement that reads the caller (``crmpm.users.ReadWithUser``).

    Every API list filters by the caller's grants; reading them in the token's statement saves each
    request a round trip to the database. The rows of ``_grant_paths_query`` travel as one string:
    each path prefixed by "g" (granted), "r" (a root) or "R" (a root, and something is protected);
    paths hold only digits, "p" and "/", so "," separates them.
    """

    @functools.cached_property
    def column(self):
        rows = _grant_rows(User.__table__.c.id, None, with_roots=True).subquery()
        tagged = case((rows.c.is_root & rows.c.anything_protected, literal_column("'R'")),
                      (rows.c.is_root, literal_column("'r'")), else_=literal_column("'g'"))
        return (select(comma_joined(tagged + rows.c.path))
                .correlate(User.__table__).scalar_subquery().label("grant_rows"))

    def remember(self, session: Session, user: User, value: str | None) -> None:
        rows = [(item[1:], item[0] != "g", item[0] == "R") for item in (value or "").split(",") if item]
        _remember_grant_rows(session, user, None, rows)


GRANTS_WITH_USER = _GrantsReadWithUser()


# What an administrator may read: one object, like every other set of rights' condition.
EVERYTHING = true()


# The roots' paths, each with whether anything is protected. "= true" rather than "IS TRUE",
# so a partial index WHERE protected can answer it.
_ROOTS_AND_PROTECTION = select(
    EpsNode.path, true().label("is_root"),
    or_(select(EpsNode.id).where(EpsNode.protected == true()).exists(),
        select(Project.id).where(Project.protected == true()).exists()).label("anything_protected"),
).where(EpsNode.parent_id.is_(None))


def reads_everything(session: Session, *, user: User, paths: list[str]) -> bool:
    """Whether ``user`` may read every node and project: a grant on each root, and nothing protected.

    The common set-up (the sales team is a viewer at the top) then needs no row
    filter at all, which saves a join over every project on the largest lists.
    Usually answered by the statement that read ``paths`` (``principal_grant_paths``).
    """
    if user.is_admin:
        return True
    key = ("reads everything", user.id, tuple(paths))
    known = transaction_memo(session).get(key)
    if known is not None:
        return known
    rows = session.execute(_ROOTS_AND_PROTECTION).all()
    answer = _covers({path for path, _root, _protected in rows}, bool(rows) and rows[0].anything_protected, paths)
    transaction_memo(session)[key] = answer
    return answer


def _covers(roots: set[str], anything_protected: bool, paths: list[str]) -> bool:
    return bool(roots) and roots <= set(paths) and not anything_protected


def visible(session: Session, *, user: User, model: type[EpsNode] | type[Project], paths: list[str] | None = None):
    """A SQL condition true for the rows of ``model`` that ``user`` may read (the same object for the same rights,
    so statements built from it can be built once: ``crmpm.statements``)."""
    if user.is_admin:
        return EVERYTHING
    if paths is None:
        paths = principal_grant_paths(session, user=user)
    return _visible_condition(model, tuple(paths))


@functools.lru_cache(maxsize=4096)
def _visible_condition(model: type[EpsNode] | type[Project], paths: tuple[str, ...]):
    # Built once per set of granted paths (a SQL expression holds no rows, so it is the same for
    # everyone with those grants; building it costs more than running it on a page).
    # A path under another granted path adds nothing unless protection cuts the upper one off,
    # so every granted path keeps its own condition.
    # Paths hold only digits, "p" and "/", so they need no LIKE escaping; a literal prefix
    # pattern lets PostgreSQL use the path index.
    conditions = [
        and_(model.path.like(f"{path}%"), func.length(model.protect_path) <= len(path))
        for path in paths
    ]
    return or_(*conditions) if conditions else false()


def authorize(session: Session, *, user: User, obj: EpsNode | Project, permission: Permission) -> Access:
    """Raise NotFound if ``user`` may not read ``obj``, Forbidden if they lack ``permission``."""
    access = access_to(session, user=user, obj=obj)
    if not access.can(Permission.read):
        raise NotFound("{target} not found", target=_label(obj))
    if not access.can(permission):
        raise Forbidden("{permission} rights on {target} are needed for this",
                        permission=PERMISSION_WORDS[permission], target=_label(obj))
    return access


def _label(obj: EpsNode | Project) -> Phrase:
    return Phrase("EPS node {id}", id=obj.id) if isinstance(obj, EpsNode) else Phrase("project {id}", id=obj.id)

"""Read models of the pages: the rows of the budget tree, built from the EPS services' own queries.

Nothing here decides who may see what: every list comes from
``eps.services.list_nodes`` / ``list_projects`` (filtered in SQL by the
user's grants) and every figure from ``eps.budgets.figures``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from accounts.billing import figures as billing_figures
from crmpm.search import contains
from crmpm.users.models import User
from eps import budgets, services
from eps.models import EpsNode, Project
from eps.permissions import Permission, access_to, principal_grant_paths


@dataclass(frozen=True)
class TreeRow:
    """One line of a tree page: a node or a project, with its figures on the budget tree (None on the EPS page)."""

    obj: EpsNode | Project
    figures: budgets.BudgetFigures | None
    level: int
    has_children: bool
    # Billed, received and margin (``accounts.billing.figures``) on the budget tree; None on the EPS page.
    billing: billing_figures.BillingFigures | None = None

    @property
    def kind(self) -> str:
        return self.obj.kind

    @property
    def variance(self) -> Decimal:
        return self.figures.variance


@dataclass(frozen=True)
class RowsPage:
    rows: list[TreeRow]
    page: int
    per_page: int
    total: int

    @property
    def has_more(self) -> bool:
        return self.page * self.per_page < self.total

    @property
    def shown(self) -> int:
        return min(self.page * self.per_page, self.total)


def count(session: Session, query: Select) -> int:
    """How many rows ``query`` selects."""
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def active_users(session: Session, *, limit: int, exclude_ids: set[int] | frozenset[int] = frozenset(),
                 search: str = "") -> list[User]:
    """Active users by name for pickers, at most ``limit`` of them (see ``people_picker`` for the count)."""
    return people_picker(session, limit=limit, exclude_ids=exclude_ids, search=search)[0]


def people_picker(session: Session, *, limit: int, exclude_ids: set[int] | frozenset[int] = frozenset(),
                  search: str = "") -> tuple[list[User], int]:
    """Active users by name for pickers: at most ``limit`` of them, and how many match in all.

    ``search`` narrows by part of the name or email, so a picker over many
    thousands of people shows the ones asked for instead of the first thousand.
    """
    query = select(User).where(User.is_active.is_(True), User.is_client.is_(False))
    if exclude_ids:
        query = query.where(User.id.not_in(exclude_ids))
    matches = contains([User.name, User.email], search)
    if matches is not None:
        query = query.where(matches)
    people = list(session.scalars(query.order_by(User.name, User.id).limit(limit)))
    total = len(people) if len(people) < limit else count(session, query)
    return people, total


def tree_entries(session: Session, *, user: User) -> tuple[list[EpsNode], list[Project]]:
    """Where the user's tree starts: the readable nodes and projects whose parent they may not read.

    For an administrator these are the roots; for anyone else the places their
    grants (or their teams') are on, less those already inside another
    readable node.
    """
    if user.is_admin:
        return list(session.scalars(services.list_nodes(session, user=user, roots=True))), []
    paths = principal_grant_paths(session, user=user)
    if not paths:
        return [], []
    nodes = session.scalars(select(EpsNode).where(EpsNode.path.in_(paths)).order_by(EpsNode.path)).all()
    projects = session.scalars(select(Project).where(Project.path.in_(paths)).order_by(Project.path)).all()
    entry_nodes = [node for node in nodes if _parent_unreadable(session, user=user, obj=node)]
    entry_projects = [project for project in projects if _parent_unreadable(session, user=user, obj=project)]
    return entry_nodes, entry_projects


def _parent_unreadable(session: Session, *, user: User, obj: EpsNode | Project) -> bool:
    parent_id = obj.parent_id if isinstance(obj, EpsNode) else obj.eps_node_id
    if parent_id is None:
        return True
    parent = session.get(EpsNode, parent_id)
    return not access_to(session, user=user, obj=parent).can(Permission.read)


def _parents_with_children(session: Session, *, user: User, node_ids: list[int]) -> set[int]:
    """Which of the nodes have a child node or project the user may read.

    One statement: an EXISTS per node, each stopping at its first readable
    child (a DISTINCT over every child would read a whole branch).
    """
    if not node_ids:
        return set()
    probes = []
    for node_id in node_ids:
        child_nodes = services.list_nodes(session, user=user).where(EpsNode.parent_id == node_id).order_by(None)
        child_projects = services.list_projects(session, user=user).where(
            Project.eps_node_id == node_id).order_by(None)
        probes.append(select(literal(node_id).label("node_id")).where(
            or_(child_nodes.exists(), child_projects.exists())))
    return set(session.scalars(union_all(*probes)))


def _rows(session: Session, objs, *, user: User, level: int, figures: bool) -> list[TreeRow]:
    node_ids = [obj.id for obj in objs if isinstance(obj, EpsNode)]
    parents_with_children = _parents_with_children(session, user=user, node_ids=node_ids)
    found = budgets.figures_of_many(session, objs) if figures else {}
    billed = billing_figures.figures_of_many(session, objs) if figures else {}
    return [TreeRow(obj=obj, figures=found.get((obj.kind, obj.id)), level=level,
                    has_children=isinstance(obj, EpsNode) and obj.id in parents_with_children,
                    billing=billed.get((obj.kind, obj.id)))
            for obj in objs]


def entry_rows(session: Session, *, user: User, figures: bool = True) -> list[TreeRow]:
    """The first lines of the user's tree (the budget tree's, with their ``figures``; the EPS page's, without)."""
    nodes, projects = tree_entries(session, user=user)
    return _rows(session, [*nodes, *projects], user=user, level=0, figures=figures)


def child_rows(session: Session, *, user: User, node: EpsNode, page: int, per_page: int,
               level: int, figures: bool = True) -> RowsPage:
    """One page of the readable children of ``node``: its child nodes first, then its projects."""
    nodes_query = services.list_nodes(session, user=user, parent_id=node.id)
    projects_query = services.list_projects(session, user=user, eps_node=node, direct_only=True)
    node_total, project_total = count(session, nodes_query), count(session, projects_query)
    start = (page - 1) * per_page
    objs: list = []
    if start < node_total:
        objs += session.scalars(nodes_query.limit(per_page).offset(start)).all()
    remaining = per_page - len(objs)
    if remaining > 0:
        project_start = max(start - node_total, 0)
        objs += session.scalars(projects_query.limit(remaining).offset(project_start)).all()
    return RowsPage(rows=_rows(session, objs, user=user, level=level, figures=figures), page=page, per_page=per_page,
                    total=node_total + project_total)


def visible_tree_rows(session: Session, *, user: User, open_ids: set[int], limit: int = 10_000) -> list[TreeRow]:
    """The rows on screen when the nodes ``open_ids`` are expanded, in tree order (for the export)."""
    result: list[TreeRow] = []

    def walk(rows: list[TreeRow]) -> None:
        for row in rows:
            if len(result) >= limit:
                return
            result.append(row)
            if row.kind == "node" and row.obj.id in open_ids and row.has_children:
                page = 1
                while len(result) < limit:
                    children = child_rows(session, user=user, node=row.obj, page=page, per_page=500,
                                          level=row.level + 1)
                    walk(children.rows)
                    if not children.has_more:
                        break
                    page += 1

    walk(entry_rows(session, user=user))
    return result

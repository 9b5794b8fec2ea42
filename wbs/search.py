"""Projects and activities for the search across the product (``accounts.search.KINDS`` lists every kind).

Each finder reads only what the user may read, through the lists' own queries
(``eps.services.list_projects`` and ``eps.permissions.visible``: the same rights as the project list), matches
as ``crmpm.search.contains`` does, and answers ``crmpm.search.Hit``s.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from crmpm.search import Hit, contains, first_match, first_of, frequent
from crmpm.users.models import User
from eps import services as eps_services
from eps.models import Project
from eps.permissions import visible
from wbs.models import Activity

__all__ = ["find_activities", "find_projects"]


def find_projects(session: Session, *, user: User, text: str, limit: int,
                  exclude: ColumnElement | None = None) -> list[Hit]:
    """Readable projects whose name or code holds ``text``, by name; ``exclude``: a condition on ``Project``
    for projects shown as another kind (deals).

    A text in many projects (``crmpm.search.frequent``: a word in every deal's name) is checked on the projects
    not excluded alone, read first: looked up in the index, each of its matches would be read and then
    dropped as a deal. The same projects are found either way.
    """
    condition = contains([Project.name, Project.code], text)
    if condition is None:
        return []
    query = (eps_services.list_projects(session, user=user)
             .with_only_columns(Project.id.label("id"), Project.name.label("title"), Project.code.label("code")))
    if exclude is not None:
        query = query.where(~exclude)
    if exclude is not None and frequent(session, select(Project.id).where(condition)):
        rows = first_of(session, query, limit=limit, matching=condition)
    else:
        rows = first_of(session, query.where(condition), limit=limit)
    hits = []
    for row in rows:
        field, value = first_match([("name", row.title), ("code", row.code)], text) or ("name", row.title)
        hits.append(Hit(kind="projects", id=row.id, title=row.title, field=field, value=value, detail=row.code))
    return hits


def find_activities(session: Session, *, user: User, text: str, limit: int) -> list[Hit]:
    """Activities of readable projects whose name or code holds ``text``, by name."""
    condition = contains([Activity.name, Activity.code], text)
    if condition is None:
        return []
    query = (select(Activity.id.label("id"), Activity.name.label("title"), Activity.code.label("code"),
                    Activity.project_id.label("project_id"), Project.code.label("project_code"))
             .join(Project, Project.id == Activity.project_id)
             .where(condition, visible(session, user=user, model=Project)))
    hits = []
    for row in first_of(session, query, limit=limit):
        field, value = first_match([("name", row.title), ("code", row.code)], text) or ("name", row.title)
        hits.append(Hit(kind="activities", id=row.id, title=row.title, field=field, value=value,
                        detail=f"{row.project_code} · {row.code}", parent_id=row.project_id))
    return hits

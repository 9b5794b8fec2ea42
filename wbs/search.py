"""Projects and activities for the search across the product (``accounts.search.KINDS`` lists every kind).

Each finder reads only what the user may read, through the lists' own queries
(``eps.services.list_projects`` and ``eps.permissions.visible``: the same rights as the project list), matches
as ``crmpm.search.contains`` does, and answers ``crmpm.search.Hit``s.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from crmpm.search import Hit, contains, first_match, first_of
from crmpm.users.models import User
from eps import services as eps_services
from eps.models import Project
from eps.permissions import visible
from wbs.models import Activity

__all__ = ["find_activities", "find_projects"]


def find_projects(session: Session, *, user: User, text: str, limit: int,
                  exclude: Sequence[ColumnElement] = ()) -> list[Hit]:
    """Readable projects whose name or code holds ``text``, by name; ``exclude``: conditions on ``Project``,
    each marking projects shown as another kind (deals), each left out as a condition of its own.

    The CRM's ``exclude`` names ``Project.is_deal``: the projects that are not deals have trigram indexes of
    their own (migration 0017, ``WHERE NOT is_deal``), so a word in every deal's name is answered from them
    instead of reading every match and dropping the deals among them.
    """
    condition = contains([Project.name, Project.code], text)
    if condition is None:
        return []
    query = (eps_services.list_projects(session, user=user)
             .with_only_columns(Project.id.label("id"), Project.name.label("title"), Project.code.label("code")))
    for condition_out in exclude:
        query = query.where(~condition_out)
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

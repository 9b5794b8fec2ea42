"""Who may see and change CRM records: EPS grants, read through the node each record belongs to.

An account is governed by its own EPS node, a deal by its project, a lead by the
branch node it came in on; contacts, interactions, tasks and survey answers by
their account (or lead). Nothing here adds rights of its own: granting a sales
team ``viewer`` on the top node lets every sales person see every client.
"""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from crmpm.errors import Forbidden, NotFound, Phrase
from crmpm.statements import built_once
from crmpm.users.models import User
from eps.models import EpsNode, Project
from eps.permissions import (
    PERMISSION_WORDS, ROLE_PERMISSIONS, Permission, authorize, principal_grant_paths, reads_everything, visible,
)

from accounts.models import Account, Deal, Lead

__all__ = [
    "account_or_lead_visible", "authorize_on", "deal_visible", "editable_deal_ids", "named", "readable_account_ids",
    "readable_lead_ids",
]


# The objects callers name by ``label``, as phrases the pages translate (the id is filled in per error).
_NAMED = {"account": Phrase("account {id}"), "contact": Phrase("contact {id}"), "deal": Phrase("deal {id}"),
          "lead": Phrase("lead {id}"), "interaction": Phrase("interaction {id}"), "task": Phrase("task {id}"),
          "EPS node": Phrase("EPS node {id}"), "project": Phrase("project {id}"),
          "document": Phrase("document {id}"), "WBS element": Phrase("WBS element {id}"),
          "activity": Phrase("activity {id}")}


def named(label: str, obj_id: int) -> Phrase:
    """``obj`` as the errors name it: "account 12" (translatable)."""
    return _named(label, obj_id)


def _named(label: str, obj_id: int) -> Phrase:
    """``obj`` as the errors name it: "account 12"."""
    known = _NAMED.get(label)
    return Phrase(known.template, id=obj_id) if known else Phrase("{label} {id}", label=label, id=obj_id)


def authorize_on(session: Session, *, user: User, obj, governed_by, label: str,
                 permission: Permission) -> None:
    """Authorize ``permission`` on the EPS object governing ``obj``, naming ``obj`` in the errors."""
    try:
        authorize(session, user=user, obj=governed_by, permission=permission)
    except NotFound:
        raise NotFound("{target} not found", target=_named(label, obj.id)) from None
    except Forbidden:
        raise Forbidden("{permission} rights on {target} are needed for this",
                        permission=PERMISSION_WORDS[permission], target=_named(label, obj.id)) from None


def readable_account_ids(session: Session, *, user: User, paths: list[str] | None = None) -> Select | None:
    """A select of the ids of the accounts ``user`` may read, or None when they may read all."""
    if user.is_admin:
        return None
    paths = principal_grant_paths(session, user=user) if paths is None else paths
    if reads_everything(session, user=user, paths=paths):
        return None
    return (select(Account.id).join(EpsNode, EpsNode.id == Account.eps_node_id)
            .where(visible(session, user=user, model=EpsNode, paths=paths)))


def readable_lead_ids(session: Session, *, user: User, paths: list[str] | None = None) -> Select | None:
    """A select of the ids of the leads ``user`` may read, or None when they may read all."""
    if user.is_admin:
        return None
    paths = principal_grant_paths(session, user=user) if paths is None else paths
    if reads_everything(session, user=user, paths=paths):
        return None
    return (select(Lead.id).join(EpsNode, EpsNode.id == Lead.region_node_id)
            .where(visible(session, user=user, model=EpsNode, paths=paths)))


def deal_visible(session: Session, *, user: User, paths: list[str] | None = None):
    """A condition true for the deals ``user`` may read (those whose project they may read), or None for all.

    A correlated EXISTS on the deal's project, so the database can check the few
    rows a page or a board column needs through the primary key instead of
    building the whole readable set first.
    """
    if user.is_admin:
        return None
    paths = principal_grant_paths(session, user=user) if paths is None else paths
    if reads_everything(session, user=user, paths=paths):
        return None
    return _deal_of_readable_project(visible(session, user=user, model=Project, paths=paths))


@built_once
def _deal_of_readable_project(readable_project):
    return select(Project.id).where(Project.id == Deal.project_id, readable_project).exists()


def account_or_lead_visible(session: Session, *, user: User, model):
    """A condition true for rows of ``model`` (with ``account_id`` and ``lead_id``) that ``user`` may read."""
    if user.is_admin:
        return None
    paths = principal_grant_paths(session, user=user)
    if reads_everything(session, user=user, paths=paths):
        return None
    return or_(model.account_id.in_(readable_account_ids(session, user=user, paths=paths)),
               model.lead_id.in_(readable_lead_ids(session, user=user, paths=paths)))


def editable_deal_ids(session: Session, *, user: User, deal_ids: list[int]) -> set[int]:
    """Which of ``deal_ids`` ``user`` may change (edit rights on the deal's project), in two queries.

    The same rule as ``authorize(..., Permission.edit)`` on each project: a grant
    of an editing role on the project or a node above it, not cut off by a
    protected node in between; for a board of many cards at once.
    """
    if not deal_ids:
        return set()
    if user.is_admin:
        return set(deal_ids)
    roles = tuple(role for role, permissions in ROLE_PERMISSIONS.items() if Permission.edit in permissions)
    paths = principal_grant_paths(session, user=user, roles=roles)
    if not paths:
        return set()
    rows = session.execute(select(Deal.id, Project.path, Project.protect_path)
                           .join(Project, Project.id == Deal.project_id).where(Deal.id.in_(deal_ids))).all()
    return {deal_id for deal_id, path, protect_path in rows
            if any(path.startswith(granted) and len(protect_path or "") <= len(granted) for granted in paths)}

"""Giving and taking away roles on nodes and projects."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from crmpm import audit
from crmpm.errors import Conflict, Invalid, NotFound
from crmpm.users.models import Team, User, team_members
from crmpm.users.services import record_access_changed
from eps.models import EpsNode, Grant, Project, Role
from eps.permissions import Permission, access_to, authorize, principal_grant_paths, visible


def create(session: Session, *, actor: User, role: Role, target: EpsNode | Project, user: User | None = None,
           team: Team | None = None) -> Grant:
    """Give ``role`` on ``target`` to a user or a team (manage rights on the target)."""
    authorize(session, user=actor, obj=target, permission=Permission.manage)
    if (user is None) == (team is None):
        raise Invalid("a grant goes to exactly one user or one team",
                      errors={"user_id": ["give user_id or team_id, not both"]})
    if user is not None and not user.is_active:
        raise Invalid("user {email} is inactive", email=user.email, errors={"user_id": ["inactive user"]})
    if user is not None and user.is_client:
        # The portal's own grant (accounts.portal) is all a client user holds; EPS grants never name them.
        raise Invalid("user {email} is a client of the portal and holds no grants", email=user.email,
                      errors={"user_id": ["client user"]})
    fields = {
        "user_id": user.id if user else None,
        "team_id": team.id if team else None,
        "eps_node_id": target.id if isinstance(target, EpsNode) else None,
        "project_id": target.id if isinstance(target, Project) else None,
        "role": role,
    }
    existing = session.scalar(select(Grant).where(*[
        getattr(Grant, key).is_(None) if value is None else getattr(Grant, key) == value
        for key, value in fields.items()
    ]))
    if existing is not None:
        raise Conflict("this grant already exists (id {existing_id})",
                       existing_id=existing.id, errors={"role": ["already granted"]})
    grant = Grant(created_by_id=actor.id, **fields)
    session.add(grant)
    session.flush()
    audit.record(session, actor=actor, action="grant", entity=grant, after=grant.audit_state())
    _access_changed(session, actor=actor, grant=grant, what="granted")
    return grant


def delegate(session: Session, *, actor: User | None, role: Role, target: EpsNode | Project, user: User,
             reason: str) -> Grant:
    """Give ``role`` on ``target`` to ``user`` because a rule elsewhere says so; the caller has checked that rule.

    For temporary access another domain decides on and takes back itself (a
    deputy covering an absence, see ``accounts.routing.hand_over``), so there is
    no manage check on ``actor``; the audit entry carries ``reason``.
    """
    grant = Grant(created_by_id=actor.id if actor else None, user_id=user.id, team_id=None,
                  eps_node_id=target.id if isinstance(target, EpsNode) else None,
                  project_id=target.id if isinstance(target, Project) else None, role=role)
    session.add(grant)
    session.flush()
    audit.record(session, actor=actor, action="grant", entity=grant, after={**grant.audit_state(), "reason": reason})
    _access_changed(session, actor=actor, grant=grant, what="granted")
    return grant


def end_delegation(session: Session, *, actor: User | None, grant: Grant, reason: str) -> None:
    """Take back a grant made by ``delegate`` (the rule that gave it says when); the audit entry carries ``reason``."""
    audit.record(session, actor=actor, action="revoke", entity=grant, before={**grant.audit_state(), "reason": reason})
    _access_changed(session, actor=actor, grant=grant, what="revoked")
    session.delete(grant)
    session.flush()


def _access_changed(session: Session, *, actor: User | None, grant: Grant, what: str) -> None:
    """``user.access_changed`` for the grant's user, or for each member of its team."""
    if grant.user_id is not None:
        holders = [grant.user_id]
    else:
        holders = list(session.scalars(select(team_members.c.user_id).where(team_members.c.team_id == grant.team_id)
                                       .order_by(team_members.c.user_id)))
    record_access_changed(session, actor=actor, user_ids=holders, what=what, grant_id=grant.id,
                          role=grant.role.value, eps_node_id=grant.eps_node_id, project_id=grant.project_id,
                          team_id=grant.team_id)


def get_or_raise(session: Session, *, actor: User, grant_id: int) -> Grant:
    """The grant, if ``actor`` may see it: an admin, its holder, or a manager of its target."""
    grant = session.get(Grant, grant_id)
    if grant is None or not _may_see(session, actor=actor, grant=grant):
        raise NotFound("grant {grant_id} not found", grant_id=grant_id)
    return grant


def _may_see(session: Session, *, actor: User, grant: Grant) -> bool:
    if actor.is_admin or grant.user_id == actor.id:
        return True
    return access_to(session, user=actor, obj=grant.target).can(Permission.manage)


def delete(session: Session, *, actor: User, grant: Grant) -> None:
    """Take a grant away (manage rights on its target)."""
    authorize(session, user=actor, obj=grant.target, permission=Permission.manage)
    audit.record(session, actor=actor, action="revoke", entity=grant, before=grant.audit_state())
    _access_changed(session, actor=actor, grant=grant, what="revoked")
    session.delete(grant)
    session.flush()


def list_(session: Session, *, actor: User, target: EpsNode | Project | None = None, user_id: int | None = None,
          team_id: int | None = None):
    """A select of grants ``actor`` may see: on targets they manage, and their own."""
    query = select(Grant).order_by(Grant.id)
    if target is not None:
        column = Grant.eps_node_id if isinstance(target, EpsNode) else Grant.project_id
        query = query.where(column == target.id)
    if user_id is not None:
        query = query.where(Grant.user_id == user_id)
    if team_id is not None:
        query = query.where(Grant.team_id == team_id)
    if actor.is_admin:
        return query
    node, project = aliased(EpsNode), aliased(Project)
    paths = _managed_paths(session, actor=actor)
    return (
        query.outerjoin(node, Grant.eps_node_id == node.id)
        .outerjoin(project, Grant.project_id == project.id)
        .where(or_(
            Grant.user_id == actor.id,
            and_(Grant.eps_node_id.is_not(None), visible(session, user=actor, model=node, paths=paths)),
            and_(Grant.project_id.is_not(None), visible(session, user=actor, model=project, paths=paths)),
        ))
    )


def _managed_paths(session: Session, *, actor: User) -> list[str]:
    """Paths of the nodes and projects where ``actor`` holds the manager role."""
    return principal_grant_paths(session, user=actor, roles=(Role.manager,))

"""Who may read which domain events: the rights on an event's subject, as on the subject itself."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from crmpm.events import Event
from crmpm.users.models import User
from eps.models import EpsNode, Project
from eps.permissions import principal_grant_paths, reads_everything, visible

from accounts.models import Deal, Interaction, Task
from accounts.permissions import account_or_lead_visible, deal_visible, readable_account_ids, readable_lead_ids


def visible_events(session: Session, *, user: User):
    """A condition true for the events ``user`` may read, or None for all (administrators).

    An event about a deal, lead, account, task, interaction, project or EPS node is readable by
    whoever may read that subject now; any other event (an import, a user's access, a job) by
    administrators and by the user who caused it.
    """
    if user.is_admin:
        return None
    own = Event.actor_id == user.id
    paths = principal_grant_paths(session, user=user)
    if reads_everything(session, user=user, paths=paths):
        return or_(Event.subject_type.in_(SUBJECT_TYPES), own)
    deals = deal_visible(session, user=user, paths=paths)
    accounts = readable_account_ids(session, user=user, paths=paths)
    leads = readable_lead_ids(session, user=user, paths=paths)
    rules = [
        _about("deals", select(Deal.id).where(deals)),
        _about("accounts", accounts),
        _about("leads", leads),
        _about("tasks", select(Task.id).where(account_or_lead_visible(session, user=user, model=Task))),
        _about("interactions", select(Interaction.id).where(
            account_or_lead_visible(session, user=user, model=Interaction))),
        _about("projects", select(Project.id).where(visible(session, user=user, model=Project, paths=paths))),
        _about("eps_nodes", select(EpsNode.id).where(visible(session, user=user, model=EpsNode, paths=paths))),
    ]
    return or_(*rules, own)


SUBJECT_TYPES = ("deals", "accounts", "leads", "tasks", "interactions", "projects", "eps_nodes")


def _about(subject_type: str, readable_ids):
    return and_(Event.subject_type == subject_type, Event.subject_id.in_(readable_ids))

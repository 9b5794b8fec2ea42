"""Staff sharing a project, and documents, with the clients of its account (who see them on the portal).

A project is shared when it has a ``PortalProject`` row; only the clients of the account whose EPS node holds it
see it (``accounts.portal.access``). A document is shown to them when ``Document.client_visible`` is set and it
hangs on a shared project or on their own account (``accounts.portal.access.client_documents``). Rights: edit on the project.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from accounts.portal.models import PortalProject
from crmpm import audit
from crmpm.database import utcnow
from crmpm.users.models import User
from eps.models import Project
from eps.permissions import Permission, authorize


def is_shared(session: Session, project: Project) -> bool:
    """Whether ``project`` is shared with its account's clients."""
    return session.get(PortalProject, project.id) is not None


def share(session: Session, *, actor: User, project: Project, shared: bool) -> bool:
    """Share ``project`` with its account's clients, or stop sharing it (edit rights on it); audited on change."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    row = session.get(PortalProject, project.id)
    if shared and row is None:
        session.add(PortalProject(project_id=project.id, shared_by_id=actor.id, shared_at=utcnow()))
    elif not shared and row is not None:
        session.delete(row)
    else:
        return shared
    session.flush()
    audit.record(session, actor=actor, action="update", entity=project, before={"shared_with_client": not shared},
                 after={"shared_with_client": shared})
    return shared


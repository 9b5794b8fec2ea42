"""What a client user reaches: their account's EPS node and, below it, only the projects staff shared.

The one home of the portal's rights. A client user (``User.is_client``) holds the portal's grant (role
``client``) on their account's node, kept as their ``PortalUser`` row, never as an EPS ``Grant``: the staff
rights (``eps.permissions``) never see it, so no staff list, page or API answers a client user, and nothing
here reads above or beside the account's node. Anything else a client asks for is "not found".
"""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from accounts.documents.models import Document
from accounts.models import Account
from accounts.portal.models import PortalProject, PortalUser
from crmpm.errors import NotFound
from crmpm.users.models import User
from eps.models import EpsNode, Project


def client_of(session: Session, user: User | None) -> PortalUser | None:
    """The portal row of an active client user, or None (staff, inactive, or no longer linked to a contact)."""
    if user is None or not user.is_client or not user.is_active:
        return None
    return session.get(PortalUser, user.id)


def shared_project_ids(client: PortalUser) -> Select:
    """A select of the ids of the projects ``client`` may see: shared, and below their account's node."""
    node_path = (select(EpsNode.path).join(Account, Account.eps_node_id == EpsNode.id)
                 .where(Account.id == client.account_id).scalar_subquery())
    return (select(Project.id).join(PortalProject, PortalProject.project_id == Project.id)
            .where(Project.path.startswith(node_path, autoescape=False)))


def shared_projects(session: Session, client: PortalUser) -> list[Project]:
    """The projects ``client`` sees, by name."""
    return list(session.scalars(select(Project).where(Project.id.in_(shared_project_ids(client)))
                                .order_by(Project.name, Project.id)))


def get_shared_project_or_raise(session: Session, client: PortalUser, project_id: int) -> Project:
    """The project if ``client`` may see it, else NotFound (the same answer whether it exists or not)."""
    found = session.scalar(select(Project).where(Project.id == project_id,
                                                 Project.id.in_(shared_project_ids(client))))
    if found is None:
        raise NotFound("project {id} not found", id=project_id)
    return found


def client_documents(client: PortalUser, *, project_id: int | None = None) -> Select:
    """A select of the documents ``client`` sees: client-visible, on a shared project or on their own account;
    of ``project_id`` only, when given (the caller has checked it is shared with them). Newest first."""
    query = select(Document).where(Document.client_visible.is_(True))
    if project_id is not None:
        query = query.where(Document.project_id == project_id)
    else:
        query = query.where(or_(Document.project_id.in_(shared_project_ids(client)),
                                Document.account_id == client.account_id))
    return query.order_by(Document.updated_at.desc(), Document.id.desc())


def get_client_document_or_raise(session: Session, client: PortalUser, document_id: int) -> Document:
    """The document if ``client`` may see it (:func:`client_documents`), else NotFound (exists or not)."""
    found = session.scalar(client_documents(client).where(Document.id == document_id))
    if found is None:
        raise NotFound("document {id} not found", id=document_id)
    return found

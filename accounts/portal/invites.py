"""Inviting a client contact to the portal, and ending their access.

An invitation makes (or, for a re-invite, reuses) the contact's client user (``User.is_client``, no password)
and its ``PortalUser`` row tying it to the contact and the contact's account, then a one-time link through
``crmpm.users.resets.new_link`` (the one place such links are made; longer-lived than a reset, and only the
newest works) that lets the client set a password. The link is e-mailed to the contact (``crmpm.mail``, after
the commit) and handed back to the inviting staff user once. Rights: edit on the contact's account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update as sql_update
from sqlalchemy.orm import Session

from accounts.models import Contact
from accounts.permissions import authorize_on
from accounts.portal.models import PortalUser
from crmpm import audit, emails, mail
from crmpm.database import utcnow
from crmpm.errors import Conflict, Invalid
from crmpm.users import resets, services as users
from crmpm.users.models import PasswordReset, User
from eps.permissions import Permission

LOCALES = ("ru", "en")
DEFAULT_LOCALE = "ru"
TEMPLATES = mail.Templates(Path(__file__).resolve().parent / "templates")


@dataclass(frozen=True)
class Invitation:
    """A sent invitation: the client user, their portal row, and the link (shown once)."""

    user: User
    client: PortalUser
    link: str
    expires_at: datetime


def _email_of(contact: Contact) -> str:
    if not contact.email:
        raise Invalid("contact {contact_id} has no e-mail to send the invitation to", contact_id=contact.id,
                      errors={"email": ["the contact needs an e-mail"]})
    try:
        return emails.normalize_email(contact.email)
    except emails.InvalidEmail:
        raise Invalid("not a valid email address", errors={"email": ["not a valid email address"]}) from None


def _state(client: PortalUser) -> dict:
    """What the audit trail keeps of a client user: their login and whose contact they are."""
    return {**client.user.audit_state(), "role": "client", **client.audit_state()}


def _client_user(session: Session, *, actor: User, contact: Contact, email: str, locale: str) -> PortalUser:
    """The contact's portal row and client user: the existing ones (brought up to date), or new ones."""
    holder = users.get_by_email(session, email=email)
    if holder is not None and not holder.is_client:
        raise Conflict("{email} belongs to a staff user; a staff user cannot be a client", email=email,
                       errors={"email": ["belongs to a staff user"]})
    client = session.scalar(select(PortalUser).where(PortalUser.contact_id == contact.id))
    if holder is not None and (client is None or client.user_id != holder.id):
        raise Conflict("{email} is already the portal login of another contact", email=email,
                       errors={"email": ["the portal login of another contact"]})
    if client is None:
        user = User(email=email, name=contact.name.strip() or email, is_client=True, is_active=True,
                    is_admin=False, locale=locale, password_hash=None)
        session.add(user)
        session.flush()
        client = PortalUser(user_id=user.id, contact_id=contact.id, account_id=contact.account_id,
                            invited_by_id=actor.id, invited_at=utcnow())
        session.add(client)
        session.flush()
        audit.record(session, actor=actor, action="create", entity=user, after=_state(client))
        return client
    user = client.user
    before = _state(client)
    user.email, user.is_active = email, True  # a re-invite follows the contact's e-mail and gives access back
    client.account_id, client.invited_by_id, client.invited_at = contact.account_id, actor.id, utcnow()
    session.flush()
    audit.record(session, actor=actor, action="update", entity=user, before=before, after=_state(client))
    return client


def invite(session: Session, *, actor: User, contact: Contact, link_for: Callable[[str], str],
           locale: str | None = None) -> Invitation:
    """Invite ``contact`` to the portal: their client user, a one-time link to set a password, e-mailed.

    ``link_for(token)`` is the absolute address of the portal's page taking the token (the web layer knows it).
    ``locale`` is the client's language: given, else the inviter's, else Russian.
    """
    authorize_on(session, user=actor, obj=contact, governed_by=contact.account.eps_node, label="contact",
                 permission=Permission.edit)
    if contact.merged_into_id is not None:
        raise Invalid("contact {contact_id} was merged into another", contact_id=contact.id,
                      errors={"contact_id": ["merged"]})
    if locale is not None and locale not in LOCALES:
        raise Invalid("unknown language {locale}", locale=locale, errors={"locale": ["ru or en"]})
    email = _email_of(contact)
    locale = locale or (actor.locale if actor.locale in LOCALES else DEFAULT_LOCALE)
    client = _client_user(session, actor=actor, contact=contact, email=email, locale=locale)
    reset, token = resets.new_link(session, actor=actor, user=client.user, lifetime=resets.INVITE_LIFETIME)
    audit.record(session, actor=actor, action="create", entity=reset, after=reset.audit_state())
    link = link_for(token)
    texts = TEMPLATES.render("invite", client.user.locale, {
        "name": contact.name, "account": contact.account.name, "inviter": actor.name, "link": link,
        "expires_at": reset.expires_at, "days": resets.INVITE_LIFETIME.days})
    mail.send_later(session, mail.Message(to=[email], subject=texts.subject, text=texts.text, html=texts.html),
                    actor=actor)
    return Invitation(user=client.user, client=client, link=link, expires_at=reset.expires_at)


def revoke(session: Session, *, actor: User, contact: Contact) -> PortalUser:
    """End ``contact``'s portal access: their client user deactivated, sessions ended, open links voided."""
    authorize_on(session, user=actor, obj=contact, governed_by=contact.account.eps_node, label="contact",
                 permission=Permission.edit)
    client = session.scalar(select(PortalUser).where(PortalUser.contact_id == contact.id))
    if client is None:
        raise Invalid("contact {contact_id} has no portal access", contact_id=contact.id,
                      errors={"contact_id": ["no portal access"]})
    user = client.user
    before = _state(client)
    user.is_active = False
    users.end_sessions(session, user=user)
    session.execute(sql_update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                    .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if _state(client) != before:
        audit.record(session, actor=actor, action="update", entity=user, before=before, after=_state(client))
    return client


def activated(session: Session, *, user: User) -> None:
    """Note that a client set their password through the invitation (first time only)."""
    client = session.get(PortalUser, user.id)
    if client is not None and client.activated_at is None:
        client.activated_at = utcnow()
        session.flush()

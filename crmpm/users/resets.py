"""Password resets an administrator starts: a one-time link, or a temporary password changed at next login.

A link's token is 256 random bits shown once to the administrator (e-mail does
not send it yet: they hand it over); only its SHA-256 is stored. It works once,
until it expires (``LINK_LIFETIME``); a newer link voids older unused ones.
Setting a password through it ends every session of the user, as any new
password does.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from enum import Enum

from sqlalchemy import select, update as sql_update
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.database import utcnow
from crmpm.errors import Forbidden, Invalid
from crmpm.users import passwords, services as users
from crmpm.users.models import PasswordReset, User

LINK_LIFETIME = timedelta(hours=24)
INVITE_LIFETIME = timedelta(days=7)  # a client portal's invitation (accounts.portal.invites)


class LinkState(str, Enum):
    """What a reset link is now."""

    valid = "valid"
    unknown = "unknown"  # never issued (or its user was deleted)
    used = "used"  # used, or replaced by a newer link
    expired = "expired"


def create_link(session: Session, *, actor: User, user: User) -> tuple[PasswordReset, str]:
    """A new one-time reset link for ``user`` (administrators); returns the record and the token, shown once."""
    if not actor.is_admin:
        raise Forbidden("only administrators reset other users' passwords")
    if not user.is_active:
        raise Invalid("user {email} is inactive", email=user.email, errors={"user_id": ["inactive user"]})
    reset, token = new_link(session, actor=actor, user=user, lifetime=LINK_LIFETIME)
    audit.record(session, actor=actor, action="create", entity=reset, after=reset.audit_state())
    return reset, token


def new_link(session: Session, *, actor: User | None, user: User, lifetime: timedelta) -> tuple[PasswordReset, str]:
    """A one-time link setting ``user``'s password, valid for ``lifetime``; older unused links are voided.

    The one place links are made: an administrator's reset (:func:`create_link`) and a client's invitation
    (``accounts.portal.invites``) both call it, after their own checks; the caller audits. Returns the record
    and the token, shown once (only its digest is stored)."""
    now = utcnow()
    # Only the newest link works: older unused ones are voided.
    session.execute(sql_update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                    .values(used_at=now).execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(user_id=user.id, token_hash=users.token_digest(token),
                          created_by_id=actor.id if actor is not None else None, created_at=now,
                          expires_at=now + lifetime)
    session.add(reset)
    session.flush()
    return reset, token


def find(session: Session, *, token: str) -> tuple[LinkState, PasswordReset | None]:
    """The state of the link carrying ``token``, and its record when it is valid."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return LinkState.unknown, None
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == users.token_digest(token)))
    if reset is None or not reset.user.is_active:
        return LinkState.unknown, None
    if reset.used_at is not None:
        return LinkState.used, None
    if reset.expires_at <= utcnow():
        return LinkState.expired, None
    return LinkState.valid, reset


def redeem(session: Session, *, reset: PasswordReset, password: str) -> User:
    """Set the user's new password through a valid link, which is used up; the user's sessions end."""
    user = reset.user
    passwords.check(password, email=user.email, name=user.name)
    # The row is claimed first, so two submissions of the same link cannot both set a password.
    claimed = session.execute(sql_update(PasswordReset)
                              .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
                              .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not claimed:
        raise Invalid("this link has already been used", errors={"token": ["used"]})
    session.refresh(reset)
    # The link stands for the current password: the user sets their own without it.
    before = user.audit_state()
    user.password_hash = users.hash_password(password)
    user.must_change_password = False
    users.end_sessions(session, user=user)
    audit.record(session, actor=user, action="update", entity=user, before=before, after=user.audit_state())
    audit.record(session, actor=user, action="update", entity=reset, after=reset.audit_state())
    return user


def set_temporary_password(session: Session, *, actor: User, user: User, password: str) -> User:
    """Give ``user`` a password to change at their next login (administrators); their sessions end."""
    if not actor.is_admin:
        raise Forbidden("only administrators reset other users' passwords")
    if actor.id == user.id:
        raise Invalid("change your own password on your profile", errors={"password": ["your own account"]})
    return users.update(session, actor=actor, user=user, password=password, temporary=True)

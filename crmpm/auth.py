"""Who is calling: resolving credentials to a user."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crmpm.users import services as users
from crmpm.users.models import User


def user_from_authorization(session: Session, header: str | None,
                            also: tuple[users.ReadWithUser, ...] = ()) -> User | None:
    """The user behind an ``Authorization: Bearer <token>`` header, or None; ``also`` read with them."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return users.user_for_token(session, token=token.strip(), also=also)

"""User logins, teams of users and API tokens."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crmpm.database import Base, utcnow

DEFAULT_TIME_ZONE = "Europe/Moscow"

team_members = Table(
    "team_members",
    Base.metadata,
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(Base):
    """A person who logs in to crmpm."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(10), default="en")
    # IANA name; a user's "today" and the times in their notifications and digest are in it.
    time_zone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIME_ZONE, server_default=DEFAULT_TIME_ZONE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Random, and replaced on logout, password change and deactivation: a session cookie holds a copy,
    # so replacing it ends every session of the user (see ``crmpm.users.services.end_sessions``).
    session_stamp: Mapped[str] = mapped_column(String(32), default=lambda: new_session_stamp())
    # Set with a temporary password an administrator gave: the pages ask for a new one before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A client's login to the portal (/portal/, accounts.portal), never to staff pages, the staff API or tokens.
    is_client: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    teams: Mapped[list[Team]] = relationship(secondary=team_members, back_populates="members")

    def audit_state(self) -> dict:
        return {"email": self.email, "name": self.name, "is_admin": self.is_admin, "is_active": self.is_active,
                "time_zone": self.time_zone}


def new_session_stamp() -> str:
    """128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


class Team(Base):
    """A named group of users; grants given to a team reach its members."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[User]] = relationship(secondary=team_members, back_populates="teams", order_by="User.id")

    def audit_state(self) -> dict:
        return {"name": self.name, "members": sorted(member.id for member in self.members)}


class ApiToken(Base):
    """A bearer token for the API; only a hash of it is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    def audit_state(self) -> dict:
        return {"user_id": self.user_id, "name": self.name, "prefix": self.prefix,
                "revoked": self.revoked_at is not None}


class PasswordReset(Base):
    """A one-time link to set a new password: only a hash of its token is stored; used once, then void."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def audit_state(self) -> dict:
        return {"user_id": self.user_id, "expires_at": self.expires_at, "used": self.used_at is not None}

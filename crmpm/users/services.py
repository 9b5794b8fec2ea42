"""Creating users and teams, checking passwords, issuing and resolving API tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, bindparam, func, select, update as sql_update
from sqlalchemy.orm import Session

from crmpm import audit, emails, events
from crmpm.database import attach_loaded, utcnow
from crmpm.rows import fetch_all
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound
from crmpm.users import passwords
from crmpm.users.models import ApiToken, Team, User, new_session_stamp, team_members

_hasher = PasswordHasher()
TOKEN_PREFIX = "crmpm_"
MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH


class WrongPassword(Invalid):
    """The current password given to confirm a change is wrong or missing (counted against guessing)."""


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def normalize_email(email: str) -> str:
    """The spelling a user's address is stored and looked up by (``crmpm.emails.email_key``)."""
    return emails.email_key(email)


def get(session: Session, *, user_id: int) -> User | None:
    """The user with this id, or None."""
    return session.get(User, user_id)


def get_or_raise(session: Session, *, user_id: int, field: str | None = None) -> User:
    """The user with this id, or NotFound (naming the input ``field`` when given)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user {user_id} not found", user_id=user_id, errors={field: ["not found"]} if field else None)
    return user


def get_by_email(session: Session, *, email: str) -> User | None:
    """The user with this email, or None."""
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def list_(session: Session, *, clients: bool = False):
    """A select of the staff users (and the portal's client users too when ``clients``), ordered by name
    (paginated by the caller). Lists people are chosen from leave ``clients`` out: a client is never an owner,
    an assignee, a grantee or a team member."""
    query = select(User).order_by(User.name, User.id)
    return query if clients else query.where(User.is_client.is_(False))


def create(session: Session, *, actor: User | None, email: str, name: str, password: str | None,
           is_admin: bool = False, locale: str = "en") -> User:
    """A new active user; the email must be unused."""
    if actor is not None and not actor.is_admin:
        raise Forbidden("only administrators create users")
    try:
        email = emails.normalize_email(email)
    except emails.InvalidEmail:
        raise Invalid("not a valid email address", errors={"email": ["not a valid email address"]}) from None
    if get_by_email(session, email=email) is not None:
        raise Conflict("a user with email {email} already exists", email=email, errors={"email": ["already in use"]})
    if password is not None:
        passwords.check(password, email=email, name=name)
    user = User(email=email, name=name.strip(), is_admin=is_admin, is_active=True, locale=locale,
                password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=user, after=user.audit_state())
    return user


def update(session: Session, *, actor: User, user: User, current_password: str | None = None, **changes) -> User:
    """Change a user's name, locale, time zone or password (admins, or users for themselves); e-mail, teams
    (``team_ids`` replaces them), admin or active flag (admins). Nobody deactivates themselves.

    ``temporary=True`` with a password an administrator sets for someone else makes them choose a
    new one at their next login (``must_change_password``). Changing one's own password needs the current one (``current_password``; WrongPassword if it is
    wrong or missing); an administrator sets another user's without it. A new password or a
    deactivation ends every session of the user (the caller re-issues its own, see ``end_sessions``).
    """
    if not actor.is_admin and actor.id != user.id:
        raise Forbidden("only administrators change other users")
    if not actor.is_admin and ({"is_admin", "is_active", "email", "team_ids"} & changes.keys()):
        raise Forbidden("only administrators change e-mail addresses, teams, admin or active flags")
    if user.is_client and ({"is_admin", "team_ids"} & changes.keys()):
        raise Invalid("a client user of the portal is never an administrator nor in a team",
                      errors={"is_admin" if "is_admin" in changes else "team_ids": ["client user"]})
    if changes.get("is_active") is False and actor.id == user.id:
        raise Conflict("you cannot deactivate yourself", errors={"is_active": ["cannot deactivate yourself"]})
    before = user.audit_state()
    before_teams = set(team_ids_of(session, user=user)) if "team_ids" in changes else set()
    if "email" in changes:
        changes["email"] = _new_email(session, user=user, email=changes["email"])
    if "time_zone" in changes:
        check_time_zone(changes["time_zone"])
    team_ids = changes.pop("team_ids", None)
    password = changes.pop("password", None)
    if password is not None:
        if actor.id == user.id and user.password_hash and not _matches(user, current_password or ""):
            raise WrongPassword("the current password is wrong or missing",
                                errors={"current_password": ["wrong or missing: give your current password "
                                                             "to change it"]})
        passwords.check(password, email=changes.get("email") or user.email, name=changes.get("name") or user.name)
        user.password_hash = hash_password(password)
        user.session_stamp = new_session_stamp()
        # One's own new password replaces a temporary one; a password an administrator sets is not one's own.
        user.must_change_password = actor.id != user.id and bool(changes.pop("temporary", False))
    changes.pop("temporary", None)
    if "is_active" in changes and changes["is_active"] != user.is_active:
        user.session_stamp = new_session_stamp()
    if team_ids is not None:
        user.teams = _teams(session, team_ids)
    for key, value in changes.items():
        setattr(user, key, value.strip() if isinstance(value, str) else value)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=user, before=before, after=user.audit_state())
    for flag, (gained, lost) in _ACCESS_FLAGS.items():
        if before[flag] != getattr(user, flag):
            record_access_changed(session, actor=actor, user_ids=[user.id], what=gained if getattr(user, flag) else lost)
    if team_ids is not None:
        after_teams = {team.id for team in user.teams}
        for team_id in sorted(after_teams - before_teams):
            record_access_changed(session, actor=actor, user_ids=[user.id], what="team_joined", team_id=team_id)
        for team_id in sorted(before_teams - after_teams):
            record_access_changed(session, actor=actor, user_ids=[user.id], what="team_left", team_id=team_id)
    return user


def check_time_zone(name: str) -> str:
    """``name`` if it is an IANA time zone (``Europe/Moscow``); Invalid otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("unknown time zone {zone}", zone=name, errors={"time_zone": ["unknown time zone"]}) from None
    return name


def _new_email(session: Session, *, user: User, email: str) -> str:
    """``email`` as stored, if no other user has it."""
    try:
        email = emails.normalize_email(email)
    except emails.InvalidEmail:
        raise Invalid("not a valid email address", errors={"email": ["not a valid email address"]}) from None
    other = get_by_email(session, email=email)
    if other is not None and other.id != user.id:
        raise Conflict("a user with email {email} already exists", email=email, errors={"email": ["already in use"]})
    return email


def _teams(session: Session, ids) -> list[Team]:
    ids = list(dict.fromkeys(ids))
    teams = session.scalars(select(Team).where(Team.id.in_(ids)).order_by(Team.id)).all() if ids else []
    missing = sorted(set(ids) - {team.id for team in teams})
    if missing:
        raise Invalid("unknown teams {missing}", missing=missing, errors={"team_ids": [f"unknown team ids: {missing}"]})
    return list(teams)


# A user's flags that change what they may do, and what ``user.access_changed`` says when each is set or cleared.
_ACCESS_FLAGS = {"is_active": ("activated", "deactivated"), "is_admin": ("admin_granted", "admin_revoked")}


def record_access_changed(session: Session, *, actor: User | None, user_ids, what: str, **facts) -> None:
    """Record ``user.access_changed`` for each of ``user_ids``: ``what`` changed, with the plain ``facts``.

    ``what`` is one of: activated, deactivated, admin_granted, admin_revoked, team_joined, team_left
    (``facts``: team_id), granted, revoked (``facts``: the grant's id, role, target and team).
    """
    events.record_many(session, "user.access_changed",
                       [(("users", user_id), {"user_id": user_id, "what": what, **facts})
                        for user_id in dict.fromkeys(user_ids)], actor=actor)


def authenticate(session: Session, *, email: str, password: str, client: bool = False) -> User | None:
    """The active user whose email and password match, else None.

    Staff logins (``client`` false) never let a client user in, and the portal's (``client`` true) only them."""
    user = get_by_email(session, email=email)
    if user is None or not user.is_active or not user.password_hash or user.is_client != client:
        # Spend the same time as a real check, so timing does not reveal which emails exist.
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            pass
        return None
    if not _matches(user, password):
        return None
    return user


def _matches(user: User, password: str) -> bool:
    """Whether ``password`` is the user's (rehashing it when the hash parameters have changed)."""
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


_DUMMY_HASH = _hasher.hash("crmpm-timing-equaliser")


def end_sessions(session: Session, *, user: User) -> str:
    """End every session of ``user`` (logout ends them all); returns the new stamp a fresh session may carry."""
    user.session_stamp = new_session_stamp()
    session.flush()
    return user.session_stamp


def holds_session(user: User | None, stamp: str | None, *, client: bool = False) -> bool:
    """Whether a session carrying ``stamp`` is still the user's: active, with a password, and not ended since.

    A staff session (``client`` false) is never a client user's, and a portal session (``client`` true) only theirs."""
    return (user is not None and user.is_active and bool(user.password_hash) and user.is_client == client
            and isinstance(stamp, str)
            and bool(stamp) and secrets.compare_digest(user.session_stamp.encode(), stamp.encode()))


# How precisely a token's last use is kept (``ApiToken.last_used_at``).
TOKEN_USE_RESOLUTION = timedelta(minutes=5)


def token_digest(token: str) -> str:
    """What is stored of a bearer secret (API tokens, integration tokens, reset links).

    Tokens are 256 random bits, so a fast hash is enough; passwords get argon2.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    """A new bearer secret: ``prefix`` (which says what kind of token it is) and 256 random bits."""
    return prefix + secrets.token_urlsafe(32)


def create_token(session: Session, *, actor: User | None, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new API token for ``user``; returns the record and the token, which is never stored."""
    if actor is not None and not actor.is_admin and actor.id != user.id:
        raise Forbidden("only administrators create tokens for other users")
    if user.is_client:
        raise Forbidden("client users of the portal have no API tokens")
    secret = new_secret(TOKEN_PREFIX)
    token = ApiToken(user_id=user.id, name=name, token_hash=token_digest(secret), prefix=secret[:12])
    session.add(token)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=token, after=token.audit_state())
    return token, secret


def list_tokens(session: Session, *, user: User):
    """A select of the tokens of ``user``."""
    return select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)


def revoke_token(session: Session, *, actor: User, token_id: int) -> ApiToken:
    """Revoke a token; its owner or an admin may."""
    token = session.get(ApiToken, token_id)
    if token is None or (not actor.is_admin and token.user_id != actor.id):
        raise NotFound("token {token_id} not found", token_id=token_id)
    if token.revoked_at is None:
        before = token.audit_state()
        token.revoked_at = utcnow()
        session.flush()
        audit.record(session, actor=actor, action="revoke", entity=token, before=before, after=token.audit_state())
    return token


# Built once per set of extra columns: every API request runs it, and building the statement costs more than
# running it. Core columns rather than ORM entities: the ORM's loading of a token and its user cost a third of a
# small request; the user is made from the row (``attach_loaded``), the token needs no object at all.
_USER_COLUMNS = tuple((prop.key, prop.columns[0]) for prop in User.__mapper__.column_attrs)


class ReadWithUser(Protocol):
    """Something read about the caller by the statement that authenticates them, instead of by one more.

    ``column`` is a SQL expression of the row of ``users`` (a correlated scalar subquery); ``remember``
    is given its value once the caller is known (e.g. kept in the transaction's memo).
    """

    column: ColumnElement

    def remember(self, session: Session, user: User, value) -> None: ...


@functools.lru_cache(maxsize=8)
def _token_and_user(also: tuple[ReadWithUser, ...]):
    return (
        select(ApiToken.__table__.c.id.label("token_id"), ApiToken.__table__.c.revoked_at,
               ApiToken.__table__.c.last_used_at, *(column for _key, column in _USER_COLUMNS),
               *(extra.column for extra in also))
        .select_from(ApiToken.__table__.join(User.__table__, ApiToken.__table__.c.user_id == User.__table__.c.id))
        .where(ApiToken.__table__.c.token_hash == bindparam("token_hash"))
    )


def user_for_token(session: Session, *, token: str, also: tuple[ReadWithUser, ...] = ()) -> User | None:
    """The active user a valid, unrevoked token belongs to, else None; ``also`` read in the same statement."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    rows = fetch_all(session, _token_and_user(also), {"token_hash": token_digest(token)})
    if not rows:
        return None
    token_id, revoked_at, last_used_at, *values = rows[0]
    if revoked_at is not None:
        return None
    user_values = values[:len(_USER_COLUMNS)]
    user = attach_loaded(session, User, dict(zip((key for key, _column in _USER_COLUMNS), user_values)))
    if not user.is_active or user.is_client:
        return None
    now = utcnow()
    if last_used_at is None or now - last_used_at >= TOKEN_USE_RESOLUTION:
        # Coarse on purpose: a busy client writes this row once per interval, not once per request.
        session.execute(sql_update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    for extra, value in zip(also, values[len(_USER_COLUMNS):]):
        extra.remember(session, user, value)
    return user


# Teams


def get_team_or_raise(session: Session, *, team_id: int, field: str | None = None) -> Team:
    """The team with this id, or NotFound (naming the input ``field`` when given)."""
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("team {team_id} not found", team_id=team_id, errors={field: ["not found"]} if field else None)
    return team


def list_teams(session: Session):
    """A select of all teams by name."""
    return select(Team).order_by(Team.name, Team.id)


def create_team(session: Session, *, actor: User | None, name: str, member_ids: list[int] = ()) -> Team:
    """A new team with the given members (admins only)."""
    if actor is not None and not actor.is_admin:
        raise Forbidden("only administrators create teams")
    name = name.strip()
    if session.scalar(select(func.count()).select_from(Team).where(Team.name == name)):
        raise Conflict("a team named {name!r} already exists", name=name, errors={"name": ["already in use"]})
    team = Team(name=name)
    team.members = _users(session, member_ids)
    session.add(team)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=team, after=team.audit_state())
    record_access_changed(session, actor=actor, user_ids=[member.id for member in team.members], what="team_joined",
                          team_id=team.id)
    return team


def update_team(session: Session, *, actor: User, team: Team, name: str | None = None,
                member_ids: list[int] | None = None) -> Team:
    """Rename a team or replace its members (admins only)."""
    if not actor.is_admin:
        raise Forbidden("only administrators change teams")
    before = team.audit_state()
    if name is not None and name.strip() != team.name:
        name = name.strip()
        if session.scalar(select(func.count()).select_from(Team).where(Team.name == name)):
            raise Conflict("a team named {name!r} already exists", name=name, errors={"name": ["already in use"]})
        team.name = name
    if member_ids is not None:
        team.members = _users(session, member_ids)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=team, before=before, after=team.audit_state())
    now = set(team.audit_state()["members"])
    record_access_changed(session, actor=actor, user_ids=sorted(now - set(before["members"])), what="team_joined",
                          team_id=team.id)
    record_access_changed(session, actor=actor, user_ids=sorted(set(before["members"]) - now), what="team_left",
                          team_id=team.id)
    return team


def delete_team(session: Session, *, actor: User, team: Team) -> None:
    """Delete a team; its grants go with it (admins only)."""
    if not actor.is_admin:
        raise Forbidden("only administrators delete teams")
    audit.record(session, actor=actor, action="delete", entity=team, before=team.audit_state())
    record_access_changed(session, actor=actor, user_ids=[member.id for member in team.members], what="team_left",
                          team_id=team.id)
    session.delete(team)
    session.flush()


def _users(session: Session, ids) -> list[User]:
    ids = list(dict.fromkeys(ids))
    users = session.scalars(select(User).where(User.id.in_(ids), User.is_client.is_(False))).all() if ids else []
    missing = sorted(set(ids) - {user.id for user in users})  # a client user is no member of a team either
    if missing:
        raise Invalid("unknown users {missing}",
                      missing=missing, errors={"member_ids": [f"unknown user ids: {missing}"]})
    return list(users)


def team_ids_of(session: Session, *, user: User) -> list[int]:
    """The ids of the teams ``user`` belongs to."""
    return list(session.scalars(select(team_members.c.team_id).where(team_members.c.user_id == user.id)))

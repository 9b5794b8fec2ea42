"""Telling users about things: notify (in-app and e-mail, as each user prefers), read, mark read, preferences.

Who is told about what is decided above (``accounts.notifying``); this module only delivers, keeps
the list and the preferences, and renders texts in the reader's language.
"""

from __future__ import annotations

import logging

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from crmpm.database import utcnow
from crmpm.errors import Invalid, NotFound
from crmpm.notifications.kinds import KINDS, Channels, Rendered, page_of, render
from crmpm.notifications.models import Notification, NotificationPreference
from crmpm.users.models import User

log = logging.getLogger(__name__)


def notify(session: Session, *, user_id: int, kind: str, subject: tuple[str, int | None] | None = None,
           params: dict, event_id: int | None = None) -> Notification | None:
    """Tell ``user_id`` about ``kind`` through the channels they chose; the in-app row, if one was made.

    Nothing for an inactive or missing user, nor a second time for the same ``event_id`` (an event
    delivered again). The e-mail is a job handed over when the transaction commits.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    if event_id is not None and session.scalar(select(Notification.id).where(
            Notification.user_id == user_id, Notification.event_id == event_id)) is not None:
        return None
    subject_type, subject_id = subject if subject is not None else (None, None)
    channels = preferences_of(session, user_id=user_id)[kind]
    note = None
    if channels.in_app:
        note = Notification(user_id=user_id, kind=kind, subject_type=subject_type, subject_id=subject_id,
                            event_id=event_id, params=params, created_at=utcnow())
        session.add(note)
        session.flush()
    if channels.email:
        send_email(session, user=user, kind=kind, params=params, url=page_of(subject_type, subject_id, params))
    return note


def send_email(session: Session, *, user: User, kind: str, params: dict, url: str | None = None):
    """An e-mail of ``kind`` to ``user`` in their language, sent by a job after the commit (``crmpm.mail``)."""
    from crmpm import mail  # noqa: PLC0415 - sending pulls in the job engine; only senders need it

    from crmpm.jobs.services import public_url  # noqa: PLC0415 - as above

    base = public_url(session)
    texts = rendered(kind, user, {**params, "url": f"{base}{url}" if base and url else None})
    return mail.send_later(session, mail.Message(to=[user.email], subject=texts.subject, text=texts.text,
                                                 html=texts.html))


def rendered(kind: str, reader: User, params: dict) -> Rendered:
    """The texts of a notification of ``kind`` for ``reader``: their language, times in their zone."""
    return render(kind, reader.locale, {"url": None, **params}, time_zone=reader.time_zone)


def text_of(note: Notification, reader: User) -> str:
    """The one-line text of ``note`` for ``reader`` (the list, the API)."""
    return rendered(note.kind, reader, note.params).subject


def url_of(note: Notification) -> str | None:
    """The page ``note`` links to, if any."""
    return page_of(note.subject_type, note.subject_id, note.params)


def unread_count(session: Session, *, user: User) -> int:
    """How many of ``user``'s notifications are unread (one count query: the bell on every page)."""
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def list_for(session: Session, *, user: User, unread: bool = False) -> Select:
    """A select of ``user``'s notifications, newest first; ``unread``: only those not read yet."""
    query = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc())
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return query


def get_or_raise(session: Session, *, user: User, notification_id: int) -> Notification:
    """One of ``user``'s notifications (NotFound for anyone else's)."""
    note = session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        raise NotFound("notification {notification_id} not found", notification_id=notification_id)
    return note


def mark_read(session: Session, *, user: User, notification_id: int) -> Notification:
    """Mark one of ``user``'s notifications read (again: it keeps its first reading time)."""
    note = get_or_raise(session, user=user, notification_id=notification_id)
    if note.read_at is None:
        note.read_at = utcnow()
        session.flush()
    return note


def mark_all_read(session: Session, *, user: User) -> int:
    """Mark all of ``user``'s unread notifications read; how many."""
    result = session.execute(update(Notification).where(Notification.user_id == user.id,
                                                        Notification.read_at.is_(None))
                             .values(read_at=utcnow()).execution_options(synchronize_session=False))
    session.expire_all()
    return result.rowcount or 0


def preferences_of(session: Session, *, user_id: int) -> dict[str, Channels]:
    """``user_id``'s channels for every kind: their choice, or the kind's default."""
    chosen = {row.kind: Channels(in_app=row.in_app, email=row.email) for row in session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id))}
    return {kind: chosen.get(kind, default) for kind, default in KINDS.items()}


def set_preferences(session: Session, *, user: User, choices: dict[str, Channels]) -> dict[str, Channels]:
    """Set ``user``'s channels for the kinds in ``choices`` (the others keep theirs); all of them after."""
    unknown = sorted(set(choices) - set(KINDS))
    if unknown:
        raise Invalid("unknown notification kinds {kinds}", kinds=unknown,
                      errors={kind: ["unknown kind"] for kind in unknown})
    existing = {row.kind: row for row in session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    for kind, channels in choices.items():
        row = existing.get(kind)
        if row is None:
            session.add(NotificationPreference(user_id=user.id, kind=kind, in_app=channels.in_app,
                                               email=channels.email))
        else:
            row.in_app, row.email = channels.in_app, channels.email
    session.flush()
    return preferences_of(session, user_id=user.id)

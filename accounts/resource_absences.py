"""Absences on the resource calendars: a user's absence takes its days off their linked resource's calendar.

The days are those of the user's own time zone (``User.time_zone``) that the absence touches (one ending at
local midnight leaves that day alone). Removing an absence, or ending it early, gives the days back
(``wbs.resources.calendars``), except those another absence of the user still covers. Called by the absence
service (``accounts.routing``) in its transaction.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Absence
from crmpm.users.models import User
from wbs.resources import calendars
from wbs.resources.models import Resource


def days_of(starts_at: datetime, ends_at: datetime, time_zone: str) -> set[date]:
    """The local days ``[starts_at, ends_at)`` touches in ``time_zone``.

    >>> from datetime import timezone
    >>> utc = timezone.utc
    >>> sorted(days_of(datetime(2026, 3, 1, 21, tzinfo=utc), datetime(2026, 3, 3, 21, tzinfo=utc), "Europe/Moscow"))
    [datetime.date(2026, 3, 2), datetime.date(2026, 3, 3)]
    """
    zone = ZoneInfo(time_zone)
    first = starts_at.astimezone(zone).date()
    last = (ends_at.astimezone(zone) - timedelta(microseconds=1)).date()
    return {first + timedelta(days=n) for n in range((last - first).days + 1)} if last >= first else set()


def _resource_of(session: Session, user_id: int) -> Resource | None:
    return session.scalar(select(Resource).where(Resource.user_id == user_id))


def _zone(session: Session, user_id: int) -> str:
    return session.get(User, user_id).time_zone


def absence_taken(session: Session, *, actor: User, absence: Absence) -> None:
    """Put the absence's days off the calendar of the absent user's resource, if they have one."""
    resource = _resource_of(session, absence.user_id)
    if resource is None:
        return
    days = days_of(absence.starts_at, absence.ends_at, _zone(session, absence.user_id))
    calendars.mark_days_off(session, actor=actor, resource=resource, key=absence.id, days=days)


def _still_off(session: Session, absence: Absence, zone: str) -> set[date]:
    others = session.scalars(select(Absence).where(Absence.user_id == absence.user_id, Absence.id != absence.id))
    covered: set[date] = set()
    for other in others:
        covered |= days_of(other.starts_at, other.ends_at, zone)
    return covered


def absence_given_back(session: Session, *, actor: User, absence: Absence, days: set[date] | None = None) -> None:
    """Give back the days the absence took off (only ``days`` when given), before it is removed or shortened."""
    resource = _resource_of(session, absence.user_id)
    if resource is None:
        return
    zone = _zone(session, absence.user_id)
    calendars.restore_days(session, actor=actor, resource=resource, key=absence.id, days=days,
                           still_off=_still_off(session, absence, zone))


def absence_shortened(session: Session, *, actor: User, absence: Absence, old_ends_at: datetime) -> None:
    """Give back the days an absence no longer covers after it was ended early."""
    zone = _zone(session, absence.user_id)
    dropped = (days_of(absence.starts_at, old_ends_at, zone) - days_of(absence.starts_at, absence.ends_at, zone))
    if dropped:
        absence_given_back(session, actor=actor, absence=absence, days=dropped)

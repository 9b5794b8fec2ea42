"""A resource's own calendar, and the days off put on it for absences (vacations, sick days from the CRM).

A resource with no calendar of its own (kind ``resource``) gets one, copied from its base calendar (the one it
pointed at, else the first global calendar, else Monday to Friday 8-12 and 13-17), the first time a day
off is put on it. A day off is an exception with no working periods, put there for an absence (``key``,
the absence's id). What the day held before (its exception's periods, or none) is kept in the calendar's
audit entry of that absence (action ``absence_days``), so that removing the absence restores it exactly,
holidays and shortened days included; a day another absence still covers stays off, and that absence's
entry takes over what the day held before either.

The CRM calls these (``accounts.resource_absences``); they do not check rights: the absence's own service
decided who may record it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.audit.models import AuditEntry
from crmpm.users.models import User
from wbs.models import Calendar, CalendarException
from wbs.resources.models import Resource

ACTION = "absence_days"
STANDARD_WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]


def own_calendar(session: Session, *, actor: User | None, resource: Resource) -> Calendar:
    """The resource's own calendar, made from its base calendar when it has none of kind ``resource``."""
    base = session.get(Calendar, resource.calendar_id) if resource.calendar_id is not None else None
    if base is not None and base.kind == "resource":
        return base
    if base is None:
        base = session.scalar(select(Calendar).where(Calendar.project_id.is_(None), Calendar.kind == "")
                              .order_by(Calendar.id).limit(1))
    name = f"{resource.code}: {base.name if base else 'Standard'}"[:300]
    calendar = Calendar(project_id=None, kind="resource", name=name,
                        hours_per_day=base.hours_per_day if base else 8.0,
                        week=[list(map(list, day)) for day in base.week] if base else STANDARD_WEEK)
    calendar.exceptions = [CalendarException(day=e.day, periods=[list(p) for p in e.periods])
                           for e in (base.exceptions if base else [])]
    session.add(calendar)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=calendar, after=calendar.audit_state())
    before = resource.audit_state()
    resource.calendar_id = calendar.id
    session.flush()
    audit.record(session, actor=actor, action="update", entity=resource, before=before, after=resource.audit_state())
    return calendar


def _entries(session: Session, calendar: Calendar) -> dict[str, dict[str, list | None]]:
    """What each absence's days held before it, by absence key: ``{key: {day: periods or None}}``."""
    kept: dict[str, dict[str, list | None]] = {}
    for entry in session.scalars(select(AuditEntry).where(
            AuditEntry.entity_type == Calendar.__tablename__, AuditEntry.entity_id == calendar.id,
            AuditEntry.action == ACTION).order_by(AuditEntry.id)):
        key = str((entry.after or {}).get("absence"))
        days = (entry.before or {}).get("days", {})
        if (entry.after or {}).get("restored"):
            kept.pop(key, None)
        else:
            kept.setdefault(key, {}).update(days)
    return kept


def mark_days_off(session: Session, *, actor: User | None, resource: Resource, key: int | str,
                  days: set[date]) -> Calendar:
    """Make ``days`` non-working on the resource's own calendar for absence ``key``, remembering what they held."""
    calendar = own_calendar(session, actor=actor, resource=resource)
    if not days:
        return calendar
    earlier = _entries(session, calendar)
    held = {e.day: e for e in calendar.exceptions}
    previous: dict[str, list | None] = {}
    for day in sorted(days):
        # A day another absence already took off held, before it, what that absence remembers.
        original = next((kept[day.isoformat()] for other, kept in earlier.items()
                         if other != str(key) and day.isoformat() in kept), ...)
        if original is ...:
            original = held[day].periods if day in held else None
        previous[day.isoformat()] = original
        if day in held:
            held[day].periods = []
        else:
            calendar.exceptions.append(CalendarException(day=day, periods=[]))
    session.flush()
    audit.record(session, actor=actor, action=ACTION, entity=calendar, before={"days": previous},
                 after={"absence": str(key), "days": {day: [] for day in previous}})
    return calendar


def restore_days(session: Session, *, actor: User | None, resource: Resource, key: int | str,
                 days: set[date] | None = None, still_off: set[date] = frozenset()) -> None:
    """Give back the days absence ``key`` took off (those of ``days`` only, when given): each returns to what it
    held before, except the days in ``still_off`` (covered by another absence), which stay off."""
    if resource.calendar_id is None:
        return
    calendar = session.get(Calendar, resource.calendar_id)
    if calendar is None or calendar.kind != "resource":
        return
    entries = _entries(session, calendar)
    mine = entries.get(str(key), {})
    if not mine:
        return
    held = {e.day: e for e in calendar.exceptions}
    restored: dict[str, list | None] = {}
    for text, original in mine.items():
        day = date.fromisoformat(text)
        if days is not None and day not in days:
            continue
        restored[text] = original
        if day in still_off:
            # The other absence remembers the same original for this day (``mark_days_off``).
            continue
        row = held.get(day)
        if original is None:
            if row is not None:
                calendar.exceptions.remove(row)
        elif row is not None:
            row.periods = original
        else:
            calendar.exceptions.append(CalendarException(day=day, periods=original))
    session.flush()
    if restored:
        audit.record(session, actor=actor, action=ACTION, entity=calendar, before={"days": restored},
                     after={"absence": str(key), "restored": True, "days": sorted(restored)})
    if days is not None:
        left = {text: value for text, value in mine.items() if text not in restored}
        if left:
            audit.record(session, actor=actor, action=ACTION, entity=calendar, before={"days": left},
                         after={"absence": str(key), "days": {text: [] for text in left}})

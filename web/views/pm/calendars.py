"""Work calendars: the global ones (administrators change them) and a project's own (its editors change them).

A calendar's work week is typed as periods per weekday (``08:00-12:00, 13:00-17:00``; empty is a day off),
its exceptions as a day with periods (none: a holiday), and holidays come in from a production calendar file
(iCalendar or ``date, hours`` CSV, read by :mod:`wbs.calendar_files`). Every change goes through
:mod:`wbs.services` (``create_calendar``, ``update_calendar``, ``add_calendar_exceptions``, ``delete_calendar``).
"""

from __future__ import annotations

import re
from datetime import date

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crmpm.database import db
from crmpm.errors import Invalid
from wbs import services
from wbs.models import NAME_LENGTH, Calendar
from web.views.pm.blueprint import bp
from web.views.pm.common import load_project

STANDARD_WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]
PERIOD = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*[-–—]\s*(\d{1,2})[:.](\d{2})\s*$")


def weekday_names() -> list[str]:
    return [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


def periods_text(periods: list) -> str:
    """``[[480, 720], [780, 1020]]`` as ``08:00-12:00, 13:00-17:00``."""
    return ", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in periods)


def _minutes(hours: str, minutes: str) -> int | None:
    h, m = int(hours), int(minutes)
    return h * 60 + m if (h < 24 and m < 60) or (h == 24 and m == 0) else None


def parse_periods(text: str | None, what: str, field: str) -> list[list[int]]:
    """Periods typed as ``08:00-12:00, 13:00-17:00`` (empty: no work); Invalid naming ``what`` otherwise."""
    periods = []
    for part in re.split(r"[,;]", text or ""):
        if not part.strip():
            continue
        match = PERIOD.match(part)
        start = _minutes(*match.group(1, 2)) if match else None
        end = _minutes(*match.group(3, 4)) if match else None
        if start is None or end is None:
            raise Invalid(_("%(what)s: write the working hours as 08:00-12:00, 13:00-17:00.", what=what),
                          errors={field: ["periods"]})
        periods.append([start, end])
    return periods


def _hours_per_day(text: str | None) -> float:
    text = (text or "").strip().replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 24:
        raise Invalid(_("Hours per day must be a number above 0 and at most 24."), errors={"hours_per_day": ["0-24"]})
    return value


def _name(text: str | None) -> str:
    name = (text or "").strip()
    if not name:
        raise Invalid(_("Please fill in: %(fields)s.", fields=_("Name")), errors={"name": ["required"]})
    if len(name) > NAME_LENGTH:
        raise Invalid(_("The name may have at most %(count)s characters.", count=NAME_LENGTH), errors={"name": ["length"]})
    return name


def _week(form) -> list:
    names = weekday_names()
    return [parse_periods(form.get(f"week-{day}"), names[day], f"week-{day}") for day in range(7)]


def _day(text: str | None, field: str = "day") -> date:
    try:
        value = date.fromisoformat((text or "").strip())
    except ValueError:
        value = None
    if value is None or not 1900 <= value.year <= 2999:
        raise Invalid(_("%(what)s is not a valid date.", what=_("Day")), errors={field: ["date"]})
    return value


def _list(project=None):
    calendars = db.session.scalars(services.list_calendars(db.session, user=g.user, project=project)).all()
    return render_template("projects/calendars.html", project=project, calendars=calendars,
                           can_create=services.may_change_calendar(db.session, user=g.user, project=project),
                           standard_week=[periods_text(day) for day in STANDARD_WEEK], weekdays=weekday_names())


def _create(project=None):
    services.authorize_calendar_change(db.session, actor=g.user, project=project)  # before reading the form
    form = request.form
    calendar = services.create_calendar(db.session, actor=g.user, project=project, name=_name(form.get("name")),
                                        hours_per_day=_hours_per_day(form.get("hours_per_day")), week=_week(form))
    flash(_("Calendar %(name)s created.", name=calendar.name), "info")
    return redirect(url_for("pm.calendar", calendar_id=calendar.id), code=303)


@bp.route("/calendars")
def global_calendars():
    """The global calendars, which every project may use."""
    return _list()


@bp.route("/calendars", methods=["POST"])
def create_global_calendar():
    """A new global calendar (administrators)."""
    return _create()


@bp.route("/<int:project_id>/calendars")
def project_calendars(project_id: int):
    """The calendars a project's activities may use: its own and the global ones."""
    return _list(load_project(project_id))


@bp.route("/<int:project_id>/calendars", methods=["POST"])
def create_project_calendar(project_id: int):
    """A new calendar of the project's own (its editors)."""
    return _create(load_project(project_id))


def _load(calendar_id: int) -> Calendar:
    return services.get_calendar_or_raise(db.session, user=g.user, calendar_id=calendar_id)


def _load_to_change(calendar_id: int) -> Calendar:
    """The calendar, once the user may change it (a form from a reader is refused before it is read)."""
    item = _load(calendar_id)
    services.authorize_calendar_change(db.session, actor=g.user, calendar=item)
    return item


def _back(calendar: Calendar):
    return redirect(url_for("pm.calendar", calendar_id=calendar.id), code=303)


@bp.route("/calendars/<int:calendar_id>")
def calendar(calendar_id: int):
    """One calendar: its work week, its exceptions, the holiday import."""
    item = _load(calendar_id)
    project = load_project(item.project_id) if item.project_id is not None else None
    return render_template("projects/calendar.html", calendar=item, project=project,
                           can_edit=services.may_change_calendar(db.session, user=g.user, calendar=item),
                           week=[periods_text(day) for day in item.week], weekdays=weekday_names(),
                           periods_text=periods_text)


@bp.route("/calendars/<int:calendar_id>", methods=["POST"])
def update_calendar(calendar_id: int):
    """Rename a calendar, change its hours per day or its work week."""
    item = _load_to_change(calendar_id)
    form = request.form
    services.update_calendar(db.session, actor=g.user, calendar=item, name=_name(form.get("name")),
                             hours_per_day=_hours_per_day(form.get("hours_per_day")), week=_week(form))
    flash(_("Calendar %(name)s saved.", name=item.name), "info")
    return _back(item)


@bp.route("/calendars/<int:calendar_id>/exceptions", methods=["POST"])
def add_exception(calendar_id: int):
    """Make one day a holiday (no hours) or give it other working hours."""
    item = _load_to_change(calendar_id)
    day = _day(request.form.get("day"))
    periods = parse_periods(request.form.get("periods"), _("Working hours"), "periods")
    services.add_calendar_exceptions(db.session, actor=g.user, calendar=item, exceptions={day: periods})
    flash(_("%(day)s saved.", day=day.isoformat()), "info")
    return _back(item)


@bp.route("/calendars/<int:calendar_id>/exceptions/delete", methods=["POST"])
def delete_exception(calendar_id: int):
    """Let a day follow the work week again."""
    item = _load_to_change(calendar_id)
    day = _day(request.form.get("day"))
    services.update_calendar(db.session, actor=g.user, calendar=item,
                             exceptions={e.day: e.periods for e in item.exceptions if e.day != day})
    flash(_("%(day)s follows the work week again.", day=day.isoformat()), "info")
    return _back(item)


@bp.route("/calendars/<int:calendar_id>/import", methods=["POST"])
def import_holidays(calendar_id: int):
    """Days off and shortened days from a production calendar file (.ics or date,hours CSV; within the form's
    1 MiB, which a year's calendar is far below)."""
    item = _load_to_change(calendar_id)
    upload = request.files.get("file")
    data, filename = (upload.read(), upload.filename or "") if upload is not None else (b"", "")
    days = services.import_calendar_file(db.session, actor=g.user, calendar=item, data=data, filename=filename)
    off = sum(1 for periods in days.values() if not periods)
    flash(_("Imported %(off)s days off and %(other)s days with other hours.", off=off, other=len(days) - off), "info")
    return _back(item)


@bp.route("/calendars/<int:calendar_id>/delete", methods=["POST"])
def delete_calendar(calendar_id: int):
    """Delete a calendar no activity or project uses (the service refuses otherwise)."""
    item = _load_to_change(calendar_id)
    name, project_id = item.name, item.project_id
    services.delete_calendar(db.session, actor=g.user, calendar=item)
    flash(_("Calendar %(name)s deleted.", name=name), "info")
    if project_id is not None:
        return redirect(url_for("pm.project_calendars", project_id=project_id), code=303)
    return redirect(url_for("pm.global_calendars"), code=303)

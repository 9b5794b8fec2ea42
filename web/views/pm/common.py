"""What the PM's pages share: loading a project, reading durations and dates typed in forms."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask import current_app, g, request, session as cookie
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import Deal
from crmpm.database import db
from crmpm.errors import Invalid
from eps import services as eps_services
from eps.models import Project
from eps.permissions import Permission, access_to
from wbs import baselines, services
from wbs.models import BASELINE_ROLES, Calendar
from wbs.scheduling.jobs import is_large

LAST_PROJECT_KEY = "pm_last_project"
MAX_DAYS = Decimal(int(services.MAX_HOURS // 24))


def load_project(project_id: int) -> Project:
    """The project if the user may read it (404 otherwise); remembered as the one last opened."""
    project = eps_services.get_project_or_raise(db.session, user=g.user, project_id=project_id)
    cookie[LAST_PROJECT_KEY] = project.id
    return project


def asked_baseline(project: Project):
    """The baseline ``?compare=<id>`` names, one of the project's (404 for any other id); None when not asked."""
    wanted = request.args.get("compare", type=int)
    if wanted is None:
        return None
    return baselines.get_project_baseline_or_raise(db.session, project=project, baseline_id=wanted)


def shown_baselines(first, choices) -> tuple[str | None, list]:
    """``?baselines=2``: beside ``first`` (the baseline compared, or the primary), the project's secondary baseline
    too; ``?baselines=3``: its tertiary as well (P6's primary, secondary and tertiary baseline bars). ``choices``:
    the project's baselines. The argument to keep in links (None: only ``first``) and the baselines added, in role
    order, ``first`` left out; any other value is ignored."""
    asked = request.args.get("baselines")
    if asked not in ("2", "3"):
        return None, []
    holders = {b.role: b for b in choices if b.role}
    return asked, [holders[role] for role in BASELINE_ROLES[1:int(asked)]
                   if role in holders and holders[role] is not first]


def project_baselines(project: Project) -> list:
    """The project's baselines, oldest first (the pages' choice of one)."""
    return db.session.scalars(baselines.list_baselines(db.session, project=project)).all()


def may_edit(project: Project) -> bool:
    """Whether the WBS services would take changes to ``project`` from the user (to show the controls)."""
    return access_to(db.session, user=g.user, obj=project).can(Permission.edit)


def runs_as_job(project: Project, activities: int | None = None) -> bool:
    """Whether the pages schedule and export ``project`` as a job: more activities than SCHEDULE_ASYNC_ACTIVITIES
    (``activities``: its count, when the caller has it)."""
    limit = current_app.config["SCHEDULE_ASYNC_ACTIVITIES"]
    if activities is not None:
        return activities > limit
    return is_large(db.session, project=project, limit=limit)


def hours_per_day(plan) -> float:
    """Hours in a working day of the project's default calendar (8 without one): durations show in days."""
    if plan.default_calendar_id is not None:
        calendar = db.session.get(Calendar, plan.default_calendar_id)
        if calendar is not None:
            return calendar.hours_per_day
    return 8.0


def deal_id(project: Project) -> int | None:
    """The deal this project is the delivery of, if any (the CRM's page checks its own rights)."""
    return db.session.scalar(select(Deal.id).where(Deal.project_id == project.id))


def parse_days(text: str | None, what: str, field: str) -> Decimal | None:
    """A number of days typed as ``5``, ``2.5`` or ``2,5``; None when empty; Invalid naming ``what`` otherwise."""
    text = (text or "").strip().replace(",", ".").replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not -MAX_DAYS <= value <= MAX_DAYS:
        raise Invalid(_("%(what)s must be a number of days, such as 5 or 2.5.", what=what), errors={field: ["number"]})
    return value


def parse_nonnegative_days(text: str | None, what: str, field: str) -> Decimal | None:
    value = parse_days(text, what, field)
    if value is not None and value < 0:
        raise Invalid(_("%(what)s cannot be negative.", what=what), errors={field: ["negative"]})
    return value


def parse_percent(text: str | None) -> float | None:
    text = (text or "").strip().replace(",", ".").rstrip("%").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= 100:
        raise Invalid(_("Percent complete must be a number from 0 to 100."), errors={"percent_complete": ["0-100"]})
    return value


def parse_when(text: str | None, what: str, field: str, *, hour: int = 8) -> datetime | None:
    """A date (``2026-11-23``) or date and time (``2026-11-23T08:00``) from a form; None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(_("%(what)s is not a valid date.", what=what), errors={field: ["date"]}) from None
    if not 1900 <= value.year <= 2999:
        raise Invalid(_("%(what)s is not a valid date.", what=what), errors={field: ["date"]})
    if len(text) == 10:  # a bare date: the working day's start (or end, for a finish), as P6 shows it
        value = value.replace(hour=hour)
    return value.replace(second=0, microsecond=0, tzinfo=None)

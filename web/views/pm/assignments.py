"""An activity's resources: its assignments listed on the activity page, added, changed and removed there.

Every change goes through :mod:`wbs.resources.services`, which checks the edit rights on the project, prices the
assignment and rolls its costs up; a change of units or units per hour alone follows the activity's duration
type. The page sends only what the user changed, so that rule sees one change at a time.
"""

from __future__ import annotations

from decimal import Decimal

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _

from crmpm.database import db
from crmpm.errors import Invalid
from wbs import services as wbs_services
from wbs.resources import services as pool
from wbs.resources.models import CURVES, RATE_SOURCES, Resource, ResourceRole
from web.forms import parse_amount
from web.views.pm.blueprint import bp
from web.views.pm.common import load_project, parse_when

CHOICES_LIMIT = 300  # resources and roles offered in a picker


def _resources() -> list[Resource]:
    return db.session.scalars(pool.list_resources(db.session, user=g.user, active=True).limit(CHOICES_LIMIT)).all()


def _roles() -> list[ResourceRole]:
    return db.session.scalars(pool.list_roles(db.session, user=g.user).limit(CHOICES_LIMIT)).all()


def activity_context(project, activity) -> dict:
    """What the activity page's "Resources" section shows: the assignments and, to add one, the pool's choices."""
    assignments = db.session.scalars(pool.list_assignments(db.session, user=g.user, project=project,
                                                           activity=activity)).all()
    return {"assignments": assignments, "pool_resources": _resources(), "pool_roles": _roles(),
            "curves": CURVES, "rate_sources": RATE_SOURCES}


def _id(text: str | None, field: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise Invalid(_("Choose from the list."), errors={field: ["choice"]})
    return int(text)


def _number(text: str | None, what: str, field: str) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    value = parse_amount(text)
    if value is None or value < 0 or value > Decimal(pool.MAX_UNITS):
        raise Invalid(_("%(what)s must be a number, 0 or more.", what=what), errors={field: ["number"]})
    return float(value)


def _price(text: str | None) -> Decimal | None:
    text = (text or "").strip()
    if not text:
        return None
    value = parse_amount(text)
    if value is None or value < 0 or value >= pool.MONEY_LIMIT:
        raise Invalid(_("The price must be an amount, 0 or more."), errors={"price_per_unit": ["amount"]})
    return value.quantize(Decimal("0.01"))


def _choice(text: str | None, allowed, field: str) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    if text not in allowed:
        raise Invalid(_("Choose from the list."), errors={field: ["choice"]})
    return text


def _form_fields() -> dict:
    """The assignment's fields as the form gives them (missing and empty ones left out)."""
    form = request.form
    fields = {
        "resource_id": _id(form.get("resource_id"), "resource_id"),
        "role_id": _id(form.get("role_id"), "role_id"),
        "budgeted_units": _number(form.get("budgeted_units"), _("Budgeted units, h"), "budgeted_units"),
        "actual_units": _number(form.get("actual_units"), _("Actual units, h"), "actual_units"),
        "units_per_hour": _number(form.get("units_per_hour"), _("Units per hour"), "units_per_hour"),
        "price_per_unit": _price(form.get("price_per_unit")),
        "rate_source": _choice(form.get("rate_source"), RATE_SOURCES, "rate_source"),
        "curve": _choice(form.get("curve"), CURVES, "curve"),
        "start": parse_when(form.get("start"), _("Start"), "start"),
        "finish": parse_when(form.get("finish"), _("Finish"), "finish", hour=17),
    }
    return {key: value for key, value in fields.items() if key in form and value is not None}


# The places the form shows numbers with: a value sent back as shown is no change.
SHOWN_PLACES = {"budgeted_units": 2, "actual_units": 2, "units_per_hour": 3}


def _same(key: str, old, new) -> bool:
    if key in SHOWN_PLACES and old is not None and new is not None:
        return round(float(old), SHOWN_PLACES[key]) == round(float(new), SHOWN_PLACES[key])
    return old == new


def _back(project, activity_id: int):
    return redirect(url_for("pm.activity", project_id=project.id, activity_id=activity_id, _anchor="resources"),
                    code=303)


@bp.route("/<int:project_id>/activities/<int:activity_id>/assignments", methods=["POST"])
def add_assignment(project_id: int, activity_id: int):
    """Assign a resource or a role to the activity."""
    project = load_project(project_id)
    activity = wbs_services.get_activity_or_raise(db.session, project=project, activity_id=activity_id)
    pool.authorize_assignment_change(db.session, actor=g.user, project=project)
    fields = _form_fields()
    if fields.get("resource_id") is None and fields.get("role_id") is None:
        raise Invalid(_("Choose a resource or a role."), errors={"resource_id": ["required"]})
    pool.create_assignment(db.session, actor=g.user, project=project, activity=activity, **fields)
    flash(_("Assignment added."), "info")
    return _back(project, activity.id)


@bp.route("/<int:project_id>/assignments/<int:assignment_id>", methods=["POST"])
def update_assignment(project_id: int, assignment_id: int):
    """Change an assignment: what the form changed only (units or rate alone follow the duration type)."""
    project = load_project(project_id)
    assignment = pool.get_assignment_or_raise(db.session, user=g.user, project=project, assignment_id=assignment_id)
    pool.authorize_assignment_change(db.session, actor=g.user, project=project)
    fields = _form_fields()
    if "resource_id" in request.form and not (request.form.get("resource_id") or "").strip():
        fields["resource_id"] = None
    if "role_id" in request.form and not (request.form.get("role_id") or "").strip():
        fields["role_id"] = None
    changed = {key: value for key, value in fields.items() if not _same(key, getattr(assignment, key), value)}
    if changed:
        pool.update_assignment(db.session, actor=g.user, project=project, assignment=assignment, **changed)
        flash(_("Assignment saved."), "info")
    else:
        flash(_("Nothing was changed."), "info")
    return _back(project, assignment.activity_id)


@bp.route("/<int:project_id>/assignments/<int:assignment_id>/delete", methods=["POST"])
def delete_assignment(project_id: int, assignment_id: int):
    """Remove an assignment from its activity."""
    project = load_project(project_id)
    assignment = pool.get_assignment_or_raise(db.session, user=g.user, project=project, assignment_id=assignment_id)
    activity_id = assignment.activity_id
    pool.delete_assignment(db.session, actor=g.user, project=project, assignment=assignment)
    flash(_("Assignment removed."), "info")
    return _back(project, activity_id)


__all__ = ["activity_context"]

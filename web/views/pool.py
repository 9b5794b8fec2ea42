"""The resource pool's pages: resources and roles (lists for everyone signed in; forms for administrators).

Named "pool" because the API has a blueprint named "resources". Rates are typed one per line
(``2026-01-01 1500,00`` and, for a resource, optionally its units per hour from that day); a resource's roles
are picked with a proficiency each. The services (``wbs.resources.services``) decide and refuse.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from crmpm.database import db
from crmpm.errors import Invalid
from eps.models import EpsNode
from wbs.models import Calendar
from wbs.resources import services as pool
from wbs.resources.models import RESOURCE_TYPES
from web import queries
from web.forms import parse_amount
from web.pages import page_blueprint, require_admin

bp = page_blueprint("pool", __name__, url_prefix="/resources")

LIST_LIMIT = 500
CHOICES_LIMIT = 300
TEXT_LIMIT = 20_000  # characters of the rates box


def type_labels() -> dict[str, str]:
    return {"labor": _("labour"), "nonlabor": _("non-labour"), "material": _("material")}


# Reading the forms


def _text(name: str, what: str, *, required: bool = False, limit: int = 300) -> str:
    text = (request.form.get(name) or "").strip()
    if required and not text:
        raise Invalid(_("%(what)s is required.", what=what), errors={name: ["required"]})
    if len(text) > limit:
        raise Invalid(_("%(what)s is too long (at most %(limit)s characters).", what=what, limit=limit),
                      errors={name: ["too long"]})
    return text


def _id(name: str) -> int | None:
    text = (request.form.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise Invalid(_("Choose from the list."), errors={name: ["choice"]})
    return int(text)


def _units(name: str, what: str) -> float | None:
    text = (request.form.get(name) or "").strip()
    if not text:
        return None
    value = parse_amount(text)
    if value is None or value < 0 or value > pool.MAX_UNITS_PER_HOUR:
        raise Invalid(_("%(what)s must be a number from 0 to %(limit)s.", what=what, limit=int(pool.MAX_UNITS_PER_HOUR)),
                      errors={name: ["number"]})
    return float(value)


def parse_rates(text: str, *, with_units: bool) -> list[dict]:
    r"""Rates typed one per line: a date, a price and (``with_units``) optionally units per hour, separated by
    ``;`` (or, without any ``;``, by spaces).

    >>> [r["price_per_unit"] for r in parse_rates("2026-01-01; 1 500,00\n2026-03-01 1600.5", with_units=False)]
    [Decimal('1500.00'), Decimal('1600.50')]
    >>> parse_rates("2026-03-01; 1600,50; 0,5", with_units=True)[0]["max_units_per_hour"]
    0.5
    """
    if len(text) > TEXT_LIMIT:
        raise Invalid(_("Too many rates."), errors={"rates": ["too long"]})
    rates = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = [part.strip() for part in (line.split(";") if ";" in line else line.split())]
        try:
            day = date.fromisoformat(parts[0])
        except ValueError:
            raise Invalid(_("Rates, line %(number)s: a date first (2026-01-31).", number=number),
                          errors={"rates": ["date"]}) from None
        price = parse_amount(parts[1]) if len(parts) > 1 and parts[1] else None
        if price is None or price < 0 or price >= pool.MONEY_LIMIT or len(parts) > (3 if with_units else 2):
            raise Invalid(_("Rates, line %(number)s: a price of 0 or more after the date.", number=number),
                          errors={"rates": ["price"]})
        rate = {"effective_from": day, "price_per_unit": price.quantize(Decimal("0.01"))}
        if len(parts) > 2 and parts[2]:
            units = parse_amount(parts[2])
            if units is None or not 0 <= units <= pool.MAX_UNITS_PER_HOUR:
                raise Invalid(_("Rates, line %(number)s: units per hour are a number.", number=number),
                              errors={"rates": ["units"]})
            rate["max_units_per_hour"] = float(units)
        rates.append(rate)
    return rates


def rates_text(rates) -> str:
    """The rates as the form shows them, one per line."""
    lines = []
    for rate in rates:
        line = f"{rate.effective_from.isoformat()}; {rate.price_per_unit}"
        if getattr(rate, "max_units_per_hour", None) is not None:
            line += f"; {rate.max_units_per_hour:g}"
        lines.append(line)
    return "\n".join(lines)


def _role_links() -> list[dict]:
    links = []
    for key, value in request.form.items():
        if not key.startswith("proficiency-") or not value.strip():
            continue
        role_id, level = key.removeprefix("proficiency-"), value.strip()
        if not role_id.isdigit() or not 0 < int(role_id) < 2**31 or level not in {"1", "2", "3", "4", "5"}:
            raise Invalid(_("Choose a proficiency from 1 to 5."), errors={"roles": ["proficiency"]})
        links.append({"role_id": int(role_id), "proficiency": int(level)})
    return links


def _resource_fields() -> dict:
    form = request.form
    fields = {
        "code": _text("code", _("Code"), required=True, limit=60),
        "name": _text("name", _("Name"), required=True),
        "parent_id": _id("parent_id"),
        "calendar_id": _id("calendar_id"),
        "user_id": _id("user_id"),
        "eps_node_id": _id("eps_node_id"),
        "unit_of_measure": _text("unit_of_measure", _("Unit of measure"), limit=30),
        "active": form.get("active") == "y",
        "rates": parse_rates(form.get("rates", ""), with_units=True),
        "roles": _role_links(),
    }
    kind = (form.get("type") or "labor").strip()
    if kind not in RESOURCE_TYPES:
        raise Invalid(_("Choose from the list."), errors={"type": ["choice"]})
    fields["type"] = kind
    for name, what in (("max_units_per_hour", _("Max units per hour")),
                       ("default_units_per_hour", _("Default units per hour"))):
        value = _units(name, what)
        if value is not None:
            fields[name] = value
    return fields


# Choices


def _choices(resource=None) -> dict:
    session = db.session
    people, _total = queries.people_picker(session, limit=CHOICES_LIMIT)
    return {
        "types": type_labels(),
        "parents": [r for r in session.scalars(pool.list_resources(session, user=g.user).limit(CHOICES_LIMIT))
                    if resource is None or r.id != resource.id],
        "calendars": session.scalars(select(Calendar).where(Calendar.project_id.is_(None))
                                     .order_by(Calendar.kind, Calendar.name).limit(CHOICES_LIMIT)).all(),
        "people": people,
        "nodes": session.scalars(select(EpsNode).order_by(EpsNode.path).limit(CHOICES_LIMIT)).all(),
        "roles": session.scalars(pool.list_roles(session, user=g.user).limit(CHOICES_LIMIT)).all(),
    }


# Resources


@bp.route("/", endpoint="resources")
def list_resources():
    """The pool as a tree (or the resources whose code or name holds ``q``); administrators add resources here."""
    session = db.session
    text = (request.args.get("q") or "").strip()[:200]
    found = session.scalars(pool.list_resources(session, user=g.user, search_text=text or None)
                            .limit(LIST_LIMIT + 1)).all()
    more = len(found) > LIST_LIMIT
    found = found[:LIST_LIMIT]
    rows = [(r, 0) for r in found] if text else pool.resource_tree(found)
    return render_template("pool/resources.html", rows=rows, q=text, more=more, limit=LIST_LIMIT,
                           may_change=pool.may_change_pool(g.user), resource=None, rates="",
                           **(_choices() if pool.may_change_pool(g.user) else {"types": type_labels()}))


@bp.route("/", methods=["POST"])
def create_resource():
    admin = require_admin()
    fields = _resource_fields()
    created = pool.create_resource(db.session, actor=admin, **fields)
    flash(_("Resource %(code)s created.", code=created.code), "info")
    return redirect(url_for("pool.resource", resource_id=created.id), code=303)


def _resource(resource_id: int):
    return pool.get_resource_or_raise(db.session, resource_id=resource_id)


@bp.route("/<int:resource_id>")
def resource(resource_id: int):
    """A resource's form: its fields, rates and roles (administrators)."""
    require_admin()
    found = _resource(resource_id)
    held = {link.role_id: link.proficiency for link in found.role_links}
    return render_template("pool/resource.html", resource=found, rates=rates_text(found.rates), held=held,
                           may_change=True, **_choices(found))


@bp.route("/<int:resource_id>", methods=["POST"])
def update_resource(resource_id: int):
    admin = require_admin()
    found = _resource(resource_id)
    pool.update_resource(db.session, actor=admin, resource=found, **_resource_fields())
    flash(_("Resource %(code)s saved.", code=found.code), "info")
    return redirect(url_for("pool.resource", resource_id=found.id), code=303)


@bp.route("/<int:resource_id>/delete", methods=["POST"])
def delete_resource(resource_id: int):
    admin = require_admin()
    found = _resource(resource_id)
    code = found.code
    pool.delete_resource(db.session, actor=admin, resource=found)
    flash(_("Resource %(code)s deleted.", code=code), "info")
    return redirect(url_for("pool.resources"), code=303)


# Roles


def _role_fields() -> dict:
    return {"code": _text("code", _("Code"), required=True, limit=60), "name": _text("name", _("Name"), required=True),
            "parent_id": _id("parent_id"), "rates": parse_rates(request.form.get("rates", ""), with_units=False)}


@bp.route("/roles", endpoint="roles")
def list_roles():
    """The roles (or those whose code or name holds ``q``); administrators add roles here."""
    session = db.session
    text = (request.args.get("q") or "").strip()[:200]
    found = session.scalars(pool.list_roles(session, user=g.user, search_text=text or None)
                            .limit(LIST_LIMIT + 1)).all()
    more = len(found) > LIST_LIMIT
    found = found[:LIST_LIMIT]
    rows = [(r, 0) for r in found] if text else pool.resource_tree(found)
    return render_template("pool/roles.html", rows=rows, q=text, more=more, limit=LIST_LIMIT, role=None, rates="",
                           may_change=pool.may_change_pool(g.user), parents=found[:CHOICES_LIMIT])


@bp.route("/roles", methods=["POST"])
def create_role():
    admin = require_admin()
    created = pool.create_role(db.session, actor=admin, **_role_fields())
    flash(_("Role %(code)s created.", code=created.code), "info")
    return redirect(url_for("pool.role", role_id=created.id), code=303)


def _role(role_id: int):
    return pool.get_role_or_raise(db.session, role_id=role_id)


@bp.route("/roles/<int:role_id>")
def role(role_id: int):
    """A role's form: code, name, parent and rates (administrators)."""
    require_admin()
    found = _role(role_id)
    parents = [r for r in db.session.scalars(pool.list_roles(db.session, user=g.user).limit(CHOICES_LIMIT))
               if r.id != found.id]
    return render_template("pool/role.html", role=found, rates=rates_text(found.rates), parents=parents,
                           may_change=True)


@bp.route("/roles/<int:role_id>", methods=["POST"])
def update_role(role_id: int):
    admin = require_admin()
    found = _role(role_id)
    pool.update_role(db.session, actor=admin, role=found, **_role_fields())
    flash(_("Role %(code)s saved.", code=found.code), "info")
    return redirect(url_for("pool.role", role_id=found.id), code=303)


@bp.route("/roles/<int:role_id>/delete", methods=["POST"])
def delete_role(role_id: int):
    admin = require_admin()
    found = _role(role_id)
    code = found.code
    pool.delete_role(db.session, actor=admin, role=found)
    flash(_("Role %(code)s deleted.", code=code), "info")
    return redirect(url_for("pool.roles"), code=303)

"""Changing activity code types and values wherever they are listed (a project's codes page, an EPS node's):
rename a type or change its values' longest length, delete it; add a value, rename it, move it under another
value of its type, delete it with the values below it. Each form comes back to the page it was sent from
(``next``). The type is loaded with edit rights in its scope (:func:`wbs.codes.get_code_type_or_raise`: 404 when
it cannot be read, 403 when it cannot be changed); every rule is :mod:`wbs.codes`'s.
"""

from __future__ import annotations

from flask import flash, g, redirect, request
from flask_babel import gettext as _
from flask_babel import ngettext

from crmpm.database import db
from crmpm.errors import Invalid
from eps.permissions import Permission
from wbs import codes
from wbs.models import NAME_LENGTH, ActivityCodeType
from web.pages import page_blueprint, safe_next

# Named so: the API already has a blueprint named "codes".
bp = page_blueprint("activity_codes", __name__, url_prefix="/codes")

# A field is cut a little beyond the domain's limit, so the domain still sees (and refuses) a text too long.
VALUE_FIELD = 200
DESCRIPTION_FIELD = NAME_LENGTH + 1


def chosen_id(text: str | None, name: str, *, required: bool = False) -> int | None:
    """An id chosen in a select (None when empty, unless ``required``); Invalid naming the field otherwise."""
    text = (text or "").strip()
    if not text and not required:
        return None
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 2**31:
        raise Invalid(_("Choose one of the offered values."), errors={name: ["choice"]})
    return int(text)


def whole_number(text: str | None, name: str, what: str, low: int, high: int) -> int:
    """A whole number typed in a field, from ``low`` to ``high``; Invalid naming the field otherwise."""
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise Invalid(_("%(what)s must be a whole number from %(low)s to %(high)s.", what=what, low=low, high=high),
                      errors={name: ["number"]})
    return int(text)


def type_fields(form, *, new: bool) -> dict:
    """A code type's name and longest value as the forms send them (a new type's longest value is 20 when not
    given; a type changed keeps its own)."""
    fields = {"name": (form.get("name") or "")[:codes.TYPE_NAME_LENGTH + 1]}
    length = (form.get("max_length") or "").strip() or ("20" if new else "")
    if length:
        fields["max_length"] = whole_number(length, "max_length", _("The longest value"), 1, codes.MAX_SHORT_LENGTH)
    return fields


def add_value(code_type: ActivityCodeType, form):
    """A new value of ``code_type`` from a form (under the parent value chosen, if any); flashes what was done."""
    item = codes.create_code_value(db.session, actor=g.user, code_type=code_type,
                                   value=(form.get("value") or "")[:VALUE_FIELD],
                                   description=(form.get("description") or "")[:DESCRIPTION_FIELD],
                                   parent_id=chosen_id(form.get("parent_id"), "parent_id"))
    flash(_("Value %(value)s added to %(name)s.", value=item.value, name=code_type.name), "info")
    return item


def home_of(code_type: ActivityCodeType) -> str:
    """The page listing ``code_type``, where a form without ``next`` comes back to."""
    if code_type.scope == "project":
        return safe_next("pm.project_codes", project_id=code_type.project_id)
    if code_type.scope == "eps":
        return safe_next("structure.node_codes", node_id=code_type.eps_node_id)
    return safe_next()


def _type(type_id: int) -> ActivityCodeType:
    return codes.get_code_type_or_raise(db.session, user=g.user, type_id=type_id, permission=Permission.edit)


def _lost(count: int) -> str:
    return ngettext("%(num)s activity lost it.", "%(num)s activities lost it.", count) if count else _(
        "No activity held it.")


@bp.route("/types/<int:type_id>", methods=["POST"])
def update_type(type_id: int):
    """Rename a code type or change the length of its values' short names."""
    code_type = _type(type_id)
    back = home_of(code_type)
    codes.update_code_type(db.session, actor=g.user, code_type=code_type, **type_fields(request.form, new=False))
    flash(_("Code type %(name)s saved.", name=code_type.name), "info")
    return redirect(back, code=303)


@bp.route("/types/<int:type_id>/delete", methods=["POST"])
def delete_type(type_id: int):
    """Delete a code type with its values; says how many activities lost their value of it."""
    code_type = _type(type_id)
    back, name = home_of(code_type), code_type.name
    lost = codes.delete_code_type(db.session, actor=g.user, code_type=code_type)
    flash(_("Code type %(name)s deleted.", name=name) + " " + _lost(lost), "info")
    return redirect(back, code=303)


@bp.route("/types/<int:type_id>/values", methods=["POST"])
def create_value(type_id: int):
    """A new value of the code type."""
    code_type = _type(type_id)
    add_value(code_type, request.form)
    return redirect(home_of(code_type), code=303)


@bp.route("/types/<int:type_id>/values/<int:value_id>", methods=["POST"])
def update_value(type_id: int, value_id: int):
    """Rename a value (short name, description) or move it under another value of its type (or to the top)."""
    code_type = _type(type_id)
    item = codes.get_code_value_or_raise(db.session, code_type=code_type, value_id=value_id)
    form = request.form
    changes = {"value": (form.get("value") or "")[:VALUE_FIELD]}
    if "description" in form:
        changes["description"] = form["description"][:DESCRIPTION_FIELD]
    if "parent_id" in form:
        changes["parent_id"] = chosen_id(form["parent_id"], "parent_id")
    codes.update_code_value(db.session, actor=g.user, code_type=code_type, item=item, **changes)
    flash(_("Value %(value)s of %(name)s saved.", value=item.value, name=code_type.name), "info")
    return redirect(home_of(code_type), code=303)


@bp.route("/types/<int:type_id>/values/<int:value_id>/delete", methods=["POST"])
def delete_value(type_id: int, value_id: int):
    """Delete a value and the values below it; says how many activities lost it."""
    code_type = _type(type_id)
    item = codes.get_code_value_or_raise(db.session, code_type=code_type, value_id=value_id)
    back, value, name = home_of(code_type), item.value, code_type.name
    lost = codes.delete_code_value(db.session, actor=g.user, code_type=code_type, item=item)
    flash(_("Value %(value)s of %(name)s deleted, with the values under it.", value=value, name=name) + " "
          + _lost(lost), "info")
    return redirect(back, code=303)


@bp.route("/types/<int:type_id>/values/move", methods=["POST"])
def move_value(type_id: int):
    """Move the value chosen under another value of its type (or to the top): the domain refuses a loop."""
    code_type = _type(type_id)
    form = request.form
    value_id = chosen_id(form.get("value_id"), "value_id", required=True)
    item = codes.get_code_value_or_raise(db.session, code_type=code_type, value_id=value_id, field="value_id")
    parent_id = chosen_id(form.get("parent_id"), "parent_id")
    codes.update_code_value(db.session, actor=g.user, code_type=code_type, item=item, parent_id=parent_id)
    flash(_("Value %(value)s of %(name)s moved.", value=item.value, name=code_type.name), "info")
    return redirect(home_of(code_type), code=303)

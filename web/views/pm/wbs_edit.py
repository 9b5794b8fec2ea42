"""Editing the WBS tree on the project page: add, rename, indent / outdent, move up / down or elsewhere, delete;
an element's user-defined field values.

Every change goes through :mod:`wbs.services` (``create_element``, ``update_element``, ``move_element``,
``delete_element``) or :func:`wbs.udfs.set_udf_values`, which check the edit rights and refuse what would break the
tree or is not a value of its field.
"""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _

from crmpm.database import db
from crmpm.errors import Invalid
from wbs import services, udfs
from wbs.models import CODE_LENGTH, NAME_LENGTH
from web.views.pm import codes as code_pages
from web.views.pm.blueprint import bp
from web.views.pm.common import load_project


def _page(project, element=None):
    """The project page with ``element`` selected (its editing panel open)."""
    return url_for("pm.project", project_id=project.id, wbs=element.id if element else None, _anchor="wbs")


def _code_and_name(form, *, required: bool) -> dict:
    code, name = form.get("code", "").strip(), form.get("name", "").strip()
    if required:
        missing = [label for label, value in ((_("Code"), code), (_("Name"), name)) if not value]
        if missing:
            raise Invalid(_("Please fill in: %(fields)s.", fields=", ".join(missing)),
                          errors={"code" if not code else "name": ["required"]})
    if len(code) > CODE_LENGTH:
        raise Invalid(_("The code may have at most %(count)s characters.", count=CODE_LENGTH), errors={"code": ["length"]})
    if len(name) > NAME_LENGTH:
        raise Invalid(_("The name may have at most %(count)s characters.", count=NAME_LENGTH), errors={"name": ["length"]})
    return {key: value for key, value in (("code", code), ("name", name)) if value}


def _parent(project, text: str | None):
    """The element chosen as parent in a form: None for the top level; Invalid naming the field when unknown."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise Invalid(_("Choose the parent element from the list."), errors={"parent": ["choice"]})
    return services.get_element_or_raise(db.session, project=project, element_id=int(text), field="parent")


@bp.route("/<int:project_id>/wbs", methods=["POST"])
def create_element(project_id: int):
    """Add a WBS element under the one chosen (or at the top level)."""
    project = load_project(project_id)
    values = _code_and_name(request.form, required=True)
    parent = _parent(project, request.form.get("parent"))
    element = services.create_element(db.session, actor=g.user, project=project, parent=parent, **values)
    flash(_("WBS element %(code)s added.", code=element.code), "info")
    return redirect(_page(project, element), code=303)


@bp.route("/<int:project_id>/wbs/<int:element_id>", methods=["POST"])
def update_element(project_id: int, element_id: int):
    """Rename a WBS element (code, name) or move it under another parent."""
    project = load_project(project_id)
    element = services.get_element_or_raise(db.session, project=project, element_id=element_id)
    changes = _code_and_name(request.form, required=False)
    if "parent" in request.form:
        changes["parent"] = _parent(project, request.form["parent"])
    services.update_element(db.session, actor=g.user, project=project, element=element, **changes)
    flash(_("WBS element %(code)s saved.", code=element.code), "info")
    return redirect(_page(project, element), code=303)


@bp.route("/<int:project_id>/wbs/<int:element_id>/move", methods=["POST"])
def move_element(project_id: int, element_id: int):
    """Indent, outdent, or move a WBS element up or down among its siblings."""
    project = load_project(project_id)
    element = services.get_element_or_raise(db.session, project=project, element_id=element_id)
    how = request.form.get("how", "")[:20]
    services.move_element(db.session, actor=g.user, project=project, element=element, how=how)
    messages = {"indent": _("WBS element %(code)s indented.", code=element.code),
                "outdent": _("WBS element %(code)s outdented.", code=element.code),
                "up": _("WBS element %(code)s moved up.", code=element.code),
                "down": _("WBS element %(code)s moved down.", code=element.code)}
    flash(messages[how], "info")
    return redirect(_page(project, element), code=303)


@bp.route("/<int:project_id>/wbs/<int:element_id>/delete", methods=["POST"])
def delete_element(project_id: int, element_id: int):
    """Delete a WBS element that holds no elements and no activities (the service refuses otherwise)."""
    project = load_project(project_id)
    element = services.get_element_or_raise(db.session, project=project, element_id=element_id)
    code, parent_id = element.code, element.parent_id
    services.delete_element(db.session, actor=g.user, project=project, element=element)
    flash(_("WBS element %(code)s deleted.", code=code), "info")
    return redirect(url_for("pm.project", project_id=project.id, wbs=parent_id, _anchor="wbs"), code=303)


@bp.route("/<int:project_id>/wbs/<int:element_id>/udfs", methods=["POST"])
def set_element_udfs(project_id: int, element_id: int):
    """Set the WBS element's user-defined field values on the form (an empty field clears it), all or none."""
    project = code_pages.editable_project(project_id)
    element = services.get_element_or_raise(db.session, project=project, element_id=element_id)
    udfs.set_udf_values(db.session, actor=g.user, project=project, subject=element, subject_kind="wbs",
                        values=code_pages.udf_form("wbs"))
    flash(_("The user-defined fields of %(code)s were saved.", code=element.code), "info")
    return redirect(_page(project, element), code=303)

"""The EPS page: the tree of nodes and projects the user may read, a level at a time, and its changes.

The page shows where the user's rights start; a node's children are fetched when it is expanded (``rows``, the
budget tree's pattern and read model, ``web.queries``), and each node and project has a page of its own (``node``,
``project``) listing its children, so the tree can be walked without scripts. A row's forms (rename, protect,
delete, a child node, "Move to") are not on the tree: they are fetched for the chosen row into a dialog (``forms``)
and are on the row's own page. Create a node, rename it, protect or unprotect it, move a node or a project (by
dragging it onto another node, or with the "Move to" form), delete either. Every change is one call of
``eps.services``, which decides (the controls the page hides are only those ``eps.permissions`` says the user
could not use).
"""

from __future__ import annotations

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from crmpm.database import db
from crmpm.errors import Invalid
from eps import services
from eps.models import CODE_LENGTH, NAME_LENGTH, EpsNode, Project
from eps.permissions import Permission, access_to, accesses, authorize
from wbs import codes, portfolio
from web import queries
from web.forms import ActionForm, check
from web.pages import page_blueprint, safe_next, wants_json
from web.pagination import page_args
from web.views import codes as code_pages

# Named "structure": the API already has a blueprint named "eps".
bp = page_blueprint("structure", __name__, url_prefix="/eps")

TREE_PAGE_SIZE = 50  # children shown at once under a node (then "Show more")
SUGGESTIONS = 50  # nodes offered as places to move to, nearest first
NO_CONTROL = Regexp(r"^[^\x00-\x1f\x7f]*$", message=_l("Control characters are not allowed."))


class NodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=CODE_LENGTH), NO_CONTROL])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_LENGTH), NO_CONTROL])


class NewNodeForm(NodeForm):
    parent = HiddenField()
    protected = BooleanField(_l("Protected"))


class MoveForm(FlaskForm):
    item = StringField(_l("Move"), validators=[DataRequired()])
    parent = StringField(_l("Under"))  # a node's id (a drag sends it)
    parent_code = StringField(_l("Move to (under)"), validators=[Length(max=CODE_LENGTH), NO_CONTROL])  # typed


def _tree_rows(rows):
    """The rows with what the user may do on each, from one read of their grants."""
    return list(zip(rows, accesses(db.session, user=g.user, objects=[row.obj for row in rows])))


@bp.route("/")
def index():
    """Where the user's tree starts (the roots, for an administrator); deeper levels load when expanded."""
    rows = queries.entry_rows(db.session, user=g.user, figures=False)
    may_create_project = bool(portfolio.nodes_for_new_projects(db.session, user=g.user, limit=1))
    return render_template("eps/index.html", rows=_tree_rows(rows), more=None, parent=None, level=0,
                           may_create_root=g.user.is_admin, may_create_project=may_create_project,
                           Permission=Permission)


@bp.route("/nodes/<int:node_id>/rows")
def rows(node_id: int):
    """One page of a node's children as table rows (fetched when the node is expanded)."""
    node = _node(node_id)
    page, per_page = page_args(TREE_PAGE_SIZE)
    level = max(min(request.args.get("level", 1, type=int), 64), 0)
    result = queries.child_rows(db.session, user=g.user, node=node, page=page, per_page=per_page, level=level,
                                figures=False)
    return render_template("eps/_rows.html", rows=_tree_rows(result.rows), more=result, parent=node, level=level,
                           Permission=Permission)


@bp.route("/nodes/<int:node_id>")
def node(node_id: int):
    """A node's own page: where it sits, its forms (for whoever may change it) and a page of its children."""
    node = _node(node_id)
    page, per_page = page_args(TREE_PAGE_SIZE)
    result = queries.child_rows(db.session, user=g.user, node=node, page=page, per_page=per_page, level=0,
                                figures=False)
    return render_template("eps/item.html", obj=node, kind="nodes", access=access_to(db.session, user=g.user, obj=node),
                           crumbs=services.breadcrumbs(db.session, user=g.user, obj=node),
                           rows=_tree_rows(result.rows), more=result, parent=node, level=0,
                           **_form_context(node, back=_here()), Permission=Permission)


@bp.route("/projects/<int:project_id>")
def project(project_id: int):
    """A project's place in the EPS and its forms (for whoever may change it)."""
    project = _project(project_id)
    return render_template("eps/item.html", obj=project, kind="projects",
                           access=access_to(db.session, user=g.user, obj=project),
                           crumbs=services.breadcrumbs(db.session, user=g.user, obj=project),
                           rows=[], more=None, parent=None, level=0, **_form_context(project, back=_here()),
                           Permission=Permission)


@bp.route("/<any(nodes, projects):kind>/<int:obj_id>/forms")
def forms(kind: str, obj_id: int):
    """The forms of one row, put into the tree's dialog: 404 when unreadable, 403 when there is nothing to change."""
    obj = _node(obj_id) if kind == "nodes" else _project(obj_id)
    access = access_to(db.session, user=g.user, obj=obj)
    if not access.can(Permission.edit):
        abort(403)
    return render_template("eps/_forms.html", obj=obj, kind=kind, access=access,
                           **_form_context(obj, back=safe_next("structure.index")), Permission=Permission)


def _here() -> str:
    """This page's address, for the forms on it to come back to."""
    return request.full_path.rstrip("?")


def _form_context(obj: EpsNode | Project, *, back: str) -> dict:
    """Where a row's forms send the user back to, and the nodes offered in its "Move to" form."""
    own = url_for("structure.node", node_id=obj.id) if isinstance(obj, EpsNode) else url_for(
        "structure.project", project_id=obj.id)
    parent_id = obj.parent_id if isinstance(obj, EpsNode) else obj.eps_node_id
    # Changes that may take the row away from the user (protect, delete) go back to its parent's page from its own.
    above = url_for("structure.node", node_id=parent_id) if parent_id else url_for("structure.index")
    return {"back": back, "away": above if back.split("?")[0] == own else back, "targets": _targets(obj)}


def _targets(obj: EpsNode | Project) -> list[EpsNode]:
    """Nodes to offer as places to move ``obj`` to: the nodes above it and those beside it that the user manages.

    Only suggestions: the form takes any node's code."""
    session = db.session
    if not access_to(session, user=g.user, obj=obj).can(Permission.manage):
        return []
    parent_id = obj.parent_id if isinstance(obj, EpsNode) else obj.eps_node_id
    near = services.breadcrumbs(session, user=g.user, obj=obj)
    if parent_id is not None:
        near += session.scalars(services.list_nodes(session, user=g.user, parent_id=parent_id)
                                .where(EpsNode.id != obj.id).limit(SUGGESTIONS)).all()
    elif g.user.is_admin:
        near += session.scalars(services.list_nodes(session, user=g.user, roots=True)
                                .where(EpsNode.id != obj.id).limit(SUGGESTIONS)).all()
    return [node for node, access in zip(near, accesses(session, user=g.user, objects=near))
            if access.can(Permission.manage)]


def _back(message: str):
    """After a change: a script's request gets the message as JSON; a form goes back (``next``) with it."""
    flash(message, "info")
    if wants_json():
        return jsonify({"message": message})
    return redirect(safe_next("structure.index"), code=303)


def _node(node_id: int) -> EpsNode:
    return services.get_node_or_raise(db.session, user=g.user, node_id=node_id)


def _project(project_id: int) -> Project:
    return services.get_project_or_raise(db.session, user=g.user, project_id=project_id)


def _node_field(value: str | None, field: str) -> EpsNode | None:
    """The node a form's ``field`` names (None for an empty value); 404 when the user may not read it."""
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise Invalid(_("Choose an EPS node from the list."), errors={field: ["not a node"]})
    return services.get_node_or_raise(db.session, user=g.user, node_id=int(value), field=field)


def _node_of_code(code: str) -> EpsNode:
    """The readable node with ``code``; a code nobody may read is refused like one that does not exist."""
    node = db.session.scalar(services.list_nodes(db.session, user=g.user).where(EpsNode.code == code))
    if node is None:
        raise Invalid(_("No EPS node you may open has the code %(code)s.", code=code),
                      errors={"parent_code": ["not found"]})
    return node


@bp.route("/nodes", methods=["POST"])
def create_node():
    """A new node under ``parent`` (a root when empty: administrators only)."""
    form = check(NewNodeForm())
    parent = _node_field(form.parent.data, "parent")
    node = services.create_node(db.session, actor=g.user, code=form.code.data.strip(), name=form.name.data.strip(),
                                parent=parent, protected=form.protected.data)
    return _back(_("EPS node %(code)s created.", code=node.code))


@bp.route("/nodes/<int:node_id>", methods=["POST"])
def update_node(node_id: int):
    """Rename a node or change its code."""
    node = _node(node_id)
    form = check(NodeForm())
    services.update_node(db.session, actor=g.user, node=node, code=form.code.data.strip(), name=form.name.data.strip())
    return _back(_("EPS node %(code)s saved.", code=node.code))


@bp.route("/nodes/<int:node_id>/<any(protect, unprotect):action>", methods=["POST"])
def protect_node(node_id: int, action: str):
    """Protect a node from the grants above it, or lift the protection."""
    node = _node(node_id)
    check(ActionForm())
    services.update_node(db.session, actor=g.user, node=node, protected=(action == "protect"))
    return _back(_("EPS node %(code)s is protected now.", code=node.code) if action == "protect"
                 else _("EPS node %(code)s is no longer protected.", code=node.code))


@bp.route("/nodes/<int:node_id>/delete", methods=["POST"])
def delete_node(node_id: int):
    """Delete an empty node."""
    node = _node(node_id)
    check(ActionForm())
    code = node.code
    services.delete_node(db.session, actor=g.user, node=node)
    return _back(_("EPS node %(code)s deleted.", code=code))


@bp.route("/projects/<int:project_id>", methods=["POST"])
def update_project(project_id: int):
    """Rename a project or change its code."""
    project = _project(project_id)
    form = check(NodeForm())
    services.update_project(db.session, actor=g.user, project=project, code=form.code.data.strip(),
                            name=form.name.data.strip())
    return _back(_("Project %(code)s saved.", code=project.code))


@bp.route("/projects/<int:project_id>/<any(protect, unprotect):action>", methods=["POST"])
def protect_project(project_id: int, action: str):
    """Protect a project from the grants above it, or lift the protection."""
    project = _project(project_id)
    check(ActionForm())
    services.update_project(db.session, actor=g.user, project=project, protected=(action == "protect"))
    return _back(_("Project %(code)s is protected now.", code=project.code) if action == "protect"
                 else _("Project %(code)s is no longer protected.", code=project.code))


@bp.route("/projects/<int:project_id>/delete", methods=["POST"])
def delete_project(project_id: int):
    """Delete a project."""
    project = _project(project_id)
    check(ActionForm())
    code = project.code
    services.delete_project(db.session, actor=g.user, project=project)
    return _back(_("Project %(code)s deleted.", code=code))


@bp.route("/nodes/<int:node_id>/codes")
def node_codes(node_id: int):
    """The node's own activity code types (they apply to every project below it) with their values; the forms
    for whoever may edit the node."""
    session = db.session
    node = _node(node_id)
    types = session.scalars(codes.node_code_types(session, node=node)).all()
    editable = codes.may_create_type(session, user=g.user, scope="eps", eps_node_id=node.id)
    return render_template("eps/codes.html", obj=node, types=[(t, editable) for t in types], can_edit=editable,
                           trees=codes.type_values(session, type_ids=[t.id for t in types]),
                           crumbs=services.breadcrumbs(session, user=g.user, obj=node),
                           max_short=codes.MAX_SHORT_LENGTH)


@bp.route("/nodes/<int:node_id>/codes", methods=["POST"])
def create_node_code_type(node_id: int):
    """A new activity code type of the node's (edit rights on the node, as :mod:`wbs.codes` says)."""
    node = _node(node_id)
    codes.authorize_new_type(db.session, user=g.user, scope="eps", eps_node_id=node.id)
    code_type = codes.create_code_type(db.session, actor=g.user, scope="eps", eps_node=node,
                                       **code_pages.type_fields(request.form, new=True))
    flash(_("Code type %(name)s added.", name=code_type.name), "info")
    return redirect(url_for("structure.node_codes", node_id=node.id), code=303)


@bp.route("/move", methods=["POST"])
def move():
    """Move a node (``item`` = ``n<id>``) with its subtree, or a project (``p<id>``), under ``parent``.

    The drag and drop on the tree sends the same form (as a script's request, answered with JSON).
    """
    form = check(MoveForm())
    item = (form.item.data or "").strip()
    kind, number = item[:1], item[1:]
    if kind not in ("n", "p") or not number.isdigit() or not 0 < int(number) < 2**31:
        raise Invalid(_("Choose the node or project to move."), errors={"item": ["unknown"]})
    # Load, authorize, act: what is moved first (404, 403), then where to.
    obj = _node(int(number)) if kind == "n" else _project(int(number))
    authorize(db.session, user=g.user, obj=obj, permission=Permission.manage)
    code = (form.parent_code.data or "").strip()
    target = _node_of_code(code) if code else _node_field(form.parent.data, "parent")
    dropped: list[str] = []  # a project per entry whose activities lost codes of the branch it left
    if kind == "n":
        node = obj
        services.move_node(db.session, actor=g.user, node=node, new_parent=target, warnings=dropped)
        where = target.code if target else _("the top level")
        return _back(_("EPS node %(code)s moved under %(target)s.", code=node.code, target=where) + _dropped(dropped))
    project = obj
    if target is None:
        raise Invalid(_("A project goes under an EPS node: choose one."), errors={"parent": ["required"]})
    services.move_project(db.session, actor=g.user, project=project, eps_node=target, warnings=dropped)
    return _back(_("Project %(code)s moved under %(target)s.", code=project.code, target=target.code)
                 + _dropped(dropped))


def _dropped(warnings: list[str]) -> str:
    """What a move removed: activity code values of EPS code types that do not apply in the new place."""
    if not warnings:
        return ""
    return " " + ngettext("Activity code values of the EPS branch it left were removed from %(num)d project "
                          "(see the audit log).",
                          "Activity code values of the EPS branch it left were removed from %(num)d projects "
                          "(see the audit log).", len(warnings))

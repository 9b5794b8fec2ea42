"""The EPS page: the tree of nodes and projects the user may read, and its changes.

Create a node, rename it, protect or unprotect it, move a node or a project (by dragging it onto another node,
or with the "Move" form), delete either. Every change is one call of ``eps.services``, which decides (the
controls the page hides are only those ``eps.permissions`` says the user could not use).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from crmpm.database import db
from crmpm.errors import Invalid
from eps import services
from eps.models import CODE_LENGTH, NAME_LENGTH, EpsNode, Project
from eps.permissions import Access, Permission, accesses
from web.forms import ActionForm, check
from web.nav import is_available
from web.pages import page_blueprint, wants_json

# Named "structure": the API already has a blueprint named "eps".
bp = page_blueprint("structure", __name__, url_prefix="/eps")

# The page shows at most this many nodes and projects (a note says when there are more).
NODE_LIMIT = 2000
PROJECT_LIMIT = 3000
INDENT = "\u00a0\u00a0"  # the depth of a node in a list of choices
NO_CONTROL = Regexp(r"^[^\x00-\x1f\x7f]*$", message=_l("Control characters are not allowed."))


class NodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=CODE_LENGTH), NO_CONTROL])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_LENGTH), NO_CONTROL])


class NewNodeForm(NodeForm):
    parent = HiddenField()
    protected = BooleanField(_l("Protected"))


class MoveForm(FlaskForm):
    item = SelectField(_l("Move"), validate_choice=False, validators=[DataRequired()])
    parent = SelectField(_l("Under"), validate_choice=False)


@dataclass
class Branch:
    """A node of the tree as the page shows it: what the user may do there, its children and projects."""

    node: EpsNode
    access: Access
    children: list["Branch"] = field(default_factory=list)
    projects: list[tuple[Project, Access]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.children and not self.projects


def _tree(session):
    """The readable nodes as a forest (a node whose parent is unreadable starts a tree) and the projects."""
    nodes = list(session.scalars(services.list_nodes(session, user=g.user).limit(NODE_LIMIT + 1)))
    projects = list(session.scalars(services.list_projects(session, user=g.user).order_by(None)
                                    .order_by(Project.path).limit(PROJECT_LIMIT + 1)))
    more = len(nodes) > NODE_LIMIT or len(projects) > PROJECT_LIMIT
    nodes, projects = nodes[:NODE_LIMIT], projects[:PROJECT_LIMIT]
    rights = accesses(session, user=g.user, objects=nodes + projects)
    branches = {node.id: Branch(node, access) for node, access in zip(nodes, rights)}
    roots, loose = [], []
    for branch in branches.values():  # in path order: a parent comes before its children
        parent = branches.get(branch.node.parent_id)
        (parent.children if parent else roots).append(branch)
    for project, access in zip(projects, rights[len(nodes):]):
        holder = branches.get(project.eps_node_id)
        (holder.projects if holder else loose).append((project, access))
    return roots, loose, branches, more


def _move_choices(branches: dict[int, Branch], loose):
    """What the user may move (nodes and projects they manage) and where to (nodes they manage)."""
    items, targets = [], []
    if g.user.is_admin:
        targets.append(("", _("(top level)")))

    def walk(branch: Branch):
        label = f"{INDENT * branch.node.depth}{branch.node.code} · {branch.node.name}"
        if branch.access.can(Permission.manage):
            items.append((f"n{branch.node.id}", label))
            targets.append((str(branch.node.id), label))
        for project, access in branch.projects:
            if access.can(Permission.manage):
                items.append((f"p{project.id}", f"{INDENT * project.depth}{project.code} · {project.name}"))
        for child in branch.children:
            walk(child)

    roots = [b for b in branches.values() if b.node.parent_id not in branches]
    for root in roots:
        walk(root)
    items.extend((f"p{project.id}", f"{project.code} · {project.name}") for project, access in loose
                 if access.can(Permission.manage))
    return items, targets


ID_MARK = 2147483647  # stands for an id in the URL patterns below
CODE_MARK = "\x00code\x00"  # stands for a code in the texts below


def _row_texts() -> dict:
    """What every row of the tree repeats, translated and built once: a tree of thousands of rows would spend
    most of its time in gettext and url_for. The template puts each row's id and code in."""
    def pattern(endpoint: str, **arguments) -> str:
        return url_for(endpoint, **arguments)

    return {
        "id": str(ID_MARK), "code_mark": CODE_MARK, "csrf": generate_csrf(),
        "code": _("Code"), "name": _("Name"), "protected": _("Protected"), "create_node": _("Create node"),
        "badge": _("protected"), "move_to": _("Move to…"), "settings": _("Settings"), "save": _("Save"),
        "new_project": _("New project"), "protect": _("Protect"), "unprotect": _("Unprotect"),
        "delete_project": _("Delete project"), "delete_node": _("Delete node"),
        "edit": _("Edit %(code)s", code=CODE_MARK),
        "delete_project_confirm": _("Delete project %(code)s with its plan?", code=CODE_MARK),
        "delete_node_confirm": _("Delete EPS node %(code)s?", code=CODE_MARK),
        "node_under": _("A node under %(code)s:", code=CODE_MARK),
        "create_node_url": pattern("structure.create_node"),
        "move_url": pattern("structure.index", move=ID_MARK),
        "project_url": pattern("pm.project", project_id=ID_MARK),
        "settings_url": pattern("pm.settings", project_id=ID_MARK) if is_available("pm.settings") else None,
        "new_project_url": pattern("pm.new_project", node=ID_MARK) if is_available("pm.new_project") else None,
        "update_project_url": pattern("structure.update_project", project_id=ID_MARK),
        "update_node_url": pattern("structure.update_node", node_id=ID_MARK),
        "protect_project_url": pattern("structure.protect_project", project_id=ID_MARK, action="protect"),
        "unprotect_project_url": pattern("structure.protect_project", project_id=ID_MARK, action="unprotect"),
        "delete_project_url": pattern("structure.delete_project", project_id=ID_MARK),
        "protect_node_url": pattern("structure.protect_node", node_id=ID_MARK, action="protect"),
        "unprotect_node_url": pattern("structure.protect_node", node_id=ID_MARK, action="unprotect"),
        "delete_node_url": pattern("structure.delete_node", node_id=ID_MARK),
    }


@bp.route("/")
def index():
    """The tree; ``?move=n12`` (or ``p34``) chooses that node (project) in the "Move" form."""
    session = db.session
    roots, loose, branches, more = _tree(session)
    items, targets = _move_choices(branches, loose)
    move = MoveForm()
    move.item.choices, move.parent.choices = items, targets
    chosen = request.args.get("move", "")
    if any(value == chosen for value, _label in items):
        move.item.data = chosen
    may_create_root = g.user.is_admin
    may_create_project = any(branch.access.can(Permission.edit) for branch in branches.values())
    return render_template("eps/index.html", roots=roots, loose=loose, more=more, move=move,
                           chosen=chosen, may_create_root=may_create_root, may_create_project=may_create_project,
                           Permission=Permission, t=_row_texts())


def _back(message: str):
    """After a change: a script's request gets the message as JSON; a form goes back to the tree with it."""
    flash(message, "info")
    if wants_json():
        return jsonify({"message": message})
    return redirect(url_for("structure.index"), code=303)


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


@bp.route("/move", methods=["POST"])
def move():
    """Move a node (``item`` = ``n<id>``) with its subtree, or a project (``p<id>``), under ``parent``.

    The drag and drop on the tree sends the same form (as a script's request, answered with JSON).
    """
    form = MoveForm()
    form.item.choices = form.parent.choices = []
    check(form)
    item = (form.item.data or "").strip()
    kind, number = item[:1], item[1:]
    if kind not in ("n", "p") or not number.isdigit() or not 0 < int(number) < 2**31:
        raise Invalid(_("Choose the node or project to move."), errors={"item": ["unknown"]})
    target = _node_field(form.parent.data, "parent")
    if kind == "n":
        node = _node(int(number))
        services.move_node(db.session, actor=g.user, node=node, new_parent=target)
        where = target.code if target else _("the top level")
        return _back(_("EPS node %(code)s moved under %(target)s.", code=node.code, target=where))
    project = _project(int(number))
    if target is None:
        raise Invalid(_("A project goes under an EPS node: choose one."), errors={"parent": ["required"]})
    services.move_project(db.session, actor=g.user, project=project, eps_node=target)
    return _back(_("Project %(code)s moved under %(target)s.", code=project.code, target=target.code))

"""Activity codes and user-defined fields on the pages: a project's codes page (the types that apply, new project
types and values, new UDF types for administrators), an activity's codes and UDF values, and the ``?code=`` filter
and ``?group=`` grouping the activity table and the Gantt chart share. Every rule is :mod:`wbs.codes` /
:mod:`wbs.udfs`'s; this module reads forms and calls them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from crmpm.database import db
from crmpm.errors import Invalid, NotFound
from eps import services as eps_services
from eps.models import EpsNode
from eps.permissions import Permission, authorize
from wbs import codes, services, udfs
from wbs.models import ActivityCodeType
from web.forms import parse_amount
from web.i18n import translate_error
from web.views.codes import add_value, chosen_id, type_fields
from web.views.pm.blueprint import bp
from web.views.pm.common import load_project, may_edit

FILTER_LENGTH = 200


@dataclass
class CodeView:
    """What the activity table and the Gantt chart take from ``?code=`` and ``?group=``: the filter (its text and,
    if the domain refused it, the reason), the code type grouped by, and the values' paths for the headings."""

    code: str | None = None
    error: str | None = None
    group: ActivityCodeType | None = None
    types: list = field(default_factory=list)
    paths: dict = field(default_factory=dict)

    @property
    def args(self) -> dict:
        """The query arguments that keep this view (for pagination and links)."""
        return {key: value for key, value in (("code", self.code if not self.error else None),
                                              ("group", self.group.id if self.group else None)) if value}

    def heading(self, value_id: int | None) -> str:
        return self.paths.get(value_id, "") if value_id is not None else _("no value")


def code_view(project, query):
    """``query`` (of the project's activities) narrowed by ``?code=<type>:<value>`` and ordered by the value of the
    code type ``?group=<type id>`` (schedule order otherwise); with the :class:`CodeView` the page shows. A filter
    the domain refuses shows its reason and filters nothing; a type that does not apply here is a 404."""
    session = db.session
    view = CodeView(types=session.scalars(codes.list_code_types(session, project=project)).all())
    text = (request.args.get("code") or "").strip()[:FILTER_LENGTH]
    if text:
        view.code = text
        try:
            query = codes.filter_by_code(session, project=project, query=query, code=text)
        except Invalid as exc:
            view.error = translate_error(exc)
    group = request.args.get("group", type=int)
    if group is not None:
        if not 0 < group < 2**31:
            raise NotFound(f"activity code type {group} not found")
        view.group = codes.get_project_code_type_or_raise(session, user=g.user, project=project, type_id=group)
        query = codes.group_by_code(session, query=query, code_type=view.group, then=services.SCHEDULE_ORDER)
        view.paths = codes.value_paths(session, type_ids=[view.group.id])
    return query, view


def group_rows(view: CodeView, items) -> list[tuple[str | None, object]]:
    """The page's activities with a heading (the value's path, or "no value") before the first of each group;
    without grouping, the activities alone (heading None)."""
    if view.group is None:
        return [(None, item) for item in items]
    held = codes.values_of(db.session, code_type=view.group, activity_ids=[item.id for item in items])
    rows, last = [], object()
    for item in items:
        value_id = held.get(item.id)
        if value_id != last:
            rows.append((view.heading(value_id), None))
            last = value_id
        rows.append((None, item))
    return rows


def activity_codes_context(project, activity) -> dict:
    """The activity page's codes and UDF values: each applicable type with its values in tree order and the one
    held, each activity UDF type with its value."""
    session = db.session
    types = session.scalars(codes.list_code_types(session, project=project)).all()
    trees = codes.type_values(session, type_ids=[t.id for t in types])
    held = {a.type_id: a.value_id for a in codes.activity_codes(session, activity=activity)}
    paths = codes.value_paths(session, type_ids=[t.id for t in types if t.id in held])
    return {"code_types": [(t, trees[t.id], held.get(t.id)) for t in types], "code_paths": paths,
            "udf_rows": udf_rows(project, activity, "activity"), "indicators": udfs.UDF_INDICATORS}


def udf_rows(project, subject, kind: str) -> list[tuple]:
    """Each user-defined field of the subject's kind with the subject's value (None when it has none)."""
    session = db.session
    values = {t.id: v for t, v in udfs.udf_values(session, project=project, subject=subject, subject_kind=kind)}
    return [(t, udfs.value_of(t, values[t.id]) if t.id in values else None)
            for t in session.scalars(udfs.list_udf_types(session, subject=kind))]


def editable_project(project_id: int):
    """The project, if the user may edit it (load, authorize, then read the form): every change on these pages
    needs edit rights on the project, or on what is above it."""
    project = load_project(project_id)
    authorize(db.session, user=g.user, obj=project, permission=Permission.edit)
    return project


def _activity(project_id: int, activity_id: int):
    project = editable_project(project_id)
    return project, services.get_activity_or_raise(db.session, project=project, activity_id=activity_id)


def _back_to_activity(project, activity):
    return redirect(url_for("pm.activity", project_id=project.id, activity_id=activity.id), code=303)


@bp.route("/<int:project_id>/activities/<int:activity_id>/codes", methods=["POST"])
def set_activity_codes(project_id: int, activity_id: int):
    """Set the activity's value of each code type on the form (an empty choice clears it), all or none."""
    project, activity = _activity(project_id, activity_id)
    values = {}
    for key in request.form:
        if key.startswith("code-"):
            type_id = chosen_id(key[len("code-"):], key)
            values[type_id] = chosen_id(request.form[key], key)
    codes.set_activity_codes(db.session, actor=g.user, project=project, activity=activity, values=values)
    flash(_("The codes of %(code)s were saved.", code=activity.code), "info")
    return _back_to_activity(project, activity)


@bp.route("/<int:project_id>/activities/<int:activity_id>/udfs", methods=["POST"])
def set_activity_udfs(project_id: int, activity_id: int):
    """Set the activity's user-defined field values on the form (an empty field clears it), all or none."""
    project, activity = _activity(project_id, activity_id)
    udfs.set_udf_values(db.session, actor=g.user, project=project, subject=activity,
                        values=udf_form("activity"))
    flash(_("The user-defined fields of %(code)s were saved.", code=activity.code), "info")
    return _back_to_activity(project, activity)


@bp.route("/<int:project_id>/codes/udfs", methods=["POST"])
def set_project_udfs(project_id: int):
    """Set the project's own user-defined field values on the form (an empty field clears it), all or none."""
    project = editable_project(project_id)
    udfs.set_udf_values(db.session, actor=g.user, project=project, values=udf_form("project"))
    flash(_("The user-defined fields of %(code)s were saved.", code=project.code), "info")
    return _back_to_codes(project)


def udf_form(kind: str) -> dict:
    """The form's ``udf-<type id>`` fields as the domain takes them (type id → value, None to clear)."""
    types = {t.id: t for t in db.session.scalars(udfs.list_udf_types(db.session, subject=kind))}
    values = {}
    for key in request.form:
        if key.startswith("udf-"):
            type_id = chosen_id(key[len("udf-"):], key)
            values[type_id] = _typed(types.get(type_id), request.form[key])
    return values


def _typed(udf_type, text: str):
    """A field's text as the domain reads it: None when empty; a number as the pages read amounts
    (:func:`web.forms.parse_amount`: a decimal comma, spaces between thousands), else as typed for the domain
    to refuse."""
    text = text.strip()
    if not text:
        return None
    if udf_type is not None and udf_type.data_type in ("number", "integer", "cost"):
        amount = parse_amount(text)
        return text if amount is None else str(amount)
    return text


@bp.route("/<int:project_id>/codes")
def project_codes(project_id: int):
    """The code types that apply to the project (global, its EPS nodes', its own) with their values, and the
    user-defined fields."""
    session = db.session
    project = load_project(project_id)
    types = session.scalars(codes.list_code_types(session, project=project)).all()
    nodes = {n.id: n for n in session.scalars(select(EpsNode).where(
        EpsNode.id.in_({t.eps_node_id for t in types if t.eps_node_id})))}
    return render_template(
        "projects/codes.html", project=project, can_edit=may_edit(project),
        types=[(t, codes.may_change_type(session, user=g.user, code_type=t)) for t in types],
        trees=codes.type_values(session, type_ids=[t.id for t in types]), nodes=nodes,
        udf_types=session.scalars(udfs.list_udf_types(session)).all(), may_add_udf=g.user.is_admin,
        project_udfs=udf_rows(project, None, "project"), indicators=udfs.UDF_INDICATORS,
        subjects=udfs.UDF_SUBJECTS, data_types=udfs.UDF_DATA_TYPES, max_short=codes.MAX_SHORT_LENGTH,
        crumbs=eps_services.breadcrumbs(session, user=g.user, obj=project))


def _back_to_codes(project):
    return redirect(url_for("pm.project_codes", project_id=project.id), code=303)


@bp.route("/<int:project_id>/codes/types", methods=["POST"])
def create_code_type(project_id: int):
    """A new code type of the project's own."""
    project = editable_project(project_id)
    code_type = codes.create_code_type(db.session, actor=g.user, scope="project", project=project,
                                       **type_fields(request.form, new=True))
    flash(_("Code type %(name)s added.", name=code_type.name), "info")
    return _back_to_codes(project)


@bp.route("/<int:project_id>/codes/values", methods=["POST"])
def create_code_value(project_id: int):
    """A new value of a code type that applies to the project (under a parent value when one is chosen)."""
    project = editable_project(project_id)
    form = request.form
    type_id = chosen_id(form.get("type_id"), "type_id", required=True)
    code_type = codes.get_project_code_type_or_raise(db.session, user=g.user, project=project, type_id=type_id,
                                                     field="type_id")
    add_value(code_type, form)
    return _back_to_codes(project)


@bp.route("/<int:project_id>/codes/udf-types", methods=["POST"])
def create_udf_type(project_id: int):
    """A new user-defined field (administrators, as the domain says)."""
    project = load_project(project_id)
    form = request.form
    udf_type = udfs.create_udf_type(db.session, actor=g.user, subject=form.get("subject", ""),
                                    name=(form.get("name") or "")[:udfs.NAME_LENGTH + 1],
                                    data_type=form.get("data_type", ""))
    flash(_("User-defined field %(name)s added.", name=udf_type.name), "info")
    return _back_to_codes(project)

"""A blank project (code, name, EPS node, start, data date, calendar) and a project's scheduling settings."""

from __future__ import annotations

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from crmpm.database import db
from crmpm.errors import Invalid
from eps import services as eps_services
from eps.models import CODE_LENGTH, NAME_LENGTH, Project
from wbs import portfolio, services
from web.forms import check, choices
from web.views.pm.blueprint import bp
from web.views.pm.common import load_project, may_edit, parse_when

NO_CONTROL = Regexp(r"^[^\x00-\x1f\x7f]*$", message=_l("Control characters are not allowed."))
NAME_OF_SUGGESTION = 200

# What the scheduling options mean, in the user's language (values are the scheduler's).
CHOICE_LABELS = {
    "progress_mode": {"retained_logic": _l("Retained logic"), "progress_override": _l("Progress override"),
                      "actual_dates": _l("Actual dates")},
    "lag_calendar": {"predecessor": _l("Predecessor's calendar"), "successor": _l("Successor's calendar"),
                     "24_hour": _l("24-hour calendar"), "project_default": _l("Project default calendar")},
    "float_type": {"start": _l("Start float"), "finish": _l("Finish float"), "smallest": _l("Smallest of the two")},
    "critical_definition": {"total_float": _l("Total float at most the limit"), "longest_path": _l("Longest path")},
}


def _choices(key: str):
    labels = CHOICE_LABELS[key]
    return choices((value, labels.get(value, value)) for value in sorted(services.PLAN_CHOICES[key]))


class NewProjectForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_LENGTH), NO_CONTROL])
    code = StringField(_l("Code"), validators=[Optional(), Length(max=CODE_LENGTH), NO_CONTROL])
    node = SelectField(_l("EPS node"), validate_choice=False, validators=[DataRequired()])
    planned_start = StringField(_l("Planned start"))
    data_date = StringField(_l("Data date"))
    calendar = SelectField(_l("Calendar"), validate_choice=False)


class SettingsForm(FlaskForm):
    data_date = StringField(_l("Data date"))
    planned_start = StringField(_l("Planned start"))
    must_finish_by = StringField(_l("Must finish by"))
    calendar = SelectField(_l("Default calendar"), validate_choice=False)
    time_zone = StringField(_l("Time zone"), validators=[DataRequired(), Length(max=64)])
    progress_mode = SelectField(_l("Progress"), choices=_choices("progress_mode"))
    lag_calendar = SelectField(_l("Calendar of lags"), choices=_choices("lag_calendar"))
    float_type = SelectField(_l("Total float as"), choices=_choices("float_type"))
    critical_definition = SelectField(_l("Critical activities"), choices=_choices("critical_definition"))
    critical_float_hours = StringField(_l("Critical when total float is at most (hours)"))
    open_ended_critical = BooleanField(_l("Open ends are critical"))
    use_expected_finish = BooleanField(_l("Use expected finish dates"))


def _calendars(project: Project | None):
    return list(db.session.scalars(services.list_calendars(db.session, user=g.user, project=project)))


def _calendar_id(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise Invalid(_("Choose a calendar from the list."), errors={"calendar": ["unknown"]})
    return int(value)


@bp.route("/new")
def new_project():
    """The form of a blank project; ``?node=`` chooses the EPS node, ``?name=`` fills in the name and its code."""
    nodes = portfolio.nodes_for_new_projects(db.session, user=g.user)
    name = request.args.get("name", "").strip()[:NAME_OF_SUGGESTION]
    code = eps_services.unused_code(db.session, model=Project, name=name, fallback="P") if name else ""
    return render_template("projects/new.html", nodes=nodes, calendars=_calendars(None), name=name, code=code,
                           chosen=request.args.get("node", type=int))


@bp.route("/new/code")
def suggest_code():
    """The code a new project named ``?name=`` would get (the form shows it as the name is typed)."""
    name = request.args.get("name", "").strip()[:NAME_OF_SUGGESTION]
    return jsonify({"code": eps_services.unused_code(db.session, model=Project, name=name, fallback="P")
                    if name else ""})


@bp.route("/new", methods=["POST"])
def create_project():
    """Create the blank project (a code made from the name when left empty) and open it."""
    form = check(NewProjectForm())
    node_id = form.node.data.strip()
    if not node_id.isdigit() or not 0 < int(node_id) < 2**31:
        raise Invalid(_("Choose the EPS node the project goes under."), errors={"node": ["unknown"]})
    node = eps_services.get_node_or_raise(db.session, user=g.user, node_id=int(node_id), field="node")
    start = parse_when(form.planned_start.data, _("Planned start"), "planned_start")
    data_date = parse_when(form.data_date.data, _("Data date"), "data_date")
    project = services.create_blank_project(db.session, actor=g.user, name=form.name.data.strip(), eps_node=node,
                                            code=(form.code.data or "").strip() or None, planned_start=start,
                                            data_date=data_date, default_calendar_id=_calendar_id(form.calendar.data))
    flash(_("Project %(code)s created.", code=project.code), "info")
    return redirect(url_for("pm.project", project_id=project.id), code=303)


@bp.route("/<int:project_id>/settings")
def settings(project_id: int):
    """The project's calendar, dates and scheduling options."""
    project = load_project(project_id)
    plan = services.get_plan(db.session, project=project)
    return render_template("projects/settings.html", project=project, plan=plan, calendars=_calendars(project),
                           labels=CHOICE_LABELS, options=services.PLAN_CHOICES, can_edit=may_edit(project),
                           crumbs=eps_services.breadcrumbs(db.session, user=g.user, obj=project))


@bp.route("/<int:project_id>/settings", methods=["POST"])
def update_settings(project_id: int):
    """Save the settings (edit rights); the next schedule uses them."""
    project = load_project(project_id)
    form = check(SettingsForm())
    hours_text = "".join((form.critical_float_hours.data or "").split()).replace("\u202f", "").replace(",", ".") or "0"
    try:
        hours = float(hours_text)
    except ValueError:
        hours = None
    if hours is None or not abs(hours) <= services.MAX_HOURS:
        raise Invalid(_("The critical float limit must be a number of hours."),
                      errors={"critical_float_hours": ["number"]})
    services.update_plan(
        db.session, actor=g.user, project=project,
        data_date=parse_when(form.data_date.data, _("Data date"), "data_date"),
        planned_start=parse_when(form.planned_start.data, _("Planned start"), "planned_start"),
        must_finish_by=parse_when(form.must_finish_by.data, _("Must finish by"), "must_finish_by", hour=17),
        default_calendar_id=_calendar_id(form.calendar.data), time_zone=form.time_zone.data.strip(),
        progress_mode=form.progress_mode.data, lag_calendar=form.lag_calendar.data, float_type=form.float_type.data,
        critical_definition=form.critical_definition.data, critical_float_hours=hours,
        open_ended_critical=form.open_ended_critical.data, use_expected_finish=form.use_expected_finish.data)
    flash(_("The settings of %(code)s were saved; the next schedule uses them.", code=project.code), "info")
    return redirect(url_for("pm.settings", project_id=project.id), code=303)


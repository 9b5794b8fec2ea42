"""Settings: sales pipelines and their stages, lead routing rules, and absences with deputies.

Each page has the rights of its API: pipelines and routing rules are read by
everyone and changed by administrators; an absence is recorded by the absent
person (or an administrator, for anyone) and seen by them, their deputy and
administrators. The services decide; the pages only hide what a user could not use.
"""

from __future__ import annotations

from datetime import timezone

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from accounts import pipelines, routing
from accounts.models import CapacityPeriod, Fairness, StageKind
from crmpm.database import db, utcnow
from crmpm.errors import Invalid
from crmpm.users import services as users
from crmpm.users.models import User
from web import queries
from web.forms import ActionForm, check, choices
from web.i18n import translate_error
from web.pagination import paginate
from web.pages import page_blueprint, require_admin
from web.views.crm.accounts import user_zone

bp = page_blueprint("settings", __name__, url_prefix="/settings")

PEOPLE_CHOICES = 200  # a picker lists this many people

STAGE_KINDS = {StageKind.open: _l("open"), StageKind.won: _l("won"), StageKind.lost: _l("lost")}
FAIRNESS = {Fairness.round_robin: _l("round robin (least recently assigned)"),
            Fairness.least_load: _l("least load (fewest open leads and deals)")}
PERIODS = {CapacityPeriod.day: _l("per day"), CapacityPeriod.week: _l("per week"),
           CapacityPeriod.month: _l("per month")}


# Forms


class PipelineCreateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    first_stage = StringField(_l("First stage"), validators=[DataRequired(), Length(max=100)],
                              default=_l("New"))
    won_stage = StringField(_l("Won stage"), validators=[DataRequired(), Length(max=100)], default=_l("Won"))
    lost_stage = StringField(_l("Lost stage"), validators=[DataRequired(), Length(max=100)], default=_l("Lost"))


class PipelineForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    is_active = BooleanField(_l("Active (new deals may use it)"))


class StageForm(FlaskForm):
    name = StringField(_l("Stage"), validators=[DataRequired(), Length(max=100)])
    probability = IntegerField(_l("Probability, %"), validators=[InputRequired(), NumberRange(min=0, max=100)],
                               render_kw={"inputmode": "numeric"})
    kind = SelectField(_l("Kind"), choices=choices((kind.value, label) for kind, label in STAGE_KINDS.items()))


class RuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    team_id = SelectField(_l("Team"), coerce=int, validate_choice=False)
    priority = IntegerField(_l("Priority (lower is tried first)"), default=100,
                            validators=[InputRequired(), NumberRange(min=0, max=1_000_000)],
                            render_kw={"inputmode": "numeric"})
    fairness = SelectField(_l("Fairness"), choices=choices((f.value, label) for f, label in FAIRNESS.items()))
    capacity = IntegerField(_l("Leads per person (empty: no limit)"),
                            validators=[Optional(), NumberRange(min=0, max=1_000_000)],
                            render_kw={"inputmode": "numeric"})
    capacity_period = SelectField(_l("Per"), choices=choices((p.value, label) for p, label in PERIODS.items()))
    prefer_account_owner = BooleanField(_l("Leads of an existing client go to its owner first"), default=True)
    is_active = BooleanField(_l("Active"), default=True)
    member_ids = SelectMultipleField(_l("Members"), coerce=int, validate_choice=False,
                                     widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())


class AbsenceForm(FlaskForm):
    user_id = SelectField(_l("Who is away"), coerce=int, validate_choice=False)
    starts_at = DateTimeLocalField(_l("From"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                   validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Until"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                 validators=[DataRequired()])
    deputy_id = SelectField(_l("Deputy"), coerce=int, validate_choice=False)
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])


def _people(*, with_nobody: bool = False) -> list:
    people, _matching = queries.people_picker(db.session, limit=PEOPLE_CHOICES)
    listed = [(0, _("— nobody —"))] if with_nobody else []
    return choices(listed + [(person.id, f"{person.name} <{person.email}>") for person in people])


def _teams() -> list:
    teams = db.session.scalars(users.list_teams(db.session).limit(PEOPLE_CHOICES)).all()
    return choices((team.id, team.name) for team in teams)


# Pipelines


@bp.route("/pipelines", endpoint="pipelines")
def list_pipelines():
    """Every pipeline with its stages; administrators add pipelines here and edit them on their page."""
    page = paginate(db.session, pipelines.list_pipelines(db.session))
    return render_template("settings/pipelines.html", page=page, form=PipelineCreateForm(), kinds=STAGE_KINDS)


@bp.route("/pipelines", methods=["POST"])
def create_pipeline():
    admin = require_admin()
    form = check(PipelineCreateForm())
    pipeline = pipelines.create_pipeline(db.session, actor=admin, name=form.name.data, stages=[
        {"name": form.first_stage.data, "probability": 10, "kind": StageKind.open},
        {"name": form.won_stage.data, "probability": 100, "kind": StageKind.won},
        {"name": form.lost_stage.data, "probability": 0, "kind": StageKind.lost}])
    flash(_("Pipeline %(name)s created.", name=pipeline.name), "info")
    return redirect(url_for("settings.pipeline", pipeline_id=pipeline.id), code=303)


def _pipeline(pipeline_id: int):
    return pipelines.get_pipeline_or_raise(db.session, pipeline_id=pipeline_id)


@bp.route("/pipelines/<int:pipeline_id>")
def pipeline(pipeline_id: int):
    """A pipeline's name and stages, each stage with its own form and buttons (administrators)."""
    require_admin()
    found = _pipeline(pipeline_id)
    forms = {}
    for stage in found.stages:
        form = StageForm(formdata=None, prefix=f"s{stage.id}", data={
            "name": stage.name, "probability": stage.probability, "kind": stage.kind.value})
        forms[stage.id] = form
    moved = request.args.get("moved", type=int)
    return render_template("settings/pipeline.html", pipeline=found, forms=forms, kinds=STAGE_KINDS,
                           form=PipelineForm(formdata=None, data={"name": found.name, "is_active": found.is_active}), new_stage=StageForm(formdata=None),
                           moved=moved, direction=request.args.get("direction", ""), action_form=ActionForm())


@bp.route("/pipelines/<int:pipeline_id>", methods=["POST"])
def update_pipeline(pipeline_id: int):
    admin = require_admin()
    found = _pipeline(pipeline_id)
    form = check(PipelineForm())
    pipelines.update_pipeline(db.session, actor=admin, pipeline=found, name=form.name.data,
                              is_active=form.is_active.data)
    flash(_("Pipeline saved."), "info")
    return redirect(url_for("settings.pipeline", pipeline_id=found.id), code=303)


@bp.route("/pipelines/<int:pipeline_id>/stages", methods=["POST"])
def add_stage(pipeline_id: int):
    admin = require_admin()
    found = _pipeline(pipeline_id)
    form = check(StageForm())
    pipelines.add_stage(db.session, actor=admin, pipeline=found, name=form.name.data,
                        probability=form.probability.data, kind=StageKind(form.kind.data))
    flash(_("Stage %(name)s added.", name=form.name.data.strip()), "info")
    return redirect(url_for("settings.pipeline", pipeline_id=found.id), code=303)


def _stage(found, stage_id: int):
    return pipelines.get_stage_or_raise(db.session, pipeline=found, stage_id=stage_id)


@bp.route("/pipelines/<int:pipeline_id>/stages/<int:stage_id>", methods=["POST"])
def change_stage(pipeline_id: int, stage_id: int):
    admin = require_admin()
    found = _pipeline(pipeline_id)
    stage = _stage(found, stage_id)
    form = check(StageForm(prefix=f"s{stage.id}"))
    pipelines.change_stage(db.session, actor=admin, pipeline=found, stage=stage, name=form.name.data,
                           probability=form.probability.data, kind=StageKind(form.kind.data))
    flash(_("Stage %(name)s saved.", name=stage.name), "info")
    return redirect(url_for("settings.pipeline", pipeline_id=found.id), code=303)


@bp.route("/pipelines/<int:pipeline_id>/stages/<int:stage_id>/delete", methods=["POST"])
def remove_stage(pipeline_id: int, stage_id: int):
    admin = require_admin()
    found = _pipeline(pipeline_id)
    stage = _stage(found, stage_id)
    check(ActionForm())
    name = stage.name
    pipelines.remove_stage(db.session, actor=admin, pipeline=found, stage=stage)
    flash(_("Stage %(name)s removed.", name=name), "info")
    return redirect(url_for("settings.pipeline", pipeline_id=found.id), code=303)


@bp.route("/pipelines/<int:pipeline_id>/stages/<int:stage_id>/<any(up, down):direction>", methods=["POST"])
def shift_stage(pipeline_id: int, stage_id: int, direction: str):
    admin = require_admin()
    found = _pipeline(pipeline_id)
    stage = _stage(found, stage_id)
    check(ActionForm())
    pipelines.shift_stage(db.session, actor=admin, pipeline=found, stage=stage, by=-1 if direction == "up" else 1)
    flash(_("Stage %(name)s moved.", name=stage.name), "info")
    # Back to the same button, focused (autofocus, which a #fragment would stop), so Enter moves it again.
    return redirect(url_for("settings.pipeline", pipeline_id=found.id, moved=stage.id, direction=direction),
                    code=303)


# Lead routing


@bp.route("/routing", endpoint="rules")
def list_rules():
    """The routing rules in the order they are tried; administrators change them."""
    page = paginate(db.session, routing.list_rules(db.session))
    form = RuleForm(formdata=None)
    form.team_id.choices = _teams()
    return render_template("settings/rules.html", page=page, form=form, fairness=FAIRNESS, periods=PERIODS,
                           first=(page.page - 1) * page.per_page, moved=request.args.get("moved", type=int))


def _rule_changes(form: RuleForm) -> dict:
    team = users.get_team_or_raise(db.session, team_id=form.team_id.data or 0, field="team_id")
    return {"name": form.name.data, "team": team, "priority": form.priority.data,
            "fairness": Fairness(form.fairness.data), "capacity": form.capacity.data,
            "capacity_period": CapacityPeriod(form.capacity_period.data),
            "prefer_account_owner": form.prefer_account_owner.data, "is_active": form.is_active.data}


@bp.route("/routing", methods=["POST"])
def create_rule():
    admin = require_admin()
    form = check(RuleForm())
    changes = _rule_changes(form)
    rule = routing.create_rule(db.session, actor=admin, members=routing.members_keeping(None, form.member_ids.data),
                               **changes)
    flash(_("Routing rule %(name)s created; choose its members.", name=rule.name), "info")
    return redirect(url_for("settings.rule", rule_id=rule.id), code=303)


def _rule(rule_id: int):
    return routing.get_rule_or_raise(db.session, rule_id=rule_id)


@bp.route("/routing/<int:rule_id>")
def rule(rule_id: int):
    """A routing rule's form (administrators): the team's members are offered as the rule's members."""
    require_admin()
    found = _rule(rule_id)
    form = RuleForm(formdata=None, data={
        "name": found.name, "team_id": found.team_id, "priority": found.priority, "fairness": found.fairness.value,
        "capacity": found.capacity, "capacity_period": found.capacity_period.value,
        "prefer_account_owner": found.prefer_account_owner, "is_active": found.is_active,
        "member_ids": [member.user_id for member in found.members]})
    form.team_id.choices = _teams()
    form.member_ids.choices = choices((member.id, f"{member.name} <{member.email}>")
                                      for member in found.team.members if member.is_active)
    return render_template("settings/rule.html", rule=found, form=form)


@bp.route("/routing/<int:rule_id>", methods=["POST"])
def update_rule(rule_id: int):
    admin = require_admin()
    found = _rule(rule_id)
    form = check(RuleForm())
    changes = _rule_changes(form)
    if changes["team"].id != found.team_id:
        changes["members"] = []  # the old team's people are not the new team's
    else:
        changes["members"] = routing.members_keeping(found, form.member_ids.data)
    routing.update_rule(db.session, actor=admin, rule=found, **changes)
    flash(_("Routing rule %(name)s saved.", name=found.name), "info")
    return redirect(url_for("settings.rule", rule_id=found.id), code=303)


@bp.route("/routing/<int:rule_id>/delete", methods=["POST"])
def delete_rule(rule_id: int):
    admin = require_admin()
    found = _rule(rule_id)
    check(ActionForm())
    name = found.name
    routing.delete_rule(db.session, actor=admin, rule=found)
    flash(_("Routing rule %(name)s deleted.", name=name), "info")
    return redirect(url_for("settings.rules"), code=303)


@bp.route("/routing/<int:rule_id>/<any(up, down):direction>", methods=["POST"])
def shift_rule(rule_id: int, direction: str):
    admin = require_admin()
    found = _rule(rule_id)
    check(ActionForm())
    routing.shift_rule(db.session, actor=admin, rule=found, by=-1 if direction == "up" else 1)
    flash(_("Routing rule %(name)s moved.", name=found.name), "info")
    return redirect(url_for("settings.rules", moved=found.id, direction=direction), code=303)


# Absences


@bp.route("/absences")
def absences():
    """Absences the user may see (their own, those they deputize for; administrators: all), and a form to add one."""
    page = paginate(db.session, routing.list_absences(db.session, user=g.user))
    form = AbsenceForm(formdata=None, data={"user_id": g.user.id})
    form.deputy_id.choices = _people(with_nobody=True)
    if g.user.is_admin:
        form.user_id.choices = _people()
    names = _names({absence.user_id for absence in page.items} | {absence.deputy_id for absence in page.items})
    now = utcnow()
    ongoing = {absence.id for absence in page.items if absence.starts_at < now < absence.ends_at}
    return render_template("settings/absences.html", page=page, form=form, names=names, ongoing=ongoing)


def _names(ids) -> dict[int, User]:
    ids = [user_id for user_id in ids if user_id is not None]
    return {user.id: user for user in db.session.scalars(users.list_(db.session).where(User.id.in_(ids)))} if ids else {}


@bp.route("/absences", methods=["POST"])
def create_absence():
    """Record an absence: one's own; administrators, anyone's (the service checks)."""
    form = check(AbsenceForm())
    absent = (users.get_or_raise(db.session, user_id=form.user_id.data, field="user_id")
              if form.user_id.data and form.user_id.data != g.user.id else g.user)
    deputy = users.get_or_raise(db.session, user_id=form.deputy_id.data, field="deputy_id") if form.deputy_id.data else None
    zone = user_zone()
    routing.create_absence(db.session, actor=g.user, user=absent, deputy=deputy, reason=form.reason.data or "",
                           starts_at=form.starts_at.data.replace(tzinfo=zone).astimezone(timezone.utc),
                           ends_at=form.ends_at.data.replace(tzinfo=zone).astimezone(timezone.utc))
    flash(_("Absence of %(name)s recorded.", name=absent.name), "info")
    return redirect(url_for("settings.absences"), code=303)


@bp.route("/absences/<int:absence_id>/end", methods=["POST"])
def end_absence(absence_id: int):
    """End an absence now (the absent person or an administrator); their resource's days after now are working
    days again."""
    absence = routing.get_absence_or_raise(db.session, user=g.user, absence_id=absence_id)
    check(ActionForm())
    try:
        routing.end_absence(db.session, actor=g.user, absence=absence, ends_at=utcnow())
    except Invalid as refused:  # not under way (yet or any more): nothing is written
        flash(translate_error(refused), "error")
        return redirect(url_for("settings.absences"), code=303)
    flash(_("Absence ended."), "info")
    return redirect(url_for("settings.absences"), code=303)


@bp.route("/absences/<int:absence_id>/delete", methods=["POST"])
def delete_absence(absence_id: int):
    """Cancel an absence (the absent person or an administrator); what was handed over comes back."""
    absence = routing.get_absence_or_raise(db.session, user=g.user, absence_id=absence_id)
    check(ActionForm())
    routing.delete_absence(db.session, actor=g.user, absence=absence)
    flash(_("Absence cancelled."), "info")
    return redirect(url_for("settings.absences"), code=303)

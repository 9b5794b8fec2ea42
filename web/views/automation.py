"""Automation rules of one pipeline: the list with each rule's last runs, a form to add one, edit and delete.

Administrators only, like the pipeline's own settings (``accounts.automation.services`` decides). The form
holds at most one action of each type (the API takes up to ten of any); saving a rule from the page replaces
its actions with those filled in.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from accounts import pipelines
from accounts import services as account_services
from accounts.automation import rules as automation_rules
from accounts.automation import services as automation
from accounts.automation.models import AutomationRule
from crmpm.database import db
from crmpm.users import services as users
from crmpm.webhooks import Webhook
from crmpm.webhooks import services as webhooks
from web import queries
from web.forms import ActionForm, MoneyField, check, choices
from web.pages import page_blueprint, require_admin

bp = page_blueprint("pipeline_automation", __name__, url_prefix="/settings/pipelines")

PEOPLE_CHOICES = 200
PAGE_ACTIONS = ("create_task", "send_email", "notify", "set_field", "call_webhook", "move_stage")  # the form's
RUNS_SHOWN = 5
TRIGGERS = {"deal.entered_stage": _l("A deal enters the stage"), "deal.created": _l("A deal is created"),
            "deal.won": _l("A deal is won"), "deal.lost": _l("A deal is lost"),
            "lead.created": _l("A lead comes in"), "deal.idle": _l("A deal sits in the stage without activity")}
ROLES = {"owner": _l("the owner"), "owner_manager": _l("the owner's manager"), "contact": _l("the deal's contact")}


class AutomationRuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    trigger = SelectField(_l("When"), choices=choices(TRIGGERS.items()))
    stage_id = SelectField(_l("Stage"), validate_choice=False)
    idle_days = IntegerField(_l("Days without activity (idle rules)"), validators=[Optional(), NumberRange(1, 365)],
                             render_kw={"inputmode": "numeric"})
    min_amount = MoneyField(_l("Only if the amount is at least"), validators=[Optional()])
    products = StringField(_l("Only for products (comma-separated)"), validators=[Optional(), Length(max=2000)])
    node_id = SelectField(_l("Only in the branch"), validate_choice=False)
    active = BooleanField(_l("Active"), default=True)
    task_title = StringField(_l("Task title"), validators=[Optional(), Length(max=500)])
    task_days = IntegerField(_l("Due in working days"), default=1, validators=[Optional(), NumberRange(0, 365)],
                             render_kw={"inputmode": "numeric"})
    task_assignee = SelectField(_l("Task for"), validate_choice=False)
    email_to = SelectField(_l("E-mail to"), validate_choice=False)
    email_subject = StringField(_l("E-mail subject"), validators=[Optional(), Length(max=500)])
    email_body = TextAreaField(_l("E-mail text"), validators=[Optional(), Length(max=10_000)])
    notify_to = SelectField(_l("Notify"), validate_choice=False)
    notify_text = StringField(_l("Notification text"), validators=[Optional(), Length(max=1000)])
    webhook_id = SelectField(_l("Call the webhook"), validate_choice=False)
    probability = IntegerField(_l("Set the probability, %"), validators=[Optional(), NumberRange(0, 100)],
                               render_kw={"inputmode": "numeric"})
    next_step = StringField(_l("Set the next step"), validators=[Optional(), Length(max=500)])
    move_to = SelectField(_l("Move the idle deal to"), validate_choice=False)


def _people(roles: tuple[str, ...], *, teams: bool = False) -> list:
    people, _matching = queries.people_picker(db.session, limit=PEOPLE_CHOICES)
    listed = [(role, str(ROLES[role])) for role in roles]
    listed += [(f"user:{person.id}", f"{person.name} <{person.email}>") for person in people]
    if teams:
        found = db.session.scalars(users.list_teams(db.session).limit(PEOPLE_CHOICES)).all()
        listed += [(f"team:{team.id}", _("team %(name)s", name=team.name)) for team in found]
    return choices(listed)


def _form(pipeline, rule: AutomationRule | None = None) -> AutomationRuleForm:
    data = None
    if rule is not None:
        data = {"name": rule.name, "trigger": rule.trigger, "stage_id": str(rule.stage_id or ""),
                "idle_days": rule.idle_days, "min_amount": rule.conditions.get("min_amount"),
                "products": ", ".join(rule.conditions.get("products", [])),
                "node_id": str(rule.conditions.get("node_id") or ""), "active": rule.active}
        for action in reversed(rule.actions):  # the first of each type is the one shown
            if action["type"] == "create_task":
                data |= {"task_title": action["title"], "task_days": action["due_in_working_days"],
                         "task_assignee": action["assignee"]}
            elif action["type"] == "send_email":
                data |= {"email_to": action["to"], "email_subject": action["subject"], "email_body": action["body"]}
            elif action["type"] == "notify":
                data |= {"notify_to": action["to"], "notify_text": action["text"]}
            elif action["type"] == "call_webhook":
                data["webhook_id"] = str(action["webhook_id"])
            elif action["type"] == "set_field":
                data[action["field"]] = action["value"]
            elif action["type"] == "move_stage":
                data["move_to"] = str(action["to_stage_id"])
    form = AutomationRuleForm(formdata=None, data=data) if data is not None else AutomationRuleForm()
    stages = [("", "—")] + [(str(stage.id), stage.name) for stage in pipeline.stages]
    form.stage_id.choices = choices(stages)
    form.move_to.choices = choices(stages)
    branches = account_services.branch_choices(db.session, user=require_admin())
    form.node_id.choices = choices([("", "—")] + [(str(node.id), f"{node.code} · {node.name}") for node in branches])
    form.task_assignee.choices = _people(("owner", "owner_manager"), teams=True)
    form.email_to.choices = _people(("contact", "owner"))
    form.notify_to.choices = _people(("owner", "owner_manager"))
    hooks = db.session.scalars(webhooks.list_(user=require_admin()).where(Webhook.active.is_(True))
                               .limit(PEOPLE_CHOICES)).all()
    form.webhook_id.choices = choices([("", "—")] + [(str(hook.id), hook.description or hook.url) for hook in hooks])
    return form


def _values(form: AutomationRuleForm) -> dict:
    """What the form says, as the service takes it (the service checks it all)."""
    actions = []
    if form.task_title.data:
        actions.append({"type": "create_task", "title": form.task_title.data,
                        "due_in_working_days": form.task_days.data or 0, "assignee": form.task_assignee.data})
    if form.email_subject.data or form.email_body.data:
        actions.append({"type": "send_email", "to": form.email_to.data, "subject": form.email_subject.data,
                        "body": form.email_body.data})
    if form.notify_text.data:
        actions.append({"type": "notify", "to": form.notify_to.data, "text": form.notify_text.data})
    if form.webhook_id.data:
        actions.append({"type": "call_webhook", "webhook_id": _number(form.webhook_id.data)})
    if form.probability.data is not None:
        actions.append({"type": "set_field", "field": "probability", "value": form.probability.data})
    if form.next_step.data:
        actions.append({"type": "set_field", "field": "next_step", "value": form.next_step.data})
    if form.move_to.data:
        actions.append({"type": "move_stage", "to_stage_id": _number(form.move_to.data)})
    conditions = {}
    if form.min_amount.data is not None:
        conditions["min_amount"] = str(form.min_amount.data)
    products = [name.strip() for name in (form.products.data or "").split(",") if name.strip()]
    if products:
        conditions["products"] = products
    if form.node_id.data:
        conditions["node_id"] = _number(form.node_id.data)
    return {"name": form.name.data, "trigger": form.trigger.data, "stage_id": _number(form.stage_id.data),
            "idle_days": form.idle_days.data if form.trigger.data == "deal.idle" else None,
            "conditions": conditions, "actions": actions, "active": form.active.data}


def _number(text: str | None) -> int | None:
    """A chosen id, or None for none; anything else is passed on as a value the service refuses."""
    text = (text or "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() and len(text) < 10 else -1


def _pipeline(pipeline_id: int):
    return pipelines.get_pipeline_or_raise(db.session, pipeline_id=pipeline_id)


def _rule(pipeline, automation_id: int) -> AutomationRule:
    return automation.get_rule_or_raise(db.session, user=require_admin(), rule_id=automation_id,
                                        pipeline_id=pipeline.id)


@bp.route("/<int:pipeline_id>/automation")
def rules(pipeline_id: int):
    """The pipeline's automation rules, each with its last runs, and the form for a new one (administrators)."""
    admin = require_admin()
    found = _pipeline(pipeline_id)
    listed = db.session.scalars(automation.list_rules(db.session, user=admin, pipeline_id=found.id)).all()
    runs = {rule.id: db.session.scalars(automation.list_runs(db.session, rule=rule).limit(RUNS_SHOWN)).all()
            for rule in listed}
    return render_template("settings/automation.html", pipeline=found, rules=listed, runs=runs, form=_form(found),
                           triggers=TRIGGERS, stages={stage.id: stage.name for stage in found.stages},
                           fields=sorted(automation_rules.DEAL_FIELDS), lead_fields=sorted(automation_rules.LEAD_FIELDS),
                           action_form=ActionForm(), editing=None)


@bp.route("/<int:pipeline_id>/automation", methods=["POST"])
def create_rule(pipeline_id: int):
    admin = require_admin()
    found = _pipeline(pipeline_id)
    form = _form(found)
    check(form)
    rule = automation.create_rule(db.session, actor=admin, pipeline=found, **_values(form))
    flash(_("Rule %(name)s added.", name=rule.name), "info")
    return redirect(url_for("pipeline_automation.rules", pipeline_id=found.id), code=303)


@bp.route("/<int:pipeline_id>/automation/<int:automation_id>")
def rule(pipeline_id: int, automation_id: int):
    """One rule's form, filled in, and its latest runs (administrators)."""
    found = _pipeline(pipeline_id)
    editing = _rule(found, automation_id)
    runs = db.session.scalars(automation.list_runs(db.session, rule=editing).limit(20)).all()
    # The form shows one action of each type (one per field): a rule with more (made through the API) loses them
    # if saved here, which the page says.
    kinds = [(action["type"], action.get("field")) for action in editing.actions]
    repeated = len(kinds) != len(set(kinds)) or any(kind not in PAGE_ACTIONS for kind, _field in kinds)
    return render_template("settings/automation.html", pipeline=found, rules=[editing], runs={editing.id: runs},
                           form=_form(found, editing), triggers=TRIGGERS,
                           stages={stage.id: stage.name for stage in found.stages},
                           fields=sorted(automation_rules.DEAL_FIELDS), lead_fields=sorted(automation_rules.LEAD_FIELDS),
                           action_form=ActionForm(), editing=editing, repeated=repeated)


@bp.route("/<int:pipeline_id>/automation/<int:automation_id>", methods=["POST"])
def update_rule(pipeline_id: int, automation_id: int):
    admin = require_admin()
    found = _pipeline(pipeline_id)
    editing = _rule(found, automation_id)
    form = _form(found)
    check(form)
    automation.update_rule(db.session, actor=admin, rule=editing, **_values(form))
    flash(_("Rule %(name)s saved.", name=editing.name), "info")
    return redirect(url_for("pipeline_automation.rules", pipeline_id=found.id), code=303)


@bp.route("/<int:pipeline_id>/automation/<int:automation_id>/delete", methods=["POST"])
def delete_rule(pipeline_id: int, automation_id: int):
    admin = require_admin()
    found = _pipeline(pipeline_id)
    editing = _rule(found, automation_id)
    check(ActionForm())
    name = editing.name
    automation.delete_rule(db.session, actor=admin, rule=editing)
    flash(_("Rule %(name)s deleted.", name=name), "info")
    return redirect(url_for("pipeline_automation.rules", pipeline_id=found.id), code=303)


"""Automation rules of the pipelines and their runs (administrators, who change pipelines)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from accounts import pipelines
from accounts.automation import services as automation
from accounts.automation.models import RUN_STATUSES, TRIGGERS
from api.common import Blueprint, Id, Money, Name, PageArgs, current_user, page_schema, paginate, session

blp = Blueprint("automation", __name__, url_prefix="/automation-rules",
                description="Rules that act when a deal enters a stage, is created, won, lost or idle, or a lead "
                            "comes in; each run is kept with what it did")

MAX_ACTIONS = 10

_ACTIONS_HELP = (
    "Typed actions, done in order. create_task {title, due_in_working_days, assignee: owner|owner_manager|"
    "user:<id>|team:<id>}; send_email {to: contact|owner|user:<id>, subject, body}; notify {to: owner|"
    "owner_manager|user:<id>, text}; set_field {field: probability|next_step, value}; call_webhook {webhook_id: a "
    "subscription of /api/v1/webhooks, which gets the automation.webhook event, signed}; move_stage {to_stage_id} "
    "(idle rules). Titles, subjects, bodies and a next "
    "step are templates ({{ deal_name }}) over the fields deal_id, deal_name, amount, currency, stage, "
    "previous_stage, pipeline, probability, product, next_step, expected_close, owner_name, owner_email, "
    "account_name, contact_name, contact_email (lead rules: lead_id, company, contact_name, email, phone, source, "
    "product, message, owner_name, owner_email); an unknown field is refused naming it.")


class AutomationConditionsSchema(Schema):
    min_amount = Money(allow_none=True)
    products = fields.List(fields.String(validate=validate.Length(min=1, max=100)), validate=validate.Length(max=100))
    node_id = Id(strict=True, allow_none=True, metadata={"description": "An EPS node: deals below it only."})


class AutomationRuleCreateSchema(Schema):
    pipeline_id = Id(required=True, strict=True)
    name = Name(required=True)
    trigger = fields.String(required=True, validate=validate.OneOf(TRIGGERS))
    stage_id = Id(strict=True, allow_none=True, load_default=None,
                  metadata={"description": "The stage entered (deal.entered_stage) or sat in (deal.idle)."})
    idle_days = fields.Integer(strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1, max=365))
    conditions = fields.Nested(AutomationConditionsSchema, load_default=dict)
    actions = fields.List(fields.Dict(), required=True,
                          validate=validate.Length(min=1, max=MAX_ACTIONS), metadata={"description": _ACTIONS_HELP})
    active = fields.Boolean(load_default=True)


class AutomationRuleUpdateSchema(Schema):
    name = Name()
    trigger = fields.String(validate=validate.OneOf(TRIGGERS))
    stage_id = Id(strict=True, allow_none=True)
    idle_days = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=365))
    conditions = fields.Nested(AutomationConditionsSchema)
    actions = fields.List(fields.Dict(),
                          validate=validate.Length(min=1, max=MAX_ACTIONS), metadata={"description": _ACTIONS_HELP})
    active = fields.Boolean()


class AutomationRuleReadSchema(Schema):
    id = fields.Integer()
    pipeline_id = fields.Integer()
    name = fields.String()
    trigger = fields.String()
    stage_id = fields.Integer(allow_none=True)
    idle_days = fields.Integer(allow_none=True)
    conditions = fields.Dict()
    actions = fields.List(fields.Dict())
    active = fields.Boolean()
    created_by = fields.Integer(attribute="created_by_id", allow_none=True,
                                metadata={"description": "The administrator whose rights the rule acts with."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class AutomationRuleListArgs(PageArgs):
    pipeline_id = Id()


class AutomationRunReadSchema(Schema):
    id = fields.Integer()
    rule_id = fields.Integer()
    deal_id = fields.Integer(allow_none=True)
    lead_id = fields.Integer(allow_none=True)
    event_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": " | ".join(RUN_STATUSES)})
    results = fields.List(fields.Dict(), metadata={"description": "What each action did (status done|skipped)."})
    reason = fields.String(metadata={"description": "Why the rule did nothing (skipped)."})
    error = fields.String(metadata={"description": "The last failure (retrying, failed)."})
    attempts = fields.Integer()
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


AutomationRulePageSchema = page_schema(AutomationRuleReadSchema)
AutomationRunPageSchema = page_schema(AutomationRunReadSchema)


def _conditions(data: dict) -> None:
    if data.get("conditions") is not None:
        data["conditions"] = {key: (str(value) if key == "min_amount" and value is not None else value)
                              for key, value in data["conditions"].items() if value is not None}


def _rule(rule_id: int):
    return automation.get_rule_or_raise(session(), user=current_user(), rule_id=rule_id)


@blp.route("", methods=["GET"])
@blp.arguments(AutomationRuleListArgs, location="query")
@blp.response(200, AutomationRulePageSchema)
def list_rules(args):
    """The automation rules, of one pipeline with ``pipeline_id`` (administrators)."""
    return paginate(automation.list_rules(session(), user=current_user(), pipeline_id=args.get("pipeline_id")), args)


@blp.route("", methods=["POST"])
@blp.arguments(AutomationRuleCreateSchema)
@blp.response(201, AutomationRuleReadSchema)
def create_rule(data):
    """Add a rule to a pipeline (administrators); checked whole, templates included, before it is kept."""
    pipeline = pipelines.get_pipeline_or_raise(session(), pipeline_id=data.pop("pipeline_id"), field="pipeline_id")
    _conditions(data)
    return automation.create_rule(session(), actor=current_user(), pipeline=pipeline, **data)


@blp.route("/<int:rule_id>", methods=["GET"])
@blp.response(200, AutomationRuleReadSchema)
def get_rule(rule_id):
    """One automation rule (administrators)."""
    return _rule(rule_id)


@blp.route("/<int:rule_id>", methods=["PATCH"])
@blp.arguments(AutomationRuleUpdateSchema)
@blp.response(200, AutomationRuleReadSchema)
def update_rule(data, rule_id):
    """Change a rule (administrators); from now on it acts with the caller's rights."""
    _conditions(data)
    return automation.update_rule(session(), actor=current_user(), rule=_rule(rule_id), **data)


@blp.route("/<int:rule_id>", methods=["DELETE"])
@blp.response(204)
def delete_rule(rule_id):
    """Delete a rule and its runs (administrators)."""
    automation.delete_rule(session(), actor=current_user(), rule=_rule(rule_id))


@blp.route("/<int:rule_id>/runs", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, AutomationRunPageSchema)
def list_runs(args, rule_id):
    """A rule's runs, newest first: what each did, or why it did nothing, and failures."""
    return paginate(automation.list_runs(session(), rule=_rule(rule_id)), args)

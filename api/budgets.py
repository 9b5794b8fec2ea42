"""Budgets of EPS nodes and projects: figures, the change log with approvals, monthly spending plans."""

from __future__ import annotations

from datetime import date

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates

from api.common import Blueprint, Money, PageArgs, base_currency, current_user, page_schema, paginate, session
from crmpm.errors import Invalid
from eps import budgets, services
from eps.models import ChangeStatus

blp = Blueprint("budgets", __name__, url_prefix="", description="Budgets down the EPS, costs up it")


class BudgetSchema(Schema):
    currency = fields.String()
    original_budget = Money(attribute="original")
    approved_changes = Money(allow_negative=True)
    current_budget = Money(attribute="current")
    pending_changes = Money(allow_negative=True)
    proposed_budget = Money(attribute="proposed")
    distributed = Money()
    undistributed = Money(allow_negative=True)
    planned_cost = Money()
    actual_cost = Money()
    variance = Money(allow_negative=True)


class BudgetSetSchema(Schema):
    original_budget = Money(required=True)


class ChangeCreateSchema(Schema):
    amount = Money(required=True, allow_negative=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class DecisionSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ChangeReadSchema(Schema):
    id = fields.Integer()
    eps_node_id = fields.Integer(allow_none=True)
    project_id = fields.Integer(allow_none=True)
    amount = Money(allow_negative=True)
    reason = fields.String()
    status = fields.Function(lambda change: change.status.value)
    requested_by_id = fields.Integer(allow_none=True)
    requested_at = fields.DateTime()
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.String()


class ChangeListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([status.value for status in ChangeStatus]))


ChangePageSchema = page_schema(ChangeReadSchema)


class PlanMonthSchema(Schema):
    month = fields.String(required=True, metadata={"example": "2026-01"})
    amount = Money(required=True)

    @validates("month")
    def _month(self, value, **_kwargs):
        _parse_month(value)


class PlanMonthReadSchema(Schema):
    month = fields.Function(lambda line: f"{line.month:%Y-%m}")
    amount = Money()
    tally = Money()


class PlanSetSchema(Schema):
    months = fields.List(fields.Nested(PlanMonthSchema), required=True, validate=validate.Length(max=1200))


class PlanReadSchema(Schema):
    currency = fields.String()
    months = fields.List(fields.Nested(PlanMonthReadSchema))
    total = Money()
    tally_total = Money()
    unscheduled = Money(allow_negative=True)


def _parse_month(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValidationError("Not a month in the form YYYY-MM.") from None


def _figures(obj) -> dict:
    figures = budgets.figures(session(), obj=obj)
    return {**figures.__dict__, "variance": figures.variance, "currency": base_currency()}


def _four_eyes() -> bool:
    return current_app.config["BUDGET_FOUR_EYES"]


def _register(prefix: str, kind: str, load) -> None:
    """The same budget endpoints for EPS nodes and for projects."""

    @blp.route(f"/{prefix}/budget", methods=["GET"], endpoint=f"{kind}_budget")
    @blp.response(200, BudgetSchema)
    def get_budget(obj_id):
        """Budget figures: original, current, proposed, distributed, undistributed, costs rolled up."""
        return _figures(load(obj_id))

    @blp.route(f"/{prefix}/budget", methods=["PUT"], endpoint=f"{kind}_budget_set")
    @blp.arguments(BudgetSetSchema)
    @blp.response(200, BudgetSchema)
    def set_budget(data, obj_id):
        """Set the original budget (finance)."""
        obj = load(obj_id)
        budgets.set_original(session(), actor=current_user(), obj=obj, amount=data["original_budget"])
        return _figures(obj)

    @blp.route(f"/{prefix}/budget/changes", methods=["POST"], endpoint=f"{kind}_change_create")
    @blp.arguments(ChangeCreateSchema)
    @blp.response(201, ChangeReadSchema)
    def request_change(data, obj_id):
        """Log a pending budget change (finance or manager)."""
        return budgets.request_change(session(), actor=current_user(), obj=load(obj_id), **data)

    @blp.route(f"/{prefix}/budget/changes", methods=["GET"], endpoint=f"{kind}_change_list")
    @blp.arguments(ChangeListArgs, location="query")
    @blp.response(200, ChangePageSchema)
    def list_changes(args, obj_id):
        """The budget change log, newest first."""
        status = ChangeStatus(args["status"]) if args.get("status") else None
        return paginate(budgets.list_changes(session(), user=current_user(), obj=load(obj_id), status=status), args)

    def _change(obj_id, change_id):
        return budgets.get_change_or_raise(session(), user=current_user(), change_id=change_id, obj=load(obj_id))

    @blp.route(f"/{prefix}/budget/changes/<int:change_id>", methods=["GET"], endpoint=f"{kind}_change_get")
    @blp.response(200, ChangeReadSchema)
    def get_change(obj_id, change_id):
        """One budget change."""
        return _change(obj_id, change_id)

    @blp.route(f"/{prefix}/budget/changes/<int:change_id>/approve", methods=["POST"],
               endpoint=f"{kind}_change_approve")
    @blp.arguments(DecisionSchema, required=False)
    @blp.response(200, ChangeReadSchema)
    def approve(data, obj_id, change_id):
        """Approve a pending change (finance; not its own requester)."""
        return budgets.approve_change(session(), actor=current_user(), change=_change(obj_id, change_id),
                                      note=(data or {}).get("note", ""), four_eyes=_four_eyes())

    @blp.route(f"/{prefix}/budget/changes/<int:change_id>/reject", methods=["POST"],
               endpoint=f"{kind}_change_reject")
    @blp.arguments(DecisionSchema, required=False)
    @blp.response(200, ChangeReadSchema)
    def reject(data, obj_id, change_id):
        """Reject a pending change (finance; not its own requester)."""
        return budgets.reject_change(session(), actor=current_user(), change=_change(obj_id, change_id),
                                     note=(data or {}).get("note", ""), four_eyes=_four_eyes())

    @blp.route(f"/{prefix}/budget/spending-plan", methods=["GET"], endpoint=f"{kind}_plan")
    @blp.response(200, PlanReadSchema)
    def get_plan(obj_id):
        """The monthly spending plan beside the tally of the children's plans."""
        plan = budgets.spending_plan(session(), obj=load(obj_id))
        return {**plan.__dict__, "currency": base_currency()}

    @blp.route(f"/{prefix}/budget/spending-plan", methods=["PUT"], endpoint=f"{kind}_plan_set")
    @blp.arguments(PlanSetSchema)
    @blp.response(200, PlanReadSchema)
    def set_plan(data, obj_id):
        """Replace the monthly spending plan (finance)."""
        entries = {}
        for line in data["months"]:
            month = _parse_month(line["month"])
            if month in entries:
                raise Invalid(f"month {line['month']} is given twice", errors={"months": [f"{line['month']} twice"]})
            entries[month] = line["amount"]
        plan = budgets.set_spending_plan(session(), actor=current_user(), obj=load(obj_id), entries=entries)
        return {**plan.__dict__, "currency": base_currency()}


_register("eps/nodes/<int:obj_id>", "node",
          lambda obj_id: services.get_node_or_raise(session(), user=current_user(), node_id=obj_id))
_register("projects/<int:obj_id>", "project",
          lambda obj_id: services.get_project_or_raise(session(), user=current_user(), project_id=obj_id))


@blp.route("/budget/changes", methods=["GET"])
@blp.arguments(ChangeListArgs, location="query")
@blp.response(200, ChangePageSchema)
def all_changes(args):
    """Budget changes on every node and project the caller may read (a finance inbox with status=pending)."""
    status = ChangeStatus(args["status"]) if args.get("status") else None
    return paginate(budgets.list_changes(session(), user=current_user(), status=status), args)

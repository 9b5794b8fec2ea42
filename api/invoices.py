"""Invoices, billing milestones, billed and received figures, and the company's details."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from accounts.billing import company, figures, invoices, milestones
from accounts.billing.models import INVOICE_STATUSES
from accounts.deals.queries import get_deal_or_raise
from api.common import (
    Blueprint, Id, Money, PageArgs, Trimmed, base_currency, current_user, page_schema, paginate, session,
)
from crmpm.errors import Invalid
from eps import services

blp = Blueprint("invoices", __name__, url_prefix="",
                description="Invoices, billing milestones, money billed and received")


class InvoiceLineSchema(Schema):
    description = Trimmed(required=True, validate=validate.Length(min=1, max=500))
    unit = Trimmed(load_default="", validate=validate.Length(max=20))
    # Positive, below a billion, at most three decimals: checked by the service (``invoices._line``).
    quantity = fields.Decimal(required=True, places=None, as_string=True, allow_nan=False)
    unit_price = Money(required=True)


class InvoiceLineReadSchema(Schema):
    id = fields.Integer()
    position = fields.Integer()
    description = fields.String()
    unit = fields.String()
    quantity = fields.Decimal(as_string=True)
    unit_price = Money()
    amount = Money()
    vat_amount = Money()
    milestone_id = fields.Integer(allow_none=True)


class InvoiceCreateSchema(Schema):
    deal_id = Id(metadata={"description": "bill the deal's product lines"})
    project_id = Id(metadata={"description": "with milestone_ids: bill the project's milestones; with lines: by hand"})
    milestone_ids = fields.List(Id(), validate=validate.Length(min=1, max=500))
    lines = fields.List(fields.Nested(InvoiceLineSchema), validate=validate.Length(min=1, max=500))
    account_id = Id(metadata={"description": "the account billed (default: the project's deal's account)"})
    currency = fields.String(validate=validate.Length(equal=3))
    due_date = fields.Date(allow_none=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))

    @validates_schema
    def _one_source(self, data, **_kwargs):
        if "deal_id" in data:
            if any(key in data for key in ("project_id", "milestone_ids", "lines")):
                raise ValidationError("Give deal_id alone, or project_id with milestone_ids or lines.", "deal_id")
        elif "project_id" in data:
            if ("milestone_ids" in data) == ("lines" in data):
                raise ValidationError("Give milestone_ids or lines with project_id.", "project_id")
        else:
            raise ValidationError("Give deal_id, or project_id with milestone_ids or lines.", "deal_id")


class InvoiceUpdateSchema(Schema):
    due_date = fields.Date(allow_none=True)
    note = fields.String(validate=validate.Length(max=2000))
    lines = fields.List(fields.Nested(InvoiceLineSchema), validate=validate.Length(min=1, max=500))


class InvoiceReadSchema(Schema):
    id = fields.Integer()
    number = fields.Integer(allow_none=True)
    year = fields.Integer(allow_none=True)
    status = fields.String()
    source = fields.String()
    project_id = fields.Integer()
    deal_id = fields.Integer(allow_none=True)
    account_id = fields.Integer()
    currency = fields.String()
    issue_date = fields.Date(allow_none=True)
    due_date = fields.Date(allow_none=True)
    act_date = fields.Date(allow_none=True)
    vat_rate = fields.Decimal(as_string=True)
    subtotal = Money()
    vat_amount = Money()
    total = Money()
    paid_amount = Money()
    note = fields.String()
    cancel_reason = fields.String()
    created_at = fields.DateTime()
    issued_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    lines = fields.List(fields.Nested(InvoiceLineReadSchema))


class InvoiceListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(INVOICE_STATUSES))
    project_id = Id()
    deal_id = Id()
    account_id = Id()
    eps_node_id = Id()


InvoicePageSchema = page_schema(InvoiceReadSchema)


class IssueSchema(Schema):
    issue_date = fields.Date(metadata={"description": "default: today"})
    due_date = fields.Date()


class CancelSchema(Schema):
    reason = Trimmed(required=True, validate=validate.Length(min=1, max=2000))


class ActSchema(Schema):
    act_date = fields.Date(required=True, allow_none=True)


class MilestoneSchema(Schema):
    name = Trimmed(required=True, validate=validate.Length(min=1, max=500))
    amount = Money(required=True)
    planned_date = fields.Date(allow_none=True)
    activity_id = Id(allow_none=True)


class MilestoneUpdateSchema(Schema):
    name = Trimmed(validate=validate.Length(min=1, max=500))
    amount = Money()
    planned_date = fields.Date(allow_none=True)
    activity_id = Id(allow_none=True)


class MilestoneReadSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    activity_id = fields.Integer(allow_none=True)
    name = fields.String()
    amount = Money()
    planned_date = fields.Date(allow_none=True)
    invoice_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


MilestonePageSchema = page_schema(MilestoneReadSchema)


class BillingSchema(Schema):
    currency = fields.String()
    billed = Money()
    billed_net = Money(metadata={"description": "billed without VAT"})
    received = Money()
    outstanding = Money()
    overdue = Money()
    actual_cost = Money()
    margin = Money(allow_negative=True, metadata={"description": "billed without VAT − actual cost"})
    cash_margin = Money(allow_negative=True, metadata={"description": "received − actual cost"})


class CompanySchema(Schema):
    name = Trimmed(validate=validate.Length(max=300))
    inn = Trimmed(validate=validate.Length(max=12))
    kpp = Trimmed(validate=validate.Length(max=9))
    ogrn = Trimmed(validate=validate.Length(max=15))
    address = Trimmed(validate=validate.Length(max=500))
    bank_name = Trimmed(validate=validate.Length(max=300))
    bank_bik = Trimmed(validate=validate.Length(max=9))
    bank_account = Trimmed(validate=validate.Length(max=20))
    bank_corr_account = Trimmed(validate=validate.Length(max=20))
    director = Trimmed(validate=validate.Length(max=300))
    accountant = Trimmed(validate=validate.Length(max=300))
    # 0 to 100 with at most two decimals: checked by the service (``company.update``).
    vat_rate = fields.Decimal(allow_none=True, as_string=True, places=None, allow_nan=False,
                              metadata={"description": "percent; null: the rate in force in Russia on each date"})


def _lines(data) -> list[invoices.LineInput]:
    return [invoices.LineInput(**line) for line in data]


def _invoice(invoice_id: int, permission=None):
    kwargs = {} if permission is None else {"permission": permission}
    return invoices.get_invoice_or_raise(session(), user=current_user(), invoice_id=invoice_id, **kwargs)


def _project(project_id: int, field: str | None = None):
    return services.get_project_or_raise(session(), user=current_user(), project_id=project_id, field=field)


@blp.route("/invoices", methods=["POST"])
@blp.arguments(InvoiceCreateSchema)
@blp.response(201, InvoiceReadSchema)
def create_invoice(data):
    """A draft invoice: from a deal's products, from a project's milestones, or with lines typed by hand."""
    db, user = session(), current_user()
    common = {"base_currency": base_currency(), "due_date": data.get("due_date"), "note": data["note"]}
    if "deal_id" in data:
        deal = get_deal_or_raise(db, user=user, deal_id=data["deal_id"], field="deal_id")
        if data.get("currency") not in (None, base_currency()):
            raise Invalid("invoices are in the base currency {currency} only", currency=base_currency(),
                          errors={"currency": [f"must be {base_currency()}"]})
        return invoices.create_from_deal(db, actor=user, deal=deal, **common)
    project = _project(data["project_id"], field="project_id")
    if "milestone_ids" in data:
        return invoices.create_from_milestones(db, actor=user, project=project, milestone_ids=data["milestone_ids"],
                                               account_id=data.get("account_id"), **common)
    return invoices.create_manual(db, actor=user, project=project, lines=_lines(data["lines"]),
                                  currency=data.get("currency"), account_id=data.get("account_id"), **common)


@blp.route("/invoices", methods=["GET"])
@blp.arguments(InvoiceListArgs, location="query")
@blp.response(200, InvoicePageSchema)
def list_invoices(args):
    """Invoices on the projects the caller may read, newest first; filters by status, project, deal, account, node."""
    query = invoices.list_(session(), user=current_user(), status=args.get("status"),
                           project_id=args.get("project_id"), deal_id=args.get("deal_id"),
                           account_id=args.get("account_id"), eps_node_id=args.get("eps_node_id"))
    return paginate(query, args)


@blp.route("/invoices/<int:invoice_id>", methods=["GET"])
@blp.response(200, InvoiceReadSchema)
def get_invoice(invoice_id):
    """One invoice with its lines."""
    return _invoice(invoice_id)


@blp.route("/invoices/<int:invoice_id>", methods=["PATCH"])
@blp.arguments(InvoiceUpdateSchema)
@blp.response(200, InvoiceReadSchema)
def update_invoice(data, invoice_id):
    """Change a draft: due date, note, a manual draft's lines (budget rights)."""
    if "lines" in data:
        data["lines"] = _lines(data["lines"])
    return invoices.update(session(), actor=current_user(), invoice=_invoice(invoice_id), **data)


@blp.route("/invoices/<int:invoice_id>", methods=["DELETE"])
@blp.response(204)
def delete_invoice(invoice_id):
    """Delete a draft; an issued invoice is cancelled instead (budget rights)."""
    invoices.delete(session(), actor=current_user(), invoice=_invoice(invoice_id))


@blp.route("/invoices/<int:invoice_id>/issue", methods=["POST"])
@blp.arguments(IssueSchema, required=False)
@blp.response(200, InvoiceReadSchema)
def issue_invoice(data, invoice_id):
    """Issue a draft: it takes the next number of its year and the VAT rate of its date (budget rights)."""
    data = data or {}
    return invoices.issue(session(), actor=current_user(), invoice=_invoice(invoice_id),
                          issue_date=data.get("issue_date"), due_date=data.get("due_date"))


@blp.route("/invoices/<int:invoice_id>/cancel", methods=["POST"])
@blp.arguments(CancelSchema)
@blp.response(200, InvoiceReadSchema)
def cancel_invoice(data, invoice_id):
    """Cancel an issued invoice with a reason; its milestones may be billed again (budget rights)."""
    return invoices.cancel(session(), actor=current_user(), invoice=_invoice(invoice_id), reason=data["reason"])


@blp.route("/invoices/<int:invoice_id>/act", methods=["POST"])
@blp.arguments(ActSchema)
@blp.response(200, InvoiceReadSchema)
def act_invoice(data, invoice_id):
    """Date the act of completed work (акт выполненных работ) of an issued invoice; null takes it back."""
    return invoices.set_act_date(session(), actor=current_user(), invoice=_invoice(invoice_id),
                                 act_date=data["act_date"])


# Billing milestones


@blp.route("/projects/<int:project_id>/billing-milestones", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, MilestonePageSchema)
def list_milestones(args, project_id):
    """The project's billing milestones by planned date."""
    return paginate(milestones.list_(session(), project=_project(project_id)), args)


@blp.route("/projects/<int:project_id>/billing-milestones", methods=["POST"])
@blp.arguments(MilestoneSchema)
@blp.response(201, MilestoneReadSchema)
def create_milestone(data, project_id):
    """A new billing milestone (budget rights), linked to an activity of the project or not."""
    return milestones.create(session(), actor=current_user(), project=_project(project_id), **data)


def _milestone(project_id: int, milestone_id: int):
    project = _project(project_id)
    return project, milestones.get_milestone_or_raise(session(), project=project, milestone_id=milestone_id)


@blp.route("/projects/<int:project_id>/billing-milestones/<int:milestone_id>", methods=["GET"])
@blp.response(200, MilestoneReadSchema)
def get_milestone(project_id, milestone_id):
    """One billing milestone."""
    return _milestone(project_id, milestone_id)[1]


@blp.route("/projects/<int:project_id>/billing-milestones/<int:milestone_id>", methods=["PATCH"])
@blp.arguments(MilestoneUpdateSchema)
@blp.response(200, MilestoneReadSchema)
def update_milestone(data, project_id, milestone_id):
    """Change a milestone not billed yet (budget rights)."""
    project, milestone = _milestone(project_id, milestone_id)
    return milestones.update(session(), actor=current_user(), project=project, milestone=milestone, **data)


@blp.route("/projects/<int:project_id>/billing-milestones/<int:milestone_id>", methods=["DELETE"])
@blp.response(204)
def delete_milestone(project_id, milestone_id):
    """Delete a milestone not billed yet (budget rights)."""
    project, milestone = _milestone(project_id, milestone_id)
    milestones.delete(session(), actor=current_user(), project=project, milestone=milestone)


# Figures


def _billing(obj) -> dict:
    result = figures.figures(session(), obj=obj)
    return {**result.__dict__, "margin": result.margin, "cash_margin": result.cash_margin,
            "currency": base_currency()}


@blp.route("/eps/nodes/<int:node_id>/billing", methods=["GET"])
@blp.response(200, BillingSchema)
def node_billing(node_id):
    """Billed, received, outstanding and overdue money of the node's subtree, its actual cost and margin."""
    return _billing(services.get_node_or_raise(session(), user=current_user(), node_id=node_id))


@blp.route("/projects/<int:project_id>/billing", methods=["GET"])
@blp.response(200, BillingSchema)
def project_billing(project_id):
    """Billed, received, outstanding and overdue money of the project, its actual cost and margin."""
    return _billing(_project(project_id))


@blp.route("/deals/<int:deal_id>/billing", methods=["GET"])
@blp.response(200, BillingSchema)
def deal_billing(deal_id):
    """Billed, received, outstanding and overdue money of the deal, its project's actual cost and margin."""
    return _billing(get_deal_or_raise(session(), user=current_user(), deal_id=deal_id))


# The company's details


@blp.route("/company", methods=["GET"])
@blp.response(200, CompanySchema)
def get_company():
    """The seller's details printed on invoices and acts (every signed-in user)."""
    return company.get(session())


@blp.route("/company", methods=["PUT"])
@blp.arguments(CompanySchema)
@blp.response(200, CompanySchema)
def set_company(data):
    """Change the seller's details (administrators); fields not given stay as they are."""
    return company.update(session(), actor=current_user(), **data)

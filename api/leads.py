"""Leads: inbound requests, their routing and assignments, qualification into a deal."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from accounts import leads as lead_services
from accounts import routing
from accounts.models import AccountKind, LeadStatus
from api.accounts import AccountReadSchema, ContactReadSchema, ExternalId, Text, account_field, user_field
from api.common import Blueprint, Id, Money, Name, current_user, page_schema, session
from api.deals import DealReadSchema, pipeline_field
from api.export import ListArgs, list_or_csv, page_or_csv
from eps import services as eps_services

blp = Blueprint("leads", __name__, url_prefix="/leads", description="Leads: unqualified inbound requests")


class LeadCreateSchema(Schema):
    region_node_id = Id(required=True, strict=True, metadata={"description": "The branch it came in on."})
    company = Text(load_default="")
    contact_name = Text(load_default="")
    email = Text(254, allow_none=True)
    phone = Text(40, allow_none=True)
    tax_id = Text(40, allow_none=True)
    source = Text(100, load_default="")
    channel = Text(100, load_default="")
    product = Text(100, load_default="")
    message = Text(10_000, load_default="")
    external_id = ExternalId()
    route = fields.Boolean(load_default=False, metadata={
        "description": "Route it at once by the routing rules; when nobody can take it now it is stored unassigned, "
                       "with the reason in routing_reason."})


class LeadUpdateSchema(Schema):
    company = Text()
    contact_name = Text()
    email = Text(254, allow_none=True)
    phone = Text(40, allow_none=True)
    tax_id = Text(40, allow_none=True)
    source = Text(100)
    channel = Text(100)
    product = Text(100)
    message = Text(10_000)


class LeadReadSchema(Schema):
    id = fields.Integer()
    external_id = fields.String(allow_none=True)
    region_node_id = Id()
    company = fields.String()
    contact_name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    tax_id = fields.String(allow_none=True)
    source = fields.String()
    channel = fields.String()
    product = fields.String()
    message = fields.String()
    status = fields.Enum(LeadStatus, by_value=True)
    owner_id = Id(allow_none=True)
    account_id = Id(allow_none=True)
    contact_id = Id(allow_none=True)
    deal_id = Id(allow_none=True)
    created_at = fields.DateTime()
    qualified_at = fields.DateTime(allow_none=True)
    routing_reason = fields.Function(
        lambda lead: "; ".join(str(reason) for reason in routing.queue_reasons(lead)) or None, allow_none=True,
        metadata={"description": "Why routing left the lead unassigned in the queue; null once someone has it."})


class LeadListArgs(ListArgs):
    status = fields.Enum(LeadStatus, by_value=True)
    owner_id = Id()
    region_node_id = Id()
    source = fields.String(validate=validate.Length(max=100))
    q = fields.String(validate=validate.Length(min=1, max=200))


class AssignSchema(Schema):
    owner_id = Id(required=True, strict=True)


class AssignmentSchema(Schema):
    id = fields.Integer()
    lead_id = Id()
    user_id = Id()
    rule_id = Id(allow_none=True)
    reason = fields.String(metadata={"description": "existing_client, round_robin, least_load or manual"})
    details = fields.Dict()
    at = fields.DateTime()
    actor_id = Id(allow_none=True)


class AssignmentsSchema(Schema):
    items = fields.List(fields.Nested(AssignmentSchema))


class DisqualifySchema(Schema):
    reason = Text(500, required=True, min_length=1)


class QualifySchema(Schema):
    pipeline_id = Id(required=True, strict=True)
    deal_name = Name()
    account_id = Id(strict=True, metadata={"description": "Default: the existing client, else a new account."})
    amount = Money()
    expected_close = fields.Date()
    owner_id = Id(strict=True)
    account_kind = fields.Enum(AccountKind, by_value=True, load_default=AccountKind.prospect)


class QualifiedSchema(Schema):
    lead = fields.Nested(LeadReadSchema)
    account = fields.Nested(AccountReadSchema)
    contact = fields.Nested(ContactReadSchema, allow_none=True)
    deal = fields.Nested(DealReadSchema)
    account_created = fields.Boolean()
    contact_created = fields.Boolean()


LeadPageSchema = page_schema(LeadReadSchema)


def _lead(lead_id):
    return lead_services.get_lead_or_raise(session(), user=current_user(), lead_id=lead_id)


@blp.route("", methods=["POST"])
@blp.arguments(LeadCreateSchema)
@blp.response(201, LeadReadSchema)
def create_lead(data):
    """Record an inbound lead on a branch (edit rights there); ``route`` assigns it by the routing rules.

    A lead is never dropped: when nobody can take it now it is stored unassigned, with ``routing_reason``.
    """
    db, user = session(), current_user()
    region = eps_services.get_node_or_raise(db, user=user, node_id=data.pop("region_node_id"), field="region_node_id")
    return lead_services.receive_lead(db, actor=user, region=region, **data)


@blp.route("", methods=["GET"])
@blp.arguments(LeadListArgs, location="query")
@blp.response(200, LeadPageSchema)
def list_leads(args):
    """The leads the caller may read, newest first."""
    query = lead_services.list_leads(session(), user=current_user(), status=args.get("status"),
                                     owner_id=args.get("owner_id"), region_node_id=args.get("region_node_id"),
                                     source=args.get("source"), search=args.get("q"))
    return page_or_csv(query, args, LeadReadSchema, filename="leads")


@blp.route("/<int:lead_id>", methods=["GET"])
@blp.response(200, LeadReadSchema)
def get_lead(lead_id):
    """One lead."""
    return _lead(lead_id)


@blp.route("/<int:lead_id>", methods=["PATCH"])
@blp.arguments(LeadUpdateSchema)
@blp.response(200, LeadReadSchema)
def update_lead(data, lead_id):
    """Change a lead's details."""
    return lead_services.update_lead(session(), actor=current_user(), lead=_lead(lead_id), **data)


@blp.route("/<int:lead_id>/route", methods=["POST"])
@blp.response(200, AssignmentSchema)
def route_lead(lead_id):
    """Assign the lead by the routing rules; 409 when nobody can take it now."""
    return routing.route_lead(session(), actor=current_user(), lead=_lead(lead_id))


@blp.route("/<int:lead_id>/assign", methods=["POST"])
@blp.arguments(AssignSchema)
@blp.response(200, AssignmentSchema)
def assign_lead(data, lead_id):
    """Give the lead to an active user by hand."""
    lead = _lead(lead_id)
    owner = user_field("owner_id", data["owner_id"])
    return routing.assign_lead(session(), actor=current_user(), lead=lead, user=owner)


@blp.route("/<int:lead_id>/assignments", methods=["GET"])
@blp.arguments(ListArgs, location="query")
@blp.response(200, AssignmentsSchema)
def lead_assignments(args, lead_id):
    """Who the lead went to, when, and by which rule and step."""
    items = routing.list_assignments(session(), lead=_lead(lead_id))
    return list_or_csv(items, AssignmentSchema, args, filename="lead-assignments")


@blp.route("/<int:lead_id>/disqualify", methods=["POST"])
@blp.arguments(DisqualifySchema)
@blp.response(200, LeadReadSchema)
def disqualify_lead(data, lead_id):
    """Close the lead as not worth pursuing."""
    return lead_services.disqualify_lead(session(), actor=current_user(), lead=_lead(lead_id), reason=data["reason"])


@blp.route("/<int:lead_id>/qualify", methods=["POST"])
@blp.arguments(QualifySchema)
@blp.response(201, QualifiedSchema)
def qualify_lead(data, lead_id):
    """Qualify the lead: find or create the account and contact, and open a deal in ``pipeline_id``."""
    lead = _lead(lead_id)
    pipeline = pipeline_field("pipeline_id", data.pop("pipeline_id"))
    account = account_field("account_id", data.pop("account_id", None))
    owner = user_field("owner_id", data.pop("owner_id", None))
    result = lead_services.qualify_lead(session(), actor=current_user(), lead=lead, pipeline=pipeline,
                                        account=account, owner=owner, **data)
    return result.__dict__

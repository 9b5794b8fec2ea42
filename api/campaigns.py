"""Campaigns: create, change, send (a job), cancel, their recipients, responses and results."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, fields, validate

from accounts.marketing import campaigns, responses
from accounts.marketing.models import CAMPAIGN_CHANNELS, CampaignMessage, CAMPAIGN_STATUSES, MESSAGE_STATUSES, RESPONSE_KINDS
from accounts.services import get_contact_or_raise
from api.common import Blueprint, Id, Money, Name, PageArgs, Trimmed, current_user, page_schema, paginate, session
from api.jobs import accepted
from crmpm.ratelimit import throttle

blp = Blueprint("campaigns", __name__, url_prefix="/campaigns",
                description="Marketing campaigns: a message to a segment, sent as jobs, measured in deals won")

KIND = "campaign"  # crmpm/ratelimit.py: campaigns created and sent per user


class VariantSchema(Schema):
    id = fields.Integer(dump_only=True)
    label = fields.String(validate=validate.Length(min=1, max=10))
    subject = fields.String(load_default="", validate=validate.Length(max=500),
                            metadata={"description": "Personal fields: {{ first_name }}, {{ last_name }}, {{ name }}, "
                                                     "{{ account }}, {{ unsubscribe_url }}"})
    body = fields.String(required=True, validate=validate.Length(min=1, max=campaigns.MAX_BODY),
                         metadata={"description": "The text; its links are sent as tracked redirects, and an "
                                                  "unsubscribe link is added unless it uses {{ unsubscribe_url }}."})
    html = fields.String(load_default="", validate=validate.Length(max=campaigns.MAX_BODY))
    weight = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100))


class CampaignCreateSchema(Schema):
    name = Name(required=True)
    segment_id = Id(allow_none=True, load_default=None)
    channel = fields.String(load_default="email", validate=validate.OneOf(CAMPAIGN_CHANNELS))
    webhook_id = Id(allow_none=True, load_default=None,
                    metadata={"description": "SMS and messenger campaigns: the caller's webhook they go out through."})
    scheduled_at = fields.AwareDateTime(allow_none=True, load_default=None)
    cost = Money(load_default="0")
    rate_per_minute = fields.Integer(load_default=60, validate=validate.Range(min=1, max=campaigns.MAX_RATE))
    consent_required = fields.Boolean(load_default=False)
    region_node_id = Id(allow_none=True, load_default=None)
    from_name = Trimmed(load_default="", validate=validate.Length(max=200))
    variants = fields.List(fields.Nested(VariantSchema), required=True,
                           validate=validate.Length(min=1, max=campaigns.MAX_VARIANTS))


class CampaignUpdateSchema(Schema):
    name = Name()
    segment_id = Id(allow_none=True)
    channel = fields.String(validate=validate.OneOf(CAMPAIGN_CHANNELS))
    webhook_id = Id(allow_none=True)
    scheduled_at = fields.AwareDateTime(allow_none=True)
    cost = Money()
    rate_per_minute = fields.Integer(validate=validate.Range(min=1, max=campaigns.MAX_RATE))
    consent_required = fields.Boolean()
    region_node_id = Id(allow_none=True)
    from_name = Trimmed(validate=validate.Length(max=200))
    variants = fields.List(fields.Nested(VariantSchema), validate=validate.Length(min=1, max=campaigns.MAX_VARIANTS))


class LinkSchema(Schema):
    id = fields.Integer()
    url = fields.String()


class CampaignSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    code = fields.String(metadata={"description": "The code a web form or a lead's source names the campaign by."})
    segment_id = fields.Integer(allow_none=True)
    channel = fields.String(metadata={"enum": list(CAMPAIGN_CHANNELS)})
    webhook_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"enum": list(CAMPAIGN_STATUSES)})
    scheduled_at = fields.DateTime(allow_none=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    cost = Money()
    rate_per_minute = fields.Integer()
    consent_required = fields.Boolean()
    region_node_id = fields.Integer(allow_none=True)
    from_name = fields.String()
    owner_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    variants = fields.List(fields.Nested(VariantSchema))


class CampaignListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(CAMPAIGN_STATUSES))
    search = fields.String(validate=validate.Length(max=200))


class RecipientArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(MESSAGE_STATUSES))


class RecipientSchema(Schema):
    id = fields.Integer()
    contact_id = fields.Integer()
    variant_id = fields.Integer(allow_none=True)
    address = fields.String()
    status = fields.String(metadata={"enum": list(MESSAGE_STATUSES)})
    reason = fields.String()
    sent_at = fields.DateTime(allow_none=True)


class ResponseCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("reply", "form")))
    contact_id = Id(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=10_000))


class ResponseSchema(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    message_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True)
    kind = fields.String(metadata={"enum": list(RESPONSE_KINDS)})
    lead_id = fields.Integer(allow_none=True, metadata={"description": "The lead it made (none when the person had "
                                                                       "an open lead or deal already)."})
    at = fields.DateTime()


class ResponsesFigures(Schema):
    click = fields.Integer()
    unique_clicks = fields.Integer()
    reply = fields.Integer()
    form = fields.Integer()
    unsubscribe = fields.Integer()


class MessageFigures(Schema):
    sent = fields.Integer()
    skipped = fields.Integer()
    failed = fields.Integer()
    queued = fields.Integer()


class VariantResultSchema(Schema):
    variant_id = fields.Integer()
    label = fields.String()
    cost = Money(metadata={"description": "The campaign's cost shared by the variants' sent messages."})
    messages = fields.Nested(MessageFigures)
    responses = fields.Nested(ResponsesFigures)
    leads = fields.Integer()
    deals = fields.Integer()
    won_deals = fields.Integer()
    won_value = Money()
    return_on_cost = fields.Decimal(as_string=True, allow_none=True)


class ResultsSchema(Schema):
    campaign_id = fields.Integer()
    status = fields.String()
    cost = Money()
    messages = fields.Nested(MessageFigures)
    responses = fields.Nested(ResponsesFigures)
    leads = fields.Integer()
    deals = fields.Integer()
    won_deals = fields.Integer()
    won_value = Money()
    return_on_cost = fields.Decimal(as_string=True, allow_none=True,
                                    metadata={"description": "(won value − cost) / cost; null when the cost is 0"})
    variants = fields.List(fields.Nested(VariantResultSchema))


CampaignPageSchema = page_schema(CampaignSchema)
RecipientPageSchema = page_schema(RecipientSchema)


def _load(campaign_id: int):
    return campaigns.get_campaign_or_raise(session(), user=current_user(), campaign_id=campaign_id)


@blp.route("", methods=["POST"])
@blp.arguments(CampaignCreateSchema)
@blp.response(201, CampaignSchema)
@blp.throttled()
def create_campaign(data):
    """A draft campaign of the caller's (its code made from its name); variants A/B with their weights."""
    throttle().attempt(KIND, current_user().id)
    return campaigns.create_campaign(session(), actor=current_user(), **data)


@blp.route("", methods=["GET"])
@blp.arguments(CampaignListArgs, location="query")
@blp.response(200, CampaignPageSchema)
def list_campaigns(args):
    """Every campaign (company-wide objects), newest first."""
    return paginate(campaigns.list_campaigns(session(), user=current_user(), status=args.pop("status", None),
                                             search=args.pop("search", None)), args)


@blp.route("/<int:campaign_id>", methods=["GET"])
@blp.response(200, CampaignSchema)
def get_campaign(campaign_id):
    """One campaign."""
    return _load(campaign_id)


@blp.route("/<int:campaign_id>", methods=["PATCH"])
@blp.arguments(CampaignUpdateSchema)
@blp.response(200, CampaignSchema)
def update_campaign(changes, campaign_id):
    """Change a draft or scheduled campaign (its owner or an administrator); 409 once it is sending."""
    return campaigns.update_campaign(session(), actor=current_user(), campaign=_load(campaign_id), **changes)


@blp.route("/<int:campaign_id>", methods=["DELETE"])
@blp.response(204)
def delete_campaign(campaign_id):
    """Delete a draft (409 for a campaign that sent messages)."""
    campaigns.delete_campaign(session(), actor=current_user(), campaign=_load(campaign_id))


@blp.route("/<int:campaign_id>/send", methods=["POST"])
@blp.response(202)
@blp.throttled()
def send_campaign(campaign_id):
    """Send now, or at ``scheduled_at`` when it is in the future: 202 with the job that starts the sending
    (Location: /api/v1/jobs/{id}); 409 when the campaign is not a draft (sent, sending, scheduled, cancelled)."""
    campaign = _load(campaign_id)
    throttle().attempt(KIND, current_user().id)
    job = campaigns.send(session(), actor=current_user(), campaign=campaign, base_url=request.url_root.rstrip("/"))
    return accepted(job)


@blp.route("/<int:campaign_id>/cancel", methods=["POST"])
@blp.response(200, CampaignSchema)
def cancel_campaign(campaign_id):
    """Stop a scheduled or sending campaign (409 otherwise); messages not sent yet are skipped."""
    return campaigns.cancel(session(), actor=current_user(), campaign=_load(campaign_id))


@blp.route("/<int:campaign_id>/results", methods=["GET"])
@blp.response(200, ResultsSchema)
def campaign_results(campaign_id):
    """Cost, messages, responses (clicks all and unique), leads, deals, won deals and value, return on cost;
    per variant too. Figures are totals over the whole campaign (they name nobody)."""
    campaign = _load(campaign_id)
    return campaigns.results(session(), campaign, current_user())


@blp.route("/<int:campaign_id>/recipients", methods=["GET"])
@blp.arguments(RecipientArgs, location="query")
@blp.response(200, RecipientPageSchema)
def list_recipients(args, campaign_id):
    """The campaign's messages to the contacts the caller may read, with their status and why skipped."""
    campaign = _load(campaign_id)
    status = args.pop("status", None)
    query = campaigns.recipients(session(), user=current_user(), campaign=campaign)
    if status is not None:
        query = query.where(CampaignMessage.status == status)
    return paginate(query, args)


@blp.route("/<int:campaign_id>/responses", methods=["POST"])
@blp.arguments(ResponseCreateSchema)
@blp.response(201, ResponseSchema)
def create_response(data, campaign_id):
    """Record a reply or form response of a contact the caller may read (one that came outside crmpm's inbound
    e-mail): a lead attributed to the campaign, made with the caller's rights, unless the contact has an open
    lead or deal."""
    campaign = _load(campaign_id)
    contact = get_contact_or_raise(session(), user=current_user(), contact_id=data["contact_id"], field="contact_id")
    return responses.record_response(session(), campaign_id=campaign.id, kind=data["kind"], contact_id=contact.id,
                                     actor=current_user(), note=data["note"])

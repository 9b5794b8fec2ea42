"""Outbound webhooks: subscribe a URL to event types, read its delivery log, replay a delivery."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.common import Blueprint, PageArgs, Trimmed, current_user, page_schema, paginate, session
from crmpm.ratelimit import throttle
from crmpm.webhooks import DELIVERY_STATUSES
from crmpm.webhooks import services as webhooks

blp = Blueprint("webhooks", __name__, url_prefix="/webhooks",
                description="Outbound webhooks: signed POSTs of domain events (docs/integrations.md)")

class WebhookCreateSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                        metadata={"description": "An http(s) URL; private, loopback and link-local targets are "
                                                 "refused unless CRMPM_WEBHOOK_ALLOW_HOSTS allows them."})
    events = fields.List(fields.String(validate=validate.Length(min=1, max=60)), required=True,
                         validate=validate.Length(min=1, max=100),
                         metadata={"description": "Event types (crmpm.events.TYPES, listed in docs/integrations.md)."})
    secret = fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": "Signs each body (HMAC-SHA256); generated and returned once when left out."})
    description = Trimmed(load_default="", validate=validate.Length(max=500))


class WebhookUpdateSchema(Schema):
    url = fields.String(validate=validate.Length(min=1, max=2000))
    events = fields.List(fields.String(validate=validate.Length(min=1, max=60)), validate=validate.Length(min=1, max=100))
    secret = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "A new secret."})
    description = Trimmed(validate=validate.Length(max=500))
    active = fields.Boolean(metadata={"description": "true re-enables a disabled webhook (its failure count reset)."})


class WebhookSchema(Schema):
    id = fields.Integer()
    owner_id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    secret = fields.String(attribute="secret_masked", metadata={"description": "Masked: only its last characters."})
    active = fields.Boolean()
    description = fields.String()
    consecutive_failures = fields.Integer()
    disabled_at = fields.DateTime(allow_none=True)
    disabled_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(metadata={"description": "The secret in full: shown this once only."})


class DeliverySchema(Schema):
    id = fields.Integer()
    webhook_id = fields.Integer()
    event_id = fields.Integer()
    event_type = fields.String()
    attempts = fields.Integer()
    status = fields.String(metadata={"enum": list(DELIVERY_STATUSES)})
    status_code = fields.Integer(allow_none=True)
    duration_ms = fields.Integer(allow_none=True)
    response_excerpt = fields.String(allow_none=True, metadata={"description": "The start of the receiver's answer."})
    error = fields.String(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)


WebhookPageSchema = page_schema(WebhookSchema)
DeliveryPageSchema = page_schema(DeliverySchema)


@blp.route("", methods=["POST"])
@blp.arguments(WebhookCreateSchema)
@blp.response(201, WebhookCreatedSchema)
@blp.throttled()
def create_webhook(data):
    """Subscribe a URL to event types; the caller receives only the events they may read when each is sent."""
    throttle().attempt("webhook", current_user().id)
    return webhooks.create(session(), actor=current_user(), **data)


@blp.route("", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, WebhookPageSchema)
def list_webhooks(args):
    """The caller's webhooks, newest first (an administrator's list holds everyone's)."""
    return paginate(webhooks.list_(user=current_user()), args)


@blp.route("/<int:webhook_id>", methods=["GET"])
@blp.response(200, WebhookSchema)
def get_webhook(webhook_id):
    """One webhook (its owner and administrators only)."""
    return webhooks.get_or_raise(session(), user=current_user(), webhook_id=webhook_id)


@blp.route("/<int:webhook_id>", methods=["PATCH"])
@blp.arguments(WebhookUpdateSchema)
@blp.response(200, WebhookSchema)
def update_webhook(changes, webhook_id):
    """Change the URL, event types, description or secret; ``active``: false pauses, true re-enables."""
    webhook = webhooks.get_or_raise(session(), user=current_user(), webhook_id=webhook_id)
    return webhooks.update_(session(), webhook, actor=current_user(), changes=changes)


@blp.route("/<int:webhook_id>", methods=["DELETE"])
@blp.response(204)
def delete_webhook(webhook_id):
    """Remove a webhook and its delivery log."""
    webhook = webhooks.get_or_raise(session(), user=current_user(), webhook_id=webhook_id)
    webhooks.delete(session(), webhook, actor=current_user())


@blp.route("/<int:webhook_id>/deliveries", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, DeliveryPageSchema)
def list_deliveries(args, webhook_id):
    """The webhook's deliveries, newest first: status, status code, duration, the answer's start."""
    webhook = webhooks.get_or_raise(session(), user=current_user(), webhook_id=webhook_id)
    return paginate(webhooks.deliveries(webhook), args)


@blp.route("/<int:webhook_id>/deliveries/<int:delivery_id>/replay", methods=["POST"])
@blp.response(202, DeliverySchema)
@blp.throttled()
def replay_delivery(webhook_id, delivery_id):
    """Attempt a delivery again now, whatever became of it (the webhook must be active: 409 otherwise)."""
    webhook = webhooks.get_or_raise(session(), user=current_user(), webhook_id=webhook_id)
    delivery = webhooks.get_delivery_or_raise(session(), webhook, delivery_id)
    throttle().attempt("webhook-replay", current_user().id)
    return webhooks.replay(session(), webhook, delivery)

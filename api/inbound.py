"""Inbound channels: administrators' integrations, and the endpoints telephony, messengers and mail deliver to.

The delivery endpoints authenticate by the integration's own token (``accounts.inbound.integrations``), not a
user's; they are rate-limited per integration, bad tokens per client address, and capped in size
(``MAX_INBOUND_EVENT_LENGTH``, ``MAX_INBOUND_EMAIL_LENGTH``). A first delivery answers 201, a repeat of the same
external id 200 with what the first recorded.
"""

from __future__ import annotations

from flask import g, request
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from accounts.inbound import integrations, journal
from accounts.inbound.mail import MailError, ParsedMail, html_to_text, message_ids, one_message_id, parse_message
from accounts.inbound.models import IntegrationKind
from api.common import (
    Blueprint, Id, Name, PageArgs, Trimmed, current_user, page_schema, paginate, reads_no_grants, session,
)
from crmpm.errors import Invalid, Unauthenticated
from crmpm.limits import accepts_upload
from crmpm.ratelimit import client_address, throttle

channels_blp = Blueprint("integrations", __name__, url_prefix="/integrations",
                         description="Inbound channels (administrators): telephony, messengers, e-mail")
blp = Blueprint("inbound", __name__, url_prefix="/inbound",
                description="Deliveries from integrations, authenticated by the integration's token")

class Url(fields.Url):
    """An http or https address."""

    def __init__(self, **kwargs):
        super().__init__(schemes={"http", "https"}, validate=validate.Length(max=2000), **kwargs)


# Administration


class IntegrationCreateSchema(Schema):
    kind = fields.Enum(IntegrationKind, by_value=True, required=True)
    name = Name(required=True)
    region_node_id = Id(required=True, strict=True,
                        metadata={"description": "Where leads from unknown senders land and are routed from."})
    acting_user_id = Id(strict=True, metadata={
        "description": "Whose rights and name its records carry (default: the administrator creating it); it "
                       "attaches only to accounts and leads this user may change."})


class IntegrationUpdateSchema(Schema):
    name = Name()
    is_active = fields.Boolean()
    region_node_id = Id(strict=True)
    acting_user_id = Id(strict=True)


class IntegrationReadSchema(Schema):
    id = fields.Integer()
    kind = fields.Enum(IntegrationKind, by_value=True)
    name = fields.String()
    prefix = fields.String(metadata={"description": "The token's first characters, to tell tokens apart."})
    region_node_id = fields.Integer()
    acting_user_id = fields.Integer()
    is_active = fields.Boolean()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)


class IntegrationCreatedSchema(IntegrationReadSchema):
    token = fields.String(metadata={"description": "Shown this once; only its hash is kept."})


@channels_blp.route("", methods=["GET"])
@channels_blp.arguments(PageArgs, location="query")
@channels_blp.response(200, page_schema(IntegrationReadSchema))
@reads_no_grants
def list_integrations(args):
    """Every integration (administrators)."""
    return paginate(integrations.list_integrations(session(), actor=current_user()), args)


@channels_blp.route("", methods=["POST"])
@channels_blp.arguments(IntegrationCreateSchema)
@channels_blp.response(201, IntegrationCreatedSchema)
def create_integration(data):
    """A new integration; its token is in this answer only."""
    integration, token = integrations.create_integration(session(), actor=current_user(), **data)
    return _with_token(integration, token)


@channels_blp.route("/<int:integration_id>", methods=["GET"])
@channels_blp.response(200, IntegrationReadSchema)
@reads_no_grants
def get_integration(integration_id):
    """One integration."""
    return integrations.get_integration_or_raise(session(), actor=current_user(), integration_id=integration_id)


@channels_blp.route("/<int:integration_id>", methods=["PATCH"])
@channels_blp.arguments(IntegrationUpdateSchema)
@channels_blp.response(200, IntegrationReadSchema)
def update_integration(data, integration_id):
    """Rename it, switch it off or on, or change where its leads land and whose rights it acts with."""
    integration = integrations.get_integration_or_raise(session(), actor=current_user(), integration_id=integration_id)
    return integrations.update_integration(session(), actor=current_user(), integration=integration, **data)


@channels_blp.route("/<int:integration_id>", methods=["DELETE"])
@channels_blp.response(204)
@reads_no_grants
def delete_integration(integration_id):
    """Remove it (the interactions it recorded stay in the journal)."""
    integration = integrations.get_integration_or_raise(session(), actor=current_user(), integration_id=integration_id)
    integrations.delete_integration(session(), actor=current_user(), integration=integration)


@channels_blp.route("/<int:integration_id>/rotate-token", methods=["POST"])
@channels_blp.response(200, IntegrationCreatedSchema)
@reads_no_grants
def rotate_token(integration_id):
    """A new token; the old one stops working at once."""
    integration = integrations.get_integration_or_raise(session(), actor=current_user(), integration_id=integration_id)
    token = integrations.rotate_token(session(), actor=current_user(), integration=integration)
    return _with_token(integration, token)


def _with_token(integration, token: str) -> dict:
    return {**{key: getattr(integration, key) for key in IntegrationReadSchema._declared_fields}, "token": token}


# Deliveries


def integration_token(kind: IntegrationKind):
    """Mark a view as authenticated by an integration token of ``kind`` (401 without one, 403 for another kind);
    the integration is ``g.integration``. Checked before the body is read."""

    def authenticate():
        with throttle().failures("inbound-address", client_address(), failure=Unauthenticated):
            integration = integrations.integration_for_token(
                session(), header=request.headers.get("Authorization"), kind=kind)
        throttle().attempt("inbound", integration.id)
        g.integration = integration

    def mark(view):
        view.authenticates_itself = authenticate
        return view

    return mark


class RecordedSchema(Schema):
    event_id = fields.Integer()
    created = fields.Boolean(metadata={"description": "False: this external id was delivered before."})
    interaction_id = fields.Integer(allow_none=True)
    account_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True)
    deal_id = fields.Integer(allow_none=True)
    lead_id = fields.Integer(allow_none=True)


def Line(max_length: int, *, min_length: int = 0, **kwargs) -> fields.String:  # noqa: N802 - a field factory
    """A string of at most ``max_length`` characters without NUL (which no database column holds), trimmed."""
    return Trimmed(validate=[validate.Length(min=min_length, max=max_length), _no_nul], **kwargs)


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("NUL characters are not allowed.")


class CallSchema(Schema):
    external_id = Line(500, min_length=1, required=True,
                       metadata={"description": "The exchange's id of the call; the same id again updates "
                                                "the one interaction (duration, recording)."})
    from_ = Line(40, min_length=1, required=True, data_key="from")
    to = Line(40, min_length=1, required=True)
    direction = fields.String(required=True, validate=validate.OneOf(journal.CallDirection.ALL))
    started_at = fields.AwareDateTime(required=True, metadata={"description": "With its time zone."})
    duration = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=24 * 3600),
                              metadata={"description": "Seconds of conversation."})
    recording_url = Url(allow_none=True, load_default=None)


class MessageSchema(Schema):
    external_id = Line(500, min_length=1, required=True)
    channel = Line(100, load_default="", metadata={"description": "whatsapp, telegram, site chat…"})
    direction = fields.String(load_default="in", validate=validate.OneOf(("in", "out")))
    sent_at = fields.AwareDateTime(required=True)
    phone = Line(40, allow_none=True, load_default=None)
    email = Line(254, allow_none=True, load_default=None)
    name = Line(200, load_default="")
    text = Line(100_000, required=True)


class EmailSchema(Schema):
    from_ = Line(320, min_length=1, required=True, data_key="from")
    from_name = Line(200, load_default="")
    to = fields.List(Line(320), load_default=list, validate=validate.Length(max=500))
    cc = fields.List(Line(320), load_default=list, validate=validate.Length(max=500))
    subject = Line(2000, load_default="")
    text = Line(5_000_000, load_default="")
    html = Line(5_000_000, load_default="", metadata={"description": "Read (as text) only when text is empty."})
    message_id = Line(500, allow_none=True, load_default=None)
    in_reply_to = Line(5000, allow_none=True, load_default=None)
    references = Line(20_000, allow_none=True, load_default=None)
    sent_at = fields.AwareDateTime(allow_none=True, load_default=None)
    attachments = fields.List(Line(300), load_default=list, validate=validate.Length(max=200),
                              metadata={"description": "File names only."})

    @validates_schema
    def _message_id(self, data, **_kwargs):
        if data.get("message_id") and one_message_id(data["message_id"]) is None:
            raise ValidationError("Not a Message-ID.", "message_id")


def _answer(recorded: journal.Recorded):
    interaction = recorded.interaction
    links = {key: getattr(interaction, key) if interaction is not None else None
             for key in ("account_id", "contact_id", "deal_id", "lead_id")}
    return ({"event_id": recorded.event.id, "created": recorded.created,
             "interaction_id": interaction.id if interaction is not None else None, **links},
            201 if recorded.created else 200)


@blp.route("/calls", methods=["POST"])
@blp.arguments(CallSchema)
@blp.response(201, RecordedSchema)
@blp.alt_response(200, schema=RecordedSchema, description="Delivered before: what the first delivery recorded.")
@blp.throttled()
@accepts_upload("MAX_INBOUND_EVENT_LENGTH")
@integration_token(IntegrationKind.telephony)
def deliver_call(data):
    """A call event from a telephony integration."""
    return _answer(journal.record_call(
        session(), integration=g.integration, external_id=data["external_id"], from_number=data["from_"],
        to_number=data["to"], direction=data["direction"], started_at=data["started_at"],
        duration_seconds=data["duration"], recording_url=data["recording_url"]))


@blp.route("/messages", methods=["POST"])
@blp.arguments(MessageSchema)
@blp.response(201, RecordedSchema)
@blp.alt_response(200, schema=RecordedSchema, description="Delivered before: what the first delivery recorded.")
@blp.throttled()
@accepts_upload("MAX_INBOUND_EVENT_LENGTH")
@integration_token(IntegrationKind.messenger)
def deliver_message(data):
    """A messenger or chat message from a messenger integration."""
    return _answer(journal.record_message(session(), integration=g.integration, **data))


@blp.route("/email", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {
    "application/json": {"schema": EmailSchema},
    "message/rfc822": {"schema": {"type": "string", "format": "binary"}}}})
@blp.response(201, RecordedSchema)
@blp.alt_response(200, schema=RecordedSchema, description="Delivered before: what the first delivery recorded.")
@blp.throttled()
@accepts_upload("MAX_INBOUND_EMAIL_LENGTH")
@integration_token(IntegrationKind.email)
def deliver_email():
    """An e-mail: JSON (the EmailSchema fields) or the raw message with ``Content-Type: message/rfc822``."""
    if request.mimetype == "message/rfc822":
        try:
            mail = parse_message(request.get_data(cache=False))
        except MailError as exc:
            raise Invalid("the message cannot be read: {problem}", problem=str(exc),
                          errors={exc.field: [str(exc)]}) from None
    else:
        mail = _json_mail()
    return _answer(journal.record_email(session(), integration=g.integration, mail=mail))


def _json_mail() -> ParsedMail:
    payload = request.get_json(silent=True) if request.is_json else None
    if not isinstance(payload, dict):
        raise Invalid("send the e-mail as a JSON object or as message/rfc822", errors={"body": ["not a JSON object"]})
    try:
        data = EmailSchema().load(payload)
    except ValidationError as exc:
        raise Invalid("the e-mail's fields are not valid", errors=exc.normalized_messages()) from None
    return ParsedMail(sender=data["from_"], sender_name=data["from_name"], to=data["to"], cc=data["cc"],
                      subject=data["subject"], text=data["text"] or html_to_text(data["html"]),
                      message_id=one_message_id(data["message_id"]), in_reply_to=message_ids(data["in_reply_to"]),
                      references=message_ids(data["references"]), sent_at=data["sent_at"],
                      attachments=data["attachments"])

"""Domain events for integrators: what happened, in order, to what the caller may read."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from accounts.events import visible_events
from api.common import Blueprint, current_user, session
from crmpm import events

blp = Blueprint("events", __name__, url_prefix="/events", description="Domain events, oldest first")


class EventArgs(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**63 - 1),
                           metadata={"description": "Only events with a greater id: the last id you received."})
    type = fields.List(fields.String(validate=validate.OneOf(sorted(events.TYPES))), load_default=list,
                       metadata={"description": "Only these types (repeat the parameter for several)."})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class EventSchema(Schema):
    id = fields.Integer()
    type = fields.String()
    version = fields.Integer()
    subject_type = fields.String()
    subject_id = fields.Integer(allow_none=True)
    payload = fields.Dict()
    actor_id = fields.Integer(allow_none=True)
    occurred_at = fields.DateTime()


class EventPageSchema(Schema):
    items = fields.List(fields.Nested(EventSchema))
    last_id = fields.Integer(metadata={"description": "Pass as ``after`` for the next page (unchanged when empty)."})


@blp.route("", methods=["GET"])
@blp.arguments(EventArgs, location="query")
@blp.response(200, EventPageSchema)
def list_events(args):
    """Events after ``after``, oldest first, only those about what the caller may read now.

    An event appears once the transaction that recorded it, and every older one, has ended, so a
    reader that keeps the last id it saw and asks again from there misses nothing.
    """
    user = current_user()
    page = events.page(session(), after=args["after"], types=args["type"] or None, limit=args["limit"],
                       visible=visible_events(session(), user=user))
    return {"items": page, "last_id": page[-1].id if page else args["after"]}

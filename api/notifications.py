"""The caller's notifications (the bell: list, unread count, mark read) and their channels per kind."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validates

from api.common import Blueprint, PageArgs, current_user, page_schema, paginate, reads_no_grants, session
from crmpm import notifications
from crmpm.notifications import KINDS, Channels

blp = Blueprint("me-notifications", __name__, url_prefix="/me", description="The caller's notifications and preferences")


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(KINDS)})
    text = fields.String(metadata={"description": "One line, in the caller's language, times in their time zone."})
    subject_type = fields.String(allow_none=True, metadata={"description": "What it is about: tasks, deals, leads, "
                                                            "budget_changes, jobs, projects, webhooks, or none."})
    subject_id = fields.Integer(allow_none=True)
    url = fields.String(allow_none=True, metadata={"description": "The path of the page it links to, if any."})
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationPageSchema(page_schema(NotificationSchema)):
    unread = fields.Integer(metadata={"description": "How many of the caller's notifications are unread in all."})


class NotificationListArgs(PageArgs):
    unread = fields.Boolean(load_default=False, metadata={"description": "Only the unread ones."})


class ReadAllSchema(Schema):
    marked = fields.Integer(metadata={"description": "How many were unread and are now read."})
    unread = fields.Integer()


class ChannelsSchema(Schema):
    in_app = fields.Boolean(required=True)
    email = fields.Boolean(required=True)


class PreferencesSchema(Schema):
    preferences = fields.Dict(keys=fields.String(), values=fields.Nested(ChannelsSchema), required=True, metadata={
        "description": "Channels by kind (" + ", ".join(KINDS) + "). Reading: every kind. Writing: the kinds "
                       "given change, the others keep theirs."})

    @validates("preferences")
    def _known(self, value, **_kwargs):
        unknown = sorted(set(value) - set(KINDS))
        if unknown:
            raise ValidationError(f"unknown kinds: {', '.join(unknown)[:200]}")


def _item(note) -> dict:
    user = current_user()
    return {"id": note.id, "kind": note.kind, "text": notifications.text_of(note, user),
            "subject_type": note.subject_type, "subject_id": note.subject_id, "url": notifications.url_of(note),
            "created_at": note.created_at, "read_at": note.read_at}


def _preferences(chosen: dict[str, Channels]) -> dict:
    return {"preferences": {kind: {"in_app": channels.in_app, "email": channels.email}
                            for kind, channels in chosen.items()}}


@blp.route("/notifications", methods=["GET"])
@blp.arguments(NotificationListArgs, location="query")
@blp.response(200, NotificationPageSchema)
@reads_no_grants
def list_notifications(args):
    """The caller's notifications, newest first (``unread=true``: only unread), and their unread count."""
    user = current_user()
    page = paginate(notifications.list_for(session(), user=user, unread=args.pop("unread")), args)
    return {**page, "items": [_item(note) for note in page["items"]],
            "unread": notifications.unread_count(session(), user=user)}


@blp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@blp.response(200, NotificationSchema)
@reads_no_grants
def mark_read(notification_id):
    """Mark one of the caller's notifications read (404 for anyone else's)."""
    return _item(notifications.mark_read(session(), user=current_user(), notification_id=notification_id))


@blp.route("/notifications/read-all", methods=["POST"])
@blp.response(200, ReadAllSchema)
@reads_no_grants
def mark_all_read():
    """Mark all the caller's notifications read."""
    return {"marked": notifications.mark_all_read(session(), user=current_user()), "unread": 0}


@blp.route("/notification-preferences", methods=["GET"])
@blp.response(200, PreferencesSchema)
@reads_no_grants
def get_preferences():
    """The caller's channels (in the application, by e-mail) for every kind of notification."""
    return _preferences(notifications.preferences_of(session(), user_id=current_user().id))


@blp.route("/notification-preferences", methods=["PUT"])
@blp.arguments(PreferencesSchema)
@blp.response(200, PreferencesSchema)
@reads_no_grants
def set_preferences(data):
    """Set the caller's channels for the kinds given; the answer holds every kind."""
    choices = {kind: Channels(**channels) for kind, channels in data["preferences"].items()}
    return _preferences(notifications.set_preferences(session(), user=current_user(), choices=choices))

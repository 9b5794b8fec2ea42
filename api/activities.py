"""Interactions (the journal of client touches), tasks and reminders, satisfaction answers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from accounts import activities
from accounts import deals as deal_services
from accounts import leads as lead_services
from accounts.models import Direction, InteractionKind, SurveyKind, TaskStatus
from api.accounts import ExternalId, Text, account_field, contact_field, user_field
from api.common import Blueprint, Id, current_user, page_schema, session
from api.export import ListArgs, page_or_csv

interactions_blp = Blueprint("interactions", __name__, url_prefix="/interactions",
                             description="Every touch of a client: calls, emails, meetings, messages")
tasks_blp = Blueprint("tasks", __name__, url_prefix="/tasks", description="Tasks and reminders")
surveys_blp = Blueprint("surveys", __name__, url_prefix="/surveys", description="Satisfaction answers (CSAT, NPS)")


def deal_field(field, deal_id):
    """The readable deal ``deal_id`` (None stays None), or a 404 naming ``field``."""
    if deal_id is None:
        return None
    return deal_services.get_deal_or_raise(session(), user=current_user(), deal_id=deal_id, field=field)


def lead_field(field, lead_id):
    """The readable lead ``lead_id`` (None stays None), or a 404 naming ``field``."""
    if lead_id is None:
        return None
    return lead_services.get_lead_or_raise(session(), user=current_user(), lead_id=lead_id, field=field)


def _links(data: dict) -> dict:
    return {
        "account": account_field("account_id", data.pop("account_id", None)),
        "contact": contact_field("contact_id", data.pop("contact_id", None)),
        "deal": deal_field("deal_id", data.pop("deal_id", None)),
        "lead": lead_field("lead_id", data.pop("lead_id", None)),
    }


class LinkSchema(Schema):
    account_id = Id(strict=True, allow_none=True)
    contact_id = Id(strict=True, allow_none=True)
    deal_id = Id(strict=True, allow_none=True)
    lead_id = Id(strict=True, allow_none=True)


class InteractionCreateSchema(LinkSchema):
    kind = fields.Enum(InteractionKind, by_value=True, required=True)
    direction = fields.Enum(Direction, by_value=True, required=True)
    occurred_at = fields.AwareDateTime(required=True, metadata={"description": "With its time zone."})
    user_id = Id(strict=True, allow_none=True, metadata={"description": "Who; default: the caller."})
    subject = Text(500, load_default="")
    summary = Text(100_000, load_default="")
    duration_minutes = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=24 * 60))
    external_id = ExternalId()


class InteractionReadSchema(Schema):
    id = fields.Integer()
    external_id = fields.String(allow_none=True)
    account_id = Id(allow_none=True)
    contact_id = Id(allow_none=True)
    deal_id = Id(allow_none=True)
    lead_id = Id(allow_none=True)
    kind = fields.Enum(InteractionKind, by_value=True)
    direction = fields.Enum(Direction, by_value=True)
    occurred_at = fields.DateTime()
    user_id = Id(allow_none=True)
    subject = fields.String()
    summary = fields.String()
    duration_minutes = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class InteractionListArgs(ListArgs):
    account_id = Id()
    contact_id = Id()
    deal_id = Id()
    lead_id = Id()
    kind = fields.Enum(InteractionKind, by_value=True)
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()


InteractionPageSchema = page_schema(InteractionReadSchema)


@interactions_blp.route("", methods=["POST"])
@interactions_blp.arguments(InteractionCreateSchema)
@interactions_blp.response(201, InteractionReadSchema)
def create_interaction(data):
    """Log a touch of a client, linked to its account (or lead) and optionally a contact and a deal."""
    links = _links(data)
    who = user_field("user_id", data.pop("user_id", None))
    return activities.create_interaction(session(), actor=current_user(), user=who, **links, **data)


@interactions_blp.route("", methods=["GET"])
@interactions_blp.arguments(InteractionListArgs, location="query")
@interactions_blp.response(200, InteractionPageSchema)
def list_interactions(args):
    """The interactions the caller may read, newest first."""
    query = activities.list_interactions(
        session(), user=current_user(), account_id=args.get("account_id"), contact_id=args.get("contact_id"),
        deal_id=args.get("deal_id"), lead_id=args.get("lead_id"), kind=args.get("kind"), since=args.get("since"),
        until=args.get("until"))
    return page_or_csv(query, args, InteractionReadSchema, filename="interactions")


@interactions_blp.route("/<int:interaction_id>", methods=["GET"])
@interactions_blp.response(200, InteractionReadSchema)
def get_interaction(interaction_id):
    """One interaction."""
    return activities.get_interaction_or_raise(session(), user=current_user(), interaction_id=interaction_id)


# Tasks


class TaskCreateSchema(LinkSchema):
    title = Text(500, required=True, min_length=1)
    due_at = fields.AwareDateTime(required=True)
    remind_at = fields.AwareDateTime(allow_none=True)
    assignee_id = Id(strict=True, allow_none=True, metadata={"description": "Default: the caller."})
    external_id = ExternalId()


class TaskUpdateSchema(Schema):
    title = Text(500, min_length=1)
    due_at = fields.AwareDateTime()
    remind_at = fields.AwareDateTime(allow_none=True)
    assignee_id = Id(strict=True, allow_none=True)
    status = fields.Enum(TaskStatus, by_value=True)


class TaskReadSchema(Schema):
    id = fields.Integer()
    external_id = fields.String(allow_none=True)
    title = fields.String()
    account_id = Id(allow_none=True)
    deal_id = Id(allow_none=True)
    contact_id = Id(allow_none=True)
    lead_id = Id(allow_none=True)
    assignee_id = Id(allow_none=True)
    due_at = fields.DateTime()
    remind_at = fields.DateTime(allow_none=True)
    status = fields.Enum(TaskStatus, by_value=True)
    created_by_id = Id(allow_none=True)
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


class TaskListArgs(ListArgs):
    assignee_id = Id()
    status = fields.Enum(TaskStatus, by_value=True)
    overdue = fields.Boolean(load_default=False, metadata={"description": "Open and past due."})
    reminders_due = fields.Boolean(load_default=False, metadata={"description": "Open with a reminder now due."})
    account_id = Id()
    deal_id = Id()
    mine = fields.Boolean(load_default=False, metadata={"description": "Only tasks assigned to the caller."})


TaskPageSchema = page_schema(TaskReadSchema)


def _task(task_id):
    return activities.get_task_or_raise(session(), user=current_user(), task_id=task_id)


@tasks_blp.route("", methods=["POST"])
@tasks_blp.arguments(TaskCreateSchema)
@tasks_blp.response(201, TaskReadSchema)
def create_task(data):
    """Create a task for an account, deal, contact or lead, assigned to an active user."""
    links = _links(data)
    assignee = user_field("assignee_id", data.pop("assignee_id", None))
    return activities.create_task(session(), actor=current_user(), assignee=assignee, **links, **data)


@tasks_blp.route("", methods=["GET"])
@tasks_blp.arguments(TaskListArgs, location="query")
@tasks_blp.response(200, TaskPageSchema)
def list_tasks(args):
    """The tasks the caller may read, soonest due first; ``overdue=true`` for the overdue list."""
    assignee_id = current_user().id if args["mine"] else args.get("assignee_id")
    query = activities.list_tasks(session(), user=current_user(), assignee_id=assignee_id, status=args.get("status"),
                                  overdue=args["overdue"], reminders_due=args["reminders_due"],
                                  account_id=args.get("account_id"), deal_id=args.get("deal_id"))
    return page_or_csv(query, args, TaskReadSchema, filename="tasks")


@tasks_blp.route("/<int:task_id>", methods=["GET"])
@tasks_blp.response(200, TaskReadSchema)
def get_task(task_id):
    """One task."""
    return _task(task_id)


@tasks_blp.route("/<int:task_id>", methods=["PATCH"])
@tasks_blp.arguments(TaskUpdateSchema)
@tasks_blp.response(200, TaskReadSchema)
def update_task(data, task_id):
    """Change a task, reassign it, or mark it done or cancelled."""
    task = _task(task_id)
    if "assignee_id" in data:
        data["assignee"] = user_field("assignee_id", data.pop("assignee_id"))
    return activities.update_task(session(), actor=current_user(), task=task, **data)


# Satisfaction


class AnswerCreateSchema(Schema):
    account_id = Id(required=True, strict=True)
    deal_id = Id(strict=True, allow_none=True)
    contact_id = Id(strict=True, allow_none=True)
    kind = fields.Enum(SurveyKind, by_value=True, required=True)
    score = fields.Integer(required=True, strict=True, metadata={"description": "CSAT 1-5, NPS 0-10."})
    comment = Text(10_000, load_default="")
    answered_at = fields.AwareDateTime()


class AnswerReadSchema(Schema):
    id = fields.Integer()
    account_id = Id()
    deal_id = Id(allow_none=True)
    contact_id = Id(allow_none=True)
    kind = fields.Enum(SurveyKind, by_value=True)
    score = fields.Integer()
    comment = fields.String()
    answered_at = fields.DateTime()


class AnswerListArgs(ListArgs):
    account_id = Id()
    deal_id = Id()
    kind = fields.Enum(SurveyKind, by_value=True)


AnswerPageSchema = page_schema(AnswerReadSchema)


@surveys_blp.route("", methods=["POST"])
@surveys_blp.arguments(AnswerCreateSchema)
@surveys_blp.response(201, AnswerReadSchema)
def record_answer(data):
    """Record a CSAT or NPS answer about an account and optionally one of its deals (projects)."""
    account = account_field("account_id", data.pop("account_id"))
    deal = deal_field("deal_id", data.pop("deal_id", None))
    contact = contact_field("contact_id", data.pop("contact_id", None))
    return activities.record_answer(session(), actor=current_user(), account=account, deal=deal, contact=contact,
                                    **data)


@surveys_blp.route("", methods=["GET"])
@surveys_blp.arguments(AnswerListArgs, location="query")
@surveys_blp.response(200, AnswerPageSchema)
def list_answers(args):
    """The satisfaction answers the caller may read, newest first."""
    query = activities.list_answers(session(), user=current_user(), account_id=args.get("account_id"),
                                    deal_id=args.get("deal_id"), kind=args.get("kind"))
    return page_or_csv(query, args, AnswerReadSchema, filename="surveys")

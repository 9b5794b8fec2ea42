"""What clients did on the portal, for staff: their decisions on a project's milestones and acts; asking surveys."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from accounts.portal import approvals, surveys
from api.common import Blueprint, Id, PageArgs, Trimmed, current_user, page_schema, paginate, session
from eps import services

# Named so: the portal's pages have a ``portal_actions`` blueprint and its staff pages a ``portal_staff`` one.
blp = Blueprint("portal_decisions", __name__, url_prefix="",
                description="The client portal: clients' approvals of milestones and acts, satisfaction surveys asked")


class ApprovalReadSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    subject = fields.String(metadata={"description": "milestone | act"})
    subject_id = fields.Integer(metadata={"description": "the billing milestone's id, or the invoice's (its act)"})
    decision = fields.String(metadata={"description": "approved | rejected"})
    comment = fields.String()
    user_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True)
    at = fields.DateTime()


ApprovalPageSchema = page_schema(ApprovalReadSchema)


class SurveyRequestSchema(Schema):
    kind = fields.String(load_default="csat", validate=validate.OneOf(["csat", "nps"]))
    contact_id = Id(allow_none=True, load_default=None)
    milestone_id = Id(allow_none=True, load_default=None)
    question = Trimmed(load_default="", validate=validate.Length(max=surveys.QUESTION_LENGTH))


class SurveyRequestReadSchema(Schema):
    id = fields.Integer()
    account_id = fields.Integer()
    contact_id = fields.Integer(allow_none=True)
    project_id = fields.Integer(allow_none=True)
    deal_id = fields.Integer(allow_none=True)
    milestone_id = fields.Integer(allow_none=True)
    kind = fields.String()
    question = fields.String()
    asked_at = fields.DateTime()
    answered_at = fields.DateTime(allow_none=True)
    answer_id = fields.Integer(allow_none=True)


def _project(project_id: int):
    return services.get_project_or_raise(session(), user=current_user(), project_id=project_id)


@blp.route("/projects/<int:project_id>/portal-approvals", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, ApprovalPageSchema)
def list_approvals(args, project_id):
    """Clients' decisions on the project's billing milestones and acts, newest first (read rights); the latest
    on each counts."""
    return paginate(approvals.list_for_project(session(), user=current_user(), project=_project(project_id)), args)


@blp.route("/projects/<int:project_id>/survey-requests", methods=["POST"])
@blp.arguments(SurveyRequestSchema)
@blp.response(201, SurveyRequestReadSchema)
def ask_survey(data, project_id):
    """Ask the project's account's client users (or one contact's) a CSAT or NPS survey on the portal (edit
    rights on the project)."""
    return surveys.ask(session(), actor=current_user(), project=_project(project_id), **data)

"""Timesheets through the API (``wbs.resources.timesheets``): a resource's week, submitting it, the approval
queue, approving or rejecting a sheet's hours per project, and period locks."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from api.common import Blueprint, Id, PageArgs, current_user, page_schema, paginate, session
from eps import services as eps_services
from wbs.resources import timesheets
from wbs.resources.timesheet_models import NOTE_LENGTH, REASON_LENGTH

blp = Blueprint("timesheets", __name__, url_prefix="",
                description="Timesheets: hours booked per activity and day, approved per project; period locks")

WEEK = {"description": "the week's Monday, YYYY-MM-DD"}


class Hours(fields.Decimal):
    """Hours from 0 to 24, a JSON string or number, answered as a string with two decimals (quarter hours are
    checked by the service, naming the line). The bounds are checked here, not by a validator: on a string
    field they would put numeric bounds into the spec that no client can read."""

    def __init__(self, **kwargs):
        super().__init__(places=None, as_string=True, allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("Not a valid number of hours.")
        hours = super()._deserialize(value, attr, data, **kwargs)
        if not hours.is_finite() or not 0 <= hours <= 24:
            raise ValidationError("From 0 to 24.")
        return hours

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{value:.2f}"


class TimesheetLineSchema(Schema):
    activity_id = Id(required=True)
    day = fields.Date(required=True)
    hours = Hours(required=True, metadata={"description": "0 to 24 in quarter hours; 0 books nothing"})
    note = fields.String(load_default="", validate=validate.Length(max=NOTE_LENGTH))


class TimesheetLineReadSchema(Schema):
    activity_id = Id()
    project_id = Id()
    day = fields.Date()
    hours = Hours()
    note = fields.String()


class TimesheetWeekSaveSchema(Schema):
    lines = fields.List(fields.Nested(TimesheetLineSchema), required=True,
                        validate=validate.Length(max=timesheets.MAX_LINES))


class TimesheetDecisionReadSchema(Schema):
    project_id = Id()
    status = fields.String()
    decided_by_id = Id(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    reason = fields.String()


class TimesheetActivitySchema(Schema):
    activity_id = Id()
    code = fields.String()
    name = fields.String()
    project_id = Id()
    project_code = fields.String()
    project_name = fields.String()
    locked_through = fields.Date(allow_none=True, metadata={"description": "days up to this one are locked"})


class TimesheetWeekSchema(Schema):
    id = Id(allow_none=True, metadata={"description": "the timesheet's id; null before the first save"})
    resource_id = Id()
    week_start = fields.Date()
    status = fields.String(metadata={"description": "draft, submitted, approved or rejected"})
    lines = fields.List(fields.Nested(TimesheetLineReadSchema))
    hidden_hours = Hours(metadata={"description": "hours on projects the caller may not read"})
    decisions = fields.List(fields.Nested(TimesheetDecisionReadSchema))
    activities = fields.List(fields.Nested(TimesheetActivitySchema),
                             metadata={"description": "the resource's assigned activities the caller may read"})


class TimesheetApprovalSchema(Schema):
    decision_id = Id()
    timesheet_id = Id()
    resource_id = Id()
    resource_name = fields.String()
    week_start = fields.Date()
    project_id = Id()
    project_code = fields.String()
    project_name = fields.String()
    hours = Hours()
    submitted_at = fields.DateTime(allow_none=True)


class TimesheetDecideSchema(Schema):
    project_id = Id(required=True)


class TimesheetRejectSchema(TimesheetDecideSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=REASON_LENGTH))


class TimesheetLockCreateSchema(Schema):
    eps_node_id = Id(allow_none=True, load_default=None,
                     metadata={"description": "the node below which to lock; null for the whole company"})
    locked_through = fields.Date(required=True)


class TimesheetLockReadSchema(Schema):
    id = Id()
    eps_node_id = Id(allow_none=True)
    locked_through = fields.Date()
    created_by_id = Id(allow_none=True)
    created_at = fields.DateTime()


def _week(resource_id, week):
    db, user = session(), current_user()
    resource = timesheets.resource_of_sheets_or_raise(db, user=user, resource_id=resource_id)
    return resource, timesheets.parse_week(week)


def _view(resource, week):
    return timesheets.sheet_view(session(), user=current_user(), resource=resource, week=week)


@blp.route("/timesheets/<int:resource_id>/<week>", methods=["GET"])
@blp.response(200, TimesheetWeekSchema)
def read_week(resource_id, week):
    """A resource's week: its own user sees all of it; others only the lines of projects they may read."""
    return _view(*_week(resource_id, week))


@blp.route("/timesheets/<int:resource_id>/<week>", methods=["PUT"])
@blp.arguments(TimesheetWeekSaveSchema)
@blp.response(200, TimesheetWeekSchema)
def save_week(data, resource_id, week):
    """Replace the week's lines (the resource's own user, a draft or rejected sheet), checked whole: an error
    names each bad line's field (``lines.<n>.day``, ``.hours``, ``.activity_id``) and saves nothing."""
    resource, monday = _week(resource_id, week)
    timesheets.save_week(session(), actor=current_user(), resource=resource, week=monday, lines=data["lines"])
    return _view(resource, monday)


@blp.route("/timesheets/<int:resource_id>/<week>/submit", methods=["POST"])
@blp.response(200, TimesheetWeekSchema)
def submit_week(resource_id, week):
    """Submit the week: each project with hours not yet approved is asked for a decision."""
    resource, monday = _week(resource_id, week)
    timesheets.submit(session(), actor=current_user(), resource=resource, week=monday)
    return _view(resource, monday)


@blp.route("/timesheets/approvals", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(TimesheetApprovalSchema))
def approval_queue(args):
    """The hours waiting for the caller's decision: pending projects they may edit, oldest submission first."""
    return paginate(timesheets.approval_queue(session(), user=current_user()), args, scalars=False)


def _decided(timesheet_id, data, decide, **extra):
    db, user = session(), current_user()
    sheet = timesheets.get_timesheet_or_raise(db, user=user, timesheet_id=timesheet_id)
    decide(db, actor=user, sheet=sheet, project_id=data["project_id"], **extra)
    resource = timesheets.resource_of_sheets_or_raise(db, user=user, resource_id=sheet.resource_id)
    return _view(resource, sheet.week_start)


@blp.route("/timesheets/<int:timesheet_id>/approve", methods=["POST"])
@blp.arguments(TimesheetDecideSchema)
@blp.response(200, TimesheetWeekSchema)
def approve(data, timesheet_id):
    """Approve the sheet's hours on one project (edit rights on it): they become the assignments' actual units
    and costs, rolled up to the activity, the project and the EPS."""
    return _decided(timesheet_id, data, timesheets.approve)


@blp.route("/timesheets/<int:timesheet_id>/reject", methods=["POST"])
@blp.arguments(TimesheetRejectSchema)
@blp.response(200, TimesheetWeekSchema)
def reject(data, timesheet_id):
    """Reject the sheet's hours on one project (edit rights on it) with a reason; the owner corrects and
    submits again."""
    return _decided(timesheet_id, data, timesheets.reject, reason=data["reason"])


@blp.route("/timesheet-locks", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(TimesheetLockReadSchema))
def list_locks(args):
    """The locks the caller may see, newest first (the latest of each scope is in force)."""
    return paginate(timesheets.list_locks(session(), user=current_user()), args)


@blp.route("/timesheet-locks", methods=["POST"])
@blp.arguments(TimesheetLockCreateSchema)
@blp.response(201, TimesheetLockReadSchema)
def create_lock(data):
    """Lock timesheets through a day: company-wide (administrators) or below an EPS node (budget rights)."""
    db, user = session(), current_user()
    node = None
    if data["eps_node_id"] is not None:
        node = eps_services.get_node_or_raise(db, user=user, node_id=data["eps_node_id"], field="eps_node_id")
    return timesheets.set_lock(db, actor=user, eps_node=node, locked_through=data["locked_through"])

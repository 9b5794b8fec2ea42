"""A project's named baselines: take one, list them, choose the primary, secondary and tertiary, rename, delete,
and each activity's variance against one (``wbs.baselines``, ``wbs.scheduling.variance``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.common import Blueprint, Id, Money, Name, PageArgs, current_user, page_schema, paginate, session
from api.wbs import LocalOut, _project
from wbs import baselines
from wbs.models import NAME_LENGTH
from wbs.scheduling import variance

blp = Blueprint("baselines", __name__, url_prefix="", description="Baselines of a project and variance against them")

ROLE = fields.String(allow_none=True, validate=validate.OneOf(baselines.BASELINE_ROLES), metadata={
    "description": "primary (earned value and the Gantt measure against it), secondary, tertiary, or none"})


class BaselineReadSchema(Schema):
    id = fields.Integer()
    project_id = Id()
    name = fields.String()
    role = fields.String(allow_none=True)
    data_date = LocalOut(metadata={"description": "the plan's data date when the baseline was taken"})
    activity_count = fields.Integer()
    created_at = fields.DateTime()
    created_by_id = Id(allow_none=True)


class BaselineCreateSchema(Schema):
    name = Name(NAME_LENGTH, required=True)
    role = ROLE


class BaselineUpdateSchema(Schema):
    name = Name(NAME_LENGTH)
    role = ROLE


class VarianceRowSchema(Schema):
    activity_id = Id()
    code = fields.String()
    name = fields.String()
    in_baseline = fields.Boolean()
    start = LocalOut()
    finish = LocalOut()
    duration_hours = fields.Float()
    budgeted_cost = Money()
    baseline_start = LocalOut()
    baseline_finish = LocalOut()
    baseline_duration_hours = fields.Float(allow_none=True)
    baseline_cost = Money(allow_none=True)
    start_variance_hours = fields.Float(allow_none=True, metadata={
        "description": "baseline start minus current start, working hours of the activity's calendar"})
    finish_variance_hours = fields.Float(allow_none=True, metadata={
        "description": "baseline finish minus current finish, working hours of the activity's calendar"})
    duration_variance_hours = fields.Float(allow_none=True)
    cost_variance = Money(allow_negative=True, allow_none=True)


def _baseline(baseline_id):
    return baselines.get_baseline_or_raise(session(), user=current_user(), baseline_id=baseline_id)


@blp.route("/projects/<int:project_id>/baselines", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(BaselineReadSchema))
def list_baselines(args, project_id):
    """The project's baselines, oldest first."""
    return paginate(baselines.list_baselines(session(), project=_project(project_id)), args)


@blp.route("/projects/<int:project_id>/baselines", methods=["POST"])
@blp.arguments(BaselineCreateSchema)
@blp.response(201, BaselineReadSchema)
def create_baseline(data, project_id):
    """Take a baseline of the project's current plan (edit rights); the first one becomes the primary."""
    return baselines.create_baseline(session(), actor=current_user(), project=_project(project_id), **data)


@blp.route("/baselines/<int:baseline_id>", methods=["GET"])
@blp.response(200, BaselineReadSchema)
def get_baseline(baseline_id):
    """One baseline."""
    return _baseline(baseline_id)


@blp.route("/baselines/<int:baseline_id>", methods=["PATCH"])
@blp.arguments(BaselineUpdateSchema)
@blp.response(200, BaselineReadSchema)
def update_baseline(data, baseline_id):
    """Rename a baseline or change its role (edit rights); a new primary's dates become the activities'."""
    baseline = _baseline(baseline_id)
    if "name" in data:
        baselines.rename_baseline(session(), actor=current_user(), baseline=baseline, name=data["name"])
    if "role" in data:
        baselines.assign_role(session(), actor=current_user(), baseline=baseline, role=data["role"])
    return baseline


@blp.route("/baselines/<int:baseline_id>", methods=["DELETE"])
@blp.response(204)
def delete_baseline(baseline_id):
    """Delete a baseline (edit rights; audited)."""
    baselines.delete_baseline(session(), actor=current_user(), baseline=_baseline(baseline_id))


@blp.route("/baselines/<int:baseline_id>/variance", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(VarianceRowSchema))
def baseline_variance(args, baseline_id):
    """Each activity of the project against the baseline, in code order: dates, duration and cost, and their
    variances (baseline minus current; dates in working hours of the activity's calendar)."""
    baseline = _baseline(baseline_id)
    project = _project(baseline.project_id)
    page = paginate(variance.variance_select(baseline), args, scalars=False)
    page["items"] = variance.variance_rows(session(), project=project, pairs=page["items"])
    return page

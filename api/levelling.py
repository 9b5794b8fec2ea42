"""Resource levelling: start a run (a job) for a project or an EPS node, read a project's last run."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.common import Blueprint, Id, current_user, session
from api.jobs import JobSchema, accepted
from eps import services as eps_services
from wbs.resources import levelling_service

blp = Blueprint("levelling", __name__, url_prefix="", description="Resource levelling (P6's leveller)")

_FOLLOW = {"Location": {"description": "/api/v1/jobs/{id}: the job to follow", "schema": {"type": "string"}}}


class PrioritySchema(Schema):
    field = fields.String(required=True, validate=validate.OneOf(levelling_service.PRIORITY_FIELDS))
    order = fields.String(load_default="asc", validate=validate.OneOf(("asc", "desc")))


class LevellingOptionsSchema(Schema):
    priorities = fields.List(fields.Nested(PrioritySchema), load_default=None,
                             validate=validate.Length(max=len(levelling_service.PRIORITY_FIELDS)), metadata={
                                 "description": "Which activity is levelled first when two compete; the first "
                                                "decides, ties fall to the next, then the activity id. "
                                                "Default: early start, then total float."})
    within_float = fields.Boolean(load_default=None, metadata={
        "description": "Delay activities only up to their late finish (less minimum_float_hours)."})
    minimum_float_hours = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(min=0, max=100000))
    threshold_percent = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(min=1, max=1000),
                                     metadata={"description": "A resource is over-allocated above this percentage "
                                                              "of its max units per hour (default 100)."})
    preserve_scheduled_dates = fields.Boolean(load_default=None, metadata={
        "description": "Kept for P6's option; the CPM early and late dates are never changed by levelling."})


class ProjectLevellingSchema(LevellingOptionsSchema):
    with_project_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=500), metadata={
        "description": "Other projects levelled together with this one (edit rights on each)."})


class MovedSchema(Schema):
    activity_id = fields.Integer()
    project_id = fields.Integer(allow_none=True)
    code = fields.String()
    early_start = fields.String(allow_none=True)
    start = fields.String()
    finish = fields.String()
    delay_hours = fields.Float()
    reason = fields.String(metadata={"enum": ["resource", "logic"]})
    resource_id = fields.Integer(allow_none=True)
    resource_code = fields.String(allow_none=True)
    conflict_start = fields.String(allow_none=True)
    conflict_finish = fields.String(allow_none=True)


class UnresolvedSchema(Schema):
    activity_id = fields.Integer()
    project_id = fields.Integer(allow_none=True)
    code = fields.String()
    resource_id = fields.Integer()
    resource_code = fields.String()
    start = fields.String()
    finish = fields.String()
    reason = fields.String(metadata={"enum": ["float", "limit"]})
    needed_start = fields.String(allow_none=True)


class OverallocationSchema(Schema):
    resource_id = fields.Integer()
    resource_code = fields.String()
    start = fields.String()
    finish = fields.String()
    units = fields.Float()
    limit = fields.Float()


class LevellingRunSchema(Schema):
    id = fields.Integer()
    created_at = fields.DateTime()
    created_by_id = fields.Integer(allow_none=True)
    scope = fields.String(metadata={"enum": ["project", "eps_node"]})
    project_ids = fields.List(fields.Integer(), metadata={"description": "The levelled projects the caller may read."})
    options = fields.Dict()
    activities = fields.Integer()
    moved_count = fields.Integer()
    unresolved_count = fields.Integer()
    overallocation_count = fields.Integer()
    milliseconds = fields.Integer()
    job_id = fields.Integer(allow_none=True)
    finish = fields.String(allow_none=True, metadata={"description": "The latest levelled finish (project-local)."})
    moved = fields.List(fields.Nested(MovedSchema))
    unresolved = fields.List(fields.Nested(UnresolvedSchema))
    overallocations = fields.List(fields.Nested(OverallocationSchema))


class LastRunSchema(Schema):
    run = fields.Nested(LevellingRunSchema, allow_none=True, metadata={
        "description": "The last levelling run that included the project; null when none has."})


def _options(args: dict) -> dict:
    options = {k: v for k, v in args.items() if k != "with_project_ids" and v is not None}
    if "priorities" in options:
        options["priorities"] = [[p["field"], p["order"]] for p in options["priorities"]]
    return options


@blp.route("/projects/<int:project_id>/levelling", methods=["POST"])
@blp.arguments(ProjectLevellingSchema)
@blp.response(202, JobSchema, headers=_FOLLOW, description="The levelling job")
def level_project(args, project_id):
    """Level the project's resources (with ``with_project_ids``, those projects together) as a job.

    Edit rights on every project levelled (403); a project the caller cannot read is 404. The levelled
    dates go beside the CPM dates; the report is the project's ``GET …/levelling``.
    """
    project = eps_services.get_project_or_raise(session(), user=current_user(), project_id=project_id)
    return accepted(levelling_service.start_levelling(session(), actor=current_user(), project=project,
                                                      with_project_ids=args["with_project_ids"],
                                                      options=_options(args)))


@blp.route("/projects/<int:project_id>/levelling", methods=["GET"])
@blp.response(200, LastRunSchema)
def last_levelling(project_id):
    """The last levelling run that included the project: options, what moved and why, what is left over-allocated.

    Entries of other projects levelled with it are shown only when the caller may read them.
    """
    project = eps_services.get_project_or_raise(session(), user=current_user(), project_id=project_id)
    run = levelling_service.last_run(session(), user=current_user(), project=project)
    return {"run": levelling_service.report_for(session(), user=current_user(), run=run) if run else None}


@blp.route("/eps/nodes/<int:node_id>/levelling", methods=["POST"])
@blp.arguments(LevellingOptionsSchema)
@blp.response(202, JobSchema, headers=_FOLLOW, description="The levelling job")
def level_node(args, node_id):
    """Level every project under the EPS node the caller may read, together, as a job (edit rights on each)."""
    node = eps_services.get_node_or_raise(session(), user=current_user(), node_id=node_id)
    return accepted(levelling_service.start_levelling(session(), actor=current_user(), eps_node=node,
                                                      options=_options(args)))

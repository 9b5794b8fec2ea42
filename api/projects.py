"""Projects: the leaves of the EPS."""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from marshmallow.utils import get_value

from api.common import Blueprint, Code, Id, Money, Name, PageArgs, current_user, page_schema, paginate, session
from api.eps import BreadcrumbsSchema
from eps import services

blp = Blueprint("projects", __name__, url_prefix="/projects", description="Projects (deals seen from the CRM)")


class ProjectCreateSchema(Schema):
    code = Code(required=True)
    name = Name(required=True)
    eps_node_id = Id(required=True, strict=True)
    description = fields.String(load_default="", validate=validate.Length(max=10_000))
    protected = fields.Boolean(load_default=False)


class ProjectUpdateSchema(Schema):
    code = Code()
    name = Name()
    description = fields.String(validate=validate.Length(max=10_000))
    protected = fields.Boolean()
    planned_cost = Money()
    actual_cost = Money()


class ProjectMoveSchema(Schema):
    eps_node_id = Id(required=True, strict=True)


class ProjectReadSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    eps_node_id = fields.Integer()
    path = fields.String()
    protected = fields.Boolean()
    description = fields.String()
    original_budget = Money()
    current_budget = Money()
    planned_cost = Money()
    actual_cost = Money()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ProjectMovedSchema(ProjectReadSchema):
    warnings = fields.List(fields.String(), metadata={
        "description": "what the move removed: activity code values of EPS code types that do not apply in the "
                       "project's new place, counted"})


class ProjectListArgs(PageArgs):
    eps_node_id = Id()
    direct = fields.Boolean(load_default=False)
    q = fields.String(validate=validate.Length(min=1, max=200))


ProjectPageSchema = page_schema(ProjectReadSchema)


def _project(project_id):
    return services.get_project_or_raise(session(), user=current_user(), project_id=project_id)


@blp.route("", methods=["POST"])
@blp.arguments(ProjectCreateSchema)
@blp.response(201, ProjectReadSchema)
def create_project(data):
    """Create a project under an EPS node (edit rights there)."""
    node = services.get_node_or_raise(session(), user=current_user(), node_id=data.pop("eps_node_id"),
                                      field="eps_node_id")
    return services.create_project(session(), actor=current_user(), eps_node=node, **data)


@blp.route("", methods=["GET"])
@blp.arguments(ProjectListArgs, location="query")
@blp.response(200, ProjectPageSchema)
def list_projects(args):
    """The projects the caller may read; under one EPS node (or directly under it) if asked."""
    node = None
    if args.get("eps_node_id") is not None:
        node = services.get_node_or_raise(session(), user=current_user(), node_id=args["eps_node_id"],
                                          field="eps_node_id")
    query = services.list_projects(session(), user=current_user(), eps_node=node, direct_only=args["direct"],
                                   search=args.get("q"))
    return paginate(query, args, columns=True)


@blp.route("/<int:project_id>", methods=["GET"])
@blp.response(200, ProjectReadSchema)
def get_project(project_id):
    """One project."""
    return _project(project_id)


@blp.route("/<int:project_id>", methods=["PATCH"])
@blp.arguments(ProjectUpdateSchema)
@blp.response(200, ProjectReadSchema)
def update_project(data, project_id):
    """Change a project's code, name, description, costs or protection."""
    return services.update_project(session(), actor=current_user(), project=_project(project_id), **data)


@blp.route("/<int:project_id>", methods=["DELETE"])
@blp.response(204)
def delete_project(project_id):
    """Delete a project."""
    services.delete_project(session(), actor=current_user(), project=_project(project_id))


@blp.route("/<int:project_id>/move", methods=["POST"])
@blp.arguments(ProjectMoveSchema)
@blp.response(200, ProjectMovedSchema)
def move_project(data, project_id):
    """Move a project under another EPS node; its activities' values of EPS code types that do not apply there
    are removed, counted in ``warnings``."""
    project = _project(project_id)
    node = services.get_node_or_raise(session(), user=current_user(), node_id=data["eps_node_id"],
                                      field="eps_node_id")
    warnings: list[str] = []
    moved = services.move_project(session(), actor=current_user(), project=project, eps_node=node, warnings=warnings)
    return {**{name: get_value(moved, name) for name in ProjectReadSchema().fields}, "warnings": warnings}


@blp.route("/<int:project_id>/breadcrumbs", methods=["GET"])
@blp.response(200, BreadcrumbsSchema)
def breadcrumbs(project_id):
    """The readable EPS nodes from the root down to the project's node."""
    return {"items": services.breadcrumbs(session(), user=current_user(), obj=_project(project_id))}

"""The resource pool (resources and roles, administrators change them) and assignments to a project's activities."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.accounts import Text
from api.common import Blueprint, Code, Id, Money, Name, current_user, page_schema, reads_no_grants, session
from api.export import ListArgs, page_or_csv
from api.wbs import LocalDateTime, LocalOut
from eps import services as eps_services
from wbs import services as wbs_services
from wbs.resources import services
from wbs.resources.models import CURVES, RATE_SOURCES, RESOURCE_TYPES

blp = Blueprint("resources", __name__, url_prefix="", description="The resource pool, roles and assignments")

RATE = validate.Range(min=0, max=services.MAX_UNITS_PER_HOUR)
UNITS = validate.Range(min=0, max=services.MAX_UNITS)


def _units(**kwargs):
    return fields.Float(allow_nan=False, validate=UNITS, **kwargs)


def _rate(**kwargs):
    return fields.Float(allow_nan=False, validate=RATE, **kwargs)


class RateSchema(Schema):
    effective_from = fields.Date(required=True, metadata={"description": "The first day the price holds."})
    price_per_unit = Money(required=True)
    max_units_per_hour = fields.Float(allow_none=True, allow_nan=False, validate=RATE, metadata={
        "description": "Availability from that day (resources); none: the resource's own."})


class RoleLinkSchema(Schema):
    role_id = Id(required=True, strict=True)
    proficiency = fields.Integer(strict=True, load_default=3, validate=validate.Range(min=1, max=5),
                                 metadata={"description": "1 the best to 5"})


def _rates_field(**kwargs):
    return fields.List(fields.Nested(RateSchema), validate=validate.Length(max=services.MAX_RATES), **kwargs)


class ResourceWriteSchema(Schema):
    name = Name(max_length=300)
    type = fields.String(validate=validate.OneOf(RESOURCE_TYPES))
    parent_id = Id(strict=True, allow_none=True)
    calendar_id = Id(strict=True, allow_none=True)
    max_units_per_hour = fields.Float(allow_nan=False, validate=validate.Range(
        min=0, max=services.MAX_UNITS_PER_HOUR, min_inclusive=False))
    default_units_per_hour = _rate()
    unit_of_measure = Text(30)
    user_id = Id(strict=True, allow_none=True, metadata={"description": "The crmpm user this resource is."})
    eps_node_id = Id(strict=True, allow_none=True, metadata={"description": "Its home branch or department."})
    active = fields.Boolean()
    external_id = fields.String(validate=validate.Length(min=1, max=60))
    rates = _rates_field(metadata={"description": "Prices per unit by date; replaces the list when given."})
    roles = fields.List(fields.Nested(RoleLinkSchema), validate=validate.Length(max=services.MAX_ROLES),
                        metadata={"description": "The roles it fills; replaces the list when given."})


class ResourceCreateSchema(ResourceWriteSchema):
    code = Code(required=True)
    name = Name(max_length=300, required=True)


class ResourceUpdateSchema(ResourceWriteSchema):
    code = Code()


class ResourceReadSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    type = fields.String()
    parent_id = Id(allow_none=True)
    calendar_id = Id(allow_none=True)
    max_units_per_hour = fields.Float()
    default_units_per_hour = fields.Float()
    unit_of_measure = fields.String()
    user_id = Id(allow_none=True)
    eps_node_id = Id(allow_none=True)
    active = fields.Boolean()
    external_id = fields.String(allow_none=True)
    rates = fields.List(fields.Nested(RateSchema))
    roles = fields.List(fields.Nested(RoleLinkSchema), attribute="role_links")
    created_at = fields.DateTime()


class ResourceListArgs(ListArgs):
    q = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "In the code or name."})
    type = fields.String(validate=validate.OneOf(RESOURCE_TYPES))
    parent_id = Id()
    role_id = Id()
    eps_node_id = Id()
    active = fields.Boolean()


class RoleWriteSchema(Schema):
    name = Name(max_length=300)
    parent_id = Id(strict=True, allow_none=True)
    external_id = fields.String(validate=validate.Length(min=1, max=60))
    rates = _rates_field(metadata={"description": "Prices per hour by date; replaces the list when given."})


class RoleCreateSchema(RoleWriteSchema):
    code = Code(required=True)
    name = Name(max_length=300, required=True)


class RoleUpdateSchema(RoleWriteSchema):
    code = Code()


class RoleReadSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    parent_id = Id(allow_none=True)
    external_id = fields.String(allow_none=True)
    rates = fields.List(fields.Nested(RateSchema))
    created_at = fields.DateTime()


class RoleListArgs(ListArgs):
    q = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "In the code or name."})
    parent_id = Id()


ResourcePageSchema = page_schema(ResourceReadSchema)
RolePageSchema = page_schema(RoleReadSchema)


def _project(project_id):
    return eps_services.get_project_or_raise(session(), user=current_user(), project_id=project_id)


def _resource(resource_id):
    return services.get_resource_or_raise(session(), resource_id=resource_id)


def _role(role_id):
    return services.get_role_or_raise(session(), role_id=role_id)


@blp.route("/resources", methods=["GET"])
@blp.arguments(ResourceListArgs, location="query")
@blp.response(200, ResourcePageSchema)
@reads_no_grants
def list_resources(args):
    """The pool's resources by code (everyone signed in); filter by text, type, parent, role, branch, active."""
    query = services.list_resources(session(), user=current_user(), search_text=args.get("q"),
                                    type_=args.get("type"), parent_id=args.get("parent_id"),
                                    role_id=args.get("role_id"), eps_node_id=args.get("eps_node_id"),
                                    active=args.get("active"))
    return page_or_csv(query, args, ResourceReadSchema, filename="resources")


@blp.route("/resources", methods=["POST"])
@blp.arguments(ResourceCreateSchema)
@blp.response(201, ResourceReadSchema)
@reads_no_grants
def create_resource(data):
    """A new resource (administrators)."""
    return services.create_resource(session(), actor=current_user(), **data)


@blp.route("/resources/<int:resource_id>", methods=["GET"])
@blp.response(200, ResourceReadSchema)
@reads_no_grants
def get_resource(resource_id):
    """One resource with its rates and roles."""
    return _resource(resource_id)


@blp.route("/resources/<int:resource_id>", methods=["PATCH"])
@blp.arguments(ResourceUpdateSchema)
@blp.response(200, ResourceReadSchema)
@reads_no_grants
def update_resource(data, resource_id):
    """Change a resource (administrators); ``rates`` and ``roles`` replace the lists."""
    return services.update_resource(session(), actor=current_user(), resource=_resource(resource_id), **data)


@blp.route("/resources/<int:resource_id>", methods=["DELETE"])
@blp.response(204)
@reads_no_grants
def delete_resource(resource_id):
    """Delete a resource without assignments (administrators); 409 when it has some (deactivate it instead)."""
    services.delete_resource(session(), actor=current_user(), resource=_resource(resource_id))


@blp.route("/roles", methods=["GET"])
@blp.arguments(RoleListArgs, location="query")
@blp.response(200, RolePageSchema)
@reads_no_grants
def list_roles(args):
    """The roles by code (everyone signed in)."""
    query = services.list_roles(session(), user=current_user(), search_text=args.get("q"),
                                parent_id=args.get("parent_id"))
    return page_or_csv(query, args, RoleReadSchema, filename="roles")


@blp.route("/roles", methods=["POST"])
@blp.arguments(RoleCreateSchema)
@blp.response(201, RoleReadSchema)
@reads_no_grants
def create_role(data):
    """A new role (administrators)."""
    return services.create_role(session(), actor=current_user(), **data)


@blp.route("/roles/<int:role_id>", methods=["GET"])
@blp.response(200, RoleReadSchema)
@reads_no_grants
def get_role(role_id):
    """One role with its rates."""
    return _role(role_id)


@blp.route("/roles/<int:role_id>", methods=["PATCH"])
@blp.arguments(RoleUpdateSchema)
@blp.response(200, RoleReadSchema)
@reads_no_grants
def update_role(data, role_id):
    """Change a role (administrators); ``rates`` replace its rates."""
    return services.update_role(session(), actor=current_user(), role=_role(role_id), **data)


@blp.route("/roles/<int:role_id>", methods=["DELETE"])
@blp.response(204)
@reads_no_grants
def delete_role(role_id):
    """Delete a role no assignment uses (administrators); 409 otherwise."""
    services.delete_role(session(), actor=current_user(), role=_role(role_id))


# Assignments


class AssignmentWriteSchema(Schema):
    resource_id = Id(strict=True, allow_none=True)
    role_id = Id(strict=True, allow_none=True)
    budgeted_units = _units(metadata={"description": "Hours of work planned; default units/h × duration."})
    actual_units = _units()
    remaining_units = _units(metadata={"description": "Default: budgeted − actual."})
    units_per_hour = _rate(metadata={"description": "1.0 is one person full time."})
    rate_source = fields.String(validate=validate.OneOf(RATE_SOURCES))
    price_per_unit = Money(allow_none=True, metadata={"description": "The overriding price (rate source override)."})
    curve = fields.String(validate=validate.OneOf(CURVES))
    start = LocalDateTime(allow_none=True)
    finish = LocalDateTime(allow_none=True)
    actual_start = LocalDateTime(allow_none=True)
    actual_finish = LocalDateTime(allow_none=True)
    external_id = fields.String(validate=validate.Length(min=1, max=60))


class AssignmentCreateSchema(AssignmentWriteSchema):
    activity_id = Id(required=True, strict=True)

    @validates_schema
    def _someone(self, data, **_kwargs):
        if data.get("resource_id") is None and data.get("role_id") is None:
            raise ValidationError({"resource_id": ["Give a resource_id, a role_id or both."]})


class AssignmentUpdateSchema(AssignmentWriteSchema):
    duration_hours = fields.Float(allow_nan=False, validate=validate.Range(min=0, max=wbs_services.MAX_HOURS),
                                  metadata={"description": (
                                      "The activity's new duration; with budgeted_units or units_per_hour alone, "
                                      "the activity's duration type decides what else changes.")})


class AssignmentReadSchema(Schema):
    id = fields.Integer()
    project_id = Id()
    activity_id = Id()
    resource_id = Id(allow_none=True)
    role_id = Id(allow_none=True)
    budgeted_units = fields.Float()
    actual_units = fields.Float()
    remaining_units = fields.Float()
    units_per_hour = fields.Float()
    budgeted_cost = Money()
    actual_cost = Money()
    remaining_cost = Money()
    rate_source = fields.String()
    price_per_unit = Money(allow_none=True)
    curve = fields.String()
    start = LocalOut()
    finish = LocalOut()
    actual_start = LocalOut()
    actual_finish = LocalOut()
    external_id = fields.String(allow_none=True)
    created_at = fields.DateTime()


class AssignmentListArgs(ListArgs):
    activity_id = Id()
    resource_id = Id()
    role_id = Id()


AssignmentPageSchema = page_schema(AssignmentReadSchema)


def _assignment(project, assignment_id):
    return services.get_assignment_or_raise(session(), user=current_user(), project=project,
                                            assignment_id=assignment_id)


@blp.route("/projects/<int:project_id>/assignments", methods=["GET"])
@blp.arguments(AssignmentListArgs, location="query")
@blp.response(200, AssignmentPageSchema)
def list_assignments(args, project_id):
    """The project's assignments (read rights), by activity; one activity's, a resource's or a role's if asked."""
    project = _project(project_id)
    activity = None
    if args.get("activity_id") is not None:
        activity = wbs_services.get_activity_or_raise(session(), project=project, activity_id=args["activity_id"],
                                                      field="activity_id")
    query = services.list_assignments(session(), user=current_user(), project=project, activity=activity,
                                      resource_id=args.get("resource_id"), role_id=args.get("role_id"))
    return page_or_csv(query, args, AssignmentReadSchema, filename="assignments")


@blp.route("/projects/<int:project_id>/assignments", methods=["POST"])
@blp.arguments(AssignmentCreateSchema)
@blp.response(201, AssignmentReadSchema)
def create_assignment(data, project_id):
    """Assign a resource or a role to one of the project's activities (edit rights)."""
    project = _project(project_id)
    activity = wbs_services.get_activity_or_raise(session(), project=project, activity_id=data.pop("activity_id"),
                                                  field="activity_id")
    return services.create_assignment(session(), actor=current_user(), project=project, activity=activity, **data)


@blp.route("/projects/<int:project_id>/assignments/<int:assignment_id>", methods=["GET"])
@blp.response(200, AssignmentReadSchema)
def get_assignment(project_id, assignment_id):
    """One assignment."""
    return _assignment(_project(project_id), assignment_id)


@blp.route("/projects/<int:project_id>/assignments/<int:assignment_id>", methods=["PATCH"])
@blp.arguments(AssignmentUpdateSchema)
@blp.response(200, AssignmentReadSchema)
def update_assignment(data, project_id, assignment_id):
    """Change an assignment (edit rights): staffing a role, units, rate, dates, price."""
    project = _project(project_id)
    return services.update_assignment(session(), actor=current_user(), project=project,
                                      assignment=_assignment(project, assignment_id), **data)


@blp.route("/projects/<int:project_id>/assignments/<int:assignment_id>", methods=["DELETE"])
@blp.response(204)
def delete_assignment(project_id, assignment_id):
    """Remove an assignment (edit rights)."""
    project = _project(project_id)
    services.delete_assignment(session(), actor=current_user(), project=project,
                               assignment=_assignment(project, assignment_id))


"""Grants: roles given to users and teams on EPS nodes and projects."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.common import Blueprint, Id, PageArgs, current_user, page_schema, paginate, session
from crmpm.users import services as users
from eps import grants, services
from eps.models import Role

blp = Blueprint("grants", __name__, url_prefix="/grants", description="Access rights on the EPS")

ROLES = [role.value for role in Role]


def _exactly_one(data, first, second):
    if (data.get(first) is None) == (data.get(second) is None):
        message = f"Give exactly one of {first} and {second}."
        raise ValidationError({first: [message], second: [message]})


class GrantCreateSchema(Schema):
    user_id = Id(strict=True)
    team_id = Id(strict=True)
    node_id = Id(strict=True)
    project_id = Id(strict=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))

    @validates_schema
    def _targets(self, data, **_kwargs):
        _exactly_one(data, "user_id", "team_id")
        _exactly_one(data, "node_id", "project_id")


class GrantReadSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer(allow_none=True)
    team_id = fields.Integer(allow_none=True)
    node_id = fields.Integer(attribute="eps_node_id", allow_none=True)
    project_id = fields.Integer(allow_none=True)
    role = fields.Function(lambda grant: grant.role.value)
    created_at = fields.DateTime()
    created_by_id = fields.Integer(allow_none=True)


class GrantListArgs(PageArgs):
    node_id = Id()
    project_id = Id()
    user_id = Id()
    team_id = Id()


GrantPageSchema = page_schema(GrantReadSchema)


def _target(node_id=None, project_id=None):
    if node_id is not None:
        return services.get_node_or_raise(session(), user=current_user(), node_id=node_id, field="node_id")
    if project_id is not None:
        return services.get_project_or_raise(session(), user=current_user(), project_id=project_id,
                                             field="project_id")
    return None


@blp.route("", methods=["POST"])
@blp.arguments(GrantCreateSchema)
@blp.response(201, GrantReadSchema)
def create_grant(data):
    """Give a user or team a role on a node or project (manager of it, or admin)."""
    target = _target(data.get("node_id"), data.get("project_id"))
    user = team = None
    if data.get("user_id") is not None:
        user = users.get_or_raise(session(), user_id=data["user_id"], field="user_id")
    else:
        team = users.get_team_or_raise(session(), team_id=data["team_id"], field="team_id")
    return grants.create(session(), actor=current_user(), role=Role(data["role"]), target=target, user=user,
                         team=team)


@blp.route("", methods=["GET"])
@blp.arguments(GrantListArgs, location="query")
@blp.response(200, GrantPageSchema)
def list_grants(args):
    """Grants the caller may see: their own and those on what they manage; filter by target or holder."""
    target = _target(args.get("node_id"), args.get("project_id"))
    query = grants.list_(session(), actor=current_user(), target=target, user_id=args.get("user_id"),
                         team_id=args.get("team_id"))
    return paginate(query, args)


@blp.route("/<int:grant_id>", methods=["GET"])
@blp.response(200, GrantReadSchema)
def get_grant(grant_id):
    """One grant."""
    return grants.get_or_raise(session(), actor=current_user(), grant_id=grant_id)


@blp.route("/<int:grant_id>", methods=["DELETE"])
@blp.response(204)
def delete_grant(grant_id):
    """Take a grant away."""
    grant = grants.get_or_raise(session(), actor=current_user(), grant_id=grant_id)
    grants.delete(session(), actor=current_user(), grant=grant)

"""Users, teams, API tokens, and the caller's own view of their rights."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.common import Blueprint, EmailAddress, Id, Name, PageArgs, current_user, page_schema, paginate, reads_no_grants, session
from crmpm.ratelimit import throttle
from crmpm.users import services as users
from eps import services as eps_services
from eps.models import EpsNode
from eps.permissions import access_to

blp = Blueprint("users", __name__, url_prefix="", description="Users, teams, tokens")


class UserCreateSchema(Schema):
    email = EmailAddress(required=True, validate=validate.Length(max=254))
    name = Name(required=True)
    password = fields.String(required=True, validate=validate.Length(min=8, max=256), load_only=True)
    is_admin = fields.Boolean(load_default=False)
    locale = fields.String(load_default="en", validate=validate.OneOf(["en", "ru"]))


class UserUpdateSchema(Schema):
    name = Name()
    email = EmailAddress(validate=validate.Length(max=254), metadata={"description": "Administrators only."})
    password = fields.String(validate=validate.Length(min=8, max=256), load_only=True, metadata={
        "description": "A new password: at least 8 characters, not common or easy to guess. Changing one's own "
                       "needs `current_password`; it ends the user's sessions on the web pages."})
    current_password = fields.String(validate=validate.Length(max=256), load_only=True, metadata={
        "description": "The caller's current password, needed to change their own password (wrong ones are "
                       "counted: too many answer 429 with Retry-After)."})
    is_admin = fields.Boolean()
    is_active = fields.Boolean()
    locale = fields.String(validate=validate.OneOf(["en", "ru"]))
    time_zone = fields.String(validate=validate.Length(min=1, max=64), metadata={
        "description": "An IANA time zone (Europe/Moscow): the user's day for the daily digest, times in notifications."})


class UserReadSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    is_admin = fields.Boolean()
    is_active = fields.Boolean()
    locale = fields.String()
    time_zone = fields.String()
    created_at = fields.DateTime()


class TeamCreateSchema(Schema):
    name = Name(required=True)
    member_ids = fields.List(Id(strict=True), load_default=list, validate=validate.Length(max=10_000))


class TeamUpdateSchema(Schema):
    name = Name()
    member_ids = fields.List(Id(strict=True), validate=validate.Length(max=10_000))


class TeamReadSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    member_ids = fields.Function(lambda team: [member.id for member in team.members])
    created_at = fields.DateTime()


class TokenCreateSchema(Schema):
    name = fields.String(load_default="", validate=validate.Length(max=200))


class TokenReadSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the token last authenticated a request (kept to within five minutes)."})


class TokenCreatedSchema(TokenReadSchema):
    token = fields.String(metadata={"description": "The token itself; shown this once, never again."})


UserPageSchema = page_schema(UserReadSchema)
TeamPageSchema = page_schema(TeamReadSchema)
TokenPageSchema = page_schema(TokenReadSchema)


@blp.route("/users", methods=["POST"])
@blp.arguments(UserCreateSchema)
@blp.response(201, UserReadSchema)
def create_user(data):
    """Create a user (administrators only)."""
    return users.create(session(), actor=current_user(), **data)


@blp.route("/users", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, UserPageSchema)
def list_users(args):
    """All users (names and emails, for choosing grantees)."""
    return paginate(users.list_(session()), args)


@blp.route("/users/<int:user_id>", methods=["GET"])
@blp.response(200, UserReadSchema)
def get_user(user_id):
    """One user."""
    return users.get_or_raise(session(), user_id=user_id)


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserReadSchema)
@blp.throttled()
def update_user(data, user_id):
    """Change a user (administrators; users may change their own name, password, locale and time zone; nobody deactivates
    themselves)."""
    user = users.get_or_raise(session(), user_id=user_id)
    if "password" not in data:
        return users.update(session(), actor=current_user(), user=user, **data)
    with throttle().failures("password", current_user().id, failure=users.WrongPassword):
        return users.update(session(), actor=current_user(), user=user, **data)


@blp.route("/me", methods=["GET"])
@blp.response(200, UserReadSchema)
@reads_no_grants
def me():
    """The caller."""
    return current_user()


class AccessArgs(Schema):
    node_id = Id()
    project_id = Id()

    @validates_schema
    def _one(self, data, **_kwargs):
        if ("node_id" in data) == ("project_id" in data):
            raise ValidationError({"node_id": ["Give exactly one of node_id and project_id."]})


class AccessGrantSchema(Schema):
    id = fields.Integer()
    role = fields.Function(lambda grant: grant.role.value)
    via = fields.Function(lambda grant: "user" if grant.user_id is not None else "team")
    team_id = fields.Integer(allow_none=True)
    team_name = fields.Function(lambda grant: grant.team.name if grant.team else None)
    on_type = fields.Function(lambda grant: "node" if grant.eps_node_id is not None else "project")
    on_id = fields.Function(lambda grant: grant.eps_node_id or grant.project_id)
    on_code = fields.Function(lambda grant: grant.target.code)


class AccessSchema(Schema):
    target_type = fields.String()
    target_id = fields.Integer()
    is_admin = fields.Boolean()
    roles = fields.List(fields.String())
    permissions = fields.List(fields.String())
    protected_from = fields.String(allow_none=True, metadata={
        "description": "Code of the protected node where inheritance stops, if any."})
    grants = fields.List(fields.Nested(AccessGrantSchema))
    explanation = fields.String()


@blp.route("/me/access", methods=["GET"])
@blp.arguments(AccessArgs, location="query")
@blp.response(200, AccessSchema)
def my_access(args):
    """The caller's effective role on a node or project, and which grants give it."""
    user = current_user()
    if "node_id" in args:
        obj = eps_services.get_node_or_raise(session(), user=user, node_id=args["node_id"], field="node_id")
    else:
        obj = eps_services.get_project_or_raise(session(), user=user, project_id=args["project_id"],
                                                field="project_id")
    access = access_to(session(), user=user, obj=obj)
    boundary = None
    if obj.protect_path:
        boundary_id = obj.protect_path.strip("/").split("/")[-1]
        boundary = (obj.code if boundary_id.startswith("p")
                    else session().get(EpsNode, int(boundary_id)).code)
    roles = sorted(role.value for role in access.roles)
    if access.is_admin:
        explanation = "administrator: every right everywhere"
    else:
        explanation = "; ".join(
            f"{grant.role.value} on {'node' if grant.eps_node_id else 'project'} {grant.target.code}"
            f" via {'user grant' if grant.user_id else 'team ' + grant.team.name}"
            for grant in access.grants)
    return {
        "target_type": "node" if isinstance(obj, EpsNode) else "project",
        "target_id": obj.id,
        "is_admin": access.is_admin,
        "roles": roles,
        "permissions": sorted(permission.value for permission in access.permissions),
        "protected_from": boundary,
        "grants": list(access.grants),
        "explanation": explanation,
    }


@blp.route("/me/tokens", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, TokenPageSchema)
def my_tokens(args):
    """The caller's API tokens (never the tokens themselves)."""
    return paginate(users.list_tokens(session(), user=current_user()), args)


@blp.route("/me/tokens", methods=["POST"])
@blp.arguments(TokenCreateSchema)
@blp.response(201, TokenCreatedSchema)
@blp.throttled()
def create_token(data):
    """A new API token for the caller; the response holds it once (at most 10 an hour: then 429)."""
    throttle().attempt("token", current_user().id)
    record, secret = users.create_token(session(), actor=current_user(), user=current_user(), name=data["name"])
    return {**{key: getattr(record, key) for key in ("id", "name", "prefix", "created_at", "revoked_at",
                                                   "last_used_at")},
            "token": secret}


@blp.route("/me/tokens/<int:token_id>", methods=["DELETE"])
@blp.response(204)
def revoke_token(token_id):
    """Revoke one of the caller's tokens (admins: anyone's)."""
    users.revoke_token(session(), actor=current_user(), token_id=token_id)


@blp.route("/teams", methods=["POST"])
@blp.arguments(TeamCreateSchema)
@blp.response(201, TeamReadSchema)
def create_team(data):
    """Create a team (administrators only)."""
    return users.create_team(session(), actor=current_user(), **data)


@blp.route("/teams", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, TeamPageSchema)
def list_teams(args):
    """All teams."""
    return paginate(users.list_teams(session()), args)


@blp.route("/teams/<int:team_id>", methods=["GET"])
@blp.response(200, TeamReadSchema)
def get_team(team_id):
    """One team."""
    return users.get_team_or_raise(session(), team_id=team_id)


@blp.route("/teams/<int:team_id>", methods=["PATCH"])
@blp.arguments(TeamUpdateSchema)
@blp.response(200, TeamReadSchema)
def update_team(data, team_id):
    """Rename a team or replace its members (administrators only)."""
    team = users.get_team_or_raise(session(), team_id=team_id)
    return users.update_team(session(), actor=current_user(), team=team, **data)


@blp.route("/teams/<int:team_id>", methods=["DELETE"])
@blp.response(204)
def delete_team(team_id):
    """Delete a team and its grants (administrators only)."""
    team = users.get_team_or_raise(session(), team_id=team_id)
    users.delete_team(session(), actor=current_user(), team=team)

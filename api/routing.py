"""Lead routing rules per sales team, and absences with their handovers to deputies."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from accounts import routing
from accounts.models import CapacityPeriod, Fairness
from api.accounts import Text, user_field
from api.common import Blueprint, Id, Name, current_user, page_schema, session
from api.export import ListArgs, page_or_csv
from crmpm.database import utcnow
from crmpm.users import services as users

blp = Blueprint("routing", __name__, url_prefix="/routing-rules", description="How leads are shared in sales teams")
absences_blp = Blueprint("absences", __name__, url_prefix="/absences",
                         description="Absences: no leads meanwhile; deals and tasks held by a deputy")


class MemberSchema(Schema):
    user_id = Id(required=True, strict=True)
    territories = fields.List(fields.Integer(strict=True), load_default=list, validate=validate.Length(max=1000),
                              metadata={"description": "EPS node ids of the branches served; empty: all."})
    products = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list,
                           validate=validate.Length(max=1000), metadata={"description": "Products or skills; empty: all."})
    capacity = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0))
    work_start_hour = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=23))
    work_end_hour = fields.Integer(strict=True, load_default=24, validate=validate.Range(min=1, max=24))
    work_days = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=7)),
                            load_default=lambda: [1, 2, 3, 4, 5, 6, 7], validate=validate.Length(min=1, max=7))
    timezone = fields.String(load_default="UTC", validate=validate.Length(min=1, max=64))


class RuleCreateSchema(Schema):
    name = Name(required=True)
    team_id = Id(required=True, strict=True)
    priority = fields.Integer(strict=True, load_default=100, validate=validate.Range(min=0, max=1_000_000))
    is_active = fields.Boolean(load_default=True)
    prefer_account_owner = fields.Boolean(load_default=True)
    fairness = fields.Enum(Fairness, by_value=True, load_default=Fairness.round_robin)
    capacity = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0))
    capacity_period = fields.Enum(CapacityPeriod, by_value=True, load_default=CapacityPeriod.day)
    members = fields.List(fields.Nested(MemberSchema), load_default=list, validate=validate.Length(max=1000))


class RuleUpdateSchema(Schema):
    name = Name()
    team_id = Id(strict=True)
    priority = fields.Integer(strict=True, validate=validate.Range(min=0, max=1_000_000))
    is_active = fields.Boolean()
    prefer_account_owner = fields.Boolean()
    fairness = fields.Enum(Fairness, by_value=True)
    capacity = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0))
    capacity_period = fields.Enum(CapacityPeriod, by_value=True)
    members = fields.List(fields.Nested(MemberSchema), validate=validate.Length(max=1000))


class MemberReadSchema(MemberSchema):
    id = fields.Integer()


class RuleReadSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    team_id = Id()
    priority = fields.Integer()
    is_active = fields.Boolean()
    prefer_account_owner = fields.Boolean()
    fairness = fields.Enum(Fairness, by_value=True)
    capacity = fields.Integer(allow_none=True)
    capacity_period = fields.Enum(CapacityPeriod, by_value=True)
    members = fields.List(fields.Nested(MemberReadSchema))
    created_at = fields.DateTime()


RulePageSchema = page_schema(RuleReadSchema)


def _rule(rule_id):
    return routing.get_rule_or_raise(session(), rule_id=rule_id)


@blp.route("", methods=["POST"])
@blp.arguments(RuleCreateSchema)
@blp.response(201, RuleReadSchema)
def create_rule(data):
    """Create a routing rule for a sales team (administrators)."""
    team = users.get_team_or_raise(session(), team_id=data.pop("team_id"), field="team_id")
    return routing.create_rule(session(), actor=current_user(), team=team, **data)


@blp.route("", methods=["GET"])
@blp.arguments(ListArgs, location="query")
@blp.response(200, RulePageSchema)
def list_rules(args):
    """The routing rules in the order they are tried."""
    return page_or_csv(routing.list_rules(session()), args, RuleReadSchema, filename="routing-rules")


@blp.route("/<int:rule_id>", methods=["GET"])
@blp.response(200, RuleReadSchema)
def get_rule(rule_id):
    """One routing rule."""
    return _rule(rule_id)


@blp.route("/<int:rule_id>", methods=["PATCH"])
@blp.arguments(RuleUpdateSchema)
@blp.response(200, RuleReadSchema)
def update_rule(data, rule_id):
    """Change a routing rule; ``members`` replaces the member list (administrators)."""
    rule = _rule(rule_id)
    if "team_id" in data:
        data["team"] = users.get_team_or_raise(session(), team_id=data.pop("team_id"), field="team_id")
    return routing.update_rule(session(), actor=current_user(), rule=rule, **data)


@blp.route("/<int:rule_id>", methods=["DELETE"])
@blp.response(204)
def delete_rule(rule_id):
    """Delete a routing rule (administrators)."""
    routing.delete_rule(session(), actor=current_user(), rule=_rule(rule_id))


# Absences


class AbsenceCreateSchema(Schema):
    user_id = Id(strict=True, metadata={"description": "Default: the caller."})
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    deputy_id = Id(strict=True, allow_none=True)
    reason = Text(200, load_default="")

    @validates_schema
    def _order(self, data, **_kwargs):
        if "starts_at" in data and "ends_at" in data and data["ends_at"] <= data["starts_at"]:
            raise ValidationError({"ends_at": ["Must be after starts_at."]})


class DeputyGrantSchema(Schema):
    grant_id = Id(allow_none=True, metadata={"description": "Null once revoked."})
    eps_node_id = Id(allow_none=True)
    project_id = Id(allow_none=True)
    role = fields.String()
    granted_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class AbsenceReadSchema(Schema):
    id = fields.Integer()
    user_id = Id()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    deputy_id = Id(allow_none=True)
    reason = fields.String()
    handed_over_at = fields.DateTime(allow_none=True)
    returned_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    deputy_grants = fields.List(fields.Nested(DeputyGrantSchema), metadata={
        "description": "What the deputy was granted to work the handed-over deals and tasks; revoked on return."})


class AbsenceListArgs(ListArgs):
    user_id = Id()
    at = fields.AwareDateTime(metadata={"description": "Only absences covering this moment."})


class HandoverSchema(Schema):
    moved = fields.Integer(metadata={"description": "How many deals and tasks changed hands."})
    absence = fields.Nested(AbsenceReadSchema)


AbsencePageSchema = page_schema(AbsenceReadSchema)


def _absence(absence_id):
    return routing.get_absence_or_raise(session(), user=current_user(), absence_id=absence_id)


@absences_blp.route("", methods=["POST"])
@absences_blp.arguments(AbsenceCreateSchema)
@absences_blp.response(201, AbsenceReadSchema)
def create_absence(data):
    """Record an absence (one's own; administrators: anyone's), optionally with a deputy."""
    user = current_user()
    absent = users.get_or_raise(session(), user_id=data.pop("user_id"), field="user_id") if "user_id" in data else user
    deputy = user_field("deputy_id", data.pop("deputy_id", None))
    return routing.create_absence(session(), actor=user, user=absent, deputy=deputy, **data)


@absences_blp.route("", methods=["GET"])
@absences_blp.arguments(AbsenceListArgs, location="query")
@absences_blp.response(200, AbsencePageSchema)
def list_absences(args):
    """Absences: all for administrators, one's own and those one deputizes for otherwise."""
    query = routing.list_absences(session(), user=current_user(), user_id=args.get("user_id"), at=args.get("at"))
    return page_or_csv(query, args, AbsenceReadSchema, filename="absences")


@absences_blp.route("/<int:absence_id>", methods=["GET"])
@absences_blp.response(200, AbsenceReadSchema)
def get_absence(absence_id):
    """One absence."""
    return _absence(absence_id)


@absences_blp.route("/<int:absence_id>", methods=["DELETE"])
@absences_blp.response(204)
def delete_absence(absence_id):
    """Cancel an absence; anything handed over comes back."""
    routing.delete_absence(session(), actor=current_user(), absence=_absence(absence_id))


class AbsenceEndSchema(Schema):
    ends_at = fields.AwareDateTime(metadata={"description": "When the absence ends, with a time zone; default now. "
                                                            "After its start, not after its planned end."})


@absences_blp.route("/<int:absence_id>/end", methods=["POST"])
@absences_blp.arguments(AbsenceEndSchema)
@absences_blp.response(200, AbsenceReadSchema)
def end_absence(data, absence_id):
    """End an absence early (the absent person or an administrator): the days after it are working days again
    on their resource's calendar."""
    return routing.end_absence(session(), actor=current_user(), absence=_absence(absence_id),
                               ends_at=data.get("ends_at") or utcnow())


@absences_blp.route("/<int:absence_id>/handover", methods=["POST"])
@absences_blp.response(200, HandoverSchema)
def hand_over(absence_id):
    """Hand the absent person's open deals and tasks to the deputy."""
    absence = _absence(absence_id)
    moved = routing.hand_over(session(), actor=current_user(), absence=absence)
    return {"moved": moved, "absence": absence}


@absences_blp.route("/<int:absence_id>/return", methods=["POST"])
@absences_blp.response(200, HandoverSchema)
def give_back(absence_id):
    """Give back what was handed over and is still with the deputy."""
    absence = _absence(absence_id)
    moved = routing.give_back(session(), actor=current_user(), absence=absence)
    return {"moved": moved, "absence": absence}

"""The audit trail, per entity."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.common import Blueprint, Id, PageArgs, current_user, page_schema, paginate, session
from crmpm import audit
from crmpm.errors import Forbidden, NotFound
from eps.models import BudgetChange, EpsNode, Grant, Project
from eps.permissions import Permission, authorize

blp = Blueprint("audit", __name__, url_prefix="/audit", description="Who changed what, when")

# Entities whose trail a manager of the node or project may read.
ENTITY_TARGETS = {
    "eps_nodes": lambda s, entity_id: s.get(EpsNode, entity_id),
    "projects": lambda s, entity_id: s.get(Project, entity_id),
    "grants": lambda s, entity_id: (lambda g: g.target if g else None)(s.get(Grant, entity_id)),
    "budget_changes": lambda s, entity_id: (lambda c: c.target if c else None)(s.get(BudgetChange, entity_id)),
}


class AuditArgs(PageArgs):
    entity_type = fields.String(validate=validate.Length(min=1, max=60))
    entity_id = Id()
    actor_id = Id()

    @validates_schema
    def _pair(self, data, **_kwargs):
        if "entity_id" in data and "entity_type" not in data:
            raise ValidationError({"entity_type": ["Required with entity_id."]})


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(allow_none=True)
    action = fields.String()
    entity_type = fields.String()
    entity_id = fields.Integer()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)


AuditPageSchema = page_schema(AuditEntrySchema)


@blp.route("", methods=["GET"])
@blp.arguments(AuditArgs, location="query")
@blp.response(200, AuditPageSchema)
def list_entries(args):
    """Audit entries, newest first: everything for administrators, one entity's trail for its managers."""
    user = current_user()
    if not user.is_admin:
        if "entity_id" not in args:
            raise Forbidden("only administrators read the whole trail; give entity_type and entity_id")
        resolve = ENTITY_TARGETS.get(args["entity_type"])
        target = resolve(session(), args["entity_id"]) if resolve else None
        try:
            if target is None:
                raise NotFound("not found")
            authorize(session(), user=user, obj=target, permission=Permission.manage)
        except NotFound:
            # A grant's or change's node or project is not what the caller asked about: name only what was asked.
            raise NotFound("{entity_type} {entity_id} not found", entity_type=args["entity_type"],
                           entity_id=args["entity_id"]) from None
    query = audit.list_(entity_type=args.get("entity_type"), entity_id=args.get("entity_id"),
                        actor_id=args.get("actor_id"))
    return paginate(query, args)

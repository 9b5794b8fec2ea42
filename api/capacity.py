"""Capacity across the EPS: per resource (and role) and week or month, hours available, booked and coming."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from accounts.capacity_demand import capacity_with_demand
from api.common import Blueprint, Id, current_user, session
from eps import services as eps_services
from wbs.resources import capacity as capacity_services
from wbs.resources import services as pool

blp = Blueprint("capacity", __name__, url_prefix="/capacity",
                description="Resources' capacity: available, booked and pipeline hours by week or month")


class CapacityArgs(Schema):
    start = fields.Date(required=True, data_key="from", metadata={"description": "First day (YYYY-MM-DD)."})
    end = fields.Date(required=True, data_key="to", metadata={
        "description": f"Last day (YYYY-MM-DD), at most {capacity_services.MAX_DAYS} days after from."})
    period = fields.String(required=True, validate=validate.OneOf(capacity_services.PERIODS))
    eps_node_id = Id(metadata={"description": "Count as booked only the projects under this EPS node."})
    branch_id = Id(metadata={"description": "Only the resources of this EPS node's subtree (their branch)."})
    role_id = Id(metadata={"description": "Only the resources able to fill this role."})
    roles = fields.Boolean(load_default=False, metadata={"description": "Add a row per role."})
    demand = fields.Boolean(load_default=False, metadata={
        "description": "Add the open deals' planned hours weighted by probability (demand_hours)."})


class _Row(Schema):
    code = fields.String()
    name = fields.String()
    available_hours = fields.List(fields.Float())
    booked_hours = fields.List(fields.Float(), metadata={
        "description": "Hours booked on projects the caller may read (under eps_node_id when given)."})
    other_hours = fields.List(fields.Float(), metadata={
        "description": "All the resource's other bookings, as one anonymous total per period."})
    over_allocated = fields.List(fields.Boolean(), metadata={"description": "booked + other > available"})
    demand_hours = fields.List(fields.Float(), allow_none=True, metadata={
        "description": "With demand=1: the pipeline's weighted hours; else null."})


class CapacityItemSchema(_Row):
    resource_id = Id()
    branch_id = Id(allow_none=True)


class CapacityRoleSchema(_Row):
    role_id = Id()


class CapacitySchema(Schema):
    period = fields.String()
    periods = fields.List(fields.Date(), metadata={"description": "Each period's first day."})
    items = fields.List(fields.Nested(CapacityItemSchema))
    roles = fields.List(fields.Nested(CapacityRoleSchema))


@blp.route("", methods=["GET"])
@blp.arguments(CapacityArgs, location="query")
@blp.response(200, CapacitySchema)
def get_capacity(args):
    """Per resource and period: available hours, hours booked on what the caller may read, the rest anonymous."""
    db, user = session(), current_user()
    nodes = {}
    for key in ("eps_node_id", "branch_id"):
        if args.get(key) is not None:
            nodes[key] = eps_services.get_node_or_raise(db, user=user, node_id=args[key], field=key)
    role = (pool.get_role_or_raise(db, role_id=args["role_id"], field="role_id")
            if args.get("role_id") is not None else None)
    return capacity_with_demand(db, user=user, start=args["start"], end=args["end"], period=args["period"],
                                eps_node=nodes.get("eps_node_id"), branch=nodes.get("branch_id"), role=role,
                                with_roles=args["roles"], demand=args["demand"])

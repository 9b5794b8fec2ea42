"""EPS nodes: create, read, rename, protect, move, delete, and walk the tree."""

from __future__ import annotations

from marshmallow import Schema, fields
from marshmallow.utils import get_value

from api.common import Blueprint, Code, Id, Name, PageArgs, current_user, page_schema, paginate, session
from eps import services

blp = Blueprint("eps", __name__, url_prefix="/eps", description="The Enterprise Project Structure")


class NodeCreateSchema(Schema):
    code = Code(required=True)
    name = Name(required=True)
    parent_id = Id(required=True, allow_none=True, strict=True)
    protected = fields.Boolean(load_default=False)


class NodeUpdateSchema(Schema):
    code = Code()
    name = Name()
    protected = fields.Boolean()


class NodeMoveSchema(Schema):
    parent_id = Id(required=True, allow_none=True, strict=True)


class NodeReadSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    parent_id = fields.Integer(allow_none=True)
    depth = fields.Integer()
    path = fields.String()
    protected = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class NodeMovedSchema(NodeReadSchema):
    warnings = fields.List(fields.String(), metadata={
        "description": "what the move removed: activity code values of EPS code types that no longer apply to "
                       "the projects in the subtree, counted per project"})


class NodeListArgs(PageArgs):
    parent_id = Id()
    roots = fields.Boolean(load_default=False)
    q = fields.String(validate=lambda s: 0 < len(s) <= 200)


NodePageSchema = page_schema(NodeReadSchema)


def _node(node_id):
    return services.get_node_or_raise(session(), user=current_user(), node_id=node_id)


@blp.route("/nodes", methods=["POST"])
@blp.arguments(NodeCreateSchema)
@blp.response(201, NodeReadSchema)
def create_node(data):
    """Create a node under ``parent_id`` (null for a root: administrators only)."""
    parent = None
    if data["parent_id"] is not None:
        parent = services.get_node_or_raise(session(), user=current_user(), node_id=data["parent_id"],
                                            field="parent_id")
    return services.create_node(session(), actor=current_user(), code=data["code"], name=data["name"],
                                parent=parent, protected=data["protected"])


@blp.route("/nodes", methods=["GET"])
@blp.arguments(NodeListArgs, location="query")
@blp.response(200, NodePageSchema)
def list_nodes(args):
    """The nodes the caller may read, in tree order; filter by parent, roots only, or text."""
    query = services.list_nodes(session(), user=current_user(), parent_id=args.get("parent_id"),
                                roots=args["roots"], search=args.get("q"))
    return paginate(query, args)


@blp.route("/nodes/<int:node_id>", methods=["GET"])
@blp.response(200, NodeReadSchema)
def get_node(node_id):
    """One node."""
    return _node(node_id)


@blp.route("/nodes/<int:node_id>", methods=["PATCH"])
@blp.arguments(NodeUpdateSchema)
@blp.response(200, NodeReadSchema)
def update_node(data, node_id):
    """Rename a node, change its code, or protect it from inherited grants."""
    return services.update_node(session(), actor=current_user(), node=_node(node_id), **data)


@blp.route("/nodes/<int:node_id>", methods=["DELETE"])
@blp.response(204)
def delete_node(node_id):
    """Delete an empty node."""
    services.delete_node(session(), actor=current_user(), node=_node(node_id))


@blp.route("/nodes/<int:node_id>/move", methods=["POST"])
@blp.arguments(NodeMoveSchema)
@blp.response(200, NodeMovedSchema)
def move_node(data, node_id):
    """Move the node and its whole subtree under ``parent_id`` (null: to the top level); the values of EPS code
    types that no longer apply to the projects in it are removed, counted in ``warnings``."""
    node = _node(node_id)
    new_parent = None
    if data["parent_id"] is not None:
        new_parent = services.get_node_or_raise(session(), user=current_user(), node_id=data["parent_id"],
                                                field="parent_id")
    warnings: list[str] = []
    moved = services.move_node(session(), actor=current_user(), node=node, new_parent=new_parent, warnings=warnings)
    return {**{name: get_value(moved, name) for name in NodeReadSchema().fields}, "warnings": warnings}


@blp.route("/nodes/<int:node_id>/children", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, NodePageSchema)
def children(args, node_id):
    """The readable nodes directly under this one."""
    node = _node(node_id)
    return paginate(services.list_nodes(session(), user=current_user(), parent_id=node.id), args)


@blp.route("/nodes/<int:node_id>/subtree", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, NodePageSchema)
def subtree(args, node_id):
    """Every readable node below this one, in tree order."""
    node = _node(node_id)
    return paginate(services.list_nodes(session(), user=current_user(), under=node), args)


class BreadcrumbsSchema(Schema):
    items = fields.List(fields.Nested(NodeReadSchema))


@blp.route("/nodes/<int:node_id>/breadcrumbs", methods=["GET"])
@blp.response(200, BreadcrumbsSchema)
def breadcrumbs(node_id):
    """The readable nodes from the root down to this one's parent."""
    node = _node(node_id)
    return {"items": services.breadcrumbs(session(), user=current_user(), obj=node)}

"""Deals (the sales side of projects) and the pipelines they move through."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.orm import joinedload, selectinload

from accounts import deals as deal_services
from accounts import pipelines as pipeline_services
from accounts.models import Deal, StageKind
from api.accounts import ExternalId, Text, account_field, contact_field, user_field
from api.common import (
    Blueprint, Code, Id, Money, Name, base_currency, current_user, page_schema, paginate, session,
)
from api.export import ListArgs, list_or_csv, page_or_csv, wants_csv
from eps import services as eps_services

blp = Blueprint("deals", __name__, url_prefix="/deals", description="Deals: projects seen from the sales side")
pipelines_blp = Blueprint("pipelines", __name__, url_prefix="/pipelines", description="Sales pipelines and stages")

Currency = lambda **kw: fields.String(validate=validate.Regexp(r"^[A-Z]{3}$", error="Three capital letters (ISO 4217)."), **kw)  # noqa: E731
Percent = lambda **kw: fields.Integer(strict=True, validate=validate.Range(min=0, max=100), **kw)  # noqa: E731


# Pipelines


class StageSchema(Schema):
    id = fields.Integer(strict=True, metadata={"description": "Keep this existing stage (updates only)."})
    name = Name(100, required=True)
    probability = Percent(required=True)
    kind = fields.Enum(StageKind, by_value=True, load_default=StageKind.open)


class StageReadSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    position = fields.Integer()
    probability = fields.Integer()
    kind = fields.Enum(StageKind, by_value=True)


class PipelineCreateSchema(Schema):
    name = Name(required=True)
    stages = fields.List(fields.Nested(StageSchema), required=True, validate=validate.Length(min=3, max=50))
    is_active = fields.Boolean(load_default=True)


class PipelineUpdateSchema(Schema):
    name = Name()
    stages = fields.List(fields.Nested(StageSchema), validate=validate.Length(min=3, max=50))
    is_active = fields.Boolean()


class PipelineReadSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    is_active = fields.Boolean()
    stages = fields.List(fields.Nested(StageReadSchema))
    created_at = fields.DateTime()


class PipelineListArgs(ListArgs):
    active_only = fields.Boolean(load_default=False)


class BoardArgs(Schema):
    per_stage = fields.Integer(load_default=20, validate=validate.Range(min=0, max=200))
    owner_id = Id()
    closed_days = fields.Integer(load_default=30, validate=validate.Range(min=0, max=3650),
                                 metadata={"description": "Won and lost columns: deals closed in these last days."})


PipelinePageSchema = page_schema(PipelineReadSchema)


def pipeline_field(field, pipeline_id):
    """The pipeline ``pipeline_id``, or a 404 naming ``field``."""
    return pipeline_services.get_pipeline_or_raise(session(), pipeline_id=pipeline_id, field=field)


@pipelines_blp.route("", methods=["POST"])
@pipelines_blp.arguments(PipelineCreateSchema)
@pipelines_blp.response(201, PipelineReadSchema)
def create_pipeline(data):
    """Create a pipeline: open stages in order, one won stage (100%) and one lost stage (0%) (administrators)."""
    return pipeline_services.create_pipeline(session(), actor=current_user(), **data)


@pipelines_blp.route("", methods=["GET"])
@pipelines_blp.arguments(PipelineListArgs, location="query")
@pipelines_blp.response(200, PipelinePageSchema)
def list_pipelines(args):
    """Every pipeline, by name."""
    return page_or_csv(pipeline_services.list_pipelines(session(), active_only=args["active_only"]), args,
                       PipelineReadSchema, filename="pipelines")


@pipelines_blp.route("/<int:pipeline_id>", methods=["GET"])
@pipelines_blp.response(200, PipelineReadSchema)
def get_pipeline(pipeline_id):
    """One pipeline with its stages."""
    return pipeline_field(None, pipeline_id)


@pipelines_blp.route("/<int:pipeline_id>", methods=["PATCH"])
@pipelines_blp.arguments(PipelineUpdateSchema)
@pipelines_blp.response(200, PipelineReadSchema)
def update_pipeline(data, pipeline_id):
    """Rename, (de)activate or restage a pipeline; stages left out are removed unless deals used them (administrators)."""
    return pipeline_services.update_pipeline(session(), actor=current_user(), pipeline=pipeline_field(None, pipeline_id),
                                             **data)


# Deals


def project_field(field: str, project_id):
    """The readable project ``project_id`` (None stays None), or a 404 naming ``field``."""
    if project_id is None:
        return None
    return eps_services.get_project_or_raise(session(), user=current_user(), project_id=project_id, field=field)


class LineSchema(Schema):
    product = Name(100, required=True)
    # The bounds are given to the spec as numbers: derived from the validator they would be strings.
    quantity = fields.Decimal(load_default=1, places=3, validate=validate.Range(min=0, min_inclusive=False, max=1e9),
                              as_string=True, allow_nan=False,
                              metadata={"minimum": 0, "exclusiveMinimum": True, "maximum": 1e9, "default": 1})
    unit_price = Money(required=True)


class DealCreateSchema(Schema):
    account_id = Id(required=True, strict=True)
    name = Name(required=True)
    pipeline_id = Id(required=True, strict=True)
    stage_id = Id(strict=True, metadata={"description": "Default: the first open stage."})
    amount = Money(metadata={"description": "Default: the sum of the lines."})
    currency = Currency()
    probability = Percent(allow_none=True, metadata={"description": "Overrides the stage's default; null: default."})
    expected_close = fields.Date(allow_none=True)
    owner_id = Id(strict=True, allow_none=True)
    contact_id = Id(strict=True, allow_none=True)
    product = Text(100, load_default="")
    next_step = Text(500, load_default="")
    lost_reason = Text(500, load_default="")
    lines = fields.List(fields.Nested(LineSchema), load_default=list, validate=validate.Length(max=500))
    code = Code(metadata={"description": "Code of the deal's project (default: generated)."})
    project_id = Id(strict=True, metadata={"description": "Link an existing project under the account's node."})
    external_id = ExternalId()


class DealUpdateSchema(Schema):
    name = Name()
    amount = Money()
    currency = Currency()
    probability = Percent(allow_none=True)
    expected_close = fields.Date(allow_none=True)
    owner_id = Id(strict=True, allow_none=True)
    contact_id = Id(strict=True, allow_none=True)
    product = Text(100)
    next_step = Text(500)
    lost_reason = Text(500)
    lines = fields.List(fields.Nested(LineSchema), validate=validate.Length(max=500))
    template_project_id = Id(strict=True, allow_none=True, metadata={
        "description": "The project whose plan the deal's work will follow (its resources' demand); null: none."})


class LineReadSchema(Schema):
    id = fields.Integer()
    product = fields.String()
    quantity = fields.Decimal(as_string=True)
    unit_price = Money()


class DealReadSchema(Schema):
    id = fields.Integer()
    external_id = fields.String(allow_none=True)
    project_id = Id()
    code = fields.String()
    name = fields.String()
    account_id = Id()
    contact_id = Id(allow_none=True)
    pipeline_id = Id()
    stage_id = Id()
    stage = fields.String(attribute="stage_name")
    status = fields.Enum(StageKind, by_value=True, metadata={"description": "open, won or lost"})
    amount = Money()
    currency = fields.String()
    probability = fields.Integer(allow_none=True, metadata={"description": "The override, if any."})
    effective_probability = fields.Integer()
    expected_close = fields.Date(allow_none=True)
    owner_id = Id(allow_none=True)
    product = fields.String()
    next_step = fields.String()
    lost_reason = fields.String()
    lines = fields.List(fields.Nested(LineReadSchema))
    created_at = fields.DateTime()
    stage_entered_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    budget_set_at = fields.DateTime(allow_none=True)
    template_project_id = Id(allow_none=True)


class StageMoveSchema(Schema):
    stage_id = Id(strict=True)
    stage = Name(100, metadata={"description": "The stage by name, instead of stage_id."})
    lost_reason = Text(500)
    note = Text(500, load_default="")
    template_project_id = Id(strict=True, metadata={
        "description": "On a move to the won stage: copy this project's WBS, activities and calendars into the deal's."})

    @validates_schema
    def _one(self, data, **_kwargs):
        if ("stage_id" in data) == ("stage" in data):
            raise ValidationError({"stage_id": ["Give exactly one of stage_id and stage."]})


class StageChangeSchema(Schema):
    id = fields.Integer()
    from_stage_id = Id(allow_none=True)
    to_stage_id = Id()
    to_stage = fields.Function(lambda change: change.to_stage.name)
    at = fields.DateTime()
    actor_id = Id(allow_none=True)
    note = fields.String()


class HistorySchema(Schema):
    items = fields.List(fields.Nested(StageChangeSchema))


class DealListArgs(ListArgs):
    pipeline_id = Id()
    stage_id = Id()
    account_id = Id()
    owner_id = Id()
    status = fields.Enum(StageKind, by_value=True)
    q = fields.String(validate=validate.Length(min=1, max=200))
    missing_next_step = fields.Boolean(load_default=False, metadata={
        "description": "Only open deals with neither a next step nor an open task."})


class BoardColumnSchema(Schema):
    stage = fields.Nested(StageReadSchema)
    count = fields.Integer()
    value = Money()
    deals = fields.List(fields.Nested(DealReadSchema))


class BoardSchema(Schema):
    pipeline_id = Id()
    columns = fields.List(fields.Nested(BoardColumnSchema))


DealPageSchema = page_schema(DealReadSchema)

# What DealReadSchema reads besides the deal's own columns, loaded with the rows of a CSV export (not one
# query per deal); a page is read as rows (``accounts.deals.deal_rows``).
DEAL_READ_LOADS = (joinedload(Deal.project), joinedload(Deal.stage), selectinload(Deal.lines))


def _deal(deal_id):
    return deal_services.get_deal_or_raise(session(), user=current_user(), deal_id=deal_id)


@pipelines_blp.route("/<int:pipeline_id>/board", methods=["GET"])
@pipelines_blp.arguments(BoardArgs, location="query")
@pipelines_blp.response(200, BoardSchema)
def pipeline_board(args, pipeline_id):
    """The pipeline board: open deals by stage (closing soonest first), and those won or lost lately."""
    pipeline = pipeline_field(None, pipeline_id)
    columns = deal_services.board(session(), user=current_user(), pipeline=pipeline, per_stage=args["per_stage"],
                                  owner_id=args.get("owner_id"), closed_days=args["closed_days"])
    return {"pipeline_id": pipeline.id, "columns": columns}


@blp.route("", methods=["POST"])
@blp.arguments(DealCreateSchema)
@blp.response(201, DealReadSchema)
def create_deal(data):
    """Open a deal at an account: its project is created under the account's node (edit rights there)."""
    db, user = session(), current_user()
    account = account_field("account_id", data.pop("account_id"))
    pipeline = pipeline_field("pipeline_id", data.pop("pipeline_id"))
    stage_id = data.pop("stage_id", None)
    stage = pipeline_services.stage_in(pipeline, stage_id=stage_id) if stage_id is not None else None
    owner = user_field("owner_id", data.pop("owner_id", None))
    contact = contact_field("contact_id", data.pop("contact_id", None))
    project_id = data.pop("project_id", None)
    project = None
    if project_id is not None:
        project = eps_services.get_project_or_raise(db, user=user, project_id=project_id, field="project_id")
    data.setdefault("currency", base_currency())
    return deal_services.create_deal(db, actor=user, account=account, pipeline=pipeline, stage=stage, owner=owner,
                                     contact=contact, project=project, **data)


@blp.route("", methods=["GET"])
@blp.arguments(DealListArgs, location="query")
@blp.response(200, DealPageSchema)
def list_deals(args):
    """The deals the caller may read, newest first; filter by pipeline, stage, account, owner, status, text."""
    query = deal_services.list_deals(
        session(), user=current_user(), pipeline_id=args.get("pipeline_id"), stage_id=args.get("stage_id"),
        account_id=args.get("account_id"), owner_id=args.get("owner_id"), status=args.get("status"),
        search=args.get("q"), missing_next_step=args["missing_next_step"])
    if wants_csv(args):
        return page_or_csv(query.options(*DEAL_READ_LOADS), args, DealReadSchema, filename="deals")
    return paginate(query, args, read=lambda db, window: deal_services.deal_page(db, query, window))


@blp.route("/<int:deal_id>", methods=["GET"])
@blp.response(200, DealReadSchema)
def get_deal(deal_id):
    """One deal."""
    return _deal(deal_id)


@blp.route("/<int:deal_id>", methods=["PATCH"])
@blp.arguments(DealUpdateSchema)
@blp.response(200, DealReadSchema)
def update_deal(data, deal_id):
    """Change a deal's amount, probability, close date, owner, contact, lines or name (edit rights)."""
    deal = _deal(deal_id)
    if "owner_id" in data:
        data["owner"] = user_field("owner_id", data.pop("owner_id"))
    if "contact_id" in data:
        data["contact"] = contact_field("contact_id", data.pop("contact_id"))
    if "template_project_id" in data:
        data["template"] = project_field("template_project_id", data.pop("template_project_id"))
    return deal_services.update_deal(session(), actor=current_user(), deal=deal, **data)


@blp.route("/<int:deal_id>/stage", methods=["POST"])
@blp.arguments(StageMoveSchema)
@blp.response(200, DealReadSchema)
def move_stage(data, deal_id):
    """Move the deal to another stage of its pipeline; lost needs ``lost_reason``; won sets the project budget."""
    deal = _deal(deal_id)
    if "stage_id" in data:
        stage = pipeline_services.stage_in(deal.pipeline, stage_id=data["stage_id"], field="stage_id")
    else:
        stage = pipeline_services.stage_in(deal.pipeline, name=data["stage"], field="stage")
    template = None
    if data.get("template_project_id") is not None:
        template = eps_services.get_project_or_raise(session(), user=current_user(),
                                                     project_id=data["template_project_id"], field="template_project_id")
    return deal_services.move_stage(session(), actor=current_user(), deal=deal, stage=stage,
                                    lost_reason=data.get("lost_reason"), note=data["note"], template=template)


@blp.route("/<int:deal_id>/history", methods=["GET"])
@blp.arguments(ListArgs, location="query")
@blp.response(200, HistorySchema)
def stage_history(args, deal_id):
    """The deal's stage moves with their times, oldest first."""
    items = deal_services.stage_history(session(), deal=_deal(deal_id))
    return list_or_csv(items, StageChangeSchema, args, filename="deal-history")

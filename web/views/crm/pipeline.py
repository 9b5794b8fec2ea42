"""The pipeline board (routes on ``web.views.crm.bp``): one pipeline's deals by stage, moved by dragging.

The columns, their figures and the first cards come from ``accounts.deals.board``
(only the deals the user may read); further cards from ``board_column``. Which
cards may be dragged comes from ``accounts.permissions.editable_deal_ids``; the
move itself is ``crm.move_stage`` (in ``deals``), which lets the domain decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import abort, g, render_template, request

from accounts import deals, pipelines
from accounts.models import Pipeline, PipelineStage, StageKind
from accounts.permissions import editable_deal_ids
from crmpm.database import db
from wbs import templates
from web import queries
from web.views.crm import bp

CARDS_PER_COLUMN = 20
CLOSED_DAYS = 30  # won and lost columns: deals closed in these last days
SEARCH_LENGTH = 100
OWNER_CHOICES = 500
TEMPLATE_CHOICES = 100  # projects offered as the plan of a deal dropped on the won column


@dataclass(frozen=True)
class BoardFilter:
    """What the board shows: whose deals (``mine``, ``all`` or a user id) and a search text."""

    owner: str
    owner_id: int | None
    search: str

    @property
    def args(self) -> dict:
        """The query-string form, for links and the requests the board's script sends."""
        return {key: value for key, value in (("owner", self.owner), ("q", self.search)) if value}


def board_filter(values) -> BoardFilter:
    """The board's filter from a request's args or form: "mine" unless another owner or "all" is asked for."""
    owner = (values.get("owner") or "mine").strip()
    search = (values.get("q") or "").strip()[:SEARCH_LENGTH]
    if owner == "all":
        return BoardFilter("all", None, search)
    if owner.isdigit() and len(owner) < 10:
        return BoardFilter(owner, int(owner), search)
    return BoardFilter("mine", g.user.id, search)


def active_pipelines() -> list[Pipeline]:
    return list(db.session.scalars(pipelines.list_pipelines(db.session, active_only=True)))


def chosen_pipeline(choices: list[Pipeline]) -> Pipeline | None:
    """The pipeline asked for (any, even inactive: old links keep working), else the first active one."""
    pipeline_id = request.args.get("pipeline", type=int)
    if pipeline_id is not None:
        if not 0 < pipeline_id < 2**31:
            abort(404)
        return pipelines.get_pipeline_or_raise(db.session, pipeline_id=pipeline_id)
    return choices[0] if choices else None


@dataclass(frozen=True)
class BoardTotals:
    count: int
    value: Decimal
    weighted: Decimal


def open_totals(columns: list[deals.BoardColumn]) -> BoardTotals:
    """The board's total of the open columns (what is still in play)."""
    shown = [column for column in columns if column.stage.kind is StageKind.open]
    return BoardTotals(count=sum(column.count for column in shown),
                       value=sum((column.value for column in shown), Decimal("0.00")),
                       weighted=sum((column.weighted for column in shown), Decimal("0.00")))


def won_templates(pipeline: Pipeline, editable) -> list:
    """The projects whose plan a deal won on the board may copy (as on the deal page), when it can be won here."""
    if not editable or not any(stage.kind is StageKind.won for stage in pipeline.stages):
        return []
    return templates.candidates(db.session, user=g.user, limit=TEMPLATE_CHOICES)


def board_columns(pipeline: Pipeline, flt: BoardFilter, *, per_stage: int = CARDS_PER_COLUMN):
    return deals.board(db.session, user=g.user, pipeline=pipeline, per_stage=per_stage, owner_id=flt.owner_id,
                       search=flt.search or None, closed_days=CLOSED_DAYS)


@bp.route("/pipeline")
def pipeline():
    """The board of one pipeline: open deals per stage, won and lost of the last days, figures per column."""
    choices = active_pipelines()
    chosen = chosen_pipeline(choices)
    flt = board_filter(request.args)
    if chosen is None:
        return render_template("crm/pipeline.html", pipeline=None, pipelines=choices, flt=flt)
    columns = board_columns(chosen, flt)
    editable = editable_deal_ids(db.session, user=g.user, deal_ids=[d.id for c in columns for d in c.deals])
    return render_template(
        "crm/pipeline.html", pipeline=chosen, pipelines=choices, flt=flt, columns=columns, editable=editable,
        totals=open_totals(columns), owners=queries.active_users(db.session, limit=OWNER_CHOICES),
        stages=chosen.stages, per_column=CARDS_PER_COLUMN, closed_days=CLOSED_DAYS, today=date.today(),
        template_choices=won_templates(chosen, editable))


@bp.route("/pipeline/stages/<int:stage_id>/cards")
def pipeline_cards(stage_id: int):
    """The next cards of one column (the column's "more" button), as HTML to append."""
    stage = db.session.get(PipelineStage, stage_id)
    if stage is None:
        abort(404)
    flt = board_filter(request.args)
    offset = min(max(request.args.get("offset", 0, type=int), 0), 1_000_000)
    found = deals.board_column(db.session, user=g.user, stage=stage, offset=offset, limit=CARDS_PER_COLUMN + 1,
                               owner_id=flt.owner_id, search=flt.search or None, closed_days=CLOSED_DAYS)
    shown = found[:CARDS_PER_COLUMN]
    editable = editable_deal_ids(db.session, user=g.user, deal_ids=[deal.id for deal in shown])
    return render_template("crm/pipeline_cards.html", deals=shown, stage=stage, stages=stage.pipeline.stages,
                           editable=editable, flt=flt, pipeline=stage.pipeline, today=date.today(),
                           template_choices=won_templates(stage.pipeline, editable),
                           next_offset=offset + len(shown) if len(found) > CARDS_PER_COLUMN else None)


"""The pipeline board: per stage, how many deals, their value and weighted value, and the first cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, select, type_coerce
from sqlalchemy.orm import Session, aliased, selectinload

from crmpm.database import Money, utcnow
from crmpm.search import contains
from crmpm.users.models import User
from eps.models import Project

from accounts.deals.rules import ZERO
from accounts.models import Deal, Pipeline, PipelineStage, StageKind, effective_probability
from accounts.permissions import deal_visible

@dataclass(frozen=True)
class BoardColumn:
    """One stage of the pipeline board: how many deals, their value and weighted value, and the first of them."""

    stage: PipelineStage
    count: int
    value: Decimal
    deals: list[Deal]
    weighted: Decimal = ZERO  # sum of amount × probability (the deal's own, else the stage's)


def _board_where(session: Session, *, user: User, pipeline: Pipeline, owner_id: int | None,
                 search: str | None) -> list:
    where = [Deal.pipeline_id == pipeline.id]
    readable = deal_visible(session, user=user)
    if readable is not None:
        where.append(readable)
    if owner_id is not None:
        where.append(Deal.owner_id == owner_id)
    if search and search.strip():
        named = aliased(Project)
        where.append(select(named.id).where(named.id == Deal.project_id,
                                            contains([named.name, named.code], search)).exists())
    return where


def _column_query(stage: PipelineStage, where: list, since: datetime) -> Select:
    # A card shows the deal's name, account and owner: loaded with the column, not one query per card.
    query = (select(Deal).where(*where, Deal.stage_id == stage.id)
             .options(selectinload(Deal.project), selectinload(Deal.account), selectinload(Deal.owner)))
    if stage.kind is StageKind.open:
        return query.order_by(Deal.expected_close.asc().nulls_last(), Deal.id)
    return query.where(Deal.closed_at >= since).order_by(Deal.closed_at.desc(), Deal.id)


def board(session: Session, *, user: User, pipeline: Pipeline, per_stage: int = 20, owner_id: int | None = None,
          closed_days: int = 30, now: datetime | None = None, search: str | None = None) -> list[BoardColumn]:
    """The pipeline board: every open deal by stage (closing soonest first) and those won or lost lately.

    Open columns count all their deals; the won and lost columns only the deals
    closed in the last ``closed_days`` (most recent first), as on a sales board
    the closed ones are news for a while, then history (the funnel has them all).
    ``search`` keeps the deals whose name or code holds it.
    """
    where = _board_where(session, user=user, pipeline=pipeline, owner_id=owner_id, search=search)
    since = (now or utcnow()) - timedelta(days=closed_days)
    open_ids = [stage.id for stage in pipeline.stages if stage.kind is StageKind.open]
    closed_ids = [stage.id for stage in pipeline.stages if stage.kind is not StageKind.open]
    probability = effective_probability()
    count_columns = (Deal.stage_id, func.count(), func.coalesce(func.sum(Deal.amount), ZERO),
                     type_coerce(func.coalesce(func.sum(Deal.amount * probability), 0), Money()))
    grouped = select(*count_columns).join(PipelineStage, PipelineStage.id == Deal.stage_id)
    totals = {stage_id: (count, value, weighted) for stage_id, count, value, weighted in session.execute(
        grouped.where(*where, Deal.stage_id.in_(open_ids)).group_by(Deal.stage_id))}
    totals.update({stage_id: (count, value, weighted) for stage_id, count, value, weighted in session.execute(
        grouped.where(*where, Deal.closed_at >= since, Deal.stage_id.in_(closed_ids)).group_by(Deal.stage_id))})
    columns = []
    for stage in pipeline.stages:
        count, value, weighted = totals.get(stage.id, (0, ZERO, ZERO))
        top = []
        if count and per_stage:
            # One short query per column walks an index in order and stops after ``per_stage`` rows.
            top = list(session.scalars(_column_query(stage, where, since).limit(per_stage)))
        columns.append(BoardColumn(stage=stage, count=count, value=Decimal(value), deals=top,
                                   weighted=(Decimal(weighted) / 100).quantize(Decimal("0.01"))))
    return columns


def board_column(session: Session, *, user: User, stage: PipelineStage, offset: int = 0, limit: int = 20,
                 owner_id: int | None = None, closed_days: int = 30, now: datetime | None = None,
                 search: str | None = None) -> list[Deal]:
    """The next ``limit`` deals of one board column after the first ``offset`` (in the board's order)."""
    where = _board_where(session, user=user, pipeline=stage.pipeline, owner_id=owner_id, search=search)
    since = (now or utcnow()) - timedelta(days=closed_days)
    return list(session.scalars(_column_query(stage, where, since).limit(limit).offset(offset)))


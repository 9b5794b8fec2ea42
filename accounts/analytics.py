"""Sales analytics: funnel, conversion, win rate, won by period, sales cycle, time in stage, forecast,
lifetime value, RFM segments, contact norms and satisfaction.

Aggregates run in SQL (grouped by stage, month or account) and only the small
grouped results come back; each function sees only the deals and accounts the
user may read (``user=None``: everything, for trusted command-line use).

Definitions:

- win rate = won / (won + lost); open deals do not count, and with no closed deal it is None;
- conversion from a stage to the next = of the deals that reached this stage, the share that reached the next,
  where a deal has reached every stage from the one it opened in (``Deal.opened_stage_id``) up to the
  furthest one in its history (a lost deal: the furthest open stage before it was lost; a won deal: all of
  them from its opening). A deal imported in a later stage is therefore counted from that stage only, and one
  imported already closed only at its terminal stage: the funnel holds only what was seen;
- sales cycle = days from a won deal's creation to its close;
- weighted forecast = sum of amount × probability of open deals, by expected close month.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Float, String, case, cast, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from crmpm.database import Money, utcnow
from crmpm.users.models import User, team_members
from eps.models import EpsNode, Project

from accounts.models import (
    Account, AccountKind, Deal, DealStageChange, Interaction, Pipeline, PipelineStage, StageKind, SurveyAnswer,
    SurveyKind, effective_probability,
)
from accounts.permissions import deal_visible, readable_account_ids

ZERO = Decimal("0.00")
CONTACT_NORMS = {AccountKind.client: 4, AccountKind.prospect: 6}

__all__ = [
    "AccountScope", "DealFilter", "contact_compliance", "contact_gaps", "forecast", "funnel", "lifetime_value",
    "rfm", "rfm_scores", "sales_cycle", "satisfaction", "satisfaction_summary", "scoped_account_ids",
    "stage_durations", "win_rate_by_owner", "won_by_period",
]


@dataclass(frozen=True)
class DealFilter:
    """Which deals an analysis looks at; ``since``/``until`` bound the date the analysis is about."""

    pipeline_id: int | None = None
    owner_id: int | None = None
    team_id: int | None = None
    region_node: EpsNode | None = None
    product: str | None = None
    since: date | None = None
    until: date | None = None
    sector: str | None = None  # the deal's account's sector


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _month(session: Session, column, *, is_date: bool = False):
    """'YYYY-MM' of a date or a UTC timestamp column, on either backend."""
    if _dialect(session) == "sqlite":
        return func.substr(cast(column, String), 1, 7)
    if is_date:
        return func.to_char(column, "YYYY-MM")
    return func.to_char(func.timezone("UTC", column), "YYYY-MM")


def _days_between(session: Session, start, end):
    """Days (fractional) from ``start`` to ``end``, two timestamp expressions."""
    if _dialect(session) == "sqlite":
        return func.julianday(end) - func.julianday(start)
    return func.extract("epoch", end - start) / 86400.0


def _at_midnight(day: date) -> datetime:
    from datetime import timezone

    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def _deal_conditions(session: Session, *, user: User | None, flt: DealFilter, date_column=None) -> list:
    conditions = []
    if user is not None:
        readable = deal_visible(session, user=user)
        if readable is not None:
            conditions.append(readable)
    if flt.pipeline_id is not None:
        conditions.append(Deal.pipeline_id == flt.pipeline_id)
    if flt.owner_id is not None:
        conditions.append(Deal.owner_id == flt.owner_id)
    if flt.team_id is not None:
        conditions.append(Deal.owner_id.in_(select(team_members.c.user_id).where(team_members.c.team_id == flt.team_id)))
    if flt.region_node is not None:
        conditions.append(Deal.project_id.in_(select(Project.id).where(Project.path.like(f"{flt.region_node.path}%"))))
    if flt.product:
        conditions.append(Deal.product == flt.product)
    if flt.sector is not None:
        conditions.append(Deal.account_id.in_(select(Account.id).where(Account.sector == flt.sector)))
    if date_column is not None:
        is_date = date_column is Deal.expected_close
        if flt.since is not None:
            conditions.append(date_column >= (flt.since if is_date else _at_midnight(flt.since)))
        if flt.until is not None:
            conditions.append(date_column < (flt.until if is_date else _at_midnight(flt.until)))
    return conditions


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def funnel(session: Session, *, user: User | None, pipeline: Pipeline, flt: DealFilter = DealFilter()) -> dict:
    """Counts and value by stage, won/lost/open totals, win rate and stage-to-stage conversion (period: created)."""
    flt = DealFilter(**{**flt.__dict__, "pipeline_id": pipeline.id})
    where = _deal_conditions(session, user=user, flt=flt, date_column=Deal.created_at)
    # One grouped scan of the deals gives both the counts by stage and how far each got.
    rows = session.execute(
        select(Deal.stage_id, Deal.opened_stage_id, Deal.reached_stage_id, func.count(),
               type_coerce(func.coalesce(func.sum(Deal.amount), 0), Money()))
        .where(*where).group_by(Deal.stage_id, Deal.opened_stage_id, Deal.reached_stage_id)).all()
    stages = pipeline.stages
    position = {stage.id: stage.position for stage in stages}
    first = min((stage.position for stage in stages if stage.kind is StageKind.open), default=0)
    by_id: dict[int, tuple[int, Decimal]] = {}
    # (position opened at, position reached) -> deals and value: a deal passed the stages in between.
    spans: dict[tuple[int, int], int] = defaultdict(int)
    span_values: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for stage_id, opened_id, reached_id, count, value in rows:
        previous = by_id.get(stage_id, (0, ZERO))
        by_id[stage_id] = (previous[0] + count, previous[1] + Decimal(value))
        if reached_id is not None:
            span = (position.get(opened_id, first), position[reached_id])
            spans[span] += count
            span_values[span] += Decimal(value)
    totals = {kind: [0, ZERO] for kind in StageKind}
    by_stage = []
    for stage in stages:
        count, value = by_id.get(stage.id, (0, ZERO))
        totals[stage.kind][0] += count
        totals[stage.kind][1] += value
        by_stage.append({"stage_id": stage.id, "stage": stage.name, "kind": stage.kind.value,
                         "probability": stage.probability, "count": count, "value": value})
    progression = [stage for stage in stages if stage.kind is not StageKind.lost]
    reached = {stage.id: sum(n for (start, end), n in spans.items() if start <= stage.position <= end)
               for stage in progression}
    reached_value = {stage.id: sum((v for (start, end), v in span_values.items()
                                    if start <= stage.position <= end), ZERO)
                     for stage in progression}
    for row in by_stage:
        # How many deals (and how much) got at least this far; the lost stage is an exit, not a step.
        row["reached"] = reached.get(row["stage_id"])
        row["reached_value"] = reached_value.get(row["stage_id"])
    # Of the deals that reached a stage, those that went on to the next (one opened at the next does not count).
    went_on = {a.id: sum(n for (start, end), n in spans.items() if start <= a.position and end >= b.position)
               for a, b in zip(progression, progression[1:])}
    conversion = [{"from_stage": a.name, "to_stage": b.name, "reached_from": reached[a.id],
                   "reached_to": went_on[a.id], "rate": _ratio(went_on[a.id], reached[a.id])}
                  for a, b in zip(progression, progression[1:])]
    won, lost = totals[StageKind.won][0], totals[StageKind.lost][0]
    return {
        "pipeline": pipeline.name, "pipeline_id": pipeline.id,
        "total": sum(count for count, _value in by_id.values()),
        "open": totals[StageKind.open][0], "won": won, "lost": lost,
        "open_value": totals[StageKind.open][1], "won_value": totals[StageKind.won][1],
        "lost_value": totals[StageKind.lost][1],
        "win_rate": _ratio(won, won + lost),
        "by_stage": by_stage, "conversion": conversion,
    }


def won_by_period(session: Session, *, user: User | None, flt: DealFilter = DealFilter()) -> dict:
    """Won deals' count and value by month and by quarter of their close (period: closed)."""
    month = _month(session, Deal.closed_at)
    rows = session.execute(
        select(month.label("month"), func.count(), type_coerce(func.coalesce(func.sum(Deal.amount), 0), Money()))
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(PipelineStage.kind == StageKind.won, Deal.closed_at.is_not(None),
               *_deal_conditions(session, user=user, flt=flt, date_column=Deal.closed_at))
        .group_by(month).order_by(month)).all()
    months = [{"month": m, "count": count, "value": Decimal(value)} for m, count, value in rows]
    quarters: dict[str, dict] = {}
    for row in months:
        year, number = row["month"].split("-")
        key = f"{year}-Q{(int(number) - 1) // 3 + 1}"
        entry = quarters.setdefault(key, {"quarter": key, "count": 0, "value": ZERO})
        entry["count"] += row["count"]
        entry["value"] += row["value"]
    return {"by_month": months, "by_quarter": list(quarters.values())}


def sales_cycle(session: Session, *, user: User | None, flt: DealFilter = DealFilter()) -> dict:
    """Mean and median days from creation to close of won deals (period: closed)."""
    days = _days_between(session, Deal.created_at, Deal.closed_at)
    values = [float(v) for v in session.scalars(
        select(cast(days, Float)).join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(PipelineStage.kind == StageKind.won, Deal.closed_at.is_not(None),
               *_deal_conditions(session, user=user, flt=flt, date_column=Deal.closed_at)))]
    return {"won_deals": len(values),
            "mean_days": round(statistics.fmean(values), 2) if values else None,
            "median_days": round(statistics.median(values), 2) if values else None}


def stage_durations(session: Session, *, user: User | None, pipeline: Pipeline, flt: DealFilter = DealFilter(),
                    now: datetime | None = None) -> list[dict]:
    """Average days deals spent in each open stage: until the next move, or until now while still there."""
    now = now or utcnow()
    flt = DealFilter(**{**flt.__dict__, "pipeline_id": pipeline.id})
    following = func.lead(DealStageChange.at).over(partition_by=DealStageChange.deal_id,
                                                    order_by=(DealStageChange.at, DealStageChange.id))
    steps = (select(DealStageChange.to_stage_id.label("stage_id"), DealStageChange.at.label("at"),
                    following.label("left_at"))
             .join(Deal, Deal.id == DealStageChange.deal_id)
             .where(*_deal_conditions(session, user=user, flt=flt, date_column=Deal.created_at)).subquery())
    # Bound as a literal of the column's type, so SQLite compares the same text form it stores.
    now_value = literal(now, type_=DealStageChange.__table__.c.at.type)
    left = func.coalesce(steps.c.left_at, now_value)
    days = _days_between(session, steps.c.at, left)
    rows = dict((stage_id, (float(avg), count)) for stage_id, avg, count in session.execute(
        select(steps.c.stage_id, cast(func.avg(days), Float), func.count()).group_by(steps.c.stage_id)).all())
    return [{"stage_id": stage.id, "stage": stage.name, "visits": rows.get(stage.id, (None, 0))[1],
             "average_days": round(rows[stage.id][0], 2) if stage.id in rows else None}
            for stage in pipeline.stages if stage.kind is StageKind.open]


def forecast(session: Session, *, user: User | None, flt: DealFilter = DealFilter()) -> list[dict]:
    """Open deals by expected close month: count, value and weighted value (amount × probability; period: expected close)."""
    probability = effective_probability()
    month = _month(session, Deal.expected_close, is_date=True)
    rows = session.execute(
        select(month, func.count(), type_coerce(func.coalesce(func.sum(Deal.amount), 0), Money()),
               type_coerce(func.coalesce(func.sum(Deal.amount * probability), 0), Money()))
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(PipelineStage.kind == StageKind.open, Deal.expected_close.is_not(None),
               *_deal_conditions(session, user=user, flt=flt, date_column=Deal.expected_close))
        .group_by(month).order_by(month)).all()
    return [{"month": m, "count": count, "value": Decimal(value),
             "weighted_value": (Decimal(weighted) / 100).quantize(Decimal("0.01"))}
            for m, count, value, weighted in rows]


def win_rate_by_owner(session: Session, *, user: User | None, flt: DealFilter = DealFilter()) -> list[dict]:
    """Won and lost deals (count and value) and win rate won / (won + lost) by owner (period: closed).

    Owners with no closed deal are left out; deals without an owner are one row with ``owner_id`` None.
    """
    won = case((PipelineStage.kind == StageKind.won, 1), else_=0)
    lost = case((PipelineStage.kind == StageKind.lost, 1), else_=0)
    won_value = case((PipelineStage.kind == StageKind.won, Deal.amount), else_=None)
    rows = session.execute(
        select(Deal.owner_id, func.sum(won), func.sum(lost),
               type_coerce(func.coalesce(func.sum(won_value), 0), Money()))
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(PipelineStage.kind != StageKind.open, Deal.closed_at.is_not(None),
               *_deal_conditions(session, user=user, flt=flt, date_column=Deal.closed_at))
        .group_by(Deal.owner_id)).all()
    names = dict(session.execute(select(User.id, User.name).where(
        User.id.in_([owner for owner, *_rest in rows if owner is not None]))).all())
    result = [{"owner_id": owner, "owner": names.get(owner), "won": int(won_count), "lost": int(lost_count),
               "won_value": Decimal(value), "win_rate": _ratio(int(won_count), int(won_count) + int(lost_count))}
              for owner, won_count, lost_count, value in rows]
    return sorted(result, key=lambda row: (-(row["win_rate"] or 0), -row["won"], row["owner"] or ""))


def _won_by_account(session: Session, *, user: User | None, flt: DealFilter):
    return (select(Deal.account_id.label("account_id"), func.count().label("won"),
                   type_coerce(func.sum(Deal.amount), Money()).label("value"),
                   func.min(Deal.closed_at).label("first_won"), func.max(Deal.closed_at).label("last_won"))
            .join(PipelineStage, PipelineStage.id == Deal.stage_id)
            .where(PipelineStage.kind == StageKind.won,
                   *_deal_conditions(session, user=user, flt=flt, date_column=Deal.closed_at))
            .group_by(Deal.account_id))


def lifetime_value(session: Session, *, user: User | None, flt: DealFilter = DealFilter(),
                   limit: int = 100) -> list[dict]:
    """Accounts by the total value of their won deals, highest first."""
    won = _won_by_account(session, user=user, flt=flt).subquery()
    rows = session.execute(select(Account.id, Account.name, won.c.won, won.c.value, won.c.first_won, won.c.last_won)
                           .join(won, won.c.account_id == Account.id)
                           .order_by(won.c.value.desc(), Account.id).limit(limit)).all()
    return [{"account_id": account_id, "account": name, "won_deals": count, "lifetime_value": Decimal(value),
             "first_won_at": first, "last_won_at": last} for account_id, name, count, value, first, last in rows]


RFM_SEGMENTS = (
    # (recency at least, frequency at least, segment); the first that fits wins.
    (3, 3, "champions"),
    (2, 2, "loyal"),
    (3, 1, "new"),
    (1, 2, "at_risk"),
    (1, 1, "hibernating"),
)


def rfm_scores(session: Session, *, user: User | None, flt: DealFilter = DealFilter()):
    """The RFM scoring in SQL, the one home of it: a subquery of the accounts with a won deal (among the deals
    ``user`` may read) with ``won``, ``value``, ``last_won``, their scores ``r``, ``f``, ``m`` (1-3) and ``segment``.

    A score is the tertile of the account's value among the distinct values of the population (ties share a
    score): 1 + 3 × (dense rank − 1) // (number of distinct values), with recency ranked oldest last win first.
    The RFM report and the segments' ``rfm_segments`` filter both read this.
    """
    won = _won_by_account(session, user=user, flt=flt).subquery()
    ranked = select(won.c.account_id, won.c.won, won.c.value, won.c.last_won,
                    func.dense_rank().over(order_by=won.c.last_won).label("r_rank"),
                    func.dense_rank().over(order_by=won.c.won).label("f_rank"),
                    func.dense_rank().over(order_by=won.c.value).label("m_rank")).subquery()
    counted = select(ranked, func.max(ranked.c.r_rank).over().label("r_n"), func.max(ranked.c.f_rank).over().label("f_n"),
                     func.max(ranked.c.m_rank).over().label("m_n")).subquery()
    r, f, m = (1 + (3 * (counted.c[f"{key}_rank"] - 1)) // counted.c[f"{key}_n"] for key in "rfm")
    scored = select(counted.c.account_id, counted.c.won, counted.c.value, counted.c.last_won,
                    r.label("r"), f.label("f"), m.label("m")).subquery()
    segment = case(*[((scored.c.r >= r_min) & (scored.c.f >= f_min), literal(name)) for r_min, f_min, name in RFM_SEGMENTS[:-1]],
                   else_=literal(RFM_SEGMENTS[-1][2]))
    return select(scored, segment.label("segment")).subquery()


def rfm(session: Session, *, user: User | None, flt: DealFilter = DealFilter(), now: datetime | None = None) -> list[dict]:
    """Recency (days since the last win), frequency (wins) and monetary value (won total), scored 1-3, with a segment
    (``rfm_scores``)."""
    now = now or utcnow()
    scores = rfm_scores(session, user=user, flt=flt)
    rows = session.execute(select(scores, Account.name).join(Account, Account.id == scores.c.account_id)).all()
    result = [{"account_id": row.account_id, "account": row.name,
               "recency_days": round((now - row.last_won).total_seconds() / 86400, 1), "frequency": row.won,
               "monetary": Decimal(row.value).quantize(Decimal("0.01")),
               "r": row.r, "f": row.f, "m": row.m, "score": f"{row.r}{row.f}{row.m}", "segment": row.segment}
              for row in rows]
    result.sort(key=lambda item: (-(item["r"] + item["f"] + item["m"]), item["account_id"]))
    return result


@dataclass(frozen=True)
class AccountScope:
    """Which accounts an account-level figure looks at (besides the user's rights).

    ``branch``: accounts whose own node lies under this EPS node; ``owner_id``: the account's owner.
    """

    branch: EpsNode | None = None
    sector: str | None = None
    owner_id: int | None = None


def scoped_account_ids(session: Session, *, user: User | None, scope: AccountScope = AccountScope()):
    """A select of the ids of the unmerged accounts ``user`` may read (None: all) within ``scope``."""
    query = select(Account.id).where(Account.merged_into_id.is_(None))
    if user is not None:
        readable = readable_account_ids(session, user=user)
        if readable is not None:
            query = query.where(Account.id.in_(readable))
    if scope.branch is not None:
        query = query.where(Account.eps_node_id.in_(
            select(EpsNode.id).where(EpsNode.path.like(f"{scope.branch.path}%"))))
    if scope.sector is not None:
        query = query.where(Account.sector == scope.sector)
    if scope.owner_id is not None:
        query = query.where(Account.owner_id == scope.owner_id)
    return query


def _contact_norm_rows(session: Session, *, user: User | None, norms: dict[AccountKind, int] | None, days: int,
                       now: datetime, scope: AccountScope):
    """Per client and prospect in scope: touches in the ``days`` up to ``now``, the last one and the scaled norm.

    The one home of the contact-norm rule: an account meets its norm when its touches (interactions) in the
    window are at least its kind's yearly norm × days / 365; other kinds have no norm and are left out.
    """
    norms = {**CONTACT_NORMS, **(norms or {})}
    since = now - timedelta(days=days)
    touches = (select(Interaction.account_id, func.count().label("touches"),
                      func.max(Interaction.occurred_at).label("last_touch"))
               .where(Interaction.occurred_at >= since, Interaction.occurred_at < now)
               .group_by(Interaction.account_id).subquery())
    required = cast(case(*[(Account.kind == kind, literal(norm * days / 365.0)) for kind, norm in norms.items()],
                         else_=None), Float)
    count = func.coalesce(touches.c.touches, 0)
    query = (select(Account.id.label("account_id"), Account.name.label("account"), Account.kind.label("kind"),
                    Account.owner_id.label("owner_id"), Account.region_node_id.label("branch_id"),
                    count.label("touches"), touches.c.last_touch.label("last_touch_at"), required.label("norm"))
             .outerjoin(touches, touches.c.account_id == Account.id)
             .where(Account.kind.in_(list(norms)), Account.id.in_(scoped_account_ids(session, user=user, scope=scope))))
    return query, count, required


def contact_gaps(session: Session, *, user: User | None, norms: dict[AccountKind, int] | None = None,
                 days: int = 365, owner_id: int | None = None, region_node: EpsNode | None = None,
                 sector: str | None = None, now: datetime | None = None, limit: int = 500) -> list[dict]:
    """Accounts touched less often than their norm over the last ``days`` (norms are per year, scaled)."""
    query, count, required = _contact_norm_rows(
        session, user=user, norms=norms, days=days, now=now or utcnow(),
        scope=AccountScope(branch=region_node, sector=sector, owner_id=owner_id))
    query = query.where(count < required).order_by(count, Account.name, Account.id).limit(limit)
    return [{"account_id": row.account_id, "account": row.account, "kind": row.kind.value, "owner_id": row.owner_id,
             "branch_id": row.branch_id, "touches": row.touches, "norm": round(row.norm, 2),
             "last_touch_at": row.last_touch_at}
            for row in session.execute(query).all()]


def contact_compliance(session: Session, *, user: User | None, norms: dict[AccountKind, int] | None = None,
                       days: int = 365, now: datetime | None = None, scope: AccountScope = AccountScope(),
                       by: str | None = None) -> list[dict]:
    """Clients and prospects meeting their contact norm over the last ``days``: accounts, meeting, compliance.

    ``by``: None (one row for all), ``"owner"`` (the account's owner) or ``"branch"`` (the node the account
    hangs under); grouped in SQL. Compliance = meeting / accounts (None with no account).
    """
    query, count, required = _contact_norm_rows(session, user=user, norms=norms, days=days, now=now or utcnow(),
                                                 scope=scope)
    rows = query.subquery()
    meets = func.sum(case((rows.c.touches >= rows.c.norm, 1), else_=0))
    key = {None: literal(None), "owner": rows.c.owner_id, "branch": rows.c.branch_id}[by]
    grouped = session.execute(select(key, func.count(), meets).group_by(key) if by else
                              select(key, func.count(), meets)).all()
    names: dict = {}
    if by == "owner":
        names = dict(session.execute(select(User.id, User.name).where(
            User.id.in_([k for k, *_rest in grouped if k is not None]))).all())
    elif by == "branch":
        names = dict(session.execute(select(EpsNode.id, EpsNode.name).where(
            EpsNode.id.in_([k for k, *_rest in grouped if k is not None]))).all())
    result = [{"id": k, "name": names.get(k), "accounts": int(n), "meeting": int(m or 0),
               "behind": int(n) - int(m or 0), "compliance": _ratio(int(m or 0), int(n))}
              for k, n, m in grouped if n]
    if by is None:
        return result or [{"id": None, "name": None, "accounts": 0, "meeting": 0, "behind": 0, "compliance": None}]
    return sorted(result, key=lambda row: (row["compliance"] if row["compliance"] is not None else 2,
                                           row["name"] or "", row["id"] or 0))


def _survey_scores(session: Session, *, user: User | None, keys: list, account_id: int | None = None,
                   deal_id: int | None = None, since: date | None = None, until: date | None = None,
                   scope: AccountScope | None = None) -> list[tuple]:
    """(keys..., kind, answers, mean score, promoters 9-10, detractors 0-6) grouped by ``keys`` and kind."""
    query = (select(*keys, SurveyAnswer.kind, func.count(), cast(func.avg(SurveyAnswer.score), Float),
                    func.sum(case((SurveyAnswer.score >= 9, 1), else_=0)),
                    func.sum(case((SurveyAnswer.score <= 6, 1), else_=0)))
             .group_by(*keys, SurveyAnswer.kind))
    if scope is not None:
        query = query.where(SurveyAnswer.account_id.in_(scoped_account_ids(session, user=user, scope=scope)))
    elif user is not None:
        readable = readable_account_ids(session, user=user)
        if readable is not None:
            query = query.where(SurveyAnswer.account_id.in_(readable))
    if account_id is not None:
        query = query.where(SurveyAnswer.account_id == account_id)
    if deal_id is not None:
        query = query.where(SurveyAnswer.deal_id == deal_id)
    if since is not None:
        query = query.where(SurveyAnswer.answered_at >= _at_midnight(since))
    if until is not None:
        query = query.where(SurveyAnswer.answered_at < _at_midnight(until))
    return session.execute(query).all()


def _scores(rows) -> dict:
    """CSAT mean and NPS from one group's (kind, answers, mean, promoters, detractors) rows."""
    entry = {"csat_answers": 0, "csat": None, "nps_answers": 0, "nps": None}
    for kind, count, average, promoters, detractors in rows:
        if kind is SurveyKind.csat:
            entry["csat_answers"], entry["csat"] = count, round(average, 2)
        else:
            entry["nps_answers"], entry["nps"] = count, round(100 * (promoters - detractors) / count, 1)
    return entry


def satisfaction(session: Session, *, user: User | None, account_id: int | None = None, deal_id: int | None = None,
                 since: date | None = None, until: date | None = None) -> list[dict]:
    """CSAT (mean of 1-5) and NPS (% promoters 9-10 minus % detractors 0-6) by month."""
    month = _month(session, SurveyAnswer.answered_at)
    by_month: dict[str, list] = defaultdict(list)
    for m, *rest in _survey_scores(session, user=user, keys=[month], account_id=account_id, deal_id=deal_id,
                                   since=since, until=until):
        by_month[m].append(rest)
    return [{"month": m, **_scores(rows)} for m, rows in sorted(by_month.items())]


def satisfaction_summary(session: Session, *, user: User | None, since: date | None = None,
                         until: date | None = None, scope: AccountScope = AccountScope()) -> dict:
    """CSAT and NPS (as ``satisfaction``) over the whole period, for the accounts in ``scope``."""
    return _scores(_survey_scores(session, user=user, keys=[], since=since, until=until, scope=scope))

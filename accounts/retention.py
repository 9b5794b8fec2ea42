"""Retention and the customer life cycle: cohorts, buying again, revenue retention, churn, and KPIs of two
periods side by side (before/after).

Definitions (each figure sees only the accounts and deals the user may read, ``user=None``: all):

- a *win* is a deal in a won stage with its close time; its period is the month (or quarter) of that time, UTC;
- an account's *cohort* is the period of its first win (among the deals counted) up to the ``as_of`` day;
- period ``k`` of a cohort is the k-th period after the cohort's own (k = 0 is the cohort's period);
  *buying again* in k ≥ 1 = accounts of the cohort with a win in period k ÷ the cohort's size;
  *revenue retention* in k = the cohort's won value in period k ÷ its won value in period 0;
- *churned* as of a day: a cohort's account with no deal created or won and no interaction in the
  ``churn_months`` calendar months up to that day (inclusive);
- *retention of a period* (before/after) = of the accounts with a win in the equally long stretch just before
  the period, the share with a win within the period;
- contact-norm compliance: ``accounts.analytics.contact_compliance`` (the norm's one home).

Filters (``AccountScope``): ``branch`` (accounts whose node lies under an EPS node), ``sector`` and ``owner_id``
(the account's owner). Deal figures of the before/after (win rate, sales cycle) filter the deals the same way
except that ``owner_id`` is then the deal's owner. All figures are grouped in SQL; only the grouped rows come back.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Integer, String, and_, case, cast, func, or_, select, type_coerce, union
from sqlalchemy.orm import Session

from crmpm.database import Money
from crmpm.errors import Invalid
from crmpm.users.models import User
from eps.models import EpsNode

from accounts import analytics
from accounts.analytics import AccountScope, DealFilter, _at_midnight, _deal_conditions, _dialect, _ratio
from accounts.models import Account, Deal, Interaction, PipelineStage, StageKind

__all__ = ["KPIS", "PERIODS", "Period", "add_months", "branches", "cohorts", "compare", "contact_norm", "kpis_of", "period_index",
           "period_label"]

ZERO = Decimal("0.00")
PERIODS = ("month", "quarter")
KPIS = ("win_rate", "sales_cycle", "retention", "satisfaction", "contact_norm")
MAX_PERIODS = 120


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def period_index(day: date, period: str) -> int:
    """Months (or quarters) since year 0 of ``day``: consecutive periods have consecutive indexes."""
    index = day.year * 12 + day.month - 1
    return index // 3 if period == "quarter" else index


def period_label(index: int, period: str) -> str:
    """'2026-03' for a month, '2026-Q1' for a quarter."""
    if period == "quarter":
        return f"{index // 4:04d}-Q{index % 4 + 1}"
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def period_start(index: int, period: str) -> date:
    if period == "quarter":
        return date(index // 4, (index % 4) * 3 + 1, 1)
    return date(index // 12, index % 12 + 1, 1)


def _index_of_key(key, period: str) -> int:
    """The period index of a key from ``_period_key_sql``: a label (SQLite) or the period's first moment."""
    if isinstance(key, str):
        if period == "quarter":
            return int(key[:4]) * 4 + int(key[6:]) - 1
        return int(key[:4]) * 12 + int(key[5:7]) - 1
    return period_index(key, period)


def _period_key_sql(session: Session, column, period: str):
    """A key of the period of a UTC timestamp column, in SQL, ordered as time: on SQLite the period's label
    (text), on PostgreSQL the period's first moment (``date_trunc``, much cheaper than formatting)."""
    if _dialect(session) == "sqlite":
        if period == "quarter":
            return func.substr(column, 1, 4) + "-Q" + cast((cast(func.substr(column, 6, 2), Integer) + 2) // 3,
                                                            String)
        return func.substr(column, 1, 7)
    return func.date_trunc(period, func.timezone("UTC", column))


def _key_of_index(session: Session, index: int, period: str):
    """The SQL key (as ``_period_key_sql``) of a period index, to compare cohorts with."""
    if _dialect(session) == "sqlite":
        return period_label(index, period)
    start = period_start(index, period)
    return datetime(start.year, start.month, 1)


def _plain(session: Session, column):
    """``column`` as an expression SQLite's planner will not answer through its index: the cohort reads every
    deal once in table order, which beats one index probe per row (measured: bench/bench_cohorts.py)."""
    return column + 0 if _dialect(session) == "sqlite" else column


def cohorts(session: Session, *, user: User | None, period: str = "month", since: date | None = None,
            until: date | None = None, scope: AccountScope = AccountScope(), churn_months: int = 6,
            periods: int = 12, as_of: date | None = None) -> dict:
    """Cohorts by the period of the first win: size, buying again and revenue retention in each following
    period (up to ``periods`` or ``as_of``), and churn as of ``as_of`` (default today).

    ``since``/``until`` (until exclusive) choose the cohorts by their period's days. One statement: the wins
    grouped by account and period, each account's first period beside them (a window), grouped again by
    (cohort, period) with the cohort's churned accounts counted on its period-0 rows.
    """
    if period not in PERIODS:
        raise Invalid("period must be month or quarter", errors={"period": ["Must be month or quarter."]})
    as_of = as_of or date.today()
    end = _at_midnight(as_of + timedelta(days=1))
    churn_start = _at_midnight(add_months(as_of + timedelta(days=1), -churn_months))
    accounts = analytics.scoped_account_ids(session, user=user, scope=scope)
    visible = _deal_conditions(session, user=user, flt=DealFilter())
    # The won stages' ids as values (a handful): the planner then knows how many deals are won.
    won_stages = list(session.scalars(select(PipelineStage.id).where(PipelineStage.kind == StageKind.won))) or [0]
    account = _plain(session, Deal.account_id)
    key = _period_key_sql(session, Deal.closed_at, period)
    won = (select(account.label("account_id"), key.label("p"), type_coerce(func.sum(Deal.amount), Money()).label("value"))
           .where(Deal.stage_id.in_(won_stages), Deal.closed_at.is_not(None), Deal.closed_at < end,
                  account.in_(accounts), *visible)
           .group_by(account, key)).subquery("won")
    first = func.min(won.c.p).over(partition_by=won.c.account_id)
    with_first = select(won.c.account_id, won.c.p, won.c.value, first.label("c")).subquery("with_first")
    # Active in the churn window: a deal created or won, or an interaction.
    active = union(
        select(Deal.account_id).where(
            or_(and_(Deal.created_at >= churn_start, Deal.created_at < end),
                and_(Deal.stage_id.in_(won_stages), Deal.closed_at >= churn_start, Deal.closed_at < end)),
            *visible),
        select(Interaction.account_id).where(Interaction.account_id.is_not(None),
                                             Interaction.occurred_at >= churn_start, Interaction.occurred_at < end),
    )
    churned = case((and_(with_first.c.p == with_first.c.c, with_first.c.account_id.not_in(active)), 1), else_=0)
    query = (select(with_first.c.c, with_first.c.p, func.count(),
                    type_coerce(func.sum(with_first.c.value), Money()), func.sum(churned))
             .group_by(with_first.c.c, with_first.c.p))
    if since is not None:
        query = query.where(with_first.c.c >= _key_of_index(session, period_index(since, period), period))
    if until is not None:
        query = query.where(with_first.c.c <= _key_of_index(session, period_index(until - timedelta(days=1), period),
                                                            period))

    by_cohort: dict[int, dict[int, tuple[int, Decimal]]] = defaultdict(dict)
    lost: dict[int, int] = {}
    for c_key, p_key, count, value, gone in session.execute(query).all():
        c, p = _index_of_key(c_key, period), _index_of_key(p_key, period)
        if p - c <= periods:
            by_cohort[c][p - c] = (int(count), Decimal(value or 0))
        if p == c:
            lost[c] = int(gone or 0)
    last = period_index(as_of, period)
    result = []
    for c in sorted(by_cohort):
        cells_of = by_cohort[c]
        size, base = cells_of.get(0, (0, ZERO))
        rows = []
        for offset in range(0, min(periods, last - c) + 1):
            count, value = cells_of.get(offset, (0, ZERO))
            rows.append({"k": offset, "period": period_label(c + offset, period), "accounts": count,
                         "share": _ratio(count, size), "value": value,
                         "revenue_retention": round(float(value / base), 4) if base else None})
        result.append({"cohort": period_label(c, period), "start": period_start(c, period), "size": size,
                       "won_value": base, "churned": lost.get(c, 0), "churn_rate": _ratio(lost.get(c, 0), size),
                       "periods": rows})
    return {"period": period, "as_of": as_of, "churn_months": churn_months, "cohorts": result,
            "average": _average_curve(result)}


def _average_curve(result: list[dict]) -> list[dict]:
    """Period k over every cohort that has reached it: accounts buying ÷ their sizes, value ÷ their bases."""
    totals: dict[int, list] = defaultdict(lambda: [0, 0, 0, ZERO, ZERO])
    for cohort in result:
        for row in cohort["periods"]:
            entry = totals[row["k"]]
            entry[0] += 1
            entry[1] += row["accounts"]
            entry[2] += cohort["size"]
            entry[3] += row["value"]
            entry[4] += cohort["won_value"]
    return [{"k": offset, "cohorts": n, "accounts": accounts, "size": size, "share": _ratio(accounts, size),
             "revenue_retention": round(float(value / base), 4) if base else None}
            for offset, (n, accounts, size, value, base) in sorted(totals.items())]


@dataclass(frozen=True)
class Period:
    """Days ``since`` up to ``until`` (exclusive)."""

    since: date
    until: date

    @property
    def days(self) -> int:
        return (self.until - self.since).days


def _won_deals(session: Session, *, user: User | None, accounts, flt: DealFilter = DealFilter()) -> list:
    """Conditions of the wins counted: won stage (joined), closed, readable, of the accounts in ``accounts``."""
    return [PipelineStage.kind == StageKind.won, Deal.closed_at.is_not(None), Deal.account_id.in_(accounts),
            *_deal_conditions(session, user=user, flt=flt)]


def _retention(session: Session, *, user: User | None, span: Period, scope: AccountScope) -> dict:
    accounts = analytics.scoped_account_ids(session, user=user, scope=scope)
    before_start = _at_midnight(span.since - timedelta(days=span.days))
    start, end = _at_midnight(span.since), _at_midnight(span.until)
    per_account = (select(Deal.account_id,
                          func.max(case((Deal.closed_at < start, 1), else_=0)).label("before"),
                          func.max(case((Deal.closed_at >= start, 1), else_=0)).label("within"))
                   .join(PipelineStage, PipelineStage.id == Deal.stage_id)
                   .where(*_won_deals(session, user=user, accounts=accounts), Deal.closed_at >= before_start,
                          Deal.closed_at < end)
                   .group_by(Deal.account_id)).subquery()
    base, kept = session.execute(select(func.coalesce(func.sum(per_account.c.before), 0),
                                        func.coalesce(func.sum(per_account.c.before * per_account.c.within), 0))
                                 ).one()
    return {"base_accounts": int(base), "retained_accounts": int(kept), "retention": _ratio(int(kept), int(base))}


def kpis_of(session: Session, *, user: User | None, span: Period, kpis: tuple[str, ...] = KPIS,
            scope: AccountScope = AccountScope()) -> dict:
    """The asked KPIs of one period (see the module's definitions); each a dict of figures."""
    unknown = [kpi for kpi in kpis if kpi not in KPIS]
    if unknown:
        raise Invalid("unknown KPIs: {kpis}", kpis=", ".join(unknown), errors={"kpis": [f"Choose from {', '.join(KPIS)}."]})
    flt = DealFilter(owner_id=scope.owner_id, region_node=scope.branch, sector=scope.sector, since=span.since,
                     until=span.until)
    figures: dict[str, dict] = {}
    if "win_rate" in kpis:
        rows = analytics.win_rate_by_owner(session, user=user, flt=flt)
        won, lost = sum(row["won"] for row in rows), sum(row["lost"] for row in rows)
        figures["win_rate"] = {"won": won, "lost": lost, "win_rate": _ratio(won, won + lost)}
    if "sales_cycle" in kpis:
        figures["sales_cycle"] = analytics.sales_cycle(session, user=user, flt=flt)
    if "retention" in kpis:
        figures["retention"] = _retention(session, user=user, span=span, scope=scope)
    if "satisfaction" in kpis:
        figures["satisfaction"] = analytics.satisfaction_summary(session, user=user, since=span.since,
                                                                 until=span.until, scope=scope)
    if "contact_norm" in kpis:
        (row,) = analytics.contact_compliance(session, user=user, days=span.days, now=_at_midnight(span.until),
                                              scope=scope)
        figures["contact_norm"] = {key: row[key] for key in ("accounts", "meeting", "compliance")}
    return figures


def _difference(a: dict, b: dict) -> dict:
    result = {}
    for key, value in a.items():
        other = b.get(key)
        if isinstance(value, (int, float)) and isinstance(other, (int, float)):
            result[key] = round(other - value, 4)
        else:
            result[key] = None
    return result


def compare(session: Session, *, user: User | None, a: Period, b: Period, kpis: tuple[str, ...] = KPIS,
            scope: AccountScope = AccountScope()) -> dict:
    """The KPIs of periods A and B side by side, with B − A for every figure (None where either is None)."""
    for name, span in (("a", a), ("b", b)):
        if span.until <= span.since:
            raise Invalid("period {period} ends before it starts", period=name.upper(),
                          errors={f"{name}_until": ["Must be after the period's start."]})
    first = kpis_of(session, user=user, span=a, kpis=kpis, scope=scope)
    second = kpis_of(session, user=user, span=b, kpis=kpis, scope=scope)
    return {"kpis": [kpi for kpi in KPIS if kpi in kpis],
            "a": {"since": a.since, "until": a.until, **first}, "b": {"since": b.since, "until": b.until, **second},
            "difference": {kpi: _difference(first[kpi], second[kpi]) for kpi in first}}


def contact_norm(session: Session, *, user: User | None, scope: AccountScope = AccountScope(),
                 norms: dict | None = None, days: int = 365, limit: int = 100, now=None) -> dict:
    """The contact-norm dashboard: compliance overall, per owner and per branch, and the accounts falling behind
    (``accounts.analytics.contact_compliance`` and ``contact_gaps``, the norm's home)."""
    (total,) = analytics.contact_compliance(session, user=user, norms=norms, days=days, now=now, scope=scope)
    return {"total": total,
            "by_owner": analytics.contact_compliance(session, user=user, norms=norms, days=days, now=now,
                                                     scope=scope, by="owner"),
            "by_branch": analytics.contact_compliance(session, user=user, norms=norms, days=days, now=now,
                                                      scope=scope, by="branch"),
            "behind": analytics.contact_gaps(session, user=user, norms=norms, days=days, now=now,
                                             owner_id=scope.owner_id, region_node=scope.branch, sector=scope.sector,
                                             limit=limit)}


def branches(session: Session, *, user: User | None, limit: int = 200) -> list:
    """The nodes readable accounts hang under (their branches), by name: the choices of the branch filter."""
    return list(session.scalars(
        select(EpsNode).where(EpsNode.id.in_(select(Account.region_node_id).where(
            Account.id.in_(analytics.scoped_account_ids(session, user=user)))))
        .order_by(EpsNode.name, EpsNode.id).limit(limit)))

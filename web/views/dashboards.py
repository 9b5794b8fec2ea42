"""Sales dashboards: funnel, won value by month, forecast by expected close month, win rate by owner; and the
retention page (``/dashboards/retention``): cohorts, retention curves, before/after and the contact norm.

Every figure comes from ``accounts.analytics`` (the functions behind the API's
``/api/v1/reports/*``), which count only the deals the user may read; the page
turns them into SVG shapes (``web.charts``) and tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import abort, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from accounts import analytics, pipelines, retention
from accounts.models import StageKind
from crmpm.database import db
from crmpm.ratelimit import throttle
from eps import services as eps_services
from web import charts, queries
from web.i18n import amount, month, percent
from web.pages import page_blueprint

bp = page_blueprint("dashboards", __name__, url_prefix="/dashboards")

PERIODS = ("all", "this_year", "last_12_months", "last_year", "custom")


@dataclass(frozen=True)
class Period:
    key: str
    since: date | None
    until: date | None  # exclusive

    @property
    def last_day(self) -> date | None:
        """The period's last day, as a date field shows it."""
        return self.until - timedelta(days=1) if self.until else None


def _date_arg(name: str) -> date | None:
    text = (request.args.get(name) or "").strip()
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def period_from_request(today: date) -> Period:
    """The period asked for: all time by default; a custom one from ``since``/``until`` (until inclusive on screen)."""
    key = request.args.get("period", "all")
    if key == "this_year":
        return Period(key, date(today.year, 1, 1), date(today.year + 1, 1, 1))
    if key == "last_year":
        return Period(key, date(today.year - 1, 1, 1), date(today.year, 1, 1))
    if key == "last_12_months":
        # This month and the eleven before it.
        start = date(today.year - 1, today.month + 1, 1) if today.month < 12 else date(today.year, 1, 1)
        return Period(key, start, today + timedelta(days=1))
    if key == "custom":
        since, until = _date_arg("since"), _date_arg("until")
        if since and until and until < since:
            since, until = until, since
        return Period(key, since, until + timedelta(days=1) if until else None)
    return Period("all", None, None)


def _month_label(text: str) -> str:
    year, number = text.split("-")
    return month(date(int(year), int(number), 1), "LLL yy")


@bp.route("/")
def index():
    """The sales dashboards of one pipeline, for a period and optionally one owner."""
    session = db.session
    choices = list(session.scalars(pipelines.list_pipelines(session, active_only=True)))
    pipeline_id = request.args.get("pipeline", type=int)
    if pipeline_id is not None:
        if not 0 < pipeline_id < 2**31:
            abort(404)
        pipeline = pipelines.get_pipeline_or_raise(session, pipeline_id=pipeline_id)
    else:
        pipeline = choices[0] if choices else None
    owner_id = request.args.get("owner", type=int)
    owner_id = owner_id if owner_id is not None and 0 < owner_id < 2**31 else None
    period = period_from_request(date.today())
    owners = queries.active_users(session, limit=500)
    context = {"pipelines": choices, "pipeline": pipeline, "owners": owners, "owner_id": owner_id,
               "period": period, "periods": PERIODS}
    if pipeline is None:
        return render_template("dashboards/index.html", **context)
    flt = analytics.DealFilter(pipeline_id=pipeline.id, owner_id=owner_id, since=period.since, until=period.until)
    funnel = analytics.funnel(session, user=g.user, pipeline=pipeline, flt=flt)
    won = analytics.won_by_period(session, user=g.user, flt=flt)["by_month"]
    forecast = analytics.forecast(session, user=g.user, flt=flt)
    win_rates = analytics.win_rate_by_owner(session, user=g.user, flt=flt)
    steps = [row for row in funnel["by_stage"] if row["kind"] != StageKind.lost.value]
    funnel_chart = charts.funnel(
        [(row["stage"], row["reached"], row["reached_value"], f"kind-{row['kind']}") for row in steps],
        [row["rate"] for row in funnel["conversion"]])
    won_chart = charts.bar_chart(
        [_month_label(row["month"]) for row in won], [charts.Series(_("Won"), [row["value"] for row in won], "bar-won")],
        titles=[[f"{_month_label(row['month'])} · {row['count']} · {amount(row['value'])}" for row in won]]) \
        if won else None
    forecast_chart = charts.bar_chart(
        [_month_label(row["month"]) for row in forecast],
        [charts.Series(_("Amount"), [row["value"] for row in forecast], "bar-value"),
         charts.Series(_("Weighted"), [row["weighted_value"] for row in forecast], "bar-weighted")],
        titles=[[f"{_month_label(row['month'])} · {_('Amount')}: {amount(row['value'])}" for row in forecast],
                [f"{_month_label(row['month'])} · {_('Weighted')}: {amount(row['weighted_value'])}" for row in forecast]]) \
        if forecast else None
    rate_bars = {row["owner_id"]: charts.stacked_bar([
        (_("Won"), row["won"], "seg-winrate"), (_("Lost"), row["lost"], "seg-lossrate")], width=200)
        for row in win_rates}
    return render_template(
        "dashboards/index.html", **context, funnel=funnel, funnel_chart=funnel_chart, steps=steps, won=won,
        won_chart=won_chart, forecast=forecast, forecast_chart=forecast_chart, win_rates=win_rates,
        rate_bars=rate_bars, month_label=_month_label)


# -- Retention and the life cycle: cohorts, retention curves, before/after, the contact norm ---------------------

KPI_ROWS = (
    # (kpi, figure, label, kind): kind "share" is a 0-1 ratio drawn in the bars, "days" and "score" are not.
    ("win_rate", "win_rate", _l("Win rate"), "share"),
    ("sales_cycle", "mean_days", _l("Sales cycle, mean days"), "days"),
    ("sales_cycle", "median_days", _l("Sales cycle, median days"), "days"),
    ("retention", "retention", _l("Retention (won again)"), "share"),
    ("satisfaction", "csat", _l("CSAT (1-5)"), "score"),
    ("satisfaction", "nps", _l("NPS"), "score"),
    ("contact_norm", "compliance", _l("Contact-norm compliance"), "share"),
)
CURVES_SHOWN = 4


def _bounded_int(name: str, default: int, low: int, high: int) -> int:
    value = request.args.get(name, type=int)
    return value if value is not None and low <= value <= high else default


def _scope_from_request(session) -> tuple[analytics.AccountScope, dict]:
    """The branch, sector and owner filters asked for (an unreadable branch is 404, like its page)."""
    branch_id = request.args.get("branch", type=int)
    branch = None
    if branch_id is not None and 0 < branch_id < 2**31:
        branch = eps_services.get_node_or_raise(session, user=g.user, node_id=branch_id)
    sector = (request.args.get("sector") or "").strip()[:200] or None
    owner_id = request.args.get("owner", type=int)
    owner_id = owner_id if owner_id is not None and 0 < owner_id < 2**31 else None
    scope = analytics.AccountScope(branch=branch, sector=sector, owner_id=owner_id)
    return scope, {"branch_id": branch.id if branch else None, "sector": sector or "", "owner_id": owner_id}


def _span(prefix: str, default: retention.Period) -> retention.Period:
    since, until = _date_arg(f"{prefix}_since"), _date_arg(f"{prefix}_until")
    if since is None or until is None or until < since or (until - since).days > 3660:
        return default
    return retention.Period(since, until + timedelta(days=1))  # the last day shown inclusive


@bp.route("/retention")
def retention_page():
    """Cohorts by first win, retention curves, two periods side by side and the contact norm."""
    session = db.session
    throttle().attempt("retention-report", g.user.id)
    today = date.today()
    scope, chosen = _scope_from_request(session)
    period = request.args.get("period") if request.args.get("period") in retention.PERIODS else "month"
    churn_months = _bounded_int("churn", 6, 1, 120)
    shown = _bounded_int("periods", 12 if period == "month" else 8, 1, retention.MAX_PERIODS)
    default_since = retention.add_months(today.replace(day=1), -11 if period == "month" else -21)
    since = _date_arg("since") or default_since
    until = _date_arg("until")
    if until is not None and until < since:
        since, until = until, since
    result = retention.cohorts(session, user=g.user, period=period, since=since,
                               until=until + timedelta(days=1) if until else None, scope=scope,
                               churn_months=churn_months, periods=shown, as_of=today)
    cohorts = result["cohorts"]
    width = max((len(cohort["periods"]) for cohort in cohorts), default=0)
    columns = [str(k) for k in range(width)]
    heat = charts.heat_map(
        [cohort["cohort"] for cohort in cohorts], columns,
        [[row["share"] for row in cohort["periods"]] for cohort in cohorts],
        titles=[[f"{cohort['cohort']} · {row['period']}: {row['accounts']} / {cohort['size']}"
                 for row in cohort["periods"]] for cohort in cohorts]) if cohorts else None
    recent = cohorts[-CURVES_SHOWN:]
    curves = charts.line_chart(
        columns, [charts.Series(_("All cohorts"), [row["share"] for row in result["average"]], "line-all")]
        + [charts.Series(cohort["cohort"], [row["share"] for row in cohort["periods"]], f"line-{i}")
           for i, cohort in enumerate(recent)]) if width > 1 else None
    revenue_curve = charts.line_chart(
        columns, [charts.Series(_("Revenue retention"), [row["revenue_retention"] for row in result["average"]],
                                "line-all")]) if width > 1 else None

    b_default = retention.Period(retention.add_months(today + timedelta(days=1), -6), today + timedelta(days=1))
    span_b = _span("b", b_default)
    span_a = _span("a", retention.Period(span_b.since - timedelta(days=span_b.days), span_b.since))
    compared = retention.compare(session, user=g.user, a=span_a, b=span_b, scope=scope)
    kpi_rows = [{"label": label, "kind": kind, "a": compared["a"][kpi].get(figure),
                 "b": compared["b"][kpi].get(figure), "difference": compared["difference"][kpi].get(figure)}
                for kpi, figure, label, kind in KPI_ROWS]
    shares = [row for row in kpi_rows if row["kind"] == "share"]
    compare_chart = charts.bar_chart(
        [str(row["label"]) for row in shares],
        [charts.Series(_("Period A"), [100 * (row["a"] or 0) for row in shares], "bar-a"),
         charts.Series(_("Period B"), [100 * (row["b"] or 0) for row in shares], "bar-b")],
        titles=[[f"{row['label']} · A: {percent(row['a']) or '—'}" for row in shares],
                [f"{row['label']} · B: {percent(row['b']) or '—'}" for row in shares]], height=200)

    norm_days = _bounded_int("norm_days", 365, 1, 3650)
    norm = retention.contact_norm(session, user=g.user, scope=scope, days=norm_days, limit=50)
    norm_bars = {(key, row["id"]): charts.stacked_bar([(_("Meeting the norm"), row["meeting"], "seg-winrate"),
                                                       (_("Behind"), row["behind"], "seg-lossrate")], width=200)
                 for key in ("by_owner", "by_branch") for row in norm[key]}
    owners = queries.active_users(session, limit=500)
    return render_template(
        "dashboards/retention.html", result=result, cohorts=cohorts, columns=columns, heat=heat, curves=curves,
        revenue_curve=revenue_curve, period=period, since=since, until=until, churn_months=churn_months,
        shown=shown, chosen=chosen, branches=retention.branches(session, user=g.user), owners=owners,
        span_a=span_a, span_b=span_b, kpi_rows=kpi_rows, compare_chart=compare_chart, norm=norm,
        norm_days=norm_days, norm_bars=norm_bars, owner_names={user.id: user.name for user in owners},
        day=timedelta(days=1))

"""Sales dashboards: funnel, won value by month, forecast by expected close month, win rate by owner.

Every figure comes from ``accounts.analytics`` (the functions behind the API's
``/api/v1/reports/*``), which count only the deals the user may read; the page
turns them into SVG shapes (``web.charts``) and tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import abort, g, render_template, request
from flask_babel import gettext as _

from accounts import analytics, pipelines
from accounts.models import StageKind
from crmpm.database import db
from web import charts, queries
from web.i18n import amount, month
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

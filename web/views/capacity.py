"""Capacity: per resource and week or month, hours available against hours booked, with the pipeline's demand.

Every figure comes from ``accounts.capacity_demand.capacity_with_demand`` (over ``wbs.resources.capacity``), the
service behind ``GET /api/v1/capacity``: it counts as booked only the projects the user may read and shows the
rest as one anonymous figure per period. The page draws a table (over-allocation marked) and, for the resources
chosen, a histogram in SVG (``web.charts``).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, g, render_template, request, url_for
from flask_babel import gettext as _

from accounts.capacity_demand import capacity_with_demand
from crmpm.database import db
from crmpm.errors import Invalid
from eps import services as eps_services
from web import charts
from web.i18n import translate_error
from web.pages import page_blueprint
from wbs.resources import capacity as capacity_services
from wbs.resources import services as pool

# Named so: the API has a `capacity` blueprint.
bp = page_blueprint("resource_capacity", __name__, url_prefix="/capacity")

# Resources whose histogram is drawn at once.
MAX_CHARTS = 6
DEFAULT_WEEKS = 12


def _date_arg(name: str) -> tuple[date | None, bool]:
    """The date in argument ``name`` (None when absent) and whether it was readable."""
    text = (request.args.get(name) or "").strip()
    if not text:
        return None, True
    try:
        return date.fromisoformat(text), True
    except ValueError:
        return None, False


def _id_arg(name: str) -> int | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 2**31:
        abort(404)
    return int(text)


@bp.route("/")
def index():
    """The capacity table and histograms, filtered by dates, period, EPS node, branch and role."""
    session, user = db.session, g.user
    today = date.today()
    start, start_ok = _date_arg("from")
    end, end_ok = _date_arg("to")
    start = start or capacity_services.week_start(today)
    end = end or start + timedelta(weeks=DEFAULT_WEEKS) - timedelta(days=1)
    period = request.args.get("period") or "week"
    demand = request.args.get("demand") == "1"
    errors = []
    if not start_ok:
        errors.append(_("The first day is not a date."))
    if not end_ok:
        errors.append(_("The last day is not a date."))
    node_id, branch_id, role_id = _id_arg("eps_node"), _id_arg("branch"), _id_arg("role")
    node = eps_services.get_node_or_raise(session, user=user, node_id=node_id) if node_id else None
    branch = eps_services.get_node_or_raise(session, user=user, node_id=branch_id) if branch_id else None
    role = pool.get_role_or_raise(session, role_id=role_id) if role_id else None
    chosen = []
    for text in request.args.getlist("resource")[:MAX_CHARTS]:
        if text.isdigit() and 0 < int(text) < 2**31:
            chosen.append(int(text))
    result = None
    if not errors:
        try:
            result = capacity_with_demand(session, user=user, start=start, end=end, period=period, eps_node=node,
                                          branch=branch, role=role, with_roles=True, demand=demand)
        except Invalid as exc:
            errors.append(translate_error(exc))
    histograms = []
    if result is not None:
        labels = [_period_label(day, period) for day in result.periods]
        for item in result.items:
            if item.id in chosen:
                series = [charts.Series(_("Available"), item.available_hours, "bar-available"),
                          charts.Series(_("Booked"), item.booked_hours, "bar-booked"),
                          charts.Series(_("Other projects"), item.other_hours, "bar-other")]
                if item.demand_hours is not None:
                    series.append(charts.Series(_("Pipeline"), item.demand_hours, "bar-demand"))
                titles = [[f"{label} · {one.name}: {value:.1f}" for label, value in zip(labels, one.values)]
                          for one in series]
                histograms.append((item, charts.bar_chart(labels, series, titles=titles)))
    nodes = list(session.scalars(eps_services.list_nodes(session, user=user).limit(500)))
    roles = list(session.scalars(pool.list_roles(session, user=user).limit(500)))
    args = {"from": start.isoformat(), "to": end.isoformat(), "period": period, "eps_node": node_id or "",
            "branch": branch_id or "", "role": role_id or "", "demand": "1" if demand else ""}

    def chart_url(resource_id: int) -> str:
        shown = [i for i in chosen if i != resource_id] if resource_id in chosen else [*chosen, resource_id]
        return url_for("resource_capacity.index", **args, resource=shown[-MAX_CHARTS:])

    return render_template(
        "capacity/index.html", chart_url=chart_url, result=result, errors=errors, start=start, end=end, period=period,
        demand=demand, node=node, branch=branch, role=role, nodes=nodes, roles=roles, chosen=chosen, histograms=histograms,
        periods=capacity_services.PERIODS, period_label=_period_label, max_days=capacity_services.MAX_DAYS)


def _period_label(day: date, period: str) -> str:
    return day.strftime("%d.%m") if period == "week" else day.strftime("%m.%Y")

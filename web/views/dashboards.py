"""Sales dashboards: funnel, won value by month, forecast by expected close month, win rate by owner."""

from __future__ import annotations

from web.pages import page_blueprint

bp = page_blueprint("dashboards", __name__, url_prefix="/dashboards")

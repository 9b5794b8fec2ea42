"""The PM's pages, one module per part: the list, the project page, the Gantt chart, file exchange."""

from __future__ import annotations

from web.views.pm.blueprint import bp
from web.views.pm import baselines, calendars, codes, exchange, gantt, levelling, listing, project, setup, wbs_edit  # noqa: F401 - they register their routes
from web.views.pm import assignments  # noqa: F401 - registers its routes

__all__ = ["bp"]

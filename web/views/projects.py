"""The PM's pages: project list, WBS and activities, Gantt chart, schedule, earned value, XER/MSPDI exchange.

The pages live in the :mod:`web.views.pm` package; this module names its blueprint for ``web.BLUEPRINTS``.
"""

from __future__ import annotations

from web.views.pm import bp

__all__ = ["bp"]

"""The PM's pages: project list, WBS and activities, Gantt chart, schedule, earned value, XER/MSPDI exchange."""

from __future__ import annotations

from web.pages import page_blueprint

bp = page_blueprint("pm", __name__, url_prefix="/projects")  # "projects" names the API's blueprint

"""The blueprint of the PM's pages ("pm": the API already has a blueprint named "projects")."""

from __future__ import annotations

from web.pages import page_blueprint

bp = page_blueprint("pm", __name__, url_prefix="/projects")

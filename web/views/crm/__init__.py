"""The account manager's pages: pipeline board, deals, accounts with their timeline, leads and tasks.

One blueprint (``crm``) for the sales section; each screen has its own module
that adds its routes to it. Views load through ``accounts`` services (404 for
what the user may not read), call one service function and redirect after a
POST; the rules live in ``accounts``.
"""

from __future__ import annotations

from web.pages import page_blueprint

bp = page_blueprint("crm", __name__, url_prefix="/crm")

# The screens register their routes on ``bp`` when imported.
from web.views.crm import accounts, contacts, deals, entry, imports, leads, pipeline, tasks  # noqa: E402,F401

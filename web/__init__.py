"""The web interface: server-rendered pages over the same domain services as the API.

Pages are Flask blueprints with Jinja templates, a little JavaScript of our
own (``static/app.js``) and SVG charts rendered on the server. Users log in
with a session cookie; every state-changing request carries a CSRF token.
The package attaches itself through the ``crmpm.extensions`` entry point;
nothing below it imports it.

Adding pages (the CRM's pipeline board, the PM's Gantt chart): write a module
in ``web/views`` whose blueprint comes from :func:`web.pages.page_blueprint`
(login, CSRF and HTML error pages come with it), add it to ``BLUEPRINTS``
below, and the menu entry declared in :mod:`web.nav` for its endpoint appears
by itself.
"""

from __future__ import annotations

from flask import Flask

from web import i18n, nav, pages
from web.views import (
    admin, auth, automation, capacity, codes, crm, dashboards, documents, eps, finance, home, jobs, notifications, pool,
    profile, projects, reset, search, settings,
)
from web.views import accounting, invoices, paperwork, payments, timesheets
from web.views.marketing import campaigns as marketing_campaigns
from web.views.marketing import forms as marketing_forms, public_forms
from web.views.marketing import segments as marketing_segments
from web.views.marketing import tracking as marketing_tracking
from web.views.portal import actions as portal_actions
from web.views.portal import auth as portal_auth, projects as portal_projects, staff as portal_staff

BLUEPRINTS = (pages.assets, auth.bp, home.bp, crm.bp, dashboards.bp, projects.bp, finance.bp, admin.bp, profile.bp,
              jobs.bp, search.bp, eps.bp, codes.bp, settings.bp, automation.bp, reset.bp, notifications.bp,
              pool.bp, capacity.bp, timesheets.bp, accounting.bp, payments.bp, documents.bp, invoices.bp, paperwork.bp,
              # Marketing: segments; campaigns and their public tracking links; web-to-lead forms (staff pages;
              # the public form at /forms/<key>)
              marketing_segments.bp, marketing_campaigns.bp, marketing_tracking.bp, marketing_tracking.one_click_bp,
              marketing_forms.bp, public_forms.bp,
              # The client portal (its own login and layout) and its staff side
              portal_auth.bp, portal_projects.bp, portal_actions.bp, portal_staff.bp)


def init_app(app: Flask) -> None:
    """Attach the pages, their session and CSRF protection, translations and template helpers."""
    pages.init_security(app)
    pages.init_unknown_pages(app)
    i18n.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    nav.init_app(app)
    notifications.init_app(app)

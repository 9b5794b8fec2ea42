"""The HTTP API: flask-smorest blueprints and marshmallow schemas, nothing else.

Handlers parse, call one service function and serialize; the transaction is
committed by the app's edge, errors are mapped once by the app.
"""

from __future__ import annotations

import gzip
import hashlib
import json

from flask import Flask, Response, g, request, send_from_directory
from flask.sessions import SecureCookieSessionInterface
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path

from api import (
    accounts, activities, audit, automation, baselines, budgets, capacity, codes, deals, documents, eps, events, grants,
    imports, inbound, jobs, leads, levelling, notifications, projects, reports, resources, routing, users, wbs, webhooks,
)
from api import accounting, invoices, paperwork, payments, timesheets
from api import segments
from api import forms as web_forms
from api import campaigns
from api import portal
from api import portal_actions
from crmpm.auth import user_from_authorization
from crmpm.database import db
from crmpm.errors import Unauthenticated
from eps.permissions import GRANTS_WITH_USER

BLUEPRINTS = (
    eps.blp, projects.blp, budgets.blp, grants.blp, users.blp, notifications.blp, audit.blp,
    # Work breakdown and scheduling
    wbs.blp, baselines.blp, codes.blp, levelling.blp,
    # The resource pool and assignments
    resources.blp,
    # The CRM
    accounts.blp, accounts.contacts_blp, leads.blp, deals.blp, deals.pipelines_blp, activities.interactions_blp,
    activities.tasks_blp, activities.surveys_blp, routing.blp, routing.absences_blp, reports.blp, imports.blp,
    automation.blp,
    # The exchange with accounting
    accounting.blp,
    # Documents on accounts, contacts, deals, projects, WBS elements and activities
    documents.blp,
    # Generated paperwork and its templates
    paperwork.blp,
    # Inbound channels into the journal
    inbound.blp, inbound.channels_blp,
    # Marketing: web-to-lead forms
    web_forms.blp,
    # Background work and what happened
    jobs.blp, events.blp, webhooks.blp,
    # Marketing: campaigns
    campaigns.blp,
    # Resources
    capacity.blp, timesheets.blp,
    # Invoices and the money billed and received
    invoices.blp,
    # Finance: payments and bank statements
    payments.statements_blp, payments.blp,
    # Marketing: segments, tags and consents
    segments.blp, segments.tags_blp,
    # The client portal seen from the staff side: invitations and sharing
    portal.contacts_blp, portal.projects_blp,
    # The client portal: clients' decisions and surveys asked, for staff
    portal_actions.blp,
)
API_PREFIX = "/api/v1/"


def init_app(app: Flask) -> None:
    """Attach the API and its OpenAPI spec (``/api/openapi.json``, docs at ``/api/docs``)."""
    app.config.setdefault("API_SPEC_OPTIONS", {
        "security": [{"bearerAuth": []}],
        "info": {"description": "crmpm: integrated CRM and enterprise project portfolio management."},
    })
    api = Api(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for blueprint in BLUEPRINTS:
        # Registering replaces a blueprint's own prefix, so the API prefix is put before it here.
        api.register_blueprint(blueprint, url_prefix=API_PREFIX.rstrip("/") + (blueprint.url_prefix or ""))
    app.extensions["crmpm.api"] = api
    app.session_interface = NoCookieSessionForApi()
    serve_spec_once(app, api)
    app.add_url_rule("/api/docs/assets/<path:filename>", "swagger_ui_assets",
                     lambda filename: send_from_directory(swagger_ui_path, filename))

    @app.before_request
    def _authenticate():
        if not request.path.startswith(API_PREFIX):
            return None
        # The caller's grants come with the token: nearly every request filters or checks by them.
        view = app.view_functions.get(request.endpoint)
        authenticate = getattr(view, "authenticates_itself", None)
        if authenticate is not None:
            # Endpoints for machines with credentials of their own (integration tokens, api/inbound.py);
            # a user's token is no credential there.
            return authenticate()
        also = () if getattr(view, "reads_no_grants", False) else (GRANTS_WITH_USER,)
        user = user_from_authorization(db.session, request.headers.get("Authorization"), also=also)
        if user is None:
            raise Unauthenticated("a valid API token is needed: Authorization: Bearer <token>")
        g.user = user
        return None


class NoCookieSessionForApi(SecureCookieSessionInterface):
    """The pages' signed cookie session, left closed on API requests.

    The API authenticates by bearer token only and keeps nothing in the cookie session, so it need not
    build the signer and read the cookie on every request: an API request sees an empty session that
    refuses writes (Flask's null session) and its response sets no cookie.
    """

    def open_session(self, app: Flask, request):
        if request.path.startswith(API_PREFIX):
            return None
        return super().open_session(app, request)


def serve_spec_once(app: Flask, api: Api) -> None:
    """Serve ``/api/openapi.json`` from one copy built on its first request, instead of rebuilding it every time.

    The spec describes the code, not anyone's data, so one copy per app is right for every caller. It is
    compact JSON (gzip-compressed for clients that accept it) with an ETag, so a client can revalidate it.
    """
    endpoint = next(rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.endswith(".openapi_json"))
    built: dict[str, bytes] = {}

    def openapi_json():
        if not built:
            body = json.dumps(api.spec.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()
            built.update(plain=body, gzip=gzip.compress(body, mtime=0), etag=hashlib.sha256(body).hexdigest())
        compressed = request.accept_encodings["gzip"] > 0
        response = Response(built["gzip" if compressed else "plain"], mimetype="application/json")
        if compressed:
            response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        response.set_etag(built["etag"] + ("-gz" if compressed else ""))
        return response.make_conditional(request)

    app.view_functions[endpoint] = openapi_json

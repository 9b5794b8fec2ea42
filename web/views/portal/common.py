"""The client portal's page blueprints and its session: separate from the staff pages in everything.

A portal page is a blueprint from :func:`portal_blueprint`: CSRF checked, HTML errors, secure headers, and the
client loaded from the session (``g.client``, the ``PortalUser``; ``g.client_user``, the ``User``), or a redirect
to ``/portal/login``. The portal's session keys are its own: a client's cookie never holds a staff session
(``web.pages.current_user`` refuses client users, ``users.holds_session(..., client=True)`` only accepts them).
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, request, session, url_for

from accounts.portal.access import client_of
from crmpm.database import db
from crmpm.users import services as users
from crmpm.users.models import User
from web.pages import SAFE_METHODS, _local_path, _refuse_nul_bytes, _register_error_pages, csrf, secure_headers

PORTAL_USER_KEY = "portal_user_id"
PORTAL_STAMP_KEY = "portal_stamp"


def current_client_user() -> User | None:
    """The client user whose portal session the cookie holds (active, stamp current), or None."""
    if "client_user" in g:
        return g.client_user
    user_id = session.get(PORTAL_USER_KEY)
    user = users.get(db.session, user_id=user_id) if isinstance(user_id, int) else None
    if not users.holds_session(user, session.get(PORTAL_STAMP_KEY), client=True):
        session.pop(PORTAL_USER_KEY, None)
        session.pop(PORTAL_STAMP_KEY, None)
        return None
    return user


def log_in_client(user: User) -> None:
    """Start a fresh portal session for the client ``user`` (nothing from before survives, no staff session)."""
    session.clear()
    session[PORTAL_USER_KEY] = user.id
    session[PORTAL_STAMP_KEY] = user.session_stamp
    g.client_user = user
    g.client = client_of(db.session, user)


def log_out_client() -> None:
    """End the portal session and every other session of the client (their stamp is replaced)."""
    if g.get("client_user") is not None:
        users.end_sessions(db.session, user=g.client_user)
    session.clear()
    g.client_user = None
    g.client = None


def portal_blueprint(name: str, import_name: str, *, public: bool = False) -> Blueprint:
    """A blueprint of portal pages under /portal: client required unless ``public``, CSRF, errors as HTML."""
    blueprint = Blueprint(name, import_name, url_prefix="/portal")
    blueprint.public = public  # read by the tests that sweep every page
    blueprint.portal = True

    @blueprint.before_request
    def _before():
        g.portal_page = True  # the error pages take the portal's layout
        g.user = None  # never a staff user on the portal's pages
        g.client_user = current_client_user()
        g.client = client_of(db.session, g.client_user)
        if request.method not in SAFE_METHODS:
            csrf.protect()
        if g.client is None and not public:
            return redirect(url_for("portal_auth.login", next=_local_path(request.full_path)))
        _refuse_nul_bytes()
        return None

    @blueprint.after_request
    def _headers(response):
        return secure_headers(response)

    _register_error_pages(blueprint)
    return blueprint

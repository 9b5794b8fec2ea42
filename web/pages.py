"""What every page blueprint shares: the logged-in user, CSRF checks and HTML error pages.

The app's own error handlers answer JSON (the API's error shape); page
blueprints register handlers of their own, which Flask prefers for requests
routed to them, so a page that fails shows an HTML page and the API is left
as it is.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import RequestRedirect

from crmpm.database import db
from crmpm.errors import Conflict, CrmpmError, Forbidden, Invalid, NotFound, TooManyAttempts, Unauthenticated
from crmpm.limits import MIB, request_limit
from crmpm.users import services as users
from crmpm.users.models import User
from web.i18n import translate_error

log = logging.getLogger(__name__)

csrf = CSRFProtect()
SESSION_USER_KEY = "user_id"
SESSION_STAMP_KEY = "stamp"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What a user with a temporary password may reach before choosing their own.
PASSWORD_CHANGE_PAGES = frozenset({"profile.index", "profile.update", "auth.logout", "auth.login", "auth.set_locale"})

# Templates and static files of every page live here; other page blueprints find them through it.
# Not under /static: the app claims that path for a static folder of its own (which crmpm does not have).
assets = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/assets")


def init_security(app: Flask) -> None:
    """CSRF protection for the pages only (the API authenticates by bearer token), and HTTPS when configured."""
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # A form left open over lunch should still submit; the token is bound to the session anyway.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    csrf.init_app(app)
    init_https(app)


def init_https(app: Flask) -> None:
    """Behind ``PROXIES`` reverse proxies, trust their X-Forwarded-For/-Proto; over HTTPS, send HSTS.

    ``HTTPS`` (CRMPM_HTTPS=1) declares that crmpm is reached over HTTPS only: every response tells the
    browser to use nothing else for ``HSTS_MAX_AGE`` seconds, and the session cookie is Secure (config).
    """
    if app.config.get("PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    if app.config.get("HTTPS"):
        app.config["PREFERRED_URL_SCHEME"] = "https"
        hsts = f"max-age={int(app.config['HSTS_MAX_AGE'])}; includeSubDomains"

        @app.after_request
        def _hsts(response):
            response.headers.setdefault("Strict-Transport-Security", hsts)
            return response


# Paths under this the JSON API answers (its own errors included); everything else is a page.
API_PATH = "/api"


def init_unknown_pages(app: Flask) -> None:
    """An HTML error page for a browser asking for a URL no page serves (the API keeps its JSON errors).

    A URL that matches no route belongs to no blueprint, so the app's JSON
    handler would answer it; Flask runs the before-request hooks before it
    raises the routing error, which is where this one steps in.
    """

    @app.before_request
    def _unknown_page():
        error = request.routing_exception
        if (error is None or not isinstance(error, HTTPException) or isinstance(error, RequestRedirect)
                or request.path.startswith(API_PATH) or not request.accept_mimetypes.accept_html):
            return None
        g.user = current_user()
        response, status = error_page(error.code or 404)
        return secure_headers(current_app.make_response((response, status)))


def page_blueprint(name: str, import_name: str, *, url_prefix: str | None = None, public: bool = False) -> Blueprint:
    """A blueprint of pages: the user is loaded (login required unless ``public``), CSRF checked, errors as HTML."""
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix)
    blueprint.public = public  # read by the tests that sweep every page

    @blueprint.before_request
    def _before():
        g.user = current_user()
        if request.method not in SAFE_METHODS:
            csrf.protect()
        if g.user is None and not public:
            return redirect(url_for("auth.login", next=_local_path(request.full_path)))
        _refuse_nul_bytes()
        if g.user is not None and g.user.must_change_password and request.endpoint not in PASSWORD_CHANGE_PAGES:
            # A temporary password an administrator gave: a new one of the user's own before anything else.
            flash(_("Choose a new password to go on: yours is a temporary one."), "error")
            return redirect(url_for("profile.index"), code=303)
        return None

    @blueprint.after_request
    def _headers(response):
        return secure_headers(response)

    _register_error_pages(blueprint)
    return blueprint


def _refuse_nul_bytes() -> None:
    """A NUL character in a form or query: no text column can hold it (PostgreSQL refuses it outright)."""
    fields = sorted({key for values in (request.args, request.form) for key, value in values.items(multi=True)
                     if "\x00" in value or "\x00" in key})
    if fields:
        # (The names are not in the message: it is a template, and a name could hold its braces.)
        raise Invalid(_("The form contains a NUL character, which cannot be stored; remove it and try again."),
                      errors={field: ["contains a NUL character"] for field in fields})


# Pages load only their own scripts and styles; style attributes carry the tree's indentation levels.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
                           "frame-ancestors 'none'")


def secure_headers(response):
    """Headers every page gets: no framing, no sniffing, no caching of private pages, a strict CSP."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def current_user() -> User | None:
    """The user whose session the cookie holds, or None.

    The cookie carries the user's id and a copy of their session stamp; the stamp is random and
    replaced on logout, password change and deactivation, so a cookie saved before any of them
    (or forged without knowing the stamp) stops working here. It is a column of the user's row:
    the one lookup that loads the user checks it.
    """
    if "user" in g:
        return g.user
    user_id = session.get(SESSION_USER_KEY)
    if user_id is None:
        return None
    user = users.get(db.session, user_id=user_id) if isinstance(user_id, int) else None
    if not users.holds_session(user, session.get(SESSION_STAMP_KEY)):
        session.pop(SESSION_USER_KEY, None)
        session.pop(SESSION_STAMP_KEY, None)
        return None
    return user


def log_in(user: User) -> None:
    """Start a fresh session for ``user`` (nothing from before the login survives)."""
    session.clear()
    session[SESSION_USER_KEY] = user.id
    session[SESSION_STAMP_KEY] = user.session_stamp
    g.user = user


def refresh_stamp(user: User) -> None:
    """Keep the current session valid after the user's stamp changed (their own password change)."""
    session[SESSION_STAMP_KEY] = user.session_stamp


def log_out() -> None:
    """End the session, and every other session of the same user (their stamp is replaced)."""
    if g.get("user") is not None:
        users.end_sessions(db.session, user=g.user)
    session.clear()
    g.user = None


def require_admin() -> User:
    """The current user if an administrator, else Forbidden."""
    if g.user is None or not g.user.is_admin:
        raise Forbidden(_("Only administrators may use this page."))
    return g.user


def _local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site (never another host), else None."""
    if not target:
        return None
    target = target.rstrip("?")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def safe_next(default_endpoint: str = "home.index", **values) -> str:
    """Where to go after a form: ``next`` if it stays on this site, else the default page (built with
    ``values``)."""
    return _local_path(request.values.get("next")) or url_for(default_endpoint, **values)


def _back_url() -> str:
    """The page the failed form was sent from, if it is on this site."""
    referrer = request.referrer
    if referrer:
        parts = urlsplit(referrer)
        if parts.netloc == request.host:
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next()


def wants_json() -> bool:
    """Whether the request came from ``crmpm.request`` asking for JSON (a drag on the board, say)."""
    return (request.headers.get("X-Requested-With") == "fetch"
            and request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json")


def error_page(status: int, message: str | None = None):
    """An HTML error page with ``status``."""
    titles = {
        400: _("The request could not be understood"),
        403: _("You may not do this"),
        404: _("Page not found"),
        405: _("Not allowed here"),
        413: _("Too large"),
        409: _("This clashes with the current state"),
        422: _("Please check what you entered"),
        429: _("Too many attempts"),
        500: _("Something went wrong"),
        503: _("The service is busy"),
    }
    title = titles.get(status, _("Error"))
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _register_error_pages(blueprint: Blueprint) -> None:
    @blueprint.errorhandler(CrmpmError)
    def _domain_error(exc: CrmpmError):
        if isinstance(exc, Unauthenticated):
            return redirect(url_for("auth.login"))
        if isinstance(exc, TooManyAttempts):
            db.session.rollback()
            message = _("Too many attempts. Try again in %(wait)s.",
                        wait=format_timedelta(timedelta(seconds=exc.retry_after), threshold=1.1))
            if wants_json():
                return {"message": message, "errors": {}}, exc.status, exc.headers
            page, status = error_page(exc.status, message)
            return page, status, exc.headers
        if wants_json():
            # A script's request: the reason as data, for the page to show where the action was.
            db.session.rollback()
            message = _("Not found.") if isinstance(exc, NotFound) else translate_error(exc)
            return {"message": message, "errors": {} if isinstance(exc, NotFound) else (exc.errors or {})}, exc.status
        if isinstance(exc, NotFound):
            # The message could name what the user may not see; the page says only "not found".
            return error_page(404)
        if isinstance(exc, (Conflict, Invalid)) and request.method not in SAFE_METHODS:
            # A refused form goes back where it came from with the reason; nothing of it is kept.
            db.session.rollback()
            flash(translate_error(exc), "error")
            return redirect(_back_url(), code=303)
        return error_page(exc.status, translate_error(exc))

    @blueprint.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        message = _("The form was not sent from this site or has expired; reload the page and try again.")
        if wants_json():
            return {"message": message, "errors": {}}, 400
        return error_page(400, message)

    @blueprint.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):
        # Before the body was read (the CSRF check reads the form), so nothing of it is kept.
        limit, key = request_limit()
        if key == "MAX_CONTENT_LENGTH":
            return error_page(413, _("The form is larger than %(size)s KB; nothing was saved.", size=max(limit // 1024, 1)))
        return error_page(413, _("The file is larger than %(size)s MB; nothing was imported.",
                                 size=max(limit // MIB, 1)))

    @blueprint.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return error_page(exc.code or 500)

    @blueprint.errorhandler(IntegrityError)
    def _integrity_error(exc: IntegrityError):
        log.warning("integrity error: %s", exc.orig)
        db.session.rollback()  # the failed flush left the session unusable, and the page reads the user's locale
        return error_page(409, _("The change conflicts with existing data."))

    @blueprint.errorhandler(DataError)
    @blueprint.errorhandler(OverflowError)
    def _out_of_range(exc: Exception):
        # Ids in routes are bounded; a number typed into a form or a query string may still not fit.
        log.warning("value out of range reached the database: %s", exc)
        db.session.rollback()
        return error_page(422, _("A value is out of range."))

    @blueprint.errorhandler(OperationalError)
    def _operational_error(exc: OperationalError):
        log.error("database error: %s", exc.orig)
        db.session.rollback()
        return error_page(503, _("The database is busy or unavailable; try again."))

    @blueprint.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on a page")
        db.session.rollback()
        return error_page(500, _("Internal error; it has been logged."))

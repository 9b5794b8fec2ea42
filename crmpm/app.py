"""The app factory: a short list of init steps, nothing done at import time."""

from __future__ import annotations

import logging
from http import HTTPStatus
from importlib.metadata import entry_points

from flask import Flask, jsonify
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import Conflict as ConflictError, HTTPException
from werkzeug.routing import IntegerConverter

from crmpm import ratelimit, secret_key
from crmpm.config import load_config
from crmpm.database import db
from crmpm.errors import CrmpmError
from crmpm.jsonprovider import OrjsonProvider
from crmpm.limits import init_limits

log = logging.getLogger(__name__)

EXTENSION_GROUP = "crmpm.extensions"
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in routes: ids that fit the database; anything larger matches no route (404)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: dict | None = None) -> Flask:
    """A configured crmpm app; ``config`` overrides the defaults and the environment."""
    app = Flask("crmpm")
    app.json = OrjsonProvider(app)
    app.config.update(load_config(config))
    secret_key.init_app(app)
    ratelimit.init_app(app)
    app.url_map.converters["int"] = IdConverter
    init_database(app)
    init_limits(app)
    init_extensions(app)
    # Last, so that these handlers replace any an extension registered (flask-smorest's among them).
    init_errors(app)
    return app


def init_database(app: Flask) -> None:
    """Bind the database and make every request one transaction, committed at the edge."""
    db.init_app(app)

    @app.after_request
    def _finish_transaction(response):
        from flask import g

        session = g.get("crmpm_session")
        if session is None:
            return response
        if response.status_code >= 400:
            session.rollback()
            return response
        try:
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            log.warning("commit failed: %s", exc)
            return _commit_failed(app, response)
        return response


def _commit_failed(app: Flask, response):
    """The 409 for a commit refused at the edge, answered by the handler the route's errors go to
    (the error shape for the API, an HTML page for pages); the headers already set are kept."""
    failed = app.make_response(app.handle_user_exception(
        ConflictError("the change clashed with a concurrent one; try again")))
    for key, value in response.headers.items():
        if key.lower() not in _BODY_HEADERS and key not in failed.headers:
            failed.headers[key] = value
    return failed


_BODY_HEADERS = frozenset({"content-type", "content-length", "content-disposition", "location", "etag",
                           "last-modified"})


def error_response(status: int, message: str, errors: dict | None = None):
    """The one error shape of crmpm: ``{"code", "status", "message", "errors"}``."""
    status = HTTPStatus(status)
    body = {"code": status.value, "status": status.phrase, "message": message, "errors": errors or {}}
    return jsonify(body), status.value


def init_errors(app: Flask) -> None:
    """Map domain errors, HTTP errors and database clashes to the error shape, once for the whole app."""

    @app.errorhandler(CrmpmError)
    def _domain_error(exc: CrmpmError):
        response, status = error_response(exc.status, exc.message, exc.errors)
        response.headers.update(getattr(exc, "headers", {}))  # Retry-After of TooManyAttempts
        if status == HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = 'Bearer realm="crmpm"'
        return response, status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        data = getattr(exc, "data", None) or {}
        errors = data.get("messages") or data.get("errors") or {}
        # webargs nests messages by location ("json", "query"); the field names are what matter.
        if isinstance(errors, dict) and set(errors) <= {"json", "query", "form", "path", "headers", "files"}:
            flat: dict = {}
            for location_errors in errors.values():
                if isinstance(location_errors, dict):
                    flat.update(location_errors)
                else:
                    flat.setdefault("_schema", []).extend(location_errors)
            errors = flat
        message = data.get("message") or exc.description or HTTPStatus(exc.code).phrase
        if exc.code == 422 and errors:
            message = "invalid input: " + ", ".join(sorted(str(key) for key in errors))
        response, status = error_response(exc.code, message, errors)
        for key, value in (exc.get_headers() if exc.code == 405 else []):
            if key.lower() == "allow":
                response.headers[key] = value
        return response, status

    @app.errorhandler(IntegrityError)
    def _integrity_error(exc: IntegrityError):
        log.warning("integrity error: %s", exc.orig)
        return error_response(HTTPStatus.CONFLICT, "the change conflicts with existing data")

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def _out_of_range(exc: Exception):
        # A safety net: schemas bound what they accept, so reaching here means one was missed.
        log.warning("value out of range reached the database: %s", exc)
        return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "a value is out of range or malformed")

    @app.errorhandler(OperationalError)
    def _operational_error(exc: OperationalError):
        log.error("database error: %s", exc.orig)
        return error_response(HTTPStatus.SERVICE_UNAVAILABLE, "the database is busy or unavailable; try again")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error; it has been logged")


def init_extensions(app: Flask) -> None:
    """Let the installed parts of crmpm (the API, the web pages) attach themselves.

    They register under the ``crmpm.extensions`` entry point, so the core never
    imports the layers built on it.
    """
    found = entry_points(group=EXTENSION_GROUP)
    if not found:
        raise RuntimeError("no crmpm extensions are installed; install the project (pip install -e .)")
    for entry in sorted(found, key=lambda e: e.name):
        entry.load()(app)

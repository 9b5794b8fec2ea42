"""How big a request may be: small everywhere, larger only where a file is uploaded.

Every request body is capped by ``MAX_CONTENT_LENGTH`` (``CRMPM_MAX_CONTENT_LENGTH``,
1 MiB): a login form or a JSON change is a few kilobytes, and an unauthenticated
``POST /login`` must not make a worker read 200 MB. Views that take a file are
marked with :func:`accepts_upload` and get the larger cap their config key names
(``MAX_UPLOAD_LENGTH`` for XER and MSPDI files, ``MAX_CSV_UPLOAD_LENGTH`` for CSV
imports). The cap is set before anything reads the body (the pages' CSRF check
reads the form), so a body over it is refused with 413 before it is parsed:
in the API's error shape here, as an HTML page by the pages' own handler.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

__all__ = ["accepts_upload", "init_limits", "request_limit", "size_text"]

MIB = 1024 * 1024
# The environment variable behind each config key, named in refusals so an operator knows what to raise.
ENV_NAMES = {"MAX_CONTENT_LENGTH": "CRMPM_MAX_CONTENT_LENGTH", "MAX_UPLOAD_LENGTH": "CRMPM_MAX_UPLOAD_LENGTH",
             "MAX_CSV_UPLOAD_LENGTH": "CRMPM_MAX_CSV_UPLOAD_LENGTH",
             "MAX_INBOUND_EVENT_LENGTH": "CRMPM_MAX_INBOUND_EVENT_LENGTH",
             "MAX_INBOUND_EMAIL_LENGTH": "CRMPM_MAX_INBOUND_EMAIL_LENGTH",
             "MAX_DOCUMENT_LENGTH": "CRMPM_MAX_DOCUMENT_LENGTH"}
# Keys that cap one file rather than the body: the body may hold that much plus the multipart envelope.
ENVELOPE = {"MAX_DOCUMENT_LENGTH": 64 * 1024}
# What a refusal says was too large, by config key (any other key caps a file upload).
WHAT_IS_CAPPED = {"MAX_CONTENT_LENGTH": "the request", "MAX_INBOUND_EVENT_LENGTH": "the event",
                  "MAX_INBOUND_EMAIL_LENGTH": "the e-mail"}


def accepts_upload(config_key: str = "MAX_UPLOAD_LENGTH") -> Callable:
    """Mark a view as taking a file: its request body may be as large as ``config[config_key]``."""

    def mark(view):
        view.upload_limit_key = config_key
        return view

    return mark


def request_limit() -> tuple[int, str]:
    """The body size cap of the current request, and the config key that sets it."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    key = getattr(view, "upload_limit_key", None) or "MAX_CONTENT_LENGTH"
    return int(current_app.config[key]) + ENVELOPE.get(key, 0), key


def size_text(size: int) -> str:
    """``1 MiB``, ``512 KiB``, ``300 bytes``: a limit as people read it."""
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB} MiB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} bytes"


def init_limits(app: Flask) -> None:
    """Cap every request body, raise the cap for upload views, and answer 413 naming the limit."""

    @app.before_request
    def _upload_limit():
        limit, key = request_limit()
        if key != "MAX_CONTENT_LENGTH":
            request.max_content_length = limit

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc):
        from crmpm.app import error_response

        _body, key = request_limit()
        limit = int(current_app.config[key])
        what = WHAT_IS_CAPPED.get(key, "the file upload")
        return error_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                              f"{what} is larger than the limit of {size_text(limit)} ({ENV_NAMES[key]}); "
                              f"nothing was read", errors={"body": [f"at most {limit} bytes"]})

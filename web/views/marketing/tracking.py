"""The public links of a campaign's messages (no login): a tracked click, and unsubscribing.

``/m/c/<token>/<link_id>``: 302 to the link's registered URL (only those; a click recorded). ``/m/u/<token>``: a
page asking to confirm, whose form (with its CSRF token) records the opt-out. The RFC 8058 one-click POST that
mail programs send to the ``List-Unsubscribe`` address (``/m/u/<token>/one-click``, body
``List-Unsubscribe=One-Click``) has no CSRF token by design: it lives on a blueprint of its own without the pages'
CSRF check and without the session (it reads no cookie and acts only for the holder of the message's 256-bit
token, so a forged request could only unsubscribe the person whose link it already holds). Unknown tokens: 404,
each counted against the address (``campaign-tracking``).
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request
from flask_babel import gettext as _

from accounts.marketing import responses
from crmpm.database import db
from crmpm.ratelimit import client_address, throttle
from web.pages import error_page, page_blueprint, secure_headers

bp = page_blueprint("tracking", __name__, public=True)
one_click_bp = Blueprint("tracking_one_click", __name__)
one_click_bp.public = True  # read by the tests that sweep every page
KIND = "campaign-tracking"


def _counted() -> None:
    throttle().attempt(KIND, client_address())


@bp.route("/m/c/<token>/<int:link_id>", endpoint="click")
def click(token: str, link_id: int):
    """Count the click and go to the link's registered address."""
    _counted()
    url = responses.click(db.session, token=token, link_id=link_id)
    if url is None:
        return error_page(404)
    return redirect(url, code=302)


@bp.route("/m/u/<token>", endpoint="unsubscribe")
def unsubscribe_page(token: str):
    """Ask to confirm unsubscribing."""
    _counted()
    if responses.message_by_token(db.session, token) is None:
        return error_page(404)
    return render_template("marketing/unsubscribe.html", token=token, done=False)


@bp.route("/m/u/<token>", methods=["POST"], endpoint="unsubscribe_confirm")
def unsubscribe(token: str):
    """Record the opt-out of the campaign's channel."""
    _counted()
    if responses.unsubscribe(db.session, token=token, how="link") is None:
        return error_page(404)
    return render_template("marketing/unsubscribe.html", token=token, done=True)


@one_click_bp.route("/m/u/<token>/one-click", methods=["POST"], endpoint="one_click")
def one_click(token: str):
    """RFC 8058: the mail program's one-click unsubscribe (no page, no session, no CSRF token)."""
    _counted()
    if request.form.get("List-Unsubscribe") != "One-Click":
        return error_page(400)
    if responses.unsubscribe(db.session, token=token, how="one-click") is None:
        return error_page(404)
    return _("You are unsubscribed."), 200, {"Content-Type": "text/plain; charset=utf-8"}


@one_click_bp.before_request
def _no_session():
    g.user = None  # the one-click POST acts by its token alone, never for a logged-in user


@one_click_bp.after_request
def _headers(response):
    return secure_headers(response)

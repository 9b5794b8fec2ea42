"""The public page where a user sets a new password through a one-time link an administrator handed them."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from crmpm.database import db
from crmpm.errors import Forbidden
from crmpm.ratelimit import client_address, throttle
from crmpm.users import resets
from web.forms import PasswordResetForm, check
from web.pages import error_page, page_blueprint

bp = page_blueprint("reset", __name__, public=True)

# Guessing links is pointless (256 random bits), but each wrong one is counted per address all the same.
KIND = "login-address"


def _link(token: str):
    """The valid link's record; an error page saying why there is none (counting unknown links as failures)."""
    throttle().check(KIND, client_address())
    state, reset = resets.find(db.session, token=token)
    if state is resets.LinkState.valid:
        return reset, None
    if state is resets.LinkState.unknown:
        throttle().hit(KIND, client_address())
        return None, error_page(404)
    if state is resets.LinkState.used:
        return None, error_page(410, _("This link has already been used. Ask an administrator for a new one."))
    return None, error_page(410, _("This link has expired. Ask an administrator for a new one."))


@bp.route("/reset/<token>", endpoint="password")
def show(token: str):
    """The form for the new password, or why the link no longer works."""
    reset, refused = _link(token)
    if refused:
        return refused
    return render_template("reset.html", form=PasswordResetForm(formdata=None), user=reset.user, token=token)


@bp.route("/reset/<token>", methods=["POST"])
def set_password(token: str):
    """Set the new password: the link is used up, the user's sessions end, and they log in with it."""
    if g.user is not None:
        # Someone is logged in on this browser: the link is not theirs to use in their session.
        raise Forbidden(_("Log out first to set a password through a link."))
    reset, refused = _link(token)
    if refused:
        return refused
    form = check(PasswordResetForm())
    resets.redeem(db.session, reset=reset, password=form.password.data)
    flash(_("Your password is set. Log in with it."), "info")
    return redirect(url_for("auth.login"), code=303)

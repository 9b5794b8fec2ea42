"""The portal's own login, logout, language switch, and the page where an invited client sets a password."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from accounts.portal import invites
from crmpm.database import db
from crmpm.ratelimit import client_address, throttle
from crmpm.users import resets
from web.forms import ActionForm, LocaleForm, LoginForm, PasswordResetForm, check
from web.i18n import SESSION_LOCALE_KEY
from web.pages import _local_path, error_page
from web.views.auth import counted_login
from web.views.portal.common import log_in_client, log_out_client, portal_blueprint

bp = portal_blueprint("portal_auth", __name__, public=True)

# Guessing links is pointless (256 random bits), but each wrong one is counted per address, as on /reset.
LINK_KIND = "login-address"


def _next() -> str:
    """Where to go after logging in: a portal page named by ``next``, else the portal's home."""
    target = _local_path(request.values.get("next"))
    return target if target and target.startswith("/portal/") else url_for("portal.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The portal's login form; a wrong email or password gets one message for both."""
    if g.client is not None and request.method == "GET":
        return redirect(_next())
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        return render_template("portal/login.html", form=form)
    if form.validate():
        # Counted as on the staff login (web.views.auth.counted_login).
        user = counted_login(form.email.data, form.password.data, client=True)
        if user is not None:
            log_in_client(user)
            return redirect(_next(), code=303)
    flash(_("Wrong email or password, or the account is inactive."), "error")
    return render_template("portal/login.html", form=form), 401


@bp.route("/logout", methods=["POST"])
def logout():
    """End the portal session (a POST with the CSRF token)."""
    ActionForm()
    log_out_client()
    flash(_("You have logged out."), "info")
    return redirect(url_for("portal_auth.login"), code=303)


@bp.route("/locale", methods=["POST"])
def set_locale():
    """Switch the language: saved on the client's login when logged in, in the session before."""
    form = LocaleForm()
    locale = form.locale.data if form.validate() else None
    if locale:
        session[SESSION_LOCALE_KEY] = locale
        if g.client_user is not None and g.client_user.locale != locale:
            g.client_user.locale = locale
    target = _local_path(request.values.get("next"))
    return redirect(target if target and target.startswith("/portal") else url_for("portal_auth.login"), code=303)


def _link(token: str):
    """The valid invitation's record; an error page saying why there is none (unknown links count as failures)."""
    throttle().check(LINK_KIND, client_address())
    state, reset = resets.find(db.session, token=token)
    if state is resets.LinkState.valid and reset.user.is_client:
        return reset, None
    if state is resets.LinkState.valid or state is resets.LinkState.unknown:
        throttle().hit(LINK_KIND, client_address())
        return None, error_page(404)
    if state is resets.LinkState.used:
        return None, error_page(410, _("This link has already been used. Log in with your password, or ask your "
                                       "manager for a new invitation."))
    return None, error_page(410, _("This link has expired. Ask your manager for a new invitation."))


@bp.route("/welcome/<token>", endpoint="welcome")
def welcome(token: str):
    """The invited client's form for their password, or why the link no longer works."""
    reset, refused = _link(token)
    if refused:
        return refused
    return render_template("portal/welcome.html", form=PasswordResetForm(formdata=None), user=reset.user,
                           token=token)


@bp.route("/welcome/<token>", methods=["POST"])
def set_password(token: str):
    """Set the password: the link is used up, and the client is logged in to the portal."""
    reset, refused = _link(token)
    if refused:
        return refused
    form = check(PasswordResetForm())
    user = resets.redeem(db.session, reset=reset, password=form.password.data)
    invites.activated(db.session, user=user)
    log_in_client(user)
    flash(_("Your password is set. Welcome!"), "info")
    return redirect(url_for("portal.index"), code=303)

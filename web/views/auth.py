"""Logging in and out, and choosing the language."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from crmpm.database import db
from crmpm.ratelimit import client_address, throttle
from crmpm.users import services as users
from web.forms import ActionForm, LocaleForm, LoginForm
from web.i18n import SESSION_LOCALE_KEY
from web.pages import log_in, log_out, page_blueprint, safe_next

bp = page_blueprint("auth", __name__, public=True)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; a wrong email or password gets one message for both."""
    if g.user is not None and request.method == "GET":
        return redirect(safe_next())
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        return render_template("login.html", form=form)
    if form.validate():
        user = counted_login(form.email.data, form.password.data)
        if user is not None:
            locale = session.get(SESSION_LOCALE_KEY)
            log_in(user)
            if locale:
                session[SESSION_LOCALE_KEY] = locale
            return redirect(safe_next(), code=303)
    flash(_("Wrong email or password, or the account is inactive."), "error")
    # 200 would commit; nothing was written, and the form is simply shown again.
    return render_template("login.html", form=form), 401


def counted_login(email: str, password: str, *, client: bool = False):
    """The user these credentials log in (staff, or with ``client`` a portal client), or None.

    Failed logins are counted per account and per address; past a limit even the right password waits (429 with
    Retry-After), so guessing gets slower and slower. The staff login and the portal's share this rule."""
    attempts = (("login-address", client_address()), ("login-account", users.normalize_email(email)))
    for kind, key in attempts:
        throttle().check(kind, key)
    user = users.authenticate(db.session, email=email, password=password, client=client)
    if user is None:
        for kind, key in attempts:
            throttle().hit(kind, key)
    return user


@bp.route("/logout", methods=["POST"])
def logout():
    """End the session (a POST with the CSRF token, so no other site can log the user out)."""
    ActionForm()
    log_out()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/locale", methods=["POST"])
def set_locale():
    """Switch the language: saved on the user's profile when logged in, in the session before."""
    form = LocaleForm()
    locale = form.locale.data if form.validate() else None
    if locale:
        session[SESSION_LOCALE_KEY] = locale
        if g.user is not None and g.user.locale != locale:
            users.update(db.session, actor=g.user, user=g.user, locale=locale)
    return redirect(safe_next(), code=303)

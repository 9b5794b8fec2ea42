"""The user's own profile: name, language, password, API tokens."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, session, url_for
from flask_babel import gettext as _

from crmpm.database import db
from crmpm.ratelimit import throttle
from crmpm.users import services as users
from crmpm.users.models import ApiToken
from web.forms import ActionForm, ProfileForm, TokenForm, check
from web.i18n import SESSION_LOCALE_KEY
from web.pages import page_blueprint, refresh_stamp
from web.queries import count

bp = page_blueprint("profile", __name__, url_prefix="/profile")


# A person has a handful of tokens; the page lists the newest ones and says how many there are in all.
TOKENS_SHOWN = 50


def _page(*, new_token: str | None = None, status: int = 200):
    form = ProfileForm(data={"name": g.user.name, "locale": g.user.locale, "time_zone": g.user.time_zone})
    query = users.list_tokens(db.session, user=g.user)
    tokens = db.session.scalars(query.order_by(None).order_by(ApiToken.id.desc()).limit(TOKENS_SHOWN)).all()
    return render_template("profile.html", form=form, token_form=TokenForm(formdata=None), tokens=tokens,
                           token_count=count(db.session, query), new_token=new_token,
                           action_form=ActionForm()), status


@bp.route("/")
def index():
    return _page()


@bp.route("/", methods=["POST"])
def update():
    form = check(ProfileForm())
    changes = {"name": form.name.data, "locale": form.locale.data}
    if form.time_zone.raw_data:
        changes["time_zone"] = form.time_zone.data
    if form.password.data:
        # A new password needs the current one; wrong ones are counted like failed logins.
        with throttle().failures("password", g.user.id, failure=users.WrongPassword):
            users.update(db.session, actor=g.user, user=g.user, current_password=form.current_password.data,
                         password=form.password.data, **changes)
        refresh_stamp(g.user)  # the user's other sessions have ended; this one goes on
    else:
        users.update(db.session, actor=g.user, user=g.user, **changes)
    session[SESSION_LOCALE_KEY] = form.locale.data
    flash(_("Profile saved."), "info")
    return redirect(url_for("profile.index"), code=303)


@bp.route("/tokens", methods=["POST"])
def create_token():
    """A new API token; the page shows it this once (it is not kept, so it cannot be shown again)."""
    form = check(TokenForm())
    throttle().attempt("token", g.user.id)
    _record, secret = users.create_token(db.session, actor=g.user, user=g.user, name=form.name.data.strip())
    return _page(new_token=secret, status=201)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke_token(token_id: int):
    users.revoke_token(db.session, actor=g.user, token_id=token_id)
    flash(_("Token revoked: requests carrying it are refused from now on."), "info")
    return redirect(url_for("profile.index"), code=303)

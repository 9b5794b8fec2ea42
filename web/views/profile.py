"""The user's own profile: name, language, password."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, session, url_for
from flask_babel import gettext as _

from crmpm.database import db
from crmpm.users import services as users
from web.forms import ProfileForm, check
from web.i18n import SESSION_LOCALE_KEY
from web.pages import page_blueprint, refresh_stamp

bp = page_blueprint("profile", __name__, url_prefix="/profile")


@bp.route("/")
def index():
    form = ProfileForm(data={"name": g.user.name, "locale": g.user.locale})
    return render_template("profile.html", form=form)


@bp.route("/", methods=["POST"])
def update():
    form = check(ProfileForm())
    changes = {"name": form.name.data, "locale": form.locale.data}
    if form.password.data:
        changes["password"] = form.password.data
    users.update(db.session, actor=g.user, user=g.user, **changes)
    refresh_stamp(g.user)
    session[SESSION_LOCALE_KEY] = form.locale.data
    flash(_("Profile saved."), "info")
    return redirect(url_for("profile.index"), code=303)

"""The user's notifications: the list (open, mark read, mark all read), the bell's count, the channels per kind."""

from __future__ import annotations

from flask import Flask, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext

from crmpm import notifications
from crmpm.database import db
from crmpm.notifications import KINDS, Channels
from web.forms import ActionForm
from web.pages import page_blueprint
from web.pagination import paginate

bp = page_blueprint("notifications", __name__, url_prefix="/notifications")

# What each kind is called on the preferences page.
KIND_LABELS = {
    "task_assigned": _l("A task is given to you"),
    "task_due": _l("Your task comes due"),
    "task_reminder": _l("A reminder of your task"),
    "daily_digest": _l("Daily digest of overdue and today's tasks"),
    "lead_assigned": _l("A lead is assigned to you"),
    "deal_handed_over": _l("A deal is handed over to you"),
    "budget_change_awaiting": _l("A budget change awaits your decision"),
    "budget_change_decided": _l("Your budget change is decided"),
    "timesheet_submitted": _l("A timesheet awaits your approval"),
    "timesheet_decided": _l("Your timesheet is approved or rejected"),
    "import_finished": _l("Your import has finished"),
    "webhook_disabled": _l("Your webhook was disabled after failures"),
    "mention": _l("Someone mentions you (@ and your e-mail address) in a task or a note"),
    "automation": _l("An automation rule tells you about a deal"),
    "portal_approval": _l("A client approves or rejects a milestone or an act on the portal"),
}


def unread_count() -> int | None:
    """The bell's count for the signed-in user (one count query), None for anyone else."""
    user = g.get("user")
    if user is None:
        return None
    return notifications.unread_count(db.session, user=user)


def init_app(app: Flask) -> None:
    """The bell in every page's top bar (``base.html``) asks ``unread_notifications()``."""
    app.jinja_env.globals.update(unread_notifications=unread_count)


@bp.route("/")
def index():
    unread = request.args.get("unread") == "1"
    page = paginate(db.session, notifications.list_for(db.session, user=g.user, unread=unread),
                    args={"unread": "1"} if unread else {})
    items = [(note, notifications.text_of(note, g.user), notifications.url_of(note)) for note in page.items]
    return render_template("notifications/index.html", page=page, items=items, unread=unread,
                           unread_total=unread_count(), form=ActionForm())


@bp.route("/count.json")
def count():
    """The bell's count, for the page to refresh it without reloading (``static/notifications.js``)."""
    return jsonify({"unread": unread_count()})


@bp.route("/<int:notification_id>/read", methods=["POST"])
def read(notification_id: int):
    """Mark one read; with ``open``, go on to the page it links to."""
    note = notifications.mark_read(db.session, user=g.user, notification_id=notification_id)
    target = notifications.url_of(note)
    flash(_("Notification marked read."), "info")
    if request.form.get("open") and target:
        return redirect(target, code=303)
    return redirect(url_for("notifications.index"), code=303)


@bp.route("/read-all", methods=["POST"])
def read_all():
    marked = notifications.mark_all_read(db.session, user=g.user)
    flash(ngettext("%(num)s notification marked read.", "%(num)s notifications marked read.", marked), "info")
    return redirect(url_for("notifications.index"), code=303)


@bp.route("/preferences")
def preferences():
    chosen = notifications.preferences_of(db.session, user_id=g.user.id)
    return render_template("notifications/preferences.html", chosen=chosen, labels=KIND_LABELS, form=ActionForm())


@bp.route("/preferences", methods=["POST"])
def save_preferences():
    """The grid of checkboxes: a kind's box ticked is that channel on, unticked off."""
    notifications.set_preferences(db.session, user=g.user, choices={
        kind: Channels(in_app=f"{kind}.in_app" in request.form, email=f"{kind}.email" in request.form)
        for kind in KINDS})
    flash(_("Notification settings saved."), "info")
    return redirect(url_for("notifications.preferences"), code=303)

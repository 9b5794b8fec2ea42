"""Timesheets (the blueprint is named ``hours``: the API has a ``timesheets`` one): my week (activities × days, totals, save and submit), the approval queue of the PMs, and the
period locks (administrators, finance). The rules are ``wbs.resources.timesheets``'."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from crmpm.database import db
from crmpm.errors import Invalid
from eps import services as eps_services
from eps.models import EpsNode
from eps.permissions import visible
from wbs.models import Activity
from wbs.resources import timesheets
from wbs.resources.timesheet_models import REASON_LENGTH
from web.forms import ActionForm
from web.pages import page_blueprint

bp = page_blueprint("hours", __name__, url_prefix="/timesheets")

QUEUE_SHOWN = 200
NODES_SHOWN = 500


def _today() -> date:
    try:
        return datetime.now(ZoneInfo(g.user.time_zone)).date()
    except (KeyError, ValueError):
        return date.today()


def _week_asked() -> date:
    """The week of ``?week=`` (any day of it), or this week; a date that cannot be read is this week too."""
    text = request.values.get("week", "")
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None or not timesheets.FIRST_YEAR <= day.year <= timesheets.LAST_YEAR:
        day = _today()
    return timesheets.week_of(day)


def _cell(activity_id: int, n: int) -> str:
    return f"h-{activity_id}-{n}"


def _hours_of(text: str, *, code: str, day: date) -> Decimal:
    text = (text or "").strip().replace(",", ".").replace(" ", "")
    if not text:
        return Decimal("0")
    try:
        hours = Decimal(text)
    except InvalidOperation:
        hours = None
    if hours is None or not hours.is_finite() or len(text) > 12:
        raise Invalid(_("Hours of %(code)s on %(day)s: enter a number such as 7.5.", code=code, day=day.isoformat()),
                      errors={"hours": ["not a number"]})
    return hours


@bp.route("/")
def mine():
    """My week: the activities I am assigned to by day, with totals."""
    week = _week_asked()
    resource = timesheets.resource_of(db.session, user=g.user)
    if resource is None:
        return render_template("timesheets/mine.html", resource=None, week=week)
    view = timesheets.sheet_view(db.session, user=g.user, resource=resource, week=week)
    hours = {(line.activity_id, line.day): line.hours for line in view.lines}
    approved = {d.project_id for d in view.decisions if d.status == "approved"}
    rows = []
    for activity in view.activities:
        locked = activity["locked_through"]
        cells = [{"name": _cell(activity["activity_id"], n), "day": day,
                  "hours": hours.get((activity["activity_id"], day)),
                  "editable": view.editable and activity["project_id"] not in approved
                  and not (locked is not None and day <= locked)}
                 for n, day in enumerate(view.days)]
        total = sum((cell["hours"] or 0 for cell in cells), Decimal("0"))
        rows.append({"activity": activity, "cells": cells, "total": total})
    day_totals = [sum((row["cells"][n]["hours"] or 0 for row in rows), Decimal("0")) for n in range(7)]
    return render_template("timesheets/mine.html", resource=resource, week=week, view=view, rows=rows,
                           day_totals=day_totals, total=sum(day_totals, Decimal("0")), form=ActionForm(),
                           previous=week - timedelta(days=7), next=week + timedelta(days=7),
                           projects={a["project_id"]: a["project_code"] for a in view.activities})


@bp.route("/", methods=["POST"])
def save_mine():
    """Save my week (the cells shown as inputs; the others keep their hours), and submit it if asked."""
    week = _week_asked()
    resource = timesheets.resource_of(db.session, user=g.user)
    if resource is None:
        abort(404)
    view = timesheets.sheet_view(db.session, user=g.user, resource=resource, week=week)
    lines = {(line.activity_id, line.day): {"activity_id": line.activity_id, "day": line.day, "hours": line.hours,
                                            "note": line.note} for line in view.lines}
    for activity in view.activities:
        for n, day in enumerate(view.days):
            name = _cell(activity["activity_id"], n)
            if name not in request.form:
                continue
            hours = _hours_of(request.form[name], code=activity["code"], day=day)
            key = (activity["activity_id"], day)
            if hours or key in lines:
                lines[key] = {**lines.get(key, {"note": ""}), "activity_id": key[0], "day": day, "hours": hours}
    submitting = request.form.get("action") == "submit"
    if view.editable or not submitting:  # a sheet that cannot change is refused by the service, with the reason
        timesheets.save_week(db.session, actor=g.user, resource=resource, week=week, lines=list(lines.values()))
    if submitting:
        timesheets.submit(db.session, actor=g.user, resource=resource, week=week)
        flash(_("The week is submitted for approval."), "info")
    else:
        flash(_("The week is saved."), "info")
    return redirect(url_for("hours.mine", week=week.isoformat()), code=303)


@bp.route("/approvals")
def approvals():
    """The hours waiting for my decision, by project and week, with their lines."""
    rows = db.session.execute(timesheets.approval_queue(db.session, user=g.user).limit(QUEUE_SHOWN + 1)).all()
    more = len(rows) > QUEUE_SHOWN
    rows = rows[:QUEUE_SHOWN]
    lines = timesheets.lines_of_decisions(db.session, [row.decision_id for row in rows])
    activity_ids = {line.activity_id for found in lines.values() for line in found}
    activities = {a.id: a for a in db.session.scalars(select(Activity).where(Activity.id.in_(activity_ids)))} \
        if activity_ids else {}
    return render_template("timesheets/approvals.html", rows=rows, more=more, lines=lines, activities=activities,
                           form=ActionForm(), reason_length=REASON_LENGTH)


@bp.route("/approvals", methods=["POST"])
def decide():
    """Approve or reject one project's hours on one sheet."""
    try:
        decision_id = int(request.form.get("decision_id", ""))
    except ValueError:
        abort(404)
    if not 0 < decision_id < 2**31:
        abort(404)
    decision = timesheets.get_decision_or_raise(db.session, user=g.user, decision_id=decision_id)
    sheet = decision.timesheet
    if request.form.get("action") == "reject":
        timesheets.reject(db.session, actor=g.user, sheet=sheet, project_id=decision.project_id,
                          reason=request.form.get("reason", ""))
        flash(_("The hours are rejected; the person is told the reason."), "info")
    else:
        timesheets.approve(db.session, actor=g.user, sheet=sheet, project_id=decision.project_id)
        flash(_("The hours are approved and booked as actuals."), "info")
    return redirect(url_for("hours.approvals"), code=303)


@bp.route("/locks")
def locks():
    """The locks in force and their history; a form to lock a period for those who may."""
    found = db.session.scalars(timesheets.list_locks(db.session, user=g.user).limit(200)).all()
    node_ids = {lock.eps_node_id for lock in found if lock.eps_node_id}
    nodes = {node.id: node for node in db.session.scalars(select(EpsNode).where(EpsNode.id.in_(node_ids)))} \
        if node_ids else {}
    choices = []
    if timesheets.may_lock(db.session, user=g.user):
        choices = db.session.scalars(select(EpsNode).where(visible(db.session, user=g.user, model=EpsNode))
                                     .order_by(EpsNode.path).limit(NODES_SHOWN)).all()
    return render_template("timesheets/locks.html", locks=found, nodes=nodes, choices=choices, form=ActionForm(),
                           may_lock=timesheets.may_lock(db.session, user=g.user), today=_today())


@bp.route("/locks", methods=["POST"])
def create_lock():
    """Lock timesheets through a day, company-wide or below a node (rights first, then the date)."""
    node = None
    node_text = request.form.get("eps_node_id", "").strip()
    if node_text:
        if not node_text.isdigit() or not 0 < int(node_text) < 2**31:
            abort(404)
        node = eps_services.get_node_or_raise(db.session, user=g.user, node_id=int(node_text))
    timesheets.authorize_lock(db.session, actor=g.user, eps_node=node)
    text = request.form.get("locked_through", "")
    try:
        through = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        through = None
    if through is None or not timesheets.FIRST_YEAR <= through.year <= timesheets.LAST_YEAR:
        raise Invalid(_("Locked through: enter a date."), errors={"locked_through": ["not a date"]})
    timesheets.set_lock(db.session, actor=g.user, eps_node=node, locked_through=through)
    flash(_("Timesheets are locked through %(day)s.", day=through.isoformat()), "info")
    return redirect(url_for("hours.locks"), code=303)

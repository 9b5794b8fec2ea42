"""My tasks: overdue first, then today's, then the upcoming ones; mark done; add one
(routes on ``web.views.crm.bp``).

The list is ``accounts.overview.task_worklist`` (the user's own tasks among
those they may read); creating and completing go through
``accounts.activities.create_task`` / ``update_task``, which check the edit right.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from accounts import activities, overview, services
from accounts import deals as deal_services
from accounts.models import StageKind, TaskStatus
from crmpm.database import db, utcnow
from crmpm.errors import Invalid
from web.forms import ActionForm, check, choices
from web.pages import safe_next
from web.views.crm import bp
from web.views.crm.accounts import rows_page, user_zone

PAGE_SIZE = 30
PICKER_LIMIT = 200


class TaskForm(FlaskForm):
    title = StringField(_l("Task"), validators=[DataRequired(), Length(max=500)])
    due_at = DateTimeLocalField(_l("Due"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                validators=[DataRequired()])
    account_id = SelectField(_l("Account"), coerce=str, validate_choice=False)
    deal_id = SelectField(_l("Deal"), coerce=str, validate_choice=False)


def _id(value: str | None, field: str, label: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise Invalid(_("%(field)s: not a valid choice.", field=label), errors={field: ["not a number"]})
    return int(value)


def task_form() -> TaskForm:
    """The new-task form: due tomorrow at nine; the user's own accounts and open deals to link it to."""
    session = db.session
    zone = user_zone()
    tomorrow = datetime.now(zone).date() + timedelta(days=1)
    form = TaskForm(formdata=None, data={"due_at": datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9, 0)})
    accounts = session.scalars(services.list_accounts(session, user=g.user, owner_id=g.user.id).limit(PICKER_LIMIT))
    form.account_id.choices = choices([("", "—")] + [(str(a.id), a.name) for a in accounts])
    deals = session.scalars(deal_services.list_deals(session, user=g.user, owner_id=g.user.id,
                                                     status=StageKind.open).limit(PICKER_LIMIT))
    form.deal_id.choices = choices([("", "—")] + [(str(d.id), d.name) for d in deals])
    return form


@bp.route("/tasks")
def tasks():
    """The user's tasks: open ones by due time (overdue highlighted, with the days late), or the done ones."""
    session = db.session
    done = request.args.get("status") == "done"
    page = rows_page(session, overview.task_worklist(session, user=g.user, done=done),
                     {"status": "done"} if done else {}, PAGE_SIZE)
    now = utcnow()
    zone = user_zone()
    today = now.astimezone(zone).date()
    groups: list[tuple[str, list]] = []
    for row in page.items:
        task = row[0]
        due_day = task.due_at.astimezone(zone).date()
        if done:
            bucket, late = "done", 0
        elif task.due_at < now:
            bucket, late = "overdue", (today - due_day).days
        elif due_day == today:
            bucket, late = "today", 0
        else:
            bucket, late = "upcoming", 0
        if not groups or groups[-1][0] != bucket:
            groups.append((bucket, []))
        groups[-1][1].append((row, late))
    return render_template("crm/tasks.html", page=page, groups=groups, done=done, form=task_form(),
                           action_form=ActionForm(),
                           overdue=overview.overdue_task_count(session, user=g.user, now=now))


@bp.route("/tasks", methods=["POST"])
def add_task():
    """Create a task for the user, on one of their accounts or deals."""
    session = db.session
    form = TaskForm()
    check(form)
    deal_id = _id(form.deal_id.data, "deal_id", _("Deal"))
    account_id = _id(form.account_id.data, "account_id", _("Account"))
    if deal_id is None and account_id is None:
        raise Invalid(_("Link the task to an account or a deal."), errors={"account_id": ["required"]})
    deal = deal_services.get_deal_or_raise(session, user=g.user, deal_id=deal_id, field="deal_id") if deal_id else None
    account = (services.get_account_or_raise(session, user=g.user, account_id=account_id, field="account_id")
               if account_id else None)
    due_at = form.due_at.data.replace(tzinfo=user_zone()).astimezone(timezone.utc)
    activities.create_task(session, actor=g.user, title=form.title.data, due_at=due_at, account=account, deal=deal)
    flash(_("The task was added."), "info")
    return redirect(url_for("crm.tasks"), code=303)


@bp.route("/tasks/<int:task_id>/done", methods=["POST"])
def complete_task(task_id: int):
    """Mark a task done."""
    session = db.session
    task = activities.get_task_or_raise(session, user=g.user, task_id=task_id)
    check(ActionForm())
    if task.status is TaskStatus.open:
        activities.update_task(session, actor=g.user, task=task, status=TaskStatus.done)
        flash(_("Done: %(title)s.", title=task.title), "info")
    else:  # marked done meanwhile (another tab, a colleague): say so rather than nothing
        flash(_("%(title)s is no longer open.", title=task.title), "info")
    return redirect(safe_next("crm.tasks"), code=303)

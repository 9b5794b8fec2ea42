"""Deals (routes on ``web.views.crm.bp``): the filtered list with its CSV, one deal's page, edits and stage moves.

Deals load through ``accounts.deals.get_deal_or_raise`` (404 when unreadable);
changes go through ``update_deal`` and ``move_stage``, which check the edit
rights again (403 otherwise) and keep the history. A stage move answers JSON to
the board's script and redirects a plain form back where it came from.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from accounts import activities, deals, pipelines
from accounts import services as account_services
from accounts.automation import services as automation
from accounts.deals.rules import weighted_amount
from accounts.models import Contact, Deal, PipelineStage, StageKind
from crmpm.database import db, utcnow
from crmpm.downloads import send_download
from crmpm.errors import Invalid
from crmpm.spreadsheet import csv_cell
from crmpm.users.models import User
from eps import services as eps_services
from eps.permissions import Permission, access_to
from wbs import templates
from wbs.models import Activity
from web import queries
from web.forms import MoneyField, check, choices
from web.i18n import amount
from web.pagination import paginate
from web.pages import safe_next, wants_json
from web.views.crm import bp
from web.views.crm.pipeline import board_columns, board_filter, open_totals

RECENT = 10  # interactions and tasks on the deal page
TEMPLATE_CHOICES = 100  # projects offered as the plan of a won deal
EXPORT_LIMIT = 10_000
SEARCH_LENGTH = 100
STATUSES = ("open", "won", "lost")


class DealForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    amount = MoneyField(_l("Amount"), validators=[DataRequired()])
    expected_close = DateField(_l("Expected close"), validators=[Optional()])
    owner_id = SelectField(_l("Owner"), validate_choice=False)


def _has_plan(session, found: Deal) -> bool:
    return session.scalar(select(Activity.id).where(Activity.project_id == found.project_id).limit(1)) is not None


def _optional_id(value) -> int | None:
    """A select's id, or None for its empty choice (a value that is no id is refused by the view)."""
    if value in (None, "", "None"):
        return None
    text = str(value)
    return int(text) if text.isdigit() and len(text) < 10 else -1


class StageForm(FlaskForm):
    stage_id = SelectField(_l("Stage"), coerce=int, validate_choice=False)
    lost_reason = StringField(_l("Lost reason"), validators=[Optional(), Length(max=500)])
    # Only with a won stage: the plan of this project is copied into the deal's (wbs.templates).
    template_project_id = SelectField(_l("Plan from a template"), coerce=_optional_id, validate_choice=False,
                                      validators=[Optional()])


# The list


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value < 2**31 else None


def _list_filters() -> dict:
    status = request.args.get("status", "")
    return {
        "pipeline_id": _int_arg("pipeline"), "stage_id": _int_arg("stage"), "owner_id": _int_arg("owner"),
        "account_id": _int_arg("account"), "status": status if status in STATUSES else "",
        "search": (request.args.get("q") or "").strip()[:SEARCH_LENGTH],
        "sort": request.args.get("sort", "") if request.args.get("sort", "").lstrip("-") in deals.DEAL_SORTS else "",
    }


def _list_query(filters: dict):
    # Each row shows the deal's project, account, stage and owner: loaded per page, not per row.
    return deals.list_deals(
        db.session, user=g.user, pipeline_id=filters["pipeline_id"], stage_id=filters["stage_id"],
        owner_id=filters["owner_id"], account_id=filters["account_id"],
        status=StageKind(filters["status"]) if filters["status"] else None, search=filters["search"] or None,
        sort=filters["sort"] or None).options(
        selectinload(Deal.project), selectinload(Deal.account), selectinload(Deal.stage), selectinload(Deal.owner),
        selectinload(Deal.pipeline))


def _link_args(filters: dict) -> dict:
    names = {"pipeline_id": "pipeline", "stage_id": "stage", "owner_id": "owner", "account_id": "account",
             "status": "status", "search": "q", "sort": "sort"}
    return {names[key]: value for key, value in filters.items() if value}


@bp.route("/deals", endpoint="deals")
def deals_list():
    """The deals the user may read: filter by pipeline, stage, owner, status, account and text; sort; pages."""
    filters = _list_filters()
    args = _link_args(filters)
    page = paginate(db.session, _list_query(filters), args=args, default_per_page=50)
    session = db.session
    all_pipelines = list(session.scalars(pipelines.list_pipelines(session)))
    stages = [stage for p in all_pipelines for stage in p.stages
              if filters["pipeline_id"] is None or p.id == filters["pipeline_id"]]
    account = None
    if filters["account_id"]:
        account = account_services.get_account_or_raise(session, user=g.user, account_id=filters["account_id"])
    return render_template("crm/deals.html", page=page, filters=filters, args=args, pipelines=all_pipelines,
                           stages=stages, owners=queries.active_users(session, limit=500), account=account,
                           sorts=deals.DEAL_SORTS, weighted=weighted_amount)


@bp.route("/deals.csv")
def deals_csv():
    """Every deal of the filtered list (up to 10,000) as CSV, in the list's order."""
    filters = _list_filters()
    rows = db.session.scalars(_list_query(filters).limit(EXPORT_LIMIT)).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "code", "name", "account", "pipeline", "stage", "status", "amount", "currency",
                     "probability", "weighted_amount", "expected_close", "owner", "product", "created_at",
                     "closed_at", "lost_reason"])
    for deal in rows:
        writer.writerow([csv_cell(v) for v in (
            deal.id, deal.project.code, deal.project.name, deal.account.name, deal.pipeline.name, deal.stage.name,
            deal.stage.kind.value, deal.amount, deal.currency, deal.effective_probability, weighted_amount(deal),
            deal.expected_close, deal.owner.name if deal.owner else None, deal.product,
            deal.created_at.date().isoformat(),
            deal.closed_at.date().isoformat() if deal.closed_at else None, deal.lost_reason)])
    return send_download(buffer.getvalue(), filename=f"deals-{date.today().isoformat()}.csv", mimetype="text/csv")


# One deal


@bp.route("/deals/<int:deal_id>")
def deal(deal_id: int):
    """The deal: account, contact, owner, stage and its history, figures, project, interactions and tasks."""
    session = db.session
    found = deals.get_deal_or_raise(session, user=g.user, deal_id=deal_id)
    access = access_to(session, user=g.user, obj=found.project)
    can_edit = access.can(Permission.edit)
    history = deals.stage_history(session, deal=found)
    actor_ids = {change.actor_id for change in history if change.actor_id}
    actors = dict(session.execute(select(User.id, User.name).where(User.id.in_(actor_ids))).all()) if actor_ids \
        else {}
    now = utcnow()
    steps = []
    for index, change in enumerate(history):
        left = history[index + 1].at if index + 1 < len(history) else None
        until = left or (now if change.to_stage.kind is StageKind.open else None)
        steps.append({"change": change, "actor": actors.get(change.actor_id), "left": left,
                      "days": (until - change.at).days if until else None})
    interactions = activities.list_interactions(session, user=g.user, deal_id=found.id)
    tasks = activities.list_tasks(session, user=g.user, deal_id=found.id)
    contact = session.get(Contact, found.contact_id) if found.contact_id else None
    form = DealForm(data={"name": found.project.name, "amount": found.amount,
                          "expected_close": found.expected_close, "owner_id": str(found.owner_id or "")})
    owners = queries.active_users(session, limit=500)
    form.owner_id.choices = choices([("", "—")] + [(str(user.id), user.name) for user in owners])
    stage_form = StageForm()
    # A template only makes sense while the project has no plan of its own yet.
    template_choices = templates.candidates(session, user=g.user, exclude=found.project, limit=TEMPLATE_CHOICES) \
        if can_edit and found.stage.kind is not StageKind.won and not _has_plan(session, found) else []
    return render_template(
        "crm/deal.html", deal=found, account=found.account, contact=contact, can_edit=can_edit, steps=steps,
        can_bill=access.can(Permission.budget),
        weighted=weighted_amount(found), probability=found.effective_probability,
        interactions=session.scalars(interactions.limit(RECENT)).all(),
        interaction_count=queries.count(session, interactions),
        tasks=session.scalars(tasks.limit(RECENT)).all(), task_count=queries.count(session, tasks),
        form=form, stage_form=stage_form, stages=found.pipeline.stages, today=date.today(),
        lines_total=deals.lines_total(found.lines),
        template_choices=template_choices, automation_runs=automation.deal_runs(session, deal=found))


@bp.route("/deals/<int:deal_id>", methods=["POST"])
def update_deal(deal_id: int):
    """Change the deal's name, amount, expected close and owner (edit rights; the service checks)."""
    session = db.session
    found = deals.get_deal_or_raise(session, user=g.user, deal_id=deal_id)
    form = check(DealForm())
    owner = None
    if form.owner_id.data:
        if not form.owner_id.data.isdigit() or len(form.owner_id.data) > 9:
            raise Invalid(_("Choose an owner from the list."), errors={"owner_id": ["unknown"]})
        owner = session.get(User, int(form.owner_id.data))
        if owner is None:
            raise Invalid(_("Choose an owner from the list."), errors={"owner_id": ["unknown"]})
    deals.update_deal(session, actor=g.user, deal=found, name=form.name.data, amount=form.amount.data,
                      expected_close=form.expected_close.data, owner=owner)
    flash(_("The deal was saved."), "info")
    return redirect(url_for("crm.deal", deal_id=found.id), code=303)


@bp.route("/deals/<int:deal_id>/stage", methods=["POST"])
def move_stage(deal_id: int):
    """Move the deal to another stage of its pipeline: JSON for the board's script, else back to the page."""
    session = db.session
    found = deals.get_deal_or_raise(session, user=g.user, deal_id=deal_id)
    form = check(StageForm())
    stage = pipelines.stage_in(found.pipeline, stage_id=form.stage_id.data)
    reason = (form.lost_reason.data or "").strip()
    template = None
    if form.template_project_id.data is not None:
        if form.template_project_id.data < 0:
            raise Invalid(_("Choose a template from the list."), errors={"template_project_id": ["unknown"]})
        template = eps_services.get_project_or_raise(session, user=g.user,
                                                     project_id=form.template_project_id.data)
    deals.move_stage(session, actor=g.user, deal=found, stage=stage, lost_reason=reason or None,
                     template=template)
    message = _moved_message(found, stage)
    if wants_json():
        flt = board_filter(request.form)
        columns = board_columns(found.pipeline, flt, per_stage=0)
        totals = open_totals(columns)
        return jsonify({
            "deal_id": found.id, "stage_id": stage.id, "stage_kind": stage.kind.value, "message": message,
            "columns": [{"stage_id": c.stage.id, "count": c.count, "value": amount(c.value),
                         "weighted": amount(c.weighted)} for c in columns],
            "totals": {"count": totals.count, "value": amount(totals.value), "weighted": amount(totals.weighted)},
        })
    flash(message, "info")
    return redirect(safe_next() if request.values.get("next") else url_for("crm.deal", deal_id=found.id), code=303)


def _moved_message(found: Deal, stage: PipelineStage) -> str:
    name = found.project.name
    if stage.kind is StageKind.won:
        if found.budget_set_at is not None:
            return _("%(deal)s is won: the project budget was set to %(amount)s.", deal=name, amount=amount(found.amount))
        return _("%(deal)s is won; the project budget is left to finance.", deal=name)
    if stage.kind is StageKind.lost:
        return _("%(deal)s is lost.", deal=name)
    return _("%(deal)s moved to %(stage)s.", deal=name, stage=stage.name)

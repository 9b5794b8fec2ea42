"""The lead inbox: leads routed to me (or my team), how the routing chose, and what to do with them
(routes on ``web.views.crm.bp``).

The inbox reads ``accounts.overview.lead_inbox`` (the leads the user may read,
with their last routing assignment); qualifying, disqualifying, reassigning and
routing go through ``accounts.leads`` and ``accounts.routing``, which check the
edit right on the lead's branch.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from accounts import leads as lead_services
from accounts import activities, overview, pipelines, routing, services
from accounts.models import AccountKind, LeadStatus
from crmpm.database import db
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound
from crmpm.users import services as users
from crmpm.users.models import User
from eps.permissions import Permission, access_to
from web.forms import MoneyField, check, choices
from web.i18n import translate, translate_error
from web.nav import is_available
from web.pages import safe_next, wants_json
from web import queries
from web.queries import active_users
from web.views.crm import bp
from web.views.crm.accounts import KIND_LABELS, rows_page

PAGE_SIZE = 25
PICKER_LIMIT = 200
RECENT_INTERACTIONS = 10  # on the lead page

STATUS_LABELS = {LeadStatus.new: _l("new"), LeadStatus.assigned: _l("assigned"),
                 LeadStatus.qualified: _l("qualified"), LeadStatus.disqualified: _l("disqualified")}
SCOPE_LABELS = {"mine": _l("Routed to me"), "team": _l("My team"), "queue": _l("Unassigned"),
                "all": _l("All I can see")}
# The step of the routing that chose the owner (``LeadAssignment.reason``).
REASON_LABELS = {"existing_client": _l("owner of the existing client"), "round_robin": _l("round robin"),
                 "least_load": _l("least load"), "manual": _l("assigned by hand")}


class QualifyForm(FlaskForm):
    pipeline_id = SelectField(_l("Pipeline"), coerce=int, validate_choice=False, validators=[DataRequired()])
    deal_name = StringField(_l("Deal name"), validators=[Optional(), Length(max=200)])
    amount = MoneyField(_l("Amount"), validators=[Optional()])
    expected_close = DateField(_l("Expected close"), validators=[Optional()])
    account_kind = SelectField(_l("A new account is a"), default=AccountKind.prospect.value,
                               choices=choices((kind.value, label) for kind, label in KIND_LABELS.items()))


class DisqualifyForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class AssignForm(FlaskForm):
    owner_id = SelectField(_l("Give to"), coerce=int, validate_choice=False, validators=[DataRequired()])


def _scope() -> str:
    scope = request.args.get("scope", "")
    if scope in overview.LEAD_SCOPES:
        return scope
    return "all" if g.user.is_admin else "mine"


@bp.route("/leads")
def leads():
    """The lead inbox: open leads first, newest first, with who got each one, by which rule and why."""
    session = db.session
    scope = _scope()
    status_name = request.args.get("status", "")
    status = LeadStatus(status_name) if status_name in LeadStatus.__members__ else None
    source = request.args.get("source", "").strip()[:100]
    search = request.args.get("q", "").strip()[:100]
    query = overview.lead_inbox(session, user=g.user, scope=scope, status=status, source=source or None,
                                search=search or None)
    args = {key: value for key, value in (("scope", scope), ("status", status.value if status else ""),
                                          ("source", source), ("q", search)) if value}
    page = rows_page(session, query, args, PAGE_SIZE)
    ages = {row[0].id: overview.lead_age(row[0]) for row in page.items}
    queued = _queue_reasons(row[0] for row in page.items)
    return render_template("crm/leads.html", page=page, scope=scope, status=status.value if status else "",
                           source=source, search=search, sources=overview.lead_sources(session, user=g.user), ages=ages,
                           queued=queued,
                           status_labels=STATUS_LABELS, scope_labels=SCOPE_LABELS, reason_labels=REASON_LABELS)


def _queue_reasons(leads) -> dict[int, str]:
    """Why routing left each unassigned lead in the queue, in the user's language."""
    found = {lead.id: routing.queue_reasons(lead) for lead in leads}
    return {lead_id: "; ".join(translate(reason.template, reason.params) for reason in reasons)
            for lead_id, reasons in found.items() if reasons}


def _lead(lead_id: int):
    return lead_services.get_lead_or_raise(db.session, user=g.user, lead_id=lead_id)


@bp.route("/leads/<int:lead_id>")
def lead(lead_id: int):
    """One lead: what came in, where it was routed and why, and the actions on it."""
    return _lead_page(lead_id)


def _lead_page(lead_id: int, *, qualify: QualifyForm | None = None):
    """The lead page; ``qualify``: a refused qualify form, shown again as it was typed."""
    session = db.session
    lead = _lead(lead_id)
    can_edit = access_to(session, user=g.user, obj=lead.region_node).can(Permission.edit)
    assignments = routing.list_assignments(session, lead=lead)
    names = {user.id: user.name for user in users_by_id(session, {a.user_id for a in assignments}
                                                        | {a.actor_id for a in assignments if a.actor_id}
                                                        | ({lead.owner_id} if lead.owner_id else set()))}
    rules = {rule.id: rule.name for rule in session.scalars(routing.list_rules(session))}
    client = _readable_client(lead)
    open_lead = lead.status in (LeadStatus.new, LeadStatus.assigned)
    forms = {}
    if can_edit and open_lead:
        if qualify is None:
            qualify = QualifyForm(formdata=None)
        qualify.pipeline_id.choices = choices(
            (pipeline.id, pipeline.name)
            for pipeline in session.scalars(pipelines.list_pipelines(session, active_only=True)))
        assign = AssignForm(formdata=None)
        assign.owner_id.choices = choices((user.id, user.name) for user in active_users(session, limit=PICKER_LIMIT))
        assign.owner_id.data = lead.owner_id
        forms = {"qualify": qualify, "disqualify": DisqualifyForm(formdata=None), "assign": assign}
    # Calls, messages and e-mails from unknown senders land here (accounts.inbound) until the lead is qualified.
    journal = activities.list_interactions(session, user=g.user, lead_id=lead.id)
    return render_template("crm/lead.html", lead=lead, assignments=assignments, names=names, rules=rules,
                           interactions=session.scalars(journal.limit(RECENT_INTERACTIONS)).all(),
                           interaction_count=queries.count(session, journal),
                           queued=_queue_reasons([lead]),
                           client=client, can_edit=can_edit, open_lead=open_lead, forms=forms,
                           age=overview.lead_age(lead), status_labels=STATUS_LABELS, reason_labels=REASON_LABELS)


def users_by_id(session, ids):
    """The users with these ids, in one query."""
    return session.scalars(users.list_(session).where(User.id.in_(ids))).all() if ids else []


def _readable_client(lead):
    """The existing client the lead comes from, if the user may see it (qualifying joins the lead to it)."""
    if lead.account_id:
        account_id = lead.account_id
    else:
        found = routing.existing_client(db.session, lead=lead)
        if found is None:
            return None
        account_id = found.id
    try:
        return services.get_account_or_raise(db.session, user=g.user, account_id=account_id)
    except NotFound:
        return None


def _back(lead) -> str:
    return safe_next() if request.values.get("next") else url_for("crm.lead", lead_id=lead.id)


@bp.route("/leads/<int:lead_id>/qualify", methods=["POST"])
def qualify_lead(lead_id: int):
    """Qualify the lead into an account, a contact and a deal (the service finds the existing client)."""
    session = db.session
    lead = _lead(lead_id)
    form = QualifyForm()
    try:
        check(form)
        pipeline = pipelines.get_pipeline_or_raise(session, pipeline_id=form.pipeline_id.data, field="pipeline_id")
        result = lead_services.qualify_lead(
            session, actor=g.user, lead=lead, pipeline=pipeline,
            deal_name=(form.deal_name.data or "").strip() or None, amount=form.amount.data,
            expected_close=form.expected_close.data, account_kind=AccountKind(form.account_kind.data))
    except (Conflict, Forbidden, Invalid) as exc:
        if wants_json():
            raise  # a script's request: the reason as data, from the pages' handler
        # A long form: refused, it comes back as typed with the reason (a redirect would empty it).
        session.rollback()
        flash(translate_error(exc), "error")
        return _lead_page(lead_id, qualify=form), exc.status
    flash(_("The lead was qualified: deal %(deal)s at %(account)s.", deal=result.deal.name,
            account=result.account.name), "info")
    if is_available("crm.deal"):
        return redirect(url_for("crm.deal", deal_id=result.deal.id), code=303)
    return redirect(url_for("crm.account", account_id=result.account.id), code=303)


@bp.route("/leads/<int:lead_id>/disqualify", methods=["POST"])
def disqualify_lead(lead_id: int):
    """Close the lead as not worth pursuing, with the reason."""
    lead = _lead(lead_id)
    form = check(DisqualifyForm())
    lead_services.disqualify_lead(db.session, actor=g.user, lead=lead, reason=form.reason.data.strip())
    flash(_("The lead was disqualified."), "info")
    return redirect(_back(lead), code=303)


@bp.route("/leads/<int:lead_id>/assign", methods=["POST"])
def assign_lead(lead_id: int):
    """Give the lead to someone else by hand (recorded as a manual assignment)."""
    session = db.session
    lead = _lead(lead_id)
    form = check(AssignForm())
    owner = users.get(session, user_id=form.owner_id.data)
    if owner is None or not owner.is_active:
        raise Invalid(_("Choose an active user to give the lead to."), errors={"owner_id": ["unknown or inactive"]})
    routing.assign_lead(session, actor=g.user, lead=lead, user=owner)
    flash(_("The lead now belongs to %(name)s.", name=owner.name), "info")
    return redirect(_back(lead), code=303)


@bp.route("/leads/<int:lead_id>/route", methods=["POST"])
def route_lead(lead_id: int):
    """Run the routing rules for the lead now."""
    lead = _lead(lead_id)
    check(FlaskForm())
    assignment = routing.route_lead(db.session, actor=g.user, lead=lead)
    flash(_("The lead was routed to %(name)s.", name=users.get(db.session, user_id=assignment.user_id).name), "info")
    return redirect(_back(lead), code=303)

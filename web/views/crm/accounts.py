"""Accounts of the CRM: the list with each client's figures, the account page with its full timeline,
and the quick entry of an interaction (routes on ``web.views.crm.bp``).

Everything shown comes through ``accounts`` read models filtered by the user's
EPS grants (``overview.account_rows``, ``activities.timeline`` with the user,
``deals.list_deals``); an interaction is written by
``activities.create_interaction``, which checks the edit right itself.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms import DateTimeLocalField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from accounts import activities, overview, services
from accounts import deals as deal_services
from accounts.models import Account, AccountKind, Deal, Direction, InteractionKind
from crmpm.database import db, utcnow
from crmpm.errors import Invalid, NotFound
from eps.permissions import Permission, access_to
from web.forms import choices, check
from web.pagination import Page, page_args
from web.queries import count
from web.pages import safe_next
from web.views.crm import bp

PAGE_SIZE = 25
TIMELINE_PAGE = 20
CONTACT_LIMIT = 200
SUBACCOUNT_LIMIT = 50
UPCOMING_LIMIT = 10
DEAL_LIMIT = 200

KIND_LABELS = {AccountKind.prospect: _l("prospect"), AccountKind.client: _l("client"),
               AccountKind.partner: _l("partner"), AccountKind.former: _l("former client")}
INTERACTION_LABELS = {InteractionKind.call: _l("Call"), InteractionKind.email: _l("Email"),
                      InteractionKind.meeting: _l("Meeting"), InteractionKind.messenger: _l("Messenger"),
                      InteractionKind.web_form: _l("Web form"), InteractionKind.chat: _l("Chat"),
                      InteractionKind.letter: _l("Letter")}
DIRECTION_LABELS = {Direction.outbound: _l("Outbound"), Direction.inbound: _l("Inbound")}
TIMELINE_LABELS = {"interaction": _l("Interactions"), "stage_change": _l("Stage changes"), "task": _l("Tasks"),
                   "deal": _l("Deals"), "survey": _l("Survey answers"), "automation": _l("Automation")}
SORT_LABELS = {"name": _l("Name"), "open_amount": _l("Open amount"), "open_deals": _l("Open deals"),
               "last_touch": _l("Last interaction")}


class InteractionForm(FlaskForm):
    """The quick entry of a client touch (the account page and the deal page include it)."""

    account_id = HiddenField(validators=[DataRequired()])
    deal_id = HiddenField()
    kind = SelectField(_l("Kind"), validators=[InputRequired()],
                       choices=choices((kind.value, label) for kind, label in INTERACTION_LABELS.items()))
    direction = SelectField(_l("Direction"), validators=[InputRequired()],
                            choices=choices((d.value, label) for d, label in DIRECTION_LABELS.items()))
    contact_id = SelectField(_l("Contact"), validate_choice=False)
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=500)])
    summary = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=20_000)])
    occurred_at = DateTimeLocalField(_l("When"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                     validators=[DataRequired()])
    duration_minutes = IntegerField(_l("Minutes"), validators=[Optional()])
    next = HiddenField()


def interaction_form(account, *, deal=None, contacts=None) -> InteractionForm:
    """A quick-entry form for ``account`` (and ``deal``), its time set to now in the user's zone."""
    form = InteractionForm(formdata=None, data={
        "account_id": account.id, "deal_id": deal.id if deal else "",
        "occurred_at": datetime.now(user_zone()).replace(second=0, microsecond=0, tzinfo=None),
        "next": request.full_path.rstrip("?")})
    if contacts is None:
        contacts = db.session.scalars(services.list_contacts(db.session, user=g.user, account_id=account.id)
                                      .limit(CONTACT_LIMIT)).all()
    form.contact_id.choices = choices([("", _("— nobody in particular —"))]
                                      + [(str(contact.id), contact.name) for contact in contacts])
    return form


@bp.app_template_global()
def quick_interaction_form(account, deal=None):
    """The quick-entry form for ``account`` (and ``deal``) if the user may log touches there, else None.

    ``crm/_quick_interaction.html`` calls it when the including page passed no ``interaction_form``.
    """
    if not access_to(db.session, user=g.user, obj=account.eps_node).can(Permission.edit):
        return None
    return interaction_form(account, deal=deal)


def user_zone() -> ZoneInfo:
    """The zone the pages show times in (and read typed times in)."""
    return ZoneInfo(str(get_timezone()))


@bp.app_template_global()
def zone_name() -> str:
    """The name of the zone typed times are read in, for the forms' labels."""
    return str(get_timezone())


@bp.route("/accounts")
def accounts():
    """The accounts the user may see, with owner, branch, open deals and the last touch; searchable, sortable."""
    session = db.session
    search = request.args.get("q", "").strip()[:200]
    kind_name = request.args.get("kind", "")
    kind = AccountKind(kind_name) if kind_name in AccountKind.__members__ else None
    owner = request.args.get("owner", "")
    owner_id = g.user.id if owner == "me" else None
    sort = request.args.get("sort", "name")
    sort = sort if sort in overview.ACCOUNT_SORTS else "name"
    descending = request.args.get("dir") == "desc"
    query = overview.account_rows(session, user=g.user, search=search or None, kind=kind, owner_id=owner_id,
                                  sort=sort, descending=descending)
    args = {key: value for key, value in (("q", search), ("kind", kind.value if kind else ""),
                                          ("owner", "me" if owner_id else ""), ("sort", sort if sort != "name" else ""),
                                          ("dir", "desc" if descending else "")) if value}
    page = rows_page(session, query, args, counted=query.with_only_columns(Account.id))
    return render_template("crm/accounts.html", page=page, search=search, kind=kind.value if kind else "",
                           owner="me" if owner_id else "", sort=sort, descending=descending, args=args,
                           kind_labels=KIND_LABELS, sort_labels=SORT_LABELS)


def rows_page(session, query, args: dict, default_per_page: int = PAGE_SIZE, *, counted=None) -> Page:
    """One page of a select of several columns, as rows (``paginate`` keeps the first column only);
    ``counted``: a lighter select of the same rows to count (without the per-row figures)."""
    number, per_page = page_args(default_per_page)
    total = count(session, query if counted is None else counted)
    items = session.execute(query.limit(per_page).offset((number - 1) * per_page)).all()
    return Page(items=items, page=number, per_page=per_page, total=total, args=args)


def _timeline_types() -> tuple[str, ...]:
    asked = [name for name in request.args.getlist("type") if name in activities.TIMELINE_TYPES]
    return tuple(asked) or activities.TIMELINE_TYPES


def _timeline_page(account, types):
    session = db.session
    query = activities.timeline(session, account=account, user=g.user, types=types, with_subaccounts=True,
                                until=utcnow())
    args = {"type": list(types)} if set(types) != set(activities.TIMELINE_TYPES) else {}
    page = rows_page(session, query, args, TIMELINE_PAGE)
    if "per_page" in request.args:
        page.args["per_page"] = page.per_page
    page.objects = overview.timeline_objects(session, rows=page.items)
    return page


@bp.route("/accounts/<int:account_id>")
def account(account_id: int):
    """One account: who they are, contacts, deals (its own and its subsidiaries'), satisfaction, the timeline."""
    session = db.session
    account = services.get_account_or_raise(session, user=g.user, account_id=account_id)
    access = access_to(session, user=g.user, obj=account.eps_node)
    children = session.scalars(overview.subaccounts(session, user=g.user, account=account)
                               .limit(SUBACCOUNT_LIMIT)).all()
    contacts = session.scalars(services.list_contacts(session, user=g.user, account_id=account.id)
                               .limit(CONTACT_LIMIT)).all()
    holders = [account.id, *(child.id for child in children)]
    deals = session.scalars(deal_services.list_deals(session, user=g.user).where(Deal.account_id.in_(holders))
                            .options(selectinload(Deal.stage), selectinload(Deal.project),
                                     selectinload(Deal.account)).limit(DEAL_LIMIT)).all()
    parent = None
    if account.parent_id is not None:
        try:
            parent = services.get_account_or_raise(session, user=g.user, account_id=account.parent_id)
        except NotFound:
            parent = None  # a holding in a branch the user may not see stays unnamed
    types = _timeline_types()
    can_edit = access.can(Permission.edit)
    upcoming = session.execute(overview.upcoming_tasks(session, user=g.user, account=account)
                               .limit(UPCOMING_LIMIT)).scalars().all()
    return render_template(
        "crm/account.html", account=account, parent=parent, children=children, contacts=contacts, deals=deals,
        timeline=_timeline_page(account, types), types=types, all_types=activities.TIMELINE_TYPES,
        upcoming=upcoming, satisfaction=overview.satisfaction_totals(session, account_ids=[account.id]),
        can_edit=can_edit, interaction_form=interaction_form(account, contacts=contacts) if can_edit else None,
        **_labels())


@bp.route("/accounts/<int:account_id>/timeline")
def account_timeline(account_id: int):
    """One more page of an account's timeline, as list items (fetched by "Load more")."""
    account = services.get_account_or_raise(db.session, user=g.user, account_id=account_id)
    types = _timeline_types()
    return render_template("crm/_account_timeline.html", account=account, timeline=_timeline_page(account, types),
                           types=types, **_labels())


def _labels() -> dict:
    return {"kind_labels": KIND_LABELS, "interaction_labels": {k.value: v for k, v in INTERACTION_LABELS.items()},
            "direction_labels": {k.value: v for k, v in DIRECTION_LABELS.items()},
            "timeline_labels": TIMELINE_LABELS}


@bp.route("/interactions", methods=["POST"])
def add_interaction():
    """Log a touch of a client from the quick form, then go back to the page it was sent from."""
    session = db.session
    form = InteractionForm()
    form.contact_id.choices = []
    account_id = form.account_id.data
    if not (account_id or "").isdigit() or not 0 < int(account_id) < 2**31:
        raise Invalid(_("The form names no account."), errors={"account_id": ["required"]})
    account = services.get_account_or_raise(session, user=g.user, account_id=int(account_id))
    check(form)
    deal = contact = None
    if form.deal_id.data:
        if not form.deal_id.data.isdigit() or not 0 < int(form.deal_id.data) < 2**31:
            raise Invalid(_("Unknown deal."), errors={"deal_id": ["not a number"]})
        deal = deal_services.get_deal_or_raise(session, user=g.user, deal_id=int(form.deal_id.data))
    if form.contact_id.data:
        contact = _contact(account, form.contact_id.data)
    occurred_at = form.occurred_at.data.replace(tzinfo=user_zone()).astimezone(timezone.utc)
    activities.create_interaction(
        session, actor=g.user, account=account, deal=deal, contact=contact, kind=InteractionKind(form.kind.data),
        direction=Direction(form.direction.data), occurred_at=occurred_at, subject=form.subject.data.strip(),
        summary=(form.summary.data or "").strip(), duration_minutes=form.duration_minutes.data)
    flash(_("The interaction was recorded."), "info")
    return redirect(safe_next(), code=303) if request.values.get("next") else redirect(
        url_for("crm.account", account_id=account.id), code=303)


def _contact(account, value: str):
    """The contact picked on the form; a clear error when it is not one of the account's people."""
    wrong = Invalid(_("The contact is not one of this account's people."), errors={"contact_id": ["wrong account"]})
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise wrong
    try:
        contact = services.get_contact_or_raise(db.session, user=g.user, contact_id=int(value))
    except NotFound:
        raise wrong from None
    if contact.account_id != account.id:
        raise wrong
    return contact

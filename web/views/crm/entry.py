"""Entering new records by hand (routes on ``web.views.crm.bp``): a lead from a phone call, an account (and its
edit page), a deal, and a deal's product lines.

Each form calls one service: ``accounts.leads.receive_lead`` (the API's lead
creation with its routing), ``accounts.services.create_account`` /
``update_account`` (the tax id checked by ``accounts.normalize``), after
``similar_accounts`` has warned of possible duplicates the user may read,
``accounts.deals.create_deal`` and ``update_deal``. The services check the
rights (403) and the values; a refused form comes back as typed, its fields
named, with nothing written.
"""

from __future__ import annotations

from decimal import Decimal

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from accounts import deals as deal_services
from accounts import leads as lead_services
from accounts import overview, pipelines, services
from accounts.models import Account, AccountKind, PipelineStage
from accounts.normalize import name_key
from crmpm.database import db
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound
from crmpm.users import services as users
from eps import services as eps_services
from eps.permissions import Permission
from web.forms import MoneyField, check, choices, email_address, parse_amount
from web.i18n import translate
from web.queries import active_users
from web.views.crm import bp
from web.views.crm.accounts import KIND_LABELS

ACCOUNT_CHOICES = 300  # accounts offered as a deal's client or a holding
PEOPLE_CHOICES = 500
CONTACT_CHOICES = 200
LINE_ROWS = 3  # empty product rows offered below a deal's lines
MAX_LINES = 100
REASON_LABELS = {"tax_id": _l("same INN"), "name": _l("similar name"), "phone": _l("same phone")}


def _id(value) -> int | None:
    """A select's id, or None for its empty choice; -1 for text that is no id (refused by the view)."""
    if value in (None, "", "None"):
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() and len(text) < 10 and int(text) > 0 else -1


def _arg_id(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value < 2**31 else None


def _refused(form: FlaskForm, exc) -> dict[str, list[str]]:
    """The fields a refusal names, each with the reason in the user's language (a form check or a service)."""
    if form.errors:
        return {name: [str(message) for message in messages] for name, messages in form.errors.items()}
    params = dict(exc.params)
    if params.get("field") in form:  # "invalid {field}: ..." names the field as the form labels it
        params["field"] = str(form[params["field"]].label.text)
    reason = translate(exc.template, params)
    named = {name: [reason] for name in (exc.errors or {}) if name in form}
    return named or {"": [reason]}


def _pick(session, value: int | None, *, field: str, load):
    """The object a select names (None for none), loaded within the user's rights; Invalid naming ``field``."""
    if value is None:
        return None
    if value < 0:
        raise Invalid(_("Choose from the list."), errors={field: ["unknown"]})
    return load(value)


def _branch(node_id: int | None):
    """The branch picked on a form, loaded with the edit right the new record needs (404 unreadable, 403
    read-only), before the rest of the form is looked at; None when none (or no id) was picked."""
    if node_id is None or node_id < 0:
        return None
    return eps_services.get_node_or_raise(db.session, user=g.user, node_id=node_id, permission=Permission.edit,
                                          field="region_node_id")


# A lead from a phone call


class LeadForm(FlaskForm):
    region_node_id = SelectField(_l("Branch"), coerce=_id, validate_choice=False, validators=[DataRequired()])
    contact_name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)], render_kw={"type": "tel"})
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254), email_address],
                        render_kw={"type": "email"})
    tax_id = StringField(_l("INN"), validators=[Optional(), Length(max=40)])
    source = StringField(_l("Source"), validators=[Optional(), Length(max=100)])
    product = StringField(_l("Product"), validators=[Optional(), Length(max=100)])
    message = TextAreaField(_l("Note"), validators=[Optional(), Length(max=10_000)])


def _lead_page(form: LeadForm, *, errors=None, status: int = 200):
    session = db.session
    branches = services.branch_choices(session, user=g.user)
    if not branches:
        raise Forbidden(_("You may not add leads on any branch."))
    form.region_node_id.choices = choices([("", "—")] + [(node.id, f"{node.code} · {node.name}") for node in branches])
    if form.region_node_id.data is None and len(branches) == 1:
        form.region_node_id.data = branches[0].id
    page = render_template("crm/lead_new.html", form=form, errors=errors or {},
                           sources=overview.lead_sources(session, user=g.user))
    return page, status


@bp.route("/leads/new", methods=["GET"])
def new_lead():
    """The quick form for a phone call: who called, from where, about what."""
    return _lead_page(LeadForm(formdata=None))


@bp.route("/leads/new", methods=["POST"])
def create_lead():
    """Record the lead on its branch and route it as the API does (or leave it queued with the reason)."""
    session = db.session
    form = LeadForm()
    region = _branch(form.region_node_id.data)
    try:
        check(form)
        if region is None:
            raise Invalid(_("Choose from the list."), errors={"region_node_id": ["unknown"]})
        lead = lead_services.receive_lead(
            session, actor=g.user, region=region, route=True, channel="phone",
            **{name: (getattr(form, name).data or "").strip()
               for name in ("contact_name", "company", "source", "product", "message")},
            **{name: (getattr(form, name).data or "").strip() or None for name in ("phone", "email", "tax_id")})
    except (Invalid, Conflict) as exc:
        db.session.rollback()
        return _lead_page(form, errors=_refused(form, exc), status=422)
    if lead.owner_id:
        owner = users.get(session, user_id=lead.owner_id)
        flash(_("The lead was recorded and routed to %(name)s.", name=owner.name), "info")
    else:
        flash(_("The lead was recorded; nobody can take it now, so it waits in the queue."), "info")
    return redirect(url_for("crm.lead", lead_id=lead.id), code=303)


# Accounts


class AccountForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    tax_id = StringField(_l("INN"), validators=[Optional(), Length(max=40)])
    kind = SelectField(_l("Kind"), default=AccountKind.prospect.value,
                       choices=choices((kind.value, label) for kind, label in KIND_LABELS.items()))
    parent_id = SelectField(_l("Holding (parent company)"), coerce=_id, validate_choice=False, validators=[Optional()])
    owner_id = SelectField(_l("Owner"), coerce=_id, validate_choice=False, validators=[Optional()])
    sector = StringField(_l("Sector"), validators=[Optional(), Length(max=200)])
    segment = StringField(_l("Segment"), validators=[Optional(), Length(max=200)])
    # The details invoices and acts print (checked by ``accounts.requisites`` in the service).
    kpp = StringField(_l("KPP"), validators=[Optional(), Length(max=9)])
    ogrn = StringField(_l("OGRN"), validators=[Optional(), Length(max=15)])
    legal_address = StringField(_l("Legal address"), validators=[Optional(), Length(max=500)])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=300)])
    bank_bik = StringField(_l("BIK"), validators=[Optional(), Length(max=9)])
    bank_account = StringField(_l("Settlement account"), validators=[Optional(), Length(max=20)])
    bank_corr_account = StringField(_l("Correspondent account"), validators=[Optional(), Length(max=20)])
    # What the duplicate warning was shown for; the same values sent again are saved as they are.
    confirmed = HiddenField()


class NewAccountForm(AccountForm):
    region_node_id = SelectField(_l("Branch"), coerce=_id, validate_choice=False, validators=[DataRequired()])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)], render_kw={"type": "tel"})
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254), email_address],
                        render_kw={"type": "email"})


def _fingerprint(form: AccountForm) -> str:
    """What the duplicate check looked at, so a changed name or INN is checked again."""
    phone = getattr(form, "phone", None)
    return "|".join((name_key(form.name.data or ""), (form.tax_id.data or "").strip(),
                     (phone.data or "").strip() if phone is not None else ""))


def _account_choices(form: AccountForm, account: Account | None):
    session = db.session
    query = services.list_accounts(session, user=g.user).limit(ACCOUNT_CHOICES)
    if account is not None:
        query = query.where(Account.id != account.id)
    holdings = [(a.id, a.name) for a in session.scalars(query)]
    if account is not None and account.parent_id and account.parent_id not in {key for key, _name in holdings}:
        try:
            holdings.insert(0, (account.parent_id, services.get_account_or_raise(
                session, user=g.user, account_id=account.parent_id).name))
        except NotFound:  # a holding the user may not read: kept, never named
            holdings.insert(0, (account.parent_id, _("(a holding you may not see)")))
    form.parent_id.choices = choices([("", _("— none —"))] + holdings)
    form.owner_id.choices = choices([("", "—")] + [(user.id, user.name)
                                                   for user in active_users(session, limit=PEOPLE_CHOICES)])
    if isinstance(form, NewAccountForm):
        branches = services.branch_choices(session, user=g.user)
        if not branches:
            raise Forbidden(_("You may not add accounts on any branch."))
        form.region_node_id.choices = choices([("", "—")] + [(node.id, f"{node.code} · {node.name}")
                                                             for node in branches])
        if form.region_node_id.data is None and len(branches) == 1:
            form.region_node_id.data = branches[0].id


def _account_page(form: AccountForm, account: Account | None, *, errors=None, similar=None, status: int = 200):
    _account_choices(form, account)
    return render_template("crm/account_form.html", form=form, account=account, errors=errors or {},
                           similar=similar or [], reason_labels=REASON_LABELS), status


def _account_values(session, form: AccountForm, account: Account | None = None) -> dict:
    """The service's arguments from the form; the holding and the owner loaded within the user's rights
    (an unchanged holding is kept as it is, even one the user may not read)."""
    if account is not None and account.parent_id is not None and form.parent_id.data == account.parent_id:
        parent = account.parent
    else:
        parent = _pick(session, form.parent_id.data, field="parent_id",
                       load=lambda value: services.get_account_or_raise(session, user=g.user, account_id=value,
                                                                        field="parent_id"))
    owner = _pick(session, form.owner_id.data, field="owner_id",
                  load=lambda value: services.active_user(session, user_id=value, field="owner_id"))
    return {"name": form.name.data, "tax_id": (form.tax_id.data or "").strip() or None,
            "kind": AccountKind(form.kind.data), "parent": parent, "owner": owner,
            "sector": form.sector.data or "", "segment": form.segment.data or "",
            **{key: (getattr(form, key).data or "").strip() for key in services.REQUISITE_FIELDS}}


def _duplicates(session, form: AccountForm, account: Account | None):
    """The readable accounts this one may duplicate, unless the user already saw them for these values."""
    if form.confirmed.data and form.confirmed.data == _fingerprint(form):
        return []
    phone = getattr(form, "phone", None)
    return services.similar_accounts(session, user=g.user, name=form.name.data or "", tax_id=form.tax_id.data,
                                     phone=phone.data if phone is not None else None, exclude=account)


@bp.route("/accounts/new", methods=["GET"])
def new_account():
    """A new account: name, INN, branch, holding, owner and the first contact."""
    form = NewAccountForm(formdata=None, data={"owner_id": g.user.id})
    return _account_page(form, None)


@bp.route("/accounts/new", methods=["POST"])
def create_account():
    """Create the account, after showing the possible duplicates the user may read and their confirmation."""
    session = db.session
    form = NewAccountForm()
    region = _branch(form.region_node_id.data)
    _account_choices(form, None)
    try:
        check(form)
        if region is None:
            raise Invalid(_("Choose from the list."), errors={"region_node_id": ["unknown"]})
        values = _account_values(session, form)
        similar = _duplicates(session, form, None)
        if similar:
            form.confirmed.data = _fingerprint(form)
            return _account_page(form, None, similar=similar)
        details = {key: values.pop(key) for key in services.REQUISITE_FIELDS}
        account = services.create_account(
            session, actor=g.user, region=region, requisites=details, **values,
            contact={"name": form.contact_name.data, "phone": form.phone.data, "email": form.email.data})
    except (Invalid, Conflict) as exc:
        db.session.rollback()
        return _account_page(form, None, errors=_refused(form, exc), status=422)
    flash(_("The account %(name)s was created.", name=account.name), "info")
    return redirect(url_for("crm.account", account_id=account.id), code=303)


def _editable_account(account_id: int) -> Account:
    return services.get_account_or_raise(db.session, user=g.user, account_id=account_id, permission=Permission.edit)


@bp.route("/accounts/<int:account_id>/edit", methods=["GET"])
def edit_account(account_id: int):
    """The account's fields to change (edit rights on its node)."""
    account = _editable_account(account_id)
    form = AccountForm(formdata=None, data={
        "name": account.name, "tax_id": account.tax_id or "", "kind": account.kind.value,
        "parent_id": account.parent_id, "owner_id": account.owner_id, "sector": account.sector,
        "segment": account.segment, **{key: getattr(account, key) for key in services.REQUISITE_FIELDS}})
    return _account_page(form, account)


@bp.route("/accounts/<int:account_id>/edit", methods=["POST"])
def update_account(account_id: int):
    """Save the account, after warning of duplicates when its name or INN now matches another's."""
    session = db.session
    account = _editable_account(account_id)
    form = AccountForm()
    _account_choices(form, account)
    try:
        check(form)
        values = _account_values(session, form, account)
        changed = name_key(values["name"]) != name_key(account.name) or values["tax_id"] != account.tax_id
        similar = _duplicates(session, form, account) if changed else []
        if similar:
            form.confirmed.data = _fingerprint(form)
            return _account_page(form, account, similar=similar)
        services.update_account(session, actor=g.user, account=account, **values)
    except (Invalid, Conflict) as exc:
        db.session.rollback()
        return _account_page(form, account, errors=_refused(form, exc), status=422)
    flash(_("The account was saved."), "info")
    return redirect(url_for("crm.account", account_id=account.id), code=303)


# Deals


class NewDealForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    account_id = SelectField(_l("Account"), coerce=_id, validate_choice=False, validators=[DataRequired()])
    contact_id = SelectField(_l("Contact"), coerce=_id, validate_choice=False, validators=[Optional()])
    stage_id = SelectField(_l("Stage"), coerce=_id, validate_choice=False, validators=[DataRequired()])
    amount = MoneyField(_l("Amount"), validators=[Optional()])
    expected_close = DateField(_l("Expected close"), validators=[Optional()])
    owner_id = SelectField(_l("Owner"), coerce=_id, validate_choice=False, validators=[Optional()])
    product = StringField(_l("Product"), validators=[Optional(), Length(max=100)])
    next_step = StringField(_l("Next step"), validators=[Optional(), Length(max=500)])


def _deal_choices(form: NewDealForm) -> None:
    session = db.session
    accounts = list(session.scalars(services.list_accounts(session, user=g.user).limit(ACCOUNT_CHOICES)))
    chosen = form.account_id.data if form.account_id.data and form.account_id.data > 0 else None
    if chosen and chosen not in {account.id for account in accounts}:
        try:
            accounts.insert(0, services.get_account_or_raise(session, user=g.user, account_id=chosen))
        except NotFound:
            chosen = None
    form.account_id.choices = choices([("", "—")] + [(account.id, account.name) for account in accounts])
    contacts = session.scalars(services.list_contacts(session, user=g.user, account_id=chosen)
                               .limit(CONTACT_CHOICES)).all() if chosen else []
    form.contact_id.choices = choices([("", _("— nobody in particular —"))]
                                      + [(contact.id, contact.name) for contact in contacts])
    form.stage_id.choices = []  # rendered by the template, grouped by pipeline (``stage_groups``)
    form.owner_id.choices = choices([("", "—")] + [(user.id, user.name)
                                                   for user in active_users(session, limit=PEOPLE_CHOICES)])


def _deal_page(form: NewDealForm, *, errors=None, status: int = 200):
    _deal_choices(form)
    session = db.session
    groups = list(session.scalars(pipelines.list_pipelines(session, active_only=True)))
    return render_template("crm/deal_new.html", form=form, errors=errors or {}, stage_groups=groups), status


@bp.route("/deals/new", methods=["GET"])
def new_deal():
    """A new deal; ``?stage_id=`` (a board column), ``?account_id=`` and ``?contact_id=`` fill those in."""
    session = db.session
    data = {"owner_id": g.user.id}
    stage_id, account_id, contact_id = _arg_id("stage_id"), _arg_id("account_id"), _arg_id("contact_id")
    if contact_id:
        contact = services.get_contact_or_raise(session, user=g.user, contact_id=contact_id)
        data.update(contact_id=contact.id, account_id=contact.account_id)
    elif account_id:
        data["account_id"] = services.get_account_or_raise(session, user=g.user, account_id=account_id).id
    if stage_id:
        stage = session.get(PipelineStage, stage_id)
        if stage is None:
            raise NotFound("stage {stage_id} not found", stage_id=stage_id)
        data["stage_id"] = stage.id
    else:
        active = session.scalars(pipelines.list_pipelines(session, active_only=True)).first()
        if active is not None:
            data["stage_id"] = pipelines.first_open_stage(active).id
    return _deal_page(NewDealForm(formdata=None, data=data))


@bp.route("/deals/new", methods=["POST"])
def create_deal():
    """Open the deal (and its project under the account's node) through ``accounts.deals.create_deal``."""
    session = db.session
    form = NewDealForm()
    # The account first, with the edit right a deal there needs (404 unreadable, 403 read-only).
    account = services.get_account_or_raise(session, user=g.user, account_id=form.account_id.data,
                                            permission=Permission.edit, field="account_id") \
        if form.account_id.data and form.account_id.data > 0 else None
    try:
        check(form)
        if account is None:
            raise Invalid(_("Choose from the list."), errors={"account_id": ["unknown"]})
        stage = _pick(session, form.stage_id.data, field="stage_id", load=lambda value: session.get(PipelineStage, value))
        if stage is None:
            raise Invalid(_("Choose from the list."), errors={"stage_id": ["unknown"]})
        contact = _pick(session, form.contact_id.data, field="contact_id",
                        load=lambda value: services.get_contact_or_raise(session, user=g.user, contact_id=value,
                                                                         field="contact_id"))
        owner = _pick(session, form.owner_id.data, field="owner_id",
                      load=lambda value: services.active_user(session, user_id=value, field="owner_id"))
        deal = deal_services.create_deal(
            session, actor=g.user, account=account, name=form.name.data, pipeline=stage.pipeline, stage=stage,
            amount=form.amount.data, expected_close=form.expected_close.data, owner=owner, contact=contact,
            product=form.product.data or "", next_step=form.next_step.data or "")
    except (Invalid, Conflict) as exc:
        db.session.rollback()
        return _deal_page(form, errors=_refused(form, exc), status=422)
    flash(_("The deal %(name)s was opened.", name=deal.project.name), "info")
    return redirect(url_for("crm.deal", deal_id=deal.id), code=303)


# A deal's product lines


def _decimal(text: str) -> Decimal | None:
    return parse_amount(text) if text and text.strip() else None


def read_lines(form) -> list[dict]:
    """The product rows of the lines form: ``product-N``, ``quantity-N``, ``unit_price-N``, ``remove-N``.

    Blank rows and rows marked for removal are left out; a row with a product but
    no readable quantity or price is Invalid naming its field.
    """
    lines = []
    for index in range(MAX_LINES):
        product = (form.get(f"product-{index}") or "").strip()
        if f"product-{index}" not in form:
            break
        if not product or form.get(f"remove-{index}"):
            continue
        if len(product) > 100:
            raise Invalid(_("Line %(number)s: the product name is at most 100 characters.", number=index + 1),
                          errors={f"product-{index}": ["too long"]})
        quantity, price = _decimal(form.get(f"quantity-{index}") or "1"), _decimal(form.get(f"unit_price-{index}"))
        if quantity is None or abs(quantity) >= Decimal("1e9") or quantity != quantity.quantize(Decimal("0.001")):
            raise Invalid(_("Line %(number)s: the quantity is not a number.", number=index + 1),
                          errors={f"quantity-{index}": ["not a number"]})
        if price is None or abs(price) >= Decimal("1e15"):
            raise Invalid(_("Line %(number)s: the price is not an amount.", number=index + 1),
                          errors={f"unit_price-{index}": ["not an amount"]})
        lines.append({"product": product, "quantity": quantity, "unit_price": price.quantize(Decimal("0.01"))})
    return lines


@bp.route("/deals/<int:deal_id>/lines", methods=["POST"])
def update_deal_lines(deal_id: int):
    """Replace the deal's product lines (added, changed, removed); the amount becomes their total."""
    session = db.session
    found = deal_services.get_deal_or_raise(session, user=g.user, deal_id=deal_id, permission=Permission.edit)
    check(FlaskForm())
    deal_services.update_deal(session, actor=g.user, deal=found, lines=read_lines(request.form))
    flash(_("The products were saved; the deal amount is their total."), "info")
    return redirect(url_for("crm.deal", deal_id=found.id) + "#products", code=303)


@bp.app_template_global()
def line_rows() -> int:
    """How many empty product rows the deal page offers below the lines."""
    return LINE_ROWS

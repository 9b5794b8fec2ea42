"""Finance pages for invoices: the list, an invoice with its payments, drafts from a deal or a project's
milestones, the project's billing milestones, and the company's details.

Every object is loaded through ``accounts.billing.invoices.get_invoice_or_raise`` or ``eps.services`` (404 when
the user may not read it); every change goes through ``accounts.billing`` (which checks budget rights again);
the pages only hide the buttons the user could not use.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.billing import company, figures, invoices, milestones
from accounts.billing.models import INVOICE_STATUSES, Payment
from accounts.deals.queries import get_deal_or_raise
from accounts.models import Account
from crmpm.database import db
from crmpm.errors import Invalid
from eps import services
from eps.models import Project
from eps.permissions import Permission, access_to
from web.forms import ActForm, ActionForm, CancelForm, CompanyForm, IssueForm, MilestoneForm, check
from web.pagination import paginate
from web.pages import page_blueprint

bp = page_blueprint("billing", __name__, url_prefix="/finance")

def _int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value < 2**31 else None


def _base_currency() -> str:
    return current_app.config["BASE_CURRENCY"]


@bp.route("/invoices")
def index():
    """Invoices on the projects the user may read, newest first, by status (and project, deal, account, node)."""
    status = request.args.get("status", "")
    status = status if status in INVOICE_STATUSES else ""
    filters = {name: _int_arg(name) for name in ("project_id", "deal_id", "account_id", "eps_node_id")}
    query = invoices.list_(db.session, user=g.user, status=status or None, **filters)
    page = paginate(db.session, query, args={"status": status, **{k: v for k, v in filters.items() if v}})
    projects = dict(db.session.execute(select(Project.id, Project.code).where(
        Project.id.in_({invoice.project_id for invoice in page.items}))).all()) if page.items else {}
    accounts = dict(db.session.execute(select(Account.id, Account.name).where(
        Account.id.in_({invoice.account_id for invoice in page.items}))).all()) if page.items else {}
    return render_template("finance/invoices.html", page=page, status=status, statuses=INVOICE_STATUSES,
                           filters={k: v for k, v in filters.items() if v}, projects=projects, accounts=accounts)


@bp.route("/invoices/<int:invoice_id>")
def show(invoice_id: int):
    """One invoice: lines, totals, its payments, and the buttons its status allows."""
    session = db.session
    invoice = invoices.get_invoice_or_raise(session, user=g.user, invoice_id=invoice_id)
    project = session.get(Project, invoice.project_id)
    access = access_to(session, user=g.user, obj=project)
    can_bill = access.can(Permission.budget)
    payments = session.scalars(select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.paid_on)).all()
    return render_template("finance/invoice.html", invoice=invoice, project=project,
                           account=session.get(Account, invoice.account_id), payments=payments, can_bill=can_bill,
                           can_generate=access.can(Permission.edit) and invoice.status not in ("draft", "cancelled"),
                           issue_form=IssueForm(), cancel_form=CancelForm(), act_form=ActForm(),
                           action_form=ActionForm())


def _invoice_for_change(invoice_id: int):
    # Authorized before the form is read: a user without budget rights gets 403 whatever they sent.
    return invoices.get_invoice_or_raise(db.session, user=g.user, invoice_id=invoice_id, permission=Permission.budget)


def _back(invoice_id: int):
    return redirect(url_for("billing.show", invoice_id=invoice_id), code=303)


@bp.route("/invoices/<int:invoice_id>/issue", methods=["POST"])
def issue(invoice_id: int):
    """Issue a draft: it takes the next number of its year."""
    invoice = _invoice_for_change(invoice_id)
    form = check(IssueForm())
    invoices.issue(db.session, actor=g.user, invoice=invoice, issue_date=form.issue_date.data,
                   due_date=form.due_date.data)
    flash(_("Invoice %(number)s issued.", number=invoice.number_text), "info")
    return _back(invoice.id)


@bp.route("/invoices/<int:invoice_id>/cancel", methods=["POST"])
def cancel(invoice_id: int):
    """Cancel an issued invoice with a reason."""
    invoice = _invoice_for_change(invoice_id)
    form = check(CancelForm())
    invoices.cancel(db.session, actor=g.user, invoice=invoice, reason=form.reason.data)
    flash(_("Invoice %(number)s cancelled.", number=invoice.number_text), "info")
    return _back(invoice.id)


@bp.route("/invoices/<int:invoice_id>/act", methods=["POST"])
def act(invoice_id: int):
    """Date the act of completed work."""
    invoice = _invoice_for_change(invoice_id)
    form = check(ActForm())
    invoices.set_act_date(db.session, actor=g.user, invoice=invoice, act_date=form.act_date.data)
    flash(_("The act date was saved."), "info")
    return _back(invoice.id)


@bp.route("/invoices/<int:invoice_id>/delete", methods=["POST"])
def delete(invoice_id: int):
    """Delete a draft."""
    invoice = _invoice_for_change(invoice_id)
    check(ActionForm())
    project_id = invoice.project_id
    invoices.delete(db.session, actor=g.user, invoice=invoice)
    flash(_("The draft was deleted."), "info")
    return redirect(url_for("billing.index", project_id=project_id), code=303)


@bp.route("/deals/<int:deal_id>/invoice", methods=["POST"])
def from_deal(deal_id: int):
    """A draft invoice of the deal's product lines."""
    deal = get_deal_or_raise(db.session, user=g.user, deal_id=deal_id, permission=Permission.budget)
    check(ActionForm())
    invoice = invoices.create_from_deal(db.session, actor=g.user, deal=deal, base_currency=_base_currency())
    flash(_("A draft invoice was made from the deal's products."), "info")
    return _back(invoice.id)


# A project's billing milestones


def _project(project_id: int, permission: Permission = Permission.read) -> Project:
    return services.get_project_or_raise(db.session, user=g.user, project_id=project_id, permission=permission)


@bp.route("/projects/<int:project_id>/milestones")
def milestones_page(project_id: int):
    """The project's billing milestones; the ones not billed yet can be put on a new invoice."""
    session = db.session
    project = _project(project_id)
    can_bill = access_to(session, user=g.user, obj=project).can(Permission.budget)
    rows = session.scalars(milestones.list_(session, project=project)).all()
    return render_template("finance/milestones.html", project=project, milestones=rows, can_bill=can_bill,
                           form=MilestoneForm(), action_form=ActionForm(),
                           billing=figures.figures(session, obj=project))


@bp.route("/projects/<int:project_id>/milestones", methods=["POST"])
def add_milestone(project_id: int):
    """Add a billing milestone."""
    project = _project(project_id, Permission.budget)
    form = check(MilestoneForm())
    milestones.create(db.session, actor=g.user, project=project, name=form.name.data, amount=form.amount.data,
                      planned_date=form.planned_date.data)
    flash(_("The milestone was added."), "info")
    return redirect(url_for("billing.milestones_page", project_id=project.id), code=303)


@bp.route("/projects/<int:project_id>/milestones/<int:milestone_id>/delete", methods=["POST"])
def delete_milestone(project_id: int, milestone_id: int):
    """Delete a milestone not billed yet."""
    project = _project(project_id, Permission.budget)
    milestone = milestones.get_milestone_or_raise(db.session, project=project, milestone_id=milestone_id)
    check(ActionForm())
    milestones.delete(db.session, actor=g.user, project=project, milestone=milestone)
    flash(_("The milestone was deleted."), "info")
    return redirect(url_for("billing.milestones_page", project_id=project.id), code=303)


@bp.route("/projects/<int:project_id>/milestones/invoice", methods=["POST"])
def invoice_milestones(project_id: int):
    """A draft invoice of the milestones ticked."""
    project = _project(project_id, Permission.budget)
    check(ActionForm())
    ids = []
    for value in request.form.getlist("milestone_id"):
        if not value.isdigit() or not 0 < int(value) < 2**31:
            raise Invalid(_("Choose the milestones to bill."), errors={"milestone_id": ["not a milestone"]})
        ids.append(int(value))
    if not ids:
        raise Invalid(_("Choose the milestones to bill."), errors={"milestone_id": ["required"]})
    invoice = invoices.create_from_milestones(db.session, actor=g.user, project=project, milestone_ids=ids,
                                              base_currency=_base_currency())
    flash(_("A draft invoice was made from the milestones."), "info")
    return _back(invoice.id)


# The company's details


@bp.route("/company")
def company_page():
    """The seller's details printed on invoices; administrators change them."""
    details = company.get(db.session)
    data = {field: getattr(details, field) for field in company.FIELDS}
    data["vat_rate"] = "" if details.vat_rate is None else str(details.vat_rate)
    return render_template("finance/company.html", details=details, form=CompanyForm(data=data))


@bp.route("/company", methods=["POST"])
def save_company():
    """Save the company's details (administrators; the service checks the requisites)."""
    company.authorize_change(g.user)
    form = check(CompanyForm())
    values = {field: (getattr(form, field).data or "").strip() for field in company.FIELDS if field != "vat_rate"}
    text = (form.vat_rate.data or "").strip().replace(",", ".")
    try:
        values["vat_rate"] = Decimal(text) if text else None
    except InvalidOperation:
        raise Invalid(_("The VAT rate is not a number."), errors={"vat_rate": ["not a number"]}) from None
    company.update(db.session, actor=g.user, **values)
    flash(_("The company's details were saved."), "info")
    return redirect(url_for("billing.company_page"), code=303)

"""Finance pages for money received: bank statements uploaded and their reports, the payments to match.

Everything goes through ``accounts.billing.payments`` (rights, matching, the once-only rule); the page hides only
what the user could not use anyway.
"""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.billing import jobs as billing_jobs
from accounts.billing import payments
from accounts.billing.models import Invoice
from crmpm.database import db
from crmpm.errors import Forbidden, Invalid
from crmpm.limits import accepts_upload
from crmpm.ratelimit import throttle
from web.pages import page_blueprint, safe_next
from web.pagination import paginate

bp = page_blueprint("finance_payments", __name__, url_prefix="/finance/payments")


def _handler_only() -> None:
    if not payments.handles_payments(db.session, user=g.user):
        raise Forbidden(_("Finance rights are needed to handle bank statements and unmatched payments."))


def _limit_mb() -> int:
    return current_app.config["MAX_UPLOAD_LENGTH"] // (1024 * 1024)


@bp.route("/statements")
def statements():
    """The upload form and the statements imported so far."""
    _handler_only()
    page = paginate(db.session, payments.list_statements(db.session, user=g.user))
    return render_template("payments/statements.html", page=page, limit_mb=_limit_mb(),
                           large=billing_jobs.LARGE_DOCUMENTS)


@bp.route("/statements", methods=["POST"])
@accepts_upload()
def upload_statement():
    """Import the uploaded statement and show its report (a large one: its job's page)."""
    _handler_only()
    throttle().attempt("bank-statement", g.user.id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid(_("Choose a file to upload."), errors={"file": ["required"]})
    data = upload.read()
    if not data:
        raise Invalid(_("The file is empty."), errors={"file": ["empty"]})
    if billing_jobs.is_large(data):
        job = billing_jobs.start_import(db.session, actor=g.user, data=data, file_name=upload.filename)
        flash(_("%(file)s is being imported in the background; this page follows the import.",
                file=upload.filename), "info")
        return redirect(url_for("jobs.show", job_id=job.id), code=303)
    statement = payments.import_statement(db.session, actor=g.user, data=data, file_name=upload.filename)
    flash(_("Statement imported: %(payments)s payments, %(matched)s matched, %(unmatched)s to match, "
            "%(duplicates)s already recorded, %(skipped)s other documents skipped.",
            **payments.report_of(statement)), "info")
    return redirect(url_for("finance_payments.statement", statement_id=statement.id), code=303)


@bp.route("/statements/<int:statement_id>")
def statement(statement_id: int):
    """A statement's report and its payments."""
    row = payments.get_statement_or_raise(db.session, user=g.user, statement_id=statement_id)
    page = paginate(db.session, payments.list_payments(db.session, user=g.user, statement_id=row.id))
    return render_template("payments/statement.html", statement=row, page=page, invoices=_invoices(page.items))


@bp.route("/")
def queue():
    """The payments waiting for a person to match them, each with the invoice the rules would suggest."""
    _handler_only()
    page = paginate(db.session, payments.list_payments(db.session, user=g.user, matched=False))
    suggested = {payment.id: payments.suggest_invoice(db.session, user=g.user, payment=payment)
                 for payment in page.items}
    return render_template("payments/queue.html", page=page, suggested=suggested)


@bp.route("/<int:payment_id>/match", methods=["POST"])
def match(payment_id: int):
    """Match a payment to the invoice named by its number and year."""
    payment = payments.get_payment_or_raise(db.session, user=g.user, payment_id=payment_id)
    number = request.form.get("number", type=int)
    year = request.form.get("year", type=int) or payment.paid_on.year
    if number is None or not 0 < number < 2**31 or not 1900 < year < 3000:
        raise Invalid(_("Type the invoice's number."), errors={"number": ["required"]})
    invoice = payments.invoice_numbered(db.session, user=g.user, year=year, number=number)
    payments.match_payment(db.session, actor=g.user, payment=payment, invoice_id=invoice.id)
    flash(_("Payment matched to invoice %(number)s.", number=invoice.number_text), "info")
    return redirect(safe_next("finance_payments.queue"), code=303)


@bp.route("/<int:payment_id>/unmatch", methods=["POST"])
def unmatch(payment_id: int):
    """Take a payment off its invoice: back in the queue."""
    payment = payments.get_payment_or_raise(db.session, user=g.user, payment_id=payment_id)
    payments.unmatch_payment(db.session, actor=g.user, payment=payment)
    flash(_("The payment is back among those to match."), "info")
    return redirect(safe_next("finance_payments.queue"), code=303)


def _invoices(items) -> dict[int, Invoice]:
    ids = {payment.invoice_id for payment in items if payment.invoice_id is not None}
    if not ids:
        return {}
    return {invoice.id: invoice for invoice in db.session.scalars(select(Invoice).where(Invoice.id.in_(ids)))}

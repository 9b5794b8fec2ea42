"""What an invoice's payments make of it: the amount paid and the status it follows from.

The one home of the rule "paid amount = the sum of the payments matched to it; issued → partly paid → paid".
Every path that matches, unmatches or records a payment calls :func:`settle` for the invoices it touched.
An invoice that becomes paid records ``invoice.paid`` (once each time it becomes paid).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmpm import events
from crmpm.database import utcnow

from accounts.billing.models import Invoice, Payment

ZERO = Decimal("0.00")
# Statuses whose invoices take payments; a draft is not billed yet and a cancelled one is closed.
PAYABLE = ("issued", "partly_paid", "paid")


def status_for(total: Decimal, paid: Decimal) -> str:
    """The status of an issued invoice of ``total`` with ``paid`` received."""
    if paid <= ZERO:
        return "issued"
    return "paid" if paid >= total else "partly_paid"


def settle(session: Session, invoice: Invoice) -> Invoice:
    """Sum the invoice's matched payments into ``paid_amount`` and move its status to match."""
    session.flush()
    paid = session.scalar(select(func.coalesce(func.sum(Payment.amount), ZERO))
                          .where(Payment.invoice_id == invoice.id))
    invoice.paid_amount = Decimal(paid)
    if invoice.status in PAYABLE:
        status = status_for(invoice.total, invoice.paid_amount)
        became_paid = status == "paid" and invoice.status != "paid"
        if became_paid:
            invoice.paid_at = utcnow()
        elif status != "paid":
            invoice.paid_at = None
        invoice.status = status
        if became_paid:
            events.record(session, "invoice.paid", invoice, {
                "number": invoice.number, "year": invoice.year, "project_id": invoice.project_id,
                "deal_id": invoice.deal_id, "account_id": invoice.account_id, "currency": invoice.currency,
                "total": invoice.total, "paid_amount": invoice.paid_amount, "paid_at": invoice.paid_at})
    session.flush()
    return invoice

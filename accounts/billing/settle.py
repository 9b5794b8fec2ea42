"""What an invoice's payments make of it: the amount paid and the status it follows from.

The one home of the rule "paid amount = the sum of the payments matched to it; issued → partly paid → paid".
Every path that matches, unmatches or records a payment calls :func:`settle` for the invoices it touched.
An invoice that becomes paid records ``invoice.paid`` (once each time it becomes paid).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.billing.models import Invoice, Payment
from crmpm import events
from crmpm.database import utcnow

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
    if _apply(invoice, Decimal(paid)):
        events.record(session, "invoice.paid", invoice, _paid_payload(invoice))
    session.flush()
    return invoice


def settle_many(session: Session, invoices: list[Invoice]) -> list[Invoice]:
    """:func:`settle` for many invoices in a few queries (a bank statement's import)."""
    session.flush()
    paid = []
    for start in range(0, len(invoices), 500):
        chunk = invoices[start:start + 500]
        sums = dict(session.execute(
            select(Payment.invoice_id, func.sum(Payment.amount))
            .where(Payment.invoice_id.in_([invoice.id for invoice in chunk])).group_by(Payment.invoice_id)).all())
        for invoice in chunk:
            if _apply(invoice, Decimal(sums.get(invoice.id) or ZERO)):
                paid.append(invoice)
    events.record_many(session, "invoice.paid",
                       [(events.subject_of(invoice), _paid_payload(invoice)) for invoice in paid])
    session.flush()
    return invoices


def _apply(invoice: Invoice, paid: Decimal) -> bool:
    """Set the paid amount and the status; True when the invoice has just become paid."""
    invoice.paid_amount = paid
    if invoice.status not in PAYABLE:
        return False
    status = status_for(invoice.total, invoice.paid_amount)
    became_paid = status == "paid" and invoice.status != "paid"
    if became_paid:
        invoice.paid_at = utcnow()
    elif status != "paid":
        invoice.paid_at = None
    invoice.status = status
    return became_paid


def _paid_payload(invoice: Invoice) -> dict:
    return {"number": invoice.number, "year": invoice.year, "project_id": invoice.project_id,
            "deal_id": invoice.deal_id, "account_id": invoice.account_id, "currency": invoice.currency,
            "total": invoice.total, "paid_amount": invoice.paid_amount, "paid_at": invoice.paid_at}

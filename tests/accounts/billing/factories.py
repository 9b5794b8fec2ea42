"""Issued invoices made directly through the model (numbering and issuing are the invoices' service's)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from accounts.billing.models import Invoice

_numbers = itertools.count(1000)


def issued_invoice(session, *, project, account, total: str, number: int | None = None, year: int = 2026,
                   currency: str = "RUB", status: str = "issued") -> Invoice:
    amount = Decimal(total)
    invoice = Invoice(year=year, number=number if number is not None else next(_numbers), status=status,
                      source="manual", project_id=project.id, account_id=account.id, currency=currency,
                      issue_date=date(year, 12, 1), vat_rate=Decimal("22.00"), subtotal=amount, vat_amount=Decimal(0),
                      total=amount)
    session.add(invoice)
    session.flush()
    return invoice

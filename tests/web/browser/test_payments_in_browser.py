"""A bank statement in a real browser: upload it, see its report, match its unmatched payment, the invoice paid."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from accounts.billing.models import Invoice
from accounts.models import Account
from crmpm.database import db
from eps.models import Project
from tests.accounts.billing.statements import cp1251, incoming, outgoing, statement

ADMIN = "admin@crmpm.local"
INN = "7736207543"
NUMBER = 9117  # far above anything the demo or another test issues


def _invoice(live_server) -> int:
    """An issued invoice of a demo project to a demo account given the payer's INN (made through the model)."""
    with live_server.app.app_context():
        session = db.new_session()
        try:
            account = session.scalar(select(Account).order_by(Account.id).limit(1))
            account.tax_id = INN
            project = session.scalar(select(Project).order_by(Project.id).limit(1))
            invoice = Invoice(year=2026, number=NUMBER, status="issued", source="manual", project_id=project.id,
                              account_id=account.id, currency="RUB", issue_date=date(2026, 12, 1),
                              vat_rate=Decimal("22.00"), subtotal=Decimal("4200.00"), vat_amount=Decimal(0),
                              total=Decimal("4200.00"))
            session.add(invoice)
            session.commit()
            return invoice.id
        finally:
            session.close()


def _status(live_server, invoice_id: int) -> tuple[str, Decimal]:
    with live_server.app.app_context():
        session = db.new_session()
        try:
            invoice = session.get(Invoice, invoice_id)
            return invoice.status, invoice.paid_amount
        finally:
            session.close()


def test_upload_a_statement_and_match_its_payment_by_hand(log_in, screenshot, live_server):
    invoice_id = _invoice(live_server)
    # The payer names no invoice and pays less than is owed: the rules leave it for a person.
    data = cp1251(statement(incoming(number="81", amount="4200.00", payer_inn="7700000001",
                                     purpose="Оплата за монтаж, без НДС"), outgoing()))
    page = log_in(ADMIN)
    page.click("nav.menu >> text=Bank statements")
    page.set_input_files("input[name=file]", files=[{"name": "выписка.txt", "mimeType": "text/plain",
                                                     "buffer": data}])
    page.click("#statement-upload button[type=submit]")
    page.wait_for_url(re.compile(r"/finance/payments/statements/\d+$"))
    report = page.locator("#statement-report").inner_text()
    assert re.search(r"Payments\s+1", report) and re.search(r"To match\s+1", report)
    assert re.search(r"Skipped\s+1", report)
    screenshot(page, "payments-statement-report")

    page.click("nav.tabs >> text=Payments to match")
    row = page.locator("tr", has_text="Оплата за монтаж")
    row.locator("input[name=number]").fill(str(NUMBER))
    row.locator("input[name=year]").fill("2026")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(f"text=Payment matched to invoice {NUMBER}.")
    assert page.locator("tr", has_text="Оплата за монтаж").count() == 0
    screenshot(page, "payments-matched")
    assert _status(live_server, invoice_id) == ("paid", Decimal("4200.00"))

"""An invoice from a deal in a real browser: the deal page's "Invoice" button drafts it, "Issue" numbers it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from crmpm.database import db

expect = pytest.importorskip("playwright.sync_api").expect

from tests.web.browser.private_server import log_in, own_server  # noqa: E402,F401 - fixtures: a demo of its own


def _deal_with_products(own_server) -> int:
    """A demo deal given one product line (the demo's deals have none): 2 × 1,000.00."""
    from accounts.models import Deal, DealLine

    with own_server.app.app_context(), db.transaction() as session:
        deal = session.scalars(select(Deal).order_by(Deal.id)).first()
        session.add(DealLine(deal_id=deal.id, product="Survey", quantity=Decimal("2"), unit_price=Decimal("1000.00")))
        return deal.id


def test_an_invoice_from_a_deal_is_issued_and_shows_its_number(own_server, log_in):
    deal_id = _deal_with_products(own_server)
    page = log_in("admin@crmpm.local")
    page.goto(own_server.url(f"/crm/deals/{deal_id}"))
    page.get_by_role("button", name="Invoice", exact=True).click()
    page.wait_for_url(re.compile(r"/finance/invoices/\d+$"))
    expect(page.locator("h1")).to_contain_text("Draft invoice")
    expect(page.locator("[data-lines]")).to_contain_text("Survey")
    # 2 × 1,000.00 = 2,000.00 without VAT; VAT at the rate of today's date is added on top.
    expect(page.locator("[data-figure=subtotal]")).to_contain_text("2,000.00")
    page.get_by_role("button", name="Issue", exact=True).click()
    expect(page.locator("h1")).to_contain_text(re.compile(r"Invoice No\. \d+ of"))
    number = re.search(r"No\. (\d+)", page.locator("h1").inner_text()).group(1)
    page.goto(own_server.url("/finance/invoices?status=issued"))
    expect(page.locator("[data-invoices]")).to_contain_text(f"№ {number}/")

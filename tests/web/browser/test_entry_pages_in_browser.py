"""The entry pages in a real browser: a lead typed in during a call (routed at once), and a new account whose
INN is already in the CRM (the warning before saving), in Russian."""

from __future__ import annotations

import re

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

from tests.web.browser.private_server import log_in, own_server  # noqa: E402,F401 - fixtures: a demo of its own


def _account_id(own_server, name: str) -> int:
    from sqlalchemy import select

    from accounts.models import Account
    from crmpm.database import db

    with own_server.app.app_context():
        session = db.new_session()
        try:
            return session.scalar(select(Account.id).where(Account.name == name))
        finally:
            session.close()


def test_a_lead_from_a_call_is_saved_and_routed(log_in, screenshot, own_server):
    page = log_in("am@crmpm.local")
    page.goto(own_server.url("/crm/leads"))
    page.click("a.button >> text=New lead")
    page.wait_for_url(re.compile(r"/crm/leads/new$"))
    page.fill("input[name=contact_name]", "Sergey Kuznetsov")
    page.fill("input[name=company]", "Ladoga Fisheries")
    page.fill("input[name=phone]", "8 (921) 555-12-34")
    page.fill("textarea[name=message]", "Asks for cold-store monitoring")
    page.select_option("select[name=region_node_id]", index=1)
    screenshot(page, "lead-new")
    page.click("form.entry-form button[type=submit].primary")
    page.wait_for_url(re.compile(r"/crm/leads/\d+$"))
    assert "Ladoga Fisheries" in page.locator("main").inner_text()
    expect(page.locator(".flash")).to_contain_text("The lead was recorded")


def test_a_new_account_with_a_known_inn_is_warned_of_in_russian(log_in, screenshot, own_server):
    page = log_in("am@crmpm.local")
    page.click("header .locale-switch button[value=ru]")  # kept on the user: switched back at the end
    try:
        _warned_in_russian(page, screenshot, own_server)
    finally:
        page.click("header .locale-switch button[value=en]")


def _warned_in_russian(page, screenshot, own_server):
    page.goto(own_server.url("/crm/accounts"))
    page.click("a.button.primary[href$='/crm/accounts/new']")
    page.wait_for_url(re.compile(r"/crm/accounts/new$"))
    page.fill("input[name=name]", "Невская верфь")
    page.fill("input[name=tax_id]", "7810345670")  # Neva Shipyards' INN
    page.select_option("select[name=region_node_id]", index=1)
    page.click("form.entry-form button[type=submit].primary")
    warning = page.locator("[data-duplicates]")
    expect(warning).to_contain_text("Neva Shipyards")
    expect(warning).to_contain_text("тот же ИНН")
    screenshot(page, "account-new-duplicate-ru")
    page.fill("input[name=tax_id]", "7810345671")  # a typo: the check digits do not match
    page.click("form.entry-form button[type=submit].primary")
    expect(page.locator(".form-refusal")).to_contain_text("ИНН")
    screenshot(page, "account-new-bad-inn-ru")


def test_product_lines_are_added_on_the_deal_page(log_in, screenshot, own_server):
    page = log_in("am@crmpm.local")
    page.goto(own_server.url(f"/crm/deals/new?account_id={_account_id(own_server, 'Baltic Logistics')}"))
    page.fill("input[name=name]", "Browser deal with products")
    page.click("form[data-deal-form] button[type=submit].primary")
    page.wait_for_url(re.compile(r"/crm/deals/\d+$"))
    lines = page.locator("form[data-lines-form]")
    lines.locator("input[name=product-0]").fill("SCADA licence")
    lines.locator("input[name=quantity-0]").fill("2")
    lines.locator("input[name=unit_price-0]").fill("1 000 000")
    lines.locator("input[name=product-1]").fill("Commissioning")
    lines.locator("input[name=unit_price-1]").fill("250 000,50")
    lines.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/crm/deals/\d+#products$"))
    expect(page.locator("[data-lines-total]")).to_have_text(re.compile(r"2[\s,\u00a0\u202f]?250[\s,\u00a0\u202f]?000[.,]50"))
    expect(page.locator('[data-figure="amount"]')).to_contain_text("250")
    screenshot(page, "deal-products")

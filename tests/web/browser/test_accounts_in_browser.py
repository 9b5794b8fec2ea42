"""The account manager's day in a real browser: accounts, an account's timeline, a quick touch, leads, tasks."""

from __future__ import annotations

import re

from sqlalchemy import select

from accounts.models import Account
from crmpm.database import db

AM = "am@crmpm.local"


def _account_id(live_server, name: str) -> int:
    with live_server.app.app_context():
        session = db.new_session()
        try:
            return session.scalar(select(Account.id).where(Account.name == name))
        finally:
            session.close()


def test_accounts_and_the_timeline_with_a_quick_interaction(log_in, screenshot, live_server):
    page = log_in(AM)
    home = page.locator(".cards").inner_text()
    assert "Overdue tasks" in home and "New leads for me" in home
    page.click("nav.menu >> text=Accounts")
    page.wait_for_url(live_server.url("/crm/accounts"))
    names = page.locator("table.accounts-list a.account-name").all_inner_texts()
    assert "Neva Shipyards" in names and "Tverskaya Tech" in names
    row = page.locator("tr", has=page.locator("a.account-name", has_text="Neva Shipyards")).inner_text()
    assert "7810345670" in row and "Anna Sokolova" in row
    screenshot(page, "crm-accounts")

    page.fill("form.filter-bar input[name=q]", "7810345670")
    page.click("form.filter-bar button[type=submit]")
    page.wait_for_url(re.compile(r"q=7810345670"))
    assert page.locator("table.accounts-list a.account-name").all_inner_texts() == ["Neva Shipyards"]
    page.click("a.account-name >> text=Neva Shipyards")
    page.wait_for_url(live_server.url(f"/crm/accounts/{_account_id(live_server, 'Neva Shipyards')}"))
    timeline = page.locator("ol.timeline")
    assert "Payment terms proposal" in timeline.inner_text()
    assert "Neva Marine Service" in page.locator(".facts").inner_text()  # the subsidiary

    page.select_option("select[name=kind]", "call")
    page.select_option("select[name=direction]", "outbound")
    page.select_option("select[name=contact_id]", label="Elena Popova")
    page.fill("input[name=subject]", "Agreed the payment schedule")
    page.fill("textarea[name=summary]", "30% advance, the rest on acceptance")
    page.click("form.quick-form button[type=submit]")
    page.wait_for_selector(".flash-info")
    first = page.locator("ol.timeline li.entry").first
    assert "Agreed the payment schedule" in first.inner_text() and "with Elena Popova" in first.inner_text()
    screenshot(page, "crm-account")

    page.click("nav.chips >> text=Stage changes")
    page.wait_for_url(re.compile(r"type=stage_change"))
    entries = page.locator("ol.timeline li.entry")
    assert entries.count() > 0
    assert all(kind == "entry entry-stage_change" for kind in
               [entries.nth(i).get_attribute("class") for i in range(entries.count())])


def test_lead_inbox_shows_the_routing(log_in, screenshot, live_server):
    page = log_in(AM)
    page.goto(live_server.url("/crm/leads"))
    row = page.locator("tr", has=page.locator("a", has_text="Neva Shipyards"))
    text = row.inner_text()
    assert "Sales: branches" in text and "owner of the existing client" in text and "Anna Sokolova" in text
    screenshot(page, "crm-leads")
    row.locator("a", has_text="Neva Shipyards").click()
    page.wait_for_selector("table.routing-history")
    assert "Sales: branches" in page.locator("table.routing-history").inner_text()
    assert page.locator("form[data-action=qualify]").count() == 1


def test_tasks_overdue_highlighted_and_marked_done(log_in, screenshot, live_server):
    page = log_in(AM)
    page.goto(live_server.url("/crm/tasks"))
    overdue = page.locator("tr.task-overdue")
    assert overdue.count() >= 1
    first = overdue.first
    title = first.locator("strong").inner_text()
    assert "overdue" in first.inner_text()
    assert first.evaluate("row => getComputedStyle(row.querySelector('td')).backgroundColor") != "rgba(0, 0, 0, 0)"
    screenshot(page, "crm-tasks")
    first.locator("button", has_text="Mark done").click()
    page.wait_for_selector(".flash-info")
    assert title not in page.locator("table.tasks-list").first.inner_text() or page.locator(
        "tr[data-task]", has_text=title).count() == 0
    page.click("nav.tabs >> text=Done")
    page.wait_for_url(re.compile(r"status=done"))
    assert title in page.locator("table.tasks-list").inner_text()


def test_timeline_loads_more_on_demand(log_in, live_server):
    page = log_in(AM)
    page.goto(live_server.url(f"/crm/accounts/{_account_id(live_server, 'Neva Shipyards')}?per_page=5"))
    entries = page.locator("ol.timeline li.entry")
    assert entries.count() == 5
    page.click("a[data-timeline-more]")
    entries.nth(9).wait_for()
    assert entries.count() == 10
    page.click("a[data-timeline-more]")
    entries.nth(10).wait_for()
    at = [page.locator("ol.timeline li.entry time").nth(i).get_attribute("datetime") for i in range(entries.count())]
    assert at == sorted(at, reverse=True)
    # The page stays the account page (the entries were appended, not navigated to).
    assert page.locator("h1").inner_text().startswith("Neva Shipyards")

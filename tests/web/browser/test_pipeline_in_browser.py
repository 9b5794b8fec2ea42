"""The account manager's board in a real browser: drag a deal to another stage, see the figures move, keep it
after a reload, and find the move in the dashboards' funnel."""

from __future__ import annotations

import re

import pytest

expect = pytest.importorskip("playwright.sync_api").expect


def _column(page, stage: str):
    return page.locator(f'.board-column[data-stage-name="{stage}"]')


def _figure(page, stage: str, name: str) -> str:
    return _column(page, stage).locator(f'[data-figure="{name}"]').inner_text()


def _funnel(page) -> dict[str, tuple[str, str]]:
    rows = page.locator("table[data-funnel] tbody tr")
    return {rows.nth(i).get_attribute("data-stage"): (rows.nth(i).locator("[data-reached]").inner_text(),
                                                     rows.nth(i).locator("[data-count]").inner_text())
            for i in range(rows.count())}


def test_drag_a_deal_to_another_stage_and_see_it_in_the_funnel(log_in, screenshot, live_server):
    page = log_in("am@crmpm.local")
    page.goto(live_server.url("/dashboards/"))
    funnel_before = _funnel(page)

    page.click("nav.menu >> text=Pipeline")
    page.wait_for_url(re.compile(r"/crm/pipeline"))
    proposal, negotiation = _column(page, "Proposal"), _column(page, "Negotiation")
    card = proposal.locator(".deal-card", has_text="fleet telematics")
    assert card.count() == 1 and card.get_attribute("draggable") == "true"
    counts = (_figure(page, "Proposal", "count"), _figure(page, "Negotiation", "count"))
    values = (_figure(page, "Proposal", "value"), _figure(page, "Negotiation", "value"))
    total_weighted = page.locator('[data-total="weighted"]').inner_text()
    screenshot(page, "pipeline-board")

    card.drag_to(negotiation.locator("[data-cards]"))
    page.wait_for_selector("[data-board-status].ok")
    expect(negotiation.locator(".deal-card", has_text="fleet telematics")).to_have_count(1)
    assert proposal.locator(".deal-card", has_text="fleet telematics").count() == 0
    assert int(_figure(page, "Proposal", "count")) == int(counts[0]) - 1
    assert int(_figure(page, "Negotiation", "count")) == int(counts[1]) + 1
    assert (_figure(page, "Proposal", "value"), _figure(page, "Negotiation", "value")) != values
    assert page.locator('[data-total="weighted"]').inner_text() != total_weighted  # 50 % → 75 % of the amount
    screenshot(page, "pipeline-board-after-drag")

    page.reload()
    assert _column(page, "Negotiation").locator(".deal-card", has_text="fleet telematics").count() == 1
    assert int(_figure(page, "Negotiation", "count")) == int(counts[1]) + 1

    page.goto(live_server.url("/dashboards/"))
    funnel_after = _funnel(page)
    assert int(funnel_after["Negotiation"][0]) == int(funnel_before["Negotiation"][0]) + 1  # reached
    assert int(funnel_after["Negotiation"][1]) == int(funnel_before["Negotiation"][1]) + 1  # now in stage
    assert int(funnel_after["Proposal"][1]) == int(funnel_before["Proposal"][1]) - 1
    assert page.locator(".funnel svg .funnel-step").count() >= 4
    screenshot(page, "dashboards")

    page.goto(live_server.url("/crm/pipeline"))
    _column(page, "Negotiation").locator(".deal-name", has_text="fleet telematics").click()
    page.wait_for_url(re.compile(r"/crm/deals/\d+$"))
    history = page.locator("table.list", has_text="Negotiation").first.inner_text()  # the stage history
    assert "Negotiation" in history and "Anna Sokolova" in history
    screenshot(page, "deal-page")


def test_dragging_to_lost_asks_for_the_reason_and_a_cancel_puts_the_card_back(log_in, live_server):
    page = log_in("am@crmpm.local")
    page.goto(live_server.url("/crm/pipeline"))
    card = _column(page, "Needs analysis").locator(".deal-card").first
    name = card.locator(".deal-name").inner_text()
    card.drag_to(_column(page, "Lost").locator("[data-cards]"))
    dialog = page.locator("dialog[data-lost-dialog]")
    dialog.wait_for(state="visible")
    dialog.locator("button[value=cancel]").click()
    expect(_column(page, "Needs analysis").locator(".deal-card", has_text=name)).to_have_count(1)
    expect(_column(page, "Lost").locator(".deal-card", has_text=name)).to_have_count(0)
    page.reload()  # nothing was sent
    expect(_column(page, "Needs analysis").locator(".deal-card", has_text=name)).to_have_count(1)


def test_a_read_only_user_sees_the_board_without_drag_handles_in_russian(log_in, screenshot, live_server):
    page = log_in("finance@crmpm.local", locale="ru-RU")
    page.click("header .locale-switch button[value=ru]")
    page.goto(live_server.url("/crm/pipeline?owner=all"))
    assert page.locator("h1").inner_text().startswith("Воронка") or page.locator(".deal-card").count() > 0
    assert page.locator(".deal-card").count() > 0
    assert page.locator(".deal-card[draggable=true]").count() == 0
    assert page.locator(".drag-handle, .move-form").count() == 0
    screenshot(page, "pipeline-board-read-only-ru")
    page.goto(live_server.url("/crm/deals"))
    assert page.locator("table.list tbody tr").count() > 0
    screenshot(page, "deals-list-ru")

"""A refusal of the budget service, read by a user who works in Russian."""

from __future__ import annotations


def _switch_language(page, code: str) -> None:
    page.click(f"form.locale-switch button[value={code}]")
    page.wait_for_selector(f"html[lang={code}]")


def test_a_refused_budget_shows_the_reason_in_russian(log_in, screenshot, live_server):
    spb = live_server.id_of("SPB")
    finance = log_in("finance@crmpm.local")
    finance.goto(live_server.url(f"/finance/nodes/{spb}"))
    _switch_language(finance, "ru")  # saved on the user: switched back below, other tests read English
    try:
        finance.click("details.budget-editor summary")
        # Far more than the root has undistributed: the budget service refuses, nothing changes.
        finance.fill("input[name=original_budget]", "900 000 000")
        finance.click("details.budget-editor button[type=submit]")
        finance.wait_for_selector(".flash-error")
        message = finance.locator(".flash-error").inner_text().replace("\u00a0", " ")
        assert message.startswith("У родителя (узел EPS ENT) не распределено 5 000 000,00"), message
        assert "(получатель: узел EPS SPB)" in message and "undistributed" not in message
        screenshot(finance, "error-message-ru")
        assert finance.locator("[data-figure=current]").inner_text().replace("\u00a0", " ").startswith("15 000 000,00")
    finally:
        _switch_language(finance, "en")

"""The search box in a real browser: "/" from another page, typing and Enter lead to the search page's hits; Ctrl+K
from inside a field; the same on a phone-sized screen (390x844)."""

from __future__ import annotations

import re

import pytest

AM = "am@crmpm.local"


def _press_slash_and_search(page, live_server, text):
    page.keyboard.press("/")
    box = page.locator("#site-search-q")
    assert box.evaluate("el => el === document.activeElement")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))


@pytest.mark.parametrize("viewport", [(1366, 900), (390, 844)], ids=["desktop", "phone"])
def test_slash_then_typing_and_enter_finds_from_another_page(log_in, live_server, screenshot, viewport):
    page = log_in(AM)
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.goto(live_server.url("/crm/accounts"))
    page.locator("h1").click()  # focus on the page, not in a field
    _press_slash_and_search(page, live_server, "neva")
    groups = page.locator("section.search-group h2").all_inner_texts()
    assert "Accounts" in groups and "Contacts" in groups and "Deals" in groups
    accounts = page.locator("#found-accounts")
    assert accounts.locator("mark").first.inner_text().lower() == "neva"
    assert "Neva Shipyards" in accounts.inner_text()
    assert page.locator("#site-search-q").input_value() == "neva"
    phone = viewport[0] < 768
    if phone:  # on a phone the box is in the panel behind the menu button
        page.click("button.menu-toggle")
    box = page.locator("#site-search-q").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport[0]  # the box is on the screen
    screenshot(page, f"search-{viewport[0]}x{viewport[1]}")
    if phone:
        page.click("button.menu-toggle")
    page.click("#found-accounts a >> text=Neva Shipyards")
    page.wait_for_url(re.compile(r"/crm/accounts/\d+$"))


def test_a_phone_typed_any_way_finds_the_contact(log_in, live_server):
    page = log_in(AM)
    page.goto(live_server.url("/search?q=" + "8 (812) 555-01-02"))
    contacts = page.locator("#found-contacts")
    assert "Elena Popova" in contacts.inner_text()
    assert contacts.locator("mark").first.inner_text() == "78125550102"


def test_slash_inside_a_field_types_a_slash_and_ctrl_k_still_searches(log_in, live_server):
    page = log_in(AM)
    page.goto(live_server.url("/crm/accounts"))
    field = page.locator("form.filter-bar input[name=q]")
    field.click()
    page.keyboard.type("a/b")
    assert field.input_value() == "a/b"  # "/" in a field is just a character
    page.keyboard.press("Control+k")
    assert page.locator("#site-search-q").evaluate("el => el === document.activeElement")
    page.keyboard.type("Orlov")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=Orlov"))
    assert "Sergey Orlov" in page.locator("#found-contacts").inner_text()

"""Settings in a real browser: an administrator builds a pipeline's stages (adds them, reorders one with the
keyboard, changes a probability) and resets a user's password by a one-time link, which that user then uses;
on a desktop screen and on a phone's (390×844)."""

from __future__ import annotations

import re

import pytest

from crmpm import demo

expect = pytest.importorskip("playwright.sync_api").expect

VIEWPORTS = {"desktop": None, "phone": {"width": 390, "height": 844}}
NEW_PASSWORD = "lantern-orchard-basalt-nine"


def _stage_names(page) -> list[str]:
    return page.locator(".stage-row .stage-form input[name$='-name']").evaluate_all(
        "inputs => inputs.map(input => input.value)")


def _focused_label(page) -> str | None:
    return page.evaluate("document.activeElement && document.activeElement.getAttribute('aria-label')")


@pytest.mark.parametrize("screen", VIEWPORTS)
def test_admin_edits_stages_with_the_keyboard_and_resets_a_password_by_link(log_in, new_page, screenshot,
                                                                           live_server, screen):
    page = log_in("admin@crmpm.local")
    if VIEWPORTS[screen]:
        page.set_viewport_size(VIEWPORTS[screen])

    # A new pipeline, from the Settings menu (on a phone, behind the menu button).
    if VIEWPORTS[screen]:
        page.click("button.menu-toggle")
    page.click("nav.menu >> text=Pipelines and stages")
    page.wait_for_url(re.compile(r"/settings/pipelines$"))
    page.fill("input[name=name]", f"Partners {screen}")
    page.click("form[action$='/settings/pipelines'] button[type=submit]")
    page.wait_for_url(re.compile(r"/settings/pipelines/\d+$"))
    assert _stage_names(page) == ["New", "Won", "Lost"]

    # Two more open stages; each comes after the open ones, before won and lost.
    for name, probability in (("Demo", "30"), ("Contract", "60")):
        page.fill("#new-stage input[name=name]", name)
        page.fill("#new-stage input[name=probability]", probability)
        page.click("#new-stage button[type=submit]")
        expect(page.locator(".flash-info")).to_contain_text(name)
    assert _stage_names(page) == ["New", "Demo", "Contract", "Won", "Lost"]
    screenshot(page, f"settings-pipeline-stages-{screen}")

    # Keyboard only: Tab from the stage's Save button to its "up" button, Enter; the page comes back with the
    # same button focused, so Enter moves it once more.
    contract = page.locator(".stage-row", has=page.locator("input[value=Contract]"))
    contract.locator(".stage-form button[type=submit]").focus()
    page.keyboard.press("Tab")
    assert _focused_label(page) == "Move Contract up"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _stage_names(page) == ["New", "Contract", "Demo", "Won", "Lost"]
    expect(page.locator("button[aria-label='Move Contract up']")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _stage_names(page) == ["Contract", "New", "Demo", "Won", "Lost"]

    # A probability changed, and the form sent with Enter.
    demo_row = page.locator(".stage-row", has=page.locator("input[value=Demo]"))
    demo_row.locator("input[name$='-probability']").fill("35")
    with page.expect_navigation():
        demo_row.locator("input[name$='-probability']").press("Enter")
    expect(page.locator(".flash-info")).to_contain_text("Demo")
    screenshot(page, f"settings-pipeline-reordered-{screen}")
    # Set aside (inactive), so that the other pages' pipeline choices stay as the demo has them.
    page.uncheck("input[name=is_active]")
    with page.expect_navigation():
        page.locator("form", has=page.locator("input[name=is_active]")).locator("button[type=submit]").click()
    page.goto(live_server.url("/settings/pipelines"))
    row = page.locator("tr", has_text=f"Partners {screen}")
    expect(row).to_contain_text("Contract (60 %) › New (10 %) › Demo (35 %) › Won (100 %) › Lost (0 %)")
    expect(row).to_contain_text("inactive")

    # A user to reset, created on the users page.
    email = f"reset-{screen}@example.test"
    page.goto(live_server.url("/admin/users"))
    form = page.locator("form[action$='/admin/users']")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=name]").fill(f"Reset Person {screen}")
    form.locator("input[name=password]").fill(demo.PASSWORD + "-first")
    form.locator("button[type=submit]").click()
    page.click(f"text=Reset Person {screen}")
    page.wait_for_url(re.compile(r"/admin/users/\d+$"))
    page.click("button:has-text('Create a reset link')")
    link = page.locator("#reset-link").input_value()
    assert re.fullmatch(re.escape(live_server.url("/reset/")) + r"[\w-]{40,}", link), link
    copy = page.locator("button[data-copy]")
    copy.click()
    expect(copy).to_have_text("Copied")
    screenshot(page, f"settings-reset-link-{screen}")

    # The user, in a browser of their own, sets a new password through the link and logs in with it.
    theirs = new_page()
    if VIEWPORTS[screen]:
        theirs.set_viewport_size(VIEWPORTS[screen])
    theirs.goto(link)
    expect(theirs.locator("h1")).to_have_text("Set a new password")
    theirs.fill("input[name=password]", NEW_PASSWORD)
    theirs.fill("input[name=confirm]", NEW_PASSWORD)
    screenshot(theirs, f"settings-reset-page-{screen}")
    theirs.click("button:has-text('Set the password')")
    theirs.wait_for_url(re.compile(r"/login$"))
    expect(theirs.locator(".flash-info")).to_contain_text("Your password is set")
    theirs.fill("input[name=email]", email)
    theirs.fill("input[name=password]", NEW_PASSWORD)
    theirs.click("button[type=submit].primary")
    theirs.wait_for_url(live_server.url("/"))
    expect(theirs.locator("a.user")).to_have_text(f"Reset Person {screen}")
    # The link worked once.
    theirs.goto(link)
    expect(theirs.locator(".error-page")).to_contain_text("already been used")

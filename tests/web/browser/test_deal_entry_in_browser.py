"""Opening a deal from a board column's "+" and winning it on the board with a plan template, in a real browser:
with the mouse (drag to Won, the template dialog), with the keyboard (the dialog, and the card's Move form), on a
desktop and at a phone's 390×844."""

from __future__ import annotations

import itertools
import re

import pytest
from sqlalchemy import func, select

from crmpm.database import db

expect = pytest.importorskip("playwright.sync_api").expect

from tests.web.browser.private_server import log_in, own_server  # noqa: E402,F401 - fixtures: a demo of its own

_numbers = itertools.count(1)


def _column(page, stage: str):
    return page.locator(f'.board-column[data-stage-name="{stage}"]')


def _plan_size(own_server, deal_id: int) -> int:
    """How many activities the deal's project holds now (the template's copy lands there)."""
    from accounts.models import Deal
    from wbs.models import Activity

    with own_server.app.app_context():
        session = db.new_session()
        try:
            project_id = session.scalar(select(Deal.project_id).where(Deal.id == deal_id))
            return session.scalar(select(func.count()).select_from(Activity).where(Activity.project_id == project_id))
        finally:
            session.close()


def _open_deal_from_the_column(page, own_server, screenshot, stage: str, tag: str) -> tuple[int, str]:
    """Click the column's "+", check the stage is chosen, fill the form in, open the deal; its id and name."""
    page.goto(own_server.url("/crm/pipeline"))
    column = _column(page, stage)
    stage_id = column.get_attribute("data-stage")
    switcher = page.locator("[data-board-switch] select")
    if switcher.is_visible():  # a phone shows one column at a time
        switcher.select_option(stage_id)
    column.locator("a[data-add-deal]").click()
    page.wait_for_url(re.compile(rf"/crm/deals/new\?stage_id={stage_id}$"))
    assert page.locator("select[name=stage_id]").input_value() == stage_id
    name = f"Browser deal {tag} {next(_numbers)}"
    page.fill("input[name=name]", name)
    # Baltic Logistics: an account the other browser tests leave alone (its timeline gains these deals).
    page.select_option("select[name=account_id]", label="Baltic Logistics")
    # The contact list follows the account: its people arrive without a reload.
    expect(page.locator("select[name=contact_id] option", has_text="Andrey Smirnov")).to_have_count(1)
    page.select_option("select[name=contact_id]", label="Andrey Smirnov")
    page.fill("input[name=amount]", "150 000,50")
    page.fill("input[name=product]", "Sensors")
    screenshot(page, f"deal-new-{tag}")
    page.click("form[data-deal-form] button[type=submit].primary")
    page.wait_for_url(re.compile(r"/crm/deals/\d+$"))
    assert name in page.locator("h1").inner_text() and stage in page.locator("h1").inner_text()
    assert "Andrey Smirnov" in page.locator("dl.facts").inner_text()
    return int(page.url.rsplit("/", 1)[1]), name


def _drag(page, card, column, *, mouse: bool = True) -> None:
    """Drag ``card`` onto ``column``: with the mouse, or (at a phone's width, where the Won column lies beyond the
    scrolled board's edge and Chromium's mouse drag cannot reach it) as the same drag events, sent to the board."""
    target = column.locator("[data-cards]")
    if mouse:
        card.drag_to(target)
        return
    transfer = page.evaluate_handle("() => new DataTransfer()")
    card = card.element_handle()  # the element itself: the drop moves it out of the locator's column
    card.dispatch_event("dragstart", {"dataTransfer": transfer})
    if target.is_visible():  # on a phone the board shows one column at a time; events reach a hidden one too
        target.scroll_into_view_if_needed()
    target.dispatch_event("dragover", {"dataTransfer": transfer})
    target.dispatch_event("drop", {"dataTransfer": transfer})
    card.dispatch_event("dragend", {"dataTransfer": transfer})


def _template_choice(dialog) -> tuple[str, str]:
    option = dialog.locator("select[name=template_project_id] option").nth(1)
    return option.get_attribute("value"), option.inner_text()


@pytest.mark.parametrize("viewport", [None, {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_plus_opens_a_deal_in_the_column_and_dragging_it_to_won_asks_for_a_template(
        log_in, screenshot, own_server, viewport):
    tag = "phone" if viewport else "desktop"
    page = log_in("am@crmpm.local")
    if viewport:
        page.set_viewport_size(viewport)
    deal_id, name = _open_deal_from_the_column(page, own_server, screenshot, "Needs analysis", tag)

    page.goto(own_server.url("/crm/pipeline"))
    card = _column(page, "Needs analysis").locator(".deal-card", has_text=name)
    expect(card).to_have_count(1)
    screenshot(page, f"pipeline-plus-{tag}")
    _drag(page, card, _column(page, "Won"), mouse=not viewport)
    dialog = page.locator("dialog[data-won-dialog]")
    dialog.wait_for(state="visible")
    assert name in dialog.locator("[data-won-deal]").inner_text()
    value, label = _template_choice(dialog)
    dialog.locator("select[name=template_project_id]").select_option(value)
    screenshot(page, f"pipeline-won-dialog-{tag}")
    assert _plan_size(own_server, deal_id) == 0  # nothing sent before the choice is confirmed
    dialog.locator("button[value=confirm]").click()
    page.wait_for_selector("[data-board-status].ok")
    expect(_column(page, "Won").locator(".deal-card", has_text=name)).to_have_count(1)
    assert _plan_size(own_server, deal_id) > 0, label  # the template's plan was copied
    screenshot(page, f"pipeline-won-{tag}")


def test_the_won_dialog_works_from_the_keyboard_and_cancel_sends_nothing(log_in, screenshot, own_server):
    page = log_in("am@crmpm.local")
    deal_id, name = _open_deal_from_the_column(page, own_server, screenshot, "Qualification", "keyboard")
    page.goto(own_server.url("/crm/pipeline"))
    card = _column(page, "Qualification").locator(".deal-card", has_text=name)
    card.drag_to(_column(page, "Won").locator("[data-cards]"))
    dialog = page.locator("dialog[data-won-dialog]")
    dialog.wait_for(state="visible")
    # The choice has the focus; Escape closes the dialog and puts the card back, nothing sent.
    assert page.evaluate("document.activeElement.name") == "template_project_id"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(_column(page, "Qualification").locator(".deal-card", has_text=name)).to_have_count(1)
    assert _plan_size(own_server, deal_id) == 0

    card.drag_to(_column(page, "Won").locator("[data-cards]"))
    dialog.wait_for(state="visible")
    page.keyboard.press("ArrowDown")  # the first template
    assert dialog.locator("select[name=template_project_id]").input_value() != ""
    page.keyboard.press("Tab")  # to "Mark as won"
    assert page.evaluate("document.activeElement.value") == "confirm"
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-board-status].ok")
    expect(_column(page, "Won").locator(".deal-card", has_text=name)).to_have_count(1)
    assert _plan_size(own_server, deal_id) > 0


def test_the_move_form_is_the_keyboard_way_to_win_with_a_template(log_in, screenshot, own_server):
    page = log_in("am@crmpm.local")
    deal_id, name = _open_deal_from_the_column(page, own_server, screenshot, "Qualification", "move-form")
    page.goto(own_server.url("/crm/pipeline"))
    card = _column(page, "Qualification").locator(".deal-card", has_text=name)
    summary = card.locator("details.move-form summary")
    summary.focus()
    page.keyboard.press("Enter")
    form = card.locator("details.move-form form")
    form.locator("select[name=stage_id]").select_option(label="Won")
    template = form.locator("select[name=template_project_id]")
    template.select_option(index=1)
    form.locator("button[type=submit]").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/crm/pipeline"))
    expect(_column(page, "Won").locator(".deal-card", has_text=name)).to_have_count(1)
    assert _plan_size(own_server, deal_id) > 0

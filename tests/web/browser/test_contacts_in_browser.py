"""A contact card in a real browser: from the account page to the person, a second phone added with
"Add a phone", a task with a reminder from the card; on a desktop and on a 390x844 phone screen."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from accounts.models import ChannelType, Contact, Task
from crmpm.database import db

AM = "am@crmpm.local"


def _contact(live_server, email: str) -> Contact:
    with live_server.app.app_context():
        session = db.new_session()
        try:
            contact = session.scalar(select(Contact).where(Contact.email == email))
            contact.phones = [(c.kind.value, c.value) for c in contact.channels_of(ChannelType.phone)]
            return contact
        finally:
            session.close()


def _task(live_server, title: str) -> Task | None:
    with live_server.app.app_context():
        session = db.new_session()
        try:
            return session.scalar(select(Task).where(Task.title == title))
        finally:
            session.close()


@pytest.mark.parametrize("screen, email, phone", [
    ("desktop", "e.popova@nevaship.example", "8 921 555-01-09"),
    ("phone", "d.volkov@nevaship.example", "+7 921 555 01 08"),
])
def test_card_second_phone_and_a_task_with_a_reminder(log_in, screenshot, live_server, screen, email, phone):
    page = log_in(AM)
    if screen == "phone":
        page.set_viewport_size({"width": 390, "height": 844})
    contact = _contact(live_server, email)
    page.goto(live_server.url(f"/crm/accounts/{contact.account_id}"))
    page.click(f"li[data-contact='{contact.id}'] a")
    page.wait_for_url(live_server.url(f"/crm/contacts/{contact.id}"))
    assert page.locator(f"a[href='tel:{contact.phone}']").is_visible()
    assert page.locator(f"a[href='mailto:{email}']").is_visible()
    screenshot(page, f"crm-contact-{screen}")

    # A second phone: open the edit form, "Add a phone" appends a row (the keyboard works as well as the mouse).
    page.click("details.edit-contact summary")
    rows = page.locator("details.edit-contact [data-channel-row]")
    before = rows.count()
    add = page.locator("details.edit-contact button[data-add-channel=phone]")
    add.focus()
    page.keyboard.press("Enter")
    assert rows.count() == before + 1
    new_row = rows.nth(before)
    assert new_row.locator("select[name$='-type']").input_value() == "phone"
    assert page.evaluate("document.activeElement.name") == f"channels-{before}-value"
    page.keyboard.type(phone)
    new_row.locator("select[name$='-kind']").select_option("mobile")
    if screen == "phone":  # the open form fits the screen too
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"crm-contact-edit-{screen}")
    page.click("details.edit-contact button[type=submit]")
    page.wait_for_selector(".flash-info")
    expected = "+7" + re.sub(r"\D", "", phone)[1:]
    assert page.locator(f"a[href='tel:{expected}']").is_visible()
    assert _contact(live_server, email).phones == [("work", contact.phone), ("mobile", expected)]

    # A task with a reminder, from the card.
    title = f"Call back about the cabinets ({screen})"
    page.click("details.linked-task summary")
    page.fill("details.linked-task input[name=title]", title)
    page.fill("details.linked-task input[name=due_at]", "2027-03-01T15:00")
    page.fill("details.linked-task input[name=remind_at]", "2027-03-01T10:30")
    page.click("details.linked-task button[type=submit]")
    page.wait_for_selector(".flash-info")
    task = _task(live_server, title)
    assert task is not None and task.contact_id == contact.id and task.remind_at is not None
    assert (task.due_at - task.remind_at).total_seconds() == 4.5 * 3600
    listed = page.locator(f".open-tasks li[data-task='{task.id}']")
    assert title in listed.inner_text() and "reminder" in listed.inner_text()
    if screen == "phone":
        # Nothing wider than the screen.
        wide = page.evaluate("""[...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 391)
            .map(e => e.tagName + '.' + e.className + (e.name || '') + ' ' + e.getBoundingClientRect().right)
            .slice(0, 12)""")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    screenshot(page, f"crm-contact-task-{screen}")


def test_a_reminder_after_the_due_time_is_refused_by_name(log_in, live_server):
    page = log_in(AM)
    contact = _contact(live_server, "s.orlov@tvtech.example")
    page.goto(live_server.url(f"/crm/contacts/{contact.id}"))
    page.click("details.linked-task summary")
    page.fill("details.linked-task input[name=title]", "Too late a reminder")
    page.fill("details.linked-task input[name=due_at]", "2027-03-01T09:00")
    page.fill("details.linked-task input[name=remind_at]", "2027-03-01T12:00")
    page.click("details.linked-task button[type=submit]")
    page.wait_for_selector(".flash-error")
    assert "reminder" in page.locator(".flash-error").inner_text().lower()
    assert _task(live_server, "Too late a reminder") is None

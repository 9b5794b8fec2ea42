"""The bell in a real browser: a task given to a user through the real services and event delivery shows in
the bell's count without reloading the page, and the list marks it read (desktop and phone screens)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crmpm import notifications
from crmpm.database import db, utcnow
from crmpm.events import dispatch, installed_consumers
from crmpm.users.models import User

expect = pytest.importorskip("playwright.sync_api").expect

VIEWPORTS = {"desktop": None, "phone": {"width": 390, "height": 844}}
EMAIL = "am@crmpm.local"


def _deliver(app) -> None:
    """Deliver the committed events to the notifications consumer, as a worker's dispatcher does."""
    with app.app_context():
        dispatch(db.new_session, {"notifications": installed_consumers()["notifications"]})


def _in_session(app, work):
    with app.app_context(), db.transaction() as session:
        return work(session)


@pytest.mark.parametrize("screen", VIEWPORTS)
def test_the_bell_counts_a_new_task_without_reloading_and_the_list_marks_it_read(live_server, log_in, monkeypatch,
                                                                              screen):
    from accounts import activities
    from accounts.models import Account

    app = live_server.app
    monkeypatch.setitem(app.config, "JOBS_URL", "memory://")  # the e-mails' jobs stay in this process
    _deliver(app)  # what the demo data and earlier tests recorded

    def start_clean(session):
        user = session.scalar(select(User).where(User.email == EMAIL))
        notifications.mark_all_read(session, user=user)

    _in_session(app, start_clean)
    page = log_in(EMAIL)
    if VIEWPORTS[screen]:
        page.set_viewport_size(VIEWPORTS[screen])
        page.click("button.menu-toggle")
    bell = page.locator("a.bell")
    expect(bell).to_be_visible()
    expect(bell.locator(".bell-count")).to_be_hidden()

    title = f"Send the contract ({screen})"

    def give_task(session):
        admin = session.scalar(select(User).where(User.email == "admin@crmpm.local"))
        user = session.scalar(select(User).where(User.email == EMAIL))
        account = session.scalar(select(Account).where(Account.name == "Tverskaya Tech"))
        activities.create_task(session, actor=admin, title=title, due_at=utcnow() + timedelta(days=1),
                               assignee=user, account=account)

    _in_session(app, give_task)
    _deliver(app)
    # The page is open all along: coming back to it (the tab shown again) refreshes the count.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(bell.locator(".bell-count")).to_have_text("1")
    expect(bell).to_have_attribute("aria-label", "Notifications: 1 unread")

    bell.click()
    page.wait_for_url(live_server.url("/notifications/"))
    item = page.locator("li.notification.unread", has_text=f"New task for you: {title}")
    expect(item).to_be_visible()
    item.locator("button.mark-read").click()
    page.wait_for_url(live_server.url("/notifications/"))
    expect(page.locator("li.notification", has_text=title)).to_have_class("notification read")
    expect(page.locator("a.bell .bell-count")).to_be_hidden()

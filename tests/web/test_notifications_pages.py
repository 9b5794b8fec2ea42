"""The notification pages: the bell on every page, the list (open, mark read, all read), the settings grid."""

from __future__ import annotations

import re

import pytest

from crmpm import notifications
from crmpm.notifications import KINDS, Channels
from tests import factories

TASK = {"title": "Call <b>Ladoga</b>", "due_at": "2026-12-04T09:30:00+00:00", "account_id": 12, "lead_id": None}


def bell(html: str) -> str | None:
    """The count the bell shows ('' when hidden), None when there is no bell."""
    match = re.search(r'<a class="bell"[^>]*>.*?<span class="bell-count"( hidden)?>([^<]*)</span>', html, re.S)
    if match is None:
        return None
    return "" if match.group(1) else match.group(2)


@pytest.fixture
def ivan(app, session):
    user = factories.user(session)
    user.locale = "ru"
    with app.app_context():
        notes = [notifications.notify(session, user_id=user.id, kind="task_due", subject=("tasks", n), params=TASK)
                 for n in (1, 2)]
    session.commit()
    return user, notes


def test_the_bell_shows_the_unread_count_on_every_page(pages, ivan):
    user, notes = ivan
    pages.log_in_as(user)
    for path in ("/", "/profile/", "/notifications/preferences"):
        assert bell(pages.get(path).get_data(as_text=True)) == "2", path
    assert pages.get("/notifications/count.json").json == {"unread": 2}


def test_no_bell_for_anonymous_visitors(pages, ivan):
    response = pages.get("/login")
    assert response.status_code == 200 and bell(response.get_data(as_text=True)) is None


def test_the_list_shows_the_texts_escaped_in_the_users_language_and_marks_read(pages, session, ivan):
    user, notes = ivan
    pages.log_in_as(user)
    html = pages.get("/notifications/").get_data(as_text=True)
    assert "Срок задачи наступил: Call &lt;b&gt;Ladoga&lt;/b&gt;" in html and "<b>Ladoga" not in html
    response = pages.post(f"/notifications/{notes[0].id}/read", data={"open": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/crm/accounts/12"
    assert bell(pages.get("/").get_data(as_text=True)) == "1"
    pages.post("/notifications/read-all")
    assert bell(pages.get("/").get_data(as_text=True)) == ""
    assert notifications.unread_count(session, user=user) == 0


def test_another_users_notification_cannot_be_marked(pages, session, ivan):
    _user, notes = ivan
    other = factories.user(session)
    session.commit()
    pages.log_in_as(other)
    assert pages.post(f"/notifications/{notes[0].id}/read").status_code == 404


def test_the_settings_grid_saves_what_is_ticked(pages, session, ivan):
    user, _notes = ivan
    pages.log_in_as(user)
    html = pages.get("/notifications/preferences").get_data(as_text=True)
    for kind in KINDS:
        assert f'name="{kind}.in_app"' in html and f'name="{kind}.email"' in html
    response = pages.post("/notifications/preferences", data={"task_due.email": "on", "lead_assigned.in_app": "on"})
    assert response.status_code == 303
    chosen = notifications.preferences_of(session, user_id=user.id)
    assert chosen["task_due"] == Channels(in_app=False, email=True)
    assert chosen["lead_assigned"] == Channels(in_app=True, email=False)
    assert chosen["task_reminder"] == Channels(in_app=False, email=False)


def test_the_profile_sets_the_time_zone_and_refuses_an_unknown_one(pages, session, ivan):
    user, _notes = ivan
    pages.log_in_as(user)
    assert 'value="Asia/Vladivostok"' in pages.get("/profile/").get_data(as_text=True)
    response = pages.post("/profile/", {"name": user.name, "locale": "en", "time_zone": "Asia/Vladivostok"})
    assert response.status_code == 303
    session.refresh(user)
    assert user.time_zone == "Asia/Vladivostok"
    refused = pages.post("/profile/", {"name": user.name, "locale": "en", "time_zone": "Mars/Olympus"},
                         follow_redirects=True)
    assert re.search(r"class=\"flash flash-error\"[^>]*>[^<]*Mars/Olympus", refused.get_data(as_text=True))
    session.refresh(user)
    assert user.time_zone == "Asia/Vladivostok"

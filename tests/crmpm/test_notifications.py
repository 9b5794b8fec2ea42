"""The core of notifications: channels as each user prefers, once per event, read and unread, texts per language."""

from __future__ import annotations

import pytest

from crmpm import notifications
from crmpm.errors import Invalid, NotFound
from crmpm.notifications import KINDS, Channels, Notification
from tests import factories
from tests.committed import committed  # noqa: F401 - fixture

@pytest.fixture(autouse=True)
def _app_context(request):
    """E-mails are jobs asked for with the app's settings (a request's, a worker's): an app context."""
    if "session" not in request.fixturenames:
        yield
        return
    with request.getfixturevalue("app").app_context():
        yield


TASK = {"title": "Call Ladoga", "due_at": "2026-12-04T09:30:00+00:00", "account_id": None, "lead_id": None}


def mine(session, user) -> list[Notification]:
    return list(session.scalars(notifications.list_for(session, user=user)))


def test_every_kind_has_texts_in_both_languages():
    for kind in KINDS:
        for language in ("en", "ru"):
            params = {"title": "T", "due_at": None, "by": None, "name": "N", "previous": None, "amount": "1.00",
                      "target": "P1 Project", "decision": "approved", "created": 1, "updated": 2, "failed": 0,
                      "kind": "deals", "url_target": "https://h.test/x", "failures": 5, "last_status": 500,
                      "day": "2026-12-04", "overdue": [TASK], "today": [], "reason": "manual", "url": None,
                      "what": "task", "headline": "H", "excerpt": "H\nmore", "text": "Deal D moved", "rule": "R",
                      "resource": "Resource R", "week": "2026-11-30", "projects": "P1 Project", "project": "P1 Project"}
            texts = notifications.render(kind, language, params)
            assert texts.subject and "\n" not in texts.subject and texts.text.strip(), (kind, language)


def test_a_kind_goes_in_app_by_its_default_when_the_user_chose_nothing(session):
    user = factories.user(session)
    assert KINDS["task_reminder"].in_app
    note = notifications.notify(session, user_id=user.id, kind="task_reminder", subject=("tasks", 7), params=TASK)
    assert [n.id for n in mine(session, user)] == [note.id]
    assert (note.subject_type, note.subject_id, note.read_at) == ("tasks", 7, None)
    assert notifications.unread_count(session, user=user) == 1


def test_a_kind_turned_off_in_app_makes_no_row(session):
    user, other = factories.user(session), factories.user(session)
    notifications.set_preferences(session, user=user, choices={"task_reminder": Channels(in_app=False, email=False)})
    assert notifications.notify(session, user_id=user.id, kind="task_reminder", params=TASK) is None
    assert mine(session, user) == []
    # the choice is the user's own: another user still gets the default
    assert notifications.notify(session, user_id=other.id, kind="task_reminder", params=TASK) is not None


def test_preferences_are_the_defaults_until_set_and_unknown_kinds_are_refused(session):
    user = factories.user(session)
    assert notifications.preferences_of(session, user_id=user.id) == KINDS
    after = notifications.set_preferences(session, user=user, choices={"lead_assigned": Channels(False, True)})
    assert after["lead_assigned"] == Channels(in_app=False, email=True)
    assert after["task_due"] == KINDS["task_due"]
    after = notifications.set_preferences(session, user=user, choices={"lead_assigned": Channels(True, False)})
    assert after["lead_assigned"] == Channels(in_app=True, email=False)
    with pytest.raises(Invalid):
        notifications.set_preferences(session, user=user, choices={"no_such_kind": Channels(True, True)})


def test_the_same_event_notifies_a_user_once(session):
    user, other = factories.user(session), factories.user(session)
    first = notifications.notify(session, user_id=user.id, kind="task_due", params=TASK, event_id=41)
    assert first is not None
    assert notifications.notify(session, user_id=user.id, kind="task_due", params=TASK, event_id=41) is None
    assert notifications.notify(session, user_id=other.id, kind="task_due", params=TASK, event_id=41) is not None
    assert len(mine(session, user)) == 1


def test_inactive_users_are_not_notified(session):
    user = factories.user(session)
    user.is_active = False
    assert notifications.notify(session, user_id=user.id, kind="task_due", params=TASK) is None


def test_mark_read_marks_only_ones_own(session):
    user, other = factories.user(session), factories.user(session)
    notes = [notifications.notify(session, user_id=user.id, kind="task_due", params=TASK) for _ in range(3)]
    notifications.notify(session, user_id=other.id, kind="task_due", params=TASK)
    with pytest.raises(NotFound):
        notifications.mark_read(session, user=other, notification_id=notes[0].id)
    read = notifications.mark_read(session, user=user, notification_id=notes[0].id)
    first_read = read.read_at
    assert first_read is not None
    assert notifications.mark_read(session, user=user, notification_id=notes[0].id).read_at == first_read
    assert notifications.unread_count(session, user=user) == 2
    assert [n.id for n in session.scalars(notifications.list_for(session, user=user, unread=True))] == \
        [notes[2].id, notes[1].id]
    assert notifications.mark_all_read(session, user=user) == 2
    assert notifications.unread_count(session, user=user) == 0
    assert notifications.unread_count(session, user=other) == 1


def test_texts_are_in_the_readers_language_and_time_zone(session):
    user = factories.user(session)
    note = notifications.notify(session, user_id=user.id, kind="task_reminder", params=TASK)
    user.locale, user.time_zone = "ru", "Asia/Yekaterinburg"  # UTC+5
    assert notifications.rendered(note.kind, user, note.params).text.startswith(
        "Напоминание о задаче «Call Ladoga», срок 2026-12-04 14:30.")
    user.locale, user.time_zone = "en", "Europe/London"
    assert notifications.text_of(note, user) == "Reminder: Call Ladoga"
    assert "due 2026-12-04 09:30." in notifications.rendered(note.kind, user, note.params).text


def test_an_email_goes_out_in_the_users_language_and_only_for_kinds_that_want_it(committed, smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    session = committed.session
    ivan = factories.user(session, email="ivan@example.test")
    ivan.locale, ivan.time_zone = "ru", "Europe/Moscow"
    anna = factories.user(session, email="anna@example.test")
    notifications.set_preferences(session, user=anna, choices={"task_reminder": Channels(in_app=True, email=False)})
    with committed.app.app_context():
        for user in (ivan, anna):
            notifications.notify(session, user_id=user.id, kind="task_reminder", subject=("tasks", 1), params=TASK)
    committed.run_jobs()
    received = smtp_server.wait_for(1)
    assert [m.rcpt_tos for m in received] == [["ivan@example.test"]]
    assert received[0].message["Subject"] == "Напоминание: Call Ladoga"
    assert "срок 2026-12-04 12:30" in received[0].message.get_content()  # 09:30 UTC in Moscow
    assert len(mine(session, anna)) == 1  # in-app still on for her

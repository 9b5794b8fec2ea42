"""The caller's notifications over the API: the contract of /api/v1/me/notifications and the preferences."""

from __future__ import annotations

import pytest

from crmpm import notifications
from crmpm.notifications import KINDS
from tests import factories

TASK = {"title": "Call Ladoga", "due_at": "2026-12-04T09:30:00+00:00", "account_id": 12, "lead_id": None}


@pytest.fixture
def two(app, session):
    """Ivan (Russian, Moscow) with three notifications, Anna with one."""
    ivan, anna = factories.user(session), factories.user(session)
    ivan.locale, ivan.time_zone = "ru", "Europe/Moscow"
    with app.app_context():
        notes = [notifications.notify(session, user_id=ivan.id, kind="task_due", subject=("tasks", 5 + n),
                                      params=TASK) for n in range(3)]
        notes.append(notifications.notify(session, user_id=anna.id, kind="task_due", params=TASK))
    session.commit()
    return ivan, anna, notes


def test_the_list_holds_the_callers_own_newest_first_with_texts_in_their_language(api, two):
    ivan, _anna, notes = two
    body = api.get("/api/v1/me/notifications", user=ivan).json
    assert [item["id"] for item in body["items"]] == [notes[2].id, notes[1].id, notes[0].id]
    assert body["total"] == 3 and body["unread"] == 3
    first = body["items"][0]
    assert set(first) == {"id", "kind", "text", "subject_type", "subject_id", "url", "created_at", "read_at"}
    assert (first["kind"], first["subject_type"], first["subject_id"], first["read_at"]) == ("task_due", "tasks", 7,
                                                                                             None)
    assert first["text"] == "Срок задачи наступил: Call Ladoga"
    assert first["url"] == "/crm/accounts/12"


def test_marking_read_counts_down_and_filters_the_unread(api, two):
    ivan, _anna, notes = two
    response = api.post(f"/api/v1/me/notifications/{notes[0].id}/read", user=ivan)
    assert response.status_code == 200 and response.json["read_at"] is not None
    body = api.get("/api/v1/me/notifications?unread=true", user=ivan).json
    assert [item["id"] for item in body["items"]] == [notes[2].id, notes[1].id]
    assert body["unread"] == 2
    assert api.post("/api/v1/me/notifications/read-all", user=ivan).json == {"marked": 2, "unread": 0}
    assert api.get("/api/v1/me/notifications?unread=true", user=ivan).json["items"] == []


def test_another_users_notification_is_not_found_and_stays_unread(api, two):
    ivan, anna, notes = two
    response = api.post(f"/api/v1/me/notifications/{notes[3].id}/read", user=ivan)
    assert response.status_code == 404
    assert api.get("/api/v1/me/notifications", user=anna).json["unread"] == 1
    assert api.post("/api/v1/me/notifications/999999/read", user=ivan).status_code == 404


def test_anonymous_callers_are_refused(api, two):
    assert api.get("/api/v1/me/notifications").status_code == 401
    assert api.post("/api/v1/me/notifications/read-all").status_code == 401
    assert api.get("/api/v1/me/notification-preferences").status_code == 401


def test_preferences_read_every_kind_and_write_the_given_ones(api, session):
    user = factories.user(session)
    session.commit()
    body = api.get("/api/v1/me/notification-preferences", user=user).json
    assert body["preferences"] == {kind: {"in_app": c.in_app, "email": c.email} for kind, c in KINDS.items()}
    response = api.put("/api/v1/me/notification-preferences", user=user,
                       json={"preferences": {"task_due": {"in_app": False, "email": True}}})
    assert response.status_code == 200
    assert response.json["preferences"]["task_due"] == {"in_app": False, "email": True}
    assert response.json["preferences"]["lead_assigned"] == {"in_app": KINDS["lead_assigned"].in_app,
                                                             "email": KINDS["lead_assigned"].email}
    again = api.get("/api/v1/me/notification-preferences", user=user).json
    assert again["preferences"]["task_due"] == {"in_app": False, "email": True}


@pytest.mark.parametrize("body", [
    {"preferences": {"no_such_kind": {"in_app": True, "email": True}}},
    {"preferences": {"task_due": {"in_app": "maybe", "email": True}}},
    {"preferences": {"task_due": {"in_app": True}}},
    {"preferences": []},
    {},
])
def test_bad_preferences_are_refused_with_422(api, session, body):
    user = factories.user(session)
    session.commit()
    assert api.put("/api/v1/me/notification-preferences", user=user, json=body).status_code == 422


def test_users_set_their_own_time_zone_and_an_unknown_one_is_refused(api, session):
    user = factories.user(session)
    session.commit()
    assert api.get("/api/v1/me", user=user).json["time_zone"] == "Europe/Moscow"
    response = api.patch(f"/api/v1/users/{user.id}", user=user, json={"time_zone": "Asia/Vladivostok"})
    assert response.status_code == 200 and response.json["time_zone"] == "Asia/Vladivostok"
    for bad in ("Mars/Olympus", "../../etc/passwd", ""):
        assert api.patch(f"/api/v1/users/{user.id}", user=user, json={"time_zone": bad}).status_code == 422, bad

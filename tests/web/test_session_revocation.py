"""Sessions end on the server: logout, a password change and deactivation end every session of the user,
and a cookie signed with crmpm's old public default key (or naming a user without a password) opens nothing."""

from __future__ import annotations

import hashlib

import pytest
from flask.sessions import SecureCookieSessionInterface

from crmpm.users import services as users
from tests import factories

PASSWORD = "correct-horse-battery"
OLD_PUBLIC_KEY = "crmpm-development-secret-change-me"


@pytest.fixture
def person(session):
    user = factories.user(session, email="person@example.test", name="Person Private", password=PASSWORD)
    session.commit()
    return user


def _login(pages, email="person@example.test", password=PASSWORD):
    response = pages.post("/login", {"email": email, "password": password})
    assert response.status_code == 303, response.status_code
    return response


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _signed(app, secret_key: str, data: dict) -> str:
    """A session cookie as Flask would sign it with ``secret_key``."""
    app_with_key = type("KeyHolder", (), {"secret_key": secret_key, "config": app.config})()
    return SecureCookieSessionInterface().get_signing_serializer(app_with_key).dumps(data)


def _shows_nothing(response, *private):
    body = response.get_data(as_text=True)
    return (response.status_code == 302 and response.location.startswith("/login")
            and not any(text in body for text in private))


def test_a_cookie_saved_before_logout_is_refused_after_it(app, pages, person):
    _login(pages)
    saved = _cookie(pages.client)
    assert "Person Private" in pages.get("/profile/").get_data(as_text=True)
    assert pages.post("/logout").status_code == 303
    replay = app.test_client()
    replay.set_cookie("session", saved)
    for path in ("/", "/profile/", "/finance/"):
        assert _shows_nothing(replay.get(path), "Person Private", "person@example.test"), path


def test_logout_ends_the_users_other_sessions_too(app, pages, person):
    other_device = type(pages)(app.test_client())
    _login(other_device)
    _login(pages)
    assert other_device.get("/").status_code == 200
    pages.post("/logout")
    assert other_device.get("/").status_code == 302
    # Logging in again starts a new session that works.
    _login(pages)
    assert pages.get("/").status_code == 200


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app, pages, session, admin, person):
    _login(pages)
    saved = _cookie(pages.client)
    users.update(session, actor=admin, user=person, is_active=False)
    session.commit()
    assert pages.get("/").status_code == 302
    users.update(session, actor=admin, user=person, is_active=True)
    session.commit()
    replay = app.test_client()
    replay.set_cookie("session", saved)
    assert _shows_nothing(replay.get("/profile/"), "Person Private")


def test_deactivation_on_the_admin_page_ends_the_users_sessions(app, pages, session, admin, person):
    theirs = type(pages)(app.test_client())
    _login(theirs)
    pages.log_in_as(admin)
    assert pages.post(f"/admin/users/{person.id}/deactivate").status_code in (302, 303)
    assert theirs.get("/").status_code == 302


def test_a_password_change_through_the_api_ends_the_web_sessions(app, pages, session, person):
    token = factories.token(session, user=person)
    session.commit()
    _login(pages)
    response = app.test_client().patch(f"/api/v1/users/{person.id}", headers={"Authorization": f"Bearer {token}"},
                                       json={"password": "another-long-phrase-42", "current_password": PASSWORD})
    assert response.status_code == 200, response.json
    assert pages.get("/").status_code == 302
    _login(pages, password="another-long-phrase-42")


def test_a_cookie_signed_with_the_old_public_key_opens_nothing(app, pages, session, person):
    """The attack of the issue: the public default key plus the predictable stamp of a user without a password."""
    imported = factories.user(session, email="imported@example.test", name="Imported Nobody", passwordless=True)
    session.commit()
    old_stamp = hashlib.sha256(b"").hexdigest()[:16]  # what the stamp of a user without a password used to be
    client = app.test_client()
    for user, stamp in ((imported, old_stamp), (person, old_stamp)):
        client.set_cookie("session", _signed(app, OLD_PUBLIC_KEY, {"user_id": user.id, "stamp": stamp}))
        assert _shows_nothing(client.get("/profile/"), "Imported Nobody", "Person Private")
        response = client.post("/profile/", data={"name": "x", "locale": "en", "password": "owned-by-an-attacker-1"})
        assert response.status_code in (302, 400)
    session.expire_all()
    assert users.get(session, user_id=imported.id).password_hash is None


def test_even_with_the_right_key_a_user_without_a_password_holds_no_session(app, session):
    imported = factories.user(session, email="imported@example.test", name="Imported Nobody", passwordless=True)
    session.commit()
    client = app.test_client()
    client.set_cookie("session", _signed(app, app.secret_key, {"user_id": imported.id,
                                                               "stamp": imported.session_stamp}))
    assert _shows_nothing(client.get("/profile/"), "Imported Nobody")


def test_a_guessed_stamp_is_refused_and_each_user_has_a_random_one(app, session, person):
    others = [factories.user(session) for _ in range(3)]
    session.commit()
    stamps = {user.session_stamp for user in [person, *others]}
    assert len(stamps) == 4 and all(len(stamp) >= 22 for stamp in stamps)
    client = app.test_client()
    client.set_cookie("session", _signed(app, app.secret_key, {"user_id": person.id, "stamp": "0" * 22}))
    assert client.get("/").status_code == 302


def test_the_check_is_the_users_own_row_and_nothing_more(app, pages, session, person):
    """A logged-in page view loads the user by primary key and reads its stamp there: no extra query."""
    from sqlalchemy import event

    _login(pages)
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert pages.get("/profile/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    user_queries = [s for s in statements if "FROM users" in s and "session_stamp" in s]
    assert len(user_queries) == 1, user_queries

"""Logging in and out, the session cookie, CSRF, and the language switch."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from crmpm.users import services as users
from crmpm.users.models import User
from tests import factories

PASSWORD = "correct-horse-battery"


@pytest.fixture
def person(session):
    user = factories.user(session, email="person@example.test", name="Person", password=PASSWORD)
    session.commit()
    return user


def _login(pages, email, password, **extra):
    return pages.post("/login", {"email": email, "password": password, **extra})


def test_pages_need_a_login(pages):
    response = pages.get("/finance/changes?status=approved")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    assert "status%3Dapproved" in response.location or "status=approved" in response.location


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(pages, person):
    response = _login(pages, "Person@Example.test", PASSWORD)
    assert response.status_code == 303 and response.location == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert pages.get("/").status_code == 200
    assert pages.post("/logout").status_code == 303
    assert pages.get("/").status_code == 302


def test_wrong_password_is_refused_with_one_message(pages, person):
    wrong = _login(pages, "person@example.test", "not-the-password")
    unknown = _login(pages, "nobody@example.test", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Wrong email or password" in response.get_data(as_text=True)
    assert pages.get("/").status_code == 302


def test_secure_cookie_is_configurable(monkeypatch):
    from crmpm.config import load_config

    monkeypatch.setenv("CRMPM_SESSION_COOKIE_SECURE", "1")
    assert load_config()["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("target, expected", [
    ("/finance/", "/finance/"),
    ("//evil.example/x", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
])
def test_login_goes_back_only_to_this_site(pages, person, target, expected):
    response = _login(pages, "person@example.test", PASSWORD, next=target)
    assert response.status_code == 303 and response.location == expected


def test_post_without_csrf_token_is_refused(pages, session, person, admin):
    assert _login(pages, "person@example.test", PASSWORD, csrf_token="").status_code == 400
    pages.log_in_as(admin)
    response = pages.post("/admin/users", {"email": "new@example.test", "name": "New", "password": "long-password",
                                           "locale": "en"}, csrf=False)
    assert response.status_code == 400
    assert "not sent from this site" in response.get_data(as_text=True)
    assert users.get_by_email(session, email="new@example.test") is None
    forged = pages.post("/admin/users", {"email": "new@example.test", "name": "New", "password": "long-password",
                                         "locale": "en", "csrf_token": "forged"})
    assert forged.status_code == 400
    ok = pages.post("/admin/users", {"email": "new@example.test", "name": "New", "password": "long-password",
                                     "locale": "en"})
    assert ok.status_code == 303
    assert users.get_by_email(session, email="new@example.test") is not None


def test_csrf_header_is_accepted_for_fetch(pages, admin, session):
    pages.log_in_as(admin)
    token = pages.csrf_token()
    response = pages.client.post("/locale", data={"locale": "ru"}, headers={"X-CSRFToken": token})
    assert response.status_code == 303
    session.expire_all()
    assert users.get(session, user_id=admin.id).locale == "ru"


def test_api_needs_no_csrf_token(app, session, admin):
    token = factories.token(session, user=admin)
    session.commit()
    response = app.test_client().post("/api/v1/teams", json={"name": "T"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201


def test_api_errors_stay_json(app):
    response = app.test_client().get("/api/v1/eps/nodes/1")
    assert response.status_code == 401 and response.json["code"] == 401


def test_deactivated_user_is_logged_out(pages, session, admin, person):
    pages.log_in_as(person)
    assert pages.get("/").status_code == 200
    users.update(session, actor=admin, user=person, is_active=False)
    session.commit()
    assert pages.get("/").status_code == 302


def test_language_switch_saves_the_users_locale(pages, session, person):
    pages.log_in_as(person)
    assert "Log out" in pages.get("/").get_data(as_text=True)
    response = pages.post("/locale", {"locale": "ru", "next": "/profile/"})
    assert response.status_code == 303 and response.location == "/profile/"
    body = pages.get("/").get_data(as_text=True)
    assert "Выйти" in body and 'lang="ru"' in body
    session.expire_all()
    assert users.get(session, user_id=person.id).locale == "ru"


def test_language_before_login_comes_from_the_switch_or_browser(pages):
    assert "Войти" in pages.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(as_text=True)
    pages.post("/locale", {"locale": "en", "next": "/login"})
    assert "Log in to crmpm" in pages.get("/login", headers={"Accept-Language": "ru"}).get_data(as_text=True)


def test_profile_changes_name_and_language(pages, session, person):
    pages.log_in_as(person)
    response = pages.post("/profile/", {"name": "Renamed Person", "locale": "ru", "password": ""})
    assert response.status_code == 303
    session.expire_all()
    saved = users.get(session, user_id=person.id)
    assert (saved.name, saved.locale) == ("Renamed Person", "ru")
    assert "Профиль сохранён" in pages.get("/profile/").get_data(as_text=True)


def test_a_nul_character_is_refused_with_a_message_not_left_to_the_database(pages, session, person):
    pages.log_in_as(person)
    response = pages.post("/profile/", {"name": "Bad\x00Name", "locale": "en", "password": ""})
    assert response.status_code == 303
    assert "NUL character" in pages.get(response.headers["Location"]).get_data(as_text=True)
    session.expire_all()
    assert users.get(session, user_id=person.id).name != "Bad\x00Name"
    search = pages.get("/crm/deals", query_string={"q": "a\x00b"})
    assert search.status_code == 422 and "NUL character" in search.get_data(as_text=True)


def test_bad_form_input_goes_back_with_the_reason_and_keeps_nothing(pages, session, admin):
    pages.log_in_as(admin)
    response = pages.post("/admin/users", {"email": "not-an-email", "name": "X", "password": "short", "locale": "en"},
                          headers={"Referer": "http://localhost/admin/users"})
    assert response.status_code == 303 and response.location == "/admin/users"
    body = pages.get("/admin/users").get_data(as_text=True)
    assert "Not a valid email address" in body
    assert users.get_by_email(session, email="not-an-email") is None


def test_money_is_formatted_per_locale(pages, session, world, admin):
    pages.log_in_as(admin)
    english = pages.get(f"/finance/nodes/{world['root'].id}").get_data(as_text=True)
    assert "RUB1,000.00" in english.replace("\u00a0", "") or "RUB 1,000.00" in english.replace("\u00a0", " ")
    admin.locale = "ru"
    session.commit()
    russian = pages.get(f"/finance/nodes/{world['root'].id}").get_data(as_text=True)
    assert re.search("1\u00a0000,00\u00a0₽", russian), "Russian money format"
    assert "Текущий бюджет" in russian


def test_unknown_pages_are_html_for_browsers_and_json_for_the_api(app):
    client = app.test_client()
    page = client.get("/no/such/page", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 404 and page.mimetype == "text/html" and "Page not found" in page.get_data(as_text=True)
    wrong_method = client.delete("/login", headers={"Accept": "text/html"})
    assert wrong_method.status_code == 405 and wrong_method.mimetype == "text/html"
    api = client.get("/api/no/such/thing", headers={"Accept": "text/html,*/*;q=0.8"})
    assert api.status_code == 404 and api.json["code"] == 404
    plain = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert plain.status_code == 404 and plain.json["code"] == 404


def test_a_password_change_ends_the_other_sessions_but_not_ones_own(app, pages, session, admin, person):
    other_device = type(pages)(app.test_client())
    assert _login(other_device, "person@example.test", PASSWORD).status_code == 303
    assert _login(pages, "person@example.test", PASSWORD).status_code == 303
    response = pages.post("/profile/", {"name": "Person", "locale": "en", "password": "a-brand-new-password",
                                        "current_password": PASSWORD})
    assert response.status_code == 303
    assert pages.get("/").status_code == 200
    assert other_device.get("/").status_code == 302
    # An administrator resetting it ends the owner's session too.
    users.update(session, actor=admin, user=users.get(session, user_id=person.id), password="reset-by-admin-1")
    session.commit()
    assert pages.get("/").status_code == 302


def test_pages_send_protective_headers(pages, admin):
    pages.log_in_as(admin)
    for response in (pages.get("/"), pages.get("/finance/nodes/999999"), pages.get("/login"),
                     pages.get("/no/such/page", headers={"Accept": "text/html"})):
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", [
    "/admin/preview?user_id=99999999999999999999",
    "/finance/changes?page=99999999999999999999",
    "/finance/nodes/99999999999",
])
def test_numbers_too_large_for_the_database_are_no_server_error(pages, admin, path):
    pages.log_in_as(admin)
    response = pages.get(path, headers={"Accept": "text/html"})
    assert response.status_code in (200, 404, 422) and "<html" in response.get_data(as_text=True)


def _failing_flush(kind):
    """A service that gets as far as a flush the database refuses, leaving the request's session unusable."""
    from crmpm.database import db
    from eps.models import SpendingPlanEntry

    def service(session, *, actor, obj, entries):
        if kind == "duplicate":
            session.add(User(email=actor.email, name="twin"))
        else:  # too many digits for the column: OverflowError on SQLite, DataError on PostgreSQL
            session.add(SpendingPlanEntry(month=date(2026, 1, 1), amount=Decimal(10) ** 17, eps_node_id=obj.id))
        db.session.flush()

    return service


@pytest.mark.parametrize("kind, status", [("duplicate", 409), ("out_of_range", 422)])
def test_a_refused_flush_shows_its_error_page_not_a_server_error(pages, session, admin, world, monkeypatch, kind,
                                                                 status):
    from eps import budgets

    monkeypatch.setattr(budgets, "set_spending_plan", _failing_flush(kind))
    pages.log_in_as(admin)
    response = pages.post(f"/finance/nodes/{world['A'].id}/plan", {"year": "2026", "m1": "10"})
    assert response.status_code == status
    assert 'class="error-page"' in response.get_data(as_text=True)


def test_ids_too_large_in_forms_are_refused(pages, session, admin):
    team = factories.team(session, members=[])
    session.commit()
    pages.log_in_as(admin)
    response = pages.post(f"/admin/teams/{team.id}/members", {"user_id": "99999999999999999999"})
    assert response.status_code in (303, 404, 422)


def test_profile_issues_a_token_once_that_the_api_accepts_and_revokes_it(app, pages, session, person):
    from sqlalchemy import select

    from crmpm.users.models import ApiToken

    pages.log_in_as(person)
    created = pages.post("/profile/tokens", {"name": "nightly export"})
    assert created.status_code == 201
    secret = re.search(r'<code class="secret">([^<]+)</code>', created.get_data(as_text=True)).group(1)
    api = app.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json["email"] == person.email
    # The token is shown once: the profile lists it by name and prefix, never in full.
    listed = pages.get("/profile/").get_data(as_text=True)
    assert "nightly export" in listed and secret[:12] in listed and secret not in listed
    record = session.scalar(select(ApiToken).where(ApiToken.user_id == person.id))
    assert pages.post(f"/profile/tokens/{record.id}/revoke").status_code == 303
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_token_needs_a_name_and_nobody_revokes_anothers(pages, session, person, admin):
    from sqlalchemy import func, select

    from crmpm.users.models import ApiToken

    pages.log_in_as(person)
    refused = pages.post("/profile/tokens", {"name": ""}, headers={"Referer": "http://localhost/profile/"})
    assert refused.status_code == 303
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 0
    theirs = factories.token(session, user=admin)
    session.commit()
    record = session.scalar(select(ApiToken).where(ApiToken.user_id == admin.id))
    assert pages.post(f"/profile/tokens/{record.id}/revoke").status_code == 404
    session.refresh(record)
    assert record.revoked_at is None and theirs

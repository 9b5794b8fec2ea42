"""Served over HTTPS (CRMPM_HTTPS=1): the session cookie is Secure and every response sends HSTS."""

from __future__ import annotations

import pytest

from crmpm import create_app
from crmpm.config import load_config
from tests import factories
from tests.web.conftest import Pages

PASSWORD = "correct-horse-battery"


@pytest.fixture
def make_app(database_url, connection):
    def make(**config):
        return create_app({"DATABASE_URL": database_url, "DATABASE_BIND": connection, "TESTING": True, **config})

    return make


@pytest.fixture
def person(session):
    user = factories.user(session, email="person@example.test", password=PASSWORD)
    session.commit()
    return user


def _login(client, **kwargs):
    pages = Pages(client)
    return pages.post("/login", {"email": "person@example.test", "password": PASSWORD}, **kwargs)


def test_https_makes_the_cookie_secure_and_sends_hsts(make_app, person, session):
    app = make_app(HTTPS=True, SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    # A browser on https://localhost (CSRF checks the Referer over HTTPS).
    client.environ_base.update({"wsgi.url_scheme": "https", "HTTP_REFERER": "https://localhost/login"})
    response = _login(client)
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]
    assert client.get("/").status_code == 200
    token = factories.token(session, user=person)
    session.commit()
    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    for answer in (response, client.get("/login"), api):
        assert answer.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_without_https_neither(app, person):
    response = _login(app.test_client())
    assert response.status_code == 303
    assert "Secure" not in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in response.headers


def test_the_setting_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CRMPM_HTTPS", "1")
    monkeypatch.setenv("CRMPM_HSTS_MAX_AGE", "600")
    config = load_config()
    assert config["HTTPS"] is True and config["SESSION_COOKIE_SECURE"] is True and config["HSTS_MAX_AGE"] == 600
    monkeypatch.setenv("CRMPM_HTTPS", "0")
    assert load_config()["SESSION_COOKIE_SECURE"] is False


def test_behind_a_proxy_the_forwarded_address_is_limited(make_app, person):
    """CRMPM_PROXIES=1: the address the proxy forwards is the one counted, not the proxy's own."""
    app = make_app(PROXIES=1, RATELIMITS={"login-address": "2 per minute"})
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.1"  # the proxy

    def attempt(forwarded, password="wrong-guess-1"):
        return Pages(client).post("/login", {"email": f"nobody-{forwarded}@example.test", "password": password},
                                  headers={"X-Forwarded-For": forwarded})

    assert attempt("192.0.2.1").status_code == 401
    assert attempt("192.0.2.1").status_code == 401
    assert attempt("192.0.2.1").status_code == 429
    assert attempt("192.0.2.2").status_code == 401

"""Guessing passwords on the pages: past the limits the login answers 429 with Retry-After and a clear message.

The default limits are on (the suite resets the counts before each test); the storage is the app's memory, and
for the login also a real Redis (127.0.0.1:6379, a key prefix per test, removed after it).
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from crmpm import create_app
from crmpm.ratelimit import DEFAULT_LIMITS
from crmpm.users.models import ApiToken
from tests import factories
from tests.redis_support import REDIS_URL, redis_or_skip
from tests.web.conftest import Pages

PASSWORD = "correct-horse-battery"
ACCOUNT_PER_MINUTE = int(DEFAULT_LIMITS["login-account"].split()[0])
ADDRESS_PER_MINUTE = int(DEFAULT_LIMITS["login-address"].split()[0])


@pytest.fixture
def people(session):
    made = {name: factories.user(session, email=f"{name}@example.test", name=name.title(), password=PASSWORD)
            for name in ("anna", "boris")}
    session.commit()
    return made


@pytest.fixture(params=["memory", "redis"])
def login_app(request, app, database_url, connection):
    """The suite's app (limits counted in memory), or the same on a Redis storage."""
    if request.param == "memory":
        yield app
        return
    redis_or_skip()
    prefix = f"crmpm-test-{uuid.uuid4().hex}"
    redis_app = create_app({"DATABASE_URL": database_url, "DATABASE_BIND": connection, "TESTING": True,
                            "RATELIMIT_STORAGE_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix})
    yield redis_app
    redis_app.extensions["crmpm.throttle"].reset()
    redis_app.extensions["crmpm.database"].engine.dispose()


def _browser(app, address="192.0.2.10", **headers) -> Pages:
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address, **{f"HTTP_{k.upper().replace('-', '_')}": v
                                                           for k, v in headers.items()}})
    return Pages(client)


def _login(pages, email, password):
    return pages.post("/login", {"email": email, "password": password})


def _assert_refused(response, *, within: int):
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 0 < wait <= within
    return response.get_data(as_text=True)


def test_guessing_one_accounts_password_is_stopped_with_429_and_retry_after(login_app, people):
    guesser = _browser(login_app)
    for n in range(ACCOUNT_PER_MINUTE):
        assert _login(guesser, "anna@example.test", f"guess-number-{n}").status_code == 401
    body = _assert_refused(_login(guesser, "anna@example.test", "guess-number-x"), within=60)
    assert "Too many attempts. Try again in" in body
    # Locked: even the right password waits, from any address.
    _assert_refused(_login(guesser, "Anna@Example.test", PASSWORD), within=60)
    _assert_refused(_login(_browser(login_app, "198.51.100.7"), "anna@example.test", PASSWORD), within=60)
    # Another account's right password from the same address goes through.
    assert _login(guesser, "boris@example.test", PASSWORD).status_code == 303


def test_guessing_many_accounts_from_one_address_is_stopped(app, people):
    sprayer = _browser(app, "203.0.113.5")
    for n in range(ADDRESS_PER_MINUTE):
        assert _login(sprayer, f"someone{n}@example.test", "Summer2026!").status_code == 401
    _assert_refused(_login(sprayer, "boris@example.test", PASSWORD), within=60)
    assert _login(_browser(app, "203.0.113.6"), "boris@example.test", PASSWORD).status_code == 303


def test_successful_logins_are_not_counted(app, people):
    browser = _browser(app)
    for _ in range(ACCOUNT_PER_MINUTE + 2):
        assert _login(browser, "anna@example.test", PASSWORD).status_code == 303
    assert _login(browser, "anna@example.test", "one-typo").status_code == 401


def test_the_message_is_in_the_users_language(app, people):
    guesser = _browser(app, **{"Accept-Language": "ru"})
    for n in range(ACCOUNT_PER_MINUTE):
        _login(guesser, "anna@example.test", f"guess-number-{n}")
    body = _assert_refused(_login(guesser, "anna@example.test", "guess"), within=60)
    assert "Слишком много попыток. Повторите через" in body


def test_the_redis_storage_holds_the_counts(app, database_url, connection, people):
    client = redis_or_skip()
    prefix = f"crmpm-test-{uuid.uuid4().hex}"
    redis_app = create_app({"DATABASE_URL": database_url, "DATABASE_BIND": connection, "TESTING": True,
                            "RATELIMIT_STORAGE_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix})
    try:
        for n in range(ACCOUNT_PER_MINUTE):
            _login(_browser(redis_app), "anna@example.test", f"guess-number-{n}")
        assert list(client.scan_iter(match=f"{prefix}:*"))
        # A second app on the same Redis (another worker) sees the same counts.
        twin = create_app({"DATABASE_URL": database_url, "DATABASE_BIND": connection, "TESTING": True,
                           "RATELIMIT_STORAGE_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix})
        _assert_refused(_login(_browser(twin), "anna@example.test", PASSWORD), within=60)
        # The suite's own app counts in its memory, apart.
        assert _login(_browser(app), "anna@example.test", PASSWORD).status_code == 303
    finally:
        redis_app.extensions["crmpm.throttle"].reset()
    assert not list(client.scan_iter(match=f"{prefix}:*"))


def test_wrong_current_passwords_on_the_profile_are_limited(app, session, people):
    anna = _browser(app)
    _login(anna, "anna@example.test", PASSWORD)
    limit = int(DEFAULT_LIMITS["password"].split()[0])
    for n in range(limit):
        response = anna.post("/profile/", {"name": "Anna", "locale": "en", "password": "violet tractor eleven",
                                           "current_password": f"guess-{n}"},
                             headers={"Referer": "http://localhost/profile/"})
        assert response.status_code == 303
    refused = anna.post("/profile/", {"name": "Anna", "locale": "en", "password": "violet tractor eleven",
                                      "current_password": PASSWORD})
    assert "Too many attempts" in _assert_refused(refused, within=60)
    assert anna.get("/").status_code == 200  # refused, not logged out
    assert _login(_browser(app, "198.51.100.9"), "anna@example.test", PASSWORD).status_code == 303


def test_profile_token_creation_is_limited(app, session, people):
    anna = _browser(app)
    _login(anna, "anna@example.test", PASSWORD)
    limit = int(DEFAULT_LIMITS["token"].split()[0])
    for n in range(limit):
        assert anna.post("/profile/tokens", {"name": f"script {n}"}).status_code == 201
    _assert_refused(anna.post("/profile/tokens", {"name": "one more"}), within=3600)
    count = session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == people["anna"].id))
    assert count == limit

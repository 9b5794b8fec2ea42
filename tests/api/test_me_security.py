"""The API's side of account security: current_password to change one's own password, strength, and limits."""

from __future__ import annotations

from crmpm.ratelimit import DEFAULT_LIMITS
from crmpm.users import services as users
from tests import factories

PASSWORD = "correct-horse-battery"


def _person(session, api):
    person = factories.user(session, password=PASSWORD)
    session.commit()
    api.token_for(person)
    return person


def test_changing_ones_own_password_needs_current_password(api, session):
    person = _person(session, api)
    missing = api.patch(f"/api/v1/users/{person.id}", user=person, json={"password": "violet tractor eleven"})
    assert missing.status_code == 422 and "current_password" in missing.json["errors"]
    wrong = api.patch(f"/api/v1/users/{person.id}", user=person,
                      json={"password": "violet tractor eleven", "current_password": "not-it-at-all"})
    assert wrong.status_code == 422 and "current_password" in wrong.json["errors"]
    session.expire_all()
    assert users.authenticate(session, email=person.email, password=PASSWORD) is not None
    ok = api.patch(f"/api/v1/users/{person.id}", user=person,
                   json={"password": "violet tractor eleven", "current_password": PASSWORD})
    assert ok.status_code == 200 and "current_password" not in ok.json and "password" not in ok.json
    session.expire_all()
    assert users.authenticate(session, email=person.email, password="violet tractor eleven") is not None


def test_weak_passwords_are_refused_naming_the_field(api, session, admin):
    person = _person(session, api)
    for password in ("aaaaaaaa", "password1", "qwertyuiop"):
        own = api.patch(f"/api/v1/users/{person.id}", user=person,
                        json={"password": password, "current_password": PASSWORD})
        assert own.status_code == 422 and "password" in own.json["errors"], own.json
        created = api.post("/api/v1/users", user=admin, json={"email": "new@example.test", "name": "New",
                                                               "password": password})
        assert created.status_code == 422 and "password" in created.json["errors"]


def test_an_admin_resets_another_users_password_without_it(api, session, admin):
    person = _person(session, api)
    response = api.patch(f"/api/v1/users/{person.id}", user=admin, json={"password": "reset-by-admin-1"})
    assert response.status_code == 200
    session.expire_all()
    assert users.authenticate(session, email=person.email, password="reset-by-admin-1") is not None


def test_wrong_current_passwords_are_limited(api, session):
    person = _person(session, api)
    limit = int(DEFAULT_LIMITS["password"].split()[0])
    for n in range(limit):
        response = api.patch(f"/api/v1/users/{person.id}", user=person,
                             json={"password": "violet tractor eleven", "current_password": f"guess-{n}"})
        assert response.status_code == 422
    refused = api.patch(f"/api/v1/users/{person.id}", user=person,
                        json={"password": "violet tractor eleven", "current_password": PASSWORD})
    assert refused.status_code == 429 and refused.json["code"] == 429
    assert "too many attempts" in refused.json["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # Other changes go on.
    assert api.patch(f"/api/v1/users/{person.id}", user=person, json={"name": "Renamed"}).status_code == 200


def test_token_creation_is_limited_with_429_and_retry_after(api, session):
    person = _person(session, api)
    limit = int(DEFAULT_LIMITS["token"].split()[0])
    for n in range(limit):
        assert api.post("/api/v1/me/tokens", user=person, json={"name": f"job {n}"}).status_code == 201
    refused = api.post("/api/v1/me/tokens", user=person, json={"name": "one more"})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert refused.json["message"].startswith("too many attempts; try again in")

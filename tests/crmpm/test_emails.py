"""One e-mail rule for every address crmpm keeps: users (service, API, pages) and the CRM alike."""

from __future__ import annotations

import pytest

from accounts.normalize import InvalidValue, normalize_email as crm_email
from crmpm import emails
from crmpm.errors import Invalid
from crmpm.users import services as users
from tests import factories

REFUSED = ["not-an-email", "a..b@c.com", "a@c.123", "x@host.onion", "two@@signs.ru", "@no-local.ru"]
KEPT = {"  Ivan.Petrov@Mail.RU ": "ivan.petrov@mail.ru", "am@crmpm.local": "am@crmpm.local",
        "ivan@пример.рф": "ivan@пример.рф"}


@pytest.mark.parametrize("text", REFUSED)
def test_every_door_refuses_what_the_rule_refuses(text):
    with pytest.raises(emails.InvalidEmail):
        emails.normalize_email(text)
    with pytest.raises(InvalidValue):
        crm_email(text)


@pytest.mark.parametrize("text, spelled", KEPT.items())
def test_every_door_spells_an_address_one_way(text, spelled):
    assert emails.normalize_email(text) == crm_email(text) == emails.email_key(text) == spelled


def test_a_user_with_an_address_the_rule_refuses_is_not_created(session):
    for text in REFUSED:
        with pytest.raises(Invalid) as refused:
            users.create(session, actor=None, email=text, name="X", password=None)
        assert refused.value.errors == {"email": ["not a valid email address"]}
    assert users.get_by_email(session, email="not-an-email") is None


def test_a_user_is_stored_and_found_by_the_one_spelling(session):
    user = users.create(session, actor=None, email="  Olga.S@Example.COM ", name="Olga", password=None)
    assert user.email == "olga.s@example.com"
    assert users.get_by_email(session, email="OLGA.S@example.com ") == user


def test_the_api_refuses_an_address_the_rule_refuses_and_stores_the_one_spelling(app, session):
    admin = factories.admin(session)
    session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {factories.token(session, user=admin)}"}
    session.commit()
    refused = client.post("/api/v1/users", json={"email": "a..b@c.com", "name": "X", "password": "x" * 20},
                          headers=headers)
    assert refused.status_code == 422 and "email" in refused.get_json()["errors"]
    made = client.post("/api/v1/users", json={"email": "New.Person@Crmpm.LOCAL", "name": "New person",
                                              "password": "Correct-Horse-Battery-9"}, headers=headers)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["email"] == "new.person@crmpm.local"

"""Users changed through the API by the same rules as the settings pages: e-mail by administrators, unique;
nobody deactivates themselves."""

from __future__ import annotations

from crmpm.users.models import User
from tests import factories


def test_an_admin_changes_an_email_and_it_must_stay_unique(api, session, admin):
    person = factories.user(session, email="before@example.test")
    session.commit()
    api.token_for(person)
    changed = api.patch(f"/api/v1/users/{person.id}", user=admin, json={"email": "After@Example.test"})
    assert changed.status_code == 200 and changed.json["email"] == "after@example.test"
    taken = api.patch(f"/api/v1/users/{person.id}", user=admin, json={"email": admin.email})
    assert taken.status_code == 409 and "email" in taken.json["errors"]
    own = api.patch(f"/api/v1/users/{person.id}", user=person, json={"email": "mine@example.test"})
    assert own.status_code == 403
    session.expire_all()
    assert session.get(User, person.id).email == "after@example.test"


def test_nobody_deactivates_themselves(api, session, admin):
    response = api.patch(f"/api/v1/users/{admin.id}", user=admin, json={"is_active": False})
    assert response.status_code == 409 and "is_active" in response.json["errors"]
    session.expire_all()
    assert session.get(User, admin.id).is_active

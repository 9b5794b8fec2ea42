"""The client portal from the staff API: invitations (201, a one-time link, e-mailed) and sharing projects."""

from __future__ import annotations

import re

import pytest

from accounts.portal.models import PortalUser
from crmpm.errors import Forbidden
from crmpm.users.models import User
from eps.models import Role
from tests import factories
from tests.committed import committed  # noqa: F401 - fixture

PASSWORD = "a long client password"


@pytest.fixture
def crm(session, admin):
    branch = factories.node(session, actor=admin, code="NW")
    other = factories.node(session, actor=admin, code="SE")
    account = factories.account(session, actor=admin, region=branch, name="Alpha Shipyard")
    contact = factories.contact(session, actor=admin, account=account, first_name="Alice", last_name="Ivanova",
                                email="Alice@Alpha.test")
    deal = factories.deal(session, actor=admin, account=account, pipeline=factories.pipeline(session))
    editor, viewer, outsider = factories.user(session), factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=branch, user=editor)
    factories.grant(session, actor=admin, role=Role.viewer, target=branch, user=viewer)
    factories.grant(session, actor=admin, role=Role.editor, target=other, user=outsider)
    session.commit()
    return {"account": account, "contact": contact, "deal": deal, "editor": editor, "viewer": viewer,
            "outsider": outsider}


def _csrf(client, path) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def test_an_invite_answers_201_with_a_one_time_link_that_sets_the_password_once(app, api, crm, session):
    contact = crm["contact"]
    answer = api.post(f"/api/v1/contacts/{contact.id}/portal-invite", user=crm["editor"], json={})
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert body["role"] == "client" and body["contact_id"] == contact.id and body["account_id"] == crm["account"].id
    assert body["link"].startswith("http://localhost/portal/welcome/") and body["expires_at"]
    user = session.get(User, body["user_id"])
    assert user.is_client and user.email == "alice@alpha.test" and user.password_hash is None
    assert user.name == contact.name and user.locale == "en"  # the inviter's language
    assert session.get(PortalUser, user.id).account_id == crm["account"].id
    path = body["link"].removeprefix("http://localhost")
    browser = app.test_client()
    assert browser.get(path).status_code == 200
    done = browser.post(path, data={"csrf_token": _csrf(browser, path), "password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 303 and done.headers["Location"].endswith("/portal/")
    assert browser.get("/portal/").status_code == 200  # logged in
    assert app.test_client().get(path).status_code == 410  # used up
    session.expire_all()
    assert session.get(PortalUser, user.id).activated_at is not None


def test_a_re_invite_reuses_the_client_user_and_only_the_newest_link_works(app, api, crm):
    contact = crm["contact"]
    first = api.post(f"/api/v1/contacts/{contact.id}/portal-invite", user=crm["editor"], json={}).json
    second = api.post(f"/api/v1/contacts/{contact.id}/portal-invite", user=crm["editor"],
                      json={"locale": "ru"}).json
    assert first["user_id"] == second["user_id"]
    browser = app.test_client()
    assert browser.get(first["link"].removeprefix("http://localhost")).status_code == 410
    assert browser.get(second["link"].removeprefix("http://localhost")).status_code == 200


def test_invite_rights_unreadable_404_read_only_403(api, crm):
    path = f"/api/v1/contacts/{crm['contact'].id}/portal-invite"
    assert api.post(path, user=crm["outsider"], json={}).status_code == 404
    assert api.post(path, user=crm["viewer"], json={}).status_code == 403
    assert api.post("/api/v1/contacts/999999/portal-invite", user=crm["editor"], json={}).status_code == 404
    assert api.post(path, json={}).status_code == 401


def test_a_staff_users_email_cannot_be_invited_and_a_contact_needs_an_email(api, crm, session, admin):
    contact = crm["contact"]
    factories.user(session, email="alice@alpha.test")
    session.commit()
    answer = api.post(f"/api/v1/contacts/{contact.id}/portal-invite", user=crm["editor"], json={})
    assert answer.status_code == 409 and "email" in answer.json["errors"]
    bare = factories.contact(session, actor=admin, account=crm["account"], last_name="No Mail")
    session.commit()
    answer = api.post(f"/api/v1/contacts/{bare.id}/portal-invite", user=crm["editor"], json={})
    assert answer.status_code == 422 and "email" in answer.json["errors"]
    answer = api.post(f"/api/v1/contacts/{contact.id}/portal-invite", user=crm["editor"], json={"locale": "de"})
    assert answer.status_code == 422 and "locale" in answer.json["errors"]


def test_revoking_access_ends_the_clients_session_and_refuses_their_login(app, api, crm, session):
    contact = crm["contact"]
    link = api.post(f"/api/v1/contacts/{contact.id}/portal-invite", user=crm["editor"], json={}).json["link"]
    path = link.removeprefix("http://localhost")
    browser = app.test_client()
    browser.post(path, data={"csrf_token": _csrf(browser, path), "password": PASSWORD, "confirm": PASSWORD})
    assert browser.get("/portal/").status_code == 200
    assert api.delete(f"/api/v1/contacts/{contact.id}/portal-invite", user=crm["viewer"]).status_code == 403
    assert api.delete(f"/api/v1/contacts/{contact.id}/portal-invite", user=crm["editor"]).status_code == 204
    assert browser.get("/portal/").status_code == 302


def test_invites_are_rate_limited_per_user(app, api, crm):
    app.extensions["crmpm.throttle"].reset()
    path = f"/api/v1/contacts/{crm['contact'].id}/portal-invite"
    answers = [api.post(path, user=crm["editor"], json={}).status_code for _ in range(31)]
    assert answers[:30] == [201] * 30 and answers[30] == 429
    app.extensions["crmpm.throttle"].reset()


def test_sharing_a_project_needs_edit_rights_and_shows_in_its_get(api, crm):
    project_id = crm["deal"].project_id
    path = f"/api/v1/projects/{project_id}/portal"
    assert api.get(path, user=crm["viewer"]).json["shared"] is False
    assert api.put(path, user=crm["viewer"], json={"shared": True}).status_code == 403
    assert api.put(path, user=crm["outsider"], json={"shared": True}).status_code == 404
    assert api.put(path, user=crm["editor"], json={"shared": "maybe"}).status_code == 422
    answer = api.put(path, user=crm["editor"], json={"shared": True})
    assert answer.status_code == 200 and answer.json["shared"] is True
    assert answer.json["shared_by_id"] == crm["editor"].id
    assert api.get(path, user=crm["viewer"]).json["shared"] is True
    assert api.put(path, user=crm["editor"], json={"shared": False}).json["shared"] is False


def test_the_invitation_arrives_at_the_smtp_server_with_the_link(committed, smtp_server):
    app, session, api = committed.app, committed.session, committed.api
    app.config["SMTP_URL"] = smtp_server.url
    admin = factories.admin(session)
    branch = factories.node(session, actor=admin, code="NW")
    account = factories.account(session, actor=admin, region=branch, name="Alpha Shipyard")
    contact = factories.contact(session, actor=admin, account=account, first_name="Alice", last_name="Ivanova",
                                email="alice@alpha.test")
    session.commit()
    answer = api.post(f"/api/v1/contacts/{contact.id}/portal-invite", user=admin, json={"locale": "ru"})
    assert answer.status_code == 201
    committed.run_jobs()
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["alice@alpha.test"]
    assert received.message["Subject"] == "Приглашение на портал клиента Alpha Shipyard"
    assert answer.json["link"] in received.message.get_body().get_content()


def test_a_client_user_is_never_offered_as_owner_assignee_grantee_or_team_member(app, api, crm, session, admin):
    from accounts import activities
    from crmpm.users import services as users
    from web.queries import people_picker

    invited = api.post(f"/api/v1/contacts/{crm['contact'].id}/portal-invite", user=crm["editor"], json={}).json
    client = session.get(User, invited["user_id"])
    listed = api.get("/api/v1/users?per_page=100", user=admin).json["items"]
    assert client.id not in [item["id"] for item in listed]
    assert client not in people_picker(session, limit=100)[0]
    assert client not in activities.assignable_users(session, account=crm["account"])
    assert client in session.scalars(users.list_(session, clients=True)).all()
    answer = api.patch(f"/api/v1/accounts/{crm['account'].id}", user=admin, json={"owner_id": client.id})
    assert answer.status_code == 422 and "owner_id" in answer.json["errors"]
    answer = api.post("/api/v1/grants", user=admin, json={"user_id": client.id, "node_id": crm["account"].eps_node_id,
                                                          "role": "viewer"})
    assert answer.status_code == 422 and "user_id" in answer.json["errors"]
    answer = api.post("/api/v1/teams", user=admin, json={"name": "With a client", "member_ids": [client.id]})
    assert answer.status_code == 422
    with pytest.raises(Forbidden):
        users.create_token(session, actor=admin, user=client)

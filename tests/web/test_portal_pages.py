"""The client portal's pages: a client sees exactly the shared projects and documents of their own account."""

from __future__ import annotations

import re

import pytest

from tests import portal_world
from tests.portal_world import PORTAL_PASSWORD, log_in_client


@pytest.fixture
def portal(app, session, admin):
    return portal_world.build(session, admin, app)


def _csrf(client) -> str:
    page = client.get("/portal/login", follow_redirects=True).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def test_a_client_sees_only_the_shared_projects_of_their_own_account(app, portal):
    client = app.test_client()
    log_in_client(client, portal["alice_user"])
    page = client.get("/portal/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Dock crane refit" in text and "Design approved" in text  # the next milestone
    assert "Alpha secret tender" not in text and "Beta furnace line" not in text
    assert "shared.txt" in text and "account.txt" in text
    assert "staff_only.txt" not in text and "hidden_project.txt" not in text and "other.txt" not in text


def test_the_project_page_shows_milestones_percent_gantt_documents_and_the_deal(app, portal):
    client = app.test_client()
    log_in_client(client, portal["alice_user"])
    page = client.get(f"/portal/projects/{portal['shared'].project_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Design approved" in text and "<svg" in text and "Design stage" in text
    # 80 h at 50 % and a milestone of 0 h at 0 %: 50 % weighted by duration.
    assert "50\u00a0%" in text
    assert portal["shared"].stage_name in text
    assert "shared.txt" in text and "staff_only.txt" not in text
    assert 'href="/projects' not in text and 'href="/crm' not in text  # no staff links


def test_every_id_of_another_clients_or_an_unshared_project_or_document_is_not_found(app, portal):
    client = app.test_client()
    log_in_client(client, portal["alice_user"])
    for project in (portal["hidden"], portal["other"]):
        assert client.get(f"/portal/projects/{project.project_id}").status_code == 404
    assert client.get("/portal/projects/999999").status_code == 404
    docs = portal["docs"]
    for key in ("staff_only", "hidden_project", "other"):
        assert client.get(f"/portal/documents/{docs[key].id}/download").status_code == 404, key
    for key in ("shared", "account"):
        answer = client.get(f"/portal/documents/{docs[key].id}/download")
        assert answer.status_code == 200 and answer.data == f"{key} contents".encode()
        assert answer.headers["Content-Disposition"].startswith("attachment")
    other = app.test_client()
    log_in_client(other, portal["bob_user"])
    text = other.get("/portal/").get_data(as_text=True)
    assert "Beta furnace line" in text and "Dock crane refit" not in text
    assert other.get(f"/portal/projects/{portal['shared'].project_id}").status_code == 404
    assert other.get(f"/portal/documents/{docs['shared'].id}/download").status_code == 404


def test_the_portal_needs_a_client_session_and_a_staff_cookie_never_opens_it(app, portal, admin, pages):
    anonymous = app.test_client()
    answer = anonymous.get("/portal/")
    assert answer.status_code == 302 and "/portal/login" in answer.headers["Location"]
    pages.log_in_as(admin)
    assert pages.get("/portal/").status_code == 302
    assert pages.get(f"/portal/projects/{portal['shared'].project_id}").status_code == 302


def test_a_clients_portal_cookie_never_opens_a_staff_page(app, portal):
    client = app.test_client()
    log_in_client(client, portal["alice_user"])
    for path in ("/", "/crm/accounts", "/projects/", "/profile/"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path
    # Nor does the staff session keys holding a client's id and stamp.
    with client.session_transaction() as cookie:
        cookie["user_id"] = portal["alice_user"].id
        cookie["stamp"] = portal["alice_user"].session_stamp
    assert client.get("/profile/").status_code == 302


def test_login_with_the_password_then_logout(app, portal):
    client = app.test_client()
    token = _csrf(client)
    wrong = client.post("/portal/login", data={"csrf_token": token, "email": "alice@alpha.test", "password": "nope"})
    assert wrong.status_code == 401
    answer = client.post("/portal/login", data={"csrf_token": token, "email": "alice@alpha.test",
                                                "password": PORTAL_PASSWORD})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/portal/")
    assert "Dock crane refit" in client.get("/portal/").get_data(as_text=True)
    no_csrf = client.post("/portal/logout", data={})
    assert no_csrf.status_code == 400
    out = client.post("/portal/logout", data={"csrf_token": _csrf(client)})
    assert out.status_code == 303
    assert client.get("/portal/").status_code == 302


def test_a_staff_user_cannot_log_in_at_the_portal_nor_a_client_at_the_staff_login(app, portal, session):
    from tests import factories
    factories.user(session, email="staff@firm.test", password="a staff password 1")
    session.commit()
    client = app.test_client()
    token = _csrf(client)
    assert client.post("/portal/login", data={"csrf_token": token, "email": "staff@firm.test",
                                              "password": "a staff password 1"}).status_code == 401
    assert client.post("/login", data={"csrf_token": token, "email": "alice@alpha.test",
                                       "password": PORTAL_PASSWORD}).status_code == 401


def test_the_portal_speaks_the_clients_language_and_switches_it(app, portal, session):
    client = app.test_client()
    alice = portal["alice_user"]
    alice.locale = "ru"
    session.commit()
    log_in_client(client, alice)
    assert "Ваши проекты" in client.get("/portal/").get_data(as_text=True)
    page = client.get("/portal/").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/portal/locale", data={"csrf_token": token, "locale": "en", "next": "/portal/"})
    assert "Your projects" in client.get("/portal/").get_data(as_text=True)


def test_staff_share_a_project_show_a_document_and_invite_a_contact_from_their_pages(app, portal, admin, pages,
                                                                                      session):
    from accounts.portal.sharing import is_shared
    from tests import factories
    from eps.models import Role

    hidden, docs = portal["hidden"], portal["docs"]
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=portal["branch"], user=viewer)
    session.commit()
    pages.log_in_as(viewer)
    deal_page = pages.get(f"/crm/deals/{hidden.id}").get_data(as_text=True)
    assert 'data-portal-shared="0"' in deal_page and "/client-portal/projects/" not in deal_page
    assert pages.post(f"/client-portal/projects/{hidden.project_id}", {"shared": "1"}).status_code == 403
    pages.log_in_as(admin)
    project_page = pages.get(f"/projects/{hidden.project_id}").get_data(as_text=True)
    assert f"/client-portal/projects/{hidden.project_id}" in project_page
    assert pages.post(f"/client-portal/projects/{hidden.project_id}", {"shared": "1"}).status_code == 303
    session.expire_all()
    assert is_shared(session, hidden.project)
    assert pages.post(f"/documents/{docs['staff_only'].id}", {
        "name": "staff_only.txt", "kind": "other", "tags": "", "client_visible_shown": "1",
        "client_visible": "1"}).status_code == 303
    session.expire_all()
    assert docs["staff_only"].client_visible is True
    client = app.test_client()
    log_in_client(client, portal["alice_user"])
    text = client.get("/portal/").get_data(as_text=True)
    assert "Alpha secret tender" in text and "staff_only.txt" in text
    contact = factories.contact(session, actor=admin, account=portal["alpha"], last_name="Sidorov",
                                email="sidorov@alpha.test")
    session.commit()
    answer = pages.post(f"/client-portal/contacts/{contact.id}/invite", {})
    assert answer.status_code == 303
    page = pages.get(f"/crm/contacts/{contact.id}").get_data(as_text=True)
    assert "/portal/welcome/" in page and "Invited, not yet logged in" in page

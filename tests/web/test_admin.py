"""Administration pages: users, teams, grants, the access preview."""

from __future__ import annotations

from sqlalchemy import func, select

from crmpm.users import services as users
from crmpm.users.models import Team
from eps.models import Grant, Role
from tests import factories


def test_admin_deactivates_and_activates_a_user_but_not_themselves(pages, session, admin):
    person = factories.user(session)
    session.commit()
    pages.log_in_as(admin)
    assert pages.post(f"/admin/users/{person.id}/deactivate").status_code == 303
    session.expire_all()
    assert users.get(session, user_id=person.id).is_active is False
    assert pages.post(f"/admin/users/{person.id}/activate").status_code == 303
    session.expire_all()
    assert users.get(session, user_id=person.id).is_active is True
    assert pages.post(f"/admin/users/{admin.id}/deactivate").status_code == 303
    session.expire_all()
    assert users.get(session, user_id=admin.id).is_active is True


def test_teams_members_and_deletion(pages, session, admin):
    one, two = factories.user(session), factories.user(session)
    session.commit()
    pages.log_in_as(admin)
    response = pages.post("/admin/teams", {"name": "Auditors"})
    team = session.scalar(select(Team).where(Team.name == "Auditors"))
    assert response.status_code == 303 and response.location == f"/admin/teams/{team.id}"
    for person in (one, two):
        assert pages.post(f"/admin/teams/{team.id}/members", {"user_id": str(person.id)}).status_code == 303
    page = pages.get(f"/admin/teams/{team.id}").get_data(as_text=True)
    assert one.email in page and two.email in page
    assert pages.post(f"/admin/teams/{team.id}/members/{one.id}/remove").status_code == 303
    session.expire_all()
    assert [member.id for member in session.get(Team, team.id).members] == [two.id]
    team_id = team.id
    assert pages.post(f"/admin/teams/{team_id}/delete").status_code == 303
    session.expire_all()
    assert session.get(Team, team_id) is None


def test_duplicate_team_goes_back_with_the_reason(pages, session, admin):
    factories.team(session, members=[], name="Sales")
    session.commit()
    pages.log_in_as(admin)
    response = pages.post("/admin/teams", {"name": "Sales"}, headers={"Referer": "http://localhost/admin/teams"})
    assert response.status_code == 303 and response.location == "/admin/teams"
    assert "already exists" in pages.get("/admin/teams").get_data(as_text=True)


def test_a_manager_grants_and_revokes_below_their_node_only(pages, session, admin, world, user_with):
    manager = user_with(Role.manager)
    other = factories.user(session)
    team = factories.team(session, members=[other])
    session.commit()
    pages.log_in_as(manager)
    assert pages.post(f"/admin/nodes/{world['A1'].id}/access", {"principal": f"t{team.id}", "role": "editor"}
                      ).status_code == 303
    grant = session.scalar(select(Grant).where(Grant.team_id == team.id))
    assert (grant.eps_node_id, grant.role) == (world["A1"].id, Role.editor)
    page = pages.get(f"/admin/nodes/{world['A1'].id}/access").get_data(as_text=True)
    assert f"/admin/grants/{grant.id}/remove" in page
    grant_id = grant.id
    assert pages.post(f"/admin/grants/{grant_id}/remove").status_code == 303
    session.expire_all()
    assert session.get(Grant, grant_id) is None
    # Grants on B are not theirs to see or take away.
    elsewhere = factories.grant(session, actor=admin, role=Role.viewer, target=world["B"], user=other)
    session.commit()
    assert pages.post(f"/admin/grants/{elsewhere.id}/remove").status_code == 404
    session.expire_all()
    assert session.get(Grant, elsewhere.id) is not None


def test_an_editor_cannot_revoke(pages, session, admin, world, user_with):
    editor = user_with(Role.editor)
    other = factories.user(session)
    grant = factories.grant(session, actor=admin, role=Role.viewer, target=world["A1"], user=other)
    session.commit()
    # An editor reads the node but does not see other people's grants on it, nor may they remove them.
    assert pages.log_in_as(editor).post(f"/admin/grants/{grant.id}/remove").status_code == 404
    own = session.scalar(select(Grant).where(Grant.user_id == editor.id))
    assert pages.post(f"/admin/grants/{own.id}/remove").status_code == 403
    session.expire_all()
    assert session.get(Grant, grant.id) is not None and session.get(Grant, own.id) is not None


def test_preview_shows_what_the_user_sees(pages, session, admin, world, user_with):
    viewer = user_with(Role.viewer)
    pages.log_in_as(admin)
    nodes = pages.get(f"/admin/preview?user_id={viewer.id}").get_data(as_text=True)
    assert ">A<" in nodes and ">A1<" in nodes and ">ROOT<" not in nodes and ">B<" not in nodes
    projects = pages.get(f"/admin/preview?user_id={viewer.id}&what=projects").get_data(as_text=True)
    assert ">PA<" in projects and ">PB<" not in projects
    nobody = factories.user(session)
    session.commit()
    assert "sees nothing" in pages.get(f"/admin/preview?user_id={nobody.id}").get_data(as_text=True)


def test_people_pickers_list_a_bounded_number_and_a_search_finds_anyone(pages, session, admin, world):
    import re

    from crmpm.users.models import User
    from web.views.admin import PRINCIPAL_CHOICES

    now = factories.user(session).created_at
    session.execute(User.__table__.insert(), [
        {"email": f"crowd{n:04d}@example.test", "name": f"Crowd {n:04d}", "password_hash": "x", "is_admin": False,
         "is_active": True, "locale": "en", "created_at": now}
        for n in range(PRINCIPAL_CHOICES + 30)])
    team = users.create_team(session, actor=admin, name="Crowd team")
    session.commit()
    pages.log_in_as(admin)
    everyone = session.scalar(select(func.count()).select_from(User).where(User.is_active.is_(True)))
    options = re.compile(r'<option value="(\d+)"')
    page = pages.get(f"/admin/teams/{team.id}").get_data(as_text=True)
    assert len(options.findall(page)) == PRINCIPAL_CHOICES
    assert f"Listing {PRINCIPAL_CHOICES} of {everyone}" in page
    found = pages.get(f"/admin/teams/{team.id}?who=crowd0227").get_data(as_text=True)
    assert len(options.findall(found)) == 1 and "Crowd 0227" in found and "1 person matches" in found
    # A search with LIKE's wildcards means the characters themselves.
    assert options.findall(pages.get(f"/admin/teams/{team.id}?who=%25").get_data(as_text=True)) == []
    # The grant form's picker narrows the same way (teams stay listed beside the people).
    grants = pages.get(f"/admin/nodes/{world['A'].id}/access?who=CROWD 0009").get_data(as_text=True)
    assert re.findall(r'<option value="(u\d+)"', grants) and len(re.findall(r'<option value="u', grants)) == 1

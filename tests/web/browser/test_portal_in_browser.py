"""The client portal in Chromium: invited through the API, the client opens the link, sets a password, logs in at
/portal/login and sees their shared project and its milestone; a second client sees none of it."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime

import pytest

from crmpm.database import db

expect = pytest.importorskip("playwright.sync_api").expect

PASSWORD = "northern harbour crane"


def _arrange(live_server) -> dict:
    """Two client accounts in a branch of their own, a shared project each (Alpha's with a milestone), an
    unshared one of Alpha's, a contact each, and an administrator's API token."""
    from accounts.portal import sharing
    from crmpm.users import services as users
    from tests import factories
    from wbs import services as wbs

    with live_server.app.app_context():
        session = db.new_session()
        try:
            admin = users.get_by_email(session, email="admin@crmpm.local")
            branch = factories.node(session, actor=admin, code="PORTALB")
            pipeline = factories.pipeline(session)
            found = {}
            for key, name, email in (("alpha", "Alpha Shipyard", "alice@alpha-shipyard.test"),
                                     ("beta", "Beta Foundry", "bob@beta-foundry.test")):
                account = factories.account(session, actor=admin, region=branch, name=name)
                contact = factories.contact(session, actor=admin, account=account, first_name=key.title(),
                                            last_name="Client", email=email)
                deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline)
                deal.project.name = f"{name}: crane refit"
                sharing.share(session, actor=admin, project=deal.project, shared=True)
                found[key] = {"contact": contact.id, "project": deal.project_id, "email": email,
                              "project_name": deal.project.name}
                if key == "alpha":
                    wbs.create_activity(session, actor=admin, project=deal.project, code="M1",
                                        name="Crane drawings approved", type="finish_milestone",
                                        early_finish=datetime(2026, 12, 18, 18))
                    hidden = factories.deal(session, actor=admin, account=account, pipeline=pipeline)
                    hidden.project.name = "Alpha internal tender"
                    found["hidden"] = hidden.project_id
            _record, token = users.create_token(session, actor=admin, user=admin, name="portal browser test")
            session.commit()
            return found | {"token": token}
        finally:
            session.close()


def _invite(live_server, token: str, contact_id: int) -> dict:
    request = urllib.request.Request(live_server.url(f"/api/v1/contacts/{contact_id}/portal-invite"),
                                     data=b"{}", method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 201
        return json.loads(answer.read())


def _welcome(page, link: str) -> None:
    page.goto(link)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    page.click("button[type=submit].primary")


def test_invite_set_a_password_log_in_and_see_the_project_a_second_client_sees_none_of_it(live_server, new_page,
                                                                                          screenshot):
    world = _arrange(live_server)
    alpha = _invite(live_server, world["token"], world["alpha"]["contact"])
    assert alpha["link"].startswith(live_server.url("/portal/welcome/")) and alpha["role"] == "client"

    page = new_page()
    _welcome(page, alpha["link"])
    page.wait_for_url(live_server.url("/portal/"))
    # Logged in by the link: their shared project, not the unshared one, nor another account's.
    expect(page.locator("table.portal-projects")).to_contain_text(world["alpha"]["project_name"])
    expect(page.locator("body")).not_to_contain_text("Alpha internal tender")
    expect(page.locator("body")).not_to_contain_text(world["beta"]["project_name"])
    page.click("button:has-text('Log out')")
    page.wait_for_url(live_server.url("/portal/login"))

    # The link worked once; now the password at the portal's own login.
    again = page.goto(alpha["link"])
    assert again.status == 410
    page.goto(live_server.url("/portal/login"))
    page.fill("input[name=email]", world["alpha"]["email"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(live_server.url("/portal/"))
    page.click(f"a:has-text('{world['alpha']['project_name']}')")
    page.wait_for_url(live_server.url(f"/portal/projects/{world['alpha']['project']}"))
    milestones = page.locator("table.portal-milestones")
    expect(milestones).to_contain_text("Crane drawings approved")
    expect(milestones).to_contain_text("not done yet")
    expect(page.locator(".portal-gantt svg polygon.milestone")).to_have_count(1)
    screenshot(page, "portal-project")
    # No staff page opens with the client's cookie.
    page.goto(live_server.url("/crm/accounts"))
    assert page.url.startswith(live_server.url("/login"))

    beta = _invite(live_server, world["token"], world["beta"]["contact"])
    other = new_page()
    _welcome(other, beta["link"])
    other.wait_for_url(live_server.url("/portal/"))
    expect(other.locator("table.portal-projects")).to_contain_text(world["beta"]["project_name"])
    expect(other.locator("body")).not_to_contain_text(world["alpha"]["project_name"])
    expect(other.locator("body")).not_to_contain_text("Crane drawings approved")
    for project_id in (world["alpha"]["project"], world["hidden"]):
        answer = other.goto(live_server.url(f"/portal/projects/{project_id}"))
        assert answer.status == 404
        expect(other.locator("body")).not_to_contain_text("Crane drawings approved")

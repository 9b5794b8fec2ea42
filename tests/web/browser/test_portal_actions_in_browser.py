"""A client on the portal in a real browser: approves a billing milestone of their shared project, then answers the
satisfaction survey that approval asked; a second client of another account sees none of it.

The portal's own login page is another part's; the client's portal session is set as its cookie (signed by the
app, as the login would sign it).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from crmpm.database import db

expect = pytest.importorskip("playwright.sync_api").expect

from tests.web.browser import private_server  # noqa: E402


@pytest.fixture(scope="module")
def server(own_server):
    """The module's own demo server (``private_server.own_server``)."""
    return own_server


own_server = private_server.own_server


def _clients(server) -> dict:
    """A demo deal's project shared with a client user of its account, a milestone on it; a client of another
    account."""
    from accounts.billing.models import BillingMilestone
    from accounts.models import Contact, Deal
    from accounts.portal.models import PortalProject, PortalUser
    from crmpm.users import services as users

    with server.app.app_context(), db.transaction() as session:
        deals = session.scalars(select(Deal).order_by(Deal.id)).all()
        deal = deals[0]
        other = next(d for d in deals if d.account_id != deal.account_id)
        made = {"project_id": deal.project_id, "account_id": deal.account_id}
        for key, account_id, email in (("client", deal.account_id, "client@alpha.test"),
                                       ("stranger", other.account_id, "client@other.test")):
            contact = session.scalar(select(Contact).where(Contact.account_id == account_id).order_by(Contact.id))
            if contact is None:
                contact = Contact(account_id=account_id, first_name="Client", last_name=key.title())
                session.add(contact)
                session.flush()
            user = users.create(session, actor=None, email=email, name=f"Client {key}", password=None)
            user.is_client = True
            user.password_hash = users.hash_password("Client-password-1")  # a session needs a password
            session.flush()
            session.add(PortalUser(user_id=user.id, contact_id=contact.id, account_id=account_id))
            made[key] = (user.id, user.session_stamp)
        session.add(PortalProject(project_id=deal.project_id))
        milestone = BillingMilestone(project_id=deal.project_id, name="Design approved", amount=Decimal("150000.00"))
        session.add(milestone)
        session.flush()
        made["milestone_id"] = milestone.id
        return made


def _portal_page(server, new_page, who):
    from web.views.portal.common import PORTAL_STAMP_KEY, PORTAL_USER_KEY

    app = server.app
    value = app.session_interface.get_signing_serializer(app).dumps(
        {PORTAL_USER_KEY: who[0], PORTAL_STAMP_KEY: who[1]})
    page = new_page()
    page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": value,
                               "url": server.url("/"), "httpOnly": True}])
    return page


def test_a_client_approves_a_milestone_and_answers_the_survey(server, new_page, screenshot):
    made = _clients(server)
    page = _portal_page(server, new_page, made["client"])
    page.goto(server.url(f"/portal/projects/{made['project_id']}/milestones"))
    row = page.locator(f"#milestone-{made['milestone_id']}")
    expect(row).to_contain_text("Design approved")
    expect(row).to_contain_text("Awaiting your decision")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator(".flash-success")).to_contain_text("Approved")
    expect(page.locator(f"#milestone-{made['milestone_id']}")).to_contain_text("Approved")
    screenshot(page, "portal-milestone-approved")

    page.goto(server.url("/portal/surveys"))
    survey = page.locator("section[id^=survey-]")
    expect(survey).to_have_count(1)
    survey.get_by_label("5").check()
    survey.get_by_label("Comment (optional)").fill("Quick and careful work")
    survey.get_by_role("button", name="Send the answer").click()
    expect(page.locator(".flash-success")).to_contain_text("Thank you")
    expect(page.locator("section[id^=survey-]")).to_have_count(0)

    from accounts.models import SurveyAnswer
    from accounts.portal.models import PortalApproval

    with server.app.app_context():
        session = db.new_session()
        try:
            approval = session.scalar(select(PortalApproval).where(PortalApproval.subject_id == made["milestone_id"]))
            assert approval.decision == "approved" and approval.user_id == made["client"][0]
            answer = session.scalar(select(SurveyAnswer).where(SurveyAnswer.comment == "Quick and careful work"))
            assert answer.score == 5 and answer.account_id == made["account_id"]
        finally:
            session.close()

    stranger = _portal_page(server, new_page, made["stranger"])
    response = stranger.goto(server.url(f"/portal/projects/{made['project_id']}/milestones"))
    assert response.status == 404
    stranger.goto(server.url("/portal/surveys"))
    expect(stranger.locator("body")).not_to_contain_text("Design approved")
    expect(stranger.locator("section[id^=survey-]")).to_have_count(0)

"""The lead inbox: routed leads with their rule and reason, filters, qualify, disqualify, reassign, rights."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts import leads as lead_services
from accounts import routing
from accounts.models import Account, Deal, Lead, LeadAssignment, LeadStatus
from crmpm.database import utcnow
from eps.models import Role
from tests import factories


@pytest.fixture
def inbox(session, admin, world):
    """Two sellers in one team under a routing rule; leads on branch A routed to them; one lead on B."""
    seller = factories.user(session, name="Sara Seller")
    mate = factories.user(session, name="Tom Teammate")
    team = factories.team(session, members=[seller, mate])
    for user in (seller, mate):
        factories.grant(session, actor=admin, role=Role.editor, target=world["A"], user=user)
    rule = routing.create_rule(session, actor=admin, name="Branch A desk", team=team,
                               members=[{"user_id": seller.id}])
    pipeline = factories.pipeline(session, name="Sales")
    mine = lead_services.create_lead(session, actor=admin, region=world["A"], company="Acme Mills",
                                     contact_name="Olga Petrova", email="olga@acme.example", source="website",
                                     product="ERP", created_at=utcnow() - timedelta(hours=30))
    routing.route_lead(session, actor=None, lead=mine)
    fresh = lead_services.create_lead(session, actor=admin, region=world["A"], company="Fresh Bakery",
                                      source="exhibition", created_at=utcnow() - timedelta(minutes=20))
    routing.route_lead(session, actor=None, lead=fresh)
    mates = lead_services.create_lead(session, actor=admin, region=world["A"], company="Mate Corp", source="call")
    routing.assign_lead(session, actor=admin, lead=mates, user=mate)
    secret = lead_services.create_lead(session, actor=admin, region=world["B"], company="Secret B Lead",
                                       source="website")
    session.commit()
    return {"seller": seller, "mate": mate, "team": team, "rule": rule, "pipeline": pipeline, "mine": mine,
            "fresh": fresh, "mates": mates, "secret": secret}


def _lead_rows(html: str) -> list[int]:
    return [int(value) for value in re.findall(r'<tr data-lead="(\d+)"', html)]


def test_inbox_shows_my_leads_with_rule_reason_and_age(pages, session, inbox):
    body = pages.log_in_as(inbox["seller"]).get("/crm/leads").get_data(as_text=True)
    assert _lead_rows(body) == [inbox["fresh"].id, inbox["mine"].id]  # newest first
    row = re.search(rf'<tr data-lead="{inbox["mine"].id}">(.*?)</tr>', body, re.S).group(1)
    assert "Branch A desk" in row and "round robin" in row and "Sara Seller" in row
    assert "age-late" in row and "overdue" in row  # 30 hours against a 24-hour target
    fresh = re.search(rf'<tr data-lead="{inbox["fresh"].id}">(.*?)</tr>', body, re.S).group(1)
    assert "age-fresh" in fresh and "under an hour" in fresh
    assert "Secret B Lead" not in body and "Mate Corp" not in body


def test_team_scope_and_filters(pages, session, admin, inbox):
    pages.log_in_as(inbox["seller"])
    team = pages.get("/crm/leads?scope=team").get_data(as_text=True)
    assert set(_lead_rows(team)) == {inbox["fresh"].id, inbox["mine"].id, inbox["mates"].id}
    row = re.search(rf'<tr data-lead="{inbox["mates"].id}">(.*?)</tr>', team, re.S).group(1)
    assert "Tom Teammate" in row and "assigned by hand" in row
    assert "Secret B Lead" not in pages.get("/crm/leads?scope=all").get_data(as_text=True)
    by_source = pages.get("/crm/leads?scope=team&source=exhibition").get_data(as_text=True)
    assert _lead_rows(by_source) == [inbox["fresh"].id]
    lead_services.disqualify_lead(session, actor=admin, lead=inbox["fresh"], reason="spam")
    session.commit()
    closed = pages.get("/crm/leads?scope=team&status=disqualified").get_data(as_text=True)
    assert _lead_rows(closed) == [inbox["fresh"].id]
    everything = pages.log_in_as(admin).get("/crm/leads").get_data(as_text=True)
    assert "Secret B Lead" in everything  # administrators start with every lead


def test_inbox_is_paginated(pages, session, admin, inbox):
    for n in range(30):
        lead = lead_services.create_lead(session, actor=admin, region=inbox["mine"].region_node, company=f"Bulk {n}")
        routing.assign_lead(session, actor=admin, lead=lead, user=inbox["seller"])
    session.commit()
    pages.log_in_as(inbox["seller"])
    first = pages.get("/crm/leads").get_data(as_text=True)
    assert len(_lead_rows(first)) == 25 and "1–25 of 32" in first
    assert len(_lead_rows(pages.get("/crm/leads?page=2").get_data(as_text=True))) == 7


def test_lead_page_shows_the_routing_history(pages, session, admin, inbox):
    lead = inbox["mine"]
    routing.assign_lead(session, actor=admin, lead=lead, user=inbox["mate"])
    session.commit()
    body = pages.log_in_as(inbox["seller"]).get(f"/crm/leads/{lead.id}").get_data(as_text=True)
    history = re.search(r'<table class="list compact routing-history">(.*?)</table>', body, re.S).group(1)
    assert history.index("Tom Teammate") < history.index("Sara Seller")  # newest first
    assert "Branch A desk" in history and "round robin" in history and "assigned by hand" in history
    assert 'data-action="qualify"' in body and 'data-action="disqualify"' in body


def test_qualify_joins_the_existing_client_and_opens_a_deal(pages, session, admin, world, inbox):
    client = factories.account(session, actor=admin, region=world["A"], name="Acme Mills")
    session.commit()
    lead = inbox["mine"]
    page = pages.log_in_as(inbox["seller"]).get(f"/crm/leads/{lead.id}").get_data(as_text=True)
    assert f'href="/crm/accounts/{client.id}"' in page  # the client it will join
    response = pages.post(f"/crm/leads/{lead.id}/qualify", {"pipeline_id": inbox["pipeline"].id,
                                                            "deal_name": "Acme ERP", "amount": "1 200 000,00"})
    assert response.status_code == 303
    session.expire_all()
    lead = session.get(Lead, lead.id)
    assert lead.status is LeadStatus.qualified
    deal = session.get(Deal, lead.deal_id)
    assert deal.name == "Acme ERP" and str(deal.amount) == "1200000.00" and deal.owner_id == inbox["seller"].id
    assert lead.account_id == client.id and lead.contact_id is not None
    assert response.location in (f"/crm/deals/{deal.id}", f"/crm/accounts/{lead.account_id}")


def test_qualifying_a_new_company_needs_edit_rights(pages, session, admin, world, inbox):
    lead = inbox["mine"]
    reader = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=world["A"], user=reader)
    session.commit()
    pages.log_in_as(reader)  # a viewer on A may read the lead, not act on it
    assert pages.post(f"/crm/leads/{lead.id}/qualify", {"pipeline_id": inbox["pipeline"].id}).status_code == 403
    session.expire_all()
    assert session.get(Lead, lead.id).status is LeadStatus.assigned
    pages.log_in_as(inbox["seller"])  # the editor it was routed to adds the account under the branch
    assert pages.post(f"/crm/leads/{lead.id}/qualify", {"pipeline_id": inbox["pipeline"].id}).status_code == 303
    session.expire_all()
    assert session.get(Account, session.get(Lead, lead.id).account_id).name == "Acme Mills"


def test_disqualify_needs_a_reason(pages, session, inbox):
    lead = inbox["mine"]
    pages.log_in_as(inbox["seller"])
    refused = pages.post(f"/crm/leads/{lead.id}/disqualify", {"reason": ""},
                         headers={"Referer": f"http://localhost/crm/leads/{lead.id}"})
    assert refused.status_code == 303
    assert "Reason" in pages.get(refused.location).get_data(as_text=True)
    session.expire_all()
    assert session.get(Lead, lead.id).status is LeadStatus.assigned
    done = pages.post(f"/crm/leads/{lead.id}/disqualify", {"reason": "Student project"})
    assert done.status_code == 303 and done.location == f"/crm/leads/{lead.id}"
    session.expire_all()
    lead = session.get(Lead, lead.id)
    assert lead.status is LeadStatus.disqualified and "Student project" in lead.message
    again = pages.post(f"/crm/leads/{lead.id}/qualify", {"pipeline_id": inbox["pipeline"].id},
                       headers={"Referer": f"http://localhost/crm/leads/{lead.id}"})
    assert again.status_code == 409 and "already disqualified" in again.get_data(as_text=True)


def test_reassign_records_a_manual_assignment(pages, session, inbox):
    lead = inbox["mine"]
    response = pages.log_in_as(inbox["seller"]).post(f"/crm/leads/{lead.id}/assign",
                                                     {"owner_id": inbox["mate"].id})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Lead, lead.id).owner_id == inbox["mate"].id
    last = session.scalars(select(LeadAssignment).where(LeadAssignment.lead_id == lead.id)
                           .order_by(LeadAssignment.id.desc())).first()
    assert last.reason == "manual" and last.actor_id == inbox["seller"].id


def test_a_viewer_sees_no_actions_and_is_refused(pages, session, admin, inbox, world):
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=world["A"], user=viewer)
    session.commit()
    lead = inbox["mine"]
    pages.log_in_as(viewer)
    body = pages.get(f"/crm/leads/{lead.id}").get_data(as_text=True)
    assert "Acme Mills" in body and "Branch A desk" in body and 'data-action=' not in body
    assert pages.post(f"/crm/leads/{lead.id}/qualify", {"pipeline_id": inbox["pipeline"].id}).status_code == 403
    assert pages.post(f"/crm/leads/{lead.id}/disqualify", {"reason": "no"}).status_code == 403
    assert pages.post(f"/crm/leads/{lead.id}/assign", {"owner_id": viewer.id}).status_code == 403
    session.expire_all()
    assert session.get(Lead, lead.id).status is LeadStatus.assigned
    assert session.scalar(select(func.count()).select_from(Deal)) == 0


def test_a_user_without_rights_gets_404(pages, session, inbox, user_with):
    outsider = user_with(None)
    pages.log_in_as(outsider)
    response = pages.get(f"/crm/leads/{inbox['secret'].id}")
    assert response.status_code == 404 and "Secret B Lead" not in response.get_data(as_text=True)
    assert pages.post(f"/crm/leads/{inbox['secret'].id}/disqualify", {"reason": "x"}).status_code == 404
    assert "Secret B Lead" not in pages.get("/crm/leads?scope=all").get_data(as_text=True)


def test_lead_actions_need_the_csrf_token(pages, session, inbox):
    lead = inbox["mine"]
    pages.log_in_as(inbox["seller"])
    assert pages.post(f"/crm/leads/{lead.id}/disqualify", {"reason": "x"}, csrf=False).status_code == 400
    session.expire_all()
    assert session.get(Lead, lead.id).status is LeadStatus.assigned


def test_lead_page_shows_the_calls_and_messages_recorded_on_the_lead(pages, session, admin, world, inbox):
    from accounts.inbound import integrations, journal

    integration, _token = integrations.create_integration(session, actor=admin, kind="telephony", name="PBX",
                                                          region_node_id=world["A"].id, acting_user_id=admin.id)
    recorded = journal.record_call(session, integration=integration, external_id="c1", from_number="8 916 123 45 67",
                                   to_number="+74950000000", direction="missed", started_at=utcnow())
    session.commit()
    lead = session.get(Lead, recorded.interaction.lead_id)
    body = pages.log_in_as(inbox["seller"]).get(f"/crm/leads/{lead.id}").get_data(as_text=True)
    assert "Missed call from +79161234567" in body
    quiet = pages.get(f"/crm/leads/{inbox['mine'].id}").get_data(as_text=True)
    assert "No interactions yet." in quiet and "Missed call" not in quiet

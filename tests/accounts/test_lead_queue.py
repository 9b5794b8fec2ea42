"""An inbound lead nobody can take now is stored unassigned in the queue with the routing reason, never dropped."""

from datetime import timedelta

from sqlalchemy import func, select

from accounts import routing
from accounts.models import Lead
from crmpm.database import utcnow
from eps.models import Role
from tests import factories
from tests.accounts.fixtures import admin, api, crm  # noqa: F401 - fixtures


def test_a_routed_lead_nobody_can_take_is_queued_with_the_reason(api, session, admin, crm):
    branch = crm["A"]["branch"]
    seller, intake = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=branch, user=seller)
    factories.grant(session, actor=admin, role=Role.editor, target=branch, user=intake)
    team = factories.team(session, members=[seller])
    routing.create_rule(session, actor=admin, name="Desk A", team=team, members=[{"user_id": seller.id}])
    routing.create_absence(session, actor=admin, user=seller, starts_at=utcnow() - timedelta(days=1),
                           ends_at=utcnow() + timedelta(days=1))
    session.commit()
    leads_before = session.scalar(select(func.count()).select_from(Lead))

    created = api.post("/api/v1/leads", user=intake, json={"region_node_id": branch.id, "company": "Orphan Co",
                                                           "email": "buyer@orphan.example", "route": True})
    assert created.status_code == 201, created.json
    body = created.json
    assert body["owner_id"] is None and body["status"] == "new"
    assert body["routing_reason"] == "Desk A: 1 eligible, 0 available, none under capacity"
    assert session.scalar(select(func.count()).select_from(Lead)) == leads_before + 1
    assert api.get(f"/api/v1/leads/{body['id']}", user=intake).json["routing_reason"] == body["routing_reason"]
    queued = api.get("/api/v1/leads?status=new", user=intake).json["items"]
    assert [lead["company"] for lead in queued if lead["routing_reason"]] == ["Orphan Co"]

    # Routing it by hand still answers 409 while nobody is there; assigning it clears the reason.
    assert api.post(f"/api/v1/leads/{body['id']}/route", user=intake).status_code == 409
    assigned = api.post(f"/api/v1/leads/{body['id']}/assign", user=intake, json={"owner_id": intake.id})
    assert assigned.status_code == 200
    again = api.get(f"/api/v1/leads/{body['id']}", user=intake).json
    assert again["owner_id"] == intake.id and again["routing_reason"] is None


def test_without_any_routing_rule_the_lead_waits_in_the_queue(api, session, admin, crm):
    created = api.post("/api/v1/leads", user=admin, json={"region_node_id": crm["B"]["branch"].id,
                                                          "company": "Early Bird", "route": True})
    assert created.status_code == 201, created.json
    assert created.json["owner_id"] is None and created.json["routing_reason"] == "no active routing rules"

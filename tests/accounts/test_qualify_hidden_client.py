"""Qualifying a lead whose company is a client in a branch the user cannot see: refused, naming nothing of it."""

from sqlalchemy import func, select

from accounts.models import Account, Deal
from eps.models import Role
from tests import factories
from tests.accounts.fixtures import admin, api, crm  # noqa: F401 - fixtures


def test_a_lead_matching_a_hidden_client_is_refused_without_naming_it(api, session, crm):
    seller = factories.user(session)
    factories.grant(session, actor=crm["admin"], role=Role.editor, target=crm["A"]["branch"], user=seller)
    session.commit()
    hidden = crm["B"]["account"]
    # The lead is on the seller's branch, but its contact e-mail is that of the client in branch B.
    lead = api.post("/api/v1/leads", user=seller, json={"region_node_id": crm["A"]["branch"].id,
                                                        "company": "Someone", "email": "buyer@b.example"})
    assert lead.status_code == 201, lead.json
    deals_before = session.scalar(select(func.count(Deal.id)))

    refused = api.post(f"/api/v1/leads/{lead.json['id']}/qualify", user=seller,
                       json={"pipeline_id": crm["pipeline"].id})

    assert refused.status_code == 409, refused.json
    text = str(refused.json)
    for secret in (str(hidden.id), hidden.name, str(hidden.eps_node_id), crm["B"]["branch"].code):
        assert secret not in text.replace(str(lead.json["id"]), "")
    assert "account_id" in refused.json["errors"]
    assert session.scalar(select(func.count(Deal.id))) == deals_before
    assert api.get(f"/api/v1/leads/{lead.json['id']}", user=seller).json["status"] != "qualified"
    # An account the seller names themselves still works.
    own = api.post(f"/api/v1/leads/{lead.json['id']}/qualify", user=seller,
                   json={"pipeline_id": crm["pipeline"].id, "account_id": crm["A"]["account"].id})
    assert own.status_code == 201, own.json
    assert session.scalar(select(func.count(Account.id))) == 2

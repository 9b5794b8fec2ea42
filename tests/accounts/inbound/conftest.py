"""A CRM with a seller who may change branch A only, a routing rule giving new leads to Alice, and an integration
of each kind acting as the seller, its leads landing on branch A."""

from __future__ import annotations

import pytest

from accounts import routing
from accounts.inbound import integrations
from eps.models import Role
from tests import factories
from tests.accounts.fixtures import crm  # noqa: F401 - fixture

PHONE = "+79123456789"


@pytest.fixture
def inbound(session, crm):
    admin = crm["admin"]
    seller = factories.user(session, name="Seller")
    alice = factories.user(session, name="Alice")
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=seller)
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=alice)
    team = factories.team(session, members=[alice], name="Inbound sales")
    routing.create_rule(session, actor=admin, name="Inbound", team=team, members=[{"user_id": alice.id}])
    made = {}
    for kind in ("telephony", "messenger", "email"):
        made[kind], made[f"{kind}_token"] = integrations.create_integration(
            session, actor=admin, kind=kind, name=f"{kind} line", region_node_id=crm["A"]["branch"].id,
            acting_user_id=seller.id)
    # The same phone at both branches: the seller may only ever reach branch A's contact.
    known = factories.contact(session, actor=admin, account=crm["A"]["account"], last_name="Known", phone=PHONE)
    session.commit()
    return {**crm, **made, "seller": seller, "alice": alice, "known": known}

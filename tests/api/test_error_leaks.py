"""Refusals name only what the caller may know: an object reached through another one is not named by its id."""

from __future__ import annotations

from decimal import Decimal

import pytest

from eps import budgets
from eps.models import Role
from tests import factories
from tests.leaks import hidden_mentions
from wbs import services as wbs_services


@pytest.fixture
def world(session, admin):
    root = factories.node(session, actor=admin, code="ROOT", budget="100.00")
    mine = factories.node(session, actor=admin, parent=root, code="MINE")
    hidden = factories.node(session, actor=admin, parent=root, code="HIDDEN", budget="50.00")
    own = factories.project(session, actor=admin, node=mine, code="OWN")
    secret = factories.project(session, actor=admin, node=hidden, code="SECRET", budget="10.00")
    own_activity = wbs_services.create_activity(session, actor=admin, project=own, code="A1", name="Mine")
    secret_activity = wbs_services.create_activity(session, actor=admin, project=secret, code="S1", name="Hidden")
    change = budgets.request_change(session, actor=admin, obj=secret, amount=Decimal("5.00"), reason="more")
    user = factories.user(session)
    factories.grant(session, actor=admin, role=Role.manager, target=mine, user=user)
    secret_grant = factories.grant(session, actor=admin, role=Role.viewer, target=hidden, user=factories.user(session))
    session.commit()
    return {"user": user, "own": own, "own_activity": own_activity, "secret_activity": secret_activity,
            "hidden": [root, hidden, secret, change], "change": change, "grant": secret_grant}


def test_an_activity_of_a_hidden_project_is_not_found_without_naming_the_project(api, world):
    path = f"/api/v1/projects/{world['own'].id}/relationships"
    body = {"predecessor_id": world["own_activity"].id, "successor_id": world["secret_activity"].id}
    response = api.post(path, user=world["user"], json=body)
    assert response.status_code == 404
    assert f"activity {world['secret_activity'].id} not found" in response.json["message"]
    assert hidden_mentions(response.json, world["hidden"], [path, body]) == [], response.json


@pytest.mark.parametrize("entity", ["grants", "budget_changes"])
def test_the_audit_of_something_on_a_hidden_node_names_only_what_was_asked(api, world, entity):
    entity_id = world["grant"].id if entity == "grants" else world["change"].id
    path = f"/api/v1/audit?entity_type={entity}&entity_id={entity_id}"
    response = api.get(path, user=world["user"])
    assert response.status_code == 404
    assert response.json["message"] == f"{entity} {entity_id} not found"
    assert hidden_mentions(response.json, world["hidden"], path) == [], response.json

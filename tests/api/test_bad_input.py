"""Bad input: a clear 4xx naming what is wrong, and nothing written."""

import pytest
from sqlalchemy import func, select

from crmpm.audit.models import AuditEntry
from eps.models import BudgetChange, EpsNode, Project
from tests import factories

NODES = "/api/v1/eps/nodes"


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def tree(session, admin):
    ent = factories.node(session, actor=admin, code="ENT", budget="1000.00")
    project = factories.project(session, actor=admin, node=ent, code="P1")
    session.commit()
    return ent, project


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "parent_id": None}, "code"),
    ({"code": "", "name": "x", "parent_id": None}, "code"),
    ({"code": "   ", "name": "x", "parent_id": None}, "code"),
    ({"code": "A" * 41, "name": "x", "parent_id": None}, "code"),
    ({"code": "A", "name": "x" * 201, "parent_id": None}, "name"),
    ({"code": 12, "name": "x", "parent_id": None}, "code"),
    ({"code": "A", "name": "x", "parent_id": "1"}, "parent_id"),
    ({"code": "A", "name": "x", "parent_id": 1.5}, "parent_id"),
    ({"code": "A", "name": "x", "parent_id": None, "colour": "red"}, "colour"),
    ({"code": "A\x00B", "name": "x", "parent_id": None}, "code"),
])
def test_node_create_validation_names_the_field(api, admin, session, body, field):
    before = _count(session, EpsNode), _count(session, AuditEntry)
    response = api.post(NODES, user=admin, json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert response.json["message"]
    assert (_count(session, EpsNode), _count(session, AuditEntry)) == before


@pytest.mark.parametrize("raw", ['{"code": "A", ', "not json", "[1, 2]", '"text"'])
def test_malformed_json_is_4xx(api, admin, session, raw):
    response = api.post(NODES, user=admin, raw=raw)
    assert response.status_code in (400, 422)
    assert set(response.json) >= {"code", "status", "message", "errors"}
    assert _count(session, EpsNode) == 0


def test_unknown_parent_is_404_naming_field(api, admin, session):
    response = api.post(NODES, user=admin, json={"code": "A", "name": "A", "parent_id": 999999})
    assert response.status_code == 404
    assert response.json["errors"] == {"parent_id": ["not found"]}
    assert _count(session, EpsNode) == 0


@pytest.mark.parametrize("amount", ["-1", "abc", "1.234", "NaN", "Infinity", "1e20", True, None, [], {}])
def test_bad_money_is_422(api, admin, tree, session, amount):
    ent, _project = tree
    response = api.put(f"{NODES}/{ent.id}/budget", user=admin, json={"original_budget": amount})
    assert response.status_code == 422, response.json
    assert "original_budget" in response.json["errors"]
    session.refresh(ent)
    assert str(ent.original_budget) == "1000.00"


@pytest.mark.parametrize("amount", ["abc", "0.001", "1e16", None])
def test_bad_change_amount_is_422(api, admin, tree, session, amount):
    ent, _project = tree
    response = api.post(f"{NODES}/{ent.id}/budget/changes", user=admin, json={"amount": amount, "reason": "r"})
    assert response.status_code == 422
    assert "amount" in response.json["errors"]
    assert _count(session, BudgetChange) == 0


def test_zero_change_and_missing_reason(api, admin, tree, session):
    ent, _project = tree
    assert api.post(f"{NODES}/{ent.id}/budget/changes", user=admin,
                    json={"amount": "0", "reason": "r"}).status_code == 422
    response = api.post(f"{NODES}/{ent.id}/budget/changes", user=admin, json={"amount": "5"})
    assert response.status_code == 422 and "reason" in response.json["errors"]
    assert _count(session, BudgetChange) == 0


def test_duplicate_project_code_rolls_back_everything(api, admin, tree, session):
    ent, _project = tree
    before = _count(session, Project), _count(session, AuditEntry)
    response = api.post("/api/v1/projects", user=admin, json={"code": "P1", "name": "again", "eps_node_id": ent.id})
    assert response.status_code == 409 and response.json["errors"] == {"code": ["already in use"]}
    assert (_count(session, Project), _count(session, AuditEntry)) == before


def test_bad_pagination_args(api, admin):
    for query in ("page=0", "per_page=0", "per_page=501", "page=abc"):
        response = api.get(f"{NODES}?{query}", user=admin)
        assert response.status_code == 422, query
        assert set(response.json["errors"]) & {"page", "per_page"}


def test_grant_needs_one_principal_and_one_target(api, admin, tree):
    ent, project = tree
    both = api.post("/api/v1/grants", user=admin, json={"user_id": admin.id, "team_id": 1, "node_id": ent.id,
                                                         "role": "viewer"})
    assert both.status_code == 422 and "user_id" in both.json["errors"]
    neither = api.post("/api/v1/grants", user=admin, json={"user_id": admin.id, "role": "viewer"})
    assert neither.status_code == 422 and "node_id" in neither.json["errors"]
    bad_role = api.post("/api/v1/grants", user=admin, json={"user_id": admin.id, "node_id": ent.id, "role": "god"})
    assert bad_role.status_code == 422 and "role" in bad_role.json["errors"]
    unknown_user = api.post("/api/v1/grants", user=admin, json={"user_id": 424242, "node_id": ent.id,
                                                                 "role": "viewer"})
    assert unknown_user.status_code == 404 and unknown_user.json["errors"] == {"user_id": ["not found"]}


def test_unknown_route_and_method_are_json(api, admin):
    response = api.get("/api/v1/nothing-here", user=admin)
    assert response.status_code == 404 and response.json["code"] == 404
    response = api.request("PUT", NODES, user=admin, json={})
    assert response.status_code == 405 and response.json["code"] == 405


def test_spending_plan_rejects_bad_months(api, admin, tree, session):
    ent, _project = tree
    for months, field in (([{"month": "2026-13", "amount": "1"}], "months"),
                          ([{"month": "2026-01", "amount": "-1"}], "months"),
                          ([{"month": "2026-01", "amount": "1"}, {"month": "2026-01", "amount": "2"}], "months")):
        response = api.put(f"{NODES}/{ent.id}/budget/spending-plan", user=admin, json={"months": months})
        assert response.status_code == 422, response.json
        assert field in response.json["errors"]
    assert api.get(f"{NODES}/{ent.id}/budget/spending-plan", user=admin).json["months"] == []


def test_user_creation_validation(api, admin, session):
    response = api.post("/api/v1/users", user=admin, json={"email": "not-an-email", "name": "X", "password": "12345678"})
    assert response.status_code == 422 and "email" in response.json["errors"]
    response = api.post("/api/v1/users", user=admin, json={"email": "a@b.test", "name": "X", "password": "short"})
    assert response.status_code == 422 and "password" in response.json["errors"]
    ok = api.post("/api/v1/users", user=admin, json={"email": "A@B.test", "name": "X", "password": "long-enough"})
    assert ok.status_code == 201 and ok.json["email"] == "a@b.test" and "password" not in ok.json
    dup = api.post("/api/v1/users", user=admin, json={"email": "a@b.TEST", "name": "Y", "password": "long-enough"})
    assert dup.status_code == 409 and "email" in dup.json["errors"]


def test_ids_beyond_the_database_range(api, admin, tree, session):
    huge = 2**63
    assert api.get(f"{NODES}/{huge}", user=admin).status_code == 404
    assert api.get(f"/api/v1/projects/{huge}/activities", user=admin).status_code == 404
    response = api.post("/api/v1/projects", user=admin, json={"code": "PX", "name": "X", "eps_node_id": huge})
    assert response.status_code == 422 and "eps_node_id" in response.json["errors"]
    response = api.get(f"/api/v1/grants?team_id={-huge}", user=admin)
    assert response.status_code == 422 and "team_id" in response.json["errors"]
    assert _count(session, Project) == 1

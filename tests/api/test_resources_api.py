"""The resource pool's API: resources and roles (administrators write), assignments (project rights)."""

from decimal import Decimal

import pytest

from eps.models import Role
from tests import factories
from wbs import services as wbs_services


@pytest.fixture
def place(session, admin):
    node = factories.node(session, actor=admin, code="N")
    project = factories.project(session, actor=admin, node=node, code="P")
    activity = wbs_services.create_activity(session, actor=admin, project=project, code="A1", name="Wire",
                                            original_duration_hours=16.0)
    session.commit()
    return {"node": node, "project": project, "activity": activity}


RATES = [{"effective_from": "2026-01-01", "price_per_unit": "100.00"},
         {"effective_from": "2026-03-01", "price_per_unit": "120.00", "max_units_per_hour": 0.5}]


def test_a_resource_round_trips_with_its_rates_and_roles(api, admin):
    role = api.post("/api/v1/roles", user=admin, json={"code": "PLC", "name": "PLC programmer",
                                                      "rates": [RATES[0]]})
    assert role.status_code == 201, role.json
    assert role.json["rates"] == [{"effective_from": "2026-01-01", "price_per_unit": "100.00",
                                   "max_units_per_hour": None}]
    created = api.post("/api/v1/resources", user=admin, json={
        "code": "IVANOV", "name": "Ivanov", "type": "labor", "unit_of_measure": "h", "rates": RATES,
        "roles": [{"role_id": role.json["id"], "proficiency": 1}]})
    assert created.status_code == 201, created.json
    body = created.json
    assert set(body) == {"id", "code", "name", "type", "parent_id", "calendar_id", "max_units_per_hour",
                         "default_units_per_hour", "unit_of_measure", "user_id", "eps_node_id", "active",
                         "external_id", "rates", "roles", "created_at"}
    assert [r["price_per_unit"] for r in body["rates"]] == ["100.00", "120.00"]
    assert body["roles"] == [{"role_id": role.json["id"], "proficiency": 1}]
    changed = api.patch(f"/api/v1/resources/{body['id']}", user=admin, json={"active": False, "rates": []})
    assert (changed.status_code, changed.json["active"], changed.json["rates"]) == (200, False, [])
    assert api.get(f"/api/v1/resources/{body['id']}", user=admin).json == changed.json


def test_lists_page_and_filter_like_the_other_lists(api, session, admin):
    for code in ("ALPHA", "BETA", "GAMMA"):
        factories.resource(session, actor=admin, code=code, name=f"{code.title()} crane", type="nonlabor")
    factories.resource(session, actor=admin, code="DELTA", name="Delta", type="labor")
    factories.role(session, actor=admin, code="WELDER", name="Welder")
    session.commit()
    page = api.get("/api/v1/resources?per_page=2", user=admin).json
    assert (page["total"], page["pages"], [i["code"] for i in page["items"]]) == (4, 2, ["ALPHA", "BETA"])
    assert [i["code"] for i in api.get("/api/v1/resources?q=crane&type=nonlabor", user=admin).json["items"]] == [
        "ALPHA", "BETA", "GAMMA"]
    roles = api.get("/api/v1/roles", user=admin).json
    assert set(roles) == {"items", "page", "per_page", "total", "pages"}
    assert [r["code"] for r in roles["items"]] == ["WELDER"]
    assert api.get("/api/v1/resources?format=csv", user=admin).headers["Content-Type"].startswith("text/csv")


def test_everyone_reads_the_pool_and_only_administrators_change_it(api, session, admin):
    user = factories.user(session)
    resource = factories.resource(session, actor=admin, code="R")
    role = factories.role(session, actor=admin, code="RL")
    session.commit()
    assert api.get("/api/v1/resources", user=user).status_code == 200
    assert api.get(f"/api/v1/roles/{role.id}", user=user).status_code == 200
    assert api.post("/api/v1/resources", user=user, json={"code": "X", "name": "X"}).status_code == 403
    assert api.patch(f"/api/v1/resources/{resource.id}", user=user, json={"name": "X"}).status_code == 403
    assert api.delete(f"/api/v1/roles/{role.id}", user=user).status_code == 403
    assert api.get("/api/v1/resources").status_code == 401
    assert api.get("/api/v1/resources/999999", user=user).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"code": "X", "name": "X", "type": "robot"}, "type"),
    ({"code": "X", "name": "X", "rates": [{"effective_from": "2026-01-01", "price_per_unit": "-1"}]}, "rates"),
    ({"code": "X", "name": "X", "rates": [{"effective_from": "2026-01-01", "price_per_unit": "1.001"}]}, "rates"),
    ({"code": "X", "name": "X", "max_units_per_hour": 0}, "max_units_per_hour"),
    ({"code": "X", "name": "X", "roles": [{"role_id": 999999}]}, "roles"),
    ({"code": "X", "name": "X", "calendar_id": 999999}, "calendar_id"),
    ({"name": "X"}, "code"),
])
def test_bad_resources_are_refused_naming_the_field(api, admin, body, field):
    response = api.post("/api/v1/resources", user=admin, json=body)
    assert response.status_code in (404, 422), response.json
    assert field in str(response.json.get("errors")), response.json


def test_a_taken_code_and_a_used_resource_are_conflicts(api, session, admin, place):
    resource = factories.resource(session, actor=admin, code="TAKEN")
    factories.assignment(session, actor=admin, activity=place["activity"], resource=resource)
    session.commit()
    assert api.post("/api/v1/resources", user=admin, json={"code": "TAKEN", "name": "X"}).status_code == 409
    refused = api.delete(f"/api/v1/resources/{resource.id}", user=admin)
    assert refused.status_code == 409 and "deactivate" in refused.json["message"]


def test_assignments_are_added_priced_changed_and_removed(api, session, admin, place):
    """100.00 an hour, 0.5 units/h over 16 h: 8 h, 800.00; then 12 h: 1200.00, which the project shows."""
    project, activity = place["project"], place["activity"]
    resource = factories.resource(session, actor=admin, price="100.00")
    session.commit()
    url = f"/api/v1/projects/{project.id}/assignments"
    created = api.post(url, user=admin, json={"activity_id": activity.id, "resource_id": resource.id,
                                              "units_per_hour": 0.5})
    assert created.status_code == 201, created.json
    assert (created.json["budgeted_units"], created.json["budgeted_cost"]) == (8.0, "800.00")
    assert created.json["rate_source"] == "resource" and created.json["curve"] == "uniform"
    changed = api.patch(f"{url}/{created.json['id']}", user=admin, json={"budgeted_units": 12.0,
                                                                         "units_per_hour": 0.75})
    assert (changed.status_code, changed.json["budgeted_cost"]) == (200, "1200.00")
    listed = api.get(f"{url}?activity_id={activity.id}", user=admin).json
    assert listed["items"] == [changed.json]
    assert api.get(f"/api/v1/projects/{project.id}", user=admin).json["planned_cost"] == "1200.00"
    assert api.delete(f"{url}/{created.json['id']}", user=admin).status_code == 204
    assert api.get(url, user=admin).json["total"] == 0


@pytest.mark.parametrize("body, field", [
    ({"units_per_hour": 1.0}, "resource_id"),
    ({"resource_id": "{resource}", "curve": "zigzag"}, "curve"),
    ({"resource_id": "{resource}", "price_per_unit": "-5"}, "price_per_unit"),
    ({"resource_id": "{resource}", "budgeted_units": -1}, "budgeted_units"),
    ({"resource_id": "{resource}", "rate_source": "role"}, "role_id"),
    ({"resource_id": "{inactive}"}, "resource_id"),
    ({"role_id": 999999}, "role_id"),
])
def test_bad_assignments_are_refused_naming_the_field(api, session, admin, place, body, field):
    ids = {"resource": factories.resource(session, actor=admin).id,
           "inactive": factories.resource(session, actor=admin, active=False).id}
    session.commit()
    body = {key: ids[value[1:-1]] if isinstance(value, str) and value.startswith("{") else value
            for key, value in body.items()}
    response = api.post(f"/api/v1/projects/{place['project'].id}/assignments", user=admin,
                        json={"activity_id": place["activity"].id, **body})
    assert response.status_code in (404, 422), response.json
    assert field in str(response.json.get("errors")), response.json


def test_assignments_are_404_on_an_unreadable_project_and_403_read_only(api, session, admin, place):
    resource = factories.resource(session, actor=admin)
    assignment = factories.assignment(session, actor=admin, activity=place["activity"], resource=resource)
    stranger, viewer = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=place["node"], user=viewer)
    session.commit()
    url = f"/api/v1/projects/{place['project'].id}/assignments"
    for method, path, body in (("GET", url, None), ("POST", url, {"activity_id": place["activity"].id,
                                                                  "resource_id": resource.id}),
                               ("PATCH", f"{url}/{assignment.id}", {"budgeted_units": 1.0}),
                               ("DELETE", f"{url}/{assignment.id}", None)):
        refused = api.request(method, path, user=stranger, json=body)
        assert refused.status_code == 404 and "P" not in refused.json["message"].split(), (method, refused.json)
        expected = 200 if method == "GET" else 403
        assert api.request(method, path, user=viewer, json=body).status_code == expected, method
    assert Decimal(api.get(url, user=viewer).json["items"][0]["budgeted_cost"]) == Decimal("0.00")

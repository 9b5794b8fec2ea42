"""Activity codes and user-defined fields over HTTP: types, values in a tree, an activity's codes and UDF
values, the rights on global types, and the 422s that name what is wrong."""

from __future__ import annotations

import pytest

from eps.models import Role
from tests import factories
from wbs import services


@pytest.fixture
def place(session, admin):
    node = factories.node(session, actor=admin, code="CODES")
    project = factories.project(session, actor=admin, node=node, code="PCODES")
    activity = services.create_activity(session, actor=admin, project=project, code="A1", name="Dig")
    editor = factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=node, user=editor)
    session.commit()
    return {"node": node, "project": project, "activity": activity, "editor": editor}


def test_codes_flow_types_values_in_a_tree_and_an_activitys_codes(api, admin, place):
    project, activity, editor = place["project"], place["activity"], place["editor"]
    created = api.post("/api/v1/activity-code-types", user=editor,
                       json={"scope": "project", "project_id": project.id, "name": "Phase", "max_length": 5})
    assert created.status_code == 201, created.json
    type_id = created.json["id"]
    top = api.post(f"/api/v1/activity-code-types/{type_id}/values", user=editor,
                   json={"value": "DES", "description": "Design", "color": "00ff00"}).json
    child = api.post(f"/api/v1/activity-code-types/{type_id}/values", user=editor,
                     json={"value": "CIV", "parent_id": top["id"]}).json
    assert (top["color"], child["parent_id"]) == ("00FF00", top["id"])
    listed = api.get(f"/api/v1/projects/{project.id}/activity-code-types", user=editor).json["items"]
    assert [t["name"] for t in listed] == ["Phase"]
    url = f"/api/v1/projects/{project.id}/activities/{activity.id}/codes"
    put = api.put(url, user=editor, json={"codes": [{"type_id": type_id, "value_id": child["id"]}]})
    assert put.status_code == 200, put.json
    assert api.get(url, user=editor).json["codes"] == [{"type_id": type_id, "value_id": child["id"]}]
    assert api.put(url, user=editor, json={"codes": [{"type_id": type_id, "value_id": None}]}).json["codes"] == []


def test_global_types_and_udf_types_are_for_administrators(api, admin, place):
    editor = place["editor"]
    refused = api.post("/api/v1/activity-code-types", user=editor, json={"scope": "global", "name": "Department"})
    assert refused.status_code == 403
    assert api.post("/api/v1/activity-code-types", user=admin,
                    json={"scope": "global", "name": "Department"}).status_code == 201
    assert api.post("/api/v1/udf-types", user=editor,
                    json={"subject": "activity", "name": "Note", "data_type": "text"}).status_code == 403
    made = api.post("/api/v1/udf-types", user=admin, json={"subject": "activity", "name": "Note", "data_type": "text"})
    assert made.status_code == 201
    assert [t["name"] for t in api.get("/api/v1/udf-types?subject=activity", user=editor).json["items"]] == ["Note"]


@pytest.mark.parametrize(("data_type", "value", "shown"), [
    ("text", "MOB-100", "MOB-100"), ("number", 2.5, 2.5), ("integer", 7, 7), ("cost", "10.5", "10.50"),
    ("date", "2026-03-02T08:00", "2026-03-02T08:00"), ("indicator", "yellow", "yellow")])
def test_an_activitys_udf_values_of_each_type(api, admin, place, data_type, value, shown):
    field = api.post("/api/v1/udf-types", user=admin,
                     json={"subject": "activity", "name": f"F {data_type}", "data_type": data_type}).json
    url = f"/api/v1/projects/{place['project'].id}/activities/{place['activity'].id}/udfs"
    put = api.put(url, user=place["editor"], json={"values": [{"type_id": field["id"], "value": value}]})
    assert put.status_code == 200, put.json
    assert api.get(url, user=place["editor"]).json["values"] == [
        {"type_id": field["id"], "name": f"F {data_type}", "data_type": data_type, "value": shown}]


@pytest.mark.parametrize(("body", "named"), [
    ({"scope": "galaxy", "name": "X"}, "scope"),
    ({"scope": "project", "name": "X"}, "scope"),
    ({"scope": "project", "project_id": "{project}", "name": ""}, "name"),
    ({"scope": "project", "project_id": "{project}", "name": "X", "max_length": 0}, "max_length"),
])
def test_a_bad_code_type_is_refused_naming_the_field(api, admin, place, body, named):
    body = {key: place["project"].id if value == "{project}" else value for key, value in body.items()}
    response = api.post("/api/v1/activity-code-types", user=admin, json=body)
    assert response.status_code == 422, response.json
    assert named in str(response.json)


def test_bad_values_are_refused_with_a_422_naming_the_field(api, admin, place):
    project, activity = place["project"], place["activity"]
    phase = api.post("/api/v1/activity-code-types", user=admin,
                     json={"scope": "project", "project_id": project.id, "name": "Phase", "max_length": 3}).json
    too_long = api.post(f"/api/v1/activity-code-types/{phase['id']}/values", user=admin, json={"value": "LONGER"})
    assert too_long.status_code == 422 and "1 to 3 characters" in str(too_long.json)
    bad_colour = api.post(f"/api/v1/activity-code-types/{phase['id']}/values", user=admin,
                          json={"value": "A", "color": "zz"})
    assert bad_colour.status_code == 422 and "color" in str(bad_colour.json)
    codes_url = f"/api/v1/projects/{project.id}/activities/{activity.id}/codes"
    twice = api.put(codes_url, user=admin, json={"codes": [{"type_id": phase["id"], "value_id": None}] * 2})
    assert twice.status_code == 422 and "one value per code type" in str(twice.json)
    count = api.post("/api/v1/udf-types", user=admin,
                     json={"subject": "activity", "name": "Count", "data_type": "integer"}).json
    udf_url = f"/api/v1/projects/{project.id}/activities/{activity.id}/udfs"
    wrong = api.put(udf_url, user=admin, json={"values": [{"type_id": count["id"], "value": "many"}]})
    assert wrong.status_code == 422 and "'Count'" in str(wrong.json)
    zoned = api.post("/api/v1/udf-types", user=admin,
                     json={"subject": "activity", "name": "When", "data_type": "date"}).json
    response = api.put(udf_url, user=admin, json={"values": [{"type_id": zoned["id"], "value": "2026-03-02T08:00Z"}]})
    assert response.status_code == 422 and "without a zone" in str(response.json)


def test_the_activity_list_filters_by_a_code_value_and_the_values_below_it(api, admin, session, place):
    project = place["project"]
    for code in ("A2", "A3"):
        services.create_activity(session, actor=admin, project=project, code=code, name=code)
    session.commit()
    ids = {a["code"]: a["id"] for a in api.get(f"/api/v1/projects/{project.id}/activities", user=admin).json["items"]}
    dept = api.post("/api/v1/activity-code-types", user=admin, json={"scope": "global", "name": "Department"}).json
    values = f"/api/v1/activity-code-types/{dept['id']}/values"
    base = api.post(values, user=admin, json={"value": "BT"}).json
    esms = api.post(values, user=admin, json={"value": "ESMS", "parent_id": base["id"]}).json
    other = api.post(values, user=admin, json={"value": "HR"}).json
    for code, value in (("A1", base), ("A2", esms), ("A3", other)):
        api.put(f"/api/v1/projects/{project.id}/activities/{ids[code]}/codes", user=admin,
                json={"codes": [{"type_id": dept["id"], "value_id": value["id"]}]})
    listed = f"/api/v1/projects/{project.id}/activities?code="

    def codes_of(query):
        response = api.get(listed + query, user=place["editor"])
        assert response.status_code == 200, response.json
        return sorted(a["code"] for a in response.json["items"])

    assert codes_of("Department:BT") == ["A1", "A2"]  # the value and the one below it
    assert codes_of("Department:BT.ESMS") == ["A2"]
    assert codes_of("Department:ESMS") == ["A2"]
    assert codes_of("Department:HR") == ["A3"]
    for query, named in (("Department", "<type>:<value>"), ("Nothing:BT", "Nothing"), ("Department:XX", "XX")):
        response = api.get(listed + query, user=admin)
        assert response.status_code == 422 and named in str(response.json), response.json


def test_deleting_a_value_or_a_type_says_how_many_activities_lost_it(api, admin, session, place):
    """A value goes with the values below it, a type with all its values; the activities holding one lose it.
    A viewer is refused (403), another type's value is not found (404), and nothing is deleted by a refusal."""
    project, activity, editor = place["project"], place["activity"], place["editor"]
    second = services.create_activity(session, actor=admin, project=project, code="A2", name="Pour")
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=place["node"], user=viewer)
    session.commit()
    type_id = api.post("/api/v1/activity-code-types", user=editor,
                       json={"scope": "project", "project_id": project.id, "name": "Phase"}).json["id"]
    other_id = api.post("/api/v1/activity-code-types", user=editor,
                        json={"scope": "project", "project_id": project.id, "name": "Zone"}).json["id"]
    values = f"/api/v1/activity-code-types/{type_id}/values"
    top = api.post(values, user=editor, json={"value": "DES"}).json
    child = api.post(values, user=editor, json={"value": "CIV", "parent_id": top["id"]}).json
    keep = api.post(values, user=editor, json={"value": "BLD"}).json
    for held, value in ((activity, child), (second, keep)):
        api.put(f"/api/v1/projects/{project.id}/activities/{held.id}/codes", user=editor,
                json={"codes": [{"type_id": type_id, "value_id": value["id"]}]})
    assert api.delete(f"{values}/{top['id']}", user=viewer).status_code == 403
    assert api.delete(f"/api/v1/activity-code-types/{other_id}/values/{top['id']}", user=editor).status_code == 404
    assert len(api.get(values, user=editor).json["items"]) == 3
    deleted = api.delete(f"{values}/{top['id']}", user=editor)
    assert deleted.status_code == 200, deleted.json
    assert deleted.json == {"activities_losing_it": 1}
    assert [v["value"] for v in api.get(values, user=editor).json["items"]] == ["BLD"]
    assert api.get(f"/api/v1/projects/{project.id}/activities/{activity.id}/codes", user=editor).json["codes"] == []
    assert api.delete(f"/api/v1/activity-code-types/{type_id}", user=viewer).status_code == 403
    gone = api.delete(f"/api/v1/activity-code-types/{type_id}", user=editor)
    assert gone.status_code == 200 and gone.json == {"activities_losing_it": 1}
    assert api.get(f"/api/v1/activity-code-types/{type_id}", user=editor).status_code == 404
    assert api.get(f"/api/v1/projects/{project.id}/activities/{second.id}/codes", user=editor).json["codes"] == []

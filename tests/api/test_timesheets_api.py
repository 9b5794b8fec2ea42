"""Timesheets through the API: a week saved, submitted, approved and rejected per project; errors naming the
field; locks; rights (404 unreadable, 403 read-only). Figures are hours × rate, worked out here."""

from decimal import Decimal

import pytest

from eps.models import Role
from tests import factories
from tests.wbs.resources import timesheet_world
from wbs.resources.models import Assignment

MONDAY, RATE = timesheet_world.MONDAY, timesheet_world.RATE
WEEK = MONDAY.isoformat()


@pytest.fixture
def world(session, admin):
    objects = timesheet_world.build(session, admin)
    session.commit()
    return objects


def _path(w, suffix=""):
    return f"/api/v1/timesheets/{w['resource'].id}/{WEEK}{suffix}"


def _lines(w):
    """A1 8 h Monday and 4.5 h Tuesday; B1 2 h Wednesday."""
    return [{"activity_id": w["a1"].id, "day": "2026-11-30", "hours": "8", "note": "drawings"},
            {"activity_id": w["a1"].id, "day": "2026-12-01", "hours": 4.5},
            {"activity_id": w["b1"].id, "day": "2026-12-02", "hours": "2.00"}]


def test_week_round_trip_submit_and_approve(api, session, world):
    engineer, pm = world["engineer"], world["pm"]
    empty = api.get(_path(world), user=engineer)
    assert empty.status_code == 200
    assert empty.json["id"] is None and empty.json["status"] == "draft" and empty.json["lines"] == []
    assert {a["code"] for a in empty.json["activities"]} == {"A1", "A2", "B1"}

    saved = api.put(_path(world), user=engineer, json={"lines": _lines(world)})
    assert saved.status_code == 200, saved.json
    assert [(line["day"], line["hours"]) for line in saved.json["lines"]] == [
        ("2026-11-30", "8.00"), ("2026-12-01", "4.50"), ("2026-12-02", "2.00")]
    submitted = api.post(_path(world, "/submit"), user=engineer)
    assert submitted.status_code == 200 and submitted.json["status"] == "submitted"

    queue = api.get("/api/v1/timesheets/approvals", user=pm)
    assert [(i["project_id"], i["hours"]) for i in queue.json["items"]] == [(world["p1"].id, "12.50")]
    sheet_id = queue.json["items"][0]["timesheet_id"]
    seen = api.get(_path(world), user=pm).json
    assert {line["activity_id"] for line in seen["lines"]} == {world["a1"].id}
    assert seen["hidden_hours"] == "2.00"

    approved = api.post(f"/api/v1/timesheets/{sheet_id}/approve", user=pm, json={"project_id": world["p1"].id})
    assert approved.status_code == 200, approved.json
    assignment = session.get(Assignment, world["assignments"]["A1"].id)
    session.refresh(assignment)
    assert (assignment.actual_units, assignment.remaining_units) == (12.5, 27.5)
    assert assignment.actual_cost == Decimal("12.5") * RATE
    project = api.get(f"/api/v1/projects/{world['p1'].id}", user=pm).json
    assert Decimal(project["actual_cost"]) == Decimal("12.5") * RATE
    assert api.get("/api/v1/timesheets/approvals", user=pm).json["items"] == []


def test_rejection_with_reason_and_resubmission(api, session, world):
    engineer, pm = world["engineer"], world["pm"]
    api.put(_path(world), user=engineer, json={"lines": _lines(world)[:2]})
    sheet_id = api.post(_path(world, "/submit"), user=engineer).json["id"]
    no_reason = api.post(f"/api/v1/timesheets/{sheet_id}/reject", user=pm, json={"project_id": world["p1"].id})
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]
    rejected = api.post(f"/api/v1/timesheets/{sheet_id}/reject", user=pm,
                        json={"project_id": world["p1"].id, "reason": "Tuesday was a holiday"})
    assert rejected.status_code == 200
    assert rejected.json["status"] == "rejected"
    assert rejected.json["decisions"][0]["reason"] == "Tuesday was a holiday"
    fixed = api.put(_path(world), user=engineer, json={"lines": _lines(world)[:1]})
    assert fixed.status_code == 200 and fixed.json["status"] == "draft"
    assert api.post(_path(world, "/submit"), user=engineer).json["status"] == "submitted"
    assert api.post(f"/api/v1/timesheets/{sheet_id}/approve", user=pm,
                    json={"project_id": world["p1"].id}).json["status"] == "approved"
    assignment = session.get(Assignment, world["assignments"]["A1"].id)
    session.refresh(assignment)
    assert assignment.actual_units == 8.0


def test_errors_name_the_field_and_save_nothing(api, world):
    engineer = world["engineer"]
    api.put(_path(world), user=engineer, json={"lines": _lines(world)[:1]})
    bad = [{"activity_id": world["a1"].id, "day": "2026-12-07", "hours": "1"},
           {"activity_id": world["a1"].id, "day": "2026-12-01", "hours": "1.1"},
           {"activity_id": world["unassigned"].id, "day": "2026-12-01", "hours": "1"},
           {"activity_id": world["a2"].id, "day": "2026-12-01", "hours": "30"}]
    response = api.put(_path(world), user=engineer, json={"lines": bad})
    assert response.status_code == 422
    # Hours above 24 are refused by the schema, before the service looks at the week.
    assert list(response.json["errors"]["lines"]["3"]) == ["hours"]
    response = api.put(_path(world), user=engineer, json={"lines": bad[:3]})
    assert response.status_code == 422
    assert set(response.json["errors"]) >= {"lines.0.day", "lines.1.hours", "lines.2.activity_id"}
    assert [line["hours"] for line in api.get(_path(world), user=engineer).json["lines"]] == ["8.00"]
    assert api.get(f"/api/v1/timesheets/{world['resource'].id}/2026-12-01", user=engineer).status_code == 422


def test_locks_through_the_api(api, session, admin, world):
    engineer = world["engineer"]
    api.put(_path(world), user=engineer, json={"lines": _lines(world)})
    lock = api.post("/api/v1/timesheet-locks", user=admin, json={"eps_node_id": None, "locked_through": "2026-11-30"})
    assert lock.status_code == 201
    changed = api.put(_path(world), user=engineer, json={"lines": _lines(world)[1:]})
    assert changed.status_code == 422 and any(key.endswith(".day") for key in changed.json["errors"])
    assert api.post(_path(world, "/submit"), user=engineer).status_code == 422
    assert api.post("/api/v1/timesheet-locks", user=engineer,
                    json={"locked_through": "2026-11-30"}).status_code == 403
    assert [item["id"] for item in api.get("/api/v1/timesheet-locks", user=engineer).json["items"]] == \
        [lock.json["id"]]


def test_rights(api, session, admin, world):
    engineer, pm, pm2 = world["engineer"], world["pm"], world["pm2"]
    outsider = factories.user(session)
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=world["p1"], user=viewer)
    session.commit()
    api.put(_path(world), user=engineer, json={"lines": _lines(world)})
    sheet_id = api.post(_path(world, "/submit"), user=engineer).json["id"]
    assert api.get(_path(world), user=outsider).status_code == 404
    assert api.put(_path(world), user=outsider, json={"lines": []}).status_code == 404
    assert api.put(_path(world), user=pm, json={"lines": []}).status_code == 403
    assert api.post(_path(world, "/submit"), user=pm).status_code == 403
    approve = f"/api/v1/timesheets/{sheet_id}/approve"
    assert api.post(approve, user=outsider, json={"project_id": world["p1"].id}).status_code == 404
    assert api.post(approve, user=viewer, json={"project_id": world["p1"].id}).status_code == 403
    # P1's PM cannot read P2: its part of the sheet is not found, and named nowhere.
    response = api.post(approve, user=pm, json={"project_id": world["p2"].id})
    assert response.status_code == 404
    assert world["p2"].code not in str(response.json)
    assert api.post(approve, user=pm2, json={"project_id": world["p2"].id}).status_code == 200
    assert api.get("/api/v1/timesheets/approvals", user=viewer).json["items"] == []

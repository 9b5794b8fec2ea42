"""``GET /api/v1/events``: a timesheet's events are never listed to someone who may not read them."""

from decimal import Decimal

from eps.models import Role
from tests import factories
from tests.wbs.resources import timesheet_world
from wbs.resources import timesheets

EVENTS = "/api/v1/events?limit=1000"


def _types(api, user):
    response = api.get(EVENTS, user=user)
    assert response.status_code == 200, response.get_json()
    return [item["type"] for item in response.get_json()["items"] if item["type"].startswith("timesheet.")]


def test_timesheet_events_reach_the_person_and_the_pm_not_an_outsider(session, api, admin):
    w = timesheet_world.build(session, admin)
    outsider = factories.user(session, name="Outsider")
    factories.grant(session, actor=admin, role=Role.editor, target=factories.node(session, actor=admin, code="X"),
                    user=outsider)
    timesheets.save_week(session, actor=w["engineer"], resource=w["resource"], week=timesheet_world.MONDAY,
                         lines=[{"activity_id": w["a1"].id, "day": timesheet_world.MONDAY, "hours": Decimal("8"),
                                 "note": ""}])
    sheet = timesheets.submit(session, actor=w["engineer"], resource=w["resource"], week=timesheet_world.MONDAY)
    timesheets.reject(session, actor=w["pm"], sheet=sheet, project_id=w["p1"].id, reason="No")
    session.commit()
    expected = ["timesheet.submitted", "timesheet.decided"]
    assert _types(api, w["engineer"]) == expected
    assert _types(api, w["pm"]) == expected
    assert _types(api, admin) == expected
    assert _types(api, outsider) == []
    assert _types(api, w["pm2"]) == []  # edits the other project of the same resource, not asked this week

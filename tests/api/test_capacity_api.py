"""GET /api/v1/capacity: the contract, bad input naming the field, and nothing leaking across rights."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from eps.models import Role
from tests import factories
from tests.wbs.resources import oracle

URL = "/api/v1/capacity"


@pytest.fixture
def world(session):
    admin = factories.admin(session)
    branch = factories.node(session, actor=admin, code="BR")
    hidden_node = factories.node(session, actor=admin, code="HID")
    readable = factories.project(session, actor=admin, node=branch, code="OPEN-PRJ")
    hidden = factories.project(session, actor=admin, node=hidden_node, code="SECRET-PRJ")
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=branch, user=viewer)
    cal = oracle.calendar(session)
    shared = oracle.resource(session, calendar_=cal, node=branch, name="Shared engineer", code="SHARED")
    secret = oracle.resource(session, calendar_=cal, node=hidden_node, name="Secret welder", code="SECRET-RES")
    start, finish = datetime(2027, 5, 3, 9, 0), datetime(2027, 5, 14, 18, 0)
    oracle.assign(session, project=readable, resource_=shared, start=start, finish=finish, remaining=40.0)
    oracle.assign(session, project=hidden, resource_=shared, start=start, finish=finish, remaining=60.0)
    oracle.assign(session, project=hidden, resource_=secret, start=start, finish=finish, remaining=10.0)
    session.commit()
    return {"admin": admin, "viewer": viewer, "shared": shared, "secret": secret, "hidden": hidden,
            "hidden_node": hidden_node, "branch": branch}


def test_the_contract_shape_and_figures(api, world):
    """Two weeks of 40 h each; 100 h booked uniformly over the two weeks: 50 h a week, over-allocated."""
    answer = api.get(f"{URL}?from=2027-05-03&to=2027-05-16&period=week", user=world["admin"])
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["periods"] == ["2027-05-03", "2027-05-10"]
    row = next(item for item in body["items"] if item["resource_id"] == world["shared"].id)
    assert row["name"] == "Shared engineer"
    assert row["available_hours"] == [40.0, 40.0]
    assert row["booked_hours"] == [pytest.approx(50.0), pytest.approx(50.0)]
    assert row["other_hours"] == [0.0, 0.0]
    assert row["over_allocated"] == [True, True]
    assert row["demand_hours"] is None


def test_a_viewer_sees_an_anonymous_total_and_no_names_or_projects_of_what_they_cannot_read(api, world):
    answer = api.get(f"{URL}?from=2027-05-01&to=2027-05-31&period=month&roles=1&demand=1", user=world["viewer"])
    assert answer.status_code == 200, answer.json
    text = json.dumps(answer.json)
    for secret in ("Secret welder", "SECRET-RES", "SECRET-PRJ", "HID"):
        assert secret not in text
    assert str(world["hidden"].id) not in [str(v) for item in answer.json["items"] for v in item.values()]
    [row] = answer.json["items"]
    assert row["resource_id"] == world["shared"].id
    assert row["booked_hours"] == [pytest.approx(40.0)]
    assert row["other_hours"] == [pytest.approx(60.0)]


@pytest.mark.parametrize("query, field", [
    ("from=2027-13-01&to=2027-12-31&period=week", "from"),
    ("from=2027-05-01&to=nonsense&period=week", "to"),
    ("from=2027-05-10&to=2027-05-01&period=week", "to"),
    ("from=2027-01-01&to=2031-01-01&period=month", "to"),
    ("from=2027-01-01&to=2027-02-01&period=day", "period"),
    ("to=2027-02-01&period=week", "from"),
])
def test_bad_input_is_a_422_naming_the_field(api, world, query, field):
    answer = api.get(f"{URL}?{query}", user=world["admin"])
    assert answer.status_code == 422
    assert field in json.dumps(answer.json)


def test_an_unreadable_eps_node_is_a_404(api, world):
    answer = api.get(f"{URL}?from=2027-05-01&to=2027-05-31&period=month&eps_node_id={world['hidden_node'].id}",
                     user=world["viewer"])
    assert answer.status_code == 404
    missing = api.get(f"{URL}?from=2027-05-01&to=2027-05-31&period=month&branch_id=999999", user=world["admin"])
    assert missing.status_code == 404


def test_the_branch_filter_lists_that_branchs_resources(api, world):
    answer = api.get(f"{URL}?from=2027-05-01&to=2027-05-31&period=month&branch_id={world['branch'].id}",
                     user=world["admin"])
    assert [item["resource_id"] for item in answer.json["items"]] == [world["shared"].id]

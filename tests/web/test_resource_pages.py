"""The resource pool's pages (administrators change it) and the "Resources" section of the activity page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from eps.models import Role
from tests import factories
from wbs import services as wbs_services
from wbs.resources.models import Assignment, Resource, ResourceRole
from web.views.pool import parse_rates


def _followed(pages, response) -> str:
    assert response.status_code == 303, response.status_code
    return pages.get(response.headers["Location"]).get_data(as_text=True)


@pytest.fixture
def place(session, admin, world):
    activity = wbs_services.create_activity(session, actor=admin, project=world["PA"], code="A1", name="Wire",
                                            original_duration_hours=16.0)
    resource = factories.resource(session, actor=admin, code="IVANOV", name="Ivanov Ivan", price="100.00")
    role = factories.role(session, actor=admin, code="PLC", name="PLC programmer", price="90.00")
    session.commit()
    return {"activity": activity, "resource": resource, "role": role, "project": world["PA"]}


def test_the_resource_list_shows_the_pool_as_a_tree_and_finds_by_text(pages, session, admin):
    top = factories.resource(session, actor=admin, code="DEPT", name="Automation department")
    engineer = factories.resource(session, actor=admin, code="ENG", name="Engineer Petrov", parent_id=top.id)
    crane = factories.resource(session, actor=admin, code="CRANE", name="Crane", type="nonlabor")
    session.commit()
    body = pages.log_in_as(admin).get("/resources/").get_data(as_text=True)
    rows = [body.index(f'data-resource="{r.id}"') for r in (crane, top, engineer)]
    assert rows == sorted(rows) and "padding-left: 1.75em" in body  # CRANE, DEPT, then ENG below DEPT
    found = pages.get("/resources/?q=petrov").get_data(as_text=True)
    assert f'data-resource="{engineer.id}"' in found and f'data-resource="{crane.id}"' not in found


def test_an_administrator_creates_a_resource_with_rates_and_roles(pages, session, admin, place):
    role = place["role"]
    response = pages.log_in_as(admin).post("/resources/", {
        "code": "SIDOROV", "name": "Sidorov", "type": "labor", "max_units_per_hour": "1", "active": "y",
        "default_units_per_hour": "0,5", "rates": "2026-01-01; 1 500,00\n2026-03-01; 1600.50; 0,5",
        f"proficiency-{role.id}": "2"})
    assert "Sidorov" in _followed(pages, response)
    created = session.scalar(select(Resource).where(Resource.code == "SIDOROV"))
    assert created.default_units_per_hour == 0.5
    assert [(r.effective_from, r.price_per_unit, r.max_units_per_hour) for r in created.rates] == [
        (date(2026, 1, 1), Decimal("1500.00"), None), (date(2026, 3, 1), Decimal("1600.50"), 0.5)]
    assert [(link.role_id, link.proficiency) for link in created.role_links] == [(role.id, 2)]


def test_a_role_is_created_and_renamed(pages, session, admin):
    response = pages.log_in_as(admin).post("/resources/roles", {"code": "WELD", "name": "Welder",
                                                                  "rates": "2026-01-01 700"})
    assert "Welder" in _followed(pages, response)
    role = session.scalar(select(ResourceRole).where(ResourceRole.code == "WELD"))
    response = pages.post(f"/resources/roles/{role.id}", {"code": "WELD", "name": "Welder, 5th grade", "rates": ""})
    assert "Welder, 5th grade" in _followed(pages, response)


def test_bad_input_goes_back_with_the_reason_in_russian(pages, session, admin, place):
    admin.locale = "ru"
    session.commit()
    response = pages.log_in_as(admin).post("/resources/", {"code": "X", "name": "X", "rates": "yesterday 5"})
    assert "строка 1" in _followed(pages, response)
    response = pages.post("/resources/", {"code": "IVANOV", "name": "Again"})
    assert "занят" in _followed(pages, response)
    assert session.scalar(select(Resource).where(Resource.code == "X")) is None


def test_only_administrators_change_the_pool(pages, session, admin, place, user_with):
    user = user_with(Role.manager)
    pages.log_in_as(user)
    assert pages.get("/resources/").status_code == 200  # the pool's names are no secret
    assert pages.get(f"/resources/{place['resource'].id}").status_code == 403
    assert pages.post("/resources/", {"code": "NEW", "name": "New"}).status_code == 403
    assert pages.post(f"/resources/{place['resource'].id}/delete").status_code == 403
    assert session.get(Resource, place["resource"].id) is not None


def test_the_activity_page_assigns_changes_and_removes_resources(pages, session, admin, place):
    """100.00 an hour over the activity's 16 hours: 1600.00; then 0.5 units per hour under fixed duration and
    units/time: 8 hours, 800.00."""
    activity, project = place["activity"], place["project"]
    url = f"/projects/{project.id}/activities/{activity.id}"
    pages.log_in_as(admin)
    assert "Resources" in pages.get(url).get_data(as_text=True)
    body = _followed(pages, pages.post(f"{url}/assignments", {"resource_id": str(place["resource"].id),
                                                               "role_id": str(place["role"].id)}))
    assert "Ivanov Ivan" in body and "PLC programmer" in body
    assignment = session.scalar(select(Assignment))
    assert assignment.budgeted_cost == Decimal("1600.00")
    activity.duration_type = "fixed_duration_and_units_time"
    session.commit()
    _followed(pages, pages.post(f"/projects/{project.id}/assignments/{assignment.id}", {
        "resource_id": str(place["resource"].id), "role_id": str(place["role"].id), "budgeted_units": "16",
        "units_per_hour": "0,5", "rate_source": "resource", "curve": "uniform"}))
    session.expire_all()
    assignment = session.get(Assignment, assignment.id)
    assert (assignment.budgeted_units, assignment.budgeted_cost) == (8.0, Decimal("800.00"))
    _followed(pages, pages.post(f"/projects/{project.id}/assignments/{assignment.id}/delete"))
    assert session.scalar(select(Assignment)) is None


def test_a_viewer_sees_the_resources_read_only_and_an_outsider_nothing(pages, session, admin, place, user_with):
    factories.assignment(session, actor=admin, activity=place["activity"], resource=place["resource"])
    session.commit()
    url = f"/projects/{place['project'].id}/activities/{place['activity'].id}"
    body = pages.log_in_as(user_with(Role.viewer)).get(url).get_data(as_text=True)
    assert "Ivanov Ivan" in body and "/assignments" not in body
    assert pages.post(f"{url}/assignments", {"resource_id": str(place["resource"].id)}).status_code == 403
    assert pages.log_in_as(user_with(None)).get(url).status_code == 404


def test_rates_are_read_one_per_line():
    assert parse_rates("2026-01-01 1500\n\n2026-02-01; 1 600,25; 0.5", with_units=True) == [
        {"effective_from": date(2026, 1, 1), "price_per_unit": Decimal("1500.00")},
        {"effective_from": date(2026, 2, 1), "price_per_unit": Decimal("1600.25"), "max_units_per_hour": 0.5}]


def test_the_rates_reader_holds_its_docstring_examples():
    import doctest

    from web.views import pool

    assert doctest.testmod(pool).failed == 0

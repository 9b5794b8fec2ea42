"""The pool's services: resources and roles (administrators), assignments (project rights), prices and roll-up."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from crmpm.audit.models import AuditEntry
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound
from eps.models import Role
from tests import factories
from wbs import services as wbs_services
from wbs.resources import services as pool
from wbs.resources.models import Assignment


@pytest.fixture
def admin(session):
    return factories.admin(session)


@pytest.fixture
def place(session, admin):
    node = factories.node(session, actor=admin, code="N")
    project = factories.project(session, actor=admin, node=node, code="P")
    activity = wbs_services.create_activity(session, actor=admin, project=project, code="A1", name="Wire",
                                            original_duration_hours=16.0)
    return {"node": node, "project": project, "activity": activity}


def _rates(*pairs):
    return [{"effective_from": day, "price_per_unit": Decimal(price)} for day, price in pairs]


def test_only_administrators_change_the_pool_but_everyone_reads_it(session, admin):
    user = factories.user(session)
    with pytest.raises(Forbidden):
        pool.create_resource(session, actor=user, code="ENG", name="Engineer")
    with pytest.raises(Forbidden):
        pool.create_role(session, actor=user, code="PLC", name="PLC programmer")
    resource = pool.create_resource(session, actor=admin, code="ENG", name="Engineer")
    with pytest.raises(Forbidden):
        pool.update_resource(session, actor=user, resource=resource, name="X")
    with pytest.raises(Forbidden):
        pool.delete_resource(session, actor=user, resource=resource)
    assert [r.code for r in session.scalars(pool.list_resources(session, user=user))] == ["ENG"]


def test_a_resource_keeps_its_fields_rates_and_roles_and_every_change_is_audited(session, admin):
    role = pool.create_role(session, actor=admin, code="PLC", name="PLC programmer",
                            rates=_rates((date(2026, 1, 1), "90.00")))
    parent = pool.create_resource(session, actor=admin, code="DEPT", name="Automation")
    person = factories.user(session)
    resource = pool.create_resource(
        session, actor=admin, code="IVANOV", name="Ivanov", type="labor", parent_id=parent.id,
        max_units_per_hour=1.0, default_units_per_hour=0.5, unit_of_measure="h", user_id=person.id,
        rates=_rates((date(2026, 3, 1), "120.00"), (date(2026, 1, 1), "100.00")),
        roles=[{"role_id": role.id, "proficiency": 2}])
    assert [(r.effective_from, r.price_per_unit) for r in resource.rates] == [
        (date(2026, 1, 1), Decimal("100.00")), (date(2026, 3, 1), Decimal("120.00"))]
    assert [(link.role_id, link.proficiency) for link in resource.role_links] == [(role.id, 2)]
    pool.update_resource(session, actor=admin, resource=resource, name="Ivanov I.", active=False)
    actions = session.execute(select(AuditEntry.action).where(AuditEntry.entity_type == "resources",
                                                              AuditEntry.entity_id == resource.id)
                              .order_by(AuditEntry.id)).scalars().all()
    assert actions == ["create", "update"]
    assert [(r.code, depth) for r, depth in pool.resource_tree([resource, parent])] == [("DEPT", 0), ("IVANOV", 1)]


@pytest.mark.parametrize("fields, field", [
    ({"type": "robot"}, "type"),
    ({"max_units_per_hour": 0}, "max_units_per_hour"),
    ({"default_units_per_hour": -1}, "default_units_per_hour"),
    ({"rates": [{"effective_from": date(2026, 1, 1), "price_per_unit": Decimal("-1")}]}, "rates"),
    ({"roles": [{"role_id": 999_999, "proficiency": 1}]}, "roles"),
    ({"calendar_id": 999_999}, "calendar_id"),
    ({"eps_node_id": 999_999}, "eps_node_id"),
])
def test_bad_resource_fields_are_refused_naming_the_field(session, admin, fields, field):
    with pytest.raises((Invalid, NotFound)) as refused:
        pool.create_resource(session, actor=admin, code="X", name="X", **fields)
    assert field in (refused.value.errors or {})


def test_codes_are_unique_and_a_user_is_one_resource(session, admin):
    person = factories.user(session)
    pool.create_resource(session, actor=admin, code="ENG", name="Engineer", user_id=person.id)
    with pytest.raises(Conflict) as taken:
        pool.create_resource(session, actor=admin, code="ENG", name="Another")
    assert "code" in taken.value.errors
    with pytest.raises(Conflict) as linked:
        pool.create_resource(session, actor=admin, code="ENG2", name="Another", user_id=person.id)
    assert "user_id" in linked.value.errors


def test_a_resource_cannot_be_below_itself(session, admin):
    top = pool.create_resource(session, actor=admin, code="TOP", name="Top")
    below = pool.create_resource(session, actor=admin, code="BELOW", name="Below", parent_id=top.id)
    with pytest.raises(Invalid) as loop:
        pool.update_resource(session, actor=admin, resource=top, parent_id=below.id)
    assert "parent_id" in loop.value.errors


def test_deleting_what_is_assigned_is_a_conflict_and_deactivating_is_the_way(session, admin, place):
    role = factories.role(session, actor=admin)
    resource = factories.resource(session, actor=admin)
    factories.assignment(session, actor=admin, activity=place["activity"], resource=resource, role=role)
    with pytest.raises(Conflict):
        pool.delete_resource(session, actor=admin, resource=resource)
    with pytest.raises(Conflict):
        pool.delete_role(session, actor=admin, role=role)
    pool.update_resource(session, actor=admin, resource=resource, active=False)
    unused = factories.resource(session, actor=admin)
    pool.delete_resource(session, actor=admin, resource=unused)
    assert session.get(type(unused), unused.id) is None


def test_an_inactive_resource_is_not_assigned(session, admin, place):
    resource = factories.resource(session, actor=admin, active=False)
    with pytest.raises(Invalid) as refused:
        factories.assignment(session, actor=admin, activity=place["activity"], resource=resource)
    assert "resource_id" in refused.value.errors


def test_an_assignment_needs_a_resource_or_a_role(session, admin, place):
    with pytest.raises(Invalid):
        factories.assignment(session, actor=admin, activity=place["activity"])


def test_costs_come_from_the_rate_in_effect_on_the_assignment_start_and_roll_up(session, admin, place):
    """Rates 100.00 from 1 January and 120.00 from 1 March; an assignment starting 10 March at 0.5 units/h over
    the activity's 16 hours works 0.5 × 16 = 8 h at 120.00 = 960.00; a second from 10 February, 10 h at the
    rate then, 100.00, costs 1000.00. The activity costs 960.00 + 1000.00 = 1960.00, the project too."""
    activity, project = place["activity"], place["project"]
    resource = factories.resource(session, actor=admin, rates=_rates((date(2026, 1, 1), "100.00"),
                                                                     (date(2026, 3, 1), "120.00")))
    first = factories.assignment(session, actor=admin, activity=activity, resource=resource, units_per_hour=0.5,
                                 start=datetime(2026, 3, 10, 8), finish=datetime(2026, 3, 11, 17))
    assert first.budgeted_units == 8.0
    assert first.budgeted_cost == Decimal("960.00")
    factories.assignment(session, actor=admin, activity=activity, resource=resource, budgeted_units=10.0,
                         start=datetime(2026, 2, 10, 8), finish=datetime(2026, 2, 11, 17))
    assert activity.budgeted_cost == Decimal("1960.00")
    assert project.planned_cost == Decimal("1960.00")


def test_a_role_prices_until_staffed_and_keeps_its_role_after(session, admin, place):
    """The role costs 90.00/h: 16 h × 90.00 = 1440.00. Staffed with a resource at 50.00/h and its rate source
    set to the resource: 16 × 50.00 = 800.00, the role still on the assignment."""
    role = factories.role(session, actor=admin, price="90.00")
    assignment = factories.assignment(session, actor=admin, activity=place["activity"], role=role)
    assert (assignment.rate_source, assignment.budgeted_cost) == ("role", Decimal("1440.00"))
    person = factories.resource(session, actor=admin, price="50.00")
    pool.update_assignment(session, actor=admin, project=place["project"], assignment=assignment,
                           resource_id=person.id, rate_source="resource")
    assert (assignment.role_id, assignment.resource_id) == (role.id, person.id)
    assert assignment.budgeted_cost == Decimal("800.00")
    assert place["activity"].budgeted_cost == Decimal("800.00")


def test_an_overridden_price_and_actual_units_are_priced(session, admin, place):
    """A price of 75.50 on 4 actual and 12 remaining hours of 16: 302.00 actual, 906.00 remaining, 1208.00."""
    resource = factories.resource(session, actor=admin, price="10.00")
    assignment = factories.assignment(session, actor=admin, activity=place["activity"], resource=resource,
                                      price_per_unit=Decimal("75.50"), actual_units=4.0)
    assert assignment.rate_source == "override"
    assert (assignment.actual_cost, assignment.remaining_cost, assignment.budgeted_cost) == (
        Decimal("302.00"), Decimal("906.00"), Decimal("1208.00"))
    assert place["activity"].actual_cost == Decimal("302.00")
    assert place["project"].actual_cost == Decimal("302.00")


def test_removing_the_last_assignment_leaves_the_activity_costing_nothing(session, admin, place):
    resource = factories.resource(session, actor=admin, price="10.00")
    assignment = factories.assignment(session, actor=admin, activity=place["activity"], resource=resource)
    assert place["project"].planned_cost == Decimal("160.00")
    pool.delete_assignment(session, actor=admin, project=place["project"], assignment=assignment)
    assert place["activity"].budgeted_cost == Decimal("0.00")
    assert place["project"].planned_cost == Decimal("0.00")


def test_assignment_dates_default_to_the_remaining_early_dates_else_the_baseline(session, admin, place):
    activity = place["activity"]
    activity.baseline_start, activity.baseline_finish = datetime(2026, 5, 4, 8), datetime(2026, 5, 5, 17)
    resource = factories.resource(session, actor=admin)
    planned = factories.assignment(session, actor=admin, activity=activity, resource=resource)
    assert (planned.start, planned.finish) == (datetime(2026, 5, 4, 8), datetime(2026, 5, 5, 17))
    activity.remaining_early_start, activity.remaining_early_finish = datetime(2026, 6, 1, 8), datetime(2026, 6, 2, 17)
    scheduled = factories.assignment(session, actor=admin, activity=activity, resource=resource)
    assert (scheduled.start, scheduled.finish) == (datetime(2026, 6, 1, 8), datetime(2026, 6, 2, 17))


def test_assignments_follow_the_project_rights(session, admin, place):
    resource = factories.resource(session, actor=admin)
    assignment = factories.assignment(session, actor=admin, activity=place["activity"], resource=resource)
    stranger, viewer = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=place["node"], user=viewer)
    with pytest.raises(NotFound):
        pool.list_assignments(session, user=stranger, project=place["project"])
    assert session.scalars(pool.list_assignments(session, user=viewer, project=place["project"])).all() == [assignment]
    with pytest.raises(Forbidden):
        pool.update_assignment(session, actor=viewer, project=place["project"], assignment=assignment,
                               budgeted_units=1.0)
    with pytest.raises(Forbidden):
        factories.assignment(session, actor=viewer, activity=place["activity"], resource=resource)
    with pytest.raises(Forbidden):
        pool.delete_assignment(session, actor=viewer, project=place["project"], assignment=assignment)
    assert session.scalar(select(Assignment.id)) == assignment.id


def test_a_new_rate_reprices_the_assignments_and_rolls_them_up(session, admin, place):
    """16 h at 10.00 = 160.00; the resource's rate becomes 12.50 from 2000 on: 16 × 12.50 = 200.00, on the
    activity and the project too."""
    resource = factories.resource(session, actor=admin, price="10.00")
    assignment = factories.assignment(session, actor=admin, activity=place["activity"], resource=resource)
    assert place["project"].planned_cost == Decimal("160.00")
    pool.update_resource(session, actor=admin, resource=resource,
                         rates=_rates((date(2000, 1, 1), "12.50")))
    assert assignment.budgeted_cost == place["activity"].budgeted_cost == Decimal("200.00")
    assert place["project"].planned_cost == Decimal("200.00")

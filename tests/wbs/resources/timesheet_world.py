"""A small world for timesheet tests (domain, API, pages): made with the models directly."""

from datetime import date
from decimal import Decimal

from eps.models import Role
from tests import factories
from wbs import services as wbs_services
from wbs.resources.models import Assignment, Resource, ResourceRate

MONDAY = date(2026, 11, 30)
RATE = Decimal("80.00")


def resource_for(session, *, user, code, rate=RATE, activities=()):
    """A labour resource linked to ``user`` at ``rate`` an hour, assigned to ``activities`` ((activity,
    budgeted hours) pairs); the resource and its assignments by activity code."""
    resource = Resource(code=code, name=f"Resource {code}", user_id=user.id if user else None)
    resource.rates.append(ResourceRate(effective_from=date(2026, 1, 1), price_per_unit=rate))
    session.add(resource)
    session.flush()
    assignments = {}
    for activity, budget in activities:
        assignments[activity.code] = Assignment(project_id=activity.project_id, activity_id=activity.id,
                                                resource_id=resource.id, budgeted_units=budget,
                                                remaining_units=budget)
        session.add(assignments[activity.code])
    session.flush()
    return resource, assignments


def build(session, admin, *, parent=None, prefix=""):
    """Two projects under one node; an engineer (a user linked to a resource at 80.00 an hour) assigned to two
    activities of P1 (budgeted 40 h and 10 h) and one of P2 (budgeted 20 h); a PM editing P1 only, another P2."""
    root = parent or factories.node(session, actor=admin, code=f"{prefix}ROOT")
    node = factories.node(session, actor=admin, parent=root, code=f"{prefix}N1")
    p1 = factories.project(session, actor=admin, node=node, code=f"{prefix}P1")
    p2 = factories.project(session, actor=admin, node=node, code=f"{prefix}P2")
    a1 = wbs_services.create_activity(session, actor=admin, project=p1, code="A1", name="Design")
    a2 = wbs_services.create_activity(session, actor=admin, project=p1, code="A2", name="Build")
    b1 = wbs_services.create_activity(session, actor=admin, project=p2, code="B1", name="Test")
    unassigned = wbs_services.create_activity(session, actor=admin, project=p1, code="A3", name="Other")
    engineer = factories.user(session, name=f"{prefix}Engineer")
    resource, assignments = resource_for(session, user=engineer, code=f"{prefix}ENG1",
                                         activities=((a1, 40.0), (a2, 10.0), (b1, 20.0)))
    pm = factories.user(session, name=f"{prefix}PM")
    factories.grant(session, actor=admin, role=Role.editor, target=p1, user=pm)
    pm2 = factories.user(session, name=f"{prefix}PM2")
    factories.grant(session, actor=admin, role=Role.editor, target=p2, user=pm2)
    session.flush()
    return {"root": root, "node": node, "p1": p1, "p2": p2, "a1": a1, "a2": a2, "b1": b1, "unassigned": unassigned,
            "engineer": engineer, "resource": resource, "pm": pm, "pm2": pm2, "assignments": assignments}

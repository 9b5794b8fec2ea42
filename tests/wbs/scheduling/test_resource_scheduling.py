"""Scheduling a stored project with resources: a resource-dependent activity works on its primary resource's
calendar (P6's rule), and after a schedule every assignment's dates follow its activity's.

The case, worked out by hand (project calendar Monday to Friday 08:00-12:00, 13:00-17:00; data date Monday
2026-03-02 08:00; the resource's calendar Monday to Saturday 06:00-18:00 with Tuesday 2026-03-03 off):

* DIG, 24 h, resource-dependent on CRANE: Monday 08:00-18:00 is 10 h, Tuesday is the crane's holiday, Wednesday
  06:00-18:00 12 h (22 h), Thursday 06:00-08:00 2 h: finish Thursday 2026-03-05 08:00.
  On the project calendar it would take 8 + 8 + 8 h: finish Wednesday 2026-03-04 17:00.
* POUR, 8 h, an ordinary task with CRANE as primary resource, after DIG (FS): its own calendar, so it starts
  Thursday 08:00 and works 08:00-12:00 and 13:00-17:00: finish Thursday 2026-03-05 17:00.
* LIFT, 8 h, resource-dependent on HAND, a resource without a calendar: the project's calendar, Monday 08:00 to
  Monday 17:00.
* DONE, finished (actual 2026-02-23 08:00 to 2026-02-24 17:00): its assignment keeps the actual dates.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from tests import factories
from wbs import services
from wbs.models import Activity, Relationship
from wbs.resources.models import Assignment, Resource
from wbs.scheduling import service as scheduling_service

WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]
CRANE_WEEK = [[[360, 1080]]] * 6 + [[]]
DATA_DATE = datetime(2026, 3, 2, 8, 0)


@pytest.fixture
def world(session):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="RSCHED")
    project = factories.project(session, actor=admin, node=node, code="RSCHED")
    calendar = services.create_calendar(session, actor=admin, name="Standard", week=WEEK, project=project)
    services.update_plan(session, actor=admin, project=project, data_date=DATA_DATE, default_calendar_id=calendar.id)
    crane_calendar = services.create_calendar(session, actor=admin, name="Crane", week=CRANE_WEEK,
                                              exceptions={date(2026, 3, 3): []})
    crane_calendar.kind = "resource"
    crane = Resource(code="CRANE", name="Crane", type="nonlabor", calendar_id=crane_calendar.id)
    hand = Resource(code="HAND", name="Hand", type="labor")
    session.add_all([crane, hand])
    session.flush()

    def activity(code, hours, kind="task", primary=None, **fields):
        fields.setdefault("remaining_duration_hours", hours)
        made = services.create_activity(session, actor=admin, project=project, code=code, name=code, type=kind,
                                        original_duration_hours=hours, calendar_id=calendar.id,
                                        primary_resource_id=primary, **fields)
        session.add(Assignment(project_id=project.id, activity_id=made.id, resource_id=primary or hand.id,
                               budgeted_units=hours, remaining_units=hours, budgeted_cost=Decimal("0.00"),
                               start=datetime(2020, 1, 1), finish=datetime(2020, 1, 2)))
        return made

    dig = activity("DIG", 24, "resource_dependent", crane.id)
    pour = activity("POUR", 8, "task", crane.id)
    lift = activity("LIFT", 8, "resource_dependent", hand.id)
    done = activity("DONE", 16, actual_start=datetime(2026, 2, 23, 8), actual_finish=datetime(2026, 2, 24, 17),
                    remaining_duration_hours=0, percent_complete=100.0)
    session.add(Relationship(predecessor_id=dig.id, successor_id=pour.id, type="FS", lag_hours=0))
    session.flush()
    scheduling_service.schedule_project(session, actor=admin, project=project)
    return {"project": project, "dig": dig, "pour": pour, "lift": lift, "done": done, "admin": admin,
            "crane": crane}


def _assignment(session, activity):
    return session.query(Assignment).filter_by(activity_id=activity.id).one()


def test_resource_dependent_activity_works_on_its_primary_resources_calendar(session, world):
    dig, pour, lift = world["dig"], world["pour"], world["lift"]
    session.refresh(dig), session.refresh(pour), session.refresh(lift)
    assert (dig.early_start, dig.early_finish) == (datetime(2026, 3, 2, 8), datetime(2026, 3, 5, 8))
    assert (pour.early_start, pour.early_finish) == (datetime(2026, 3, 5, 8), datetime(2026, 3, 5, 17))
    assert (lift.early_start, lift.early_finish) == (datetime(2026, 3, 2, 8), datetime(2026, 3, 2, 17))


def test_the_activitys_calendar_helper_follows_the_same_rule(session, world):
    project = world["project"]
    dig, pour = world["dig"], world["pour"]
    assert scheduling_service.activity_calendar(session, project=project, activity=dig).name == "Crane"
    assert scheduling_service.activity_calendar(session, project=project, activity=pour).name == "Standard"


def test_assignments_follow_the_stored_schedule(session, world):
    dig, pour, done = world["dig"], world["pour"], world["done"]
    assert (_assignment(session, dig).start, _assignment(session, dig).finish) == (
        datetime(2026, 3, 2, 8), datetime(2026, 3, 5, 8))
    assert (_assignment(session, pour).start, _assignment(session, pour).finish) == (
        datetime(2026, 3, 5, 8), datetime(2026, 3, 5, 17))
    # Finished work keeps its actual dates.
    assert (_assignment(session, done).start, _assignment(session, done).finish) == (
        datetime(2026, 2, 23, 8), datetime(2026, 2, 24, 17))


def test_a_new_resource_calendar_moves_the_activity_at_the_next_schedule(session, world):
    crane, dig = world["crane"], world["dig"]
    crane.calendar_id = None  # the crane now works when the project does
    session.flush()
    scheduling_service.schedule_project(session, actor=world["admin"], project=world["project"])
    session.refresh(dig)
    # 24 h on the project calendar from Monday 08:00: Monday, Tuesday, Wednesday, finish Wednesday 17:00.
    assert dig.early_finish == datetime(2026, 3, 4, 17)
    assert _assignment(session, dig).finish == datetime(2026, 3, 4, 17)
    assert session.get(Activity, dig.id).early_finish == datetime(2026, 3, 4, 17)

"""An activity's duration edited through ``wbs.services.update_activity`` moves its assignments by its duration
type (``wbs.services.on_activity_change``, heard by ``wbs.resources.services``); figures worked by hand."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crmpm.audit.models import AuditEntry
from tests import factories
from tests.api.conftest import api  # noqa: F401 - the HTTP client fixture
from wbs import services as wbs_services

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def admin(session):
    return factories.admin(session)


def _assigned(session, admin, duration_type, **fields):
    """An activity of 40 h with one resource at 25.00 an hour assigned at 1.0: 40 h of work, 1000.00."""
    node = factories.node(session, actor=admin)
    project = factories.project(session, actor=admin, node=node)
    activity = wbs_services.create_activity(session, actor=admin, project=project, code="A", name="A",
                                            original_duration_hours=40.0, duration_type=duration_type)
    resource = factories.resource(session, actor=admin, price="25.00")
    assignment = factories.assignment(session, actor=admin, activity=activity, resource=resource, **fields)
    return project, activity, assignment


def _set_duration(session, admin, project, activity, hours):
    wbs_services.update_activity(session, actor=admin, project=project, activity=activity,
                                 original_duration_hours=hours)


def test_fixed_duration_and_units_time_a_new_duration_moves_the_units_and_cost(session, admin):
    """1.0 over 40 h becomes 1.0 over 24 h: 1.0 × 24 = 24 h of work, all remaining, 24 × 25.00 = 600.00."""
    project, activity, assignment = _assigned(session, admin, "fixed_duration_and_units_time")
    _set_duration(session, admin, project, activity, 24.0)
    assert (assignment.budgeted_units, assignment.units_per_hour, assignment.remaining_units) == (24.0, 1.0, 24.0)
    assert str(assignment.budgeted_cost) == str(activity.budgeted_cost) == str(project.planned_cost) == "600.00"


def test_fixed_duration_and_units_a_new_duration_moves_the_rate(session, admin):
    """40 h of work over 80 h instead of 40: the rate is 40 / 80 = 0.5, the cost stays 40 × 25.00 = 1000.00."""
    project, activity, assignment = _assigned(session, admin, "fixed_duration_and_units")
    _set_duration(session, admin, project, activity, 80.0)
    assert (assignment.budgeted_units, assignment.units_per_hour, assignment.remaining_units) == (40.0, 0.5, 40.0)
    assert str(project.planned_cost) == "1000.00"


def test_fixed_units_a_new_duration_moves_the_rate(session, admin):
    """40 h of work in 20 h: 40 / 20 = 2.0 units per hour; the units and the 1000.00 stay."""
    project, activity, assignment = _assigned(session, admin, "fixed_units")
    _set_duration(session, admin, project, activity, 20.0)
    assert (assignment.budgeted_units, assignment.units_per_hour, assignment.remaining_units) == (40.0, 2.0, 40.0)
    assert str(project.planned_cost) == "1000.00"


def test_fixed_units_time_a_new_duration_moves_the_units_and_cost(session, admin):
    """1.0 over 10 h instead of 40: 1.0 × 10 = 10 h of work, 10 × 25.00 = 250.00; the change is audited."""
    project, activity, assignment = _assigned(session, admin, "fixed_units_time")
    _set_duration(session, admin, project, activity, 10.0)
    assert (assignment.budgeted_units, assignment.units_per_hour, assignment.remaining_units) == (10.0, 1.0, 10.0)
    assert str(activity.budgeted_cost) == str(project.planned_cost) == "250.00"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "resource_assignments",
                                                     AuditEntry.action == "update")).one()
    assert entry.entity_id == assignment.id


def test_remaining_units_keep_the_work_done(session, admin):
    """40 h budgeted, 30 remaining (10 done) at 1.0, fixed units/time; the duration becomes 60 h: 1.0 × 60 = 60 h
    budgeted, 60 − 10 = 50 remaining."""
    project, activity, assignment = _assigned(session, admin, "fixed_units_time", actual_units=10.0,
                                              remaining_units=30.0)
    _set_duration(session, admin, project, activity, 60.0)
    assert (assignment.budgeted_units, assignment.remaining_units) == (60.0, 50.0)


def test_the_activity_patch_of_the_api_moves_the_assignments_too(api, session, admin):
    """PATCH original_duration_hours 40 → 16 on a fixed units/time activity: 1.0 × 16 = 16 h, 16 × 25.00 = 400.00."""
    project, activity, assignment = _assigned(session, admin, "fixed_units_time")
    session.commit()
    response = api.patch(f"/api/v1/projects/{project.id}/activities/{activity.id}", user=admin,
                         json={"original_duration_hours": 16.0})
    assert response.status_code == 200, response.json
    session.expire_all()
    assert session.get(type(assignment), assignment.id).budgeted_units == 16.0
    assert str(session.get(type(activity), activity.id).budgeted_cost) == "400.00"


def test_an_activity_without_assignments_is_unaffected(session, admin):
    """No assignments: its costs (set by hand) stay, nothing is written for assignments."""
    node = factories.node(session, actor=admin)
    project = factories.project(session, actor=admin, node=node)
    activity = wbs_services.create_activity(session, actor=admin, project=project, code="A", name="A",
                                            original_duration_hours=40.0, duration_type="fixed_units_time",
                                            budgeted_cost=Decimal("300.00"))
    _set_duration(session, admin, project, activity, 10.0)
    assert activity.original_duration_hours == 10.0
    assert activity.budgeted_cost == Decimal("300.00")
    assert session.scalar(select(func.count()).select_from(AuditEntry)
                          .where(AuditEntry.entity_type == "resource_assignments")) == 0


def test_other_fields_leave_the_assignments_as_they_were(session, admin):
    """A new name is no new duration: the 40 h at 1.0 stay."""
    project, activity, assignment = _assigned(session, admin, "fixed_units_time")
    wbs_services.update_activity(session, actor=admin, project=project, activity=activity, name="Renamed")
    assert (assignment.budgeted_units, assignment.units_per_hour) == (40.0, 1.0)


def test_the_app_has_the_assignments_follow_an_activitys_duration(tmp_path):
    """A process that edits activities through the WBS services alone has the assignments listening once it has
    made the app, though the WBS imports nothing of the resources."""
    script = ("import sys; from crmpm import create_app; from wbs import services\n"
              "before = [l.__module__ + '.' + l.__name__ for l in services.activity_listeners()]\n"
              "create_app({'DATABASE_URL': sys.argv[1], 'TESTING': True, 'JOBS_URL': 'memory://'})\n"
              "after = [l.__module__ + '.' + l.__name__ for l in services.activity_listeners()]\n"
              "print(before, after)")
    result = subprocess.run([sys.executable, "-c", script, f"sqlite:///{tmp_path / 'app.db'}"], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] ['wbs.resources.services.follow_activity_duration']"

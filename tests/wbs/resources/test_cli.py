"""``crmpm capacity rebuild-loads`` rebuilds the booked hours of assignments written around the ORM."""

from __future__ import annotations

from datetime import datetime, timezone

from click.testing import CliRunner
from sqlalchemy import func, select

from wbs.resources.cli import capacity
from tests import factories
from tests.wbs.resources import oracle
from wbs.resources.loads import ResourceLoad
from wbs.resources.models import Assignment


def test_rebuild_loads_writes_the_rows_of_assignments_inserted_by_statements(app, session):
    admin = factories.admin(session)
    project = factories.project(session, actor=admin, node=factories.node(session, actor=admin))
    worker = oracle.resource(session)
    activity = oracle.activity(session, project=project)
    session.execute(Assignment.__table__.insert().values(
        project_id=project.id, activity_id=activity.id, resource_id=worker.id, budgeted_units=16.0,
        actual_units=0.0, remaining_units=16.0, units_per_hour=1.0, budgeted_cost=0, actual_cost=0,
        remaining_cost=0, rate_source="resource", curve="uniform", start=datetime(2027, 6, 7, 8, 0),
        finish=datetime(2027, 6, 8, 17, 0), created_at=datetime(2027, 1, 1, tzinfo=timezone.utc)))
    session.commit()
    hours = select(func.coalesce(func.sum(ResourceLoad.hours), 0.0)).where(ResourceLoad.resource_id == worker.id)
    assert session.scalar(hours) == 0.0
    runner = CliRunner()
    result = runner.invoke(capacity, ["rebuild-loads", "--project", str(project.id)], obj={"app": app})
    assert result.exit_code == 0, result.output
    assert session.scalar(hours) == 16.0

"""A plan's activities in schedule order are read from migration 0015's index (project, early start, code): the
first page of a big plan (the activity picker's suggestions without text, the project page) without sorting every
activity of the plan (PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests import factories
from tests.plans import plans_of, postgresql_only
from wbs import services

INDEX = "ix_activities_project_early_start"


@pytest.fixture
def plan(session):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="ENT")
    project = factories.project(session, actor=admin, node=node, code="BIG")
    other = factories.project(session, actor=admin, node=node, code="OTHER")
    start = datetime(2026, 12, 7, 8)
    # Codes against the dates' order, two activities on one day, and two not scheduled yet.
    for index, (code, day) in enumerate([("A9", 0), ("A1", 3), ("A5", 1), ("A3", 1), ("A7", None), ("A2", None)]):
        made = services.create_activity(session, actor=admin, project=project, code=code, name=f"Activity {index}")
        made.early_start = None if day is None else start + timedelta(days=day)
    services.create_activity(session, actor=admin, project=other, code="A0", name="Elsewhere")
    session.flush()
    return project


def test_schedule_order_is_early_start_with_the_unscheduled_last_then_code(session, plan):
    # Both databases: the order the index holds is the order the pages have always shown.
    codes = [a.code for a in session.scalars(services.list_activities(session, project=plan))]
    assert codes == ["A9", "A3", "A5", "A1", "A2", "A7"]
    assert [a.code for a in session.scalars(services.list_activities(session, project=plan).limit(3))] == [
        "A9", "A3", "A5"]


def test_the_first_page_is_read_in_index_order_without_a_sort(session, plan):
    postgresql_only(session)
    plans = plans_of(session, lambda: session.scalars(services.list_activities(session, project=plan).limit(20)).all(),
                     off=("seqscan", "sort", "bitmapscan"), containing="FROM activities")
    assert len(plans) == 1, plans
    assert INDEX in plans[0] and "Sort" not in plans[0], plans[0]


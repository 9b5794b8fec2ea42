"""What the pages read of a project's baselines (``wbs.baselines``): who took each, what one
kept of given activities and the span of its dates, and a baseline looked up within one project only."""

from __future__ import annotations

from datetime import datetime

import pytest

from crmpm.errors import NotFound
from tests import factories
from wbs import baselines, services

MONDAY = datetime(2026, 3, 2, 8)


@pytest.fixture
def two_projects(session):
    admin = factories.user(session, admin=True, name="Ada Admin")
    node = factories.node(session, actor=admin, code="R", budget="100.00")
    made = []
    for code in ("P1", "P2"):
        project = factories.project(session, actor=admin, node=node, code=code, budget="10.00")
        services.update_plan(session, actor=admin, project=project, planned_start=MONDAY, data_date=MONDAY)
        made.append(project)
    return admin, made


def _activity(session, admin, project, code, start, finish):
    activity = services.create_activity(session, actor=admin, project=project, code=code, name=code,
                                        original_duration_hours=8.0)
    activity.early_start, activity.early_finish = start, finish
    session.flush()
    return activity


def test_authors_roles_kept_dates_and_span(session, two_projects):
    admin, (p1, _p2) = two_projects
    a = _activity(session, admin, p1, "A", datetime(2026, 3, 2, 8), datetime(2026, 3, 2, 17))
    b = _activity(session, admin, p1, "B", datetime(2026, 3, 4, 8), datetime(2026, 3, 6, 17))
    first = baselines.create_baseline(session, actor=admin, project=p1, name="First")
    by_system = baselines.create_baseline(session, actor=None, project=p1, name="Nightly")
    late = _activity(session, admin, p1, "C", datetime(2026, 3, 9, 8), datetime(2026, 3, 9, 17))
    assert [(bl.name, author) for bl, author in baselines.baselines_with_authors(session, project=p1)] == [
        ("First", "Ada Admin"), ("Nightly", None)]
    kept = baselines.kept_of(session, baseline=by_system, activity_ids=[a.id, b.id, late.id])
    assert set(kept) == {a.id, b.id}  # C came after the baseline
    assert (kept[b.id].start, kept[b.id].finish) == (datetime(2026, 3, 4, 8), datetime(2026, 3, 6, 17))
    assert baselines.kept_of(session, baseline=first, activity_ids=[]) == {}
    assert tuple(baselines.kept_span(session, baseline=first)) == (datetime(2026, 3, 2, 8), datetime(2026, 3, 6, 17))
    # Several baselines at once, each by activity; the one taken after C holds it, the others do not.
    b.early_start, b.early_finish = datetime(2026, 3, 5, 8), datetime(2026, 3, 9, 17)
    session.flush()
    after = baselines.create_baseline(session, actor=admin, project=p1, name="After")
    many = baselines.kept_of_many(session, baselines=[first, after], activity_ids=[b.id, late.id])
    assert {key: set(value) for key, value in many.items()} == {first.id: {b.id}, after.id: {b.id, late.id}}
    assert (many[first.id][b.id].start, many[after.id][b.id].start) == (datetime(2026, 3, 4, 8), datetime(2026, 3, 5, 8))
    assert baselines.kept_of_many(session, baselines=[first], activity_ids=[]) == {first.id: {}}


def test_a_baseline_is_found_only_in_its_own_project(session, two_projects):
    admin, (p1, p2) = two_projects
    theirs = baselines.create_baseline(session, actor=admin, project=p2, name="Theirs")
    assert baselines.get_project_baseline_or_raise(session, project=p2, baseline_id=theirs.id) is theirs
    for wanted in (theirs.id, 0, -1, 2**31, theirs.id + 1000):
        with pytest.raises(NotFound):
            baselines.get_project_baseline_or_raise(session, project=p1, baseline_id=wanted)

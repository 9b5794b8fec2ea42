"""Levelling stored projects: levelled dates stored beside the untouched CPM dates, several projects sharing a
resource, load from projects outside the scope, the run and its report, rights.

Every project uses a calendar of Monday to Friday 08:00-12:00 and 13:00-17:00 and data date Monday
2026-03-02 08:00; every activity lasts 8 hours, so an activity's day is 08:00-17:00 of one working day.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from crmpm.errors import Forbidden, Invalid, NotFound
from eps.models import Role
from tests import factories
from wbs import services
from wbs.models import Activity, Relationship
from wbs.resources import levelling_service
from wbs.resources.levelling_models import LevellingRun
from wbs.resources.models import Assignment, Resource
from wbs.scheduling import service as scheduling_service

WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]
MON, TUE, WED, THU = (datetime(2026, 3, d, 8) for d in (2, 3, 4, 5))
BY_ID = {"priorities": [["activity_id", "asc"]]}


def day(start):
    return (start, start.replace(hour=17))


def _project(session, admin, node, code):
    project = factories.project(session, actor=admin, node=node, code=code)
    calendar = services.create_calendar(session, actor=admin, name="Standard", week=WEEK, project=project)
    services.update_plan(session, actor=admin, project=project, data_date=MON, default_calendar_id=calendar.id)
    return project


def _activity(session, project, code, resource=None):
    activity = Activity(project_id=project.id, code=code, name=code, type="task", original_duration_hours=8,
                        remaining_duration_hours=8, notes="")
    session.add(activity)
    session.flush()
    if resource is not None:
        session.add(Assignment(project_id=project.id, activity_id=activity.id, resource_id=resource.id,
                               units_per_hour=1.0, budgeted_units=8, remaining_units=8))
    return activity


@pytest.fixture
def world(session):
    """P1: A and B on ENG. P2: C on ENG, then D (FS, no resource). Both scheduled: A, B, C on Monday, D Tuesday."""
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="LEVEL")
    p1, p2 = _project(session, admin, node, "P1"), _project(session, admin, node, "P2")
    eng = Resource(code="ENG", name="Engineer", max_units_per_hour=1.0)
    session.add(eng)
    session.flush()
    a, b = _activity(session, p1, "A", eng), _activity(session, p1, "B", eng)
    c, d = _activity(session, p2, "C", eng), _activity(session, p2, "D")
    session.add(Relationship(predecessor_id=c.id, successor_id=d.id, type="FS", lag_hours=0))
    session.flush()
    for project in (p1, p2):
        scheduling_service.schedule_project(session, actor=admin, project=project)
    return {"admin": admin, "node": node, "p1": p1, "p2": p2, "a": a, "b": b, "c": c, "d": d}


def test_levelling_a_node_shares_the_resource_across_its_projects(session, world):
    """By activity id A keeps Monday, B waits for it (Tuesday), C for both (Wednesday), and D follows C
    (Thursday). The CPM early dates stay where the schedule put them."""
    w = world
    projects = levelling_service.scope_projects(session, actor=w["admin"], eps_node_id=w["node"].id)
    assert [p.id for p in projects] == sorted([w["p1"].id, w["p2"].id])
    run = levelling_service.level_projects(session, actor=w["admin"], projects=projects, options=BY_ID,
                                           eps_node=w["node"])
    for key, levelled in (("a", MON), ("b", TUE), ("c", WED), ("d", THU)):
        session.refresh(w[key])
        assert (w[key].levelled_start, w[key].levelled_finish) == day(levelled), key
    assert [w[k].early_start for k in "abcd"] == [MON, MON, MON, TUE]
    assert (run.activities, run.moved, run.unresolved) == (4, 3, 0)
    moved = {m["code"]: (m["reason"], m["delay_hours"]) for m in run.report["moved"]}
    assert moved == {"B": ("resource", 8.0), "C": ("resource", 16.0), "D": ("logic", 16.0)}


def test_work_in_a_project_outside_the_scope_is_a_fixed_load(session, world):
    """Levelling P1 alone: C (P2, not levelled) holds ENG on Monday, so A moves to Tuesday and B to Wednesday."""
    w = world
    run = levelling_service.level_projects(session, actor=w["admin"], projects=[w["p1"]], options=BY_ID,
                                           project=w["p1"])
    session.refresh(w["a"])
    session.refresh(w["b"])
    session.refresh(w["c"])
    assert (w["a"].levelled_start, w["b"].levelled_start) == (TUE, WED)
    assert w["c"].levelled_start is None
    assert levelling_service.last_run(session, user=w["admin"], project=w["p1"]).id == run.id
    assert levelling_service.last_run(session, user=w["admin"], project=w["p2"]) is None


def test_the_report_shows_a_reader_only_the_projects_they_may_read(session, world):
    w = world
    run = levelling_service.level_projects(session, actor=w["admin"], projects=[w["p1"], w["p2"]], options=BY_ID)
    reader = factories.user(session)
    factories.grant(session, actor=w["admin"], role=Role.viewer, target=w["p2"], user=reader)
    assert levelling_service.last_run(session, user=reader, project=w["p2"]).id == run.id
    report = levelling_service.report_for(session, user=reader, run=run)
    assert report["project_ids"] == [w["p2"].id]
    assert {m["code"] for m in report["moved"]} == {"C", "D"}
    with pytest.raises(NotFound):
        levelling_service.last_run(session, user=reader, project=w["p1"])


def test_rights_edit_on_every_project_unreadable_ones_not_found(session, world):
    w = world
    viewer, outsider, editor = factories.user(session), factories.user(session), factories.user(session)
    factories.grant(session, actor=w["admin"], role=Role.viewer, target=w["node"], user=viewer)
    factories.grant(session, actor=w["admin"], role=Role.editor, target=w["p1"], user=editor)
    with pytest.raises(Forbidden):
        levelling_service.start_levelling(session, actor=viewer, project=w["p1"])
    with pytest.raises(NotFound) as refused:
        levelling_service.start_levelling(session, actor=outsider, project=w["p1"])
    assert "P1" not in str(refused.value)
    # The editor of P1 may level it, but not with P2, which they cannot read: not found, by its id only.
    job = levelling_service.start_levelling(session, actor=editor, project=w["p1"])
    assert job.params["project_ids"] == [w["p1"].id]
    with pytest.raises(NotFound) as hidden:
        levelling_service.start_levelling(session, actor=editor, project=w["p1"], with_project_ids=[w["p2"].id])
    assert "P2" not in str(hidden.value)


@pytest.mark.parametrize("options, field", [
    ({"priorities": [["colour", "asc"]]}, "priorities"),
    ({"priorities": [["early_start", "up"]]}, "priorities"),
    ({"threshold_percent": 0}, "threshold_percent"),
    ({"minimum_float_hours": -1}, "minimum_float_hours"),
    ({"within_float": "yes"}, "within_float"),
    ({"speed": 3}, "speed"),
])
def test_bad_options_are_refused_naming_the_field(options, field):
    with pytest.raises(Invalid) as refused:
        levelling_service.check_options(options)
    assert field in refused.value.errors


def test_runs_are_kept(session, world):
    w = world
    levelling_service.level_projects(session, actor=w["admin"], projects=[w["p1"]])
    levelling_service.level_projects(session, actor=w["admin"], projects=[w["p1"]], options={"threshold_percent": 200})
    last = levelling_service.last_run(session, user=w["admin"], project=w["p1"])
    assert last.options["threshold_percent"] == 200.0
    assert session.query(LevellingRun).count() == 2

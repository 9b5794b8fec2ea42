"""Levelling through the API: 202 with the job, the job levels with its asker's rights, the report reads back.

The world is the one of ``tests/wbs/test_levelling_service.py``: P1 holds A and B, P2 holds C then D (FS); A, B
and C need the engineer ENG full time, every activity lasts 8 hours, and all start Monday 2026-03-02 by CPM.
"""

from __future__ import annotations

from sqlalchemy import select

from eps.models import Role
from tests import factories
from tests.committed import committed  # noqa: F401 - a fixture
from tests.wbs.test_levelling_service import MON, THU, TUE, WED, _activity, _project
from wbs.models import Activity, Relationship
from wbs.resources.models import Resource
from wbs.scheduling import service as scheduling_service


def _world(session):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="LEVEL")
    p1, p2 = _project(session, admin, node, "P1"), _project(session, admin, node, "P2")
    eng = Resource(code="ENG", name="Engineer", max_units_per_hour=1.0)
    session.add(eng)
    session.flush()
    _activity(session, p1, "A", eng), _activity(session, p1, "B", eng)
    c, d = _activity(session, p2, "C", eng), _activity(session, p2, "D")
    session.add(Relationship(predecessor_id=c.id, successor_id=d.id, type="FS", lag_hours=0))
    session.flush()
    for project in (p1, p2):
        scheduling_service.schedule_project(session, actor=admin, project=project)
    session.commit()
    return {"admin": admin, "node": node, "p1": p1, "p2": p2}


def _levelled(session):
    return {code: (start, early) for code, start, early in session.execute(
        select(Activity.code, Activity.levelled_start, Activity.early_start))}


def test_levelling_a_node_as_a_job_and_reading_the_report(committed):
    w = _world(committed.session)
    api, admin = committed.api, w["admin"]
    assert api.get(f"/api/v1/projects/{w['p1'].id}/levelling", user=admin).json == {"run": None}
    response = api.post(f"/api/v1/eps/nodes/{w['node'].id}/levelling", user=admin,
                        json={"priorities": [{"field": "activity_id", "order": "asc"}]})
    assert response.status_code == 202, response.json
    job = response.json
    assert response.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    assert (job["kind"], job["status"]) == ("wbs.level", "queued")
    assert committed.run_jobs() == [(job["id"], "succeeded")]
    result = api.get(f"/api/v1/jobs/{job['id']}", user=admin).json["result"]
    assert (result["activities"], result["moved"], result["unresolved"]) == (4, 3, 0)
    # A keeps Monday, B Tuesday, C Wednesday, D follows C; the CPM early starts are unchanged.
    assert _levelled(committed.session) == {"A": (MON, MON), "B": (TUE, MON), "C": (WED, MON), "D": (THU, TUE)}
    run = api.get(f"/api/v1/projects/{w['p2'].id}/levelling", user=admin).json["run"]
    assert run["id"] == result["run_id"] and run["scope"] == "eps_node"
    assert {m["code"]: m["reason"] for m in run["moved"]} == {"B": "resource", "C": "resource", "D": "logic"}
    assert run["options"]["priorities"] == [["activity_id", "asc"]]


def test_the_job_acts_with_its_askers_rights_now(committed):
    """An editor asks; their grant is withdrawn before the job runs: the job fails and levels nothing."""
    w = _world(committed.session)
    session, api = committed.session, committed.api
    editor = factories.user(session)
    grant = factories.grant(session, actor=w["admin"], role=Role.editor, target=w["p1"], user=editor)
    session.commit()
    response = api.post(f"/api/v1/projects/{w['p1'].id}/levelling", user=editor, json={})
    assert response.status_code == 202, response.json
    session.delete(grant)
    session.commit()
    [(job_id, status)] = committed.run_jobs()
    assert status == "failed"
    assert "not found" in api.get(f"/api/v1/jobs/{job_id}", user=w["admin"]).json["error"]
    assert all(levelled is None for levelled, _early in _levelled(session).values())


def test_a_project_of_another_branch_is_not_found_by_its_id_only(committed):
    w = _world(committed.session)
    session, api = committed.session, committed.api
    editor = factories.user(session)
    factories.grant(session, actor=w["admin"], role=Role.editor, target=w["p1"], user=editor)
    session.commit()
    response = api.post(f"/api/v1/projects/{w['p1'].id}/levelling", user=editor,
                        json={"with_project_ids": [w["p2"].id]})
    assert response.status_code == 404
    assert "P2" not in str(response.json)
    bad = api.post(f"/api/v1/projects/{w['p1'].id}/levelling", user=editor, json={"threshold_percent": 0})
    assert bad.status_code == 422 and "threshold_percent" in str(bad.json)

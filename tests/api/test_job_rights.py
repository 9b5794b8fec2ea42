"""/api/v1/jobs: who sees which job, and retrying a failed one."""

from __future__ import annotations

import re

import pytest

from crmpm import jobs
from crmpm.jobs.runner import run_due
from tests import factories


@pytest.fixture
def people(session, admin):
    owner, other = factories.user(session), factories.user(session)
    session.commit()
    return {"admin": admin, "owner": owner, "other": other}


@pytest.fixture
def start(app, session):
    """Ask for a no-op job as ``user``, committed (the test's session is not the app's: the app finds the engine)."""

    def start(user, **kwargs):
        with app.app_context():
            job = jobs.start(session, kind="jobs.noop", actor=user, **kwargs)
            session.commit()
        return job

    return start


def _fail(session, job):
    session.refresh(job)
    job.status, job.attempt, job.error = "failed", job.max_attempts, "RuntimeError: the store is down"
    session.commit()


def test_the_creator_and_administrators_see_a_job_others_get_a_404_that_names_nothing(api, session, people, start):
    job = start(people["owner"], params={"sleep": 0})
    for reader in ("owner", "admin"):
        response = api.get(f"/api/v1/jobs/{job.id}", user=people[reader])
        assert response.status_code == 200, reader
        body = response.get_json()
        assert (body["id"], body["kind"], body["status"], body["created_by"]) == (
            job.id, "jobs.noop", "queued", people["owner"].id)
        assert set(body) >= {"id", "kind", "status", "progress", "message", "result", "error", "created_at",
                             "started_at", "finished_at", "created_by"}

    hidden = api.get(f"/api/v1/jobs/{job.id}", user=people["other"])
    missing = api.get("/api/v1/jobs/987654321", user=people["other"])
    assert hidden.status_code == missing.status_code == 404
    assert re.sub(rf"\b{job.id}\b", "N", hidden.get_json()["message"]) == missing.get_json()["message"].replace(
        "987654321", "N")
    assert {**hidden.get_json(), "message": ""} == {**missing.get_json(), "message": ""}
    assert api.get(f"/api/v1/jobs/{job.id}").status_code == 401


def test_a_job_run_shows_its_result_through_the_api(app, api, session, people, start):
    job = start(people["owner"], params={"sleep": 0.01})
    assert run_due(app) == [(job.id, "succeeded")]
    body = api.get(f"/api/v1/jobs/{job.id}", user=people["owner"]).get_json()
    assert (body["status"], body["progress"], body["result"], body["error"]) == (
        "succeeded", 1.0, {"slept": 0.01}, None)
    assert body["started_at"] and body["finished_at"]


def test_the_list_holds_the_callers_jobs_and_everyones_for_administrators(api, session, people, start):
    mine = [start(people["owner"]).id for _ in range(2)]
    theirs = start(people["other"]).id
    by_admin = start(people["admin"]).id

    def listed(user, query=""):
        response = api.get(f"/api/v1/jobs{query}", user=people[user])
        assert response.status_code == 200
        return [item["id"] for item in response.get_json()["items"]]

    assert listed("owner") == sorted(mine, reverse=True)
    assert listed("owner", "?everyone=true") == sorted(mine, reverse=True)
    assert listed("other") == [theirs]
    everyones = listed("admin")
    assert set(everyones) >= {*mine, theirs, by_admin} and everyones == sorted(everyones, reverse=True)
    assert listed("admin", "?everyone=true") == everyones
    assert listed("admin", "?everyone=false") == [by_admin]


@pytest.mark.parametrize("status", ["queued", "running", "succeeded"])
def test_only_a_failed_job_can_be_retried(api, session, people, status, start):
    job = start(people["owner"])
    job.status = status
    session.commit()
    response = api.post(f"/api/v1/jobs/{job.id}/retry", user=people["owner"])
    assert response.status_code == 409
    assert "only a failed job can be retried" in response.get_json()["message"]
    session.refresh(job)
    assert job.status == status


def test_retrying_a_failed_job_queues_it_afresh_for_its_creator_and_administrators(app, api, session, people, start):
    job = start(people["owner"], max_attempts=2)
    _fail(session, job)
    assert api.post(f"/api/v1/jobs/{job.id}/retry", user=people["other"]).status_code == 404
    for retrier in ("owner", "admin"):
        response = api.post(f"/api/v1/jobs/{job.id}/retry", user=people[retrier])
        assert response.status_code == 202, response.get_json()
        body = response.get_json()
        assert (body["status"], body["attempt"], body["max_attempts"], body["finished_at"]) == ("queued", 0, 2, None)
        assert run_due(app) == [(job.id, "succeeded")]
        _fail(session, job)

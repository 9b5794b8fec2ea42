"""The background jobs pages: the list, one job's progress and outcome, its file, a retry; each user sees their own."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crmpm.jobs.models import Job, JobFile
from tests import factories


@pytest.fixture
def owner(session):
    return factories.user(session, name="Owner of jobs")


def _job(session, creator, **values) -> Job:
    job = Job(kind=values.pop("kind", "jobs.noop"), params={}, created_by_id=creator.id, **values)
    session.add(job)
    session.flush()
    return job


def test_the_list_shows_only_the_users_own_jobs(pages, session, owner, admin):
    mine = _job(session, owner, status="succeeded", progress=1.0)
    theirs = _job(session, admin, status="queued", kind="crm.import")
    session.commit()
    body = pages.log_in_as(owner).get("/jobs/").get_data(as_text=True)
    assert f"/jobs/{mine.id}" in body
    assert f"/jobs/{theirs.id}" not in body


def test_a_running_job_shows_its_progress_and_the_status_feed_follows_it(pages, session, owner):
    job = _job(session, owner, status="running", progress=0.25, message="rows 250 of 1000", attempt=1)
    session.commit()
    pages.log_in_as(owner)
    page = pages.get(f"/jobs/{job.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-done="false"' in html and "jobs.js" in html and 'aria-valuenow="25"' in html
    state = pages.get(f"/jobs/{job.id}/status.json")
    assert state.headers["Cache-Control"] == "no-store"
    assert state.json["status"] == "running" and state.json["done"] is False
    assert state.json["percent"] == 25 and state.json["message"] == "rows 250 of 1000"


def test_a_finished_job_links_to_its_result_and_its_file(pages, session, owner):
    job = _job(session, owner, status="succeeded", progress=1.0, result={"url": "/projects/"},
               finished_at=datetime.now(timezone.utc))
    session.add(JobFile(job_id=job.id, name="ПЛАН-1.xer", content_type="text/plain", size=5, data=b"ERMHD",
                        expires_at=datetime.now(timezone.utc) + timedelta(days=1)))
    session.commit()
    pages.log_in_as(owner)
    state = pages.get(f"/jobs/{job.id}/status.json").json
    assert state["done"] is True and state["url"] == "/projects/"
    assert state["file_url"] == f"/jobs/{job.id}/file"
    download = pages.get(state["file_url"])
    assert download.status_code == 200 and download.data == b"ERMHD"
    assert "attachment" in download.headers["Content-Disposition"]


def test_a_result_url_elsewhere_is_not_offered(pages, session, owner):
    job = _job(session, owner, status="succeeded", result={"url": "//evil.example/x"})
    session.commit()
    assert pages.log_in_as(owner).get(f"/jobs/{job.id}/status.json").json["url"] is None


def test_someone_elses_job_is_not_found(pages, session, owner, admin):
    job = _job(session, admin, status="failed", error="secret detail", attempt=1, max_attempts=1)
    session.commit()
    pages.log_in_as(owner)
    for path in (f"/jobs/{job.id}", f"/jobs/{job.id}/status.json", f"/jobs/{job.id}/file"):
        response = pages.get(path)
        assert response.status_code == 404, path
        assert "secret detail" not in response.get_data(as_text=True)
    assert pages.post(f"/jobs/{job.id}/retry").status_code == 404
    session.refresh(job)
    assert job.status == "failed"


def test_a_failed_job_is_retried_from_its_page_and_a_finished_one_is_not(pages, session, owner):
    failed = _job(session, owner, status="failed", error="boom", attempt=3, max_attempts=3)
    done = _job(session, owner, status="succeeded")
    session.commit()
    pages.log_in_as(owner)
    assert "boom" in pages.get(f"/jobs/{failed.id}").get_data(as_text=True)
    response = pages.post(f"/jobs/{failed.id}/retry")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/jobs/{failed.id}")
    session.refresh(failed)
    assert (failed.status, failed.attempt) == ("queued", 0)
    refused = pages.post(f"/jobs/{done.id}/retry", data={"next": f"/jobs/{done.id}"})
    # The pages answer a refusal with the page again and the reason flashed.
    assert refused.status_code == 303
    assert "only a failed job can be retried" in pages.get(refused.headers["Location"]).get_data(as_text=True)
    session.refresh(done)
    assert done.status == "succeeded"

"""The job system with real worker processes (``python -m crmpm worker``), on the embedded set-up
(SQLite database, SQLite job store) and the one for several machines (PostgreSQL, Redis)."""

from __future__ import annotations

import time

import pytest

from crmpm import jobs
from crmpm.database import db
from crmpm.errors import Conflict
from tests.jobs.conftest import EMBEDDED, LEASE_SECONDS, SCALED

ALL_STORES = [EMBEDDED, SCALED, ("postgresql", "sqlite"), ("sqlite", "redis")]
IDS = ["db-{}+store-{}".format(*combo) for combo in ALL_STORES]


def test_a_job_asked_for_by_a_request_that_fails_is_never_sent_nor_run(site):
    def start_then_refuse():
        jobs.start(db.session, kind="jobs.noop", params={"sleep": 0})
        raise Conflict("refused after asking for a job")

    site.app.add_url_rule("/test/start-then-refuse", "start_then_refuse", start_then_refuse, methods=["POST"])
    response = site.app.test_client().post("/test/start-then-refuse")
    assert response.status_code == 409
    with pytest.raises(RuntimeError):
        with site.app.app_context(), db.transaction() as session:
            jobs.start(session, kind="jobs.noop")
            raise RuntimeError("the transaction fails after asking for a job")
    assert site.rows(jobs.Job.id) == []
    assert site.engine().pending() == 0

    site.worker()
    [later] = site.start(kind="jobs.noop")
    done = site.wait(later)
    # On SQLite the later job may reuse a rolled-back job's id: it still ran once.
    assert (done["status"], done["attempt"]) == ("succeeded", 1)
    # (Workers also start the installed periodic kinds: only no-op jobs are this test's.)
    assert [job_id for job_id, in site.rows(jobs.Job.id, where=[jobs.Job.kind == "jobs.noop"])] == [later]


def test_a_queued_job_runs_and_succeeds_with_its_result_progress_and_times(site):
    [job_id] = site.start(kind="jobs.noop", params={"sleep": 0.2})
    queued = site.job(job_id)
    assert (queued["status"], queued["progress"], queued["started_at"], queued["finished_at"]) == (
        "queued", 0.0, None, None)
    assert site.engine().pending() == 1

    site.worker()
    done = site.wait(job_id)
    assert done["status"] == "succeeded", site.logs()
    assert done["result"] == {"slept": 0.2}
    assert done["progress"] == 1.0
    assert (done["attempt"], done["error"]) == (1, None)
    assert done["created_at"] <= done["started_at"] <= done["finished_at"]


def test_progress_is_visible_while_the_job_runs(site):
    site.worker()
    [job_id] = site.start(kind="jobs.noop", params={"sleep": 4})
    running = site.wait(job_id, until=lambda job: job["status"] != "queued" and 0 < job["progress"])
    assert running["status"] == "running"
    assert 0 < running["progress"] < 1
    assert running["finished_at"] is None
    done = site.wait(job_id)
    assert (done["status"], done["progress"]) == ("succeeded", 1.0)


@pytest.mark.parametrize("site", ALL_STORES, ids=IDS, indirect=True)
def test_two_workers_share_200_jobs_and_run_each_once(site):
    first, second = site.worker("--concurrency", "2"), site.worker("--concurrency", "2")
    job_ids = site.start(count=200, kind="jobs.noop")
    site.wait_all(job_ids)

    rows = site.rows(jobs.Job.id, jobs.Job.status, jobs.Job.attempt, jobs.Job.result, jobs.Job.worker,
                     where=[jobs.Job.kind == "jobs.noop"])
    assert len(rows) == 200
    assert {(status, attempt, repr(result)) for _id, status, attempt, result, _worker in rows} == {
        ("succeeded", 1, repr({"slept": 0.0}))}
    ran_by = {worker.rsplit(":", 1)[1] for *_, worker in rows}
    assert ran_by == {str(first.pid), str(second.pid)}
    # Nothing is left in the store: a message still there is one a periodic job of this minute just sent
    # (the workers' schedulers run), which the workers take within moments; one that stays is a lost job.
    deadline = time.monotonic() + 30
    while site.engine().pending() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert site.engine().pending() == 0


@pytest.mark.parametrize("site", ALL_STORES, ids=IDS, indirect=True)
def test_a_job_whose_worker_is_killed_mid_way_is_recovered_by_a_new_worker(site):
    doomed = site.worker()
    [job_id] = site.start(kind="jobs.noop", params={"sleep": 5})
    running = site.wait(job_id, until=lambda job: job["status"] == "running" and job["progress"] > 0)
    assert running["worker"].endswith(f":{doomed.pid}")
    site.kill(doomed)
    assert site.job(job_id)["status"] == "running"  # nobody knows yet

    time.sleep(LEASE_SECONDS + 1)  # its claim expires (no heartbeat); the next worker's start recovers it
    survivor = site.worker()
    done = site.wait(job_id)
    assert (done["status"], done["attempt"], done["result"]) == ("succeeded", 2, {"slept": 5.0}), site.logs()
    assert done["worker"].endswith(f":{survivor.pid}")


@pytest.mark.parametrize("site", [EMBEDDED], indirect=True)
def test_a_failing_job_is_retried_after_its_backoff_then_fails_with_its_error_kept(site):
    site.worker()
    [job_id] = site.start(kind="jobs.noop", params={"sleep": "a while"}, max_attempts=2)

    waiting = site.wait(job_id, until=lambda job: job["attempt"] == 1 and job["status"] == "queued")
    assert "ValueError" in waiting["error"]
    assert (waiting["run_after"] - waiting["started_at"]).total_seconds() >= jobs.services.backoff(1).total_seconds()

    failed = site.wait(job_id)
    assert (failed["status"], failed["attempt"]) == ("failed", 2)
    assert failed["error"].startswith("ValueError: could not convert string to float")
    assert failed["finished_at"] >= failed["run_after"]
    assert failed["result"] is None


@pytest.mark.parametrize("site", [EMBEDDED], indirect=True)
def test_a_job_whose_claim_waits_for_sqlites_write_lock_past_the_busy_timeout_is_not_lost(site):
    # A job's transaction holds SQLite's write lock while it runs: one longer than the busy timeout
    # (30 s) makes the claim of the next job fail; that job must be handed over again, not dropped.
    [long], [short] = site.start(kind="jobs.noop", params={"sleep": 45}), site.start(kind="jobs.noop")
    site.engine().huey.flush()
    site.engine().send(long)
    site.worker("--concurrency", "2", "--no-periodic")  # no recovery tick: the other thread is free for the claim
    site.wait(long, until=lambda job: job["status"] == "running" and job["progress"] > 0)
    site.engine().send(short)  # as if sent when the long one started: its claim waits for the lock

    done = site.wait(short)
    assert (done["status"], done["attempt"]) == ("succeeded", 1), site.logs()
    assert "not claimed" in site.logs()
    assert site.job(long)["status"] == "succeeded"

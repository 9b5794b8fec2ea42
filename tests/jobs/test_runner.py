"""The job runner and the handing over of jobs, in this process (``run_job``, ``tick``, ``recover``) on a
committed database: what a job's failure does, what a rollback sends, what a periodic tick starts."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from crmpm import jobs
from crmpm.database import db, utcnow
from crmpm.errors import Invalid
from crmpm.jobs import runner, services, worker
from crmpm.jobs.builtin import noop
from crmpm.users.models import User
from tests import factories

DATABASES = ["sqlite", "postgresql"]


def refuse(ctx):
    raise Invalid("the file has no header row", errors={"file": ["no header row"]})


def crash(ctx):
    raise RuntimeError(f"the store of job {ctx.job_id} is down")


@jobs.periodic(minute="*")
def every_minute(ctx):
    return {"ticked": True}


@pytest.fixture(params=DATABASES)
def site(request, make_site, monkeypatch):
    """A committed database with jobs kept in this process's memory, and three more job kinds."""
    kinds = {"jobs.noop": noop, "test.refuse": refuse, "test.crash": crash, "test.every_minute": every_minute}
    for module in (services, runner, jobs.kinds):
        monkeypatch.setattr(module, "installed_kinds", lambda: kinds)
    return make_site(request.param, "memory")


def _row(site, job_id):
    with site.app.app_context(), db.transaction() as session:
        return session.get(jobs.Job, job_id)


def _make_due(site, job_id):
    """As if its backoff had passed."""
    with site.app.app_context(), db.transaction() as session:
        session.execute(update(jobs.Job).where(jobs.Job.id == job_id).values(run_after=utcnow()))


def test_a_rolled_back_transaction_sends_nothing_even_when_its_session_commits_later(site):
    with site.app.app_context():
        session = db.new_session()
        jobs.start(session, kind="jobs.noop")
        session.rollback()
        kept = jobs.start(session, kind="jobs.noop")
        session.commit()
        session.close()
    assert site.engine().pending() == 1
    assert [job_id for job_id, in site.rows(jobs.Job.id)] == [kept.id]


def test_a_rolled_back_savepoint_sends_nothing_of_what_it_asked_for(site):
    with site.app.app_context(), db.transaction() as session:
        kept = jobs.start(session, kind="jobs.noop")
        with pytest.raises(RuntimeError), session.begin_nested():
            jobs.start(session, kind="jobs.noop")
            raise RuntimeError("this part is undone")
        with session.begin_nested():
            also_kept = jobs.start(session, kind="jobs.noop")
    assert site.engine().pending() == 2
    assert sorted(job_id for job_id, in site.rows(jobs.Job.id)) == [kept.id, also_kept.id]


def test_a_job_asked_in_a_savepoint_is_handed_over_when_the_outer_transaction_commits_not_before(site):
    with site.app.app_context():
        session = db.new_session()
        session.execute(select(1))
        with session.begin_nested():
            job = jobs.start(session, kind="jobs.noop")
        with session.begin_nested():
            pass  # a later savepoint's commit hands over nothing either
        assert site.engine().pending() == 0  # a worker would not find the row yet
        session.commit()
        session.close()
    assert site.engine().pending() == 1
    assert [job_id for job_id, in site.rows(jobs.Job.id)] == [job.id]


def test_a_crmpm_error_fails_the_job_at_once_with_its_message_kept(site):
    [job_id] = site.start(kind="test.refuse")
    site.engine().huey.flush()
    assert runner.run_job(site.app, job_id) == "failed"
    job = _row(site, job_id)
    assert (job.status, job.attempt, job.max_attempts) == ("failed", 1, 3)
    assert job.error == "the file has no header row {'file': ['no header row']}"
    assert job.finished_at is not None
    assert (site.engine().pending(), site.engine().huey.scheduled_count()) == (0, 0)  # not sent again


def test_other_errors_retry_after_a_growing_backoff_then_fail_with_the_error_kept(site):
    [job_id] = site.start(kind="test.crash", max_attempts=3)
    for attempt, status in ((1, "queued"), (2, "queued"), (3, "failed")):
        site.engine().huey.flush()
        before = utcnow()
        assert runner.run_job(site.app, job_id) == status
        job = _row(site, job_id)
        # Sent again to run after its backoff; a failed job is not sent.
        assert site.engine().pending() == (1 if status == "queued" else 0)
        assert (job.status, job.attempt) == (status, attempt)
        assert job.error == f"RuntimeError: the store of job {job_id} is down"
        if status == "queued":
            assert job.run_after >= before + services.backoff(attempt)
            assert job.finished_at is None
            assert runner.run_job(site.app, job_id) is None  # not before its backoff
            _make_due(site, job_id)
    assert job.finished_at is not None
    assert [services.backoff(n).total_seconds() for n in (1, 2, 3, 4, 9)] == [10, 40, 160, 640, 3600]


def test_a_job_recovered_while_it_ran_commits_nothing_of_its_work(site, backend_of):
    if backend_of(site) == "sqlite":
        pytest.skip("on SQLite the job's transaction holds the write lock: nothing can requeue it meanwhile")
    emails = []

    def work_then_lose_the_claim(ctx):
        emails.append(factories.user(ctx.session).email)
        ctx.session.flush()
        with db.transaction() as other:  # recovery requeued it and another worker claimed it meanwhile
            other.execute(update(jobs.Job).where(jobs.Job.id == ctx.job_id).values(attempt=jobs.Job.attempt + 1))
        return {"done": True}

    services.installed_kinds()["test.lose_claim"] = work_then_lose_the_claim
    [job_id] = site.start(kind="test.lose_claim")
    assert runner.run_job(site.app, job_id) == "superseded"
    with site.app.app_context(), db.transaction() as session:
        assert session.scalar(select(User).where(User.email == emails[0])) is None
        assert session.get(jobs.Job, job_id).status == "running"  # the other attempt's to finish


def test_recovery_requeues_a_job_whose_worker_stopped_beating_and_leaves_a_living_one(site):
    dead, alive, last = site.start(count=3, kind="jobs.noop")
    long_ago = utcnow() - runner.LEASE - timedelta(seconds=1)
    with site.app.app_context(), db.transaction() as session:
        session.execute(update(jobs.Job).values(status="running", attempt=1, lease_until=long_ago, worker="gone:1"))
        session.execute(update(jobs.Job).where(jobs.Job.id == last).values(attempt=3))
    site.engine().huey.flush()
    site.engine().beat(alive)
    with site.app.app_context(), db.transaction() as session:
        assert runner.recover(session) == {"requeued": 1, "resent": 0, "failed": 1}
    assert (_row(site, dead).status, _row(site, dead).worker) == ("queued", None)
    assert _row(site, alive).status == "running"
    # A worker's death on the job's last attempt fails it: a job that kills its worker is not run forever.
    gone = _row(site, last)
    assert (gone.status, gone.error) == ("failed", "its worker (gone:1) stopped during its last attempt (3)")
    assert site.engine().pending() == 1
    assert runner.run_job(site.app, dead) == "succeeded"


def test_recovery_leaves_a_job_requeued_and_claimed_again_while_it_looked(site, backend_of, monkeypatch):
    if backend_of(site) == "sqlite":
        pytest.skip("on SQLite a recovery holds the write lock: nothing changes the job while it looks")
    [job_id] = site.start(kind="jobs.noop")
    long_ago = utcnow() - runner.LEASE - timedelta(seconds=1)
    with site.app.app_context(), db.transaction() as session:
        session.execute(update(jobs.Job).values(status="running", attempt=1, lease_until=long_ago, worker="gone:1"))
    looked = []

    def meanwhile(_job_id):
        """While this recovery checks the heartbeat, another worker's recovery requeues the job and a worker claims it."""
        if not looked:
            looked.append(_job_id)
            with db.transaction() as other:
                assert runner.recover(other)["requeued"] == 1
            with db.transaction() as other:
                assert runner._claim(other, _job_id, "alive:2") == 2
                other.execute(update(jobs.Job).values(lease_until=long_ago))  # its lease looks expired too
        return None

    monkeypatch.setattr(site.engine(), "last_beat", meanwhile)
    with site.app.app_context(), db.transaction() as session:
        assert runner.recover(session)["requeued"] == 0
    job = _row(site, job_id)
    assert (job.status, job.worker, job.attempt) == ("running", "alive:2", 2)


def test_a_periodic_job_ticked_twice_in_a_minute_starts_once(site):
    worker.tick(site.app, "test.every_minute")
    worker.tick(site.app, "test.every_minute")
    rows = site.rows(jobs.Job.kind, jobs.Job.key, jobs.Job.max_attempts)
    minute = utcnow().replace(second=0, microsecond=0)
    assert len(rows) == 1 or rows[0][1] != rows[1][1]  # two only if the minute turned between the ticks
    kind, key, max_attempts = rows[-1]
    assert (kind, max_attempts) == ("test.every_minute", 1)
    assert key in (f"test.every_minute@{minute.isoformat()}",
                   f"test.every_minute@{(minute - timedelta(minutes=1)).isoformat()}")


def test_a_periodic_job_ticked_by_several_workers_at_once_starts_once(site):
    barrier = threading.Barrier(4)
    errors = []

    def tick():
        try:
            barrier.wait()
            worker.tick(site.app, "test.every_minute")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    keys = [key for key, in site.rows(jobs.Job.key)]
    assert len(keys) == len(set(keys)) and len(keys) in (1, 2)  # two only if the minute turned meanwhile


@pytest.fixture
def backend_of():
    return lambda site: "sqlite" if site.database_url.startswith("sqlite") else "postgresql"

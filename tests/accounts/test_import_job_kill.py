"""Real processes: a 50,000-row deals import as a job, its worker killed with SIGKILL mid-way, a new worker.

The job is started through the API on a database this test commits to (an SQLite file, and a
throwaway PostgreSQL database), run by ``python -m crmpm worker`` subprocesses sharing a job store:
the embedded one of an instance folder of their own, or Redis under a namespace of the test's. The killed attempt's transaction dies with
its process; recovery (lease shortened by ``CRMPM_JOBS_LEASE_SECONDS``) queues the job again, the
new worker runs it from the start, and the database ends with every deal exactly once, whole.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Account, Deal, DealStageChange
from crmpm import create_app, jobs
from crmpm.audit.models import AuditEntry
from crmpm.events import Event
from crmpm.database import db, make_engine
from eps.models import Project
from tests import factories
from tests.databases import own_database
from tests.redis_support import REDIS_URL, redis_or_skip

pytestmark = pytest.mark.processes

ROWS = 50_000
ACCOUNTS = 50
LEASE_SECONDS = 3
REPO = Path(__file__).resolve().parents[2]
MAPPING = {"columns": {"id": "external_id", "title": "title", "account": "account", "stage": "stage",
                       "amount": "amount"},
           "defaults": {"currency": "RUB"}, "pipeline": "Sales"}


# (database, job store): the embedded set-up on either database, and PostgreSQL with Redis (several machines).
SETUPS = [("sqlite", "embedded"), ("postgresql", "embedded"), ("postgresql", "redis")]


@pytest.fixture(params=SETUPS, ids=["-".join(setup) for setup in SETUPS])
def setup(request):
    return request.param


@pytest.fixture
def database(request, setup, tmp_path):
    """A migrated database this test alone uses and commits to."""
    backend = setup[0]
    base = request.getfixturevalue("postgresql_url") if backend == "postgresql" else None
    with own_database(backend, folder=tmp_path, postgresql_url=base, prefix="crmpm_kill") as url:
        yield url


@pytest.fixture
def store(setup):
    """The job store's settings: the instance folder's SQLite file, or Redis under a namespace of this test's."""
    if setup[1] == "embedded":
        yield {}
        return
    client = redis_or_skip()
    namespace = f"crmpm-test-{uuid.uuid4().hex[:10]}"
    yield {"CRMPM_JOBS_URL": REDIS_URL, "CRMPM_JOBS_NAMESPACE": namespace}
    for key in client.scan_iter(match=f"*{namespace}*"):
        client.delete(key)


@pytest.fixture
def world(database):
    """An administrator with a token, a pipeline, and ACCOUNTS accounts the deals refer to by external id."""
    engine = make_engine(database)
    with Session(engine, expire_on_commit=False) as session:
        admin = factories.user(session, admin=True)
        token = factories.token(session, user=admin)
        node = factories.node(session, actor=admin, code="KILL")
        factories.pipeline(session, name="Sales")
        for n in range(ACCOUNTS):
            factories.account(session, actor=admin, region=node, name=f"Client {n}", external_id=f"ACC-{n}")
        session.commit()
    engine.dispose()
    return {"url": database, "token": token}


@pytest.fixture
def instance(tmp_path):
    folder = tmp_path / "instance"
    folder.mkdir()
    return folder


@pytest.fixture
def app(world, instance, store):
    app = create_app({"DATABASE_URL": world["url"], "TESTING": True, "INSTANCE_PATH": str(instance),
                      "JOBS_URL": store.get("CRMPM_JOBS_URL"),
                      "JOBS_NAMESPACE": store.get("CRMPM_JOBS_NAMESPACE", "crmpm"),
                      "UPLOAD_DIR": str(instance / "uploads")})
    yield app
    app.extensions["crmpm.database"].engine.dispose()


@pytest.fixture
def workers(world, instance, store):
    """Start ``crmpm worker`` processes on the test's database and job store; all killed at the end."""
    started: list[subprocess.Popen] = []
    log = (instance / "workers.log").open("ab")
    env = {**os.environ, "CRMPM_DATABASE_URL": world["url"], "CRMPM_INSTANCE_PATH": str(instance),
           "CRMPM_ENV": "development", "CRMPM_JOBS_LEASE_SECONDS": str(LEASE_SECONDS),
           "CRMPM_UPLOAD_DIR": str(instance / "uploads"), "PYTHONPATH": str(REPO)}
    env.pop("CRMPM_JOBS_URL", None)
    env.pop("CRMPM_JOBS_NAMESPACE", None)
    env.update(store)

    def start() -> subprocess.Popen:
        worker = subprocess.Popen([sys.executable, "-m", "crmpm", "worker", "--concurrency", "1"], env=env,
                                  cwd=instance, stdout=log, stderr=log, start_new_session=True)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    log.close()


def _deals_csv() -> bytes:
    lines = ["id,title,account,stage,amount"]
    stages = ("Qualification", "Proposal", "Negotiation", "Won")
    lines += [f"K{n:06},Deal {n},ACC-{n % ACCOUNTS},{stages[n % len(stages)]},{100 + n % 997}.50"
              for n in range(ROWS)]
    return ("\n".join(lines) + "\n").encode()


def _snapshot(app, job_id: int) -> dict:
    """What ``GET /api/v1/jobs/{id}`` shows, read without waiting for the job's write lock (SQLite)."""
    with app.app_context():
        session = db.read_session()
        try:
            return jobs.snapshot(session, jobs.readable(session, user=_admin(session), job_id=job_id))
        finally:
            session.close()


def _admin(session):
    from crmpm.users.models import User

    return session.scalar(select(User).where(User.is_admin.is_(True)))


def _wait_for(app, job_id: int, done, what: str, *, timeout: float, workers_log: Path) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        shown = _snapshot(app, job_id)
        if done(shown):
            return shown
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} never {what}: {shown}\n{workers_log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


def test_a_worker_killed_mid_import_loses_nothing_and_writes_nothing_twice(app, world, workers, instance):
    response = app.test_client().post(
        "/api/v1/imports/deals?async=true", headers={"Authorization": f"Bearer {world['token']}"},
        data={"file": (BytesIO(_deals_csv()), "deals.csv"), "mapping": json.dumps(MAPPING)},
        content_type="multipart/form-data")
    assert response.status_code == 202, response.json
    job_id = response.json["id"]
    log = instance / "workers.log"

    first = workers()
    running = _wait_for(app, job_id, lambda job: job["status"] == "running" and 0 < job["progress"] < 1,
                        "ran with progress", timeout=180, workers_log=log)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert running["status"] == "running"
    # The dead worker's heartbeat must be older than the lease before a new worker's recovery requeues it.
    time.sleep(LEASE_SECONDS + 1)

    workers()
    finished = _wait_for(app, job_id, lambda job: job["status"] in ("succeeded", "failed"), "finished",
                         timeout=300, workers_log=log)
    assert finished["status"] == "succeeded", finished
    assert finished["attempt"] == 2 and finished["result"]["created"] == ROWS

    engine = make_engine(world["url"])
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Deal)) == ROWS
        assert session.scalar(select(func.count(func.distinct(Deal.external_id)))) == ROWS
        # No half-written deal: each has its project (one of its own), an account and an opening stage change.
        with_project = select(func.count(func.distinct(Project.id))).join(Deal, Deal.project_id == Project.id)
        assert session.scalar(with_project) == ROWS
        assert session.scalar(select(func.count()).select_from(Deal).join(Account)) == ROWS
        without_history = select(func.count()).select_from(Deal).where(
            ~select(DealStageChange.id).where(DealStageChange.deal_id == Deal.id).exists())
        assert session.scalar(without_history) == 0
        assert session.scalar(select(func.count()).select_from(Project)) == ROWS  # nothing left of the first attempt
        # The import counted once: one summary audit entry, one import.finished event about the job.
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "import")) == 1
        finished = session.scalars(select(Event).where(Event.type == "import.finished")).all()
        assert [(event.subject_type, event.subject_id, event.payload["created"]) for event in finished] == [
            ("jobs", job_id, ROWS)]
    engine.dispose()

"""The WBS jobs run by a real worker process (``crmpm worker``), on the embedded store and on Redis: the upload
travels in the database to the worker, the export's file comes back through it; both as the synchronous requests
give them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm import create_app, migrate
from crmpm.jobs import JobFile
from eps.models import Project
from tests import factories
from tests.committed import _Api
from tests.corpus import IN_REPO
from tests.redis_support import REDIS_URL, redis_or_skip
from tests.wbs.interchange.test_store import _snapshot

XER = (IN_REPO / "xer" / "alap-harbour-131.xer").read_bytes()
ROOT = Path(__file__).resolve().parents[2]
WAIT = 120  # seconds a job may take on a loaded machine before the test gives up (not a measurement)


@pytest.fixture(params=["embedded", "redis"])
def served(request, tmp_path):
    """An app and a worker process sharing one SQLite database and one job store: the SQLite file in the
    instance folder, or Redis under a namespace of this test's own."""
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    jobs_url, namespace = None, f"test-{uuid.uuid4().hex[:12]}"
    if request.param == "redis":
        redis_or_skip()
        jobs_url = REDIS_URL
    migrate.upgrade(url=url)
    app = create_app({"DATABASE_URL": url, "TESTING": True, "INSTANCE_PATH": str(tmp_path), "JOBS_URL": jobs_url,
                      "JOBS_NAMESPACE": namespace})
    engine = app.extensions["crmpm.database"].engine
    session = Session(engine, expire_on_commit=False)
    env = {**os.environ, "CRMPM_DATABASE_URL": url, "CRMPM_INSTANCE_PATH": str(tmp_path),
           "CRMPM_JOBS_NAMESPACE": namespace,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("CRMPM_JOBS_URL", None)
    if jobs_url:
        env["CRMPM_JOBS_URL"] = jobs_url
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen([sys.executable, "-m", "crmpm", "worker", "--concurrency", "1", "--no-periodic"],
                              env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        yield session, _Api(app.test_client(), session), tmp_path / "worker.log"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
        session.close()
        engine.dispose()


def _done(api, user, response, log) -> dict:
    assert response.status_code == 202, response.json
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        job = api.get(response.headers["Location"], user=user).json
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    pytest.fail(f"the worker did not finish the job in {WAIT} s; its log:\n{log.read_text()[-3000:]}")


def test_a_worker_process_imports_and_exports_as_the_requests_do(served):
    session, api, log = served
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="WORKER")
    session.commit()

    def upload(query):
        return api.post(f"/api/v1/projects/import/xer?eps_node_id={node.id}{query}", user=admin,
                        data={"file": (BytesIO(XER), "harbour.xer")}, json=None, content_type="multipart/form-data")

    job = _done(api, admin, upload("&async=true&code=BYWORKER"), log)
    assert job["status"] == "succeeded", job["error"]
    synchronous = upload("&code=BYREQUEST")
    assert synchronous.status_code == 201
    session.expire_all()
    by_worker = session.get(Project, job["result"]["project_id"])
    assert _snapshot(session, by_worker) == _snapshot(session, session.get(Project, synchronous.json["id"]))

    export = _done(api, admin, api.get(f"/api/v1/projects/{by_worker.id}/export/xer?async=true", user=admin), log)
    assert export["status"] == "succeeded", export["error"]
    download = api.get(f"/api/v1/projects/{by_worker.id}/export/xer", user=admin).data
    stored = session.scalars(select(JobFile).where(JobFile.job_id == export["id"])).one()
    assert stored.data == download and export["result"] == {"file": "BYWORKER.xer", "size": len(download),
                                                             "project_id": by_worker.id, "project_code": "BYWORKER"}

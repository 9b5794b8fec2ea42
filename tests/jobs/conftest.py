"""Sites for tests of the job system with real worker processes.

A site is a committed database (a copy of a migrated SQLite file, or a PostgreSQL database made
from a migrated template) and a job store (the SQLite file in the site's instance folder, or
Redis under a namespace of its own), shared by this test and the ``python -m crmpm …``
processes it starts. Workers get ``CRMPM_JOBS_LEASE_SECONDS`` low, so a killed worker's job is
recovered in seconds. Every process a site starts is killed when the test ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from crmpm import create_app, jobs, migrate
from crmpm.database import db, make_engine
from crmpm.jobs.engine import engine_for
from tests import factories
from tests.conftest import POSTGRES_URL, _psycopg_url
from tests.redis_support import REDIS_URL, redis_or_skip

ROOT = Path(__file__).resolve().parents[2]
SECRET = "jobs-test-secret-key-" + "x" * 40
LEASE_SECONDS = 2
# How long a test waits for workers before it gives up (a failure, never a measurement).
PATIENCE = 90.0


class Site:
    """A database and a job store that this test and real ``crmpm`` processes share."""

    def __init__(self, root: Path, database_url: str, jobs_url: str | None, namespace: str) -> None:
        self.root, self.database_url, self.jobs_url, self.namespace = root, database_url, jobs_url, namespace
        self.processes: list[subprocess.Popen] = []
        self.app = create_app({"DATABASE_URL": database_url, "JOBS_URL": jobs_url, "JOBS_NAMESPACE": namespace,
                               "INSTANCE_PATH": str(root), "SECRET_KEY": SECRET, "TESTING": True})

    @property
    def env(self) -> dict:
        env = dict(os.environ, CRMPM_DATABASE_URL=self.database_url, CRMPM_INSTANCE_PATH=str(self.root),
                   CRMPM_SECRET_KEY=SECRET, CRMPM_JOBS_NAMESPACE=self.namespace,
                   CRMPM_JOBS_LEASE_SECONDS=str(LEASE_SECONDS), PYTHONUNBUFFERED="1",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        env.pop("CRMPM_JOBS_URL", None)
        env.pop("CRMPM_NO_WORKER", None)
        if self.jobs_url:
            env["CRMPM_JOBS_URL"] = self.jobs_url
        return env

    # Processes

    def spawn(self, *args: str) -> subprocess.Popen:
        """``python -m crmpm ARGS`` in a process group of its own (its children die with it)."""
        log = open(self.root / f"process-{len(self.processes)}.log", "wb")  # noqa: SIM115 - closed with the site
        process = subprocess.Popen([sys.executable, "-m", "crmpm", *args], env=self.env, cwd=self.root,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        process.log = log
        self.processes.append(process)
        return process

    def worker(self, *args: str) -> subprocess.Popen:
        return self.spawn("worker", "--dispatch-interval", "3600", *args)

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """``python -m crmpm ARGS`` to its end."""
        return subprocess.run([sys.executable, "-m", "crmpm", *args], env=self.env, cwd=self.root,
                              capture_output=True, text=True, timeout=PATIENCE)

    @staticmethod
    def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                         for path in sorted(self.root.glob("process-*.log")))

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)
            process.log.close()
        state = self.app.extensions["crmpm.database"]
        state.engine.dispose()

    # Data

    def user(self, *, admin: bool = False):
        with self.app.app_context(), db.transaction() as session:
            user = factories.user(session, admin=admin)
        return user

    def start(self, *, count: int = 1, **kwargs) -> list[int]:
        """Ask for ``count`` jobs in one committed transaction; their ids."""
        with self.app.app_context(), db.transaction() as session:
            started = [jobs.start(session, **kwargs) for _ in range(count)]
            return [job.id for job in started]

    def job(self, job_id: int) -> dict | None:
        """Job ``job_id`` as the API shows it, plus its row's worker and key (read without a write lock)."""
        with self.app.app_context():
            session = db.read_session()
            try:
                job = session.get(jobs.Job, job_id)
                return None if job is None else jobs.snapshot(session, job) | {"worker": job.worker, "key": job.key}
            finally:
                session.close()

    def rows(self, *columns, where=()):
        with self.app.app_context():
            session = db.read_session()
            try:
                return session.execute(select(*columns).where(*where)).all()
            finally:
                session.close()

    def engine(self, queue: str = "default"):
        return engine_for(self.app.config, queue)

    def wait(self, job_id: int, until=lambda job: job["status"] in ("succeeded", "failed")) -> dict:
        """Job ``job_id`` once ``until(job)`` holds; fails (with the processes' logs) after PATIENCE seconds."""
        deadline = time.monotonic() + PATIENCE
        while True:
            job = self.job(job_id)
            if job is not None and until(job):
                return job
            if time.monotonic() > deadline:
                pytest.fail(f"job {job_id} is still {job}\n{self.logs()}")
            time.sleep(0.1)

    def wait_all(self, job_ids: list[int], status: str = "succeeded") -> None:
        deadline = time.monotonic() + PATIENCE
        wanted = set(job_ids)
        while True:
            statuses = dict(self.rows(jobs.Job.id, jobs.Job.status))
            done = {job_id for job_id in wanted if statuses.get(job_id) == status}
            if done == wanted:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"{len(wanted - done)} of {len(wanted)} jobs not {status}\n{self.logs()}")
            time.sleep(0.2)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite database, copied for each site."""
    path = tmp_path_factory.mktemp("jobs-template") / "crmpm.db"
    migrate.upgrade(url=f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgresql_template(postgresql_url):
    """A migrated PostgreSQL database (beside the run's throwaway one), the template of each site's; dropped after."""
    admin = make_engine(_psycopg_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"{make_url(postgresql_url).database}_jobs"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    migrate.upgrade(url=make_url(postgresql_url).set(database=name).render_as_string(hide_password=False))
    yield admin, name
    _drop(admin, name)
    admin.dispose()


def _drop(admin, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"))
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


@pytest.fixture
def make_site(request, tmp_path):
    """``make_site("sqlite"|"postgresql", "sqlite"|"redis"|"memory")``: a fresh site, closed after the test."""
    sites, cleanups = [], []

    def make(database: str, store: str) -> Site:
        root = tmp_path / f"site{len(sites)}"
        root.mkdir()
        if database == "sqlite":
            shutil.copy(request.getfixturevalue("sqlite_template"), root / "crmpm.db")
            database_url = f"sqlite:///{root / 'crmpm.db'}"
        else:
            admin, template = request.getfixturevalue("postgresql_template")
            name = f"crmpm_jobs_{uuid.uuid4().hex[:12]}"
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            cleanups.append(lambda: _drop(admin, name))
            database_url = make_url(_psycopg_url(POSTGRES_URL)).set(database=name).render_as_string(
                hide_password=False)
        namespace = f"crmpm-test-{uuid.uuid4().hex[:12]}"
        jobs_url = {"sqlite": None, "memory": "memory://"}.get(store)
        if store == "redis":
            client = redis_or_skip()
            jobs_url = REDIS_URL
            cleanups.append(lambda: [client.delete(key) for key in client.scan_iter(f"*{namespace}*")])
        site = Site(root, database_url, jobs_url, namespace)
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.close()
    for cleanup in cleanups:
        cleanup()


# The combinations real-worker tests run on: the embedded set-up, and the one for several machines.
EMBEDDED = ("sqlite", "sqlite")
SCALED = ("postgresql", "redis")


@pytest.fixture(params=[EMBEDDED, SCALED], ids=lambda combo: "db-{}+store-{}".format(*combo))
def site(request, make_site) -> Site:
    """A site on the embedded set-up and on PostgreSQL + Redis (tests may parametrize ``site`` indirectly)."""
    return make_site(*request.param)

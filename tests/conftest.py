"""Test set-up: one migrated database per backend per run, one outer transaction per test.

Integration tests run on SQLite and on a real PostgreSQL (``CRMPM_TEST_POSTGRES_URL``,
default ``postgresql://postgres@127.0.0.1:5432/postgres``), where a throwaway
database is created for the run and dropped after it. With ``CI=true`` an
unreachable PostgreSQL fails the run; elsewhere its tests are skipped with a note.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from crmpm import create_app, migrate
from crmpm.database import make_engine
from tests import corpus
from tests.mailserver import smtp_server  # noqa: F401 - a fixture for every test package

POSTGRES_URL = os.environ.get("CRMPM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]


def _psycopg_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _postgres_unavailable_reason() -> str | None:
    try:
        engine = make_engine(_psycopg_url(POSTGRES_URL), connect_args={"connect_timeout": 5})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "not reachable"
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    return None


def pytest_report_header(config):
    reason = _postgres_unavailable_reason()
    if reason:
        database = f"NOTE: {reason}; PostgreSQL tests will be skipped" + (" (CI: failing)" if os.environ.get("CI") else "")
    else:
        database = f"PostgreSQL tests against {POSTGRES_URL} (throwaway database per run)"
    return [database, corpus.report_header()]


@pytest.fixture(scope="session")
def postgresql_url():
    """A throwaway PostgreSQL database for this run, dropped at the end."""
    reason = _postgres_unavailable_reason()
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    admin_url = _psycopg_url(POSTGRES_URL)
    name = f"crmpm_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(text(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"))
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    """A fresh SQLite file for this run."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'crmpm.db'}"


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request):
    """The URL of a migrated database, once per backend."""
    url = request.getfixturevalue(f"{request.param}_url")
    migrate.upgrade(url=url)
    return url


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app(engine, database_url):
    """One app per backend; each test rebinds its sessions to the test's connection."""
    return create_app({"DATABASE_URL": database_url, "TESTING": True, "JOBS_URL": "memory://"})


@pytest.fixture
def connection(engine, app):
    """An outer transaction around the whole test; the app's commits are savepoints inside it."""
    connection = engine.connect()
    outer = connection.begin()
    state = app.extensions["crmpm.database"]
    original = state.factory
    state.factory = sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
    # Each test starts with no failed logins counted (the limits stay on; tests/web/test_rate_limits.py).
    app.extensions["crmpm.throttle"].reset()
    yield connection
    state.factory = original
    outer.rollback()
    connection.close()


@pytest.fixture
def session(connection):
    """A session for arranging and checking data, inside the test's transaction."""
    session = Session(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
    yield session
    session.close()


@pytest.fixture
def backend(engine) -> str:
    return engine.dialect.name


@pytest.fixture(scope="session", autouse=True)
def _responses_dumped_as_marshmallow_dumps_them():
    """Every API response dumped in any test is also dumped by marshmallow itself, and the two must agree.

    The API dumps responses through ``api.dumping`` (faster, the same output by design); this makes
    the whole suite the check of "the same output", on every schema and object the tests reach.
    """
    from marshmallow import Schema

    from api.common import Blueprint

    originals = []
    for schema in Blueprint.dumped_schemas:
        fast = schema.dump
        originals.append((schema, fast))

        def checked(obj, *, _schema=schema, _fast=fast):
            result = _fast(obj)
            expected = Schema.dump(_schema, obj)
            assert result == expected, f"api.dumping and marshmallow disagree on {type(_schema).__name__}"
            return result

        checked.fast = fast
        schema.dump = checked
    yield
    for schema, fast in originals:
        schema.dump = fast


@pytest.fixture
def soffice() -> str:
    """LibreOffice for PDFs made by a real tool (``tests.corpus.require_soffice``: skip, or fail under CI)."""
    from tests.corpus import require_soffice

    return require_soffice()

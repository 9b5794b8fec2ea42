"""An app that commits for real, on a SQLite file or the run's PostgreSQL, whose jobs run in-process.

The usual ``app`` fixture joins every session into one outer transaction per test; a job's run
(``crmpm.jobs.runner.run_due``) takes its own sessions and transactions, as a worker would, so it
needs a database the test committed to. Use the fixture ``committed`` (import it into the test
module); its tables are emptied (PostgreSQL) or its file thrown away (SQLite) afterwards.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from crmpm import create_app, migrate
from crmpm.database import Base, make_engine
from crmpm.jobs.runner import run_due
from tests.api.conftest import ApiClient
from tests.web.conftest import Pages


class _Api(ApiClient):
    """The API client, ending the test's own transaction before each request: on SQLite every
    transaction holds the write lock (BEGIN IMMEDIATE), even one that only read the arranged objects."""

    def token_for(self, user) -> str:
        token = super().token_for(user)  # reading ``user.id`` may have begun a transaction
        self._session.commit()
        return token

    def request(self, *args, **kwargs):
        self._session.commit()
        return super().request(*args, **kwargs)


class _Pages(Pages):
    """The pages' client, ending the test's own transaction before each request (as :class:`_Api`)."""

    def __init__(self, client, session):
        super().__init__(client)
        self._session = session

    def get(self, *args, **kwargs):
        self._session.commit()
        return super().get(*args, **kwargs)

    def post(self, *args, **kwargs):
        self._session.commit()
        return super().post(*args, **kwargs)


@dataclass
class Committed:
    app: Flask
    session: Session  # for arranging and checking; commit what the app must see
    api: ApiClient
    pages: Pages

    def run_jobs(self) -> list[tuple[int, str | None]]:
        """Run every due job here and now, as a worker would (each in its own transactions)."""
        self.session.commit()
        result = run_due(self.app)
        self.session.expire_all()
        return result


@pytest.fixture(params=["sqlite", "postgresql"])
def committed(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'committed.db'}"
    else:
        url = request.getfixturevalue("postgresql_url")
    migrate.upgrade(url=url)
    app = create_app({"DATABASE_URL": url, "TESTING": True, "JOBS_URL": "memory://",
                      "JOBS_NAMESPACE": f"test-{uuid.uuid4().hex[:12]}", "INSTANCE_PATH": str(tmp_path)})
    engine = app.extensions["crmpm.database"].engine
    session = Session(engine, expire_on_commit=False)
    yield Committed(app=app, session=session, api=_Api(app.test_client(), session),
                    pages=_Pages(app.test_client(), session))
    session.close()
    engine.dispose()
    if request.param == "postgresql":
        cleaner = make_engine(url)
        with cleaner.begin() as connection:
            tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        cleaner.dispose()

"""Databases a test (or a module) has to itself, committed to for real: what subprocesses and threads share."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from crmpm import migrate
from crmpm.database import make_engine


@contextmanager
def own_database(backend: str, *, folder: Path, postgresql_url: str | None = None,
                 prefix: str = "crmpm_own") -> Iterator[str]:
    """The URL of a migrated database: an SQLite file in ``folder``, or (``postgresql``) a database created
    beside ``postgresql_url`` (the run's throwaway one, whose fixture skips when PostgreSQL is absent) and
    dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / f'{prefix}.db'}"
        migrate.upgrade(url=url)
        yield url
        return
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgresql_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgresql_url).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url=url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def module_database(request, tmp_path_factory, label: str) -> Iterator[str]:
    """For a fixture parametrized by backend (``request.param``): the URL of a database of its own.

        @pytest.fixture(scope="module", params=["sqlite", "postgresql"])
        def own_url(request, tmp_path_factory):
            yield from module_database(request, tmp_path_factory, "events")
    """
    base = request.getfixturevalue("postgresql_url") if request.param == "postgresql" else None
    with own_database(request.param, folder=tmp_path_factory.mktemp(label), postgresql_url=base,
                      prefix=f"crmpm_{label}") as url:
        yield url

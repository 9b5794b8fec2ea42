"""A migrated database of a test module's own, which its tests commit to for real.

For what the per-test outer transaction of ``tests/conftest.py`` cannot show: other processes
and connections reading what was committed, and PostgreSQL's view of which transactions have
ended. Use it from a module-scoped fixture parametrized by backend::

    @pytest.fixture(scope="module", params=["sqlite", "postgresql"])
    def own_url(request, tmp_path_factory):
        yield from own_database(request, tmp_path_factory, "events")
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.engine import make_url

from crmpm import migrate
from crmpm.database import make_engine


def own_database(request, tmp_path_factory, label: str):
    """Yield the URL of a fresh migrated database (SQLite file or PostgreSQL database), dropped after."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp(label) / 'own.db'}"
        migrate.upgrade(url=url)
        yield url
        return
    base = request.getfixturevalue("postgresql_url")
    name = f"crmpm_{label}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url=url)
    yield url
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()

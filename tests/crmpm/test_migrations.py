"""Migrations: upgrading an empty database gives exactly the models' schema, and downgrading undoes it."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from importlib.metadata import entry_points
from sqlalchemy import inspect

from crmpm import migrate
from crmpm.database import Base, make_engine

for _entry in entry_points(group="crmpm.models"):
    _entry.load()


def _diff(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_upgrade_from_empty_equals_models(database_url):
    engine = make_engine(database_url)
    try:
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrations.db'}"
    migrate.upgrade(url=url)
    migrate.downgrade(url=url, revision="base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(url=url)
    engine = make_engine(url)
    assert _diff(engine) == []
    engine.dispose()

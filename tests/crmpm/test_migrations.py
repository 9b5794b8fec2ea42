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


def test_padded_paths_migration_rewrites_existing_rows(tmp_path):
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'paths.db'}"
    migrate.upgrade(url=url, revision="0003")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO eps_nodes (id, code, name, parent_id, path, depth, protected, protect_path, created_at, "
            "updated_at, original_budget, current_budget) VALUES "
            "(1, 'R', 'R', NULL, '/1/', 0, 0, '', '2026-01-01', '2026-01-01', 0, 0), "
            "(12, 'C', 'C', 1, '/1/12/', 1, 1, '/1/12/', '2026-01-01', '2026-01-01', 0, 0)"))
        connection.execute(text(
            "INSERT INTO projects (id, code, name, eps_node_id, path, depth, protected, protect_path, description, "
            "planned_cost, actual_cost, created_at, updated_at, original_budget, current_budget) VALUES "
            "(7, 'P', 'P', 12, '/1/12/p7/', 2, 0, '/1/12/', '', 0, 0, '2026-01-01', '2026-01-01', 0, 0)"))
    engine.dispose()
    migrate.upgrade(url=url)
    engine = make_engine(url)
    with engine.connect() as connection:
        nodes = dict(connection.execute(text("SELECT id, path FROM eps_nodes")).all())
        project = connection.execute(text("SELECT path, protect_path FROM projects")).one()
    engine.dispose()
    assert nodes == {1: "/0000000001/", 12: "/0000000001/0000000012/"}
    assert tuple(project) == ("/0000000001/0000000012/p0000000007/", "/0000000001/0000000012/")
    migrate.downgrade(url=url, revision="0003")
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT path FROM projects")).scalar() == "/1/12/p7/"
    engine.dispose()

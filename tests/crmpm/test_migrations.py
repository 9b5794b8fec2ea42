"""Migrations: upgrading an empty database gives exactly the models' schema, and downgrading undoes it."""

import uuid
from importlib.metadata import entry_points

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from crmpm import migrate, search
from crmpm.database import Base, make_engine

for _entry in entry_points(group="crmpm.models"):
    _entry.load()


def _diff(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "include_name": search.include_name})
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


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """The URL of an empty database of each backend, dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    from tests.conftest import POSTGRES_URL, _postgres_unavailable_reason, _psycopg_url

    reason = _postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    admin = make_engine(_psycopg_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"crmpm_migration_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(_psycopg_url(POSTGRES_URL)).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


NODE_ROWS = ("INSERT INTO eps_nodes (id, code, name, parent_id, path, depth, protected, protect_path, created_at, "
             "updated_at, original_budget, current_budget) VALUES "
             "(1, 'R', 'R', NULL, '/0000000001/', 0, false, '', '2026-01-01', '2026-01-01', 0, 0), "
             "(12, 'C', 'C', 1, '/0000000001/0000000012/', 1, false, '', '2026-01-01', '2026-01-01', 0, 0)")
PROJECT_ROW = ("INSERT INTO projects (id, code, name, eps_node_id, path, depth, protected, protect_path, description, "
               "planned_cost, actual_cost, created_at, updated_at, original_budget, current_budget) VALUES "
               "(:id, :code, 'P', 12, :path, 2, :protected, :protect_path, '', 0, 0, '2026-01-01', '2026-01-01', "
               "0, 0)")
NODE = "/0000000001/0000000012/"


def test_bulk_project_paths_migration_pads_paths_and_their_copies(empty_database):
    url = empty_database
    migrate.upgrade(url=url, revision="0008")
    engine = make_engine(url)
    written = [  # (id, path, protected, protect_path) as the bulk deal creation and later changes left them
        (2, f"{NODE}p2/", False, ""),  # bulk-created, the node unprotected
        (7, f"{NODE}p7/", True, f"{NODE}p7/"),  # bulk-created, protected later: its path copied
        (31, f"{NODE}p31/", False, NODE),  # bulk-created under a protected node
        (40, f"{NODE}p0000000040/", True, f"{NODE}p0000000040/"),  # created one at a time: right already
        (1234567890, f"{NODE}p1234567890/", False, ""),  # a ten-digit id needs no padding
    ]
    with engine.begin() as connection:
        connection.execute(text(NODE_ROWS))
        connection.execute(text(PROJECT_ROW), [
            {"id": row_id, "code": f"P{row_id}", "path": path, "protected": protected, "protect_path": protect}
            for row_id, path, protected, protect in written])
    engine.dispose()
    migrate.upgrade(url=url)
    expected = {
        2: (f"{NODE}p0000000002/", ""),
        7: (f"{NODE}p0000000007/", f"{NODE}p0000000007/"),
        31: (f"{NODE}p0000000031/", NODE),
        40: (f"{NODE}p0000000040/", f"{NODE}p0000000040/"),
        1234567890: (f"{NODE}p1234567890/", ""),
    }
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = {row_id: (path, protect) for row_id, path, protect
                in connection.execute(text("SELECT id, path, protect_path FROM projects"))}
        nodes = dict(connection.execute(text("SELECT id, path FROM eps_nodes")).all())
    engine.dispose()
    assert rows == expected
    assert nodes == {1: "/0000000001/", 12: NODE}
    # Down and up again: the padded paths stay as they are.
    migrate.downgrade(url=url, revision="0008")
    migrate.upgrade(url=url)
    engine = make_engine(url)
    with engine.connect() as connection:
        assert {row_id: (path, protect) for row_id, path, protect
                in connection.execute(text("SELECT id, path, protect_path FROM projects"))} == expected
    assert _diff(engine) == []
    engine.dispose()


def test_contact_channels_migration_copies_each_email_and_phone(empty_database):
    url = empty_database
    migrate.upgrade(url=url, revision="0010")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(NODE_ROWS))
        connection.execute(text(
            "INSERT INTO accounts (id, name, kind, sector, segment, region_node_id, eps_node_id, created_at, "
            "updated_at) VALUES (5, 'A', 'client', '', '', 1, 12, '2026-01-01', '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO contacts (id, account_id, first_name, last_name, title, email, phone, created_at) VALUES "
            "(1, 5, 'Both', '', '', 'both@x.example', '+79161234567', '2026-01-01'), "
            "(2, 5, 'Mail', '', '', 'mail@x.example', NULL, '2026-01-01'), "
            "(3, 5, 'Phone', '', '', NULL, '+74951234567', '2026-01-01'), "
            "(4, 5, 'Nothing', '', '', NULL, NULL, '2026-01-01')"))
    engine.dispose()
    migrate.upgrade(url=url, revision="0012")
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = sorted(tuple(row) for row in connection.execute(text(
            "SELECT contact_id, type, kind, value, position FROM contact_channels")))
    engine.dispose()
    assert rows == [(1, "email", "work", "both@x.example", 0), (1, "phone", "work", "+79161234567", 0),
                    (2, "email", "work", "mail@x.example", 0), (3, "phone", "work", "+74951234567", 0)]
    migrate.downgrade(url=url, revision="0010")
    engine = make_engine(url)
    assert "contact_channels" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT email FROM contacts WHERE id = 1")).scalar() == "both@x.example"
    engine.dispose()


def test_contact_and_schedule_indexes_come_and_go_with_migration_0015(empty_database):
    url = empty_database
    expected = {"deals": "ix_deals_contact_id", "tasks": "ix_tasks_contact_id",
                "survey_answers": "ix_survey_answers_contact_id", "activities": "ix_activities_project_early_start"}

    def present() -> set[str]:
        engine = make_engine(url)
        try:
            inspector = inspect(engine)
            return {index["name"] for table in expected for index in inspector.get_indexes(table)
                    if index["name"] in expected.values()}
        finally:
            engine.dispose()

    migrate.upgrade(url=url)
    assert present() == set(expected.values())
    migrate.downgrade(url=url, revision="0014")
    assert present() == set()
    migrate.upgrade(url=url)
    assert present() == set(expected.values())


def test_migration_0017_marks_the_projects_of_deals(empty_database):
    url = empty_database
    migrate.upgrade(url=url, revision="0015")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(NODE_ROWS))
        connection.execute(text(PROJECT_ROW), [
            {"id": row_id, "code": f"P{row_id}", "path": f"{NODE}p{row_id:010d}/", "protected": False,
             "protect_path": ""} for row_id in (2, 3)])
        connection.execute(text(
            "INSERT INTO accounts (id, name, kind, sector, segment, region_node_id, eps_node_id, created_at, "
            "updated_at) VALUES (5, 'A', 'client', '', '', 1, 12, '2026-01-01', '2026-01-01')"))
        connection.execute(text("INSERT INTO pipelines (id, name, is_active, created_at) "
                                "VALUES (1, 'Sales', true, '2026-01-01')"))
        connection.execute(text("INSERT INTO pipeline_stages (id, pipeline_id, name, position, probability, kind) "
                                "VALUES (1, 1, 'New', 0, 10, 'open')"))
        connection.execute(text(
            "INSERT INTO deals (id, project_id, account_id, pipeline_id, stage_id, amount, currency, product, "
            "next_step, lost_reason, created_at, stage_entered_at) "
            "VALUES (1, 2, 5, 1, 1, 0, 'RUB', '', '', '', '2026-01-01', '2026-01-01')"))
    engine.dispose()
    migrate.upgrade(url=url)
    engine = make_engine(url)
    with engine.connect() as connection:
        marks = dict(connection.execute(text("SELECT id, is_deal FROM projects")).all())
    engine.dispose()
    assert {row_id: bool(mark) for row_id, mark in marks.items()} == {2: True, 3: False}
    migrate.downgrade(url=url, revision="0015")
    engine = make_engine(url)
    assert "is_deal" not in {column["name"] for column in inspect(engine).get_columns("projects")}
    engine.dispose()


def test_migration_0018_keeps_a_projects_baseline_as_its_first_named_primary(empty_database):
    url = empty_database
    migrate.upgrade(url=url, revision="0017")
    engine = make_engine(url)
    # Money is stored as minor units on SQLite (crmpm.database.Money), as NUMERIC on PostgreSQL.
    cost = "12345" if engine.dialect.name == "sqlite" else "123.45"
    with engine.begin() as connection:
        connection.execute(text(NODE_ROWS))
        connection.execute(text(PROJECT_ROW), [
            {"id": row_id, "code": f"P{row_id}", "path": f"{NODE}p{row_id:010d}/", "protected": False,
             "protect_path": ""} for row_id in (2, 3)])
        for row_id, project_id, baseline in ((1, 2, "'2026-03-02 08:00:00'"), (2, 2, "NULL"), (3, 3, "NULL")):
            connection.execute(text(
                "INSERT INTO activities (id, project_id, code, name, type, original_duration_hours, percent_complete, "
                "budgeted_cost, actual_cost, notes, critical, longest_path, baseline_start, baseline_finish) "
                f"VALUES ({row_id}, {project_id}, 'A{row_id}', 'A', 'task', 8, 0, {cost}, 0, '', false, false, "
                f"{baseline}, {baseline})"))
    engine.dispose()
    migrate.upgrade(url=url)
    engine = make_engine(url)
    with engine.connect() as connection:
        baselines = connection.execute(text("SELECT project_id, name, role, activity_count FROM baselines")).all()
        kept = connection.execute(text("SELECT activity_id, duration_hours FROM baseline_activities")).all()
    engine.dispose()
    assert [tuple(row) for row in baselines] == [(2, "Baseline 1", "primary", 1)]  # project 3 had none
    assert [tuple(row) for row in kept] == [(1, 8.0)]
    migrate.downgrade(url=url, revision="0017")
    engine = make_engine(url)
    assert "baselines" not in inspect(engine).get_table_names()
    engine.dispose()


CODE_TABLES = {"activity_code_types", "activity_code_values", "activity_code_assignments", "udf_types", "udf_values"}


def test_migration_0019_adds_activity_codes_and_udfs_and_takes_them_away(empty_database):
    url = empty_database
    migrate.upgrade(url=url, revision="0018")
    engine = make_engine(url)
    assert not CODE_TABLES & set(inspect(engine).get_table_names())
    with engine.begin() as connection:
        connection.execute(text(NODE_ROWS))
        connection.execute(text(PROJECT_ROW), [{"id": 2, "code": "P2", "path": f"{NODE}p{2:010d}/",
                                                "protected": False, "protect_path": ""}])
        connection.execute(text(
            "INSERT INTO activities (id, project_id, code, name, type, original_duration_hours, percent_complete, "
            "budgeted_cost, actual_cost, notes, critical, longest_path) "
            "VALUES (1, 2, 'A1', 'A', 'task', 8, 0, 0, 0, '', false, false)"))
    engine.dispose()
    migrate.upgrade(url=url, revision="0019")
    engine = make_engine(url)
    assert CODE_TABLES <= set(inspect(engine).get_table_names())
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO activity_code_types (id, scope, project_id, name, max_length, seq) "
                                "VALUES (1, 'project', 2, 'Phase', 10, 0)"))
        connection.execute(text("INSERT INTO activity_code_values (id, type_id, value, description, seq, color) "
                                "VALUES (1, 1, 'DES', 'Design', 0, '')"))
        connection.execute(text("INSERT INTO activity_code_assignments (activity_id, type_id, value_id) "
                                "VALUES (1, 1, 1)"))
        assigned = connection.execute(text("SELECT activity_id, value_id FROM activity_code_assignments")).all()
    engine.dispose()
    assert [tuple(row) for row in assigned] == [(1, 1)]
    migrate.downgrade(url=url, revision="0018")
    engine = make_engine(url)
    assert not CODE_TABLES & set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM activities")).scalar() == 1
    engine.dispose()

"""The PostgreSQL cursor describes a result's columns when asked, and describes them as psycopg does."""

from __future__ import annotations

import psycopg
from sqlalchemy import text

from crmpm.database import DescribedOnDemandCursor, make_engine

QUERY = "SELECT 1 AS one, 'x'::text AS word, now() AS at, 2.50::numeric(10, 2) AS money"


def _described(description):
    return [(column.name, column.type_code, column.internal_size, column.precision, column.scale)
            for column in description]


def test_the_columns_are_psycopgs_own(postgresql_url):
    conninfo = postgresql_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as plain, psycopg.connect(conninfo, cursor_factory=DescribedOnDemandCursor) as ours:
        expected = _described(plain.execute(QUERY).description)
        cursor = ours.execute(QUERY)
        assert isinstance(cursor, DescribedOnDemandCursor)
        description = cursor.description
        assert len(description) == 4
        assert _described(description) == expected
        assert [column.name for column in description] == ["one", "word", "at", "money"]
        # A statement without a result has no description, as with psycopg's cursor.
        assert ours.execute("SET TIME ZONE 'UTC'").description is None
        assert plain.execute("SET TIME ZONE 'UTC'").description is None


def test_a_description_kept_after_the_cursor_moved_on_describes_its_own_result(postgresql_url):
    conninfo = postgresql_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, cursor_factory=DescribedOnDemandCursor) as ours:
        cursor = ours.cursor()
        first = cursor.execute(QUERY).description
        cursor.execute("SELECT 42 AS answer")
        assert [column.name for column in first] == ["one", "word", "at", "money"]
        assert [column.name for column in cursor.description] == ["answer"]


def test_the_engine_uses_it_and_reads_rows_by_name(postgresql_url):
    engine = make_engine(postgresql_url)
    try:
        with engine.connect() as connection:
            assert isinstance(connection.connection.driver_connection.cursor(), DescribedOnDemandCursor)
            for _ in range(3):  # the second time from SQLAlchemy's cached result columns
                row = connection.execute(text(QUERY)).one()
                assert (row.one, row.word, str(row.money)) == (1, "x", "2.50")
                assert row._mapping["at"].tzinfo is not None
    finally:
        engine.dispose()

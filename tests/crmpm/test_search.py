"""The search rule on each backend, including a PostgreSQL database whose own lower() folds ASCII only."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import literal_column, select, text
from sqlalchemy.engine import make_url

from crmpm.database import make_engine
from crmpm.search import contains
from tests.conftest import POSTGRES_URL, _psycopg_url

# (stored, typed, found?)
CASES = [("Ладога", "ЛАДОГА", True), ("ЛАДОГА", "ладога", True), ("Straße", "STRASSE", True),
         ("STRASSE", "straße", True), ("ΟΔΟΣ", "οδος", True), ("İstanbul", "istanbul", True),
         ("ISTANBUL", "İstanbul", True), ("Ладога", "Онега", False), ("a%b", "%", True), ("ab", "%", False),
         ("ab", "_", False), ("a\\b", "\\", True)]


def _answers(engine) -> list[bool]:
    with engine.connect() as connection:
        answers = []
        for stored, typed, _found in CASES:
            row = select(literal_column("'" + stored.replace("'", "''") + "'").label("name")).subquery()
            answers.append(connection.execute(select(row.c.name).where(contains([row.c.name], typed))).first()
                           is not None)
        return answers


def test_every_backend_folds_the_same_way(engine):
    assert _answers(engine) == [found for _stored, _typed, found in CASES]


def test_a_postgresql_database_with_an_ascii_only_lower_still_folds_every_script(postgresql_url):
    admin = make_engine(_psycopg_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"crmpm_test_c_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
                                "LC_CTYPE 'C' LC_COLLATE 'C'"))
    engine = make_engine(make_url(postgresql_url).set(database=name).render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            # The premise: this database's own lower() leaves Cyrillic as it is.
            assert connection.execute(text("SELECT lower('ЛАДОГА')")).scalar() == "ЛАДОГА"
        assert _answers(engine) == [found for _stored, _typed, found in CASES]
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

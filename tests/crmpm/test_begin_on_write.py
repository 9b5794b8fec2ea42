"""GET and HEAD requests on PostgreSQL read outside a transaction and begin one at their first write.

``crmpm.database.begin_on_write_engine``: a read-only request saves the BEGIN and COMMIT round
trips; a request that writes (a token's last-used stamp) still commits all of it or, when it
fails, none of it. These tests need commits the rest of the suite must not see, so they run on
a database of their own next to the run's PostgreSQL one (the other tests bind every session to
one outer transaction, where this path cannot be taken).
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from psycopg import pq
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crmpm import create_app
from crmpm.database import begin_on_write_engine, bulk_insert, db, make_engine, utcnow
from crmpm.users import services as users
from crmpm.users.models import ApiToken, Team, User
from tests import databases

IDLE, INTRANS = pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS


@pytest.fixture(scope="module")
def own_database(postgresql_url, tmp_path_factory):
    """A migrated PostgreSQL database for this module only, dropped after it."""
    with databases.own_database("postgresql", folder=tmp_path_factory.mktemp("bow"), postgresql_url=postgresql_url,
                                prefix="crmpm_test_bow") as url:
        yield url


@pytest.fixture(scope="module")
def app(own_database):
    app = create_app({"DATABASE_URL": own_database, "TESTING": True})
    yield app
    with app.app_context():
        state = app.extensions["crmpm.database"]
        if state.begin_on_write is not None:
            state.begin_on_write[1].dispose()
        db.engine.dispose()


@pytest.fixture
def caller(app):
    """A user with a token used a minute ago (so a request need not stamp it), committed for real."""
    with app.app_context(), db.transaction() as session:
        user = User(email=f"{uuid.uuid4().hex[:8]}@example.com", name="Caller")
        session.add(user)
        session.flush()
        record, secret = users.create_token(session, actor=None, user=user)
        record.last_used_at = utcnow() - timedelta(minutes=1)
        return {"user_id": user.id, "token_id": record.id, "token": secret}


def _last_used(app, token_id):
    with app.app_context(), db.transaction() as session:
        return session.get(ApiToken, token_id).last_used_at


@contextmanager
def statements_with_status():
    """(SQL, autocommit, the server's transaction status just after it) for every statement meanwhile."""
    seen: list[tuple[str, bool, pq.TransactionStatus]] = []

    def record(_conn, cursor, statement, *_args):
        seen.append((statement, cursor.connection.autocommit, cursor.connection.info.transaction_status))

    event.listen(Engine, "after_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "after_cursor_execute", record)


def test_a_get_that_writes_nothing_sends_no_begin_and_leaves_nothing_to_commit(app, caller):
    client = app.test_client()
    with statements_with_status() as seen:
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {caller['token']}"})
    assert response.status_code == 200 and response.json["id"] == caller["user_id"]
    assert seen, "the token was not read"
    # In autocommit, and no transaction open after any statement: no BEGIN was sent (psycopg would have
    # opened one before the first statement otherwise), so the request's commit sends nothing either.
    assert all(autocommit and status == IDLE for _sql, autocommit, status in seen), seen


def test_a_post_still_runs_in_one_transaction(app, caller):
    client = app.test_client()
    with statements_with_status() as seen:
        response = client.post("/api/v1/me", headers={"Authorization": f"Bearer {caller['token']}"})
    assert response.status_code == 405  # no such method, but the caller was read as on every request
    assert seen and all(not autocommit and status == INTRANS for _sql, autocommit, status in seen), seen


def test_a_get_that_stamps_the_token_begins_before_the_write_and_commits_it(app, caller):
    with app.app_context(), db.transaction() as session:
        session.get(ApiToken, caller["token_id"]).last_used_at = None
    client = app.test_client()
    with statements_with_status() as seen:
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {caller['token']}"})
    assert response.status_code == 200
    [(read, _, read_status)] = [entry for entry in seen if entry[0].lstrip().upper().startswith("SELECT")]
    [(write, _, write_status)] = [entry for entry in seen if entry[0].lstrip().upper().startswith("UPDATE")]
    assert read_status == IDLE and write_status == INTRANS, seen
    # Committed at the edge: another connection sees the stamp.
    assert _last_used(app, caller["token_id"]) is not None


def test_a_get_that_fails_after_writing_leaves_nothing_written(app, caller):
    with app.app_context(), db.transaction() as session:
        session.get(ApiToken, caller["token_id"]).last_used_at = None
    client = app.test_client()
    response = client.get("/api/v1/projects/2147483000", headers={"Authorization": f"Bearer {caller['token']}"})
    assert response.status_code == 404
    assert _last_used(app, caller["token_id"]) is None  # the stamp was written, then rolled back with the request


def test_a_revoked_token_is_refused_on_the_next_get(app, caller):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {caller['token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with app.app_context(), db.transaction() as session:
        users.revoke_token(session, actor=session.get(User, caller["user_id"]), token_id=caller["token_id"])
    assert client.get("/api/v1/me", headers=headers).status_code == 401


@pytest.fixture
def reader(own_database):
    """A session on a begin-on-write engine, and the driver connection under it."""
    engine = make_engine(own_database)
    reads_first = begin_on_write_engine(engine)
    session = Session(bind=reads_first)
    yield session, lambda: session.connection().connection.driver_connection
    session.close()
    reads_first.dispose()
    engine.dispose()


def test_a_plain_select_stays_outside_a_transaction(reader):
    session, driver = reader
    assert session.scalar(select(func.count()).select_from(User)) >= 0
    assert driver().info.transaction_status == IDLE


@pytest.mark.parametrize("statement", [
    select(Team).with_for_update(),  # its row locks must last until the commit
    text("SELECT 1"),  # text may hide anything (nextval, a lock): treated as a write
])
def test_a_locking_or_unknown_statement_begins_the_transaction(reader, statement):
    session, driver = reader
    session.execute(statement)
    assert driver().info.transaction_status == INTRANS
    session.rollback()
    assert driver().info.transaction_status == IDLE


def test_a_server_side_cursor_begins_the_transaction(reader):
    session, driver = reader
    session.add_all([Team(name=f"batch-{n}-{uuid.uuid4().hex[:8]}") for n in range(3)])
    session.flush()
    session.commit()
    rows = session.execute(select(Team.id).execution_options(yield_per=2))  # a DECLARE needs a transaction
    assert len(rows.all()) >= 3 and driver().info.transaction_status == INTRANS
    session.rollback()


def test_a_flush_begins_the_transaction_and_a_rollback_undoes_it(reader, own_database):
    session, driver = reader
    name = f"team-{uuid.uuid4().hex[:8]}"
    session.add(Team(name=name))
    session.flush()
    assert driver().info.transaction_status == INTRANS
    with session.begin_nested():  # a savepoint works inside it
        session.add(Team(name=name + "-inner"))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Team).where(Team.name.startswith(name))) == 0


def test_a_copy_through_the_driver_begins_the_transaction_first(reader):
    session, driver = reader
    name = f"copied-{uuid.uuid4().hex[:8]}"
    bulk_insert(session, Team.__table__, [{"name": name}])
    assert driver().info.transaction_status == INTRANS
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Team).where(Team.name == name)) == 0


def test_a_committed_write_is_kept(reader, own_database):
    session, driver = reader
    name = f"kept-{uuid.uuid4().hex[:8]}"
    session.add(Team(name=name))
    session.commit()
    assert driver().info.transaction_status == IDLE
    other = make_engine(own_database)
    with other.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Team).where(Team.name == name)).scalar() == 1
    other.dispose()

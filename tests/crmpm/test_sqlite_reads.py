"""On the embedded SQLite database, GET requests read while another process holds the write lock.

A job (a 100,000-row import) holds SQLite's write lock for its whole run. Requests that only read
take a deferred transaction, which in WAL mode never waits for a writer: the pages, the API and a
job's progress keep answering. A request that writes waits for the lock as before.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from crmpm import create_app, migrate
from crmpm.database import db
from crmpm.users import services as users


@pytest.fixture
def embedded(tmp_path):
    path = tmp_path / "crmpm.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url=url)
    app = create_app({"DATABASE_URL": url, "TESTING": True, "JOBS_URL": "memory://", "INSTANCE_PATH": str(tmp_path)})
    with app.app_context(), db.transaction() as session:
        user = users.create(session, actor=None, email="reader@example.test", name="Reader",
                            password="Correct-horse-battery-9", is_admin=True)
        _token, secret = users.create_token(session, actor=None, user=user, name="t")
    yield app, path, {"Authorization": f"Bearer {secret}"}
    db_engine = app.extensions["crmpm.database"].engine
    db_engine.dispose()


def _hold_write_lock(path) -> sqlite3.Connection:
    """Another connection in the middle of a write transaction, as a running job is."""
    holder = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE users SET name = name")
    return holder


def test_a_get_answers_while_another_process_holds_the_write_lock(embedded):
    app, path, headers = embedded
    client = app.test_client()
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # stamps the token now
    holder = _hold_write_lock(path)
    try:
        started = time.monotonic()
        for path_ in ("/api/v1/me", "/api/v1/projects", "/api/v1/jobs"):
            response = client.get(path_, headers=headers)
            assert response.status_code == 200, (path_, response.get_json())
        # Without waiting for the lock (SQLite's busy timeout here is 30 s).
        assert time.monotonic() - started < 10
    finally:
        holder.rollback()
        holder.close()


def test_a_get_that_writes_takes_the_lock_then_and_commits(embedded):
    # A token's last use is stamped by the GET that uses it (once per few minutes): a write in a
    # deferred transaction, which takes the lock at that moment and commits with the request.
    app, path, headers = embedded
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE api_tokens SET last_used_at = NULL")
    response = app.test_client().get("/api/v1/me", headers=headers)
    assert response.status_code == 200
    with sqlite3.connect(path) as connection:
        (stamp,) = connection.execute("SELECT last_used_at FROM api_tokens").fetchone()
    assert stamp is not None

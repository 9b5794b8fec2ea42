"""Streamed downloads own a read-only session and close it: afterwards the database takes writes at once.

These tests run an app on a database of its own (a fresh SQLite file, a throwaway
PostgreSQL database) with real commits, because what they check is what a
download leaves open on the database after the request: locks and connections
"idle in transaction", which the per-test outer transaction would hide.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from crmpm import create_app
from crmpm.database import make_engine
from tests import factories
from tests.databases import own_database
from wbs import services
from wbs.interchange.mspdi import export as mspdi_export
from wbs.interchange.xer import export as xer_export
from wbs.interchange.mspdi import read_mspdi
from wbs.interchange.xer.reader import read_xer

ACTIVITIES = 60
DOWNLOADS = 20
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def own_url(request, tmp_path_factory):
    """A migrated database used by this module alone."""
    base = request.getfixturevalue("postgresql_url") if request.param == "postgresql" else None
    with own_database(request.param, folder=tmp_path_factory.mktemp("streams"), postgresql_url=base,
                      prefix="crmpm_streams") as url:
        yield url


@pytest.fixture(scope="module")
def world(own_url):
    """An administrator with a password and a token, and a project of ACTIVITIES linked activities."""
    engine = make_engine(own_url)
    with Session(engine, expire_on_commit=False) as session:
        admin = factories.user(session, admin=True, password=factories.PASSWORD)
        token = factories.token(session, user=admin)
        node = factories.node(session, actor=admin, code="STREAMS")
        project = factories.project(session, actor=admin, node=node, code="BIG")
        calendar = services.create_calendar(session, actor=admin, project=project, name="5x8",
                                            week=[[[480, 720], [780, 1020]]] * 5 + [[], []])
        services.update_plan(session, actor=admin, project=project, default_calendar_id=calendar.id)
        previous = None
        for n in range(ACTIVITIES):
            activity = services.create_activity(session, actor=admin, project=project, code=f"A{n:03}",
                                                name=f"Work {n}", original_duration_hours=8.0,
                                                budgeted_cost=Decimal("10.00"))
            if previous is not None:
                services.create_relationship(session, actor=admin, project=project, predecessor=previous,
                                             successor=activity)
            previous = activity
        session.commit()
        found = {"admin": admin, "token": token, "project_id": project.id, "node_id": node.id, "url": own_url}
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def own_app(world):
    app = create_app({"DATABASE_URL": world["url"], "TESTING": True})
    yield app
    app.extensions["crmpm.database"].engine.dispose()


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    # Many chunks per file, so that "the client went away after the first one" leaves most unread.
    monkeypatch.setattr(xer_export, "CHUNK_LINES", 5)
    monkeypatch.setattr(mspdi_export, "BATCH", 5)


def _api_download(client, world, kind="xer"):
    return client.get(f"/api/v1/projects/{world['project_id']}/export/{kind}", buffered=False,
                      headers={"Authorization": f"Bearer {world['token']}"})


def _page_client(app, world):
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["user_id"] = world["admin"].id
        cookie["stamp"] = world["admin"].session_stamp
    return client


def _page_download(client, world, kind="xer"):
    return client.get(f"/projects/{world['project_id']}/export.{'xer' if kind == 'xer' else 'xml'}", buffered=False)


def _write_at_once(world) -> None:
    """A write on a connection of its own that waits at most a second for a lock."""
    options = {"connect_args": {"timeout": 1}} if world["url"].startswith("sqlite") else {
        "connect_args": {"options": "-c lock_timeout=1000"}}
    engine = make_engine(world["url"], **options)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE eps_nodes SET name = :name WHERE id = :id"),
                               {"name": f"written {uuid.uuid4().hex[:6]}", "id": world["node_id"]})
    finally:
        engine.dispose()


def _left_in_transaction(world) -> list[str]:
    """Connections to the database that sit inside a transaction (PostgreSQL's view of them)."""
    if not world["url"].startswith("postgresql"):
        return []
    engine = make_engine(world["url"])
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(
                "SELECT state || ': ' || coalesce(query, '') FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")).scalars())
    finally:
        engine.dispose()


def test_twenty_downloads_then_a_write_at_once(own_app, world):
    api, pages = own_app.test_client(), _page_client(own_app, world)
    expected = None
    for n in range(DOWNLOADS):
        download = _api_download(api, world) if n % 2 else _page_download(pages, world)
        assert download.status_code == 200, download.status_code
        data = download.get_data()
        download.close()  # as a WSGI server does when the last byte is sent
        expected = expected or data
        assert data == expected and len(read_xer(data).rows("TASK")) == ACTIVITIES
    assert _left_in_transaction(world) == []
    _write_at_once(world)
    # And as many MS Project files.
    for n in range(DOWNLOADS):
        download = _api_download(api, world, "mspdi") if n % 2 else _page_download(pages, world, "mspdi")
        assert download.status_code == 200, download.status_code
        data = download.get_data()
        download.close()
        assert len(read_mspdi(data).activities) == ACTIVITIES
    assert _left_in_transaction(world) == []
    _write_at_once(world)
    # The app itself writes too: a new EPS node through the API.
    created = api.post("/api/v1/eps/nodes", json={"code": f"W{uuid.uuid4().hex[:6]}", "name": "After downloads",
                             "parent_id": world["node_id"]},
                       headers={"Authorization": f"Bearer {world['token']}"})
    assert created.status_code == 201, created.json


@pytest.mark.parametrize("kind", ["xer", "mspdi"])
def test_twenty_parallel_downloads_then_a_write_at_once(own_app, world, kind):
    from concurrent.futures import ThreadPoolExecutor

    def download(n: int) -> int:
        client = own_app.test_client() if n % 2 else _page_client(own_app, world)
        response = _api_download(client, world, kind) if n % 2 else _page_download(client, world, kind)
        if n % 3 == 0:  # a third of the clients go away after the first chunk
            assert next(iter(response.response))
        else:
            assert len(response.get_data()) > 1000
        response.close()
        return response.status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert set(pool.map(download, range(DOWNLOADS))) == {200}
    assert _left_in_transaction(world) == []
    _write_at_once(world)


def test_download_read_to_the_end_without_close_leaves_nothing_open(own_app, world):
    download = _api_download(own_app.test_client(), world)
    assert len(download.get_data()) > 0
    # No close(): the stream ended, and that alone closes its session.
    assert _left_in_transaction(world) == []
    _write_at_once(world)


@pytest.mark.parametrize("kind", ["xer", "mspdi"])
@pytest.mark.parametrize("where", ["api", "page"])
def test_download_abandoned_after_the_first_chunk_leaves_nothing_open(own_app, world, where, kind):
    download = (_api_download(own_app.test_client(), world, kind) if where == "api"
                else _page_download(_page_client(own_app, world), world, kind))
    chunks = iter(download.response)
    first = next(chunks)
    assert first.startswith(b"ERMHDR" if kind == "xer" else b"<?xml")
    download.close()  # the client went away: the server closes the iterator (GeneratorExit)
    assert _left_in_transaction(world) == []
    _write_at_once(world)


def test_download_never_read_leaves_nothing_open(own_app, world):
    _api_download(own_app.test_client(), world).close()
    assert _left_in_transaction(world) == []
    _write_at_once(world)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_served_sqlite_install_answers_logins_after_a_download(world, tmp_path):
    if not world["url"].startswith("sqlite"):
        pytest.skip("the served install under test is the embedded SQLite one")
    port = _free_port()
    env = {**os.environ, "CRMPM_DATABASE_URL": world["url"]}
    server = subprocess.Popen([sys.executable, "-m", "crmpm", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        download = urllib.request.Request(f"{base}/api/v1/projects/{world['project_id']}/export/xer",
                                          headers={"Authorization": f"Bearer {world['token']}"})
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(download, timeout=10) as response:
                    data = response.read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        assert len(read_xer(data).rows("TASK")) == ACTIVITIES
        # A whole login right after: the form (with its CSRF token), then the post.
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                             _NoRedirect())
        with opener.open(f"{base}/login", timeout=10) as form:
            token = CSRF_META.search(form.read().decode()).group(1)
        body = urllib.parse.urlencode({"csrf_token": token, "email": world["admin"].email,
                                       "password": factories.PASSWORD}).encode()
        try:
            status = opener.open(f"{base}/login", data=body, timeout=40).status
        except urllib.error.HTTPError as answered:
            status = answered.code
        assert status == 303, status  # logged in and sent on (503 when a download held the write lock)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

"""What one API request costs, counted rather than timed: SQL statements, spec builds, password hashing.

The throughput figures themselves are measured by ``bench/bench_http.py`` (BENCHMARKS.md,
"API throughput"); these tests keep the fixes behind them from coming undone.
"""

from __future__ import annotations

import gzip
import json
from contextlib import contextmanager
from decimal import Decimal

import pytest
from argon2 import PasswordHasher
from sqlalchemy import event, select, text

from accounts.models import Deal
from crmpm import create_app
from eps.models import Role
from tests import factories
from tests.api.conftest import ApiClient


@contextmanager
def statements(connection):
    """The SQL statements run on ``connection`` meanwhile (the test's savepoints left out)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


@pytest.fixture
def deals_world(session):
    """Twelve deals with two lines each, spread over the stages of one pipeline, under one branch."""
    admin = factories.admin(session)
    root = factories.node(session, actor=admin, code="ENT")
    branch = factories.node(session, actor=admin, parent=root, code="MSK")
    pipeline = factories.pipeline(session, name="Sales")
    account = factories.account(session, actor=admin, region=branch, name="Client")
    stages = ["Qualification", "Proposal", "Negotiation", "Won", "Lost"]
    for n in range(12):
        factories.deal(session, actor=admin, account=account, pipeline=pipeline, stage=stages[n % len(stages)],
                       lines=[{"product": f"P{n}", "quantity": Decimal(1), "unit_price": Decimal("10.00")},
                              {"product": f"Q{n}", "quantity": Decimal(2), "unit_price": Decimal("5.00")}],
                       lost_reason="price" if stages[n % len(stages)] == "Lost" else "")
    seller = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=branch, user=seller)
    session.commit()
    return {"admin": admin, "seller": seller}


@pytest.mark.parametrize("who", ["seller", "admin"])
def test_a_page_of_deals_costs_the_same_few_statements_whatever_its_size(api, connection, deals_world, who):
    user = deals_world[who]
    api.get("/api/v1/me", user=user)  # the token's first use is recorded (a write); later ones within minutes not
    counts = {}
    for per_page in (1, 4, 12):
        with statements(connection) as seen:
            response = api.get(f"/api/v1/deals?per_page={per_page}", user=user)
        assert response.status_code == 200, response.json
        page = response.json["items"]
        assert len(page) == per_page and response.json["total"] == 12
        # What the deal's project, stage and lines contribute is really in the page.
        assert all(item["code"] and item["stage"] and item["status"] and len(item["lines"]) == 2 for item in page)
        assert [item["id"] for item in page] == sorted((item["id"] for item in page), reverse=True)  # newest first
        assert all([line["product"][0] for line in item["lines"]] == ["P", "Q"] for item in page)  # in their order
        counts[per_page] = len(seen)
    assert counts[1] == counts[4] == counts[12], counts
    # token and user, the caller's grants (non-admins: and whether they read everything), count, page, lines
    assert counts[12] <= 8, counts


def test_the_token_and_its_user_are_read_in_one_statement_without_password_hashing(api, connection, session,
                                                                                       monkeypatch):
    user = factories.user(session)
    session.commit()
    token = api.token_for(user)

    def no_argon2(*_args, **_kwargs):
        raise AssertionError("argon2 ran for an API token")

    for method in ("verify", "hash", "check_needs_rehash"):
        monkeypatch.setattr(PasswordHasher, method, no_argon2)
    with statements(connection) as seen:
        response = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["id"] == user.id
    reads = [statement for statement in seen if statement.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "api_tokens" in reads[0] and "users" in reads[0], reads


@pytest.mark.parametrize("path", ["/api/v1/projects", "/api/v1/deals"])
def test_a_list_reads_the_callers_grants_with_the_token(api, connection, deals_world, path):
    """The caller's grants travel with the token's row: a list is that statement and its page, nothing more."""
    seller = deals_world["seller"]
    api.get("/api/v1/me", user=seller)  # the token's first use is recorded (a write); later ones within minutes not
    with statements(connection) as seen:
        response = api.get(f"{path}?per_page=50", user=seller)
    assert response.status_code == 200 and response.json["total"] == 12  # twelve deals, each a project
    reads = [statement for statement in seen if statement.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 2, reads
    assert "api_tokens" in reads[0] and "grants" in reads[0]
    assert "grants" not in reads[1] and "api_tokens" not in reads[1]


def test_me_reads_the_token_and_its_user_without_the_grants(api, connection, deals_world):
    """``/api/v1/me`` asks nothing of the caller's grants, so its one statement does not read them."""
    seller = deals_world["seller"]
    api.get("/api/v1/me", user=seller)
    with statements(connection) as seen:
        response = api.get("/api/v1/me", user=seller)
    assert response.status_code == 200 and response.json["id"] == seller.id
    assert len(seen) == 1 and "api_tokens" in seen[0] and "grants" not in seen[0], seen


def test_the_openapi_spec_is_built_once_per_app_and_revalidates(monkeypatch, sqlite_url):
    app = create_app({"DATABASE_URL": sqlite_url, "TESTING": True})
    api = app.extensions["crmpm.api"]
    expected = api.spec.to_dict()
    builds = []
    original = type(api.spec).to_dict
    monkeypatch.setattr(type(api.spec), "to_dict", lambda spec: builds.append(1) or original(spec))
    client = app.test_client()

    first = client.get("/api/openapi.json")
    second = client.get("/api/openapi.json")
    zipped = client.get("/api/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert len(builds) == 1
    assert first.status_code == second.status_code == zipped.status_code == 200
    assert first.mimetype == "application/json" and first.json == expected and second.data == first.data
    assert zipped.headers["Content-Encoding"] == "gzip" and json.loads(gzip.decompress(zipped.data)) == expected
    assert "Accept-Encoding" in first.headers["Vary"]
    again = client.get("/api/openapi.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    # Another app builds its own.
    other = create_app({"DATABASE_URL": sqlite_url, "TESTING": True})
    assert other.test_client().get("/api/openapi.json").json == expected and len(builds) == 2


def test_pool_pre_ping_is_off_unless_asked_for(monkeypatch, sqlite_url):
    from crmpm.database import db

    url = "postgresql+psycopg://nobody@127.0.0.1:9/none"  # never connected to: only the engine's settings are read
    monkeypatch.delenv("CRMPM_DATABASE_PRE_PING", raising=False)
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        assert db.engine.pool._pre_ping is False
        assert app.extensions["crmpm.database"].begin_on_write[1].pool._pre_ping is False
    monkeypatch.setenv("CRMPM_DATABASE_PRE_PING", "1")
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        assert db.engine.pool._pre_ping is True
        # GET requests' own connections (crmpm.database.begin_on_write_engine) are pinged alike.
        assert app.extensions["crmpm.database"].begin_on_write[1].pool._pre_ping is True


def test_a_connection_the_database_dropped_costs_one_503_then_the_pool_recovers(postgresql_url):
    """Without pre-ping: the request that meets the dead connection answers 503 (JSON), the next one is served."""
    from crmpm import migrate
    from crmpm.database import db, make_engine

    migrate.upgrade(url=postgresql_url)
    app = create_app({"DATABASE_URL": postgresql_url, "TESTING": True})
    client = ApiClient(app.test_client(), None)
    # An unknown token still reads api_tokens, and writes nothing to the shared test database.
    headers = {"Authorization": "Bearer crmpm_not-a-token"}
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    # The backend of the connection GET requests use (they read on connections of their own: begin on write).
    with app.test_request_context("/api/v1/me", method="GET"):
        pid = db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        db.session.commit()
    admin = make_engine(postgresql_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True
    admin.dispose()

    dropped = client.get("/api/v1/me", headers=headers)
    assert dropped.status_code == 503 and dropped.json["message"].startswith("the database is busy or unavailable")
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    with app.app_context():
        db.engine.dispose()
        app.extensions["crmpm.database"].begin_on_write[1].dispose()


@pytest.mark.parametrize("page, per_page, expected_items, counted", [
    (1, 50, 12, False),  # the only page, not full: the total is its length
    (3, 5, 2, False),  # the last page, not full: the total follows from it
    (2, 5, 5, True),  # a full page: only a count can tell what follows
    (1, 12, 12, True),  # full, though nothing follows
    (4, 5, 0, True),  # past the end: counted, so the caller learns the real total
])
def test_the_count_runs_only_when_the_page_cannot_tell_the_total(api, connection, deals_world, page, per_page,
                                                                   expected_items, counted):
    user = deals_world["admin"]
    api.get("/api/v1/me", user=user)
    with statements(connection) as seen:
        response = api.get(f"/api/v1/deals?page={page}&per_page={per_page}", user=user)
    body = response.json
    assert response.status_code == 200 and len(body["items"]) == expected_items
    assert body["total"] == 12 and body["pages"] == -(-12 // per_page)
    assert any("count(" in statement.lower() for statement in seen) is counted


def test_a_page_of_projects_read_as_rows_is_what_each_project_reads_as_an_object(api, session, admin):
    """``paginate(columns=True)``: the projects page is dumped from rows, one project from its ORM object."""
    root = factories.node(session, actor=admin, code="ROWS", budget="5000.00")
    for n, (budget, planned) in enumerate([("1000.50", "10.00"), ("0.00", "0.00"), ("99.99", "12345.67")]):
        factories.project(session, actor=admin, node=root, code=f"ROW{n}", budget=budget, planned=planned)
    session.commit()
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=root, user=viewer)
    session.commit()
    page = api.get("/api/v1/projects?per_page=500", user=viewer)
    assert page.status_code == 200 and page.json["total"] == 3
    for item in page.json["items"]:
        assert item == api.get(f"/api/v1/projects/{item['id']}", user=viewer).json
    assert {item["current_budget"] for item in page.json["items"]} == {"1000.50", "0.00", "99.99"}


def test_a_page_of_deals_read_as_rows_is_what_each_deal_reads_as_an_object(api, session, deals_world):
    """``accounts.deals.deal_page``: each deal of a page, its lines, stage, status and probability, is what
    ``GET /api/v1/deals/{id}`` dumps from the ORM object; a deal without lines and one with its own
    probability are among them, and a page boundary never splits a deal's lines."""
    admin, seller = deals_world["admin"], deals_world["seller"]
    deal = session.scalars(select(Deal).order_by(Deal.id)).first()
    deal.probability = 35
    bare = factories.deal(session, actor=admin, account=deal.account, pipeline=deal.pipeline, stage="Proposal",
                          amount=Decimal("1234.50"))
    session.commit()
    whole = api.get("/api/v1/deals?per_page=500", user=seller).json
    assert whole["total"] == 13 and [item["id"] for item in whole["items"]] == sorted(
        (item["id"] for item in whole["items"]), reverse=True)
    for item in whole["items"]:
        assert item == api.get(f"/api/v1/deals/{item['id']}", user=seller).json
    by_id = {item["id"]: item for item in whole["items"]}
    assert by_id[bare.id]["lines"] == [] and by_id[bare.id]["amount"] == "1234.50"
    assert by_id[deal.id]["effective_probability"] == 35 and len(by_id[deal.id]["lines"]) == 2
    # Pages of three: every deal once, each with both its lines, in the same order as the whole list.
    paged = [item for number in range(1, 6)
             for item in api.get(f"/api/v1/deals?per_page=3&page={number}", user=seller).json["items"]]
    assert paged == whole["items"]


def test_the_token_lookup_attaches_the_caller_to_the_request_session(app, api, session, connection):
    """The caller is made from the token's row, yet is the session's own object: relationships load."""
    from crmpm.database import db
    from crmpm.users import services as users

    user = factories.user(session)
    factories.team(session, members=[user], name="Readers")
    session.commit()
    token = api.token_for(user)
    with app.test_request_context("/api/v1/me"):
        caller = users.user_for_token(db.session, token=token)
        assert caller in db.session and caller not in db.session.dirty
        assert [team.name for team in caller.teams] == ["Readers"]  # lazy-loaded through the session
        assert users.user_for_token(db.session, token=token) is caller  # the same object, not a second one


def test_api_requests_open_no_cookie_session(api, admin, app):
    """The API authenticates by token only: it neither reads nor sets the pages' signed cookie."""
    from flask import session as cookie_session

    with app.test_request_context("/api/v1/me"):
        assert cookie_session.get("anything") is None
        with pytest.raises(RuntimeError):
            cookie_session["written"] = 1  # Flask's null session refuses writes
    with app.test_request_context("/login"):
        cookie_session["written"] = 1  # pages keep theirs
    response = api.get("/api/v1/me", user=admin, headers={"Cookie": "session=forged"})
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_lists_built_once_per_set_of_rights_show_each_caller_their_own(api, session, admin):
    """Two sellers with grants on different branches, asking in turn: each sees their branch's projects only,
    whatever the other asked before (a list's statement is kept per set of rights, never per request)."""
    root = factories.node(session, actor=admin, code="TURNS")
    north = factories.node(session, actor=admin, parent=root, code="NORTH")
    south = factories.node(session, actor=admin, parent=root, code="SOUTH")
    factories.project(session, actor=admin, node=north, code="N1")
    factories.project(session, actor=admin, node=south, code="S1")
    factories.project(session, actor=admin, node=south, code="S2")
    one, other = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=north, user=one)
    factories.grant(session, actor=admin, role=Role.viewer, target=south, user=other)
    session.commit()
    expected = {one.id: ["N1"], other.id: ["S1", "S2"]}
    for user in (one, other, one, other, one):
        for per_page in (1, 50):
            response = api.get(f"/api/v1/projects?per_page={per_page}", user=user)
            assert response.status_code == 200
            assert response.json["total"] == len(expected[user.id])
            assert [item["code"] for item in response.json["items"]] == expected[user.id][:per_page]
    everyone = api.get("/api/v1/projects?per_page=500", user=admin).json
    assert {"N1", "S1", "S2"} <= {item["code"] for item in everyone["items"]}

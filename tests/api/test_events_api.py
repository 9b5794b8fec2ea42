"""GET /api/v1/events for integrators: paging, filters, bad input, and only what the caller may read now;
and a request that rolls back records no event.

Reading events needs committed transactions (on PostgreSQL an event is read once its transaction has
ended), so the reading tests run an app on a database of this module's own.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts import deals as deal_services
from accounts.models import Deal
from crmpm import create_app
from crmpm.database import make_engine
from crmpm.events import Event
from eps import budgets, grants
from eps.models import Role
from tests import factories
from tests.api.conftest import ApiClient
from tests.databases import module_database

EVENTS = "/api/v1/events"


# A request that rolls back records nothing (the test's own transaction, both databases)


@pytest.fixture
def failing_commit(session):
    """Once armed, the app's commits fail, as a deferred constraint or a lost connection would at COMMIT."""
    state = {"armed": False}

    def refuse(committing):
        if state["armed"] and committing is not session:
            raise IntegrityError("COMMIT", {}, Exception("deferred constraint violated at commit"))

    sa_event.listen(Session, "before_commit", refuse)
    yield state
    sa_event.remove(Session, "before_commit", refuse)


def _events_about(session, subject_type: str) -> int:
    return session.scalar(select(func.count()).select_from(Event).where(Event.subject_type == subject_type))


def test_a_request_whose_commit_fails_records_no_event(app, session, failing_commit):
    admin = factories.admin(session)
    region = factories.node(session, actor=admin, code="ROLLBACK")
    session.commit()
    api = ApiClient(app.test_client(), session)
    api.token_for(admin)
    before = _events_about(session, "leads")
    failing_commit["armed"] = True
    response = api.post("/api/v1/leads", user=admin, json={"region_node_id": region.id, "company": "Gone Ltd"})
    assert response.status_code == 409, response.get_json()
    assert _events_about(session, "leads") == before
    failing_commit["armed"] = False
    assert api.post("/api/v1/leads", user=admin, json={"region_node_id": region.id, "company": "Kept Ltd"}) \
        .status_code == 201
    assert _events_about(session, "leads") == before + 1


def test_a_request_refused_after_the_service_wrote_records_no_event(app, session, monkeypatch):
    """The deal is created and its event recorded, then the request fails: both are rolled back."""
    admin = factories.admin(session)
    region = factories.node(session, actor=admin, code="HALFWAY")
    account = factories.account(session, actor=admin, region=region)
    pipeline = factories.pipeline(session)
    session.commit()
    api = ApiClient(app.test_client(), session)
    api.token_for(admin)
    before = _events_about(session, "deals")
    create, written = deal_services.create_deal, []

    def create_then_fail(request_session, **kwargs):
        deal = create(request_session, **kwargs)
        written.append(request_session.scalar(select(func.count()).select_from(Event).where(
            Event.subject_type == "deals", Event.subject_id == deal.id)))
        written.append(deal.id)
        raise RuntimeError("the request fails after the deal was written")

    monkeypatch.setattr(deal_services, "create_deal", create_then_fail)
    app.testing, propagate = False, app.config.get("PROPAGATE_EXCEPTIONS")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = api.post("/api/v1/deals", user=admin, json={"account_id": account.id, "name": "Half",
                                                               "pipeline_id": pipeline.id, "amount": "10.00"})
    finally:
        app.testing, app.config["PROPAGATE_EXCEPTIONS"] = True, propagate
    assert response.status_code == 500 and written[0] == 1  # the service ran, and recorded its event
    assert _events_about(session, "deals") == before
    assert session.get(Deal, written[1]) is None


# Reading events, on a committed database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def own_url(request, tmp_path_factory):
    yield from module_database(request, tmp_path_factory, "eventsapi")


@pytest.fixture(scope="module")
def world(own_url, tmp_path_factory):
    """Two branches A and B with a deal and a budget change each; a viewer, an editor and a manager of A."""
    app = create_app({"DATABASE_URL": own_url, "TESTING": True, "JOBS_URL": "memory://",
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("eventsapi"))})
    engine = make_engine(own_url)
    with Session(engine, expire_on_commit=False) as session:
        admin = factories.admin(session)
        root = factories.node(session, actor=admin, code="EV", budget="1000.00")
        pipeline = factories.pipeline(session)
        found = {"app": app, "engine": engine, "admin": admin, "root": root, "pipeline": pipeline}
        for side in ("A", "B"):
            branch = factories.node(session, actor=admin, parent=root, code=f"EV{side}", budget="400.00")
            account = factories.account(session, actor=admin, region=branch)
            deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline)
            project = factories.project(session, actor=admin, node=branch, budget="100.00")
            change = budgets.request_change(session, actor=admin, obj=project, amount=Decimal("5.00"), reason="r")
            found[side] = {"branch": branch, "account": account, "deal": deal, "project": project, "change": change}
        for role in ("viewer", "editor", "manager"):
            found[role] = factories.user(session)
            factories.grant(session, actor=admin, role=Role(role), target=found["A"]["branch"], user=found[role])
        found["nobody"] = factories.user(session)
        found["tokens"] = {found[who].id: factories.token(session, user=found[who])
                           for who in ("admin", "viewer", "editor", "manager", "nobody")}
        session.commit()
    yield found
    engine.dispose()


@pytest.fixture
def client(world):
    test_client = world["app"].test_client()

    def get(path, user):
        return test_client.get(path, headers={"Authorization": f"Bearer {world['tokens'][user.id]}"})

    return get


def _last_id(world) -> int:
    with Session(world["engine"]) as session:
        return session.scalar(select(func.max(Event.id))) or 0


def _items(client, user, query=""):
    response = client(f"{EVENTS}?limit=1000{query}", user)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_pages_after_an_id_with_a_limit_and_last_id(world, client):
    admin = world["admin"]
    everything = _items(client, admin)
    assert [item["id"] for item in everything] == sorted(item["id"] for item in everything)
    first = client(f"{EVENTS}?limit=3", admin).get_json()
    assert [item["id"] for item in first["items"]] == [item["id"] for item in everything[:3]]
    assert first["last_id"] == first["items"][-1]["id"]
    second = client(f"{EVENTS}?limit=3&after={first['last_id']}", admin).get_json()
    assert [item["id"] for item in second["items"]] == [item["id"] for item in everything[3:6]]
    end = everything[-1]["id"]
    empty = client(f"{EVENTS}?after={end}", admin).get_json()
    assert empty == {"items": [], "last_id": end}
    item = everything[0]
    assert set(item) == {"id", "type", "version", "subject_type", "subject_id", "payload", "actor_id",
                         "occurred_at"}


def test_filters_by_one_or_several_types(world, client):
    admin = world["admin"]
    deals = _items(client, admin, "&type=deal.created")
    assert {item["subject_id"] for item in deals} >= {world["A"]["deal"].id, world["B"]["deal"].id}
    assert {item["type"] for item in deals} == {"deal.created"}
    both = _items(client, admin, "&type=deal.created&type=budget.change_requested")
    assert {item["type"] for item in both} == {"deal.created", "budget.change_requested"}
    change = next(item for item in both if item["subject_id"] == world["A"]["change"].id
                  and item["type"] == "budget.change_requested")
    assert change["payload"] == {"eps_node_id": None, "project_id": world["A"]["project"].id, "amount": "5.00"}


@pytest.mark.parametrize("query", ["type=deal.exploded", "type=", "limit=0", "limit=1001", "after=-1",
                                   "after=x", "limit=1.5"])
def test_bad_input_is_422_naming_the_parameter(world, client, query):
    response = client(f"{EVENTS}?{query}", world["admin"])
    assert response.status_code == 422, response.get_json()
    assert query.split("=")[0] in response.get_json()["errors"].get("query", response.get_json()["errors"])


def test_without_a_token_it_is_401(world):
    assert world["app"].test_client().get(EVENTS).status_code == 401


def _about(items, subject_type, subject_id):
    return [item["type"] for item in items if (item["subject_type"], item["subject_id"]) == (subject_type, subject_id)]


def test_a_user_reads_only_events_about_what_they_may_read(world, client):
    viewer, nobody = world["viewer"], world["nobody"]
    seen = _items(client, viewer)
    assert _about(seen, "deals", world["A"]["deal"].id) == ["deal.created"]
    assert _about(seen, "budget_changes", world["A"]["change"].id) == ["budget.change_requested"]
    assert _about(seen, "deals", world["B"]["deal"].id) == []
    assert _about(seen, "budget_changes", world["B"]["change"].id) == []
    assert {item["subject_type"] for item in seen} <= {"deals", "accounts", "leads", "tasks", "interactions",
                                                       "projects", "eps_nodes", "budget_changes"}
    # Users' access is read by administrators and whoever changed it: not by the viewer it concerns.
    assert _about(seen, "users", viewer.id) == []
    assert "user.access_changed" in _about(_items(client, world["admin"]), "users", viewer.id)
    assert _items(client, nobody) == []


def test_the_actor_of_an_access_change_reads_it_and_no_one_else_without_admin_rights(world, client):
    manager, viewer = world["manager"], world["viewer"]
    after = _last_id(world)
    with Session(world["engine"], expire_on_commit=False) as session:
        newcomer = factories.user(session)
        grant = grants.create(session, actor=session.get(type(manager), manager.id), role=Role.viewer,
                              target=session.get(type(world["A"]["branch"]), world["A"]["branch"].id),
                              user=newcomer)
        session.commit()
    assert [item["payload"] for item in _items(client, manager, f"&after={after}")] == [
        {"user_id": newcomer.id, "what": "granted", "grant_id": grant.id, "role": "viewer",
         "eps_node_id": world["A"]["branch"].id, "project_id": None, "team_id": None}]
    assert _items(client, viewer, f"&after={after}") == []


def test_events_are_read_by_current_rights_not_by_who_caused_them(world, client):
    editor, admin = world["editor"], world["admin"]
    after = _last_id(world)
    with Session(world["engine"], expire_on_commit=False) as session:
        from accounts.models import Deal
        from crmpm.users.models import User
        from eps.models import Grant

        acting = session.get(User, editor.id)
        deal = session.get(Deal, world["A"]["deal"].id)
        factories.move(session, actor=acting, deal=deal, stage="Proposal")
        session.commit()
        assert _about(_items(client, editor, f"&after={after}"), "deals", deal.id) == ["deal.stage_changed"]
        held = session.scalars(select(Grant).where(Grant.user_id == editor.id)).all()
        for grant in held:
            grants.delete(session, actor=session.get(User, admin.id), grant=grant)
        session.commit()
        try:
            assert _about(_items(client, editor, f"&after={after}"), "deals", deal.id) == []
        finally:
            for grant in held:
                factories.grant(session, actor=session.get(User, admin.id), role=grant.role,
                                target=session.get(type(world["A"]["branch"]), world["A"]["branch"].id),
                                user=acting)
            session.commit()

"""The account manager's read models: account rows with figures, the full timeline, the lead inbox, counts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from accounts import activities, overview, routing
from accounts import leads as lead_services
from accounts.models import SurveyKind
from crmpm.database import utcnow
from crmpm.errors import Invalid
from eps import services as eps_services
from eps.models import Role
from tests import factories


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=10, tzinfo=timezone.utc)


@pytest.fixture
def book(session):
    """A holding on branch A with a protected deal, a subsidiary on branch B, and a user granted A only."""
    admin = factories.admin(session)
    root = factories.node(session, actor=admin, code="ROOT")
    a = factories.node(session, actor=admin, parent=root, code="A")
    b = factories.node(session, actor=admin, parent=root, code="B")
    user = factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=a, user=user)
    pipeline = factories.pipeline(session)
    holding = factories.account(session, actor=admin, region=a, name="Holding", owner=user)
    sub = factories.account(session, actor=admin, region=b, name="Sub", parent=holding)
    deal = factories.deal(session, actor=admin, account=holding, pipeline=pipeline, amount="100.00",
                          created_at=_at("2026-01-01"))
    hidden = factories.deal(session, actor=admin, account=holding, pipeline=pipeline, amount="40.00",
                            created_at=_at("2026-01-02"))
    eps_services.update_project(session, actor=admin, project=hidden.project, protected=True)
    won = factories.deal(session, actor=admin, account=holding, pipeline=pipeline, amount="999.00")
    factories.move(session, actor=admin, deal=won, stage="Won")
    factories.interaction(session, actor=admin, account=holding, occurred_at=_at("2026-02-01"), subject="plain")
    factories.interaction(session, actor=admin, account=holding, occurred_at=_at("2026-03-01"), subject="on hidden",
                          deal=hidden)
    factories.interaction(session, actor=admin, account=sub, occurred_at=_at("2026-04-01"), subject="at sub")
    activities.record_answer(session, actor=admin, account=holding, kind=SurveyKind.nps, score=10,
                             answered_at=_at("2026-05-01"))
    activities.record_answer(session, actor=admin, account=holding, kind=SurveyKind.nps, score=3,
                             answered_at=_at("2026-05-02"))
    activities.record_answer(session, actor=admin, account=holding, kind=SurveyKind.csat, score=4, deal=hidden,
                             answered_at=_at("2026-05-03"))
    session.flush()
    return {"admin": admin, "user": user, "a": a, "b": b, "holding": holding, "sub": sub, "deal": deal,
            "hidden": hidden, "won": won}


def test_account_rows_count_open_readable_deals_and_the_last_touch(session, book):
    rows = {row[0].name: row for row in session.execute(overview.account_rows(session, user=book["admin"]))}
    assert (rows["Holding"].open_deals, rows["Holding"].open_amount) == (2, Decimal("140.00"))
    assert rows["Holding"].last_touch == _at("2026-03-01") and rows["Holding"].branch_code == "A"
    mine = {row[0].name: row for row in session.execute(overview.account_rows(session, user=book["user"]))}
    assert set(mine) == {"Holding"}
    assert (mine["Holding"].open_deals, mine["Holding"].open_amount) == (1, Decimal("100.00"))
    by_amount = session.execute(overview.account_rows(session, user=book["admin"], sort="open_amount",
                                                      descending=True)).all()
    assert [row[0].name for row in by_amount] == ["Holding", "Sub"]
    by_code = session.execute(overview.account_rows(session, user=book["admin"],
                                                    search=book["sub"].eps_node.code)).all()
    assert [row[0].name for row in by_code] == ["Sub"]


def test_timeline_keeps_its_core_shape_without_a_user(session, book):
    rows = session.execute(activities.timeline(session, account=book["holding"])).all()
    assert {row.type for row in rows} == {"interaction", "stage_change"}
    assert "on hidden" in {row.title for row in rows}


def test_full_timeline_hides_unreadable_deals_and_branches(session, book):
    every = activities.TIMELINE_TYPES
    admin_rows = session.execute(activities.timeline(session, account=book["holding"], user=book["admin"],
                                                     types=every, with_subaccounts=True)).all()
    assert {"plain", "on hidden", "at sub"} <= {row.title for row in admin_rows}
    assert {row.type for row in admin_rows} == {"interaction", "stage_change", "deal", "survey"}
    assert [row.at for row in admin_rows] == sorted((row.at for row in admin_rows), reverse=True)
    rows = session.execute(activities.timeline(session, account=book["holding"], user=book["user"], types=every,
                                               with_subaccounts=True)).all()
    titles = {row.title for row in rows}
    assert "plain" in titles and "on hidden" not in titles and "at sub" not in titles
    assert book["hidden"].id not in {row.deal_id for row in rows}
    assert sorted(row.detail for row in rows if row.type == "survey") == ["10", "3"]  # not the hidden deal's
    only = session.execute(activities.timeline(session, account=book["holding"], user=book["user"],
                                               types=("deal",))).all()
    assert {row.id for row in only} == {book["deal"].id, book["won"].id}
    until = session.execute(activities.timeline(session, account=book["holding"], user=book["user"],
                                                types=("interaction",), until=_at("2026-02-15"))).all()
    assert [row.title for row in until] == ["plain"]
    with pytest.raises(Invalid):
        activities.timeline(session, account=book["holding"], types=("gossip",))


def test_satisfaction_totals(session, book):
    totals = overview.satisfaction_totals(session, account_ids=[book["holding"].id])
    assert totals == {"csat": 4.0, "csat_answers": 1, "nps": 0.0, "nps_answers": 2}


def test_lead_inbox_scopes_assignment_and_counts(session, book):
    user, admin = book["user"], book["admin"]
    mate = factories.user(session)
    team = factories.team(session, members=[user, mate])
    rule = routing.create_rule(session, actor=admin, name="Desk", team=team, members=[{"user_id": user.id}])
    routed = lead_services.create_lead(session, actor=admin, region=book["a"], company="Routed", source="web")
    routing.route_lead(session, actor=None, lead=routed)
    theirs = lead_services.create_lead(session, actor=admin, region=book["a"], company="Theirs")
    routing.assign_lead(session, actor=admin, lead=theirs, user=mate)
    waiting = lead_services.create_lead(session, actor=admin, region=book["a"], company="Waiting")
    lead_services.create_lead(session, actor=admin, region=book["b"], company="Elsewhere")
    session.flush()
    mine = session.execute(overview.lead_inbox(session, user=user)).all()
    assert [row[0].company for row in mine] == ["Routed"]
    assert mine[0].rule_name == rule.name and mine[0][2].reason == "round_robin"
    team_rows = session.execute(overview.lead_inbox(session, user=user, scope="team")).all()
    assert {row[0].company for row in team_rows} == {"Routed", "Theirs", "Waiting"}
    assert {row[0].company for row in session.execute(overview.lead_inbox(session, user=user, scope="all"))} == {
        "Routed", "Theirs", "Waiting"}
    assert overview.open_lead_count(session, user=user) == 1
    lead_services.disqualify_lead(session, actor=admin, lead=routed, reason="spam")
    assert overview.open_lead_count(session, user=user) == 0
    assert overview.lead_sources(session, user=user) == ["web"]
    assert overview.lead_age(waiting, now=waiting.created_at + timedelta(hours=13))[1] == "due"
    assert overview.lead_age(waiting, now=waiting.created_at + timedelta(hours=25))[1] == "late"
    assert overview.lead_age(routed)[1] == "closed"


def test_task_worklist_and_overdue_count(session, book):
    user, admin = book["user"], book["admin"]
    now = utcnow()
    late = activities.create_task(session, actor=admin, title="late", due_at=now - timedelta(days=2),
                                  account=book["holding"], assignee=user)
    secret = activities.create_task(session, actor=admin, title="secret deal", due_at=now - timedelta(days=1),
                                    deal=book["hidden"], assignee=user)
    later = activities.create_task(session, actor=admin, title="later", due_at=now + timedelta(days=2),
                                   deal=book["deal"], assignee=user)
    session.flush()
    rows = session.execute(overview.task_worklist(session, user=user)).all()
    assert [row[0].id for row in rows] == [late.id, secret.id, later.id]
    names = {row[0].id: row.deal_name for row in rows}
    assert names[secret.id] is None and names[later.id] == book["deal"].name
    assert overview.overdue_task_count(session, user=user, now=now) == 2
    assert overview.overdue_task_count(session, user=user, now=now - timedelta(days=3)) == 0
    activities.update_task(session, actor=admin, task=late, status="done")
    assert [row[0].id for row in session.execute(overview.task_worklist(session, user=user, done=True))] == [late.id]
    upcoming = session.scalars(overview.upcoming_tasks(session, user=user, account=book["holding"], now=now)).all()
    assert [task.id for task in upcoming] == [later.id]


def test_the_api_timeline_leaves_out_the_deals_the_caller_may_not_read(session, book, app):
    from tests.api.conftest import ApiClient

    session.commit()
    api = ApiClient(app.test_client(), session)
    path = f"/api/v1/accounts/{book['holding'].id}/timeline?per_page=100"
    seen = {row["title"] for row in api.get(path, user=book["user"]).json["items"]}
    assert "plain" in seen and "on hidden" not in seen
    everything = {row["title"] for row in api.get(path, user=book["admin"]).json["items"]}
    assert {"plain", "on hidden"} <= everything

"""Lead routing, rule by rule, and handovers to deputies; each test names the step it checks."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from accounts import leads, routing
from accounts.models import Deal, LeadAssignment, Task, TaskStatus
from crmpm.errors import Conflict, Invalid
from tests import factories
from tests.accounts.fixtures import crm  # noqa: F401 - fixture

# A Wednesday, 12:00 in Moscow.
NOON = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def team(session, crm):
    people = [factories.user(session, name=name) for name in ("Alice", "Boris", "Clara")]
    sales = factories.team(session, members=people, name="Sales team")
    return {"people": people, "team": sales, **crm}


def _rule(session, team, members, **options):
    return routing.create_rule(session, actor=team["admin"], name=options.pop("name", "Sales"), team=team["team"],
                               members=[{"user_id": user.id, **extra} for user, extra in members], **options)


def _lead(session, team, side="A", **fields):
    fields.setdefault("company", "Someone new")
    return leads.create_lead(session, actor=team["admin"], region=team[side]["branch"], **fields)


def _route(session, lead, at=NOON):
    return routing.route_lead(session, actor=None, lead=lead, now=at)


def test_lead_from_existing_client_goes_to_its_owner(session, team):
    alice, boris, _clara = team["people"]
    client = team["A"]["account"]
    client.owner_id = boris.id
    _rule(session, team, [(alice, {})])
    lead = _lead(session, team, company="Unrelated name", email="BUYER@a.example")  # the client's contact email
    assignment = _route(session, lead)
    assert (assignment.user_id, assignment.reason) == (boris.id, "existing_client")
    assert assignment.details == {"account_id": client.id}
    assert lead.owner_id == boris.id


def test_existing_client_owner_away_falls_back_to_the_team(session, team):
    alice, boris, _clara = team["people"]
    team["A"]["account"].owner_id = boris.id
    routing.create_absence(session, actor=team["admin"], user=boris, starts_at=NOON - timedelta(days=1),
                           ends_at=NOON + timedelta(days=1))
    _rule(session, team, [(alice, {})])
    assignment = _route(session, _lead(session, team, company="Client A"))
    assert (assignment.user_id, assignment.reason) == (alice.id, "round_robin")


def test_rule_not_preferring_owner_skips_that_step(session, team):
    alice, boris, _clara = team["people"]
    team["A"]["account"].owner_id = boris.id
    _rule(session, team, [(alice, {})], prefer_account_owner=False)
    assert _route(session, _lead(session, team, company="Client A")).user_id == alice.id


def test_territory_decides_eligibility(session, team):
    alice, boris, _clara = team["people"]
    _rule(session, team, [(alice, {"territories": [team["A"]["branch"].id]}),
                          (boris, {"territories": [team["B"]["branch"].id]})])
    assert _route(session, _lead(session, team, side="B")).user_id == boris.id
    assert _route(session, _lead(session, team, side="A")).user_id == alice.id
    # A territory higher up covers the branches below it.
    _rule(session, team, [(_clara := team["people"][2], {"territories": [team["root"].id]})], name="Root", priority=1)
    assert _route(session, _lead(session, team, side="B")).user_id == _clara.id


def test_product_or_skill_decides_eligibility(session, team):
    alice, boris, _clara = team["people"]
    _rule(session, team, [(alice, {"products": ["SCADA"]}), (boris, {"products": ["ERP", "BI"]})])
    assert _route(session, _lead(session, team, product="erp")).user_id == boris.id
    assert _route(session, _lead(session, team, product="Scada")).user_id == alice.id


def test_nobody_receives_leads_while_away(session, team):
    alice, boris, _clara = team["people"]
    routing.create_absence(session, actor=alice, user=alice, starts_at=NOON - timedelta(hours=1),
                           ends_at=NOON + timedelta(hours=1))
    _rule(session, team, [(alice, {}), (boris, {})])
    picked = {_route(session, _lead(session, team)).user_id for _ in range(3)}
    assert picked == {boris.id}
    # After the absence Alice is back in the rotation (and first: she was never assigned).
    assert _route(session, _lead(session, team), at=NOON + timedelta(hours=2)).user_id == alice.id


def test_working_hours_in_the_members_time_zone(session, team):
    alice, boris, _clara = team["people"]
    moscow_office = {"work_start_hour": 9, "work_end_hour": 18, "work_days": [1, 2, 3, 4, 5],
                     "timezone": "Europe/Moscow"}
    new_york = {"work_start_hour": 9, "work_end_hour": 18, "work_days": [1, 2, 3, 4, 5],
                "timezone": "America/New_York"}
    _rule(session, team, [(alice, moscow_office), (boris, new_york)])
    # 12:00 in Moscow is 04:00 in New York.
    assert _route(session, _lead(session, team)).user_id == alice.id
    # 20:00 UTC: 23:00 in Moscow, 15:00 in New York.
    assert _route(session, _lead(session, team), at=NOON.replace(hour=20)).user_id == boris.id
    saturday = NOON + timedelta(days=3)
    with pytest.raises(Conflict) as caught:
        _route(session, _lead(session, team), at=saturday)
    assert "owner_id" in caught.value.errors


def test_capacity_per_member_and_period(session, team):
    alice, boris, _clara = team["people"]
    _rule(session, team, [(alice, {"capacity": 1}), (boris, {})], capacity=2, capacity_period="day")
    got = [_route(session, _lead(session, team), at=NOON + timedelta(minutes=i)).user_id for i in range(3)]
    # Alice (never assigned) first, then Boris; Alice is full at 1, Boris takes his second.
    assert got == [alice.id, boris.id, boris.id]
    with pytest.raises(Conflict):
        _route(session, _lead(session, team), at=NOON + timedelta(minutes=5))
    # Next day the counters start again.
    assert _route(session, _lead(session, team), at=NOON + timedelta(days=1)).user_id in {alice.id, boris.id}


def test_round_robin_takes_the_least_recently_assigned(session, team):
    alice, boris, clara = team["people"]
    _rule(session, team, [(alice, {}), (boris, {}), (clara, {})])
    got = [_route(session, _lead(session, team), at=NOON + timedelta(minutes=i)).user_id for i in range(6)]
    assert got == [alice.id, boris.id, clara.id] * 2


def test_least_load_takes_the_member_with_fewest_open_leads_and_deals(session, team):
    alice, boris, clara = team["people"]
    admin, account, pipeline = team["admin"], team["A"]["account"], team["pipeline"]
    for owner, count in ((alice, 2), (boris, 1)):
        for _ in range(count):
            factories.deal(session, actor=admin, account=account, pipeline=pipeline, owner=owner)
    won = factories.deal(session, actor=admin, account=account, pipeline=pipeline, owner=clara)
    factories.move(session, actor=admin, deal=won, stage="Won")  # closed deals are no load
    _rule(session, team, [(alice, {}), (boris, {}), (clara, {})], fairness="least_load")
    first = _route(session, _lead(session, team))
    assert (first.user_id, first.reason) == (clara.id, "least_load")
    # Clara now holds one open lead, like Boris's one deal; Boris was assigned less recently (never).
    assert _route(session, _lead(session, team), at=NOON + timedelta(minutes=1)).user_id == boris.id


def test_rules_are_tried_by_priority_and_recorded(session, team):
    alice, boris, _clara = team["people"]
    first = _rule(session, team, [(alice, {"products": ["ERP"]})], name="ERP desk", priority=1)
    second = _rule(session, team, [(boris, {})], name="Everyone else", priority=2)
    erp = _route(session, _lead(session, team, product="ERP"))
    other = _route(session, _lead(session, team, product="WMS"))
    assert (erp.rule_id, erp.user_id) == (first.id, alice.id)
    assert (other.rule_id, other.user_id) == (second.id, boris.id)
    assert other.details["eligible"] == [boris.id]
    assert session.scalars(select(LeadAssignment.reason).order_by(LeadAssignment.id)).all() == [
        "round_robin", "round_robin"]


def test_inactive_members_and_manual_assignment(session, team):
    alice, boris, _clara = team["people"]
    _rule(session, team, [(alice, {}), (boris, {})])
    alice.is_active = False
    assert _route(session, _lead(session, team)).user_id == boris.id
    lead = _lead(session, team)
    with pytest.raises(Invalid) as caught:
        routing.assign_lead(session, actor=team["admin"], lead=lead, user=alice)
    assert caught.value.errors == {"owner_id": ["inactive user"]}
    manual = routing.assign_lead(session, actor=team["admin"], lead=lead, user=boris)
    assert manual.reason == "manual" and manual.rule_id is None


def test_rule_members_must_be_in_the_team(session, team):
    stranger = factories.user(session)
    with pytest.raises(Invalid) as caught:
        _rule(session, team, [(stranger, {})])
    assert "members.0.user_id" in caught.value.errors
    with pytest.raises(Invalid) as caught:
        _rule(session, team, [(team["people"][0], {"timezone": "Mars/Olympus"})])
    assert "members.0.timezone" in caught.value.errors


def test_handover_to_deputy_and_back(session, team):
    alice, boris, _clara = team["people"]
    admin, account, pipeline = team["admin"], team["A"]["account"], team["pipeline"]
    open_deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline, owner=alice)
    closed_deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline, owner=alice)
    factories.move(session, actor=admin, deal=closed_deal, stage="Won")
    from accounts import activities

    task = activities.create_task(session, actor=admin, title="Call back", due_at=NOON, deal=open_deal,
                                  assignee=alice)
    done = activities.create_task(session, actor=admin, title="Old", due_at=NOON, account=account, assignee=alice)
    activities.update_task(session, actor=admin, task=done, status=TaskStatus.done)
    absence = routing.create_absence(session, actor=alice, user=alice, deputy=boris, starts_at=NOON,
                                     ends_at=NOON + timedelta(days=7), reason="Vacation")
    started, ended = routing.process_handovers(session, now=NOON + timedelta(hours=1))
    assert (started, ended) == (1, 0)
    assert session.get(Deal, open_deal.id).owner_id == boris.id
    assert session.get(Task, task.id).assignee_id == boris.id
    assert session.get(Deal, closed_deal.id).owner_id == alice.id and session.get(Task, done.id).assignee_id == alice.id
    # The deputy passes the task on; it stays with whoever took it.
    clara = team["people"][2]
    activities.update_task(session, actor=admin, task=session.get(Task, task.id), assignee=clara)
    started, ended = routing.process_handovers(session, now=NOON + timedelta(days=8))
    assert (started, ended) == (0, 1)
    assert session.get(Deal, open_deal.id).owner_id == alice.id
    assert session.get(Task, task.id).assignee_id == clara.id
    assert absence.returned_at is not None
    # The deal's history stays with the client: it never left the account.
    assert session.get(Deal, open_deal.id).account_id == account.id

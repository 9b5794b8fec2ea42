"""Each domain event is recorded by the service that makes the change, with its subject and payload.

The events are read straight from the outbox table (the test's own transaction), on SQLite and
PostgreSQL; what integrators and consumers may read of them is tested in tests/api and tests/crmpm.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from accounts import activities, deals, leads, routing
from accounts.models import Deal
from accounts.pipelines import stage_in
from crmpm.database import utcnow
from crmpm.events import TYPES, Event
from crmpm.users import services as users
from eps import budgets, grants
from eps.models import Role
from tests import factories
from tests.accounts.fixtures import admin, api, crm  # noqa: F401 - fixtures


def recorded(session, type_: str, subject=None) -> list[Event]:
    """The events of ``type_`` (about ``subject``, an ORM row or a pair), oldest first."""
    # Ids are given as a transaction commits; before that, the rows' order is that of their writing.
    query = select(Event).where(Event.type == type_).order_by(Event.row_id)
    if subject is not None:
        subject_type, subject_id = subject if isinstance(subject, tuple) else (subject.__tablename__, subject.id)
        query = query.where(Event.subject_type == subject_type, Event.subject_id == subject_id)
    return list(session.scalars(query))


def only(session, type_: str, subject=None) -> Event:
    found = recorded(session, type_, subject)
    assert len(found) == 1, [(e.type, e.subject_type, e.subject_id, e.payload) for e in found]
    return found[0]


def test_every_type_recorded_here_is_declared():
    mine = {"deal.created", "deal.stage_changed", "deal.won", "deal.lost", "lead.created", "lead.assigned",
            "lead.qualified", "task.created", "task.due", "task.done", "interaction.recorded",
            "budget.change_requested", "budget.change_decided", "user.access_changed", "deal.owner_changed"}
    assert mine <= set(TYPES)


# Deals


def test_a_new_deal_records_deal_created(session, crm):
    admin, account = crm["admin"], crm["A"]["account"]
    owner = factories.user(session)
    deal = factories.deal(session, actor=admin, account=account, pipeline=crm["pipeline"], amount="1234.50",
                          owner=owner, contact=crm["A"]["contact"])
    event = only(session, "deal.created", deal)
    assert event.actor_id == admin.id and event.version == 1 and event.occurred_at is not None
    assert event.payload == {
        "account_id": account.id, "project_id": deal.project_id, "pipeline_id": crm["pipeline"].id,
        "stage_id": deal.stage_id, "status": "open", "owner_id": owner.id, "contact_id": crm["A"]["contact"].id,
        "amount": "1234.50", "currency": "RUB"}


def test_deals_created_in_bulk_record_one_event_each(session, crm):
    admin, pipeline = crm["admin"], crm["pipeline"]
    won = stage_in(pipeline, name="Won")
    new = [deals.check_new_deal(session, actor=admin, account=crm[side]["account"], name=f"Bulk {side}",
                                pipeline=pipeline, stage=stage, amount=Decimal(amount), closed_at=closed)
           for side, stage, amount, closed in (("A", None, "10.00", None), ("B", won, "20.05", utcnow()))]
    ids = deals.create_deals(session, actor=admin, pipeline=pipeline, new=new)
    events = recorded(session, "deal.created")
    assert [e.subject_id for e in events] == ids and all(e.subject_type == "deals" for e in events)
    assert [(e.payload["account_id"], e.payload["amount"], e.payload["status"]) for e in events] == [
        (crm["A"]["account"].id, "10.00", "open"), (crm["B"]["account"].id, "20.05", "won")]
    created = [session.get(Deal, deal_id) for deal_id in ids]
    assert [e.payload["project_id"] for e in events] == [deal.project_id for deal in created]
    assert all(e.actor_id == admin.id for e in events)


def test_stage_moves_record_stage_changed_and_lost_with_the_reason(session, crm):
    admin, pipeline = crm["admin"], crm["pipeline"]
    deal = factories.deal(session, actor=admin, account=crm["A"]["account"], pipeline=pipeline)
    first = deal.stage_id
    factories.move(session, actor=admin, deal=deal, stage="Proposal")
    factories.move(session, actor=admin, deal=deal, stage="Lost", lost_reason="Too expensive")
    proposal, lost = stage_in(pipeline, name="Proposal"), stage_in(pipeline, name="Lost")
    assert [e.payload for e in recorded(session, "deal.stage_changed", deal)] == [
        {"from_stage_id": first, "to_stage_id": proposal.id, "status": "open"},
        {"from_stage_id": proposal.id, "to_stage_id": lost.id, "status": "lost"}]
    assert only(session, "deal.lost", deal).payload == {"stage_id": lost.id, "reason": "Too expensive"}
    assert recorded(session, "deal.won", deal) == []


def test_a_win_records_deal_won_after_the_stage_change_and_a_second_win_says_so(session, crm):
    admin, pipeline = crm["admin"], crm["pipeline"]
    for node in (crm["root"], crm["A"]["branch"], crm["A"]["account"].eps_node):  # room for the won deal's budget
        budgets.set_original(session, actor=admin, obj=node, amount=Decimal("1000.00"))
    deal = factories.deal(session, actor=admin, account=crm["A"]["account"], pipeline=pipeline, amount="500.00")
    factories.move(session, actor=admin, deal=deal, stage="Won")
    won = stage_in(pipeline, name="Won")
    first = only(session, "deal.won", deal)
    assert first.payload == {"stage_id": won.id, "amount": "500.00", "project_id": deal.project_id,
                             "first_win": True, "budget_set": True}
    assert first.row_id > recorded(session, "deal.stage_changed", deal)[-1].row_id
    factories.move(session, actor=admin, deal=deal, stage="Negotiation")
    factories.move(session, actor=admin, deal=deal, stage="Won")
    again = recorded(session, "deal.won", deal)
    assert len(again) == 2 and again[1].payload["first_win"] is False and again[1].payload["budget_set"] is False


def test_a_refused_move_records_nothing(session, crm):
    admin = crm["admin"]
    deal = factories.deal(session, actor=admin, account=crm["A"]["account"], pipeline=crm["pipeline"])
    with pytest.raises(Exception):
        factories.move(session, actor=admin, deal=deal, stage="Lost")  # a lost deal needs a reason
    assert recorded(session, "deal.stage_changed", deal) == [] and recorded(session, "deal.lost") == []


# Leads


def _lead(session, crm, **fields):
    fields.setdefault("company", "Ladoga Foods")
    return leads.create_lead(session, actor=crm["admin"], region=crm["A"]["branch"], source="web", **fields)


def test_a_new_lead_records_lead_created(session, crm):
    lead = _lead(session, crm)
    event = only(session, "lead.created", lead)
    assert event.payload == {"owner_id": None, "source": "web", "region_node_id": crm["A"]["branch"].id}
    assert event.actor_id == crm["admin"].id


def test_manual_and_routed_assignments_record_lead_assigned(session, crm):
    admin = crm["admin"]
    alice, boris = factories.user(session), factories.user(session)
    team = factories.team(session, members=[boris])
    rule = routing.create_rule(session, actor=admin, name="Everyone", team=team, members=[{"user_id": boris.id}])
    lead = _lead(session, crm, company="Routed Ltd")
    routing.route_lead(session, actor=admin, lead=lead)
    routing.assign_lead(session, actor=admin, lead=lead, user=alice)
    assert [e.payload for e in recorded(session, "lead.assigned", lead)] == [
        {"owner_id": boris.id, "previous_owner_id": None, "reason": "round_robin", "rule_id": rule.id},
        {"owner_id": alice.id, "previous_owner_id": boris.id, "reason": "manual", "rule_id": None}]


def test_a_lead_nobody_can_take_is_queued_without_an_assignment_event(session, crm):
    lead = _lead(session, crm, company="Queued Ltd")
    assert routing.route_or_queue(session, actor=crm["admin"], lead=lead) is None
    assert recorded(session, "lead.assigned", lead) == []


def test_qualifying_a_lead_records_lead_qualified_and_the_deal_it_opened(session, crm):
    lead = _lead(session, crm, company="Qualified Ltd", email="boss@qualified.example")
    qualified = leads.qualify_lead(session, actor=crm["admin"], lead=lead, pipeline=crm["pipeline"])
    event = only(session, "lead.qualified", lead)
    assert event.payload == {"account_id": qualified.account.id, "contact_id": qualified.contact.id,
                             "deal_id": qualified.deal.id}
    assert only(session, "deal.created", qualified.deal).row_id < event.row_id


def test_leads_qualified_in_bulk_record_one_event_each(session, crm):
    admin = crm["admin"]
    first, second = _lead(session, crm, company="One"), _lead(session, crm, company="Two")
    account, contact = crm["A"]["account"], crm["A"]["contact"]
    deal = factories.deal(session, actor=admin, account=account, pipeline=crm["pipeline"])
    other = factories.deal(session, actor=admin, account=account, pipeline=crm["pipeline"])
    leads.record_qualified_many(session, actor=admin, qualified=[(first, deal.id, account, contact, utcnow()),
                                                                 (second, other.id, account, None, utcnow())])
    assert only(session, "lead.qualified", first).payload == {"account_id": account.id, "contact_id": contact.id,
                                                              "deal_id": deal.id}
    assert only(session, "lead.qualified", second).payload == {"account_id": account.id, "contact_id": None,
                                                               "deal_id": other.id}


# Tasks and interactions


def test_tasks_record_created_and_done_once(session, crm):
    admin, account = crm["admin"], crm["A"]["account"]
    assignee = factories.user(session)
    deal = factories.deal(session, actor=admin, account=account, pipeline=crm["pipeline"])
    due, remind = utcnow() + timedelta(days=2), utcnow() + timedelta(days=1)
    task = activities.create_task(session, actor=admin, title="Send the offer", due_at=due, remind_at=remind,
                                  deal=deal, assignee=assignee)
    created = only(session, "task.created", task)
    assert created.payload == {"assignee_id": assignee.id, "due_at": due.isoformat(), "remind_at": remind.isoformat(),
                               "account_id": account.id, "deal_id": deal.id, "lead_id": None, "contact_id": None}
    activities.update_task(session, actor=admin, task=task, title="Send the signed offer")
    assert recorded(session, "task.done", task) == []
    activities.update_task(session, actor=admin, task=task, status="done")
    activities.update_task(session, actor=admin, task=task, title="Sent")  # still done: no second event
    done = only(session, "task.done", task)
    assert done.payload == {"assignee_id": assignee.id, "completed_at": task.completed_at.isoformat()}


def test_an_interaction_records_interaction_recorded(session, crm):
    admin, account, contact = crm["admin"], crm["A"]["account"], crm["A"]["contact"]
    at = utcnow() - timedelta(hours=3)
    interaction = activities.create_interaction(session, actor=admin, account=account, contact=contact,
                                                kind="call", direction="inbound", occurred_at=at)
    assert only(session, "interaction.recorded", interaction).payload == {
        "account_id": account.id, "lead_id": None, "contact_id": contact.id, "deal_id": None, "kind": "call",
        "direction": "inbound", "at": at.isoformat(), "user_id": admin.id}


# Budgets


@pytest.mark.parametrize("decide, decision", [(budgets.approve_change, "approved"),
                                              (budgets.reject_change, "rejected")])
def test_budget_changes_record_requested_and_decided(session, crm, decide, decision):
    admin = crm["admin"]
    for node in (crm["root"], crm["A"]["branch"]):
        budgets.set_original(session, actor=admin, obj=node, amount=Decimal("10.00"))
    project = factories.project(session, actor=admin, node=crm["A"]["branch"], budget="1.00")
    requester = factories.user(session)
    factories.grant(session, actor=admin, role=Role.finance, target=project, user=requester)
    change = budgets.request_change(session, actor=requester, obj=project, amount=Decimal("-0.10"), reason="less")
    requested = only(session, "budget.change_requested", change)
    assert requested.payload == {"eps_node_id": None, "project_id": project.id, "amount": "-0.10"}
    assert requested.actor_id == requester.id
    decide(session, actor=admin, change=change)
    assert only(session, "budget.change_decided", change).payload == {
        "decision": decision, "amount": "-0.10", "eps_node_id": None, "project_id": project.id,
        "requested_by_id": requester.id}


# Users' access


def _access(session, user) -> list[dict]:
    return [e.payload for e in recorded(session, "user.access_changed", ("users", user.id))]


def test_grants_given_and_taken_record_access_changed_for_the_user(session, crm):
    admin, branch = crm["admin"], crm["A"]["branch"]
    alice = factories.user(session)
    grant = factories.grant(session, actor=admin, role=Role.editor, target=branch, user=alice)
    grants.delete(session, actor=admin, grant=grant)
    facts = {"grant_id": grant.id, "role": "editor", "eps_node_id": branch.id, "project_id": None, "team_id": None}
    assert _access(session, alice) == [{"user_id": alice.id, "what": "granted", **facts},
                                       {"user_id": alice.id, "what": "revoked", **facts}]
    assert {e.actor_id for e in recorded(session, "user.access_changed", ("users", alice.id))} == {admin.id}


def test_a_grant_to_a_team_records_access_changed_for_each_member(session, crm):
    admin = crm["admin"]
    alice, boris = factories.user(session), factories.user(session)
    team = factories.team(session, members=[alice, boris])
    grant = factories.grant(session, actor=admin, role=Role.viewer, target=crm["root"], team=team)
    for member in (alice, boris):
        assert _access(session, member)[-1] == {
            "user_id": member.id, "what": "granted", "grant_id": grant.id, "role": "viewer",
            "eps_node_id": crm["root"].id, "project_id": None, "team_id": team.id}


def test_team_membership_records_joined_and_left(session, crm):
    admin = crm["admin"]
    alice, boris, carol = factories.user(session), factories.user(session), factories.user(session)
    team = users.create_team(session, actor=admin, name="Sales East", member_ids=[alice.id, boris.id])
    users.update_team(session, actor=admin, team=team, member_ids=[boris.id, carol.id])
    users.delete_team(session, actor=admin, team=team)
    joined_left = {(p["user_id"], p["what"]) for u in (alice, boris, carol) for p in _access(session, u)}
    assert joined_left == {(alice.id, "team_joined"), (boris.id, "team_joined"), (alice.id, "team_left"),
                           (carol.id, "team_joined"), (boris.id, "team_left"), (carol.id, "team_left")}
    assert [p["what"] for p in _access(session, carol)] == ["team_joined", "team_left"]
    assert all(p["team_id"] == team.id for u in (alice, boris, carol) for p in _access(session, u))


def test_activation_and_admin_flags_record_access_changed_and_other_changes_do_not(session, crm):
    admin = crm["admin"]
    alice = factories.user(session)
    users.update(session, actor=admin, user=alice, name="Alice Renamed", locale="ru")
    assert _access(session, alice) == []
    users.update(session, actor=admin, user=alice, is_active=False)
    users.update(session, actor=admin, user=alice, is_active=True, is_admin=True)
    users.update(session, actor=admin, user=alice, is_admin=False)
    assert [p["what"] for p in _access(session, alice)] == ["deactivated", "activated", "admin_granted",
                                                            "admin_revoked"]


def test_a_deputys_handover_grants_and_return_record_access_changed(session, crm):
    admin, account = crm["admin"], crm["A"]["account"]
    alice, boris = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=alice)
    factories.deal(session, actor=admin, account=account, pipeline=crm["pipeline"], owner=alice)
    absence = routing.create_absence(session, actor=admin, user=alice, deputy=boris,
                                     starts_at=utcnow() - timedelta(hours=1), ends_at=utcnow() + timedelta(days=1))
    assert routing.process_handovers(session) == (1, 0)
    assert {p["what"] for p in _access(session, boris)} == {"granted"}
    absence.ends_at = utcnow() - timedelta(minutes=1)
    assert routing.process_handovers(session) == (0, 1)
    whats = [p["what"] for p in _access(session, boris)]
    assert whats.count("granted") == whats.count("revoked") >= 1


def test_a_deals_new_owner_records_deal_owner_changed_by_hand_by_handover_and_on_return(session, crm):
    admin, account = crm["admin"], crm["A"]["account"]
    alice, boris = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=alice)
    deal = factories.deal(session, actor=admin, account=account, pipeline=crm["pipeline"])
    deals.update_deal(session, actor=admin, deal=deal, owner=alice)
    deals.update_deal(session, actor=admin, deal=deal, owner=alice)  # the same owner: nothing changed
    absence = routing.create_absence(session, actor=admin, user=alice, deputy=boris,
                                     starts_at=utcnow() - timedelta(hours=1), ends_at=utcnow() + timedelta(days=1))
    routing.hand_over(session, actor=alice, absence=absence)
    routing.give_back(session, actor=None, absence=absence)
    assert [(e.payload, e.actor_id) for e in recorded(session, "deal.owner_changed", deal)] == [
        ({"owner_id": alice.id, "previous_owner_id": None, "reason": "manual"}, admin.id),
        ({"owner_id": boris.id, "previous_owner_id": alice.id, "reason": "handover"}, alice.id),
        ({"owner_id": alice.id, "previous_owner_id": boris.id, "reason": "returned"}, None),
    ]

"""Budgets down the tree and costs up it, with P6's figures, checked by hand-computed amounts."""

from decimal import Decimal

import pytest

from crmpm.errors import Conflict, Forbidden
from eps import budgets
from eps.models import ChangeStatus
from tests import factories

D = Decimal


@pytest.fixture
def tree(session):
    admin = factories.admin(session)
    ent = factories.node(session, actor=admin, code="ENT", budget="1000.00")
    a = factories.node(session, actor=admin, parent=ent, code="A", budget="600.00")
    b = factories.node(session, actor=admin, parent=ent, code="B", budget="300.00")
    pa = factories.project(session, actor=admin, node=a, code="PA", budget="250.00", planned="200.00", actual="50.00")
    pb = factories.project(session, actor=admin, node=b, code="PB", budget="100.00", planned="120.00", actual="70.25")
    return {"admin": admin, "ent": ent, "a": a, "b": b, "pa": pa, "pb": pb}


def test_figures_follow_p6_definitions(session, tree):
    admin, ent, a = tree["admin"], tree["ent"], tree["a"]
    finance = factories.user(session)
    factories.grant(session, actor=admin, role="finance", target=ent, user=finance)
    budgets.request_change(session, actor=admin, obj=a, amount=D("50.00"), reason="scope")
    approved = budgets.request_change(session, actor=admin, obj=a, amount=D("-20.00"), reason="saving")
    budgets.approve_change(session, actor=finance, change=approved)
    budgets.request_change(session, actor=admin, obj=a, amount=D("7.00"), reason="rejected one")
    figures = budgets.figures(session, obj=a)
    assert figures.original == D("600.00")
    assert figures.approved_changes == D("-20.00")
    assert figures.current == D("580.00")  # original + approved
    assert figures.pending_changes == D("57.00")
    assert figures.proposed == D("637.00")  # current + pending
    assert figures.distributed == D("250.00")  # PA's current
    assert figures.undistributed == D("330.00")  # current - distributed
    root = budgets.figures(session, obj=tree["ent"])
    assert root.distributed == D("880.00")  # A 580 + B 300
    assert root.undistributed == D("120.00")


def test_costs_roll_up_to_every_ancestor(session, tree):
    assert budgets.figures(session, obj=tree["a"]).planned_cost == D("200.00")
    root = budgets.figures(session, obj=tree["ent"])
    assert root.planned_cost == D("320.00") and root.actual_cost == D("120.25")
    assert root.variance == D("680.00")


def test_child_increase_beyond_parent_undistributed_is_refused_naming_parent(session, tree):
    admin, b = tree["admin"], tree["b"]
    # ENT has 1000 - (600 + 300) = 100 undistributed.
    with pytest.raises(Conflict) as caught:
        budgets.set_original(session, actor=admin, obj=b, amount=D("400.01"))
    message = caught.value.message
    assert "ENT" in message and "100.00" in message and "100.01" in message
    assert budgets.figures(session, obj=b).current == D("300.00")
    budgets.set_original(session, actor=admin, obj=b, amount=D("400.00"))
    assert budgets.figures(session, obj=tree["ent"]).undistributed == D("0.00")


def test_approval_is_checked_at_approval_time(session, tree):
    admin, pa = tree["admin"], tree["pa"]
    finance = factories.user(session)
    factories.grant(session, actor=admin, role="finance", target=tree["ent"], user=finance)
    change = budgets.request_change(session, actor=admin, obj=pa, amount=D("400.00"), reason="big")
    with pytest.raises(Conflict) as caught:
        budgets.approve_change(session, actor=finance, change=change)  # A has 350 undistributed
    assert "A" in caught.value.message and "350.00" in caught.value.message
    assert change.status is ChangeStatus.pending
    budgets.set_original(session, actor=admin, obj=tree["a"], amount=D("650.00"))
    budgets.approve_change(session, actor=finance, change=change)
    assert change.status is ChangeStatus.approved
    assert budgets.figures(session, obj=pa).current == D("650.00")
    with pytest.raises(Conflict):
        budgets.approve_change(session, actor=finance, change=change)


def test_parent_cannot_drop_below_what_it_distributed(session, tree):
    with pytest.raises(Conflict) as caught:
        budgets.set_original(session, actor=tree["admin"], obj=tree["a"], amount=D("249.99"))
    assert "250.00" in caught.value.message
    budgets.set_original(session, actor=tree["admin"], obj=tree["a"], amount=D("250.00"))
    assert budgets.figures(session, obj=tree["a"]).undistributed == D("0.00")


def test_requester_cannot_approve_own_change(session, tree):
    admin = tree["admin"]
    finance = factories.user(session)
    factories.grant(session, actor=admin, role="finance", target=tree["ent"], user=finance)
    change = budgets.request_change(session, actor=finance, obj=tree["pa"], amount=D("10.00"), reason="r")
    with pytest.raises(Forbidden):
        budgets.approve_change(session, actor=finance, change=change)
    budgets.approve_change(session, actor=finance, change=change, four_eyes=False)
    assert change.status is ChangeStatus.approved


def test_reject_leaves_current_budget(session, tree):
    admin = tree["admin"]
    finance = factories.user(session)
    factories.grant(session, actor=admin, role="finance", target=tree["ent"], user=finance)
    change = budgets.request_change(session, actor=admin, obj=tree["pa"], amount=D("10.00"), reason="r")
    budgets.reject_change(session, actor=finance, change=change, note="no")
    assert change.status is ChangeStatus.rejected and change.decision_note == "no"
    figures = budgets.figures(session, obj=tree["pa"])
    assert figures.current == D("250.00") and figures.pending_changes == D("0.00")


def test_spending_plan_with_children_tally(session, tree):
    admin, ent, a, b = tree["admin"], tree["ent"], tree["a"], tree["b"]
    from datetime import date

    budgets.set_spending_plan(session, actor=admin, obj=ent, entries={date(2026, 1, 1): D("400.00"),
                                                                     date(2026, 2, 1): D("500.00")})
    budgets.set_spending_plan(session, actor=admin, obj=a, entries={date(2026, 1, 1): D("100.00"),
                                                                   date(2026, 3, 1): D("50.00")})
    budgets.set_spending_plan(session, actor=admin, obj=b, entries={date(2026, 1, 1): D("30.00")})
    budgets.set_spending_plan(session, actor=admin, obj=tree["pa"], entries={date(2026, 1, 1): D("999.00")})
    plan = budgets.spending_plan(session, obj=ent)
    assert [(m.month.month, m.amount, m.tally) for m in plan.months] == [
        (1, D("400.00"), D("130.00")), (2, D("500.00"), D("0.00")), (3, D("0.00"), D("50.00"))]
    assert plan.total == D("900.00") and plan.tally_total == D("180.00") and plan.unscheduled == D("100.00")


def test_move_into_parent_without_room_is_refused(session, tree):
    from eps import services

    with pytest.raises(Conflict) as caught:
        services.move_project(session, actor=tree["admin"], project=tree["pa"], eps_node=tree["b"])
    assert "B" in caught.value.message and "200.00" in caught.value.message
    assert tree["pa"].eps_node_id == tree["a"].id
    services.move_project(session, actor=tree["admin"], project=tree["pb"], eps_node=tree["a"])
    assert budgets.figures(session, obj=tree["a"]).distributed == D("350.00")


def test_figures_of_many_match_amounts_worked_out_by_hand(session, tree):
    admin = tree["admin"]
    c = factories.node(session, actor=admin, parent=tree["a"], code="C", budget="100.00")
    factories.project(session, actor=admin, node=c, code="PC", budget="40.00", planned="33.10", actual="7.05")
    budgets.request_change(session, actor=admin, obj=c, amount=D("-10.00"), reason="trim")
    change = budgets.request_change(session, actor=admin, obj=tree["pb"], amount=D("25.00"), reason="scope")
    budgets.approve_change(session, actor=factories.admin(session), change=change)
    empty = factories.node(session, actor=admin, parent=tree["b"], code="EMPTY")
    batched = budgets.figures_of_many(session, [tree["ent"], tree["a"], tree["b"], c, empty, tree["pa"], tree["pb"]])

    def of(obj):
        return batched[(obj.kind, obj.id)]

    # ENT: its children A (600) and B (300) hold 900 of its 1000; below it PA 200/50, PB 120/70.25, PC 33.10/7.05.
    assert (of(tree["ent"]).distributed, of(tree["ent"]).undistributed) == (D("900.00"), D("100.00"))
    assert (of(tree["ent"]).planned_cost, of(tree["ent"]).actual_cost) == (D("353.10"), D("127.30"))
    # A: PA 250 + C 100 distributed; C's pending -10 is not A's.
    assert (of(tree["a"]).distributed, of(tree["a"]).pending_changes) == (D("350.00"), D("0.00"))
    assert (of(tree["a"]).planned_cost, of(tree["a"]).actual_cost) == (D("233.10"), D("57.05"))
    # B gave PB 100 + 25 approved; C has a pending -10 (proposed 90); EMPTY has nothing below it.
    assert (of(tree["b"]).distributed, of(tree["b"]).undistributed) == (D("125.00"), D("175.00"))
    assert (of(c).pending_changes, of(c).proposed, of(c).distributed) == (D("-10.00"), D("90.00"), D("40.00"))
    assert of(empty) == budgets.BudgetFigures(*[D("0.00")] * 9)
    # Projects: their own costs; PB's approved change is in its current budget.
    assert (of(tree["pb"]).approved_changes, of(tree["pb"]).current, of(tree["pb"]).variance) == (
        D("25.00"), D("125.00"), D("5.00"))
    assert (of(tree["pa"]).distributed, of(tree["pa"]).planned_cost) == (D("0.00"), D("200.00"))
    assert budgets.figures_of_many(session, []) == {}


def test_figures_of_many_costs_the_same_queries_for_two_rows_or_twenty(session, tree):
    from sqlalchemy import event

    admin = tree["admin"]
    nodes = [factories.node(session, actor=admin, parent=tree["ent"], code=f"N{i}") for i in range(10)]
    projects = [factories.project(session, actor=admin, node=nodes[i], code=f"P{i}") for i in range(10)]
    session.flush()
    engine = session.get_bind()
    statements = []

    def count(*args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        budgets.figures_of_many(session, [nodes[0], projects[0]])
        small = len(statements)
        statements.clear()
        budgets.figures_of_many(session, nodes + projects)
        large = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert small == large <= 5

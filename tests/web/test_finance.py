"""Finance pages over the budget services: the tree in pages, change requests and decisions, exports."""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO

from openpyxl import load_workbook

from eps import budgets
from eps.models import BudgetChange, ChangeStatus, Role
from tests import factories


def _row_ids(html: str) -> list[str]:
    return re.findall(r'<tr class="tree-row row-\w+" data-kind="\w+" data-id="(\d+)"', html)


def test_children_come_a_page_at_a_time(pages, session, admin):
    top = factories.node(session, actor=admin, code="BIG", budget="0.00")
    for n in range(3):
        factories.node(session, actor=admin, parent=top, code=f"BIG-N{n}")
    for n in range(117):
        factories.project(session, actor=admin, node=top, code=f"BIG-P{n:03d}")
    session.commit()
    pages.log_in_as(admin)
    first = pages.get(f"/finance/nodes/{top.id}/rows?level=1").get_data(as_text=True)
    assert len(_row_ids(first)) == 50 and "Show more (50 of 120)" in first
    assert ">BIG-N0<" in first and ">BIG-P000<" in first  # nodes first, then projects
    last = pages.get(f"/finance/nodes/{top.id}/rows?level=1&page=3").get_data(as_text=True)
    assert len(_row_ids(last)) == 20 and "Show more" not in last and ">BIG-P116<" in last
    detail = pages.get(f"/finance/nodes/{top.id}").get_data(as_text=True)
    assert len(_row_ids(detail)) == 50


def test_a_page_of_tree_rows_costs_the_same_queries_for_five_rows_or_forty(pages, session, admin):
    from sqlalchemy import event

    small, large = (factories.node(session, actor=admin, code=code) for code in ("SMALL", "LARGE"))
    for parent, n in ((small, 5), (large, 40)):
        for i in range(n):
            child = factories.node(session, actor=admin, parent=parent, code=f"{parent.code}-N{i}")
            factories.project(session, actor=admin, node=child, code=f"{parent.code}-P{i}", planned="1.00")
    session.commit()
    pages.log_in_as(admin)
    engine = session.get_bind().engine
    counts = {}
    for parent in (small, large):
        statements = []

        def count(*args, statements=statements):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            html = pages.get(f"/finance/nodes/{parent.id}/rows?level=1").get_data(as_text=True)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(_row_ids(html)) == (5 if parent is small else 40)
        counts[parent.code] = len(statements)
    assert counts["SMALL"] == counts["LARGE"]


def test_tree_starts_at_every_separate_grant(pages, session, admin, world):
    user = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=world["A1"], user=user)
    factories.grant(session, actor=admin, role=Role.viewer, target=world["PB"], user=user)
    team = factories.team(session, members=[user])
    factories.grant(session, actor=admin, role=Role.viewer, target=world["A"], team=team)
    session.commit()
    body = pages.log_in_as(user).get("/finance/").get_data(as_text=True)
    # A (through the team) holds A1, so A1 is no start of its own; PB's node B stays hidden.
    assert _row_ids(body) == [str(world["A"].id), str(world["PB"].id)]
    assert "Secret Branch B" not in body


def test_four_eyes_requester_cannot_decide(pages, session, admin, world, user_with):
    finance = user_with(Role.finance)
    pages.log_in_as(finance)
    response = pages.post(f"/finance/nodes/{world['A1'].id}/changes", {"amount": "25,50", "reason": "tools"})
    assert response.status_code == 303
    change = session.query(BudgetChange).filter_by(reason="tools").one()
    assert change.amount == Decimal("25.50") and change.requested_by_id == finance.id
    page = pages.get(f"/finance/nodes/{world['A1'].id}").get_data(as_text=True)
    assert f"/finance/changes/{change.id}/approve" not in page
    assert "another person decides" in page
    assert pages.post(f"/finance/changes/{change.id}/approve").status_code == 403
    session.expire_all()
    assert session.get(BudgetChange, change.id).status is ChangeStatus.pending
    other = user_with(Role.finance)
    assert pages.log_in_as(other).post(f"/finance/changes/{change.id}/approve",
                                       {"note": "ok", "next": "/finance/changes"}).location == "/finance/changes"
    session.expire_all()
    assert session.get(BudgetChange, change.id).status is ChangeStatus.approved
    assert budgets.figures(session, obj=world["A1"]).current == Decimal("225.50")


def test_a_refused_approval_goes_back_with_the_reason_and_changes_nothing(pages, session, admin, world):
    # A1 has 200 of A's 500; a change of +400 on A1 would take more than A has undistributed (300).
    change = budgets.request_change(session, actor=admin, obj=world["A1"], amount=Decimal("400.00"), reason="big")
    session.commit()
    pages.log_in_as(admin)
    origin = f"http://localhost/finance/nodes/{world['A1'].id}"
    response = pages.post(f"/finance/changes/{change.id}/approve", headers={"Referer": origin})
    assert response.status_code == 303 and response.location == f"/finance/nodes/{world['A1'].id}"
    body = pages.get(response.location).get_data(as_text=True)
    assert "undistributed" in body and "flash-error" in body
    session.expire_all()
    assert session.get(BudgetChange, change.id).status is ChangeStatus.pending
    assert budgets.figures(session, obj=world["A1"]).current == Decimal("200.00")


def test_bad_amounts_are_refused(pages, session, admin, world):
    pages.log_in_as(admin)
    before = session.query(BudgetChange).count()
    for amount in ("", "0", "abc", "1.234", "1e20"):
        response = pages.post(f"/finance/nodes/{world['A1'].id}/changes", {"amount": amount, "reason": "x"})
        assert response.status_code == 303
    assert session.query(BudgetChange).count() == before


def test_changes_inbox_lists_pending_with_buttons_for_deciders(pages, admin, world, user_with):
    body = pages.log_in_as(user_with(Role.finance)).get("/finance/changes").get_data(as_text=True)
    assert f'data-change="{world["change"].id}"' in body and "/approve" in body
    viewer = pages.log_in_as(user_with(Role.viewer)).get("/finance/changes").get_data(as_text=True)
    assert f'data-change="{world["change"].id}"' in viewer and "/approve" not in viewer
    approved = pages.get("/finance/changes?status=approved").get_data(as_text=True)
    assert "data-change" not in approved


def test_spending_plan_chart_and_export(pages, session, admin, world):
    from datetime import date

    budgets.set_spending_plan(session, actor=admin, obj=world["A"], entries={
        date(2026, 1, 1): Decimal("100.00"), date(2026, 2, 1): Decimal("50.00")})
    budgets.set_spending_plan(session, actor=admin, obj=world["A1"], entries={date(2026, 1, 1): Decimal("30.00")})
    session.commit()
    pages.log_in_as(admin)
    body = pages.get(f"/finance/nodes/{world['A'].id}").get_data(as_text=True)
    assert body.count('class="bar-plan"') == 2 and body.count('class="bar-tally"') == 2
    sheet = load_workbook(BytesIO(pages.get(f"/finance/nodes/{world['A'].id}/plan.xlsx").data)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[1:] for row in rows] == [(100, 30, 70), (50, 0, 50), (150, 30, 120)]
    assert rows[0][0].year == 2026 and rows[-1][0] == "Total"


def test_changes_export_holds_the_listed_changes(pages, session, admin, world, user_with):
    budgets.request_change(session, actor=admin, obj=world["PB"], amount=Decimal("-5.00"), reason="=cmd|' /C calc'!A0")
    session.commit()
    pages.log_in_as(user_with(Role.viewer))
    response = pages.get("/finance/changes.xlsx?status=pending")
    sheet = load_workbook(BytesIO(response.data)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[3], row[4], row[6]) for row in rows] == [("PA", 50, "more", "pending")]
    pages.log_in_as(admin)
    sheet = load_workbook(BytesIO(pages.get("/finance/changes.xlsx").data)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows[0][0] == "PB" and rows[0][3] == -5 and rows[0][4] == "=cmd|' /C calc'!A0"
    # Text that a spreadsheet would run as a formula is stored as text.
    assert sheet.cell(row=2, column=5).data_type == "s"


def test_finance_edits_one_year_of_the_plan(pages, session, admin, world, user_with):
    from datetime import date

    budgets.set_spending_plan(session, actor=admin, obj=world["A"], entries={
        date(2025, 12, 1): Decimal("10.00"), date(2026, 1, 1): Decimal("100.00")})
    session.commit()
    path = f"/finance/nodes/{world['A'].id}/plan"
    viewer = pages.log_in_as(user_with(Role.viewer))
    assert 'action="' + path + '"' not in viewer.get(f"/finance/nodes/{world['A'].id}").get_data(as_text=True)
    assert viewer.post(path, {"year": "2026", "m1": "5"}).status_code == 403

    pages.log_in_as(user_with(Role.finance))
    page = pages.get(f"/finance/nodes/{world['A'].id}?year=2026").get_data(as_text=True)
    assert 'name="m1" value="100.00"' in page
    response = pages.post(path, {"year": "2026", "m1": "", "m2": "1 250,50", "m12": "0"})
    assert response.status_code == 303 and response.location.endswith("year=2026#plan")
    plan = budgets.spending_plan(session, obj=world["A"])
    assert {line.month: line.amount for line in plan.months if line.amount} == {
        date(2025, 12, 1): Decimal("10.00"), date(2026, 2, 1): Decimal("1250.50")}
    refused = pages.post(path, {"year": "2026", "m3": "-5", "m4": "abc"})
    assert refused.status_code == 303
    assert "flash-error" in pages.get(refused.location).get_data(as_text=True)
    assert budgets.spending_plan(session, obj=world["A"]).total == Decimal("1260.50")
    too_large = pages.post(path, {"year": "2026", "m5": "9" * 25})
    assert too_large.status_code == 303
    assert "flash-error" in pages.get(too_large.location).get_data(as_text=True)
    assert budgets.spending_plan(session, obj=world["A"]).total == Decimal("1260.50")


def test_finance_sets_the_original_budget_within_the_parents_room(pages, session, admin, world, user_with):
    path = f"/finance/nodes/{world['A1'].id}/budget"
    assert pages.log_in_as(user_with(Role.manager)).post(path, {"original_budget": "250"}).status_code == 403
    pages.log_in_as(user_with(Role.finance))
    assert f'action="{path}"' in pages.get(f"/finance/nodes/{world['A1'].id}").get_data(as_text=True)
    assert pages.post(path, {"original_budget": "250,00"}).status_code == 303
    session.expire_all()
    assert budgets.figures(session, obj=world["A1"]).current == Decimal("250.00")
    # A has 500: 250 to A1 leaves 250; 900 would take more than A has.
    refused = pages.post(path, {"original_budget": "900"}, headers={"Referer": f"http://localhost{path[:-7]}"})
    assert refused.status_code == 303
    assert "undistributed" in pages.get(refused.location).get_data(as_text=True)
    session.expire_all()
    assert budgets.figures(session, obj=world["A1"]).current == Decimal("250.00")

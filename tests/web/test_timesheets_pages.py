"""The timesheet pages: my week (save, submit, locked days read-only), the approval queue (approve, reject with a
reason), the locks page, the menu and the Russian texts. Figures are hours × rate, worked out here."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.wbs.resources import timesheet_world
from wbs.resources import timesheets
from wbs.resources.models import Assignment
from wbs.resources.timesheet_models import Timesheet, TimesheetLine

MONDAY, RATE = timesheet_world.MONDAY, timesheet_world.RATE
WEEK = MONDAY.isoformat()


@pytest.fixture
def ts(session, admin):
    objects = timesheet_world.build(session, admin)
    session.commit()
    return objects


def cell(activity, n):
    return f"h-{activity.id}-{n}"


def test_my_week_saves_submits_and_is_approved_from_the_queue(pages, session, ts):
    pages.log_in_as(ts["engineer"])
    page = pages.get(f"/timesheets/?week={WEEK}").get_data(as_text=True)
    assert "Design" in page and "Build" in page and "Test" in page and "Other" not in page
    assert 'href="/timesheets/"' in page  # the menu entry
    response = pages.post(f"/timesheets/?week={WEEK}", {cell(ts["a1"], 0): "7,5", cell(ts["a1"], 1): "8",
                                                         cell(ts["b1"], 2): "1.25", "action": "save"})
    assert response.status_code == 303
    lines = session.execute(select(TimesheetLine.activity_id, TimesheetLine.hours)
                            .order_by(TimesheetLine.day)).all()
    assert lines == [(ts["a1"].id, Decimal("7.50")), (ts["a1"].id, Decimal("8.00")), (ts["b1"].id, Decimal("1.25"))]
    page = pages.get(f"/timesheets/?week={WEEK}").get_data(as_text=True)
    assert "16.75" in page  # the week's total: 7.5 + 8 + 1.25
    assert pages.post(f"/timesheets/?week={WEEK}", {"action": "submit"}).status_code == 303
    sheet = session.scalar(select(Timesheet))
    assert sheet.status == "submitted"

    pages.log_in_as(ts["pm"])
    queue = pages.get("/timesheets/approvals").get_data(as_text=True)
    assert "Design" in queue and "Test" not in queue  # P2's line is not P1's PM's to see
    assert 'href="/timesheets/approvals"' in queue
    decision = next(d for d in sheet.decisions if d.project_id == ts["p1"].id)
    assert pages.post("/timesheets/approvals", {"decision_id": decision.id, "action": "approve"}).status_code == 303
    assignment = session.get(Assignment, ts["assignments"]["A1"].id)
    session.refresh(assignment)
    assert (assignment.actual_units, assignment.actual_cost) == (15.5, Decimal("15.5") * RATE)


def test_rejection_needs_a_reason_and_shows_it_to_the_owner(pages, session, ts):
    timesheets.save_week(session, actor=ts["engineer"], resource=ts["resource"], week=MONDAY,
                         lines=[{"activity_id": ts["a1"].id, "day": MONDAY, "hours": Decimal("4")}])
    sheet = timesheets.submit(session, actor=ts["engineer"], resource=ts["resource"], week=MONDAY)
    session.commit()
    decision = sheet.decisions[0]
    pages.log_in_as(ts["pm"])
    refused = pages.post("/timesheets/approvals", {"decision_id": decision.id, "action": "reject", "reason": ""},
                         headers={"Referer": "http://localhost/timesheets/approvals"})
    assert refused.status_code == 303
    session.refresh(decision)
    assert decision.status == "pending"
    pages.post("/timesheets/approvals", {"decision_id": decision.id, "action": "reject", "reason": "Wrong task"})
    session.refresh(decision)
    assert (decision.status, decision.reason) == ("rejected", "Wrong task")
    pages.log_in_as(ts["engineer"])
    page = pages.get(f"/timesheets/?week={WEEK}").get_data(as_text=True)
    assert "Wrong task" in page and f'name="{cell(ts["a1"], 0)}"' in page  # editable again


def test_locked_days_are_read_only_and_refused(pages, session, admin, ts):
    timesheets.set_lock(session, actor=admin, eps_node=None, locked_through=MONDAY)
    session.commit()
    pages.log_in_as(ts["engineer"])
    page = pages.get(f"/timesheets/?week={WEEK}").get_data(as_text=True)
    assert f'name="{cell(ts["a1"], 0)}"' not in page and f'name="{cell(ts["a1"], 1)}"' in page
    # A hand-made form with Monday's cell is refused whole: nothing saved.
    pages.post(f"/timesheets/?week={WEEK}", {cell(ts["a1"], 0): "3", cell(ts["a1"], 1): "2", "action": "save"})
    assert session.scalars(select(TimesheetLine)).all() == []


def test_locks_page_for_administrators_and_the_russian_texts(pages, session, admin, ts):
    pages.log_in_as(admin)
    assert pages.post("/timesheets/locks", {"eps_node_id": "", "locked_through": "2026-11-29"}).status_code == 303
    page = pages.get("/timesheets/locks").get_data(as_text=True)
    assert "The whole company" in page and 'href="/timesheets/locks"' in page
    pages.log_in_as(ts["engineer"])
    assert pages.post("/timesheets/locks", {"eps_node_id": "", "locked_through": "2026-11-29"}).status_code == 403
    assert 'href="/timesheets/locks"' not in pages.get("/timesheets/").get_data(as_text=True)
    ts["engineer"].locale = "ru"
    session.commit()
    pages.log_in_as(ts["engineer"])
    page = pages.get(f"/timesheets/?week={WEEK}").get_data(as_text=True)
    assert "Мой табель" in page and "Следующая неделя" in page

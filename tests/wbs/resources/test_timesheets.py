"""Timesheets: booking a week, submitting, approving and rejecting per project, actuals and costs, locks, rights.

Expected figures are worked out here from hours × rate, never read back from the services.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crmpm.audit.models import AuditEntry
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound
from eps import budgets
from eps.models import Role
from tests import factories
from tests.wbs.resources import timesheet_world
from wbs.resources import timesheets
from wbs.resources.timesheet_models import Timesheet, TimesheetLine

MONDAY, RATE = timesheet_world.MONDAY, timesheet_world.RATE


@pytest.fixture
def admin(session):
    return factories.admin(session)


@pytest.fixture
def world(session, admin):
    """``timesheet_world.build``: P1 (A1 40 h, A2 10 h) and P2 (B1 20 h) under N1; the engineer at 80.00 an hour."""
    objects = timesheet_world.build(session, admin)
    session.commit()
    return objects


def line(activity, day, hours, note=""):
    return {"activity_id": activity.id, "day": MONDAY + timedelta(days=day), "hours": Decimal(hours), "note": note}


def week_lines(w):
    """A1: 8 h Mon + 7.5 h Tue; A2: 2.25 h Wed; B1: 4 h Thu."""
    return [line(w["a1"], 0, "8"), line(w["a1"], 1, "7.5"), line(w["a2"], 2, "2.25"), line(w["b1"], 3, "4")]


def save(session, w, lines, who=None):
    sheet = timesheets.save_week(session, actor=who or w["engineer"], resource=w["resource"], week=MONDAY,
                                 lines=lines)
    session.commit()
    return sheet


def submitted(session, w, lines=None):
    save(session, w, week_lines(w) if lines is None else lines)
    sheet = timesheets.submit(session, actor=w["engineer"], resource=w["resource"], week=MONDAY)
    session.commit()
    return sheet


def test_week_of_and_parse_week():
    assert timesheets.week_of(date(2026, 12, 6)) == MONDAY  # a Sunday
    assert timesheets.parse_week("2026-11-30") == MONDAY
    for bad in ("2026-12-01", "yesterday", "2026-13-01"):
        with pytest.raises(Invalid) as caught:
            timesheets.parse_week(bad)
        assert "week" in caught.value.errors


def test_approval_makes_actuals_and_costs_on_assignment_activity_and_project(session, world):
    """P1's PM approves: A1 gets 8 + 7.5 = 15.5 h = 1240.00, A2 2.25 h = 180.00; P1's actual cost 1420.00.
    Remaining: A1 40 − 15.5 = 24.5, A2 10 − 2.25 = 7.75. P2 is not approved yet: B1 keeps nothing."""
    sheet = submitted(session, world)
    assert sheet.status == "submitted"
    assert sorted(d.project_id for d in sheet.decisions) == sorted([world["p1"].id, world["p2"].id])
    timesheets.approve(session, actor=world["pm"], sheet=sheet, project_id=world["p1"].id)
    session.commit()
    a1, a2, b1 = (world["assignments"][code] for code in ("A1", "A2", "B1"))
    for obj in (a1, a2, b1, world["a1"], world["a2"], world["p1"], world["p2"]):
        session.refresh(obj)
    assert (a1.actual_units, a1.remaining_units) == (15.5, 24.5)
    assert (a2.actual_units, a2.remaining_units) == (2.25, 7.75)
    assert (b1.actual_units, b1.remaining_units) == (0.0, 20.0)
    assert a1.actual_cost == Decimal("15.5") * RATE == Decimal("1240.00")
    assert a2.actual_cost == Decimal("2.25") * RATE == Decimal("180.00")
    assert a1.remaining_cost == Decimal("24.5") * RATE
    assert world["a1"].actual_cost == Decimal("1240.00") and world["a2"].actual_cost == Decimal("180.00")
    assert world["a1"].budgeted_cost == Decimal("40") * RATE
    assert world["a1"].actual_start == datetime(2026, 11, 30) and world["a2"].actual_start == datetime(2026, 12, 2)
    assert world["p1"].actual_cost == Decimal("1420.00")
    assert world["p2"].actual_cost == Decimal("0.00")
    assert session.get(Timesheet, sheet.id).status == "submitted"  # P2 still to decide

    timesheets.approve(session, actor=world["pm2"], sheet=sheet, project_id=world["p2"].id)
    session.commit()
    session.refresh(world["p2"])
    assert world["p2"].actual_cost == Decimal("4") * RATE
    assert session.get(Timesheet, sheet.id).status == "approved"
    assert budgets.figures(session, obj=world["node"]).actual_cost == Decimal("1420.00") + Decimal("320.00")
    assert budgets.figures(session, obj=world["root"]).actual_cost == Decimal("1740.00")


def test_actuals_sum_every_approved_week(session, world):
    """Two weeks on A1, 8 h and 6 h, both approved: actual 14 h, remaining 40 − 14 = 26, cost 14 × 80."""
    sheet = submitted(session, world, [line(world["a1"], 0, "8")])
    timesheets.approve(session, actor=world["pm"], sheet=sheet, project_id=world["p1"].id)
    next_week = MONDAY + timedelta(days=7)
    timesheets.save_week(session, actor=world["engineer"], resource=world["resource"], week=next_week,
                         lines=[{"activity_id": world["a1"].id, "day": next_week, "hours": Decimal("6")}])
    second = timesheets.submit(session, actor=world["engineer"], resource=world["resource"], week=next_week)
    timesheets.approve(session, actor=world["pm"], sheet=second, project_id=world["p1"].id)
    session.commit()
    a1 = world["assignments"]["A1"]
    session.refresh(a1)
    assert (a1.actual_units, a1.remaining_units, a1.actual_cost) == (14.0, 26.0, Decimal("14") * RATE)


def test_remaining_set_by_hand_falls_by_the_hours_booked(session, world):
    """A1's remaining set by hand to 50 h (budget 40): 8 approved hours leave 42, not 40 − 8 = 32."""
    a1 = world["assignments"]["A1"]
    a1.remaining_units = 50.0
    session.commit()
    sheet = submitted(session, world, [line(world["a1"], 0, "8")])
    timesheets.approve(session, actor=world["pm"], sheet=sheet, project_id=world["p1"].id)
    session.commit()
    session.refresh(a1)
    assert (a1.actual_units, a1.remaining_units) == (8.0, 42.0)


def test_rejection_needs_a_reason_and_the_corrected_sheet_is_submitted_again(session, world):
    sheet = submitted(session, world)
    with pytest.raises(Invalid) as caught:
        timesheets.reject(session, actor=world["pm"], sheet=sheet, project_id=world["p1"].id, reason="  ")
    assert "reason" in caught.value.errors
    timesheets.reject(session, actor=world["pm"], sheet=sheet, project_id=world["p1"].id, reason="A2 was not on")
    timesheets.approve(session, actor=world["pm2"], sheet=sheet, project_id=world["p2"].id)
    session.commit()
    assert sheet.status == "rejected"
    assert {d.project_id: (d.status, d.reason) for d in sheet.decisions} == {
        world["p1"].id: ("rejected", "A2 was not on"), world["p2"].id: ("approved", "")}
    # The approved project's line cannot change any more; the rejected project's can.
    with pytest.raises(Invalid) as caught:
        save(session, world, [line(world["a1"], 0, "8"), line(world["a1"], 1, "7.5"), line(world["b1"], 3, "5")])
    assert "lines.2.activity_id" in caught.value.errors
    session.rollback()
    save(session, world, [line(world["a1"], 0, "8"), line(world["a1"], 1, "7.5"), line(world["b1"], 3, "4")])
    again = timesheets.submit(session, actor=world["engineer"], resource=world["resource"], week=MONDAY)
    session.commit()
    assert again.status == "submitted"
    assert {d.project_id: d.status for d in again.decisions} == {world["p1"].id: "pending",
                                                                 world["p2"].id: "approved"}
    timesheets.approve(session, actor=world["pm"], sheet=again, project_id=world["p1"].id)
    session.commit()
    assert again.status == "approved"
    a2 = world["assignments"]["A2"]
    session.refresh(a2)
    assert (a2.actual_units, a2.actual_cost) == (0.0, Decimal("0.00"))  # A2's line was taken out
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type.in_(
        ["timesheets", "timesheet_decisions"])).order_by(AuditEntry.id)).all()
    assert actions == ["timesheet.save", "timesheet.submit", "reject", "approve", "timesheet.save",
                       "timesheet.submit", "approve"]


def test_a_half_invalid_week_saves_nothing(session, world):
    save(session, world, [line(world["a1"], 0, "3")])
    bad = [line(world["a1"], 0, "8"),                      # fine
           line(world["a1"], 1, "7.3"),                    # not quarter hours
           line(world["unassigned"], 2, "1"),              # not assigned
           {**line(world["a2"], 0, "1"), "day": MONDAY + timedelta(days=7)},  # next week
           line(world["a2"], 4, "-1"),                     # negative
           line(world["b1"], 5, "20"), line(world["a2"], 5, "4.25")]  # 24.25 h on Saturday
    with pytest.raises(Invalid) as caught:
        save(session, world, bad)
    session.rollback()
    assert set(caught.value.errors) == {"lines.1.hours", "lines.2.activity_id", "lines.3.day", "lines.4.hours",
                                        "lines.5.day"}
    hours = session.execute(select(TimesheetLine.day, TimesheetLine.hours)).all()
    assert hours == [(MONDAY, Decimal("3.00"))]


def test_only_the_linked_user_books_and_only_drafts_change(session, world):
    with pytest.raises(Forbidden):
        save(session, world, week_lines(world), who=world["pm"])
    session.rollback()
    submitted(session, world)
    with pytest.raises(Conflict):
        save(session, world, week_lines(world))
    session.rollback()
    with pytest.raises(Forbidden):
        timesheets.submit(session, actor=world["pm"], resource=world["resource"], week=MONDAY)


def test_approval_rights(session, world, admin):
    """P1's PM cannot decide P2 (cannot read it: 404); a viewer of P1 cannot approve (403); the engineer neither."""
    sheet = submitted(session, world)
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=world["p1"], user=viewer)
    session.commit()
    with pytest.raises(NotFound):
        timesheets.approve(session, actor=world["pm"], sheet=sheet, project_id=world["p2"].id)
    with pytest.raises(Forbidden):
        timesheets.approve(session, actor=viewer, sheet=sheet, project_id=world["p1"].id)
    with pytest.raises(NotFound):
        timesheets.reject(session, actor=world["engineer"], sheet=sheet, project_id=world["p1"].id, reason="x")
    timesheets.approve(session, actor=world["pm"], sheet=sheet, project_id=world["p1"].id)
    with pytest.raises(Conflict):
        timesheets.approve(session, actor=world["pm"], sheet=sheet, project_id=world["p1"].id)


def test_others_see_only_lines_of_projects_they_read(session, world):
    """P1's PM sees A1 and A2's lines (17.75 h) and B1's 4 h only as a hidden total; an outsider sees nothing."""
    submitted(session, world)
    view = timesheets.sheet_view(session, user=world["pm"], resource=world["resource"], week=MONDAY)
    assert {line.project_id for line in view.lines} == {world["p1"].id}
    assert sum(line.hours for line in view.lines) == Decimal("17.75")
    assert view.hidden_hours == Decimal("4.00")
    assert {d.project_id for d in view.decisions} == {world["p1"].id}
    assert {a["code"] for a in view.activities} == {"A1", "A2"}
    own = timesheets.sheet_view(session, user=world["engineer"], resource=world["resource"], week=MONDAY)
    assert len(own.lines) == 4 and own.hidden_hours == 0
    outsider = factories.user(session)
    session.commit()
    with pytest.raises(NotFound):
        timesheets.resource_of_sheets_or_raise(session, user=outsider, resource_id=world["resource"].id)
    with pytest.raises(NotFound):
        timesheets.get_timesheet_or_raise(session, user=outsider, timesheet_id=view.id)
    queue = session.execute(timesheets.approval_queue(session, user=world["pm"])).all()
    assert [(row.project_id, row.hours) for row in queue] == [(world["p1"].id, Decimal("17.75"))]
    assert session.execute(timesheets.approval_queue(session, user=outsider)).all() == []


def test_locked_days_refuse_every_path(session, world, admin):
    """A lock of N1 through Tuesday: Monday's and Tuesday's lines cannot change, be submitted or be decided."""
    save(session, world, week_lines(world))
    timesheets.set_lock(session, actor=admin, eps_node=world["node"], locked_through=MONDAY + timedelta(days=1))
    session.commit()
    # Changing Monday's hours: refused, naming the day.
    with pytest.raises(Invalid) as caught:
        save(session, world, [line(world["a1"], 0, "6"), *week_lines(world)[1:]])
    assert "lines.0.day" in caught.value.errors
    session.rollback()
    # Removing Tuesday's line: refused too.
    with pytest.raises(Invalid):
        save(session, world, [week_lines(world)[0], *week_lines(world)[2:]])
    session.rollback()
    # The same lines again, with Wednesday changed: allowed (the locked days are untouched).
    save(session, world, [*week_lines(world)[:2], line(world["a2"], 2, "3"), week_lines(world)[3]])
    # Submitting: P1 has lines on locked days.
    with pytest.raises(Invalid) as caught:
        timesheets.submit(session, actor=world["engineer"], resource=world["resource"], week=MONDAY)
    assert "day" in caught.value.errors
    session.rollback()
    # Lock lifted for the submission, put back before the decision: approving and rejecting refused.
    timesheets.set_lock(session, actor=admin, eps_node=world["node"], locked_through=MONDAY - timedelta(days=1))
    sheet = timesheets.submit(session, actor=world["engineer"], resource=world["resource"], week=MONDAY)
    timesheets.set_lock(session, actor=admin, eps_node=None, locked_through=MONDAY)
    session.commit()
    with pytest.raises(Invalid):
        timesheets.approve(session, actor=world["pm"], sheet=sheet, project_id=world["p1"].id)
    with pytest.raises(Invalid):
        timesheets.reject(session, actor=world["pm"], sheet=sheet, project_id=world["p1"].id, reason="no")
    session.rollback()
    # P2's line is on Thursday, after the company-wide lock: its PM may decide.
    timesheets.approve(session, actor=world["pm2"], sheet=sheet, project_id=world["p2"].id)
    session.commit()
    assert session.scalar(select(func.count()).select_from(TimesheetLine)) == 4


def test_locks_need_rights(session, world, admin):
    finance = factories.user(session)
    factories.grant(session, actor=admin, role=Role.finance, target=world["node"], user=finance)
    session.commit()
    with pytest.raises(Forbidden):
        timesheets.set_lock(session, actor=finance, eps_node=None, locked_through=MONDAY)
    with pytest.raises(NotFound):  # the PM of P1 cannot read N1
        timesheets.set_lock(session, actor=world["pm"], eps_node=world["node"], locked_through=MONDAY)
    editor = factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=world["node"], user=editor)
    session.commit()
    with pytest.raises(Forbidden):
        timesheets.set_lock(session, actor=editor, eps_node=world["node"], locked_through=MONDAY)
    lock = timesheets.set_lock(session, actor=finance, eps_node=world["node"], locked_through=MONDAY)
    session.commit()
    assert timesheets.locked_through(session, [world["p1"].id]) == {world["p1"].id: MONDAY}
    assert [lk.id for lk in session.scalars(timesheets.list_locks(session, user=finance))] == [lock.id]
    outsider = factories.user(session)
    session.commit()
    assert session.scalars(timesheets.list_locks(session, user=outsider)).all() == []

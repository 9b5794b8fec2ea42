"""Timesheets' events and notifications: who is told of a submission and of a decision, and who reads the events.

The world (``tests.wbs.resources.timesheet_world``): the engineer books on P1 (PM edits it) and P2 (PM2 edits
it); events go through the real delivery to the notifications consumer (``accounts.notifying``).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from accounts.events import visible_events
from crmpm import notifications
from crmpm.events import Event
from crmpm.notifications import Notification
from eps.models import Role
from tests import factories
from tests.accounts.test_notifying import delivered, told
from tests.wbs.resources import timesheet_world
from wbs.resources import timesheets

MONDAY = timesheet_world.MONDAY


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():  # e-mails are jobs asked for with the app's settings, as in a worker
        yield


@pytest.fixture
def world(session):
    admin = factories.admin(session)
    objects = timesheet_world.build(session, admin)
    objects["admin"] = admin
    # A viewer of P1 (reads the project, may not approve) and an editor of another project elsewhere.
    objects["viewer"] = factories.user(session, name="Viewer")
    factories.grant(session, actor=admin, role=Role.viewer, target=objects["p1"], user=objects["viewer"])
    other = factories.node(session, actor=admin, code="OTHER")
    objects["p9"] = factories.project(session, actor=admin, node=other, code="P9")
    objects["outsider"] = factories.user(session, name="Outsider")
    factories.grant(session, actor=admin, role=Role.editor, target=objects["p9"], user=objects["outsider"])
    delivered(session)  # nothing so far is anyone's notification
    return objects


def _submit_p1(session, w):
    """8 h on A1 (P1) on Monday only: P1 is asked, P2 is not."""
    timesheets.save_week(session, actor=w["engineer"], resource=w["resource"], week=MONDAY, lines=[
        {"activity_id": w["a1"].id, "day": MONDAY, "hours": Decimal("8"), "note": ""}])
    return timesheets.submit(session, actor=w["engineer"], resource=w["resource"], week=MONDAY)


def test_submitting_tells_the_pm_of_the_project_asked_and_nobody_else(session, world):
    sheet = _submit_p1(session, world)
    delivered(session)
    assert told(session) == [(world["pm"].id, "timesheet_submitted", "timesheets", sheet.id)]
    event = session.scalar(select(Event).where(Event.type == "timesheet.submitted"))
    assert event.payload == {"resource_id": world["resource"].id, "week": "2026-11-30",
                             "project_ids": [world["p1"].id]}
    note = session.scalar(select(Notification))
    assert notifications.url_of(note) == "/timesheets/approvals"
    text = notifications.text_of(note, world["pm"])
    assert "Resource ENG1" in text and "2026-11-30" in text


def test_submitting_both_projects_tells_each_pm_once(session, world):
    timesheets.save_week(session, actor=world["engineer"], resource=world["resource"], week=MONDAY, lines=[
        {"activity_id": world["a1"].id, "day": MONDAY, "hours": Decimal("8"), "note": ""},
        {"activity_id": world["b1"].id, "day": MONDAY + timedelta(days=1), "hours": Decimal("4"), "note": ""}])
    sheet = timesheets.submit(session, actor=world["engineer"], resource=world["resource"], week=MONDAY)
    delivered(session)
    assert sorted(told(session)) == sorted([(world["pm"].id, "timesheet_submitted", "timesheets", sheet.id),
                                            (world["pm2"].id, "timesheet_submitted", "timesheets", sheet.id)])


def test_rejecting_tells_the_person_with_the_reason(session, world):
    sheet = _submit_p1(session, world)
    delivered(session)
    decision = timesheets.reject(session, actor=world["pm"], sheet=sheet, project_id=world["p1"].id,
                                 reason="Wrong activity")
    delivered(session)
    engineer = world["engineer"]
    assert told(session, kind="timesheet_decided") == [(engineer.id, "timesheet_decided", "timesheet_decisions",
                                                        decision.id)]
    note = session.scalar(select(Notification).where(Notification.kind == "timesheet_decided"))
    text = notifications.text_of(note, engineer)
    assert "rejected" in text and "Wrong activity" in text
    assert notifications.url_of(note) == "/timesheets/?week=2026-11-30"
    russian = notifications.render("timesheet_decided", "ru", {**note.params, "url": None}).subject
    assert "отклонён" in russian and "Wrong activity" in russian
    event = session.scalar(select(Event).where(Event.type == "timesheet.decided"))
    assert (event.payload["project_id"], event.payload["decision"], event.payload["reason"]) == (
        world["p1"].id, "rejected", "Wrong activity")


def test_approving_tells_the_person(session, world):
    sheet = _submit_p1(session, world)
    delivered(session)
    decision = timesheets.approve(session, actor=world["pm"], sheet=sheet, project_id=world["p1"].id)
    delivered(session)
    engineer = world["engineer"]
    assert told(session, kind="timesheet_decided") == [(engineer.id, "timesheet_decided", "timesheet_decisions",
                                                        decision.id)]
    note = session.scalar(select(Notification).where(Notification.kind == "timesheet_decided"))
    assert "approved" in notifications.text_of(note, engineer)
    assert told(session, user=world["pm"], kind="timesheet_decided") == []  # not of their own doing


def _readers(session, w, event_type):
    event = session.scalar(select(Event).where(Event.type == event_type))
    seen = set()
    for who in ("admin", "engineer", "pm", "pm2", "viewer", "outsider"):
        condition = visible_events(session, user=w[who])
        query = select(Event.id).where(Event.id == event.id)
        if session.scalar(query if condition is None else query.where(condition)) is not None:
            seen.add(who)
    return seen


def test_timesheet_events_are_read_by_the_person_the_approvers_and_administrators_only(session, world):
    sheet = _submit_p1(session, world)
    delivered(session)
    assert _readers(session, world, "timesheet.submitted") == {"admin", "engineer", "pm"}
    timesheets.reject(session, actor=world["pm"], sheet=sheet, project_id=world["p1"].id, reason="No")
    delivered(session)
    assert _readers(session, world, "timesheet.decided") == {"admin", "engineer", "pm"}

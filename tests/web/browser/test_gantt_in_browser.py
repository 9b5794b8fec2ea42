"""Editing the Gantt chart in a real browser: a link drawn with the mouse, a bar dragged and confirmed, a bar's end
dragged, a schedule; the same through the keyboard; and on a phone. The stored values are read back from the
database and the redrawn bars measured against dates worked out here."""

from __future__ import annotations

import itertools
import re
from datetime import datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crmpm.database import db
from crmpm.users.models import User
from eps.models import Project
from wbs import services
from wbs.models import Activity, Relationship
from wbs.scheduling import service as scheduling_service

from tests.web.browser.private_server import log_in, own_server  # noqa: F401 - fixtures: a demo of its own

WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]  # Monday to Friday, 8–12 and 13–17
MONDAY = datetime(2026, 3, 2, 8)
PER_DAY = 28.0  # pixels a day in the day zoom
_numbers = itertools.count(1)


@pytest.fixture
def five(own_server):
    """A project beside NVS-DOCK (the demo PM edits there; on the module's own demo, so that the shared one's
    home pages and budget tree keep their projects) with five unlinked 3-day activities A1..A5 from
    Monday 2 March 2026, scheduled; yields its id and a reader of its stored activities and links."""
    code = f"GNT{next(_numbers)}"
    with own_server.app.app_context():
        session = db.new_session()
        admin = session.scalar(select(User).where(User.email == "admin@crmpm.local"))
        dock = session.scalar(select(Project).where(Project.code == "NVS-DOCK"))
        from eps import services as eps_services
        project = eps_services.create_project(session, actor=admin, code=code, name=f"Gantt editing {code}",
                                              eps_node=dock.eps_node)
        calendar = services.create_calendar(session, actor=admin, project=project, name="5x8", week=WEEK)
        services.update_plan(session, actor=admin, project=project, planned_start=MONDAY, data_date=MONDAY,
                             default_calendar_id=calendar.id)
        element = services.create_element(session, actor=admin, project=project, code=f"{code}.1", name="Works")
        for n in range(1, 6):
            services.create_activity(session, actor=admin, project=project, code=f"A{n}", name=f"Work {n}",
                                     wbs_element_id=element.id, original_duration_hours=24.0)
        scheduling_service.schedule_project(session, actor=admin, project=project)
        session.commit()
        project_id = project.id
        session.close()

    def stored():
        with own_server.app.app_context():
            reader = db.new_session()
            try:
                activities = {a.code: a for a in reader.scalars(select(Activity).where(Activity.project_id == project_id))}
                by_id = {a.id: a.code for a in activities.values()}
                links = {(by_id[p], by_id[s], t) for p, s, t in reader.execute(
                    select(Relationship.predecessor_id, Relationship.successor_id, Relationship.type)
                    .where(Relationship.successor_id.in_(list(by_id))))}
                for activity in activities.values():
                    reader.expunge(activity)
                return activities, links
            finally:
                reader.close()

    return project_id, stored


def _open(log_in, own_server, project_id, viewport=None):
    page = log_in("pm@crmpm.local")
    if viewport:
        page.set_viewport_size(viewport)
    page.goto(own_server.url(f"/projects/{project_id}/gantt?zoom=days"))
    page.wait_for_selector("g.pm-row[data-code=A1]")
    return page


def _bar(page, code):
    return page.locator(f"g.pm-row[data-code={code}]")


def _x(page, when: datetime) -> float:
    """Where ``when`` is on the chart: days since the scale's start times the day zoom's pixels."""
    start = datetime.fromisoformat(page.locator("[data-gantt]").get_attribute("data-scale-start"))
    return round((when - start).total_seconds() / 86400 * PER_DAY, 2)


def _drag(page, source, dx, target=None, steps=8):
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    if target is not None:
        goal = target.bounding_box()
        to_x, to_y = goal["x"] + goal["width"] / 2, goal["y"] + goal["height"] / 2
    else:
        to_x, to_y = x + dx, y
    page.mouse.move(to_x, to_y, steps=steps)
    page.mouse.up()


def _said(page, text):
    page.wait_for_selector(f"[data-gantt-status]:has-text('{text}')")


def _check_end_state(page, stored):
    """After A1 → A2 (FS), A3 moved to start on or after Monday 9 March, A4 stretched to end on Friday 6 March."""
    activities, links = stored()
    assert ("A1", "A2", "FS") in links
    assert activities["A2"].early_start == datetime(2026, 3, 5, 8)  # after A1's three days
    a3 = activities["A3"]
    assert (a3.constraint_type, a3.constraint_date) == ("start_on_or_after", datetime(2026, 3, 9, 8))
    assert (a3.early_start, a3.early_finish) == (datetime(2026, 3, 9, 8), datetime(2026, 3, 11, 17))
    a4 = activities["A4"]
    assert a4.original_duration_hours == 40.0  # Monday 08:00 to Friday 17:00: five days of 8 hours
    assert a4.early_finish == datetime(2026, 3, 6, 17)
    # The bars as redrawn: where those dates fall on the scale.
    a2 = _bar(page, "A2").locator("rect.bar")
    assert float(a2.get_attribute("x")) == _x(page, datetime(2026, 3, 5, 8))
    a3_bar = _bar(page, "A3").locator("rect.bar")
    assert float(a3_bar.get_attribute("x")) == _x(page, datetime(2026, 3, 9, 8))
    a4_bar = _bar(page, "A4").locator("rect.bar")
    assert float(a4_bar.get_attribute("width")) == pytest.approx(
        _x(page, datetime(2026, 3, 6, 17)) - _x(page, MONDAY), abs=0.02)
    # The columns beside the chart follow.
    assert _bar(page, "A3").get_attribute("data-start") == "2026-03-09T08:00"
    a3_id = _bar(page, "A3").get_attribute("data-activity")
    assert page.locator(f".pm-gantt-label[data-activity='{a3_id}'] [data-col=start]").inner_text() == "3/9/26"


def _arrow_to(page, code):
    """Walk the bars with ↓ (then ↑) until ``code``'s has the focus (the rows are in order of their start)."""
    for key in ["ArrowDown"] * 5 + ["ArrowUp"] * 10:
        if page.evaluate("document.activeElement.getAttribute('data-code')") == code:
            return
        page.keyboard.press(key)
    assert page.evaluate("document.activeElement.getAttribute('data-code')") == code


def _schedule(page):
    page.click("button.primary:has-text('Schedule')")
    page.wait_for_selector(".flash-info:has-text('Scheduled at the data date')")
    page.wait_for_selector("g.pm-row[data-code=A1]")


def test_the_mouse_links_moves_and_stretches_bars(log_in, own_server, screenshot, five):
    project_id, stored = five
    page = _open(log_in, own_server, project_id)
    screenshot(page, "gantt-edit-before")

    # A link: from A1's finish handle onto A2's bar.
    _bar(page, "A1").hover()
    _drag(page, _bar(page, "A1").locator("circle.pm-link-handle[data-end=finish]"), 0,
          target=_bar(page, "A2").locator("rect.bar"))
    _said(page, "A1 → A2 (FS) linked")

    # A3 dragged a week to the right: the dialog names the date; confirmed.
    _drag(page, _bar(page, "A3").locator("rect.bar"), 7 * PER_DAY)
    dialog = page.locator("dialog#pm-gantt-confirm")
    dialog.wait_for(state="visible")
    assert "A3" in dialog.inner_text() and "Mar 9, 2026" in dialog.inner_text()
    screenshot(page, "gantt-edit-confirm")
    dialog.locator("button[value=ok]").click()
    _said(page, "A3 starts on or after")

    # A4's end dragged two days on: Wednesday → Friday.
    _bar(page, "A4").hover()
    _drag(page, _bar(page, "A4").locator("rect.pm-resize"), 2 * PER_DAY)
    _said(page, "A4 now lasts 40 h of work")

    _schedule(page)
    _check_end_state(page, stored)
    screenshot(page, "gantt-edit-mouse")


def test_a_cancelled_move_changes_nothing_and_a_loop_is_refused(log_in, own_server, five):
    project_id, stored = five
    page = _open(log_in, own_server, project_id)
    x_before = _bar(page, "A2").locator("rect.bar").get_attribute("x")
    _drag(page, _bar(page, "A2").locator("rect.bar"), 3 * PER_DAY)
    page.locator("dialog#pm-gantt-confirm button[value=cancel]").click()
    # The dialog's close event (which puts the bar back) is dispatched after the click returns.
    expect(_bar(page, "A2").locator("rect.bar")).not_to_have_attribute("transform", re.compile(".*"))
    assert _bar(page, "A2").locator("rect.bar").get_attribute("x") == x_before
    assert stored()[0]["A2"].constraint_type is None
    _drag(page, _bar(page, "A1").locator("circle.pm-link-handle[data-end=finish]"), 0,
          target=_bar(page, "A2").locator("rect.bar"))
    _said(page, "linked")
    _drag(page, _bar(page, "A2").locator("circle.pm-link-handle[data-end=finish]"), 0,
          target=_bar(page, "A1").locator("rect.bar"))
    page.wait_for_selector("[data-gantt-status].error:has-text('dependency loop')")
    assert ("A2", "A1", "FS") not in stored()[1]


def test_the_keyboard_does_the_same(log_in, own_server, screenshot, five):
    project_id, stored = five
    page = _open(log_in, own_server, project_id)
    focused = "document.activeElement.getAttribute('data-code')"
    # Tab reaches the bars (from the zoom buttons, the last links before the chart).
    page.locator("nav.pm-zoom a").last.focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(focused):
            break
    assert page.evaluate(focused) == "A1"
    outline = page.evaluate("getComputedStyle(document.querySelector('g.pm-row:focus .pm-focus')).stroke")
    assert outline != "none"  # the focus is visible
    screenshot(page, "gantt-keyboard-focus")

    # A link: E opens the forms for A1; the other activity by its code.
    page.keyboard.press("e")
    assert page.evaluate("document.activeElement.name") == "start"
    page.locator("#pm-gantt-edit input[name=other]").focus()
    page.keyboard.type("A2")
    page.keyboard.press("Enter")
    _said(page, "A1 → A2 (FS) linked")

    # A3: down two bars, a week to the right with Shift+→, Enter, the dialog's Confirm has the focus.
    _bar(page, "A1").focus()
    _arrow_to(page, "A3")
    for _ in range(7):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#pm-gantt-confirm")
    dialog.wait_for(state="visible")
    assert "Mar 9, 2026" in dialog.inner_text()
    page.keyboard.press("Enter")
    _said(page, "A3 starts on or after")
    assert page.evaluate(focused) == "A3"  # the focus stays on the bar after the redraw

    # A4: two days longer with Alt+→.
    _arrow_to(page, "A4")
    page.keyboard.press("Alt+ArrowRight")
    page.keyboard.press("Alt+ArrowRight")
    page.keyboard.press("Enter")
    _said(page, "A4 now lasts 40 h of work")

    _schedule(page)
    _check_end_state(page, stored)
    screenshot(page, "gantt-edit-keyboard")


def test_on_a_phone(log_in, own_server, screenshot, five):
    project_id, stored = five
    page = _open(log_in, own_server, project_id, viewport={"width": 390, "height": 844})
    labels = page.locator(".pm-gantt-labels").bounding_box()
    chart = page.locator(".pm-gantt-chart").bounding_box()
    assert labels["width"] <= 0.45 * 390 and chart["width"] >= 150  # the bars keep most of the width
    screenshot(page, "gantt-phone")
    _drag(page, _bar(page, "A1").locator("circle.pm-link-handle[data-end=finish]"), 0,
          target=_bar(page, "A2").locator("rect.bar"))
    _said(page, "A1 → A2 (FS) linked")
    _drag(page, _bar(page, "A3").locator("rect.bar"), 7 * PER_DAY)
    page.locator("dialog#pm-gantt-confirm button[value=ok]").click()
    _said(page, "A3 starts on or after")
    _bar(page, "A4").focus()
    page.keyboard.press("Alt+ArrowRight")
    page.keyboard.press("Alt+ArrowRight")
    page.keyboard.press("Enter")
    _said(page, "A4 now lasts 40 h of work")
    _schedule(page)
    _check_end_state(page, stored)
    screenshot(page, "gantt-phone-edited")


@pytest.mark.parametrize("zoom", ["days", "weeks", "months"])
def test_the_scale_fills_the_chart_at_every_zoom(log_in, own_server, screenshot, five, zoom):
    project_id, _stored = five
    page = log_in("pm@crmpm.local")
    page.set_viewport_size({"width": 1920, "height": 900})
    page.goto(own_server.url(f"/projects/{project_id}/gantt?zoom={zoom}"))
    box = page.locator(".pm-gantt-chart").bounding_box()
    svg = page.locator(".pm-gantt-chart svg").bounding_box()
    assert svg["width"] >= box["width"] - 1
    last_tick = max(float(x) for x in page.locator("line.pm-tick").evaluate_all("ls => ls.map(l => l.getAttribute('x1'))"))
    assert last_tick >= box["width"] - 31 * {"days": 28, "weeks": 7, "months": 2.2}[zoom]
    assert re.search(r"\d", page.locator("text.pm-tick-label").last.text_content())
    screenshot(page, f"gantt-zoom-{zoom}")

"""The resource pool in a real browser: an administrator adds a resource with a rate, a PM assigns a resource
on an activity page and sees its cost, the capacity page draws a chosen resource's histogram and marks its
over-booked week, and a person's timesheet hours, once the PM approves them, become the activity's actual cost.

The demo data has a pool, but its assignments are on NVS-DOCK, which other browser tests read: these tests put
their own assignments on activities of a project of their own (``RES-BRW``, under SPB-BLT, below SPB where
pm@crmpm.local is a manager), built through the services.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

expect = pytest.importorskip("playwright.sync_api").expect

PROJECT = "RES-BRW"
TIMESHEET_RATE = Decimal("1234.40")  # the booking person's resource, a price per hour
ASSIGNED_RATE = Decimal("980.00")  # the resource the PM assigns on the activity page
OVERBOOKED_UNITS = 40.0  # each of two assignments of one resource in the same week


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _amount(text: str) -> Decimal:
    """An amount as a page shows it (``RUB 16,973.00``, ``16 973,00 ₽``) as a Decimal."""
    digits = re.sub(r"[^\d.,]", "", text)
    found = re.fullmatch(r"([\d.,]*?)[.,](\d{2})", digits)
    assert found, text
    return Decimal(re.sub(r"\D", "", found.group(1)) or "0") + Decimal(found.group(2)) / 100


@pytest.fixture(scope="module")
def world(live_server):
    """A project with activities, two resources of the test's own (one linked to am@crmpm.local, one to be
    over-booked) and the assignments the timesheet and capacity tests need; ids by name."""
    from crmpm.database import db
    from crmpm.users.models import User
    from eps import services as eps_services
    from eps.models import EpsNode
    from wbs import services as wbs_services
    from wbs.resources import services as pool

    over_week = _monday(date.today()) + timedelta(weeks=3)
    with live_server.app.app_context(), db.transaction() as session:
        admin = session.scalar(select(User).where(User.email == "admin@crmpm.local"))
        person = session.scalar(select(User).where(User.email == "am@crmpm.local"))
        node = session.scalar(select(EpsNode).where(EpsNode.code == "SPB-BLT"))
        project = eps_services.create_project(session, actor=admin, code=PROJECT, name="Resource pages", eps_node=node)
        activities = {code: wbs_services.create_activity(session, actor=admin, project=project, code=code, name=name,
                                                         original_duration_hours=40.0)
                      for code, name in (("RB-ASSIGN", "Cabling"), ("RB-HOURS", "Site survey"),
                                         ("RB-OVER1", "Panel wiring"), ("RB-OVER2", "Panel testing"))}
        rates = lambda price: [{"effective_from": date(2020, 1, 1), "price_per_unit": price}]  # noqa: E731
        booker = pool.create_resource(session, actor=admin, code="RB-SURVEYOR", name="Browser surveyor", type="labor",
                                      max_units_per_hour=1.0, user_id=person.id, rates=rates(TIMESHEET_RATE))
        assigned = pool.create_resource(session, actor=admin, code="RB-FITTER", name="Browser fitter", type="labor",
                                        max_units_per_hour=1.0, rates=rates(ASSIGNED_RATE))
        busy = pool.create_resource(session, actor=admin, code="RB-BUSY", name="Browser busy engineer", type="labor",
                                    max_units_per_hour=1.0, rates=rates(Decimal("1000.00")))
        hours = pool.create_assignment(session, actor=admin, project=project, activity=activities["RB-HOURS"],
                                       resource_id=booker.id, units_per_hour=1.0, budgeted_units=40.0)
        # Monday 08:00 to Thursday 17:00 of one week, twice: every booked hour falls in that week.
        start, finish = datetime.combine(over_week, time(8)), datetime.combine(over_week + timedelta(days=3), time(17))
        for code in ("RB-OVER1", "RB-OVER2"):
            pool.create_assignment(session, actor=admin, project=project, activity=activities[code],
                                   resource_id=busy.id, units_per_hour=1.0, budgeted_units=OVERBOOKED_UNITS,
                                   start=start, finish=finish)
        return {"project": project.id, "activities": {code: a.id for code, a in activities.items()},
                "booker": booker.id, "assigned": assigned.id, "busy": busy.id, "hours_assignment": hours.id,
                "over_week": over_week}


def test_an_administrator_creates_a_resource_with_a_rate_and_finds_it_in_the_list(log_in, live_server, screenshot):
    page = log_in("admin@crmpm.local")
    page.goto(live_server.url("/resources/"))
    form = page.locator("section.card", has=page.locator("h2", has_text="New resource")).locator("form")
    form.locator("input[name=code]").fill("RB-WELDER")
    form.locator("input[name=name]").fill("Browser welder")
    form.locator("select[name=type]").select_option("labor")
    form.locator("input[name=max_units_per_hour]").fill("1")
    form.locator("textarea[name=rates]").fill("2026-01-01; 1 750,50")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash-info", has_text="Resource RB-WELDER created")).to_be_visible()
    # Its form shows the rate back as typed: the day and the price.
    rates = page.locator("textarea[name=rates]").input_value().split(";")
    assert rates[0].strip() == "2026-01-01" and _amount(rates[1]) == Decimal("1750.50")

    page.goto(live_server.url("/resources/"))
    row = page.locator("table.list tbody tr", has=page.locator("a.code", has_text="RB-WELDER"))
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text("Browser welder")
    expect(row.locator("td").nth(2)).to_have_text("labour")
    screenshot(page, "resources-list")


def test_a_pm_assigns_a_resource_on_an_activity_page_and_sees_its_cost(log_in, live_server, world, screenshot):
    """12.5 h of RB-FITTER at 980.00 an hour: 12.5 × 980.00 = 12,250.00 budgeted, nothing actual yet."""
    activity = world["activities"]["RB-ASSIGN"]
    page = log_in("pm@crmpm.local")
    page.goto(live_server.url(f"/projects/{world['project']}/activities/{activity}"))
    expect(page.locator("#resources")).to_contain_text("No resource is assigned to this activity.")
    form = page.locator("form.pm-assignment-form")
    form.locator("select[name=resource_id]").select_option(str(world["assigned"]))
    form.locator("input[name=budgeted_units]").fill("12.5")
    form.locator("input[name=units_per_hour]").fill("1")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash-info", has_text="Assignment added")).to_be_visible()

    rows = page.locator("#resources tr[data-assignment]")
    expect(rows).to_have_count(1)
    cells = rows.first.locator("td")
    expect(cells.nth(0)).to_have_text("Browser fitter")
    assert _amount(cells.nth(4).inner_text()) == Decimal("12.5") * ASSIGNED_RATE
    assert _amount(cells.nth(5).inner_text()) == Decimal("0")
    # The activity costs what its assignments cost.
    costs = page.locator("dt", has_text="Budgeted / actual cost").locator("xpath=following-sibling::dd[1]")
    assert _amount(costs.inner_text().split("/")[0]) == Decimal("12.5") * ASSIGNED_RATE
    screenshot(page, "activity-resources")


def test_capacity_draws_a_chosen_resources_histogram_and_marks_its_over_booked_week(log_in, live_server, world,
                                                                                     screenshot):
    """RB-BUSY carries two assignments of 40 h each, both from Monday to Thursday of one week: 80 h booked in
    that week, more than one person's week (max 1 unit an hour), so the week is marked over-allocated."""
    week = world["over_week"]
    booked = 2 * OVERBOOKED_UNITS
    page = log_in("admin@crmpm.local")
    page.goto(live_server.url(f"/capacity/?from={(week - timedelta(weeks=1)).isoformat()}"
                              f"&to={(week + timedelta(weeks=2, days=6)).isoformat()}&period=week"))
    row = page.locator(f"table[data-capacity] tr[data-resource='{world['busy']}']")
    expect(row).to_have_count(1)
    expect(page.locator(f"[data-histogram='{world['busy']}']")).to_have_count(0)
    row.locator("th a").click()  # choose the resource: its histogram is drawn

    chart = page.locator(f"section[data-histogram='{world['busy']}']")
    expect(chart.locator("h2")).to_have_text("Browser busy engineer")
    expect(chart.locator("svg")).to_be_visible()
    assert chart.locator("svg rect").count() > 0

    periods = page.locator("table[data-capacity] thead th[data-period]").evaluate_all(
        "cells => cells.map(c => c.dataset.period)")
    column = periods.index(week.isoformat())
    row = page.locator(f"table[data-capacity] tr[data-resource='{world['busy']}']")
    cell = row.locator("td").nth(column)
    expect(cell).to_have_attribute("data-over", "")
    expect(cell.locator(".badge")).to_have_text("over")
    assert float(cell.locator("[data-booked]").inner_text()) == booked
    assert float(cell.locator("[data-available]").inner_text()) < booked
    for other in (column - 1, column + 1):  # the weeks around it carry nothing
        assert row.locator("td").nth(other).get_attribute("data-over") is None
        assert float(row.locator("td").nth(other).locator("[data-booked]").inner_text()) == 0
    screenshot(page, "capacity-over-allocated")


def test_booked_hours_approved_by_the_pm_become_the_activitys_actual_cost(log_in, live_server, world, screenshot):
    """am@crmpm.local, linked to RB-SURVEYOR (1,234.40 an hour), books 7.5 h on Monday and 6.25 h on Tuesday of
    last week on RB-HOURS: 13.75 h × 1,234.40 = 16,973.00 once pm@crmpm.local approves."""
    activity = world["activities"]["RB-HOURS"]
    week = _monday(date.today()) - timedelta(weeks=1)
    hours = [Decimal("7.5"), Decimal("6.25")]
    expected = sum(hours) * TIMESHEET_RATE

    person = log_in("am@crmpm.local")
    person.goto(live_server.url(f"/timesheets/?week={week.isoformat()}"))
    expect(person.locator("h1")).to_have_text("My timesheet")
    for n, value in enumerate(hours):
        person.fill(f"input[name=h-{activity}-{n}]", str(value))
    person.click("button[name=action][value=save]")
    expect(person.locator(".flash-info", has_text="The week is saved.")).to_be_visible()
    assert person.locator(f"input[name=h-{activity}-0]").input_value() == "7.5"
    row = person.locator("table.timesheet tbody tr", has=person.locator(f"input[name=h-{activity}-0]"))
    assert Decimal(row.locator("td").last.inner_text()) == sum(hours)
    person.click("button[name=action][value=submit]")
    expect(person.locator(".flash-info", has_text="submitted for approval")).to_be_visible()
    expect(person.locator(f"input[name=h-{activity}-0]")).to_have_count(0)  # a submitted week is read-only
    screenshot(person, "timesheet-submitted")

    pm = log_in("pm@crmpm.local")
    pm.goto(live_server.url("/timesheets/approvals"))
    section = pm.locator("section.approval", has=pm.locator("h2", has_text=PROJECT))
    expect(section).to_have_count(1)
    expect(section.locator("h2")).to_contain_text("Browser surveyor")
    assert Decimal(section.locator("tfoot td.num").inner_text()) == sum(hours)
    screenshot(pm, "timesheet-approvals")
    section.locator("button[value=approve]").click()
    expect(pm.locator(".flash-info", has_text="approved and booked as actuals")).to_be_visible()
    expect(pm.locator("section.approval", has=pm.locator("h2", has_text=PROJECT))).to_have_count(0)

    pm.goto(live_server.url(f"/projects/{world['project']}/activities/{activity}"))
    cells = pm.locator(f"#resources tr[data-assignment='{world['hours_assignment']}'] td")
    assert _amount(cells.nth(5).inner_text()) == expected
    costs = pm.locator("dt", has_text="Budgeted / actual cost").locator("xpath=following-sibling::dd[1]")
    assert _amount(costs.inner_text().split("/")[1]) == expected
    screenshot(pm, "activity-actual-cost")

"""The project manager's day in a real browser: the project list, scheduling, the Gantt chart, an edit."""

from __future__ import annotations

import re


def _finish(page) -> str:
    return page.locator("[data-figure=finish]").inner_text().strip()


def test_pm_schedules_sees_the_gantt_and_moves_the_finish(log_in, screenshot, live_server):
    page = log_in("pm@crmpm.local")
    page.click("nav.menu >> text=Projects")
    page.wait_for_url(live_server.url("/projects/"))
    assert page.locator("table.pm-projects a.code").count() > 0
    screenshot(page, "projects-list")

    def found(text):
        page.fill("form.pm-filters input[name=q]", text)
        page.click("form.pm-filters button[type=submit]")
        page.wait_for_url(re.compile(r"q=" + text))
        return page.locator("table.pm-projects a.code").all_inner_texts()

    assert "TVT-ERP" in found("TVT")  # a grant on the project alone
    assert found("INT") == []  # INT-AI sits under a protected node pm has no grant on
    assert found("NVS") == ["NVS-DOCK", "NVS-SCADA"]

    page.click("table.pm-projects a.code:text-is('NVS-DOCK')")
    page.wait_for_url(re.compile(r"/projects/\d+$"))
    assert page.locator("table.pm-wbs a.code:text-is('DOCK.3')").count() == 1
    before = _finish(page)
    page.click("button.primary:has-text('Schedule')")
    page.wait_for_selector(".flash-info:has-text('Scheduled at the data date')")
    scheduled = _finish(page)
    assert scheduled != before  # the demo plan changed after its last schedule
    assert int(page.locator("[data-figure=critical]").inner_text()) > 0
    screenshot(page, "project-page")

    page.click("nav.tabs >> text=Gantt chart")
    page.wait_for_url(re.compile(r"/projects/\d+/gantt$"))
    assert page.locator("svg rect.bar.critical").count() > 0
    assert page.locator("svg g.data-date line").count() == 1
    assert "Data date" in page.locator("svg g.data-date text").text_content()
    assert page.locator("svg path.milestone").count() >= 3
    screenshot(page, "projects-gantt")

    # Lengthen a critical activity not started yet by ten days and reschedule: the finish moves.
    page.click("nav.tabs >> text=Plan")
    page.click("a:has-text('Critical only')")
    row = page.locator("table.pm-activities tbody tr.critical").filter(
        has=page.locator("input[name=percent_complete][value='0']")).filter(
        has=page.locator("input[name=original_duration]")).first
    code = row.get_attribute("data-activity")
    duration = float(row.locator("input[name=original_duration]").input_value())
    row.locator("input[name=original_duration]").fill(f"{duration + 10:g}")
    row.locator("button:has-text('Save')").click()
    page.wait_for_selector(f".flash-info:has-text('Activity {code} saved')")
    page.click("button.primary:has-text('Schedule')")
    page.wait_for_selector(".flash-info:has-text('Scheduled at the data date')")
    assert _finish(page) != scheduled

    # The menu's Gantt entry opens the chart of the project last opened.
    page.click("nav.menu >> text=Gantt")
    page.wait_for_url(re.compile(r"/projects/\d+/gantt$"))
    assert "NVS-DOCK" in page.locator("h1").inner_text()

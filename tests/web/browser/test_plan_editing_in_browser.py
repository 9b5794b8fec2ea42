"""A project manager builds a plan in a real browser: a two-level WBS, an indent, five activities, a link made
with the keyboard through the picker, a constraint; on a desktop and on a phone-sized screen."""

from __future__ import annotations

import pytest

PROJECT = "BLT-WMS"  # under SPB, where pm@crmpm.local is a manager


def _project(page, live_server, element=None):
    path = f"/projects/{live_server.id_of(PROJECT)}"
    page.goto(live_server.url(path + (f"?wbs={element}" if element else "")))


def _select_element(page, code):
    page.click(f"table.pm-wbs a.code:text-is('{code}')")
    page.wait_for_selector(f"[data-wbs-panel='{code}']")


def _add_element(page, code, name, parent=None):
    form = page.locator("details.pm-add:has(summary:has-text('Add a WBS element'))")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=name]").fill(name)
    if parent is None:
        form.locator("select[name=parent]").select_option("")
    else:
        value = form.locator("select[name=parent] option", has_text=f"{parent} · ").get_attribute("value")
        form.locator("select[name=parent]").select_option(value)
    form.locator("button[type=submit]").click()
    page.wait_for_selector(f".flash-info:has-text('WBS element {code} added')")


def _tree(page) -> list[tuple[str, str]]:
    """(code, level) of the WBS rows shown."""
    rows = page.locator("table.pm-wbs tr.tree-row")
    return [(row.locator("a.code").inner_text(), row.get_attribute("data-level")) for row in rows.all()]


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_pm_builds_a_plan_and_links_with_the_keyboard(log_in, screenshot, live_server, viewport):
    page = log_in("pm@crmpm.local")
    page.set_viewport_size(viewport)
    tag = "D" if viewport["width"] > 800 else "M"  # both runs share the server: codes of their own
    top, first, second = f"BR{tag}", f"BR{tag}.1", f"BR{tag}.2"
    _project(page, live_server)

    # Two levels: a top element with a child, and a second top element indented under the first.
    _add_element(page, top, "Browser work")
    _add_element(page, first, "Design", parent=top)
    _add_element(page, second, "Delivery")  # top level, right after BRx
    _select_element(page, second)
    page.click("[data-wbs-panel] button[data-move=indent]")
    page.wait_for_selector(f".flash-info:has-text('WBS element {second} indented')")
    shown = dict(_tree(page))
    assert shown[first] == shown[second] == str(int(shown[top]) + 1)
    screenshot(page, f"plan-wbs-{viewport['width']}")

    # Five activities under the second-level elements.
    codes = [f"{tag}A{n}" for n in range(1, 6)]
    for n, code in enumerate(codes):
        _project(page, live_server)
        _select_element(page, first if n < 3 else second)
        form = page.locator("details.pm-add:has(summary:has-text('Add an activity'))")
        form.locator("summary").click()
        form.locator("input[name=code]").fill(code)
        form.locator("input[name=name]").fill(f"Step {n + 1}")
        form.locator("input[name=original_duration]").fill(str(n + 2))
        form.locator("button[type=submit]").click()
        page.wait_for_selector(f".flash-info:has-text('Activity {code} added')")
    assert page.locator("h1 .code").inner_text() == codes[-1]

    # Link A1 → A2 with the keyboard: the picker suggests by name, the code is typed, SS picked by its first letter.
    page.goto(page.url.rsplit("/", 1)[0] + "/" + _activity_id(page, live_server, codes[1]))
    page.locator("select[name=direction]").focus()
    page.keyboard.press("Tab")
    page.keyboard.type("Step 1")
    page.wait_for_selector(f"#pm-activity-options option[value='{codes[0]}']", state="attached")
    for _ in range(len("Step 1")):
        page.keyboard.press("Backspace")
    page.keyboard.type(codes[0])
    page.keyboard.press("Tab")
    page.keyboard.type("S")  # the first type starting with S (typing S again would go on to SF)
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash")
    assert page.locator(".flash").first.inner_text() == f"{codes[0]} → {codes[1]} (SS) linked."
    page.wait_for_selector(f".flash-info:has-text('{codes[0]} → {codes[1]} (SS) linked')")
    predecessor = page.locator(f"ul.pm-links[data-links=predecessor] li[data-link='{codes[0]}']")
    assert predecessor.locator("select[name=type]").input_value() == "SS"
    assert predecessor.locator("input[name=lag]").input_value() == "1"

    # A constraint on A2.
    page.select_option("select[name=constraint_type]", "start_on_or_after")
    page.fill("input[name=constraint_date]", "2026-12-14T08:00")
    page.click("button:has-text('Save the plan')")
    page.wait_for_selector(f".flash-info:has-text('Activity {codes[1]} saved')")
    assert page.locator("select[name=constraint_type]").input_value() == "start_on_or_after"
    assert page.locator("input[name=constraint_date]").input_value() == "2026-12-14T08:00"
    side = page.locator("aside.pm-side").bounding_box()
    main = page.locator(".pm-main").bounding_box()
    if viewport["width"] < 800:  # the side panel goes below the plan on a phone
        assert side["y"] > main["y"] and side["x"] < 40
    else:
        assert side["x"] > main["x"] + main["width"] - 1
    screenshot(page, f"plan-activity-{viewport['width']}")


def _activity_id(page, live_server, code) -> str:
    """The id of an activity, found through the picker's own JSON list."""
    project = live_server.id_of(PROJECT)
    found = page.request.get(live_server.url(f"/projects/{project}/activities/find?q={code}")).json()
    return str(next(item["id"] for item in found["items"] if item["code"] == code))


def test_pm_makes_a_project_calendar_and_imports_holidays(log_in, screenshot, live_server):
    from tests.corpus import IN_REPO

    page = log_in("pm@crmpm.local")
    _project(page, live_server)
    page.click("nav.tabs >> text=Calendars")
    page.fill("input[name=name]", "BLT five days")
    page.fill("input[name=week-4]", "08:00-12:00, 13:00-16:00")
    page.click("button:has-text('Create')")
    page.wait_for_selector(".flash-info:has-text('Calendar BLT five days created')")
    page.set_input_files("input[name=file]", str(IN_REPO / "calendars" / "ru-2026-sample.ics"))
    page.click("button:has-text('Import')")
    page.wait_for_selector(".flash-info:has-text('Imported 14 days off and 1 days with other hours')")
    assert page.locator("table.pm-exceptions tbody tr").count() == 15
    assert page.locator("input[name=week-4]").input_value() == "08:00-12:00, 13:00-16:00"
    screenshot(page, "plan-calendar")

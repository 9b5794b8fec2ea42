"""Phones and accessibility in a real browser: every main page at 390x844 without sideways scrolling, the compact
header and its menu button, the board's column switcher, the keyboard way to move a deal, the skip link, and
axe-core (docs/decisions/0007-accessibility-checks.md) with no serious or critical violation, on a phone and on a
desktop."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

expect = pytest.importorskip("playwright.sync_api").expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
HEADER_MAX = 60  # px: the compact header on a phone


def _first_id(live_server, model, *where):
    from crmpm.database import db

    with live_server.app.app_context():
        session = db.new_session()
        try:
            return session.scalar(select(model.id).where(*where).order_by(model.id).limit(1))
        finally:
            session.close()


@pytest.fixture(scope="module")
def main_pages(live_server) -> dict[str, str]:
    """Every main page of the product (name → path), with objects of the demo data."""
    from accounts.models import Account, Contact, Deal, Lead, PipelineStage
    from crmpm.users.models import User
    from wbs.models import Activity, Calendar, Relationship

    project = live_server.id_of("NVS-DOCK")
    linked = _first_id(live_server, Activity, Activity.project_id == project,
                       Activity.id.in_(select(Relationship.successor_id)))
    node = live_server.id_of("ENT")
    return {
        "login": "/login",
        "home": "/",
        "pipeline": "/crm/pipeline?owner=all",
        "accounts": "/crm/accounts",
        "account": f"/crm/accounts/{_first_id(live_server, Account, Account.name == 'Neva Shipyards')}",
        "leads": "/crm/leads",
        "lead": f"/crm/leads/{_first_id(live_server, Lead)}",
        "deals": "/crm/deals",
        "deal": f"/crm/deals/{_first_id(live_server, Deal)}",
        "tasks": "/crm/tasks",
        "crm-import": "/crm/import",
        "dashboards": "/dashboards/",
        "projects": "/projects/",
        "project": f"/projects/{project}",
        "activity": f"/projects/{project}/activities/{_first_id(live_server, Activity)}",
        "gantt": f"/projects/{project}/gantt",
        "baselines": f"/projects/{project}/baselines",
        "project-codes": f"/projects/{project}/codes",
        "pm-import": "/projects/import",
        "budgets": "/finance/",
        "budget-detail": f"/finance/nodes/{node}",
        "budget-changes": "/finance/changes",
        "admin-users": "/admin/users",
        "admin-teams": "/admin/teams",
        "admin-grants": "/admin/grants",
        "admin-preview": "/admin/preview",
        "profile": "/profile/",
        "jobs": "/jobs/",
        # The entry, contact, structure, settings and search pages.
        "new-lead": "/crm/leads/new",
        "new-account": "/crm/accounts/new",
        "new-deal": "/crm/deals/new",
        "contact": f"/crm/contacts/{_first_id(live_server, Contact)}",
        "eps": "/eps/",
        "eps-node": f"/eps/nodes/{node}",  # a node's own page: its forms and a page of its children
        "eps-node-codes": f"/eps/nodes/{node}/codes",
        "eps-project": f"/eps/projects/{project}",
        "new-project": "/projects/new",
        "project-settings": f"/projects/{project}/settings",
        "calendars": "/projects/calendars",
        "settings-pipelines": "/settings/pipelines",
        "settings-routing": "/settings/routing",
        "settings-absences": "/settings/absences",
        "admin-user": f"/admin/users/{_first_id(live_server, User)}",
        "search": "/search?q=neva",
        "new-contact": "/crm/contacts/new",
        "new-deal-in-stage": f"/crm/deals/new?stage_id={_first_id(live_server, PipelineStage)}",
        "project-calendars": f"/projects/{project}/calendars",
        "calendar": f"/projects/calendars/{_first_id(live_server, Calendar)}",
        # An activity of the project with a predecessor: its relationship panel lists the link.
        "activity-links": f"/projects/{project}/activities/{linked}",
        # The resource pages: the pool, capacity with its histograms, the timesheet week, the approvals queue,
        # a project's levelling tab.
        "resources": "/resources/",
        "roles": "/resources/roles",
        "capacity": "/capacity/",
        "timesheets": "/timesheets/",
        "timesheet-approvals": "/timesheets/approvals",
        "levelling": f"/projects/{project}/levelling",
    }


def _visit(page, live_server, path: str) -> None:
    response = page.goto(live_server.url(path))
    assert response is not None and response.status == 200, (path, response and response.status)


def _overflow(page) -> int:
    """How far the page scrolls sideways, in CSS pixels (0: not at all)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    # Forms folded in <details> are checked too: every one is opened first.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])}×): {targets}")
    return found


def _pages_as_admin(log_in, new_page, viewport):
    page = log_in("admin@crmpm.local")
    page.set_viewport_size(viewport)
    anonymous = new_page()
    anonymous.set_viewport_size(viewport)
    return page, anonymous


def test_no_main_page_scrolls_sideways_on_a_phone(log_in, new_page, live_server, main_pages, screenshot):
    page, anonymous = _pages_as_admin(log_in, new_page, PHONE)
    problems = []
    for name, path in main_pages.items():
        browser_page = anonymous if name == "login" else page
        _visit(browser_page, live_server, path)
        overflow = _overflow(browser_page)
        header = browser_page.locator("header.topbar").bounding_box()
        if overflow > 0:
            wide = browser_page.evaluate("""() => Array.from(document.querySelectorAll('main *'))
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.gantt-scroll'))
                .slice(0, 4).map(e => e.tagName + '.' + e.className)""")
            problems.append(f"{name}: scrolls sideways by {overflow}px ({wide})")
        if header["height"] > HEADER_MAX:
            problems.append(f"{name}: header {header['height']}px high")
        screenshot(browser_page, f"phone-{name}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_axe_finds_no_serious_violation_on_any_main_page(log_in, new_page, live_server, main_pages, viewport):
    page, anonymous = _pages_as_admin(log_in, new_page, viewport)
    problems = []
    for name, path in main_pages.items():
        browser_page = anonymous if name == "login" else page
        _visit(browser_page, live_server, path)
        problems += [f"{name}: {v}" for v in _serious_violations(browser_page)]
    assert not problems, "\n".join(problems)


def _focused(page) -> str:
    return page.evaluate("""() => { const e = document.activeElement;
        return e ? (e.className ? e.tagName.toLowerCase() + '.' + e.className.split(' ')[0] : e.tagName.toLowerCase()) : ''; }""")


def test_skip_link_comes_first_and_the_menu_button_works_from_the_keyboard(log_in, live_server, screenshot):
    page = log_in("am@crmpm.local")
    page.click("header .locale-switch button[value=en]")  # in English, whatever another test chose for this user
    page.wait_for_load_state()
    page.set_viewport_size(PHONE)
    page.goto(live_server.url("/crm/accounts"))
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] <= HEADER_MAX
    menu, button = page.locator("nav.menu"), page.locator("button.menu-toggle")
    expect(menu).to_be_hidden()
    assert button.get_attribute("aria-controls") == "topbar-panel"
    assert page.locator("#topbar-panel nav.menu").count() == 1

    page.keyboard.press("Tab")
    assert _focused(page) == "a.skip-link"
    assert page.locator("a.skip-link").inner_text() == "Skip to content"
    expect(page.locator("a.skip-link")).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"

    page.keyboard.press("Shift+Tab")  # back through the header: the menu button is its last control
    assert _focused(page) == "button.menu-toggle"
    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true"
    expect(menu).to_be_visible()
    expect(menu.locator("a", has_text="Pipeline")).to_be_in_viewport()
    screenshot(page, "phone-menu-open")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('nav.menu') !== null")
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false"
    expect(menu).to_be_hidden()
    assert _focused(page) == "button.menu-toggle"
    page.keyboard.press("Space")
    expect(menu).to_be_visible()
    page.keyboard.press("Space")
    expect(menu).to_be_hidden()

    page.keyboard.press("Space")
    menu.locator("a", has_text="Deals").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/crm/deals$"))
    expect(page.locator("nav.menu")).to_be_hidden()  # a new page starts with the menu closed

    page.set_viewport_size(DESKTOP)  # on a wide screen: no menu button, the menu always there
    expect(button).to_be_hidden()
    expect(page.locator("nav.menu")).to_be_visible()


def test_an_account_managers_full_lists_fit_a_phone(log_in, live_server, screenshot):
    page = log_in("am@crmpm.local")
    page.set_viewport_size(PHONE)
    for name, path in (("tasks", "/crm/tasks"), ("leads", "/crm/leads"), ("home", "/"), ("pipeline", "/crm/pipeline")):
        _visit(page, live_server, path)
        assert _overflow(page) <= 0, name
        screenshot(page, f"phone-am-{name}")
    _visit(page, live_server, "/crm/leads")
    cells = page.locator("table.list tbody tr").first.locator("td")
    assert cells.count() > 1
    headings = page.locator("table.list").first.locator("thead th").all_inner_texts()
    labels = [cells.nth(i).get_attribute("data-label") for i in range(cells.count())]
    assert labels == [h.strip() for h in headings][:len(labels)]  # each cell labelled with its column heading
    assert page.locator("table.list").first.locator("thead").evaluate("h => getComputedStyle(h).position") == "absolute"


def _stage_shown(page) -> list[str]:
    return [name for name in page.locator(".board-column").evaluate_all(
        "columns => columns.filter(c => c.offsetParent !== null).map(c => c.dataset.stageName)")]


def test_the_board_shows_one_column_at_a_time_on_a_phone_and_a_deal_moves_by_keyboard(log_in, live_server, screenshot):
    page = log_in("am@crmpm.local")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url("/crm/pipeline?owner=all"))
    switcher = page.locator("[data-board-switch] select")
    expect(switcher).to_be_visible()
    stages = page.locator(".board-column").evaluate_all("columns => columns.map(c => c.dataset.stageName)")
    assert _stage_shown(page) == [stages[0]]
    assert _overflow(page) <= 0

    switcher.focus()
    page.keyboard.press("ArrowDown")  # a closed select changes its value with the arrow keys
    expect(switcher).to_have_value(page.locator(".board-column").nth(1).get_attribute("data-stage"))
    assert _stage_shown(page) == [stages[1]]
    page.keyboard.press("ArrowUp")
    assert _stage_shown(page) == [stages[0]]

    # The keyboard way of a drag: the card's Move form, opened and sent without a mouse.
    column = page.locator(f'.board-column[data-stage-name="{stages[0]}"]')
    card = column.locator(".deal-card.movable").first
    name = card.locator(".deal-name").inner_text()
    count = int(column.locator('[data-figure="count"]').inner_text())
    card.locator(".move-form summary").focus()
    page.keyboard.press("Enter")
    stage_select = card.locator("select[name=stage_id]")
    expect(stage_select).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "stage_id"
    page.keyboard.press("ArrowDown")
    expect(stage_select.locator("option:checked")).to_have_text(stages[1])
    screenshot(page, "phone-pipeline-move-form")
    page.keyboard.press("Tab")  # the lost reason; Enter there sends the form
    assert page.evaluate("document.activeElement.name") == "lost_reason"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _stage_shown(page) == [stages[0]]  # the column chosen before stays chosen
    column = page.locator(f'.board-column[data-stage-name="{stages[0]}"]')
    assert int(column.locator('[data-figure="count"]').inner_text()) == count - 1
    assert column.locator(".deal-card", has_text=name).count() == 0
    page.locator("[data-board-switch] select").select_option(
        page.locator(f'.board-column[data-stage-name="{stages[1]}"]').get_attribute("data-stage"))
    assert _stage_shown(page) == [stages[1]]
    expect(page.locator(f'.board-column[data-stage-name="{stages[1]}"] .deal-card', has_text=name)).to_be_visible()
    assert page.locator("[data-board-switch] option:checked").inner_text().startswith(stages[1])
    screenshot(page, "phone-pipeline-after-move")

    page.set_viewport_size(DESKTOP)  # a wide screen shows every column and no switcher
    expect(page.locator("[data-board-switch]")).to_be_hidden()
    assert _stage_shown(page) == stages


@pytest.fixture(scope="module")
def submitted_week(live_server):
    """A week of pm@crmpm.local's hours (resource P.MOROZOV, on an NVS-DOCK activity) submitted for approval,
    so the timesheet week has rows and the approvals queue a sheet; the Monday of that week."""
    from datetime import date, timedelta

    from crmpm.database import db
    from crmpm.users.models import User
    from wbs.resources import timesheets
    from wbs.resources.models import Assignment

    week = timesheets.week_of(date(2026, 1, 14))
    with live_server.app.app_context(), db.transaction() as session:
        pm = session.scalar(select(User).where(User.email == "pm@crmpm.local"))
        resource = timesheets.resource_of(session, user=pm)
        activity_id = session.scalar(select(Assignment.activity_id).where(Assignment.resource_id == resource.id)
                                     .order_by(Assignment.id).limit(1))
        timesheets.save_week(session, actor=pm, resource=resource, week=week, lines=[
            {"activity_id": activity_id, "day": week + timedelta(days=n), "hours": "8", "note": "Design review"}
            for n in range(2)])
        timesheets.submit(session, actor=pm, resource=resource, week=week)
    return week


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_filled_timesheet_week_and_the_approvals_queue_fit_and_pass_axe(log_in, live_server, submitted_week,
                                                                          viewport, screenshot):
    page = log_in("pm@crmpm.local")
    page.set_viewport_size(viewport)
    problems = []
    failed = []  # a stylesheet that does not load leaves the week's table unstyled and wider than the phone
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    for name, path in (("timesheet-week", f"/timesheets/?week={submitted_week.isoformat()}"),
                       ("timesheet-approvals", "/timesheets/approvals")):
        _visit(page, live_server, path)
        assert page.locator("table.timesheet" if name == "timesheet-week" else "section.approval").count() >= 1, name
        if viewport is PHONE and _overflow(page) > 0:
            problems.append(f"{name}: scrolls sideways by {_overflow(page)}px")
        screenshot(page, f"{'phone' if viewport is PHONE else 'desktop'}-pm-{name}")
        problems += [f"{name}: {v}" for v in _serious_violations(page)]
    assert not problems + failed, "\n".join(problems + failed)

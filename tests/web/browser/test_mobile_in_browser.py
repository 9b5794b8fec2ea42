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
    from accounts.models import Account, Deal, Lead
    from wbs.models import Activity

    project = live_server.id_of("NVS-DOCK")
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
    }


def _visit(page, live_server, path: str) -> None:
    response = page.goto(live_server.url(path))
    assert response is not None and response.status == 200, (path, response and response.status)


def _overflow(page) -> int:
    """How far the page scrolls sideways, in CSS pixels (0: not at all)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

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

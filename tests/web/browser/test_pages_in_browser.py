"""End to end in a real browser: each kind of user, the budget tree, approvals, access, CSRF, Russian."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from crmpm import demo

ROLES = {email: role for email, _password, role in demo.LOGINS}


def _root_figure(page, column: int) -> str:
    """The text of one money column of the ENT row of the budget tree."""
    return page.locator("tr.tree-row", has=page.locator("a.code", has_text=re.compile(r"^ENT$"))).locator(
        "td").nth(column).inner_text()


@pytest.mark.parametrize("email", list(ROLES))
def test_each_kind_of_user_logs_in_to_their_home(log_in, screenshot, email):
    page = log_in(email)
    assert page.locator("h1").inner_text().startswith("Hello")
    menu = page.locator("nav.menu").inner_text()
    assert "Budgets" in menu
    assert ("Users" in menu) == (email == "admin@crmpm.local")
    cards = page.locator(".cards").inner_text()
    if email in ("finance@crmpm.local", "pm@crmpm.local", "admin@crmpm.local"):
        assert "for a decision" in cards
    if email == "pm@crmpm.local":
        assert "TVT-ERP" in cards
    screenshot(page, f"home-{ROLES[email].replace(' ', '-')}")
    page.click("header button:has-text('Log out')")
    page.wait_for_url(re.compile(r"/login$"))


def test_budget_tree_loads_children_on_demand_and_exports_what_is_open(log_in, screenshot, live_server):
    page = log_in("finance@crmpm.local")
    page.click("nav.menu >> text=Budgets")
    page.wait_for_url(live_server.url("/finance/"))
    rows = page.locator("table.tree tbody tr.tree-row")
    assert rows.count() == 1  # ENT: finance's grant is there
    page.click("button[aria-label='Expand ENT']")
    page.wait_for_selector("tr.tree-row >> a.code:text-is('SPB')")
    # INT is protected: the finance grant on ENT does not reach it.
    assert [code for code in page.locator("tr.tree-row a.code").all_inner_texts()] == ["ENT", "MSK", "SPB", "KRD"]
    page.click("button[aria-label='Expand SPB']")
    page.wait_for_selector("a.code:text-is('SPB-NVS')")
    page.click("button[aria-label='Expand SPB-NVS']")
    page.wait_for_selector("a.code:text-is('NVS-DOCK')")
    screenshot(page, "finance-tree")

    with page.expect_download() as download_info:
        page.click("a[data-export-tree]")
    sheet = load_workbook(BytesIO(open(download_info.value.path(), "rb").read())).active
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    # Tree order, siblings as they were created; SPB-NMS is the CRM demo's own client node under SPB.
    assert codes == ["ENT", "MSK", "SPB", "SPB-NVS", "NVS-DOCK", "NVS-SCADA", "SPB-BLT", "SPB-NMS", "KRD"]
    assert sheet.cell(row=2, column=4).value == 30_000_000

    page.click("button[aria-label='Expand SPB']")  # collapse: the whole subtree goes
    assert page.locator("a.code:text-is('SPB-NVS')").count() == 0
    assert page.locator("a.code:text-is('SPB')").count() == 1


def test_long_child_lists_come_in_pages(log_in, screenshot, live_server):
    from crmpm.database import db
    from crmpm.users import services as users
    from eps import services

    blt = live_server.id_of("SPB-BLT")
    with live_server.app.app_context(), db.transaction() as session:
        admin = users.get_by_email(session, email="admin@crmpm.local")
        node = services.get_node_or_raise(session, user=admin, node_id=blt)
        already = (session.scalar(select(func.count()).select_from(
            services.list_projects(session, user=admin, eps_node=node, direct_only=True).subquery()))
            + session.scalar(select(func.count()).select_from(
                services.list_nodes(session, user=admin, parent_id=node.id).subquery())))
        for n in range(60):
            services.create_project(session, actor=admin, code=f"BLT-BULK{n:02d}", name=f"Bulk project {n}",
                                    eps_node=node)
    page = log_in("finance@crmpm.local")
    page.goto(live_server.url("/finance/"))
    page.click("button[aria-label='Expand ENT']")
    page.click("button[aria-label='Expand SPB']")
    page.click("button[aria-label='Expand SPB-BLT']")
    more = page.locator("button.more")
    more.wait_for()
    total = already + 60
    assert f"50 of {total}" in more.inner_text()
    assert page.locator("tr.tree-row[data-level='3']").count() == 50
    more.click()
    page.wait_for_selector("a.code:text-is('BLT-BULK59')")
    assert page.locator("tr.tree-row[data-level='3']").count() == total and page.locator("button.more").count() == 0
    screenshot(page, "finance-tree-paged")
    page.click("button[aria-label='Expand SPB']")  # collapsing SPB takes its grandchildren too
    assert page.locator("tr.tree-row").count() == 4


def test_finance_approves_a_change_and_the_root_rollup_moves(log_in, screenshot, live_server):
    spb = live_server.id_of("SPB")
    # The project manager of SPB asks for more budget there.
    pm = log_in("pm@crmpm.local")
    pm.goto(live_server.url(f"/finance/nodes/{spb}"))
    if pm.locator("details.request-form[open]").count() == 0:
        pm.click("summary:has-text('Request a budget change')")
    pm.fill("input[name=amount]", "1 000 000")
    pm.fill("textarea[name=reason]", "Second dock crane")
    pm.click("form.row-form button[type=submit]")
    pm.wait_for_selector(".flash-info")
    assert "waits for a decision" in pm.locator(".flash-info").inner_text()
    # The requester cannot decide on it.
    assert pm.locator("tr[data-change] button:has-text('Approve')").count() == 0

    finance = log_in("finance@crmpm.local")
    finance.goto(live_server.url("/finance/"))
    distributed_before = _root_figure(finance, 2)
    undistributed_before = _root_figure(finance, 3)
    finance.click("nav.menu >> text=Budget changes")
    row = finance.locator("tr[data-change]", has_text="Second dock crane")
    assert row.count() == 1
    # Finance's own request on KRD (four-eyes rule): listed, but no buttons.
    own = finance.locator("tr[data-change]", has_text="Second irrigation phase")
    assert own.count() == 1 and own.locator("button").count() == 0
    screenshot(finance, "finance-changes")
    row.locator("button:has-text('Approve')").click()
    finance.wait_for_selector(".flash-info")
    assert "approved" in finance.locator(".flash-info").inner_text()

    finance.goto(live_server.url("/finance/"))
    assert distributed_before == "25,000,000.00" and _root_figure(finance, 2) == "26,000,000.00"
    assert undistributed_before == "5,000,000.00" and _root_figure(finance, 3) == "4,000,000.00"

    finance.goto(live_server.url(f"/finance/nodes/{spb}"))
    assert finance.locator("[data-figure=current]").inner_text().replace("\u00a0", " ").endswith("16,000,000.00")
    assert finance.locator("#plan svg rect.bar-plan").count() == 12
    screenshot(finance, "finance-node-spb")

    # Finance moves money between months of the plan.
    finance.click("summary:has-text('Edit the plan')")
    finance.fill("input[name=m1]", "1 300 000")
    finance.fill("input[name=m12]", "")
    finance.click("form[action$='/plan'] button[type=submit]")
    finance.wait_for_selector(".flash-info")
    plan = finance.locator("#plan table").inner_text()
    assert "January 2026\t1,300,000.00" in plan and "December 2026" not in plan
    assert finance.locator("#plan svg rect.bar-plan").count() == 11
    screenshot(finance, "finance-plan-edit")


def test_a_user_without_rights_gets_no_page_and_no_data(log_in, screenshot, live_server):
    internal = live_server.id_of("INT")
    project = live_server.id_of("INT-AI")
    page = log_in("am@crmpm.local")
    for path in (f"/finance/nodes/{internal}", f"/finance/projects/{project}", f"/finance/nodes/{internal}/rows",
                 f"/admin/nodes/{internal}/access", f"/finance/nodes/{internal}/plan.xlsx"):
        response = page.goto(live_server.url(path))
        assert response.status == 404, path
        html = page.content()
        assert "Internal" not in html and "INT-AI" not in html and "forecasting" not in html
        assert "Page not found" in page.locator("h1").inner_text()
    screenshot(page, "not-found")
    page.goto(live_server.url("/finance/"))
    page.click("button[aria-label='Expand ENT']")
    page.wait_for_selector("a.code:text-is('KRD')")
    assert "INT" not in page.locator("table.tree").inner_text().split()
    # A read-only page has no controls: am@ only reads ENT.
    page.goto(live_server.url(f"/finance/nodes/{live_server.id_of('ENT')}"))
    assert page.locator("form[action*='/changes']").count() == 0
    assert page.locator("button:has-text('Approve')").count() == 0


def test_a_post_without_the_csrf_token_is_refused(log_in, live_server):
    page = log_in("pm@crmpm.local")
    spb = live_server.id_of("SPB")
    status = page.evaluate("""async (url) => {
        const body = new URLSearchParams({amount: "5", reason: "no token"});
        const response = await fetch(url, {method: "POST", body, credentials: "same-origin"});
        return response.status;
    }""", live_server.url(f"/finance/nodes/{spb}/changes"))
    assert status == 400
    # The page's own helper sends the token, and the same request goes through.
    status = page.evaluate("""async (url) => {
        const body = new URLSearchParams({amount: "5", reason: "with token"});
        const response = await window.crmpm.request(url, {method: "POST", body});
        return response.status;
    }""", live_server.url(f"/finance/nodes/{spb}/changes"))
    assert status == 200
    page.goto(live_server.url(f"/finance/nodes/{spb}"))
    log = page.locator("#changes").inner_text()
    assert "with token" in log and "no token" not in log


def test_language_switch_shows_russian(log_in, screenshot, live_server):
    page = log_in("finance@crmpm.local")
    page.click(".locale-switch button[value=ru]")
    page.wait_for_selector("html[lang=ru]")
    assert "Выйти" in page.locator("header").inner_text()
    assert "Здравствуйте" in page.locator("h1").inner_text()
    screenshot(page, "home-ru")
    page.goto(live_server.url("/finance/"))
    assert "Дерево бюджетов" in page.locator("h1").inner_text()
    current = _root_figure(page, 1).replace("\u00a0", " ").replace("\u202f", " ")
    assert current == "30 000 000,00"
    page.goto(live_server.url(f"/finance/nodes/{live_server.id_of('SPB')}"))
    assert "₽" in page.locator("[data-figure=current]").inner_text()
    assert "янв." in page.locator("#plan svg").inner_html()
    screenshot(page, "finance-node-spb-ru")
    # The choice is saved on the profile: a new login comes back in Russian.
    again = log_in("finance@crmpm.local", locale="en-US")
    assert again.locator("html").get_attribute("lang") == "ru"
    again.click(".locale-switch button[value=en]")
    again.wait_for_selector("html[lang=en]")


def test_admin_manages_users_teams_and_grants_and_previews_access(log_in, new_page, screenshot, live_server):
    page = log_in("admin@crmpm.local")
    page.click("nav.menu >> text=Users")
    page.fill("input[name=email]", "newcomer@crmpm.local")
    page.fill("input[name=name]", "Nina Newcomer")
    page.fill("input[name=password]", "newcomer-pass")
    page.click("form[action$='/admin/users'] button[type=submit]")
    page.wait_for_selector(".flash-info")
    assert page.locator("tr[data-user='newcomer@crmpm.local']").count() == 1
    screenshot(page, "admin-users")

    page.click("nav.menu >> text=Teams")
    page.fill("input[name=name]", "Auditors")
    page.click("form[action$='/admin/teams'] button[type=submit]")
    page.wait_for_selector("h1:text-is('Auditors')")
    page.select_option("select[name=user_id]", label="Nina Newcomer <newcomer@crmpm.local>")
    page.click("form[action*='/members'] button[type=submit]")
    page.wait_for_selector("tr[data-member='newcomer@crmpm.local']")
    screenshot(page, "admin-team")

    krd = live_server.id_of("KRD")
    page.goto(live_server.url(f"/admin/nodes/{krd}/access"))
    page.select_option("select[name=principal]", label="Team: Auditors")
    page.select_option("select[name=role]", "viewer")
    page.click("form[action$='/access'] button[type=submit]")
    page.wait_for_selector(".flash-info")
    assert "Auditors" in page.locator("table.list").inner_text()
    screenshot(page, "admin-node-access")

    page.click("nav.menu >> text=Access preview")
    page.wait_for_url(re.compile(r"/admin/preview$"))  # loaded: app.js sends the form when the choice changes
    page.select_option("select[name=user_id]", label="Nina Newcomer <newcomer@crmpm.local>")
    page.wait_for_selector("table[data-preview]")
    assert page.locator("table[data-preview] td.code").all_inner_texts() == ["KRD", "KRD-KBA"]
    page.click(".tabs >> text=Projects")
    page.wait_for_selector("table[data-preview]")
    assert page.locator("table[data-preview] td.code").all_inner_texts() == ["KBA-IRR"]
    screenshot(page, "admin-preview")

    # Deactivated, the newcomer can no longer log in.
    page.click("nav.menu >> text=Users")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr[data-user='newcomer@crmpm.local'] button:has-text('Deactivate')").click()
    page.wait_for_selector("tr.inactive[data-user='newcomer@crmpm.local']")
    newcomer = new_page()
    newcomer.goto(live_server.url("/login"))
    newcomer.fill("input[name=email]", "newcomer@crmpm.local")
    newcomer.fill("input[name=password]", "newcomer-pass")
    newcomer.click("button[type=submit].primary")
    newcomer.wait_for_selector(".flash-error")
    assert newcomer.url.endswith("/login")

"""The EPS page in a real browser: an administrator lays out a branch (each row's forms open in a dialog), expands
it a level at a time, moves a node by dragging it and again with the keyboard (its "Move to" form), walks the
tree by its pages, and creates a blank project from a node, on a desktop and on a phone."""

from __future__ import annotations

import re

import pytest

from tests.web.browser.eps_steps import children, create_node, expand, open_forms, row

expect = pytest.importorskip("playwright.sync_api").expect

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("viewport, prefix", [(None, "BRW"), (PHONE, "PHN")])
def test_lay_out_a_branch_move_nodes_by_drag_and_keyboard_and_create_a_project(log_in, live_server, screenshot,
                                                                              viewport, prefix):
    page = log_in("admin@crmpm.local")
    if viewport:
        page.set_viewport_size(viewport)
    suffix = "-phone" if viewport else ""
    page.goto(live_server.url("/eps/"))
    expect(page.locator("h1")).to_have_text("Enterprise project structure")

    create_node(page, None, prefix, "Браузерная ветка")
    create_node(page, prefix, f"{prefix}-1", "Первый узел")
    create_node(page, prefix, f"{prefix}-2", "Второй узел")
    branch, first, second = (live_server.id_of(code) for code in (prefix, f"{prefix}-1", f"{prefix}-2"))
    expect(children(page, branch)).to_have_count(0)  # the tree opens at its roots
    expand(page, branch)
    expect(children(page, branch)).to_have_count(2)
    screenshot(page, f"eps-branch{suffix}")

    # Drag the second node onto the first: it moves under it, and stays there after the page reloads.
    row(page, f"n{second}").drag_to(row(page, f"n{first}"))
    expect(page.locator(".flash-info")).to_contain_text(f"EPS node {prefix}-2 moved under {prefix}-1.")
    expand(page, branch)
    expect(children(page, branch)).to_have_count(1)
    expand(page, first)
    expect(children(page, first)).to_have_count(1)
    screenshot(page, f"eps-after-drag{suffix}")

    # The keyboard: "Change…" on the node opens its forms; type where to, Enter.
    link = row(page, f"n{second}").get_by_role("link", name=f"Change {prefix}-2…")
    link.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#eps-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name=code]").first).to_be_focused()
    screenshot(page, f"eps-dialog{suffix}")
    dialog.locator("input[name=parent_code]").fill(prefix)
    dialog.locator("input[name=parent_code]").press("Enter")
    expect(page.locator(".flash-info")).to_contain_text(f"EPS node {prefix}-2 moved under {prefix}.")
    expand(page, branch)
    expect(children(page, branch)).to_have_count(2)
    expect(row(page, f"n{first}").locator("button.toggle")).to_have_count(0)  # nothing under the first now

    # Escape closes the dialog and gives the focus back to the link.
    link = row(page, f"n{first}").get_by_role("link", name=f"Change {prefix}-1…")
    link.click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(link).to_be_focused()

    # Moving the branch under its own child is refused with the API's reason, and nothing moves.
    move = open_forms(page, prefix).locator("input[name=parent_code]")
    move.fill(f"{prefix}-1")
    move.press("Enter")
    expect(page.locator(".flash-error")).to_contain_text("descendant")
    expand(page, branch)
    expect(children(page, branch)).to_have_count(2)
    screenshot(page, f"eps-refused{suffix}")

    # The branch's own page (what a browser without scripts walks): its path, its forms, its children.
    row(page, f"n{branch}").get_by_role("link", name=prefix, exact=True).click()
    page.wait_for_url(re.compile(rf"/eps/nodes/{branch}$"))
    expect(page.locator("#forms form[action='/eps/nodes']")).to_be_visible()
    expect(children(page, branch)).to_have_count(2)
    screenshot(page, f"eps-node-page{suffix}")

    # A blank project from the first node: the code is suggested from the name.
    open_forms(page, f"{prefix}-1").get_by_role("link", name="New project").click()
    page.wait_for_url(re.compile(r"/projects/new\?node=\d+"))
    expect(page.locator("#new-node")).to_have_value(str(first))
    page.locator("#new-name").fill("Ладога Порт" if not viewport else "Ладога Порт Склад")
    expected = "LADOGA-PORT" if not viewport else "LADOGA-PORT-SKLAD"
    expect(page.locator("#new-code")).to_have_value(re.compile(rf"^{expected}(-\d+)?$"))
    page.locator("#new-start").fill("2026-03-02")
    screenshot(page, f"new-project{suffix}")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(re.compile(r"/projects/\d+$"))
    expect(page.locator("h1 .code")).to_have_text(re.compile(rf"^{expected}(-\d+)?$"))
    screenshot(page, f"new-project-created{suffix}")

    # Its settings, and back on the tree it sits under the first node.
    page.get_by_role("link", name="Settings").first.click()
    page.locator("select[name=progress_mode]").select_option("progress_override")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash-info")).to_contain_text("were saved")
    expect(page.locator("select[name=progress_mode]")).to_have_value("progress_override")
    screenshot(page, f"project-settings{suffix}")
    page.goto(live_server.url("/eps/"))
    expand(page, branch)
    expand(page, first)
    expect(children(page, first)).to_have_count(1)


def test_a_long_level_comes_in_pages_and_its_rows_open_their_forms(log_in, live_server, screenshot):
    from crmpm.database import db
    from crmpm.users import services as users
    from eps import services

    with live_server.app.app_context(), db.transaction() as session:
        admin = users.get_by_email(session, email="admin@crmpm.local")
        paged = services.create_node(session, actor=admin, code="PAGED", name="Many children", parent=None)
        for n in range(55):
            services.create_node(session, actor=admin, code=f"PAGED-{n:02d}", name=f"Child {n}", parent=paged)
    paged = live_server.id_of("PAGED")
    page = log_in("admin@crmpm.local")
    page.goto(live_server.url("/eps/"))
    expand(page, paged)
    more = page.locator(f'tr.more-row[data-parent="{paged}"] a.more')
    expect(more).to_contain_text("50 of 55")
    expect(children(page, paged)).to_have_count(50)
    more.click()
    expect(children(page, paged)).to_have_count(55)
    expect(page.locator("tr.more-row")).to_have_count(0)
    expect(page).to_have_url(live_server.url("/eps/"))  # fetched in place, not followed
    # A row fetched with "Show more" opens its forms like the others.
    dialog = open_forms(page, "PAGED-54")
    expect(dialog.locator("input[name=code]").first).to_have_value("PAGED-54")
    screenshot(page, "eps-paged")

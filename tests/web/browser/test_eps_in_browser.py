"""The EPS page in a real browser: an administrator lays out a branch, moves a node by dragging it and again
with the keyboard ("Move to…"), and creates a blank project from a node, on a desktop and on a phone."""

from __future__ import annotations

import re

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

PHONE = {"width": 390, "height": 844}


def _row(page, item: str):
    return page.locator(f'.eps-row[data-item="{item}"]')


def _children_of(page, node_id: int):
    """The rows directly inside node ``node_id``'s list."""
    return page.locator(f'li.eps-node:has(> .eps-row[data-item="n{node_id}"]) > ul > li > .eps-row')


def _create_node(page, parent_code: str | None, code: str, name: str):
    if parent_code is None:
        form = page.locator("section.card", has_text="New root node").locator("form")
    else:
        details = page.locator("details.eps-edit", has=page.locator("summary", has_text=f"Edit {parent_code}")).first
        details.locator("summary").click()
        form = details.locator('form[action="/eps/nodes"]')
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=name]").fill(name)
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash-info")).to_contain_text(f"EPS node {code} created.")


@pytest.mark.parametrize("viewport, prefix", [(None, "BRW"), (PHONE, "PHN")])
def test_lay_out_a_branch_move_nodes_by_drag_and_keyboard_and_create_a_project(log_in, live_server, screenshot,
                                                                              viewport, prefix):
    page = log_in("admin@crmpm.local")
    if viewport:
        page.set_viewport_size(viewport)
    suffix = "-phone" if viewport else ""
    page.goto(live_server.url("/eps/"))
    expect(page.locator("h1")).to_have_text("Enterprise project structure")

    _create_node(page, None, prefix, "Браузерная ветка")
    _create_node(page, prefix, f"{prefix}-1", "Первый узел")
    _create_node(page, prefix, f"{prefix}-2", "Второй узел")
    branch, first, second = (live_server.id_of(code) for code in (prefix, f"{prefix}-1", f"{prefix}-2"))
    expect(_children_of(page, branch)).to_have_count(2)
    screenshot(page, f"eps-branch{suffix}")

    # Drag the second node onto the first: it moves under it, and stays there after the page reloads.
    _row(page, f"n{second}").drag_to(_row(page, f"n{first}"))
    expect(page.locator(".flash-info")).to_contain_text(f"EPS node {prefix}-2 moved under {prefix}-1.")
    expect(_children_of(page, first)).to_have_count(1)
    expect(_children_of(page, branch)).to_have_count(1)
    screenshot(page, f"eps-after-drag{suffix}")

    # The keyboard: "Move to…" on the node, choose where, Enter.
    link = _row(page, f"n{second}").get_by_role("link", name="Move to…")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/eps/\?move=n\d+#move"))
    expect(page.locator("#move-item")).to_have_value(f"n{second}")
    page.locator("#move-parent").focus()
    page.locator("#move-parent").select_option(str(branch))
    page.locator("#move-parent").press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".flash-info")).to_contain_text(f"EPS node {prefix}-2 moved under {prefix}.")
    expect(_children_of(page, branch)).to_have_count(2)
    expect(_children_of(page, first)).to_have_count(0)

    # Moving the branch under its own child is refused with the API's reason, and nothing moves.
    page.goto(live_server.url(f"/eps/?move=n{branch}"))
    page.locator("#move-parent").select_option(str(first))
    page.locator("#move").get_by_role("button", name="Move").click()
    expect(page.locator(".flash-error")).to_contain_text("descendant")
    expect(_children_of(page, branch)).to_have_count(2)
    screenshot(page, f"eps-refused{suffix}")

    # A blank project from the first node: the code is suggested from the name.
    _row(page, f"n{first}").get_by_role("link", name="New project").click()
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
    expect(_children_of(page, first)).to_have_count(1)

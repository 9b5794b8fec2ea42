"""Steps on the EPS page shared by the browser tests: the tree is a table expanded a level at a time, and a
row's forms open in a dialog ("Change CODE…")."""

from __future__ import annotations

import pytest

expect = pytest.importorskip("playwright.sync_api").expect


def row(page, item: str):
    """The tree's row of ``item`` (``n12`` a node, ``p34`` a project)."""
    return page.locator(f'tr.tree-row[data-item="{item}"]')


def children(page, node_id: int):
    """The rows shown directly under node ``node_id`` (expanded, or on its own page)."""
    return page.locator(f'tr.tree-row[data-parent="{node_id}"]')


def expand(page, node_id: int) -> None:
    toggle = row(page, f"n{node_id}").locator("button.toggle")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")


def open_forms(page, code: str):
    """The dialog with the forms of the row whose code is ``code``."""
    page.get_by_role("link", name=f"Change {code}…", exact=True).click()
    dialog = page.locator("#eps-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text(f"Change {code}")
    return dialog


def create_node(page, parent_code: str | None, code: str, name: str) -> None:
    """A root (from the tree page's form) or a node under ``parent_code`` (from that row's dialog)."""
    if parent_code is None:
        form = page.locator("section.card", has_text="New root node").locator("form")
    else:
        form = open_forms(page, parent_code).locator('form[action="/eps/nodes"]')
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=name]").fill(name)
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash-info")).to_contain_text(f"EPS node {code} created.")

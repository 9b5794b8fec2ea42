"""The finance workbooks hold what the screen shows: a dash where the tree shows one, times on the screen's clock."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

ROW = re.compile(r'<tr class="tree-row row-(\w+)".*?class="code">([^<]+)</a>(.*?)</tr>', re.S)
CELL = re.compile(r'<td class="num[^"]*">([^<]*)</td>')


def _screen_rows(html: str) -> dict[str, list[str]]:
    """Code -> the six figures of its tree row as the screen writes them."""
    return {code: [cell.strip() for cell in CELL.findall(body)] for _kind, code, body in ROW.findall(html)}


def _as_screen(value) -> str:
    """A workbook cell written the way the (English) screen writes an amount, independently of the app's code."""
    if isinstance(value, str):
        return value
    return f"{Decimal(str(value)):,.2f}"


def test_the_tree_workbook_shows_what_the_screen_shows(pages, admin, world):
    pages.log_in_as(admin)
    opened = [world["root"], world["A"], world["A1"], world["B"]]
    screen = _screen_rows(pages.get("/finance/").get_data(as_text=True))
    for node in opened:
        level = len([n for n in opened if n.path != node.path and node.path.startswith(n.path)]) + 1
        screen.update(_screen_rows(pages.get(f"/finance/nodes/{node.id}/rows?level={level}").get_data(as_text=True)))
    assert {"ROOT", "A", "A1", "B", "PA", "PB"} <= set(screen)
    assert screen["PA"][1:3] == ["—", "—"]  # a project hands no budget down

    response = pages.get("/finance/tree.xlsx", query_string={"open": ",".join(str(n.id) for n in opened)})
    sheet = load_workbook(BytesIO(response.data)).active
    book = {row[0]: [_as_screen(value) for value in row[3:12]]
            for row in sheet.iter_rows(min_row=2, values_only=True)}
    for code, figures in screen.items():
        assert book[code] == figures, code


def test_the_changes_workbook_writes_times_on_the_screens_clock(app, pages, session, admin, world):
    change = world["change"]
    # Late evening in UTC is already the next day in Moscow, the pages' default zone.
    change.requested_at = datetime(2026, 3, 31, 22, 30, tzinfo=timezone.utc)
    session.commit()
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    local = change.requested_at.astimezone(zone)
    assert local.date() == date(2026, 4, 1)
    pages.log_in_as(admin)
    assert "Apr 1, 2026" in pages.get("/finance/changes?status=pending").get_data(as_text=True)
    sheet = load_workbook(BytesIO(pages.get("/finance/changes.xlsx?status=pending").data)).active
    written = next(row[2] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] == "PA")
    assert written == local.replace(tzinfo=None)

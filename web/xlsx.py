"""Excel exports of what a page shows: numbers stay numbers, money gets a number format."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

from flask import Response
from flask_babel import to_user_timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from crmpm.downloads import send_download

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"


def _cell_value(value):
    if isinstance(value, Decimal):
        # A float holds cents exactly up to about 10¹³; larger amounts are kept as exact text.
        return float(value) if abs(value) < Decimal("1e13") else str(value)
    if isinstance(value, datetime):
        # Excel has no zones: the time is written on the clock the pages show it on (the user's zone).
        return to_user_timezone(value).replace(tzinfo=None) if value.tzinfo else value
    return value


def workbook(title: str, headings: Sequence[str], rows: Iterable[Sequence], *,
             money_columns: Iterable[int] = (), indent_column: int | None = None,
             levels: Sequence[int] | None = None) -> bytes:
    """One sheet with a bold heading row; ``money_columns`` (0-based) get the money format."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([str(heading) for heading in headings])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    money = set(money_columns)
    widths = [len(str(heading)) for heading in headings]
    for index, row in enumerate(rows):
        sheet.append([_cell_value(value) for value in row])
        excel_row = sheet.max_row
        for column, value in enumerate(row):
            cell = sheet.cell(row=excel_row, column=column + 1)
            if cell.data_type == "f":
                # Typed text that looks like a formula (a reason "=HYPERLINK(…)") stays text, never runs.
                cell.data_type = "s"
            if column in money:
                cell.number_format = MONEY_FORMAT
            elif isinstance(value, (date, datetime)):
                cell.number_format = "yyyy-mm-dd" if not isinstance(value, datetime) else "yyyy-mm-dd hh:mm"
            if indent_column == column and levels is not None:
                cell.alignment = Alignment(indent=levels[index])
            widths[column] = max(widths[column], min(len(str(value)) + 2, 60))
    for column, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(column + 1)].width = max(width, 10)
    sheet.freeze_panes = "A2"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def download(content: bytes, filename: str) -> Response:
    """An attachment response for an XLSX file, kept by no cache."""
    response = send_download(content, filename=filename, mimetype=XLSX_TYPE)
    response.cache_control.no_store = True
    return response

"""Open an import file whatever it is: a CSV export, or an Excel ``.xlsx`` workbook read directly.

``open_table`` tells the two apart by their content (a workbook is a zip archive), never by the
file's name: the edges keep uploads under a name of their own. An old binary ``.xls`` workbook
is refused with the way out (no well-kept library that reads it is installed with crmpm).

A workbook is read with openpyxl in read-only mode, one row at a time, so memory stays bounded
whatever the sheet's length: the first sheet, or the one named (``sheet``). Its rows come as the
CSV reader's ``CsvRow`` (``line`` is the sheet's row number), each cell a ``TypedCell`` when Excel
typed it: a number is a ``Decimal`` read through ``str`` (0.1 stays 0.1, never 0.1000000000000000055),
a date cell a ``date`` (a ``datetime`` when it shows a time), a boolean a ``bool``; the cell's text is
what a CSV export would hold (``12345`` for the number 12345.0, ``2024-05-01`` for a date), so text
fields (an external id, an INN, a phone) read numbers as their digits. Blank rows after the last
filled one (Excel's formatted but empty rows) are not rows.

Before openpyxl reads anything, the archive's table of contents is checked: not a workbook, or one
that would unpack to more than ``MAX_UNPACKED_BYTES`` (or compresses more than
``MAX_COMPRESSION_RATIO`` to one, a zip bomb's mark, or whose text cells, which openpyxl holds in
memory, unpack to more than ``MAX_SHARED_STRINGS_BYTES``) is a ``CsvFormatError`` (422 at the edges), as
is a sheet wider than ``MAX_COLUMNS`` and any file openpyxl cannot read.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from accounts.csvio.errors import CsvFormatError
from accounts.csvio.parsing import TypedCell
from accounts.csvio.reader import CsvRow, CsvTable, open_csv

__all__ = ["MAX_COLUMNS", "MAX_COMPRESSION_RATIO", "MAX_SHARED_STRINGS_BYTES", "MAX_UNPACKED_BYTES", "XLSX", "open_table", "open_xlsx",
           "sniff_format"]

XLSX = "xlsx"
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the binary Office formats: .xls, .doc
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
# The sheet streams, but openpyxl holds the workbook's shared strings (its text cells) in memory whole.
MAX_SHARED_STRINGS_BYTES = 200 * 1024 * 1024
MAX_COLUMNS = 1000
SAVE_AS = 'open it in Excel or LibreOffice and save it as "Excel Workbook (.xlsx)" or "CSV UTF-8"'


def sniff_format(path: str | Path) -> str:
    """``"xlsx"``, ``"xls"`` or ``"csv"``, from the file's first bytes."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise CsvFormatError(f"cannot open {Path(path).name}: {exc.strerror}") from None
    if head.startswith(ZIP_MAGIC):
        return XLSX
    if head == OLE2_MAGIC:
        return "xls"
    return "csv"


def open_table(path: str | Path, *, encoding: str | None = None, delimiter: str | None = None,
               sheet: str | None = None) -> CsvTable:
    """Open a CSV file (``encoding`` and ``delimiter`` as ``open_csv``) or an .xlsx workbook (``sheet``)."""
    found = sniff_format(path)
    if found == XLSX:
        return open_xlsx(path, sheet=sheet)
    if found == "xls":
        raise CsvFormatError(f"this is an old Excel .xls workbook, which crmpm does not read: {SAVE_AS}")
    return open_csv(path, encoding=encoding, delimiter=delimiter)


def _check_archive(path: Path) -> None:
    """Refuse what is not a workbook, or what would unpack to too much, before openpyxl opens it."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CsvFormatError(f"the file looks like an .xlsx workbook but is damaged ({exc}): {SAVE_AS}") from None
    names = {entry.filename for entry in entries}
    if "xl/workbook.xml" not in names:
        raise CsvFormatError(f"the file is a zip archive but not an .xlsx workbook: {SAVE_AS}")
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNPACKED_BYTES:
        raise CsvFormatError(f"the workbook unpacks to {unpacked // (1024 * 1024)} MB, over the "
                             f"{MAX_UNPACKED_BYTES // (1024 * 1024)} MB crmpm reads: split it, or save it as CSV")
    for entry in entries:
        if entry.filename == "xl/sharedStrings.xml" and entry.file_size > MAX_SHARED_STRINGS_BYTES:
            raise CsvFormatError(f"the workbook's text cells unpack to {entry.file_size // (1024 * 1024)} MB, over "
                                 f"the {MAX_SHARED_STRINGS_BYTES // (1024 * 1024)} MB crmpm holds: split it, or save "
                                 f"it as CSV")
        if entry.file_size > 1024 * 1024 and entry.file_size > MAX_COMPRESSION_RATIO * max(entry.compress_size, 1):
            raise CsvFormatError(f"the workbook's part {entry.filename} unpacks to {entry.file_size} bytes from "
                                 f"{entry.compress_size}: that is no spreadsheet export crmpm reads")


def _number(value: int | float, number_format: str) -> TypedCell:
    try:
        decimal = Decimal(str(value))  # str, not Decimal(float): 0.1 is 0.1
    except InvalidOperation:
        return TypedCell(str(value), None)
    if not decimal.is_finite():
        return TypedCell(str(value), None)
    percent = "%" in (number_format or "")
    if percent:
        decimal = decimal * 100
    if decimal == decimal.to_integral_value():
        decimal = decimal.quantize(Decimal(1))
        text = str(int(decimal))
    else:
        text = format(decimal.normalize(), "f")
    return TypedCell(text, decimal, percent=percent)


def _shows_time(number_format: str) -> bool:
    fmt = (number_format or "").lower()
    return "h" in fmt or "s" in fmt


def _cell(value: object, number_format: str) -> str:
    """A cell's value as the text a CSV export holds, typed when Excel typed it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return TypedCell("true" if value else "false", value)
    if isinstance(value, (int, float)):
        return _number(value, number_format)
    if isinstance(value, datetime):
        if value.time() == time(0) and not _shows_time(number_format):
            return TypedCell(value.date().isoformat(), value.date())
        return TypedCell(value.isoformat(sep=" "), value)
    if isinstance(value, date):
        return TypedCell(value.isoformat(), value)
    if isinstance(value, time):
        return value.isoformat()
    return str(value)


def _workbook_error(exc: Exception) -> CsvFormatError:
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return CsvFormatError(f"the .xlsx workbook cannot be read ({detail}): {SAVE_AS}")


def open_xlsx(path: str | Path, *, sheet: str | None = None) -> CsvTable:
    """Open the first sheet of an .xlsx workbook (or ``sheet``) as a table: the first non-blank row is the header."""
    import openpyxl  # only workbooks need it

    path = Path(path)
    _check_archive(path)
    # A file object, not the path: openpyxl refuses a path whose name does not end in .xlsx, and uploads are
    # kept under a name of the edges' choosing.
    handle = open(path, "rb")  # noqa: SIM115 - closed by the table, or below on failure
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises whatever its XML and zip layers raise on a damaged file
        handle.close()
        raise _workbook_error(exc) from None
    workbook = _Opened(workbook, handle)
    try:
        sheets = workbook.book.worksheets
        if not sheets:
            raise CsvFormatError(f"{path.name} has no sheet")
        if sheet is None:
            worksheet = sheets[0]
        else:
            named = [ws for ws in sheets if ws.title == sheet] or \
                    [ws for ws in sheets if ws.title.strip().casefold() == sheet.strip().casefold()]
            if not named:
                titles = ", ".join(repr(ws.title) for ws in sheets)
                raise CsvFormatError(f"the workbook has no sheet {sheet!r}; its sheets are {titles}")
            worksheet = named[0]
        rows = _rows(worksheet, min_row=1, width=MAX_COLUMNS + 1)
        header_row = next((row for row in rows if any(value.strip() for value in row.values)), None)
        rows.close()
        if header_row is None:
            raise CsvFormatError(f"the sheet {worksheet.title!r} of {path.name} is empty")
        values = list(header_row.values)
        if len(values) > MAX_COLUMNS:
            raise CsvFormatError(f"the header has more than the {MAX_COLUMNS} columns crmpm reads",
                                 line=header_row.line)
        header = tuple(str(value).strip() for value in values)
        # One cell more than the header: a value beyond its last column is reported, not dropped.
        rows = _rows(worksheet, min_row=header_row.line + 1, width=len(header) + 1)
        data = _data_rows(rows, width=len(header))
    except CsvFormatError:
        workbook.close()
        raise
    except Exception as exc:
        workbook.close()
        raise _workbook_error(exc) from None
    return CsvTable(path=path, encoding=XLSX, delimiter="", header=header, header_line=header_row.line,
                    _rows=data, _file=workbook, sheet=worksheet.title)


class _Opened:
    """A read-only workbook and the file it reads, closed together by the table."""

    def __init__(self, book, handle) -> None:
        self.book, self.handle = book, handle

    def close(self) -> None:
        try:
            self.book.close()
        finally:
            self.handle.close()


def _rows(worksheet, *, min_row: int, width: int) -> Iterator[CsvRow]:
    """The sheet's rows from ``min_row``, blank ones included, ``width`` cells at most, trailing empty ones cut."""
    try:
        cells_by_row = worksheet.iter_rows(min_row=min_row, max_col=width)
        for number, cells in enumerate(cells_by_row, start=min_row):
            values = [_cell(cell.value, getattr(cell, "number_format", "")) for cell in cells]
            while values and values[-1] == "":
                values.pop()
            yield CsvRow(line=number, end_line=number, values=tuple(values))
    except CsvFormatError:
        raise
    except Exception as exc:
        raise _workbook_error(exc) from None


def _data_rows(rows: Iterator[CsvRow], *, width: int) -> Iterator[CsvRow]:
    """The rows after the header, padded to its width; blank rows only when a filled one follows."""
    first_blank, blanks = 0, 0  # a run of blank rows, kept as a range until a filled row shows they are inside
    for row in rows:
        if not any(value.strip() for value in row.values):
            if not blanks:
                first_blank = row.line
            blanks += 1
            continue
        for line in range(first_blank, first_blank + blanks):
            yield CsvRow(line=line, end_line=line, values=("",) * width)
        blanks = 0
        values = row.values + ("",) * (width - len(row.values)) if len(row.values) < width else row.values
        yield CsvRow(line=row.line, end_line=row.line, values=values)

"""Excel .xlsx workbooks read directly: typed cells, a named sheet, blank rows, and damaged or oversized files."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from accounts.csvio import CsvFormatError, TypedCell, import_file, open_table, parse_mapping
from accounts.csvio import workbook as workbook_module

MOSCOW = ZoneInfo("Europe/Moscow")
DEALS = {"columns": {"ID": "external_id", "Название": "title", "Бюджет": "amount", "Валюта": "currency",
                     "Создана": "engaged_at", "Закрыть до": "expected_close", "Этап": "stage"}}


def _deals_workbook(path, *, sheet_title: str = "Сделки", extra_sheet: bool = False) -> None:
    workbook = openpyxl.Workbook()
    if extra_sheet:
        workbook.active.title = "Пояснения"
        workbook.active.append(["Этот лист не сделки"])
        sheet = workbook.create_sheet(sheet_title)
    else:
        sheet = workbook.active
        sheet.title = sheet_title
    sheet.append(["ID", "Название", "Бюджет", "Валюта", "Создана", "Закрыть до", "Этап"])
    # Typed by Excel: numbers (1.125 would read as 1125 were it text "1.125"), dates and date-times.
    sheet.append([101, "Насосы", 1.125, "Российский рубль", datetime(2024, 5, 1, 10, 30), date(2024, 6, 30),
                  "Новая"])
    sheet.append([102.0, "Клапаны", 0.1, "руб.", datetime(2024, 5, 2), datetime(2024, 7, 1), "Новая"])
    sheet.append([])                       # a blank row inside the data is a blank line
    sheet.append(["103", "Фланцы", "1 250 000,50 ₽", None, "05.05.2024 09:00", "2024-08-01", "Новая"])
    for _ in range(20):
        sheet.append([None, None])         # formatted but empty rows after the data are no rows
    workbook.save(path)


def test_typed_cells_are_read_as_what_excel_typed(tmp_path) -> None:
    path = tmp_path / "deals.xlsx"
    _deals_workbook(path)
    batch = import_file(kind="deals", path=path, mapping=parse_mapping(data=DEALS, kind="deals"))
    assert batch.errors == [] and batch.blank_lines == [4]
    rows = [(r.line, r.external_id, r.fields["title"], r.fields["amount"], r.fields["currency"],
             r.fields["engaged_at"], r.fields["expected_close"]) for r in batch.records]
    assert rows == [
        (2, "101", "Насосы", Decimal("1.125"), "RUB", datetime(2024, 5, 1, 10, 30, tzinfo=MOSCOW), date(2024, 6, 30)),
        (3, "102", "Клапаны", Decimal("0.1"), "RUB", datetime(2024, 5, 2, tzinfo=MOSCOW), date(2024, 7, 1)),
        (5, "103", "Фланцы", Decimal("1250000.50"), "RUB", datetime(2024, 5, 5, 9, tzinfo=MOSCOW), date(2024, 8, 1)),
    ]
    assert batch.encoding == "xlsx"


def test_number_cells_become_decimals_through_str_and_ids_their_digits(tmp_path) -> None:
    path = tmp_path / "n.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["a", "b", "c", "d", "e"])
    workbook.active.append([0.1, 12345.0, 7707083893, 0.25, True])
    workbook.active["D2"].number_format = "0%"
    workbook.save(path)
    with open_table(path) as table:
        (row,) = list(table)
    assert [str(value) for value in row.values] == ["0.1", "12345", "7707083893", "25", "true"]
    assert all(isinstance(value, TypedCell) for value in row.values)
    assert [value.value for value in row.values] == [Decimal("0.1"), Decimal("12345"), Decimal("7707083893"),
                                                     Decimal("25"), True]
    assert row.values[3].percent


def test_a_named_sheet_is_read_and_the_first_by_default(tmp_path) -> None:
    path = tmp_path / "two.xlsx"
    _deals_workbook(path, extra_sheet=True)
    with open_table(path) as table:
        assert table.sheet == "Пояснения" and table.header == ("Этот лист не сделки",)
    batch = import_file(kind="deals", path=path, mapping=parse_mapping(data=DEALS, kind="deals"), sheet="Сделки")
    assert [r.external_id for r in batch.records] == ["101", "102", "103"]
    # The mapping may name it too; the sheet= argument wins over it.
    named = parse_mapping(data={**DEALS, "sheet": "Сделки"}, kind="deals")
    assert [r.external_id for r in import_file(kind="deals", path=path, mapping=named).records] == ["101", "102", "103"]
    with pytest.raises(CsvFormatError, match=r"no sheet 'Deals'; its sheets are 'Пояснения', 'Сделки'"):
        import_file(kind="deals", path=path, mapping=named, sheet="Deals")


def test_a_cell_beyond_the_header_is_a_row_error_not_dropped(tmp_path) -> None:
    path = tmp_path / "wide.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["ID", "Название"])
    workbook.active.append([1, "Насосы", "лишнее"])
    workbook.save(path)
    mapping = parse_mapping(data={"columns": {"ID": "external_id", "Название": "title"},
                                  "defaults": {"stage": "new"}}, kind="deals")
    batch = import_file(kind="deals", path=path, mapping=mapping)
    assert batch.records == [] and [(e.line, e.reason) for e in batch.errors] == [
        (2, "the row has 3 fields but the header has 2")]


def test_an_old_xls_workbook_is_refused_with_the_way_out(tmp_path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(CsvFormatError, match=r"old Excel \.xls workbook.*save it as \"Excel Workbook \(\.xlsx\)\""):
        open_table(path)


def test_a_damaged_workbook_is_a_format_error(tmp_path) -> None:
    good = tmp_path / "good.xlsx"
    _deals_workbook(good)
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(CsvFormatError, match="damaged"):
        open_table(truncated)
    other_zip = tmp_path / "other.xlsx"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(CsvFormatError, match="not an .xlsx workbook"):
        open_table(other_zip)
    broken_xml = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken_xml, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, b"<worksheet><sheetData><row" if item.filename.startswith("xl/worksheets/") else data)
    with pytest.raises(CsvFormatError, match="cannot be read"):
        with open_table(broken_xml) as table:
            list(table)


def test_a_workbook_that_unpacks_to_too_much_is_refused_before_it_is_read(tmp_path, monkeypatch) -> None:
    # A sheet of a few MB of one repeated row compresses several hundred times: a zip bomb's mark.
    path = tmp_path / "bomb.xlsx"
    good = tmp_path / "good.xlsx"
    _deals_workbook(good)
    row = '<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                        + row * 200_000 + "</sheetData></worksheet>").encode()
            target.writestr(item.filename, data)
    with pytest.raises(CsvFormatError, match="unpacks to .* that is no spreadsheet export"):
        open_table(path)
    monkeypatch.setattr(workbook_module, "MAX_COMPRESSION_RATIO", 10**6)
    monkeypatch.setattr(workbook_module, "MAX_UNPACKED_BYTES", 1024 * 1024)
    with pytest.raises(CsvFormatError, match="the workbook unpacks to 9 MB, over the 1 MB crmpm reads"):
        open_table(path)


def test_a_workbook_whose_text_cells_would_not_fit_in_memory_is_refused(tmp_path, monkeypatch) -> None:
    # Excel keeps text cells in xl/sharedStrings.xml (openpyxl writes them inline): add such a table, 20 kB.
    good, path = tmp_path / "good.xlsx", tmp_path / "strings.xlsx"
    _deals_workbook(good)
    strings = "".join(f"<si><t>text cell number {number}</t></si>" for number in range(800))
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, source.read(item.filename))
        target.writestr("xl/sharedStrings.xml", f'<sst count="800" uniqueCount="800">{strings}</sst>')
    monkeypatch.setattr(workbook_module, "MAX_SHARED_STRINGS_BYTES", 10_000)
    with pytest.raises(CsvFormatError, match="text cells unpack to .* MB crmpm holds: split it, or save it as CSV"):
        open_table(path)


def test_a_header_wider_than_the_limit_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(workbook_module, "MAX_COLUMNS", 5)
    path = tmp_path / "wide.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append([f"c{i}" for i in range(8)])
    workbook.save(path)
    with pytest.raises(CsvFormatError, match="more than the 5 columns"):
        open_table(path)


def test_an_empty_workbook_is_a_format_error(tmp_path) -> None:
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(CsvFormatError, match="is empty"):
        open_table(path)

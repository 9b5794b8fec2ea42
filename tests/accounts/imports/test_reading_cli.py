"""``crmpm import`` with what the reading layer adds: warnings in text and JSON (Cyrillic readable), ``--sheet``."""

from __future__ import annotations

import io
import json

import openpyxl

from tests.accounts.test_cli_import import _write, cli  # noqa: F401 - fixture

MAPPING = {"columns": {"id": "external_id", "Название": "name", "ИНН": "tax_id"}, "defaults": {"region": "MSK"}}


def _workbook() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Readme"
    sheet = workbook.create_sheet("Компании")
    sheet.append(["id", "Название", "ИНН"])
    sheet.append(["W1", "Башкирская налоговая", 274062111])   # a number cell: Excel dropped the INN's leading zero
    sheet.append(["W2", "Ромашка", "7707083893"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_warnings_in_json_keep_cyrillic_readable_and_sheet_picks_the_sheet(cli):
    mapping = _write(cli.folder, "inn.json", MAPPING)
    book = _write(cli.folder, "companies.xlsx", _workbook())
    result = cli("import", "accounts", book, "--mapping", mapping, "--sheet", "Компании", "--dry-run",
                 "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "\\u" not in result.stdout and "Башкирская" not in result.stdout  # names are not in the report...
    report = json.loads(result.stdout)
    assert (report["created"], report["warnings_total"]) == (2, 1)
    (warning,) = report["warnings"]
    assert (warning["line"], warning["column"], warning["value"]) == (2, "ИНН", "274062111")
    assert '"column": "ИНН"' in result.stdout   # ...but the column is, as written

    text = cli("import", "accounts", book, "--mapping", mapping, "--sheet", "Компании", "--dry-run")
    assert text.returncode == 0, text.stderr
    assert "1 warnings" in text.stdout
    assert "warning: line 2, column 'ИНН': '274062111' read as INN 0274062111" in text.stdout

    wrong = cli("import", "accounts", book, "--mapping", mapping, "--sheet", "Sheet9", "--dry-run")
    assert wrong.returncode == 2 and "no sheet 'Sheet9'; its sheets are 'Readme', 'Компании'" in wrong.stderr

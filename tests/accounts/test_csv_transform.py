"""Transforming CSV rows into typed records and row errors."""

import ast
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.csvio.errors import CsvImportError, MappingError
from accounts.csvio.mapping import load_mapping, parse_mapping
from accounts.csvio.parsing import Phone
from accounts.csvio.reader import CsvRow, open_csv
from accounts.csvio.transform import BlankRow, ImportBatch, Record, RowError, import_file, iter_transform, transform

MOSCOW = ZoneInfo("Europe/Moscow")

DEALS_RU = """\
Номер;Сделка;Клиент;Ответственный;Этап;Сумма;Валюта;Начало;Закрыта;План закрытия;Продукт
D-1;Поставка серверов;ООО «Ромашка»;ivanov@firm.ru;Выиграна;1 200 000,00 руб.;RUB;15.04.2021 10:30;20.05.2021 18:00;20.05.2021;Серверы
D-2;Внедрение CRM;АО Весна;Петров  Пётр;Переговоры;"22 700,50";;05/04/2021;;01.06.2021;
D-3;Аудит;ООО «Ромашка»;Петров Пётр;Отложена;100;RUB;15.04.2021;;;
D-4;Лицензии;АО Весна;Петров Пётр;Новая;$5 000;RUB;15.04.2021;;;
D-5;Возврат;АО Весна;Петров Пётр;Новая;-5 000;RUB;04/15/2021;;;
;;;;;;;;;;
D-1;Дубль;АО Весна;Петров Пётр;Новая;1;RUB;15.04.2021;;;
D-7;;АО Весна;Петров Пётр;Новая;1;RUB;15.04.2021;;;
D-8;Короткая;строка
D-9;Лишнее;АО Весна;Петров Пётр;Новая;1;RUB;15.04.2021;;;;
"""


@pytest.fixture
def deals_batch(tmp_path: Path, test_mapping_dir: Path) -> ImportBatch:
    path = tmp_path / "deals.csv"
    path.write_bytes(DEALS_RU.encode("cp1251"))
    return import_file(kind="deals", path=path, mapping=test_mapping_dir / "deals_ru.json", tz="Europe/Moscow")


def _errors_by_line(batch: ImportBatch) -> dict[int, list[RowError]]:
    grouped: dict[int, list[RowError]] = {}
    for error in batch.errors:
        grouped.setdefault(error.line, []).append(error)
    return grouped


def test_clean_rows_become_typed_records(deals_batch: ImportBatch) -> None:
    first, second, repeat, trailing = deals_batch.records
    assert first == Record(
        line=2,
        external_id="D-1",
        fields={
            "title": "Поставка серверов",
            "account": "ООО «Ромашка»",
            "owner": "ivanov@firm.ru",
            "stage": "won",
            "amount": Decimal("1200000.00"),
            "currency": "RUB",
            "engaged_at": datetime(2021, 4, 15, 10, 30, tzinfo=MOSCOW),
            "closed_at": datetime(2021, 5, 20, 18, 0, tzinfo=MOSCOW),
            "expected_close": date(2021, 5, 20),
            "product": "Серверы",
        },
    )
    # Empty cells are None, names are whitespace-collapsed, 05/04 is day-first (DMY).
    assert second.fields["owner"] == "Петров Пётр"
    assert second.fields["amount"] == Decimal("22700.50")
    assert second.fields["currency"] is None
    assert second.fields["engaged_at"] == datetime(2021, 4, 5, tzinfo=MOSCOW)
    assert second.fields["closed_at"] is None
    assert second.fields["product"] is None
    # A second row with D-1's external id is a record here: the import judges repeats (same record or not).
    assert (repeat.line, repeat.external_id, repeat.fields["title"]) == (8, "D-1", "Дубль")
    # A trailing delimiter (an empty extra cell) loses nothing, so the row is fine.
    assert trailing.line == 11


def test_bad_rows_are_reported_with_line_column_field_value_reason(deals_batch: ImportBatch) -> None:
    errors = _errors_by_line(deals_batch)
    assert sorted(errors) == [4, 5, 6, 9, 10]
    assert errors[4] == [
        RowError(
            line=4,
            column="Этап",
            field="stage",
            value="Отложена",
            reason="not listed in the mapping's values for 'stage'",
        )
    ]
    assert errors[5] == [
        RowError(
            line=5, column="Сумма", field="amount", value="$5 000", reason="amount is in USD but the currency is RUB"
        )
    ]
    reasons = {(e.column, e.reason) for e in errors[6]}
    assert ("Сумма", "amount cannot be negative") in reasons
    assert ("Начало", "'04/15/2021' is month-first but the mapping's date_order is DMY") in reasons
    assert errors[9] == [RowError(line=9, column="Сделка", field="title", value="", reason="title is required")]
    assert errors[10] == [
        RowError(line=10, column=None, field=None, value=None, reason="the row has 3 fields but the header has 11")
    ]
    assert str(errors[5][0]) == "line 5, column 'Сумма': '$5 000' amount is in USD but the currency is RUB"


def test_every_row_is_a_record_an_error_or_blank(deals_batch: ImportBatch) -> None:
    assert deals_batch.blank_lines == [7]
    assert {r.line for r in deals_batch.records}.isdisjoint(deals_batch.error_lines)
    assert deals_batch.rows_seen == 10  # data lines 2..11


def test_currency_in_the_amount_fills_an_unmapped_currency() -> None:
    mapping = parse_mapping(data={"columns": {"T": "title", "S": "stage", "A": "amount"}}, kind="deals")
    rows = [
        CsvRow(line=2, end_line=2, values=("x", "won", "$22,700.00")),
        CsvRow(line=3, end_line=3, values=("y", "won", "100")),
    ]
    batch = transform(kind="deals", rows=rows, mapping=mapping, header=("T", "S", "A"))
    assert [r.fields.get("currency") for r in batch.records] == ["USD", None]


def test_default_currency_conflicting_with_the_value_is_an_error() -> None:
    mapping = parse_mapping(
        data={"columns": {"T": "title", "S": "stage", "A": "amount"}, "defaults": {"currency": "RUB"}}, kind="deals"
    )
    rows = [
        CsvRow(line=2, end_line=2, values=("x", "won", "€5")),
        CsvRow(line=3, end_line=3, values=("y", "won", "5 ₽")),
    ]
    batch = transform(kind="deals", rows=rows, mapping=mapping, header=("T", "S", "A"))
    assert [e.reason for e in batch.errors] == ["amount is in EUR but the currency is RUB"]
    assert batch.records[0].fields["currency"] == "RUB"


def test_values_tables_match_case_insensitively_with_fallback_and_null() -> None:
    mapping = parse_mapping(
        data={
            "columns": {"When": "occurred_at", "Type": "direction", "Deal": "deal", "Via": "kind"},
            "values": {
                "direction": {"In": "inbound", "Out": "outbound"},
                "deal": {"0": None, "*": "*"},
                "kind": {"Phone": "call", "*": "email"},
            },
        },
        kind="interactions",
    )
    header = ("When", "Type", "Deal", "Via")
    rows = [
        CsvRow(line=2, end_line=2, values=("2021-04-15 10:00", "in", "0", "Phone")),
        CsvRow(line=3, end_line=3, values=("2021-04-15 10:00", "OUT", "D-7", "Gmail")),
        CsvRow(line=4, end_line=4, values=("2021-04-15 10:00", "sideways", "", "")),
    ]
    batch = transform(kind="interactions", rows=rows, mapping=mapping, header=header)
    assert [(r.fields["direction"], r.fields["deal"], r.fields["kind"]) for r in batch.records] == [
        ("inbound", None, "call"),
        ("outbound", "D-7", "email"),
    ]
    assert {(e.field, e.reason) for e in batch.errors} == {
        ("direction", "not listed in the mapping's values for 'direction'"),
        ("kind", "kind is required"),
    }


def test_choice_fields_accept_their_own_values_without_a_table() -> None:
    mapping = parse_mapping(data={"columns": {"When": "occurred_at", "Kind": "kind"}}, kind="interactions")
    rows = [
        CsvRow(line=2, end_line=2, values=("15.04.2021", "Web form")),
        CsvRow(line=3, end_line=3, values=("15.04.2021", "fax")),
    ]
    batch = transform(kind="interactions", rows=rows, mapping=mapping, header=("When", "Kind"))
    assert batch.records[0].fields["kind"] == "web_form"
    assert batch.errors[0].reason.startswith("'fax' is not one of call, email")


def test_accounts_typed_fields_and_defaults(tmp_path: Path, test_mapping_dir: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(
        "Код,Название,ИНН,Отрасль,Выручка,Сотрудников,Основана,Регион,Головная,Менеджер\n"
        'A1,Ромашка,7707 083893,Торговля,"12 500 000 ₽",1 200,1998,,Холдинг,Ivanov@Firm.RU\n'
        "A2,Весна,7.70708E+11,Связь,-5,-3,2999,Урал,,\n",
        encoding="utf-8",
    )
    batch = import_file(kind="accounts", path=path, mapping=test_mapping_dir / "accounts_ru.json")
    (record,) = batch.records
    assert record.fields == {
        "name": "Ромашка",
        "tax_id": "7707083893",
        "sector": "Торговля",
        "revenue": Decimal("12500000"),
        "employees": 1200,
        "founded": 1998,
        "region": "Москва",  # the mapping's default fills the empty cell
        "parent": "Холдинг",
        "owner": "ivanov@firm.ru",
    }
    assert {e.field for e in batch.errors} == {"tax_id", "revenue", "employees", "founded"}
    assert all(e.line == 3 for e in batch.errors)


def test_contacts_compose_a_name_and_read_us_formats(tmp_path: Path, test_mapping_dir: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        "First,Last,Company,E-mail,Phone,Added\n"
        "Becki,Tucker,386,BeckiTTucker@dayrep.com,805-247-8982,04/15/2021 11:03 PM\n"
        ",,386,x@y.com,,04/15/2021\n",
        encoding="utf-8",
    )
    batch = import_file(
        kind="contacts", path=path, mapping=test_mapping_dir / "contacts_us.json", tz="America/Los_Angeles"
    )
    (record,) = batch.records
    assert record.fields["name"] == "Becki Tucker"
    assert record.fields["phone"] == Phone(e164="+18052478982", raw="805-247-8982")
    assert record.fields["created_at"] == datetime(2021, 4, 15, 23, 3, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert record.external_id is None
    assert batch.errors[0].reason == "name or first_name or last_name is required"


def test_iter_transform_streams_outcomes() -> None:
    mapping = parse_mapping(data={"columns": {"N": "name", "E": "email"}}, kind="users")
    rows = iter(
        [
            CsvRow(line=2, end_line=2, values=("Ann", "ANN@x.ru")),
            CsvRow(line=3, end_line=3, values=("", "")),
            CsvRow(line=4, end_line=4, values=("Bob", "bob@")),
        ]
    )
    outcomes = list(iter_transform(kind="users", rows=rows, mapping=mapping, header=("N", "E")))
    assert outcomes[0] == Record(line=2, external_id=None, fields={"name": "Ann", "email": "ann@x.ru"})
    assert outcomes[1] == BlankRow(line=3)
    assert isinstance(outcomes[2], RowError) and outcomes[2].field == "email"


def test_transform_takes_the_header_from_an_open_table(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text("N,E\nAnn,ann@x.ru\n", encoding="utf-8")
    mapping = parse_mapping(data={"columns": {"N": "name", "E": "email"}}, kind="users")
    with open_csv(path) as table:
        batch = transform(kind="users", rows=table, mapping=mapping)
    assert len(batch.records) == 1


def test_mismatched_kind_header_and_zone_are_errors(tmp_path: Path) -> None:
    mapping = parse_mapping(data={"columns": {"N": "name", "E": "email"}}, kind="users")
    with pytest.raises(MappingError, match="loaded for users, not accounts"):
        transform(kind="accounts", rows=[], mapping=mapping, header=("N", "E"))
    with pytest.raises(MappingError, match="no column 'E'"):
        transform(kind="users", rows=[], mapping=mapping, header=("N", "Mail"))
    with pytest.raises(CsvImportError, match="unknown time zone 'Mars/Olympus'"):
        transform(kind="users", rows=[], mapping=mapping, header=("N", "E"), tz="Mars/Olympus")


def test_import_file_reads_the_mapping_options(tmp_path: Path, test_mapping_dir: Path) -> None:
    # The mapping forces cp1251 and ';': a file that is really UTF-8 fails loudly
    # instead of importing mojibake.
    path = tmp_path / "deals.csv"
    path.write_text(DEALS_RU, encoding="utf-8")
    mapping = load_mapping(path=test_mapping_dir / "deals_ru.json", kind="deals")
    with pytest.raises(MappingError, match="no column"):
        import_file(kind="deals", path=path, mapping=mapping)


def test_duplicate_user_emails_are_row_errors() -> None:
    mapping = parse_mapping(data={"columns": {"N": "name", "E": "email"}}, kind="users")
    rows = [
        CsvRow(line=2, end_line=2, values=("Ann", "ann@x.ru")),
        CsvRow(line=3, end_line=3, values=("Anna", "ANN@x.ru")),
    ]
    batch = transform(kind="users", rows=rows, mapping=mapping, header=("N", "E"))
    assert batch.errors == [
        RowError(line=3, column="E", field="email", value="ann@x.ru", reason="email already used on line 2")
    ]


def test_summary_for_a_dry_run(deals_batch: ImportBatch) -> None:
    text = deals_batch.summary(limit=2)
    assert text.splitlines()[:2] == [
        "deals: 10 rows: 4 ready, 5 with errors, 1 blank",
        "  read as cp1251, delimiter ';'",
    ]
    assert (deals_batch.pipeline, deals_batch.encoding, deals_batch.delimiter) == ("sales", "cp1251", ";")
    assert "  2 errors in 'Сумма'" in text
    assert "  1 errors in '(whole row)'" in text
    assert text.endswith("... and 4 more")


_HEADER = ("Id", "Title", "Stage", "Amount", "Start", "Close")
_CELLS = {
    "Id": st.sampled_from(["", "D1", "D2", "D3", " D4 ", "1.2E+11"]),
    "Title": st.sampled_from(["", "Deal", "  Сделка  ", "x"]),
    "Stage": st.sampled_from(["", "Won", "won", "Lost", "Maybe"]),
    "Amount": st.sampled_from(["", "$1,000.00", "1 000,50 ₽", "-5", "abc", "€3", "12"]),
    "Start": st.sampled_from(["", "2021-04-15", "15 Apr, 2021 00:02:00", "04/15/2021", "31.02.2021", "05/04/2021"]),
    "Close": st.sampled_from(["", "20.05.2021", "later"]),
}


@given(rows=st.lists(st.tuples(*(_CELLS[c] for c in _HEADER)), max_size=30))
def test_every_row_lands_in_exactly_one_place(rows: list[tuple[str, ...]]) -> None:
    mapping = parse_mapping(
        data={
            "columns": dict(
                zip(_HEADER, ["external_id", "title", "stage", "amount", "engaged_at", "expected_close"], strict=True)
            ),
            "values": {"stage": {"Won": "won", "Lost": "lost"}},
        },
        kind="deals",
    )
    csv_rows = [CsvRow(line=n, end_line=n, values=values) for n, values in enumerate(rows, start=2)]
    batch = transform(kind="deals", rows=csv_rows, mapping=mapping, header=_HEADER)
    record_lines = [r.line for r in batch.records]
    buckets = record_lines + batch.error_lines + batch.blank_lines
    assert sorted(buckets) == [row.line for row in csv_rows]
    for record in batch.records:
        fields = record.fields
        assert fields["title"] and fields["stage"] in ("won", "lost")
        assert fields["amount"] is None or (isinstance(fields["amount"], Decimal) and fields["amount"] >= 0)
        assert fields["engaged_at"] is None or fields["engaged_at"].tzinfo is not None
        assert "external_id" not in fields
    for error in batch.errors:
        assert error.column is None or error.column in _HEADER
        assert error.reason


def test_a_ragged_row_spanning_lines_hints_at_an_unbalanced_quote(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text('N,E,T\nAnn,"ann@x.ru\nBob,bob@x.ru,sales"\nCid,cid@x.ru,ops\n', encoding="utf-8")
    mapping = parse_mapping(data={"columns": {"N": "name", "E": "email", "T": "team"}}, kind="users")
    batch = import_file(kind="users", path=path, mapping=mapping)
    assert batch.errors == [
        RowError(
            line=2,
            column=None,
            field=None,
            value=None,
            reason="the row has 2 fields but the header has 3; it spans lines 2-3, so a quote is probably unbalanced",
        )
    ]
    assert [r.line for r in batch.records] == [4]


def test_the_csv_layer_imports_only_the_standard_library_itself_and_the_normalizers() -> None:
    package = Path(__file__).resolve().parents[2] / "accounts" / "csvio"
    imported = set()
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
    # accounts.normalize is the one home of the email and phone rules (pure, like this package).
    outside = {name for name in imported if not name.startswith("accounts.csvio") and name != "accounts.normalize"}
    # openpyxl reads .xlsx workbooks (accounts.csvio.workbook), a dependency of crmpm's own.
    assert {name.split(".")[0] for name in outside} <= set(sys.stdlib_module_names) | {"__future__", "openpyxl"}

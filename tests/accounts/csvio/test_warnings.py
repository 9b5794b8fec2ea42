"""Values that cannot be kept as written are warnings with line, column and reason; the row still imports."""

from __future__ import annotations

from accounts.csvio import RowWarning, import_file, parse_mapping

MAPPING = {"columns": {"ID": "external_id", "ФИО": "name", "Компания": "account", "Телефон": "phone",
                       "Мобильный": "mobile"}}


def _batch(tmp_path, text: str, *, encoding: str = "cp1251"):
    path = tmp_path / "contacts.csv"
    path.write_bytes(text.encode(encoding))
    return import_file(kind="contacts", path=path, mapping=parse_mapping(data=MAPPING, kind="contacts"))


# cp1251, ";" and CRLF, as amoCRM and Excel in Russia write CSV.
FILE = ("ID;ФИО;Компания;Телефон;Мобильный\r\n"
        "1;Иван Петров;Ромашка;12-34;8 916 123-45-67\r\n"          # the office number is too short
        "2;Анна Смирнова;Ромашка;8 495 111-22-33 доб. 7;\r\n"       # an extension
        "3;Олег Орлов;Лютик;+7 000 000-00-00;\r\n"                # no Russian number starts +7 0
        "4;Ольга Лис;Лютик;8 495 111-22-33;8 916 765-43-21\r\n")    # all good


def test_a_phone_that_cannot_be_normalized_is_a_warning_and_the_row_imports(tmp_path) -> None:
    batch = _batch(tmp_path, FILE)
    assert batch.errors == []
    assert [record.line for record in batch.records] == [2, 3, 4, 5]
    assert [(w.line, w.column, w.field, w.value) for w in batch.warnings] == [
        (2, "Телефон", "phone", "12-34"),
        (3, "Телефон", "phone", "8 495 111-22-33 доб. 7"),
        (4, "Телефон", "phone", "+7 000 000-00-00"),
    ]
    first, extension, unknown = batch.warnings
    assert "cannot be normalized" in first.reason and "not stored as a phone" in first.reason
    assert "stored as +74951112233: the extension is not kept" in extension.reason
    assert "cannot be normalized" in unknown.reason
    # Line 2 keeps its mobile; its office number is in no channel (the warning holds its text).
    assert batch.records[0].fields["channels"] == (("phone", "mobile", "+79161234567"),)
    assert batch.records[1].fields["channels"] == (("phone", "work", "+74951112233"),)
    assert batch.records[2].fields["channels"] == ()
    assert batch.records[3].fields["channels"] == (("phone", "work", "+74951112233"),
                                                   ("phone", "mobile", "+79167654321"))
    assert all(isinstance(w, RowWarning) for w in batch.warnings)
    assert batch.records[0].warnings == (batch.warnings[0],)


def test_the_summary_lists_the_warnings(tmp_path) -> None:
    summary = _batch(tmp_path, FILE).summary()
    assert "4 rows: 4 ready, 0 with errors" in summary
    assert "3 warnings" in summary
    assert "warning: line 2, column 'Телефон': '12-34' cannot be normalized" in summary


def test_a_row_with_an_error_carries_no_warning(tmp_path) -> None:
    batch = _batch(tmp_path, "ID;ФИО;Компания;Телефон;Мобильный\r\n1;;Ромашка;12-34;\r\n")
    assert batch.records == [] and batch.warnings == []
    assert [(e.line, e.field) for e in batch.errors] == [(2, "name")]


def test_an_amount_finer_than_a_cent_is_a_warning_as_the_database_keeps_cents(tmp_path) -> None:
    from crmpm.database import MONEY_SCALE

    from accounts.csvio.transform import MONEY_DECIMALS

    assert MONEY_DECIMALS == MONEY_SCALE
    path = tmp_path / "deals.csv"
    path.write_text("id;title;amount\r\n1;Насосы;1 000,125\r\n2;Клапаны;1 000,12\r\n", encoding="utf-8")
    mapping = parse_mapping(data={"columns": {"id": "external_id", "title": "title", "amount": "amount"},
                                  "defaults": {"stage": "new"}}, kind="deals")
    batch = import_file(kind="deals", path=path, mapping=mapping)
    assert [record.line for record in batch.records] == [2, 3]
    assert [(w.line, w.column, w.value) for w in batch.warnings] == [(2, "amount", "1 000,125")]
    assert "kept to the cent" in batch.warnings[0].reason

"""Several phones or e-mails in one cell: each a value of its own, a contact's typed channels."""

from __future__ import annotations

import pytest

from accounts.csvio import Phone, import_file, parse_mapping
from accounts.csvio.parsing import split_values

# amoCRM's contacts export: the kind of each phone and e-mail is in its column's name.
AMO_HEADER = "ID;Имя;Рабочий телефон;Мобильный телефон;Домашний телефон;Рабочий email;Личный email\r\n"
AMO_MAPPING = {"columns": {"ID": "external_id", "Имя": "name", "Рабочий телефон": "phone_work",
                           "Мобильный телефон": "phone_mobile", "Домашний телефон": "phone_home",
                           "Рабочий email": "email_work", "Личный email": "email_home"}}


def _contacts(tmp_path, rows: str, mapping: dict = AMO_MAPPING):
    path = tmp_path / "amo.csv"
    path.write_text(AMO_HEADER + rows, encoding="cp1251", newline="")
    return import_file(kind="contacts", path=path, mapping=parse_mapping(data=mapping, kind="contacts"))


@pytest.mark.parametrize("cell", ["+7 495 111-22-33, 8 (916) 123-45-67", "+7 495 111-22-33; 8 (916) 123-45-67",
                                  "+7 495 111-22-33\n8 (916) 123-45-67", "+7 495 111-22-33 ,, 8 (916) 123-45-67"])
def test_a_phone_cell_splits_on_commas_semicolons_and_line_ends(cell: str) -> None:
    assert split_values(cell, emails=False) == ["+7 495 111-22-33", "8 (916) 123-45-67"]


def test_an_extension_after_a_comma_stays_with_its_number() -> None:
    assert split_values("+7 495 111-22-33, доб. 15, 8 916 123-45-67", emails=False) == [
        "+7 495 111-22-33 доб. 15", "8 916 123-45-67"]


def test_every_phone_and_e_mail_of_a_row_is_a_channel_of_its_columns_kind(tmp_path) -> None:
    batch = _contacts(tmp_path, '7;Иван Иванов;"+7 495 111-22-33, 8 (495) 222-33-44";8 916 123-45-67;;'
                                '"ivan@romashka.ru; IVAN@ROMASHKA.RU";ivan@mail.ru\r\n')
    assert batch.errors == [] and batch.warnings == []
    (record,) = batch.records
    # Field order: e-mails (work, home), then phones (work, mobile, home); a repeated address is the services' to drop.
    assert record.fields["channels"] == (
        ("email", "work", "ivan@romashka.ru"), ("email", "work", "ivan@romashka.ru"), ("email", "home", "ivan@mail.ru"),
        ("phone", "work", "+74951112233"), ("phone", "work", "+74952223344"), ("phone", "mobile", "+79161234567"))
    # The field itself holds the cell's first value, as for a single one.
    assert record.fields["phone_work"] == Phone(e164="+74951112233", raw="+7 495 111-22-33")
    assert record.fields["email_work"] == "ivan@romashka.ru"


def test_phone_and_mobile_are_work_and_mobile_channels(tmp_path) -> None:
    mapping = {"columns": {"ID": "external_id", "Имя": "name", "Рабочий телефон": "phone",
                           "Мобильный телефон": "mobile", "Рабочий email": "email"}}
    batch = _contacts(tmp_path, "7;Иван;8 495 111-22-33;8 916 123-45-67;;a@b.ru;\r\n", mapping)
    assert batch.records[0].fields["channels"] == (
        ("email", "work", "a@b.ru"), ("phone", "work", "+74951112233"), ("phone", "mobile", "+79161234567"))


def test_a_part_that_is_no_phone_at_all_is_an_error_naming_that_part(tmp_path) -> None:
    batch = _contacts(tmp_path, '7;Иван;"+7 495 111-22-33, звонить после обеда";;;;\r\n')
    assert batch.records == []
    ((line, column, value, reason),) = [(e.line, e.column, e.value, e.reason) for e in batch.errors]
    assert (line, column, value) == (2, "Рабочий телефон", "звонить после обеда")
    assert "not a phone number" in reason


def test_a_lead_keeps_its_first_phone_and_warns_of_the_others(tmp_path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text('id,name,phone\nL1,Ромашка,"8 495 111-22-33, 8 916 123-45-67"\n', encoding="utf-8")
    mapping = parse_mapping(data={"columns": {"id": "external_id", "name": "name", "phone": "phone"}}, kind="leads")
    batch = import_file(kind="leads", path=path, mapping=mapping)
    (record,) = batch.records
    assert record.fields["phone"].e164 == "+74951112233" and "channels" not in record.fields
    ((line, column, value, reason),) = [(w.line, w.column, w.value, w.reason) for w in batch.warnings]
    assert (line, column, value) == (2, "phone", "8 916 123-45-67")
    assert "only the first of the cell is stored" in reason

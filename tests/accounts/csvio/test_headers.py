"""Repeated headers: a mapping names the n-th occurrence as "ID#2"; "ID" alone is the first."""

from __future__ import annotations

import pytest

from accounts.csvio import MappingError, check_header, import_file, parse_mapping

# Bitrix24's UI export of deals names its own id, the company's and the contact's all "ID".
BITRIX_HEADER = ["ID", "Название сделки", "ID", "Компания", "ID", "Контакт", "Стадия сделки"]


def _mapping(columns: dict) -> object:
    return parse_mapping(data={"columns": columns, "defaults": {"title": "x", "stage": "new"}}, kind="deals")


def test_the_n_th_occurrence_of_a_repeated_header_is_named_with_hash_n() -> None:
    mapping = _mapping({"ID": "external_id", "ID#2": "account", "ID#3": "contact"})
    assert check_header(mapping=mapping, header=BITRIX_HEADER) == {"ID": 0, "ID#2": 2, "ID#3": 4}


def test_hash_one_and_the_bare_name_are_both_the_first_occurrence() -> None:
    assert check_header(mapping=_mapping({"ID#1": "external_id"}), header=BITRIX_HEADER) == {"ID#1": 0}
    assert check_header(mapping=_mapping({"ID": "external_id"}), header=BITRIX_HEADER) == {"ID": 0}


def test_an_occurrence_the_header_does_not_have_is_a_clear_error() -> None:
    with pytest.raises(MappingError, match=r"has column 'ID' 3 times, so the mapping's 'ID#4' names none"):
        check_header(mapping=_mapping({"ID#4": "external_id"}), header=BITRIX_HEADER)
    with pytest.raises(MappingError, match=r"has column 'Компания' once, so the mapping's 'Компания#2'"):
        check_header(mapping=_mapping({"Компания#2": "account"}), header=BITRIX_HEADER)


def test_an_unknown_column_still_names_the_closest_header() -> None:
    with pytest.raises(MappingError, match=r"no column 'Стадия' named in the mapping \(did you mean 'Стадия сделки'"):
        check_header(mapping=_mapping({"Стадия": "stage"}), header=BITRIX_HEADER)


def test_a_header_written_with_a_hash_of_its_own_is_matched_as_written() -> None:
    header = ["Заказ #2", "Заказ", "Заказ"]
    assert check_header(mapping=_mapping({"Заказ #2": "external_id"}), header=header) == {"Заказ #2": 0}
    assert check_header(mapping=_mapping({"Заказ#2": "external_id"}), header=header) == {"Заказ#2": 2}


def test_a_file_with_repeated_headers_imports_each_occurrence_into_its_field(tmp_path) -> None:
    path = tmp_path / "bitrix.csv"
    path.write_text(
        ";".join(BITRIX_HEADER) + "\r\n"
        "101;Насосы;7;ООО Ромашка;55;Иванов Иван;Новая\r\n"
        "102;Клапаны;8;ООО Лютик;56;Петров Пётр;Новая\r\n",
        encoding="cp1251", newline="")
    mapping = parse_mapping(data={"columns": {"ID": "external_id", "Название сделки": "title", "ID#2": "account",
                                              "ID#3": "contact", "Стадия сделки": "stage"}}, kind="deals")
    batch = import_file(kind="deals", path=path, mapping=mapping)
    assert batch.errors == []
    assert [(r.line, r.external_id, r.fields["account"], r.fields["contact"]) for r in batch.records] == [
        (2, "101", "7", "55"), (3, "102", "8", "56")]


def test_a_repeated_header_no_mapping_names_does_not_block_the_file(tmp_path) -> None:
    path = tmp_path / "amo.csv"
    path.write_text("ID,Название,Товар,Товар,Источник,Источник\n1,Насосы,A,B,сайт,звонок\n", encoding="utf-8")
    mapping = parse_mapping(data={"columns": {"ID": "external_id", "Название": "title"},
                                  "defaults": {"stage": "new"}}, kind="deals")
    batch = import_file(kind="deals", path=path, mapping=mapping)
    assert batch.errors == [] and [r.fields["title"] for r in batch.records] == ["Насосы"]


def test_a_repeated_column_named_without_its_number_is_read_as_the_first_and_said_so(tmp_path) -> None:
    path = tmp_path / "bitrix.csv"
    path.write_text(";".join(BITRIX_HEADER) + "\r\n101;Насосы;7;ООО Ромашка;55;Иванов Иван;Новая\r\n",
                    encoding="utf-8")
    mapping = parse_mapping(data={"columns": {"ID": "external_id", "Название сделки": "title",
                                              "Стадия сделки": "stage"}}, kind="deals")
    batch = import_file(kind="deals", path=path, mapping=mapping)
    assert [r.external_id for r in batch.records] == ["101"]
    assert batch.notes == ["the header has 3 columns 'ID': the mapping's 'ID' reads the first (name another as 'ID#2')"]
    assert batch.notes[0] in batch.summary()

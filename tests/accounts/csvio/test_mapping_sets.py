"""The shipped mapping sets: every file is a valid mapping, a set is chosen by name for a KIND, and
the amoCRM and Bitrix24 sets read files shaped like those systems' exports."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from accounts.cli import import_command
from accounts.csvio import KINDS, MappingError, import_file, mapping_sets, resolve_mapping
from accounts.csvio.mapping import SAVED_MAPPINGS
from tests.accounts.imports.exports import (
    AMO_COMPANIES,
    AMO_COMPANY_HEADER,
    AMO_CONTACT_HEADER,
    AMO_CONTACTS,
    AMO_DEAL_HEADER,
    AMO_DEALS,
    B24_COMPANIES,
    B24_COMPANY_HEADER,
    B24_CONTACT_HEADER,
    B24_CONTACTS,
    B24_DEAL_HEADER,
    B24_DEALS,
    rub,
    write_csv,
)


def test_every_shipped_file_is_a_valid_mapping_of_its_kind():
    files = sorted(SAVED_MAPPINGS.glob("*/*.json"))
    assert {path.parent.name for path in files} == {"zoho", "amocrm", "bitrix24", "bitrix24-rest"}
    for path in files:
        assert path.stem in KINDS, path
        mapping = resolve_mapping(mapping=path.parent.name, kind=path.stem)
        assert "external_id" in {field for _column, field in mapping.field_columns}, path
        assert json.loads(path.read_text(encoding="utf-8"))["description"], path


def test_sets_and_their_kinds():
    sets = mapping_sets()
    assert sets["amocrm"] == ["accounts", "contacts", "deals"]
    assert sets["bitrix24"] == sets["bitrix24-rest"] == ["accounts", "contacts", "leads", "deals"]
    assert "interactions" in sets["zoho"]


def test_a_name_picks_the_sets_mapping_and_a_path_still_works(tmp_path):
    by_name = resolve_mapping(mapping="amocrm", kind="deals")
    assert by_name.columns["Название сделки"] == "title" and by_name.pipeline == "amoCRM"
    own = tmp_path / "mine.json"
    own.write_text(json.dumps({"columns": {"ID": "external_id", "N": "name"}}), encoding="utf-8")
    assert resolve_mapping(mapping=own, kind="accounts").columns == {"ID": "external_id", "N": "name"}
    with pytest.raises(MappingError, match="the mapping set 'amocrm' has no mapping for leads; it has accounts"):
        resolve_mapping(mapping="amocrm", kind="leads")
    with pytest.raises(MappingError, match="cannot read mapping"):
        resolve_mapping(mapping="amocrn", kind="deals")  # not a set: a path, which does not exist


def test_list_mappings_needs_no_kind_or_file():
    result = CliRunner().invoke(import_command, ["--list-mappings"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "amocrm: accounts, contacts, deals" in lines
    assert "bitrix24: accounts, contacts, leads, deals" in lines
    assert "bitrix24-rest: accounts, contacts, leads, deals" in lines
    assert any(line.startswith("zoho: users, accounts") for line in lines)


@pytest.mark.parametrize("name, kind, header, rows, encoding, delimiter", [
    ("amocrm", "accounts", AMO_COMPANY_HEADER, AMO_COMPANIES, "utf-8-sig", ";"),
    ("amocrm", "contacts", AMO_CONTACT_HEADER, AMO_CONTACTS, "cp1251", ";"),
    ("amocrm", "deals", AMO_DEAL_HEADER, AMO_DEALS, "utf-8-sig", ";"),
    ("bitrix24-rest", "accounts", B24_COMPANY_HEADER, B24_COMPANIES, "utf-8", ","),
    ("bitrix24-rest", "contacts", B24_CONTACT_HEADER, B24_CONTACTS, "utf-8", ","),
    ("bitrix24-rest", "deals", B24_DEAL_HEADER, B24_DEALS, "utf-8", ","),
])
def test_the_set_reads_every_row_of_an_export_shaped_file(tmp_path, name, kind, header, rows, encoding, delimiter):
    path = tmp_path / f"{kind}.csv"
    write_csv(path, header, rows, encoding=encoding, delimiter=delimiter)
    batch = import_file(kind=kind, path=path, mapping=resolve_mapping(mapping=name, kind=kind))
    assert batch.errors == []
    assert [record.external_id for record in batch.records] == [row["ID"] for row in rows]
    if kind == "deals" and name == "amocrm":
        for record, row in zip(batch.records, rows):
            assert record.fields["amount"] == rub(row["Бюджет"])
            assert record.fields["owner"] == row["Ответственный"]
        stages = [record.fields["stage"] for record in batch.records]
        assert stages == [{"Успешно реализовано": "won", "Закрыто и не реализовано": "lost"}.get(row["Этап сделки"],
                                                                                                   row["Этап сделки"])
                          for row in rows]
    if kind == "deals" and name == "bitrix24-rest":
        assert [record.fields.get("contact") for record in batch.records] == \
            [row["CONTACT_ID"] if row["CONTACT_ID"] != "0" else None for row in rows]


def test_the_bitrix24_ui_deals_mapping_names_the_repeated_id_columns():
    # Bitrix24's deal export repeats ID: the deal's own is the first, its contact's the third.
    mapping = resolve_mapping(mapping="bitrix24", kind="deals")
    assert mapping.columns["ID#1"] == "external_id" and mapping.columns["ID#3"] == "contact"
    assert mapping.columns["Стадия сделки"] == "stage" and mapping.values["stage"]["Сделка успешна"] == "won"


def test_a_mapping_may_carry_an_owners_table():
    from accounts.csvio import parse_mapping

    data = {"columns": {"ID": "external_id", "N": "name", "O": "owner"},
            "owners": {"Оля  К.": "o.kuznetsova@firm.ru", "Дмитрий Волков": "", "17": None}}
    mapping = parse_mapping(data=data, kind="accounts")
    assert dict(mapping.owners) == {"Оля К.": "o.kuznetsova@firm.ru"}  # entries left empty are not filled in
    with pytest.raises(MappingError, match='"owners" must be an object'):
        parse_mapping(data={**data, "owners": ["Оля К."]}, kind="accounts")


def test_the_bitrix24_set_reads_the_interface_export_of_deals(tmp_path):
    from tests.accounts.imports.exports import B24_DEALS, B24_UI_DEAL_HEADER, b24_ui_deal_rows

    path = tmp_path / "deals.csv"
    rows = b24_ui_deal_rows()
    lines = [";".join(f'"{cell}"' for cell in line) for line in [B24_UI_DEAL_HEADER, *rows]]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))
    batch = import_file(kind="deals", path=path, mapping=resolve_mapping(mapping="bitrix24", kind="deals"))
    assert batch.errors == []
    assert [record.external_id for record in batch.records] == [deal["ID"] for deal in B24_DEALS]
    assert [record.fields["currency"] for record in batch.records] == ["RUB"] * len(B24_DEALS)


def test_the_amocrm_set_reads_funnels_contacts_by_name_and_typed_phones(tmp_path):
    deals_path, contacts_path = tmp_path / "deals.csv", tmp_path / "contacts.csv"
    write_csv(deals_path, AMO_DEAL_HEADER, AMO_DEALS, encoding="utf-8-sig", delimiter=";")
    write_csv(contacts_path, AMO_CONTACT_HEADER, AMO_CONTACTS, encoding="utf-8-sig", delimiter=";")
    deals = import_file(kind="deals", path=deals_path, mapping=resolve_mapping(mapping="amocrm", kind="deals"))
    assert deals.errors == []
    # The default funnel ("Воронка") is the pipeline amoCRM; another keeps its name.
    assert [record.fields["pipeline"] for record in deals.records] == \
        [{"Воронка": "amoCRM"}.get(row["Воронка"], row["Воронка"]) for row in AMO_DEALS]
    assert [record.fields.get("contact_name") for record in deals.records] == \
        [row.get("Полное имя контакта") or None for row in AMO_DEALS]
    assert {record.fields["region"] for record in deals.records} == {"MSK"}
    contacts = import_file(kind="contacts", path=contacts_path,
                           mapping=resolve_mapping(mapping="amocrm", kind="contacts"))
    assert contacts.errors == []
    for record, row in zip(contacts.records, AMO_CONTACTS):
        work = [number for number in row.get("Рабочий телефон", "").split(",") if number.strip()]
        phones = [(kind, value) for kind_of, kind, value in record.fields["channels"] if kind_of == "phone"]
        assert [kind for kind, _value in phones].count("work") == len(work), row["ID"]
        assert [kind for kind, _value in phones].count("mobile") == int(bool(row.get("Мобильный телефон"))), row["ID"]


def test_the_bitrix24_set_reads_the_interface_export_of_contacts_and_the_deals_contact_id(tmp_path):
    from tests.accounts.imports.exports import (
        B24_UI_CONTACT_HEADER,
        B24_UI_DEAL_HEADER,
        b24_ui_contact_rows,
        b24_ui_deal_rows,
        write_rows,
    )

    contacts_path, deals_path = tmp_path / "contacts.csv", tmp_path / "deals.csv"
    rows = b24_ui_contact_rows()
    write_csv(contacts_path, B24_UI_CONTACT_HEADER, rows, encoding="cp1251", delimiter=";")
    contacts = import_file(kind="contacts", path=contacts_path,
                           mapping=resolve_mapping(mapping="bitrix24", kind="contacts"))
    assert contacts.errors == []
    assert [(record.fields["first_name"], record.fields["patronymic"], record.fields["last_name"])
            for record in contacts.records] == [(row["Имя"], row["Отчество"], row["Фамилия"]) for row in rows]
    write_rows(deals_path, B24_UI_DEAL_HEADER, b24_ui_deal_rows(), encoding="cp1251", delimiter=";")
    deals = import_file(kind="deals", path=deals_path, mapping=resolve_mapping(mapping="bitrix24", kind="deals"))
    assert deals.errors == []
    third_id = [index for index, name in enumerate(B24_UI_DEAL_HEADER) if name == "ID"][2]
    assert [record.fields.get("contact") for record in deals.records] == \
        [row[third_id] or None for row in b24_ui_deal_rows()]
    assert {record.fields["pipeline"] for record in deals.records} == {"Битрикс24"}  # "Общее", the general funnel

"""The README's "Moving in from Bitrix24" walk-throughs, run as written: the REST API's field names, and the
interface's export.

REST: files shaped like ``crm.company.list``, ``crm.contact.list`` and ``crm.deal.list`` written out as CSV;
owners are Bitrix24 user ids, so every one of them is in the dry run's table, filled in here as the
README asks. Interface: "Экспорт в CSV" of companies, contacts and deals in cp1251 with ";", the deals'
header repeating ID (read with "ID#1" and "ID#3"), the currency by name ("Российский рубль"), owners by
name, patronymics in their own column, a cell with two phones. Both have a private client (a contact and
a deal without a company); the funnel's figures are computed from the deals file alone.
"""

from __future__ import annotations

from decimal import Decimal

import re

import pytest

from tests.accounts.imports.exports import (
    B24_COMPANIES,
    B24_COMPANY_HEADER,
    B24_CONTACT_HEADER,
    B24_CONTACTS,
    B24_DEAL_HEADER,
    B24_DEALS,
    B24_UI_COMPANY_HEADER,
    B24_UI_CONTACT_HEADER,
    B24_UI_DEAL_HEADER,
    b24_ui_company_rows,
    b24_ui_contact_rows,
    b24_ui_deal_rows,
    walkthrough,
    write_csv,
    write_rows,
)
from tests.accounts.imports.walk import Shell, check_funnel, expected_funnel, read_owners_csv, write_owners_csv

WON, LOST = {"WON"}, {"LOSE", "APOLOGY"}
# Bitrix24's codes of the general funnel's open stages and the names Bitrix24 shows for them.
STAGE_NAMES = {"NEW": "Новая", "PREPARATION": "Подготовка документов", "EXECUTING": "В работе"}
# Who each Bitrix24 user id is (what the user knows and writes into the table).
PEOPLE = {"1": "admin@firm.ru", "7": "i.petrov@firm.ru", "9": "m.smirnova@firm.ru"}


@pytest.fixture
def shell(tmp_path):
    write_csv(tmp_path / "companies.csv", B24_COMPANY_HEADER, B24_COMPANIES, encoding="utf-8", delimiter=",",
              newline="\n")
    write_csv(tmp_path / "contacts.csv", B24_CONTACT_HEADER, B24_CONTACTS, encoding="utf-8", delimiter=",",
              newline="\n")
    write_csv(tmp_path / "deals.csv", B24_DEAL_HEADER, B24_DEALS, encoding="utf-8", delimiter=",", newline="\n")
    return Shell(tmp_path)


def test_the_readme_steps_end_in_the_funnel_of_the_file(shell):
    steps = walkthrough("bitrix24-rest")
    tables = []
    for words in steps:
        if words[:3] == ["crmpm", "report", "funnel"]:
            words = [*words, "--format", "json"]
        owners_file = shell.folder / "owners.csv"
        before = owners_file.read_text(encoding="utf-8") if owners_file.exists() else None
        result = shell.run(words)
        if "--save-owners" in words and owners_file.exists() and owners_file.read_text(encoding="utf-8") != before:
            # A dry run that met owners no table names: it refuses their rows and writes the table to fill in.
            assert result.returncode == 1, result.stderr
            table = read_owners_csv(owners_file)
            tables.append(dict(table))
            write_owners_csv(owners_file, {name: email or PEOPLE[name] for name, email in table.items()})
            continue
        assert result.returncode == 0, (words, result.stdout, result.stderr)
    # The companies name users 7 and 9; the deals add user 1, and the table written keeps 7 and 9 filled in.
    assert tables == [{"7": "", "9": ""}, {"7": "i.petrov@firm.ru", "9": "m.smirnova@firm.ru", "1": ""}]

    expected = expected_funnel(B24_DEALS, stage_of=lambda deal: deal["STAGE_ID"],
                               amount_of=lambda deal: Decimal(deal["OPPORTUNITY"]), won=WON, lost=LOST)
    assert expected["won"] and expected["lost"] and expected["open"]
    check_funnel(result.stdout, expected, stage_names=STAGE_NAMES)

    owners = dict(shell.query("SELECT d.external_id, u.email FROM deals d JOIN users u ON u.id = d.owner_id"))
    assert owners == {deal["ID"]: PEOPLE[deal["ASSIGNED_BY_ID"]] for deal in B24_DEALS}
    contacts = dict(shell.query("SELECT d.external_id, c.external_id FROM deals d "
                                "JOIN contacts c ON c.id = d.contact_id"))
    assert contacts == {deal["ID"]: deal["CONTACT_ID"] for deal in B24_DEALS if deal["CONTACT_ID"] != "0"}
    # The contact without a company (COMPANY_ID 0) is a private client; SECOND_NAME is the patronymic.
    names = shell.query("SELECT c.external_id, c.first_name, c.patronymic, c.last_name, a.is_person FROM contacts c "
                        "JOIN accounts a ON a.id = c.account_id")
    assert sorted(names) == sorted((contact["ID"], contact["NAME"], contact.get("SECOND_NAME", ""),
                                    contact["LAST_NAME"], int(contact["COMPANY_ID"] == "0"))
                                   for contact in B24_CONTACTS)


# The interface's export: names as Bitrix24 shows them.

UI_WON, UI_LOST = {"Сделка успешна"}, {"Сделка провалена", "Анализ причины провала"}
UI_PEOPLE = {"Администратор": "admin@firm.ru", "Иван Петров": "i.petrov@firm.ru",
             "Мария Смирнова": "m.smirnova@firm.ru"}


def e164(text: str) -> str:
    """A Russian number as +7 and its ten digits (read here independently of crmpm's parser)."""
    return "+7" + re.sub(r"\D", "", text)[-10:]


@pytest.fixture
def ui_shell(tmp_path):
    write_csv(tmp_path / "companies.csv", B24_UI_COMPANY_HEADER, b24_ui_company_rows(), encoding="cp1251",
              delimiter=";")
    write_csv(tmp_path / "contacts.csv", B24_UI_CONTACT_HEADER, b24_ui_contact_rows(), encoding="cp1251",
              delimiter=";")
    write_rows(tmp_path / "deals.csv", B24_UI_DEAL_HEADER, b24_ui_deal_rows(), encoding="cp1251", delimiter=";")
    return Shell(tmp_path)


def test_the_readme_steps_for_the_interface_export_end_in_the_funnel_of_the_file(ui_shell):
    shell = ui_shell
    steps = walkthrough("bitrix24")
    assert steps[-1][:3] == ["crmpm", "report", "funnel"]
    for words in steps:
        if words[:3] == ["crmpm", "report", "funnel"]:
            words = [*words, "--format", "json"]
        result = shell.run(words)
        assert result.returncode == 0, (words, result.stdout, result.stderr)

    # The deals file's columns, by position: the header repeats ID (the deal's, its company's, its contact's).
    header = B24_UI_DEAL_HEADER
    ids = [index for index, name in enumerate(header) if name == "ID"]
    assert len(ids) == 3
    deals = [dict(zip(header, row)) | {"deal id": row[ids[0]], "contact id": row[ids[2]]} for row in b24_ui_deal_rows()]
    assert {deal["Направление"] for deal in deals} == {"Общее"}  # the general funnel: the pipeline Битрикс24
    assert {deal["Валюта"] for deal in deals} == {"Российский рубль"}

    expected = expected_funnel(deals, stage_of=lambda deal: deal["Стадия сделки"],
                               amount_of=lambda deal: Decimal(deal["Сумма"].replace(",", ".")),
                               won=UI_WON, lost=UI_LOST)
    assert expected["won"] and expected["lost"] and expected["open"]
    check_funnel(result.stdout, expected, stage_names={})

    stored = shell.query("SELECT external_id, currency FROM deals")
    assert sorted(stored) == sorted((deal["deal id"], "RUB") for deal in deals)  # "Российский рубль" is RUB
    owners = dict(shell.query("SELECT d.external_id, u.email FROM deals d JOIN users u ON u.id = d.owner_id"))
    assert owners == {deal["deal id"]: UI_PEOPLE[deal["Ответственный"]] for deal in deals}
    contacts = dict(shell.query("SELECT d.external_id, c.external_id FROM deals d "
                                "JOIN contacts c ON c.id = d.contact_id"))
    assert contacts == {deal["deal id"]: deal["contact id"] for deal in deals if deal["contact id"]}

    # Contacts: "Имя", "Отчество", "Фамилия" field by field; without a company, a private client.
    rows = b24_ui_contact_rows()
    names = shell.query("SELECT c.external_id, c.first_name, c.patronymic, c.last_name, a.is_person FROM contacts c "
                        "JOIN accounts a ON a.id = c.account_id")
    assert sorted(names) == sorted((row["ID"], row["Имя"], row["Отчество"], row["Фамилия"], int(not row["Компания"]))
                                   for row in rows)
    assert all(row["Отчество"] for row in rows)
    # A mobile cell with two numbers: both kept as mobile phones.
    two = [row for row in rows if "," in row["Мобильный телефон"]]
    assert len(two) == 1
    phones = shell.query("SELECT ch.kind, ch.value FROM contact_channels ch JOIN contacts c ON c.id = ch.contact_id "
                         "WHERE c.external_id = ? AND ch.type = 'phone'", two[0]["ID"])
    assert sorted(phones) == sorted([("mobile", e164(number)) for number in two[0]["Мобильный телефон"].split(",")]
                                    + [("work", e164(two[0]["Рабочий телефон"]))])
    # The deal without a company sits on its contact's private client account.
    b2c = [deal for deal in deals if not deal["Компания"]]
    assert len(b2c) == 1
    placed = shell.query("SELECT a.is_person, c.external_id FROM deals d JOIN accounts a ON a.id = d.account_id "
                         "JOIN contacts c ON c.account_id = a.id WHERE d.external_id = ?", b2c[0]["deal id"])
    assert placed == [(1, b2c[0]["contact id"])]

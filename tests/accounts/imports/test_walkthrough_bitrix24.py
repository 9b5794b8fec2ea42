"""The README's "Moving in from Bitrix24" walk-through (the REST API's field names), run as written.

Files shaped like ``crm.company.list``, ``crm.contact.list`` and ``crm.deal.list`` written out as CSV:
owners are Bitrix24 user ids, so every one of them is in the dry run's table, filled in here as the
README asks; the funnel's figures are computed from the deals file alone. Kept out until the reading
and private-client parts are merged: the UI export (its header repeats ID, read with "ID#1"), contacts
without a company (COMPANY_ID 0), deals of other funnels (CATEGORY_ID other than 0).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.accounts.imports.exports import (
    B24_COMPANIES,
    B24_COMPANY_HEADER,
    B24_CONTACT_HEADER,
    B24_CONTACTS,
    B24_DEAL_HEADER,
    B24_DEALS,
    walkthrough,
    write_csv,
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
    assert (expected["won"], expected["lost"], expected["open"]) == (1, 2, 3)
    check_funnel(result.stdout, expected, stage_names=STAGE_NAMES)

    owners = dict(shell.query("SELECT d.external_id, u.email FROM deals d JOIN users u ON u.id = d.owner_id"))
    assert owners == {deal["ID"]: PEOPLE[deal["ASSIGNED_BY_ID"]] for deal in B24_DEALS}
    contacts = dict(shell.query("SELECT d.external_id, c.external_id FROM deals d "
                                "JOIN contacts c ON c.id = d.contact_id"))
    assert contacts == {deal["ID"]: deal["CONTACT_ID"] for deal in B24_DEALS if deal["CONTACT_ID"] != "0"}

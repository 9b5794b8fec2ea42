"""The README's "Moving in from amoCRM" walk-through, run as written on files shaped like amoCRM's export.

Covers the shipped ``amocrm`` set, the owners table (a full name, a surname, a nickname filled in
by hand from the dry run's table, someone who has left created with ``--create-owners``) and the
funnel report, whose figures are computed here from the deals file alone. Kept out until the
reading and private-client parts are merged: deals and contacts without a company, files mixing
funnels ("Воронка"), several phones in one cell; contacts' names are not checked field by field.
"""

from __future__ import annotations

import pytest

from tests.accounts.imports.exports import (
    AMO_COMPANIES,
    AMO_COMPANY_HEADER,
    AMO_CONTACT_HEADER,
    AMO_CONTACTS,
    AMO_DEAL_HEADER,
    AMO_DEALS,
    rub,
    walkthrough,
    write_csv,
)
from tests.accounts.imports.walk import Shell, check_funnel, expected_funnel, read_owners_csv, write_owners_csv

WON, LOST = {"Успешно реализовано"}, {"Закрыто и не реализовано"}


@pytest.fixture
def shell(tmp_path):
    write_csv(tmp_path / "companies.csv", AMO_COMPANY_HEADER, AMO_COMPANIES, encoding="utf-8-sig", delimiter=";")
    write_csv(tmp_path / "contacts.csv", AMO_CONTACT_HEADER, AMO_CONTACTS, encoding="utf-8-sig", delimiter=";")
    write_csv(tmp_path / "deals.csv", AMO_DEAL_HEADER, AMO_DEALS, encoding="utf-8-sig", delimiter=";")
    return Shell(tmp_path)


def test_the_readme_steps_end_in_the_funnel_of_the_file(shell):
    steps = walkthrough("amocrm")
    assert steps[-1][:3] == ["crmpm", "report", "funnel"]
    owners_filled = False
    for words in steps:
        if words[:3] == ["crmpm", "report", "funnel"]:
            words = [*words, "--format", "json"]  # the same report, read by the test
        result = shell.run(words)
        if "--save-owners" in words and not owners_filled:
            # The dry run lists the owners no user matched and refuses their rows (exit code 1).
            assert result.returncode == 1, result.stderr
            assert "owners matched to no user (2)" in result.stdout
            table = read_owners_csv(shell.folder / "owners.csv")
            assert table == {"Оля К.": "", "Дмитрий Волков": ""}
            # What the README asks the user to do by hand: Оля К. is Ольга Кузнецова; Волков has left.
            write_owners_csv(shell.folder / "owners.csv", {"Оля К.": "o.kuznetsova@firm.ru", "Дмитрий Волков": ""})
            owners_filled = True
            continue
        assert result.returncode == 0, (words, result.stdout, result.stderr)
        if words[:3] == ["crmpm", "import", "--list-mappings"]:
            assert "amocrm: accounts, contacts, deals" in result.stdout
    assert owners_filled

    expected = expected_funnel(AMO_DEALS, stage_of=lambda deal: deal["Этап сделки"],
                               amount_of=lambda deal: rub(deal["Бюджет"]), won=WON, lost=LOST)
    assert expected["won"] == 2 and expected["lost"] == 1 and expected["open"] == 4
    check_funnel(result.stdout, expected, stage_names={})
    assert '"stage": "Первичный контакт"' in result.stdout  # Cyrillic written as it is, not as \u escapes

    # Every record went in once, with the owner the file names.
    assert shell.query("SELECT COUNT(*) FROM accounts")[0][0] == len(AMO_COMPANIES)
    assert shell.query("SELECT COUNT(*) FROM contacts")[0][0] == len(AMO_CONTACTS)
    owners = dict(shell.query("SELECT d.external_id, u.email FROM deals d JOIN users u ON u.id = d.owner_id"))
    assert owners == {"51001": "i.petrov@firm.ru", "51002": "i.petrov@firm.ru", "51003": "m.smirnova@firm.ru",
                      "51004": "m.smirnova@firm.ru", "51005": "o.kuznetsova@firm.ru",
                      "51006": "dmitry.volkov@imported.local", "51007": "dmitry.volkov@imported.local"}
    # Волков was created once, inactive, without a password, on the branch MSK (his address: crmpm.codes's
    # transliteration of his name, at the placeholder domain).
    created = shell.query("SELECT u.name, u.is_active, u.password_hash, t.name FROM users u "
                          "JOIN team_members m ON m.user_id = u.id JOIN teams t ON t.id = m.team_id "
                          "WHERE u.email = 'dmitry.volkov@imported.local'")
    assert created == [("Дмитрий Волков", 0, None, "MSK branch")]
    assert shell.query("SELECT COUNT(*) FROM users WHERE is_active = 0")[0][0] == 1

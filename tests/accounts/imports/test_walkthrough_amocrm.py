"""The README's "Moving in from amoCRM" walk-through, run as written on files shaped like amoCRM's export.

Covers the shipped ``amocrm`` set, the owners table (a full name, a surname, a nickname filled in
by hand from the dry run's table, someone who has left created with ``--create-owners``), a private
client (a contact and a deal without a company), a full name with a patronymic split field by field,
a cell with two phones, a deal written on two rows (one per product) and two funnels in one deals file,
each funnel's report figures computed here from the deals file alone.
"""

from __future__ import annotations

import re

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
# amoCRM's default funnel is "Воронка"; the shipped set puts it in the pipeline "amoCRM" (the README says so).
PIPELINE_OF_FUNNEL = {"Воронка": "amoCRM"}


def e164(text: str) -> str:
    """A Russian number as +7 and its ten digits (read here independently of crmpm's parser)."""
    digits = re.sub(r"\D", "", text)
    return "+7" + digits[-10:]


@pytest.fixture
def shell(tmp_path):
    write_csv(tmp_path / "companies.csv", AMO_COMPANY_HEADER, AMO_COMPANIES, encoding="utf-8-sig", delimiter=";")
    write_csv(tmp_path / "contacts.csv", AMO_CONTACT_HEADER, AMO_CONTACTS, encoding="utf-8-sig", delimiter=";")
    write_csv(tmp_path / "deals.csv", AMO_DEAL_HEADER, AMO_DEALS, encoding="utf-8-sig", delimiter=";")
    return Shell(tmp_path)


def test_the_readme_steps_end_in_the_funnels_of_the_file(shell):
    steps = walkthrough("amocrm")
    assert steps[-1][:3] == ["crmpm", "report", "funnel"]
    owners_filled = False
    funnels: dict[str, str] = {}
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
        if words[:3] == ["crmpm", "report", "funnel"]:
            funnels[words[words.index("--pipeline") + 1]] = result.stdout
    assert owners_filled

    # Each funnel of the file, its figures computed from the file's rows: a deal written on two rows is one deal.
    deals = list({deal["ID"]: deal for deal in AMO_DEALS}.values())
    assert len(deals) == len(AMO_DEALS) - 1
    by_pipeline: dict[str, list[dict]] = {}
    for deal in deals:
        by_pipeline.setdefault(PIPELINE_OF_FUNNEL.get(deal["Воронка"], deal["Воронка"]), []).append(deal)
    assert set(funnels) == set(by_pipeline) == {"amoCRM", "Дилеры"}
    for pipeline, rows in by_pipeline.items():
        expected = expected_funnel(rows, stage_of=lambda deal: deal["Этап сделки"],
                                   amount_of=lambda deal: rub(deal["Бюджет"]), won=WON, lost=LOST)
        assert expected["won"] and expected["lost"] and expected["open"], pipeline
        check_funnel(funnels[pipeline], expected, stage_names={})
    assert '"stage": "Первичный контакт"' in funnels["amoCRM"]  # Cyrillic written as it is, not as \u escapes
    assert '"stage": "Заявка дилера"' in funnels["Дилеры"]
    # The second funnel got won and lost stages of its own, named as amoCRM names them.
    terminal = shell.query("SELECT s.name, s.kind FROM pipeline_stages s JOIN pipelines p ON p.id = s.pipeline_id "
                           "WHERE p.name = 'Дилеры' AND s.kind != 'open' ORDER BY s.kind")
    assert terminal == [("Закрыто и не реализовано", "lost"), ("Успешно реализовано", "won")]

    # Every record went in once, with the owner the file names; a contact without a company is a private client
    # (an account of their own, a person account).
    b2c = [contact for contact in AMO_CONTACTS if not contact["Компания"]]
    assert len(b2c) == 1
    assert shell.query("SELECT COUNT(*) FROM accounts WHERE is_person = 0")[0][0] == len(AMO_COMPANIES)
    assert shell.query("SELECT COUNT(*) FROM accounts WHERE is_person = 1")[0][0] == len(b2c)
    assert shell.query("SELECT COUNT(*) FROM contacts")[0][0] == len(AMO_CONTACTS)
    assert shell.query("SELECT COUNT(*) FROM deals")[0][0] == len(deals)
    owners = dict(shell.query("SELECT d.external_id, u.email FROM deals d JOIN users u ON u.id = d.owner_id"))
    people = {"Иван Петров": "i.petrov@firm.ru", "Смирнова": "m.smirnova@firm.ru", "Оля К.": "o.kuznetsova@firm.ru",
              "Дмитрий Волков": "dmitry.volkov@imported.local"}
    assert owners == {deal["ID"]: people[deal["Ответственный"]] for deal in deals}
    # Волков was created once, inactive, without a password, on the branch MSK (his address: crmpm.codes's
    # transliteration of his name, at the placeholder domain).
    created = shell.query("SELECT u.name, u.is_active, u.password_hash, t.name FROM users u "
                          "JOIN team_members m ON m.user_id = u.id JOIN teams t ON t.id = m.team_id "
                          "WHERE u.email = 'dmitry.volkov@imported.local'")
    assert created == [("Дмитрий Волков", 0, None, "MSK branch")]
    assert shell.query("SELECT COUNT(*) FROM users WHERE is_active = 0")[0][0] == 1

    # The private client: "Кузьмин Олег Петрович" is Фамилия Имя Отчество, field by field; both numbers of the
    # two-phone cell are kept as work phones, the mobile one as mobile, the personal e-mail as a home one.
    person = b2c[0]
    surname, first, patronymic = person["Полное имя"].split()
    row = shell.query("SELECT c.id, c.last_name, c.first_name, c.patronymic, a.is_person FROM contacts c "
                      "JOIN accounts a ON a.id = c.account_id WHERE c.external_id = ?", person["ID"])
    assert [tuple(row[0][1:])] == [(surname, first, patronymic, 1)]
    contact_id = row[0][0]
    channels = shell.query("SELECT type, kind, value FROM contact_channels WHERE contact_id = ? "
                           "ORDER BY type, kind, value", contact_id)
    work = [e164(number) for number in person["Рабочий телефон"].split(",")]
    assert len(work) == 2
    assert sorted(channels) == sorted([("phone", "work", number) for number in work]
                                      + [("phone", "mobile", e164(person["Мобильный телефон"])),
                                         ("email", "home", person["Личный email"])])
    # Its deal has no company: found by the contact's name and mobile phone, it sits on the private client's
    # account with that contact.
    b2c_deals = [deal for deal in deals if not deal["Компания"]]
    assert [deal["Полное имя контакта"] for deal in b2c_deals] == [person["Полное имя"]]
    linked = shell.query("SELECT c.external_id, a.is_person FROM deals d JOIN contacts c ON c.id = d.contact_id "
                         "JOIN accounts a ON a.id = d.account_id WHERE d.external_id = ?", b2c_deals[0]["ID"])
    assert linked == [(person["ID"], 1)]

    # The deal amoCRM wrote on two rows (one per product) is one deal with the file's budget.
    repeated = [deal for deal in AMO_DEALS if deal["ID"] == "51002"]
    assert len(repeated) == 2 and repeated[0]["Товар"] != repeated[1]["Товар"]
    # SQLite keeps money as whole kopecks (crmpm.database.Money).
    assert shell.query("SELECT amount FROM deals WHERE external_id = '51002'") == \
        [(int(rub(repeated[0]["Бюджет"]) * 100),)]

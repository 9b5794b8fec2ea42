"""Private clients (B2C) through the import: contacts and deals without a company, deals finding their contact."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from accounts.models import Account, Contact, Deal
from eps.models import EpsNode
from tests import factories

CONTACTS = {
    "columns": {"ID": "external_id", "ФИО": "name", "Имя": "first_name", "Фамилия": "last_name",
                "Компания": "account", "Телефон": "phone", "Email": "email", "Филиал": "region"},
}
# amoCRM's contacts: most without a company; first/last columns exist but are empty when only "ФИО" was filled.
CONTACTS_CSV = (
    "ID,ФИО,Имя,Фамилия,Компания,Телефон,Email,Филиал\n"
    "C1,Иванов Иван Иванович,,,,+7 916 123-45-67,ivan@example.ru,A\n"
    "C2,Петрова Марина Сергеевна,,,,8 (903) 111-22-33,,A\n"
    "C3,,Анна,Ким,ООО Ладога,+7 495 000-00-01,,\n"
)
DEALS = {
    "columns": {"ID": "external_id", "Название": "title", "Этап": "stage", "Бюджет": "amount",
                "Основной контакт": "contact_name", "Телефон контакта": "contact_phone",
                "ID контакта": "contact", "Компания": "account"},
    "defaults": {"currency": "RUB", "region": "A"},
    "pipeline": "Розница",
}


def _world_with_company(session, world):
    company = factories.account(session, actor=world["admin"], region=world["A"], name="ООО Ладога")
    session.commit()
    return company


def test_contacts_without_a_company_become_private_clients_on_their_branch(session, world, run):
    company = _world_with_company(session, world)
    report = run(world["admin"], "contacts", CONTACTS_CSV, CONTACTS)
    assert report.committed and (report.created, report.error_lines) == (3, [])

    ivan = session.scalar(select(Contact).where(Contact.external_id == "C1"))
    assert (ivan.last_name, ivan.first_name, ivan.patronymic) == ("Иванов", "Иван", "Иванович")
    person = ivan.account
    # A person account: named after the person (surname first), on branch A, with its own EPS node there.
    assert person.is_person and person.name == "Иванов Иван Иванович"
    assert person.region_node_id == world["A"].id and person.eps_node.parent_id == world["A"].id
    assert session.get(EpsNode, person.eps_node_id).name == "Иванов Иван Иванович"
    marina = session.scalar(select(Contact).where(Contact.external_id == "C2"))
    assert marina.account.is_person and marina.account.name == "Петрова Марина Сергеевна"
    assert marina.account_id != person.id
    # A row naming its company stays a company's contact.
    kim = session.scalar(select(Contact).where(Contact.external_id == "C3"))
    assert kim.account_id == company.id and not company.is_person and (kim.first_name, kim.last_name) == (
        "Анна", "Ким")

    again = run(world["admin"], "contacts", CONTACTS_CSV, CONTACTS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert session.scalar(select(func.count()).select_from(Account).where(Account.is_person)) == 2


def test_a_private_client_without_a_branch_is_an_error_on_its_line(session, world, run):
    text = "ID,ФИО,Имя,Фамилия,Компания,Телефон,Email,Филиал\nC9,Сидоров Пётр,,,,,,\n"
    report = run(world["admin"], "contacts", text, CONTACTS)
    assert not report.committed
    (error,) = report.errors
    assert (error.line, error.column) == (2, "Компания")
    assert "region" in error.reason


def test_deals_find_their_contact_by_external_id_or_by_name_and_phone(session, world, run):
    _world_with_company(session, world)
    assert run(world["admin"], "contacts", CONTACTS_CSV, CONTACTS).committed
    text = (
        "ID,Название,Этап,Бюджет,Основной контакт,Телефон контакта,ID контакта,Компания\n"
        # By name and phone, the name in another order and without the patronymic.
        'D1,Лизинг авто,Переговоры,"1 000 000 руб.",Иванов Иван,8 916 123 45 67,,\n'
        # By the contact's external id.
        "D2,Кухня,Переговоры,250000,,,C2,\n"
        # Nobody has this name and phone: a new private client on the default branch.
        "D3,Ремонт,Переговоры,500,Сидоров Пётр Петрович,+7 999 000-11-22,,\n"
        # The same person again: found, not made twice.
        "D4,Ремонт 2,Переговоры,700,Сидоров Пётр,+7 999 000-11-22,,\n"
        # Initials, as exports write them.
        "D5,Страховка,Переговоры,900,Иванов И.И.,+7 916 123-45-67,,\n"
    )
    report = run(world["admin"], "deals", text, DEALS)
    assert report.committed and (report.created, report.error_lines) == (5, [])
    deals = {deal.external_id: deal for deal in session.scalars(select(Deal))}
    ivan = session.scalar(select(Contact).where(Contact.external_id == "C1"))
    marina = session.scalar(select(Contact).where(Contact.external_id == "C2"))
    assert (deals["D1"].contact_id, deals["D1"].account_id) == (ivan.id, ivan.account_id)
    assert (deals["D2"].contact_id, deals["D2"].account_id) == (marina.id, marina.account_id)
    assert deals["D1"].amount == Decimal("1000000.00")
    sidorov = session.get(Contact, deals["D3"].contact_id)
    assert (sidorov.last_name, sidorov.first_name, sidorov.patronymic) == ("Сидоров", "Пётр", "Петрович")
    assert sidorov.phone == "+79990001122" and sidorov.account.is_person
    assert sidorov.account.name == "Сидоров Пётр Петрович" and sidorov.account.region_node_id == world["A"].id
    assert deals["D4"].contact_id == sidorov.id and deals["D4"].account_id == sidorov.account_id
    assert deals["D5"].contact_id == ivan.id
    # The deal is a project under the person account's node, inside branch A: one tree, rights as for companies.
    project = deals["D3"].project
    assert project.eps_node_id == sidorov.account.eps_node_id
    assert project.path.startswith(world["A"].path)

    again = run(world["admin"], "deals", text, DEALS)
    assert (again.created, again.unchanged, again.error_lines) == (0, 5, [])
    assert session.scalar(select(func.count()).select_from(Account).where(Account.is_person)) == 3


def test_a_name_that_does_not_match_the_phone_is_not_taken_for_another_person(session, world, run):
    _world_with_company(session, world)
    assert run(world["admin"], "contacts", CONTACTS_CSV, CONTACTS).committed
    text = ("ID,Название,Этап,Бюджет,Основной контакт,Телефон контакта,ID контакта,Компания\n"
            "D1,Лизинг,Переговоры,1,Петров Пётр,+79161234567,,\n")
    mapping = {**DEALS, "defaults": {"currency": "RUB"}}  # no branch: a private client cannot be made
    report = run(world["admin"], "deals", text, mapping)
    assert not report.committed
    (error,) = report.errors
    assert (error.line, error.column, error.value) == (2, "Основной контакт", "Петров Пётр")
    assert session.scalar(select(func.count()).select_from(Deal)) == 0


def test_a_manager_makes_private_clients_only_on_the_branch_they_may_edit(session, world, run):
    text = ("ID,ФИО,Имя,Фамилия,Компания,Телефон,Email,Филиал\n"
            "C1,Иванов Иван,,,,,,A\n"
            "C2,Петров Пётр,,,,,,B\n")
    report = run(world["manager"], "contacts", text, CONTACTS)
    assert not report.committed and report.error_lines == [3]
    assert report.errors[0].column == "Филиал"
    assert report.refusal().status in (403, 404, 422)
    partial = run(world["manager"], "contacts", text, CONTACTS, partial=True)
    assert partial.committed and partial.created == 1
    (person,) = session.scalars(select(Account).where(Account.is_person)).all()
    assert person.region_node_id == world["A"].id


def test_dry_run_tells_what_the_real_run_does(session, world, run):
    dry = run(world["admin"], "contacts", CONTACTS_CSV.replace(",ООО Ладога,", ",,"), CONTACTS, dry_run=True)
    assert session.scalar(select(func.count()).select_from(Contact)) == 0
    real = run(world["admin"], "contacts", CONTACTS_CSV.replace(",ООО Ладога,", ",,"), CONTACTS)
    assert {**dry.counts(), "dry_run": None, "committed": None} == {**real.counts(), "dry_run": None,
                                                                    "committed": None}
    assert dry.errors == real.errors

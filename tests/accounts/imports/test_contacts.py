"""Contacts through the import: Russian full names with patronymics, and a contact's link to its deal."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import Contact, Deal
from tests import factories

NAMES = {
    "columns": {"ID": "external_id", "ФИО": "name", "Имя": "first_name", "Фамилия": "last_name",
                "Отчество": "patronymic", "Компания": "account"},
}
NAMES_CSV = (
    "ID,ФИО,Имя,Фамилия,Отчество,Компания\n"
    "P1,Иванов Иван Иванович,,,,ACC-1\n"          # the full name wins over empty parts
    "P2,Иван Петрович Сидоров,,,,ACC-1\n"         # Имя Отчество Фамилия
    "P3,Петрова Марина,,,,ACC-1\n"                # two words: Фамилия Имя
    "P4,Марина Петрова,,,,ACC-1\n"                # two words, only the second a surname: Имя Фамилия
    "P5,John Ronald Tolkien,,,,ACC-1\n"           # Latin: the Western order
    "P6,Что угодно,Анна,Ким,Сергеевна,ACC-1\n"    # given parts win over the full name
)
EXPECTED = {  # external id: (last name, first name, patronymic), worked out by the documented rule
    "P1": ("Иванов", "Иван", "Иванович"), "P2": ("Сидоров", "Иван", "Петрович"), "P3": ("Петрова", "Марина", ""),
    "P4": ("Петрова", "Марина", ""), "P5": ("Tolkien", "John Ronald", ""), "P6": ("Ким", "Анна", "Сергеевна"),
}


def _company(session, world):
    account = factories.account(session, actor=world["admin"], region=world["A"], name="ООО Насосы",
                                external_id="ACC-1")
    session.commit()
    return account


def test_full_names_are_split_in_the_russian_order_with_patronymics(session, world, run):
    _company(session, world)
    report = run(world["admin"], "contacts", NAMES_CSV, NAMES)
    assert report.committed and report.created == 6
    got = {contact.external_id: (contact.last_name, contact.first_name, contact.patronymic)
           for contact in session.scalars(select(Contact))}
    assert got == EXPECTED
    assert session.scalar(select(Contact).where(Contact.external_id == "P1")).name == "Иван Иванович Иванов"
    again = run(world["admin"], "contacts", NAMES_CSV, NAMES)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)


def test_a_private_client_follows_the_name_of_its_person(session, world, run):
    mapping = {"columns": {"ID": "external_id", "ФИО": "name"}, "defaults": {"region": "A"}}
    run(world["admin"], "contacts", "ID,ФИО\nP1,Иванова Анна\n", mapping)
    contact = session.scalar(select(Contact).where(Contact.external_id == "P1"))
    assert contact.account.name == "Иванова Анна"
    report = run(world["admin"], "contacts", "ID,ФИО\nP1,Смирнова Анна Петровна\n", mapping)
    assert report.updated == 1
    assert contact.account.name == "Смирнова Анна Петровна"
    assert contact.account.eps_node.name == "Смирнова Анна Петровна"


DEAL_LINK = {"columns": {"ID": "external_id", "NAME": "first_name", "LAST_NAME": "last_name",
                         "COMPANY_ID": "account", "DEAL_ID": "deal"}}


def test_a_contacts_deal_link_makes_it_the_deals_contact(session, world, run):
    account = _company(session, world)
    pipeline = factories.pipeline(session, name="Продажи")
    deal = factories.deal(session, actor=world["admin"], account=account, pipeline=pipeline, external_id="DL-1")
    session.commit()
    text = ("ID,NAME,LAST_NAME,COMPANY_ID,DEAL_ID\n"
            "17,Анна,Ким,ACC-1,DL-1\n"
            "18,Пётр,Сидоров,ACC-1,DL-404\n")   # a deal not imported yet: said in the report, not dropped
    report = run(world["admin"], "contacts", text, DEAL_LINK)
    assert report.committed and report.created == 2
    kim = session.scalar(select(Contact).where(Contact.external_id == "17"))
    assert session.get(Deal, deal.id).contact_id == kim.id
    assert any(note.startswith("line 3: deal 'DL-404' is not imported yet") for note in report.notes)
    again = run(world["admin"], "contacts", text, DEAL_LINK)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_a_deal_link_to_another_accounts_deal_is_an_error(session, world, run):
    account = _company(session, world)
    other = factories.account(session, actor=world["admin"], region=world["A"], name="АО Весна")
    pipeline = factories.pipeline(session, name="Продажи")
    factories.deal(session, actor=world["admin"], account=other, pipeline=pipeline, external_id="DL-2")
    session.commit()
    report = run(world["admin"], "contacts", "ID,NAME,LAST_NAME,COMPANY_ID,DEAL_ID\n17,Анна,Ким,ACC-1,DL-2\n",
                 DEAL_LINK)
    assert not report.committed
    (error,) = report.errors
    assert (error.line, error.column, error.value) == (2, "DEAL_ID", "DL-2")
    assert account.id != other.id

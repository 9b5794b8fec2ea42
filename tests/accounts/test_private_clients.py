"""Private clients (B2C) outside the import: the service, the API and a lead naming a person but no company."""

from __future__ import annotations

from sqlalchemy import inspect

from accounts import leads, services
from accounts.models import Account, Contact, Deal
from eps.models import EpsNode, Role
from tests import factories
from tests.accounts.fixtures import admin, api  # noqa: F401 - fixtures


def _branch(session, admin):
    root = factories.node(session, actor=admin, code="ENT")
    branch = factories.node(session, actor=admin, parent=root, code="MSK")
    session.commit()
    return branch


def test_a_private_client_is_a_contact_with_an_account_of_its_own(session, admin):
    branch = _branch(session, admin)
    contact = services.create_private_client(session, actor=admin, region=branch, first_name="Иван",
                                             last_name="Иванов", patronymic="Иванович", phone="8 916 123-45-67")
    account = contact.account
    assert account.is_person and account.name == "Иванов Иван Иванович"
    assert account.eps_node.parent_id == branch.id and contact.phone == "+79161234567"
    services.update_contact(session, actor=admin, contact=contact, last_name="Петров")
    assert account.name == "Петров Иван Иванович" and account.eps_node.name == "Петров Иван Иванович"


def test_a_private_client_rolled_back_with_its_savepoint_leaves_no_copy_in_the_session(session, admin):
    """An import row's savepoint rolled back takes the client's contact, account and node with it: none stays in
    the session as a copy of a row that is gone (on SQLite the next node would take its id and clash with it)."""
    branch = _branch(session, admin)
    savepoint = session.begin_nested()
    contact = services.create_private_client(session, actor=admin, region=branch, first_name="Анна",
                                             last_name="Ким", phone="8 916 765-43-21")
    account, node = contact.account, contact.account.eps_node  # as the import reads them, after the service
    made = [(Contact, contact.id), (Account, account.id), (EpsNode, node.id)]
    savepoint.rollback()
    assert [inspect(obj).transient for obj in (contact, account, node)] == [True, True, True]
    assert [session.get(model, row_id) for model, row_id in made] == [None, None, None]
    again = services.create_private_client(session, actor=admin, region=branch, first_name="Анна", last_name="Ким")
    assert again.account.eps_node.parent_id == branch.id


def test_a_lead_naming_a_person_but_no_company_qualifies_into_a_private_client(session, admin):
    branch = _branch(session, admin)
    pipeline = factories.pipeline(session, name="Лизинг")
    lead = leads.create_lead(session, actor=admin, region=branch, contact_name="Сидоров Пётр Петрович",
                             phone="+7 999 000-11-22", product="Лизинг авто")
    qualified = leads.qualify_lead(session, actor=admin, lead=lead, pipeline=pipeline)
    deal = session.get(Deal, qualified.deal.id)
    assert qualified.account.is_person and qualified.account.name == "Сидоров Пётр Петрович"
    contact = qualified.contact
    assert (contact.last_name, contact.first_name, contact.patronymic) == ("Сидоров", "Пётр", "Петрович")
    assert deal.account_id == qualified.account.id and deal.contact_id == contact.id
    assert deal.project.eps_node_id == qualified.account.eps_node_id


def test_api_private_clients_and_full_names(api, session, admin):
    branch = _branch(session, admin)
    seller = factories.user(session, name="Seller")
    factories.grant(session, actor=admin, role=Role.editor, target=branch, user=seller)
    session.commit()
    made = api.post("/api/v1/contacts", user=seller, json={"region_node_id": branch.id,
                                                           "full_name": "Иванова Анна Сергеевна"})
    assert made.status_code == 201, made.json
    assert (made.json["last_name"], made.json["first_name"], made.json["patronymic"]) == (
        "Иванова", "Анна", "Сергеевна")
    account = api.get(f"/api/v1/accounts/{made.json['account_id']}", user=seller).json
    assert account["is_person"] is True and account["name"] == "Иванова Анна Сергеевна"
    people = api.get("/api/v1/accounts?is_person=true", user=seller).json["items"]
    assert [item["id"] for item in people] == [account["id"]]
    both = api.post("/api/v1/contacts", user=seller, json={"region_node_id": branch.id,
                                                           "account_id": account["id"], "last_name": "X"})
    assert both.status_code == 422
    renamed = api.patch(f"/api/v1/contacts/{made.json['id']}", user=seller, json={"full_name": "Петрова Анна"})
    # A full name is the whole name: the patronymic it does not give is gone.
    assert (renamed.json["last_name"], renamed.json["first_name"], renamed.json["patronymic"]) == (
        "Петрова", "Анна", "")
    assert api.get(f"/api/v1/accounts/{account['id']}", user=seller).json["name"] == "Петрова Анна"
    outsider = factories.user(session, name="Outsider")
    session.commit()
    refused = api.post("/api/v1/contacts", user=outsider, json={"region_node_id": branch.id, "full_name": "Ким Анна"})
    assert refused.status_code == 404

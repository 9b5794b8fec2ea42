"""Contact pages: a new contact, the card with every phone and e-mail and the person's timeline, edit, merge,
and tasks with a reminder from the contact, account and deal pages; rights follow the contact's account."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html import unescape

import pytest
from sqlalchemy import func, select

from accounts import activities
from accounts.models import ChannelType, Contact, ContactChannel, Deal, Task
from eps.models import Role
from tests import factories


def _at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=timezone.utc)


@pytest.fixture
def people(session, admin, world):
    """Account Alpha in branch A (an editor and a viewer there) with Anna, who has a deal, a touch and a task;
    Anna's duplicate Anya (same mobile); Bob at an account in branch B, out of their reach."""
    pipeline = factories.pipeline(session)
    editor, viewer = factories.user(session, name="Eda Editor"), factories.user(session, name="Vic Viewer")
    factories.grant(session, actor=admin, role=Role.editor, target=world["A"], user=editor)
    factories.grant(session, actor=admin, role=Role.viewer, target=world["A"], user=viewer)
    outsider = factories.user(session, name="Olaf Outsider")
    alpha = factories.account(session, actor=admin, region=world["A"], name="Alpha Mills")
    hidden = factories.account(session, actor=admin, region=world["B"], name="Bravo Secret")
    anna = factories.contact(session, actor=admin, account=alpha, first_name="Anna", last_name="Petrova",
                             title="Buyer", email="anna@alpha.example", phone="8 916 123-45-67")
    anya = factories.contact(session, actor=admin, account=alpha, first_name="Anya", last_name="P.",
                             phone="+7 916 123 45 67")
    bob = factories.contact(session, actor=admin, account=hidden, first_name="Bob", last_name="Hidden")
    deal = factories.deal(session, actor=admin, account=alpha, pipeline=pipeline, contact=anya)
    touch = factories.interaction(session, actor=admin, account=alpha, contact=anna, occurred_at=_at("2026-03-01"),
                                  subject="Anna's first call")
    factories.interaction(session, actor=admin, account=alpha, occurred_at=_at("2026-03-02"),
                          subject="Call with somebody else")
    task = activities.create_task(session, actor=admin, title="Send Anya the offer", account=alpha, contact=anya,
                                  due_at=datetime.now(timezone.utc) + timedelta(days=2))
    session.commit()
    return {"editor": editor, "viewer": viewer, "outsider": outsider, "alpha": alpha, "hidden": hidden,
            "anna": anna, "anya": anya, "bob": bob, "deal": deal, "touch": touch, "task": task,
            "pipeline": pipeline}


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _flashes(pages, response) -> str:
    assert response.status_code == 303
    return unescape(pages.get(response.headers["Location"]).get_data(as_text=True))


# The card


def test_card_shows_person_account_channels_and_only_their_timeline(pages, session, people):
    anna = people["anna"]
    session.add(ContactChannel(contact_id=anna.id, type=ChannelType.phone, kind="home", value="+74951234567",
                               position=1))
    session.commit()
    body = pages.log_in_as(people["viewer"]).get(f"/crm/contacts/{anna.id}").get_data(as_text=True)
    assert "Anna Petrova" in body and "Buyer" in body
    assert f'href="/crm/accounts/{people["alpha"].id}"' in body
    assert 'href="tel:+79161234567"' in body and 'href="tel:+74951234567"' in body
    assert 'href="mailto:anna@alpha.example"' in body
    assert "home" in body
    entries = re.findall(r'data-entry="([a-z_]+-\d+)"', body)
    assert entries == [f"interaction-{people['touch'].id}"]  # not the account's other call, not Anya's task
    # A viewer sees no edit, merge or task form.
    assert 'action="/crm/contacts/%d"' % anna.id not in body
    assert "/merge" not in body and f"/crm/contacts/{anna.id}/tasks" not in body


def test_card_of_a_contact_the_user_may_not_read_is_404(pages, people):
    for user in (people["viewer"], people["outsider"]):
        response = pages.log_in_as(user).get(f"/crm/contacts/{people['bob'].id}")
        assert response.status_code == 404
        assert "Bob" not in response.get_data(as_text=True)
    assert pages.log_in_as(people["viewer"]).get("/crm/contacts/999999").status_code == 404


def test_account_page_links_its_contacts_and_offers_a_new_one(pages, people):
    alpha = people["alpha"]
    body = pages.log_in_as(people["editor"]).get(f"/crm/accounts/{alpha.id}").get_data(as_text=True)
    assert f'href="/crm/contacts/{people["anna"].id}"' in body and f'href="/crm/contacts/{people["anya"].id}"' in body
    assert f'href="/crm/contacts/new?account_id={alpha.id}"' in body
    viewer_body = pages.log_in_as(people["viewer"]).get(f"/crm/accounts/{alpha.id}").get_data(as_text=True)
    assert "/crm/contacts/new" not in viewer_body


# A new contact


def test_new_contact_form_preselects_the_account(pages, people):
    alpha = people["alpha"]
    body = pages.log_in_as(people["editor"]).get(f"/crm/contacts/new?account_id={alpha.id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{alpha.id}">|<option value="{alpha.id}" selected>', body)
    assert 'name="channels-0-value"' in body and 'name="channels-1-value"' in body
    assert pages.get(f"/crm/contacts/new?account_id={people['hidden'].id}").status_code == 404


def test_create_contact_with_several_phones_and_emails(pages, session, people):
    alpha = people["alpha"]
    response = pages.log_in_as(people["editor"]).post("/crm/contacts/new", {
        "account_id": alpha.id, "first_name": "Ivan", "last_name": "Sidorov", "title": "CFO",
        "channels-0-type": "phone", "channels-0-kind": "mobile", "channels-0-value": "8 (903) 111-22-33",
        "channels-1-type": "email", "channels-1-kind": "work", "channels-1-value": "Ivan@Alpha.Example",
        "channels-2-type": "phone", "channels-2-kind": "work", "channels-2-value": "+7 495 765-43-21",
        "channels-3-type": "email", "channels-3-kind": "home", "channels-3-value": ""})
    assert response.status_code == 303
    contact = session.scalars(select(Contact).where(Contact.last_name == "Sidorov")).one()
    assert response.headers["Location"].endswith(f"/crm/contacts/{contact.id}")
    assert contact.account_id == alpha.id and contact.title == "CFO"
    assert contact.phone == "+79031112233" and contact.email == "ivan@alpha.example"
    assert [(c.type.value, c.kind.value, c.value) for c in contact.channels] == [
        ("email", "work", "ivan@alpha.example"), ("phone", "mobile", "+79031112233"),
        ("phone", "work", "+74957654321")]


@pytest.mark.parametrize("data, field", [
    ({"channels-0-type": "phone", "channels-0-kind": "work", "channels-0-value": "12"}, "phone 1"),
    ({"channels-0-type": "email", "channels-0-kind": "work", "channels-0-value": "not an address"}, "e-mail 1"),
    ({"last_name": "", "first_name": ""}, "name"),
    ({"account_id": ""}, "Account"),
])
def test_bad_input_comes_back_naming_the_field_and_keeps_nothing(pages, session, people, data, field):
    before = _count(session, Contact), _count(session, ContactChannel)
    form = {"account_id": people["alpha"].id, "last_name": "Somebody", **data}
    referer = {"Referer": "http://localhost/crm/contacts/new"}
    page = _flashes(pages, pages.log_in_as(people["editor"]).post("/crm/contacts/new", form, headers=referer))
    assert field in page
    assert (_count(session, Contact), _count(session, ContactChannel)) == before


def test_viewer_may_not_create_a_contact(pages, session, people):
    before = _count(session, Contact)
    response = pages.log_in_as(people["viewer"]).post("/crm/contacts/new", {
        "account_id": people["alpha"].id, "last_name": "Nope"})
    assert response.status_code == 403
    assert _count(session, Contact) == before


# Edit


def test_edit_adds_a_second_phone_and_keeps_the_primary(pages, session, people):
    anna = people["anna"]
    response = pages.log_in_as(people["editor"]).post(f"/crm/contacts/{anna.id}", {
        "first_name": "Anna", "last_name": "Petrova", "title": "Head of purchasing",
        "channels-0-type": "phone", "channels-0-kind": "work", "channels-0-value": "+79161234567",
        "channels-1-type": "email", "channels-1-kind": "work", "channels-1-value": "anna@alpha.example",
        "channels-2-type": "phone", "channels-2-kind": "mobile", "channels-2-value": "8 999 000-11-22"})
    assert response.status_code == 303
    session.expire_all()
    anna = session.get(Contact, anna.id)
    assert anna.title == "Head of purchasing" and anna.phone == "+79161234567"
    assert [(c.kind.value, c.value) for c in anna.channels_of(ChannelType.phone)] == [
        ("work", "+79161234567"), ("mobile", "+79990001122")]
    body = pages.get(f"/crm/contacts/{anna.id}").get_data(as_text=True)
    assert 'href="tel:+79990001122"' in body


def test_viewer_may_not_edit_and_nothing_changes(pages, session, people):
    anna = people["anna"]
    response = pages.log_in_as(people["viewer"]).post(f"/crm/contacts/{anna.id}", {
        "first_name": "X", "last_name": "Y"})
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Contact, anna.id).first_name == "Anna"
    assert pages.log_in_as(people["viewer"]).post(f"/crm/contacts/{people['bob'].id}",
                                                  {"last_name": "Y"}).status_code == 404


# Merge


def test_card_offers_duplicates_and_merge_moves_history(pages, session, people):
    anna, anya = people["anna"], people["anya"]
    pages.log_in_as(people["editor"])
    body = pages.get(f"/crm/contacts/{anna.id}").get_data(as_text=True)
    assert f'<option value="{anya.id}">' in body
    response = pages.post(f"/crm/contacts/{anna.id}/merge", {"merge_id": anya.id})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Contact, anya.id).merged_into_id == anna.id
    assert session.get(Deal, people["deal"].id).contact_id == anna.id
    assert session.get(Task, people["task"].id).contact_id == anna.id
    body = pages.get(f"/crm/contacts/{anna.id}").get_data(as_text=True)
    assert "Send Anya the offer" in body  # the open task moved with the person


def test_merge_refused_for_a_viewer_and_an_unreadable_duplicate(pages, session, people):
    anna = people["anna"]
    assert pages.log_in_as(people["viewer"]).post(f"/crm/contacts/{anna.id}/merge",
                                                  {"merge_id": people["anya"].id}).status_code == 403
    response = pages.log_in_as(people["editor"]).post(f"/crm/contacts/{anna.id}/merge",
                                                      {"merge_id": people["bob"].id})
    assert response.status_code == 404 and "Bob" not in response.get_data(as_text=True)
    page = _flashes(pages, pages.post(f"/crm/contacts/{anna.id}/merge", {"merge_id": anna.id},
                                      headers={"Referer": f"http://localhost/crm/contacts/{anna.id}"}))
    assert "cannot be merged into itself" in page
    session.expire_all()
    assert session.get(Contact, people["anya"].id).merged_into_id is None


# Tasks from each page


def _task_form(page: str, action: str) -> dict:
    form = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, re.S)
    assert form, f"no form posting to {action}"
    return dict(re.findall(r'name="(assignee_id|next)"[^>]*value="([^"]*)"', form.group(0)))


@pytest.mark.parametrize("where", ["contact", "account", "deal"])
def test_task_with_reminder_from_each_page(pages, session, people, where):
    editor, anna, alpha, deal = people["editor"], people["anna"], people["alpha"], people["deal"]
    page_url, action = {
        "contact": (f"/crm/contacts/{anna.id}", f"/crm/contacts/{anna.id}/tasks"),
        "account": (f"/crm/accounts/{alpha.id}", f"/crm/accounts/{alpha.id}/tasks"),
        "deal": (f"/crm/deals/{deal.id}", f"/crm/deals/{deal.id}/tasks"),
    }[where]
    body = pages.log_in_as(editor).get(page_url).get_data(as_text=True)
    assert 'name="remind_at"' in body
    # The assignees offered are the people who may read the account: the editor and the viewer, not the outsider.
    picker = re.search(r'name="assignee_id".*?</select>', body, re.S).group(0)
    options = re.findall(r'<option[^>]*value="(\d+)"', picker)
    assert {int(o) for o in options} >= {editor.id, people["viewer"].id}
    assert people["outsider"].id not in {int(o) for o in options}
    response = pages.post(action, {"title": f"Call from the {where} page", "assignee_id": people["viewer"].id,
                                   "due_at": "2027-02-01T15:30", "remind_at": "2027-02-01T09:00"})
    assert response.status_code == 303
    task = session.scalars(select(Task).where(Task.title == f"Call from the {where} page")).one()
    assert task.assignee_id == people["viewer"].id and task.account_id == alpha.id
    assert task.contact_id == (anna.id if where == "contact" else None)
    assert task.deal_id == (deal.id if where == "deal" else None)
    assert task.due_at - task.remind_at == timedelta(hours=6, minutes=30)
    assert task.due_at.tzinfo is not None
    shown = pages.get(page_url).get_data(as_text=True)
    assert f'data-task="{task.id}"' in shown


def test_task_reminder_after_due_comes_back_naming_it(pages, session, people):
    anna = people["anna"]
    before = _count(session, Task)
    page = _flashes(pages, pages.log_in_as(people["editor"]).post(
        f"/crm/contacts/{anna.id}/tasks",
        {"title": "Late reminder", "assignee_id": people["editor"].id, "due_at": "2027-02-01T09:00",
         "remind_at": "2027-02-01T10:00"}, headers={"Referer": f"http://localhost/crm/contacts/{anna.id}"}))
    assert "reminder" in page.lower()
    assert _count(session, Task) == before


def test_task_for_someone_who_cannot_read_the_account_is_refused(pages, session, people):
    anna = people["anna"]
    before = _count(session, Task)
    page = _flashes(pages, pages.log_in_as(people["editor"]).post(
        f"/crm/contacts/{anna.id}/tasks",
        {"title": "For a stranger", "assignee_id": people["outsider"].id, "due_at": "2027-02-01T09:00"},
        headers={"Referer": f"http://localhost/crm/contacts/{anna.id}"}))
    assert "Assignee" in page
    assert _count(session, Task) == before


def test_viewer_may_not_add_tasks(pages, session, people):
    before = _count(session, Task)
    for action in (f"/crm/contacts/{people['anna'].id}/tasks", f"/crm/accounts/{people['alpha'].id}/tasks"):
        response = pages.log_in_as(people["viewer"]).post(action, {
            "title": "Nope", "assignee_id": people["viewer"].id, "due_at": "2027-02-01T09:00"})
        assert response.status_code == 403
    assert _count(session, Task) == before


def test_card_and_errors_in_russian(pages, session, people):
    editor, anna = people["editor"], people["anna"]
    editor.locale = "ru"
    session.commit()
    body = pages.log_in_as(editor).get(f"/crm/contacts/{anna.id}").get_data(as_text=True)
    assert "Телефоны и e-mail" in body and "рабочий" in body and "Напомнить" in body
    page = _flashes(pages, pages.post(f"/crm/contacts/{anna.id}", {
        "last_name": "Petrova", "channels-0-type": "phone", "channels-0-kind": "work", "channels-0-value": "12"},
        headers={"Referer": f"http://localhost/crm/contacts/{anna.id}"}))
    assert "телефон 1" in page


def test_a_private_client_is_made_on_a_branch_and_shown_as_one(pages, session, people, world):
    pages.log_in_as(people["editor"])
    form = pages.get("/crm/contacts/new").get_data(as_text=True)
    assert 'name="region_node_id"' in form and 'name="patronymic"' in form
    branches = form.split('name="region_node_id"')[1].split("</select>")[0]
    # Only the branches the user may add clients on.
    assert f'value="{world["A"].id}"' in branches and f'value="{world["B"].id}"' not in branches
    response = pages.post("/crm/contacts/new", {"region_node_id": world["A"].id, "first_name": "Иван",
                                                "last_name": "Иванов", "patronymic": "Иванович"})
    assert response.status_code == 303
    contact = session.scalars(select(Contact).where(Contact.last_name == "Иванов")).one()
    assert contact.patronymic == "Иванович" and contact.account.is_person
    card = unescape(pages.get(f"/crm/contacts/{contact.id}").get_data(as_text=True))
    assert "Иван Иванович Иванов" in card and "Private client" in card
    account = unescape(pages.get(f"/crm/accounts/{contact.account_id}").get_data(as_text=True))
    assert "Иванов Иван Иванович" in account and "Private client" in account
    refused = pages.post("/crm/contacts/new", {"region_node_id": world["B"].id, "last_name": "Nope"})
    assert refused.status_code == 404
    assert not session.scalars(select(Contact).where(Contact.last_name == "Nope")).all()

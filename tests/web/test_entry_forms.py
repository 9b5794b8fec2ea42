"""Entering records by hand: a lead from a call, an account (new and edited, duplicates and INN), a deal
(``?stage_id=``, ``?account_id=``, ``?contact_id=``), a deal's product lines, and the board's "+" and won dialog."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from accounts import routing
from accounts.models import Account, Contact, Deal, DealLine, Lead, LeadAssignment, LeadStatus
from accounts.normalize import is_valid_inn
from eps.models import EpsNode, Project, Role
from tests import factories
from wbs import services as wbs_services

D = Decimal
GOOD_INN = "7707083893"  # Sberbank's: check digit 3
BAD_INN = "7707083890"
NEW_INN = "5004001237"


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def entry(session, admin, world):
    """An editor, a viewer and an outsider around branch A; accounts on A and (secret) on B; a pipeline."""
    editor = factories.user(session, name="Erin Editor")
    viewer = factories.user(session, name="Vic Viewer")
    outsider = factories.user(session, name="Otto Outsider")
    factories.grant(session, actor=admin, role=Role.editor, target=world["A"], user=editor)
    factories.grant(session, actor=admin, role=Role.viewer, target=world["A"], user=viewer)
    pipeline = factories.pipeline(session, name="Sales")
    holding = factories.account(session, actor=admin, region=world["A"], name="Acme Holding")
    account = factories.account(session, actor=admin, region=world["A"], name="Acme Mills LLC", tax_id=GOOD_INN)
    contact = factories.contact(session, actor=admin, account=account, first_name="Olga", last_name="Petrova",
                                phone="+79161234567")
    secret = factories.account(session, actor=admin, region=world["B"], name="Secret Shipyard", tax_id="5001122339")
    session.commit()
    return {"editor": editor, "viewer": viewer, "outsider": outsider, "pipeline": pipeline, "holding": holding,
            "account": account, "contact": contact, "secret": secret, **world}


# A lead from a call


def test_the_lead_form_offers_only_branches_the_user_may_add_to(pages, entry):
    body = pages.log_in_as(entry["editor"]).get("/crm/leads/new").get_data(as_text=True)
    assert "<form" in body and 'name="contact_name"' in body and 'name="phone"' in body
    options = dict((int(value), text) for value, text in re.findall(
        r'<option (?:selected )?value="(\d+)"[^>]*>([^<]*)</option>', body))
    assert entry["A"].id in options and entry["B"].id not in options and "Secret" not in body
    # A branch's own account nodes are no branches.
    assert entry["account"].eps_node_id not in options


def test_a_new_lead_is_routed_as_the_api_routes_it(pages, session, admin, entry):
    team = factories.team(session, members=[entry["editor"]])
    routing.create_rule(session, actor=admin, name="Desk A", team=team, members=[{"user_id": entry["editor"].id}])
    session.commit()
    pages.log_in_as(entry["editor"])
    response = pages.post("/crm/leads/new", {
        "region_node_id": entry["A"].id, "contact_name": "Ivan Sidorov", "company": "Volga Timber",
        "phone": "8 (916) 765-43-21", "email": "ivan@volga.example", "source": "call", "message": "Wants a quote"})
    assert response.status_code == 303
    lead = session.scalars(select(Lead).where(Lead.company == "Volga Timber")).one()
    assert response.headers["Location"].endswith(f"/crm/leads/{lead.id}")
    assert (lead.region_node_id, lead.phone, lead.channel, lead.message) == (
        entry["A"].id, "+79167654321", "phone", "Wants a quote")
    assert lead.owner_id == entry["editor"].id and lead.status is LeadStatus.assigned
    assignment = session.scalars(select(LeadAssignment).where(LeadAssignment.lead_id == lead.id)).one()
    assert assignment.user_id == entry["editor"].id and assignment.reason == "round_robin"


def test_a_lead_nobody_can_take_waits_in_the_queue_with_the_reason(pages, session, entry):
    pages.log_in_as(entry["editor"])
    response = pages.post("/crm/leads/new", {"region_node_id": entry["A"].id, "company": "Nobody's Lead"})
    assert response.status_code == 303
    lead = session.scalars(select(Lead).where(Lead.company == "Nobody's Lead")).one()
    assert lead.owner_id is None and lead.routing_reason  # queued, with why
    assert "queue" in pages.get(response.headers["Location"]).get_data(as_text=True)


def test_a_lead_needs_rights_on_its_branch(pages, session, entry):
    before = _count(session, Lead)
    assert pages.log_in_as(entry["viewer"]).get("/crm/leads/new").status_code == 403
    assert pages.post("/crm/leads/new", {"region_node_id": entry["A"].id, "company": "X"}).status_code == 403
    assert pages.log_in_as(entry["outsider"]).post(
        "/crm/leads/new", {"region_node_id": entry["A"].id, "company": "X"}).status_code == 404
    assert pages.log_in_as(entry["editor"]).post(
        "/crm/leads/new", {"region_node_id": entry["B"].id, "company": "X"}).status_code == 404
    assert _count(session, Lead) == before


@pytest.mark.parametrize(("fields", "named"), [
    ({"company": "", "contact_name": ""}, "Company"),
    ({"company": "Acme", "phone": "not a phone"}, "Phone"),
    ({"company": "Acme", "email": "nobody@"}, "Email"),
    ({"company": "Acme", "region_node_id": ""}, "Branch"),
])
def test_a_bad_lead_comes_back_with_the_field_named(pages, session, entry, fields, named):
    before = _count(session, Lead)
    pages.log_in_as(entry["editor"])
    response = pages.post("/crm/leads/new", {"region_node_id": entry["A"].id, **fields})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf"<strong>{named}</strong>", body) and 'aria-invalid="true"' in body
    assert 'value="Acme"' in body or not fields.get("company")  # the form comes back as typed
    assert _count(session, Lead) == before


# Accounts


def _new_account(pages, entry, **fields):
    return pages.post("/crm/accounts/new", {"region_node_id": entry["A"].id, "kind": "prospect", **fields})


def test_a_new_account_is_created_with_its_holding_and_first_contact(pages, session, entry):
    pages.log_in_as(entry["editor"])
    response = _new_account(pages, entry, name="Kama Bearings", tax_id=f"{NEW_INN[:4]} {NEW_INN[4:]}",
                            parent_id=entry["holding"].id, owner_id=entry["editor"].id, sector="Machinery",
                            contact_name="Pavel Orlov", phone="+7 495 123-45-67", email="pavel@kama.example")
    assert response.status_code == 303, response.get_data(as_text=True)
    account = session.scalars(select(Account).where(Account.name == "Kama Bearings")).one()
    assert response.headers["Location"].endswith(f"/crm/accounts/{account.id}")
    assert (account.region_node_id, account.parent_id, account.owner_id, account.sector, account.tax_id) == (
        entry["A"].id, entry["holding"].id, entry["editor"].id, "Machinery", NEW_INN)
    node = session.get(EpsNode, account.eps_node_id)
    assert node.parent_id == entry["A"].id  # its own node under the branch
    person = session.scalars(select(Contact).where(Contact.account_id == account.id)).one()
    assert (person.first_name, person.last_name, person.phone, person.email) == (
        "Pavel", "Orlov", "+74951234567", "pavel@kama.example")


def test_the_inn_is_checked(pages, session, entry):
    assert is_valid_inn(GOOD_INN) and not is_valid_inn(BAD_INN)
    before = _count(session, Account)
    pages.log_in_as(entry["editor"])
    response = _new_account(pages, entry, name="Wrong Digits", tax_id=BAD_INN)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<strong>INN</strong>" in body and "check digits" in body
    assert 'value="Wrong Digits"' in body
    response = _new_account(pages, entry, name="Short Inn", tax_id="12345")
    assert response.status_code == 422 and "10 digits" in response.get_data(as_text=True)
    assert _count(session, Account) == before


@pytest.mark.parametrize(("fields", "reason"), [
    ({"name": "Quite Another Name", "tax_id": GOOD_INN}, "same INN"),
    ({"name": "ООО «Acme Mills»"}, "similar name"),
    ({"name": "Unrelated Works", "contact_name": "Somebody", "phone": "8 916 123 45 67"}, "same phone"),
])
def test_duplicates_are_shown_before_saving_and_saved_once_confirmed(pages, session, entry, fields, reason):
    before = _count(session, Account)
    pages.log_in_as(entry["editor"])
    response = _new_account(pages, entry, **fields)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "data-duplicates" in body and reason in body
    assert f'data-duplicate="{entry["account"].id}"' in body and "Acme Mills LLC" in body
    assert _count(session, Account) == before  # nothing written before the confirmation
    confirmed = re.search(r'name="confirmed" type="hidden" value="([^"]*)"', body).group(1)
    response = _new_account(pages, entry, confirmed=confirmed, **fields)
    assert response.status_code == 303
    assert _count(session, Account) == before + 1


def test_a_changed_name_after_the_warning_is_checked_again(pages, session, entry):
    pages.log_in_as(entry["editor"])
    body = _new_account(pages, entry, name="Acme Mills").get_data(as_text=True)
    confirmed = re.search(r'name="confirmed" type="hidden" value="([^"]*)"', body).group(1)
    again = _new_account(pages, entry, name="Quite Different", tax_id=GOOD_INN, confirmed=confirmed)
    assert again.status_code == 200 and "data-duplicates" in again.get_data(as_text=True)


def test_duplicates_the_user_may_not_read_are_never_named(pages, session, entry):
    pages.log_in_as(entry["editor"])
    response = _new_account(pages, entry, name="Secret Shipyard", tax_id="5001122339")  # B's name and INN
    assert response.status_code == 303  # nothing readable to warn of: saved
    body = pages.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/crm/accounts/{entry['secret'].id}" not in body


def test_accounts_need_rights_on_the_branch(pages, session, entry):
    before = _count(session, Account)
    assert pages.log_in_as(entry["viewer"]).get("/crm/accounts/new").status_code == 403
    assert _new_account(pages, entry, name="Viewer's").status_code == 403
    assert pages.log_in_as(entry["editor"]).post(
        "/crm/accounts/new", {"region_node_id": entry["B"].id, "name": "Into B", "kind": "prospect"}).status_code == 404
    assert _count(session, Account) == before


def test_an_account_is_edited(pages, session, entry):
    account = entry["account"]
    pages.log_in_as(entry["editor"])
    page = pages.get(f"/crm/accounts/{account.id}/edit").get_data(as_text=True)
    assert 'value="Acme Mills LLC"' in page and GOOD_INN in page
    assert f'/crm/accounts/{account.id}/edit' in pages.get(f"/crm/accounts/{account.id}").get_data(as_text=True)
    response = pages.post(f"/crm/accounts/{account.id}/edit", {
        "name": "Acme Mills LLC", "tax_id": GOOD_INN, "kind": "partner", "parent_id": entry["holding"].id,
        "owner_id": "", "sector": "Food", "segment": "Large"})
    assert response.status_code == 303
    session.expire_all()
    assert (account.kind.value, account.parent_id, account.sector, account.segment) == (
        "partner", entry["holding"].id, "Food", "Large")
    bad = pages.post(f"/crm/accounts/{account.id}/edit", {"name": "", "tax_id": BAD_INN, "kind": "partner"})
    assert bad.status_code == 422 and "<strong>Name</strong>" in bad.get_data(as_text=True)
    session.expire_all()
    assert account.name == "Acme Mills LLC"


def test_editing_an_account_needs_edit_rights(pages, session, entry):
    account = entry["account"]
    assert pages.log_in_as(entry["viewer"]).get(f"/crm/accounts/{account.id}/edit").status_code == 403
    assert pages.post(f"/crm/accounts/{account.id}/edit", {"name": "Renamed", "kind": "client"}).status_code == 403
    assert pages.log_in_as(entry["outsider"]).get(f"/crm/accounts/{account.id}/edit").status_code == 404
    assert pages.log_in_as(entry["editor"]).get(f"/crm/accounts/{entry['secret'].id}/edit").status_code == 404
    session.expire_all()
    assert account.name == "Acme Mills LLC"


# Deals


def _selected(body: str, name: str) -> str | None:
    """The value of the selected option of the select ``name``."""
    select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', body, re.S).group(0)
    option = re.search(r"<option[^>]*\bselected\b[^>]*>", select_html)
    return re.search(r'value="([^"]*)"', option.group(0)).group(1) if option else None


def test_stage_id_preselects_the_column_and_its_pipeline(pages, session, entry):
    other = factories.pipeline(session, name="Service")
    session.commit()
    negotiation = entry["pipeline"].stages[2]
    body = pages.log_in_as(entry["editor"]).get(f"/crm/deals/new?stage_id={negotiation.id}").get_data(as_text=True)
    assert _selected(body, "stage_id") == str(negotiation.id)
    group = re.search(r'<optgroup label="([^"]+)">(?:(?!</optgroup>).)*selected', body, re.S).group(1)
    assert group == "Sales"
    body = pages.get(f"/crm/deals/new?stage_id={other.stages[1].id}").get_data(as_text=True)
    assert _selected(body, "stage_id") == str(other.stages[1].id)
    assert pages.get("/crm/deals/new?stage_id=999999").status_code == 404


def test_account_and_contact_are_preselected(pages, entry):
    pages.log_in_as(entry["editor"])
    body = pages.get(f"/crm/deals/new?account_id={entry['account'].id}").get_data(as_text=True)
    assert _selected(body, "account_id") == str(entry["account"].id)
    body = pages.get(f"/crm/deals/new?contact_id={entry['contact'].id}").get_data(as_text=True)
    assert _selected(body, "account_id") == str(entry["account"].id)
    assert _selected(body, "contact_id") == str(entry["contact"].id)
    assert pages.get(f"/crm/deals/new?account_id={entry['secret'].id}").status_code == 404
    account_page = pages.get(f"/crm/accounts/{entry['account'].id}").get_data(as_text=True)
    assert f"/crm/deals/new?account_id={entry['account'].id}" in account_page


def test_a_new_deal_is_created_through_the_one_path(pages, session, entry):
    stage = entry["pipeline"].stages[1]
    pages.log_in_as(entry["editor"])
    response = pages.post("/crm/deals/new", {
        "name": "Mill upgrade", "account_id": entry["account"].id, "contact_id": entry["contact"].id,
        "stage_id": stage.id, "amount": "1 250 000,50", "expected_close": "2027-03-31",
        "owner_id": entry["editor"].id, "product": "ERP"})
    assert response.status_code == 303, response.get_data(as_text=True)
    deal = session.scalars(select(Deal).join(Deal.project).where(Project.name == "Mill upgrade")).one()
    assert response.headers["Location"].endswith(f"/crm/deals/{deal.id}")
    assert (deal.pipeline_id, deal.stage_id, deal.amount, deal.contact_id, deal.owner_id, deal.product) == (
        entry["pipeline"].id, stage.id, D("1250000.50"), entry["contact"].id, entry["editor"].id, "ERP")
    assert deal.project.eps_node_id == entry["account"].eps_node_id
    assert deal.reached_stage_id == stage.id  # the opening history written by create_deal


def test_a_deal_needs_edit_rights_on_its_account(pages, session, entry):
    before = _count(session, Deal)
    stage = entry["pipeline"].stages[0]
    pages.log_in_as(entry["viewer"])
    assert pages.post("/crm/deals/new", {"name": "No", "account_id": entry["account"].id,
                                         "stage_id": stage.id}).status_code == 403
    pages.log_in_as(entry["editor"])
    assert pages.post("/crm/deals/new", {"name": "No", "account_id": entry["secret"].id,
                                         "stage_id": stage.id}).status_code == 404
    assert _count(session, Deal) == before


@pytest.mark.parametrize(("fields", "named"), [
    ({"name": ""}, "Name"),
    ({"amount": "lots"}, "Amount"),
    ({"amount": "-5"}, "Amount"),
    ({"account_id": ""}, "Account"),
    ({"stage_id": "abc"}, "Stage"),
])
def test_a_bad_deal_comes_back_with_the_field_named(pages, session, entry, fields, named):
    before = _count(session, Deal)
    pages.log_in_as(entry["editor"])
    response = pages.post("/crm/deals/new", {"name": "Typed", "account_id": entry["account"].id,
                                             "stage_id": entry["pipeline"].stages[0].id, **fields})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and f"<strong>{named}</strong>" in body
    assert _count(session, Deal) == before


def test_a_lost_stage_needs_a_reason_on_the_form(pages, session, entry):
    before = _count(session, Deal)
    lost = entry["pipeline"].stages[4]
    pages.log_in_as(entry["editor"])
    response = pages.post("/crm/deals/new", {"name": "Lost at once", "account_id": entry["account"].id,
                                             "stage_id": lost.id})
    assert response.status_code == 422 and _count(session, Deal) == before


# Product lines


def test_product_lines_are_added_changed_and_removed(pages, session, admin, entry):
    deal = factories.deal(session, actor=admin, account=entry["account"], pipeline=entry["pipeline"])
    session.commit()
    pages.log_in_as(entry["editor"])
    page = pages.get(f"/crm/deals/{deal.id}").get_data(as_text=True)
    assert 'name="product-0"' in page and "data-lines-form" in page
    response = pages.post(f"/crm/deals/{deal.id}/lines", {
        "product-0": "Licence", "quantity-0": "3", "unit_price-0": "1 000,50",
        "product-1": "Setup", "quantity-1": "1", "unit_price-1": "2500",
        "product-2": "", "quantity-2": "1", "unit_price-2": ""})
    assert response.status_code == 303
    session.expire_all()
    assert [(line.product, line.quantity, line.unit_price) for line in deal.lines] == [
        ("Licence", D("3"), D("1000.50")), ("Setup", D("1"), D("2500.00"))]
    assert deal.amount == D("3") * D("1000.50") + D("2500.00")
    response = pages.post(f"/crm/deals/{deal.id}/lines", {
        "product-0": "Licence", "quantity-0": "2", "unit_price-0": "1000.50",
        "product-1": "Setup", "quantity-1": "1", "unit_price-1": "2500", "remove-1": "1"})
    session.expire_all()
    assert [(line.product, line.quantity) for line in deal.lines] == [("Licence", D("2"))]
    assert deal.amount == D("2001.00")
    assert "2001" in pages.get(f"/crm/deals/{deal.id}").get_data(as_text=True).replace("\u00a0", "").replace(",", "")


@pytest.mark.parametrize("row", [
    {"quantity-0": "0", "unit_price-0": "10"}, {"quantity-0": "1", "unit_price-0": "-1"},
    {"quantity-0": "x", "unit_price-0": "10"}, {"quantity-0": "1", "unit_price-0": "ten"},
])
def test_bad_lines_change_nothing(pages, session, admin, entry, row):
    deal = factories.deal(session, actor=admin, account=entry["account"], pipeline=entry["pipeline"],
                          lines=[{"product": "Kept", "quantity": 1, "unit_price": "5"}])
    session.commit()
    pages.log_in_as(entry["editor"])
    response = pages.post(f"/crm/deals/{deal.id}/lines", {"product-0": "Changed", **row})
    assert response.status_code == 303  # back to the page with the reason
    assert "Line 1" in pages.get(response.headers["Location"]).get_data(as_text=True).replace("line 1", "Line 1")
    session.expire_all()
    assert [line.product for line in deal.lines] == ["Kept"]


def test_lines_need_edit_rights(pages, session, admin, entry):
    deal = factories.deal(session, actor=admin, account=entry["account"], pipeline=entry["pipeline"])
    session.commit()
    pages.log_in_as(entry["viewer"])
    assert "data-lines-form" not in pages.get(f"/crm/deals/{deal.id}").get_data(as_text=True)
    assert pages.post(f"/crm/deals/{deal.id}/lines", {"product-0": "X", "unit_price-0": "1"}).status_code == 403
    assert _count(session, DealLine) == 0


# The board


def test_every_board_column_links_to_a_new_deal_in_its_stage(pages, entry):
    body = pages.log_in_as(entry["editor"]).get(f"/crm/pipeline?pipeline={entry['pipeline'].id}").get_data(
        as_text=True)
    links = re.findall(r'href="/crm/deals/new\?stage_id=(\d+)"', body)
    assert links == [str(stage.id) for stage in entry["pipeline"].stages]


def test_the_board_offers_the_won_templates_of_the_deal_page(pages, session, admin, entry):
    template = factories.project(session, actor=admin, node=entry["A1"], code="TPL")
    wbs_services.create_activity(session, actor=admin, project=template, code="T1", name="Kick-off",
                                 original_duration_hours=8.0)
    factories.deal(session, actor=admin, account=entry["account"], pipeline=entry["pipeline"],
                   owner=entry["editor"])
    session.commit()
    body = pages.log_in_as(entry["editor"]).get(f"/crm/pipeline?pipeline={entry['pipeline'].id}").get_data(
        as_text=True)
    dialog = re.search(r"<dialog[^>]*data-won-dialog.*?</dialog>", body, re.S).group(0)
    assert f'value="{template.id}"' in dialog
    # The keyboard's way: the card's Move form carries the same choice.
    move_form = re.search(r'<details class="move-form">.*?</details>', body, re.S).group(0)
    assert 'name="template_project_id"' in move_form and f'value="{template.id}"' in move_form

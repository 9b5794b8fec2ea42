"""The invoice pages: a draft from a deal, issued with its number; milestones billed; the company's details."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from accounts.billing.models import Invoice
from eps.models import Role
from tests import factories


@pytest.fixture
def world(session):
    admin = factories.admin(session)
    region = factories.node(session, actor=admin, code="REG")
    account = factories.account(session, actor=admin, region=region, name="ООО Берёза")
    deal = factories.deal(session, actor=admin, account=account, pipeline=factories.pipeline(session),
                          lines=[{"product": "Проектирование", "quantity": "1", "unit_price": "1000.00"}])
    finance, viewer = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.finance, target=region, user=finance)
    factories.grant(session, actor=admin, role=Role.viewer, target=region, user=viewer)
    session.commit()
    return {"admin": admin, "deal": deal, "finance": finance, "viewer": viewer, "region": region}


def test_invoice_from_a_deal_issued_shows_its_number(pages, session, world):
    pages.log_in_as(world["finance"])
    deal_page = pages.get(f"/crm/deals/{world['deal'].id}")
    assert deal_page.status_code == 200 and f"/finance/deals/{world['deal'].id}/invoice" in deal_page.text
    made = pages.post(f"/finance/deals/{world['deal'].id}/invoice")
    assert made.status_code == 303
    invoice_url = made.headers["Location"]
    page = pages.get(invoice_url)
    assert "Проектирование" in page.text and "draft" in page.text.lower()
    issued = pages.post(f"{invoice_url}/issue", data={"issue_date": "2026-03-02"})
    assert issued.status_code == 303
    invoice = session.scalars(select(Invoice).where(Invoice.deal_id == world["deal"].id)).one()
    session.refresh(invoice)
    assert invoice.number == 1
    assert "No. 1 of" in pages.get(invoice_url).text
    listed = pages.get("/finance/invoices?status=issued")
    assert f'data-invoice="{invoice.id}"' in listed.text


def test_a_viewer_sees_the_invoice_but_no_buttons(pages, session, world):
    pages.log_in_as(world["finance"])
    deal_page = pages.get(f"/crm/deals/{world['deal'].id}")
    invoice_url = pages.post(f"/finance/deals/{world['deal'].id}/invoice",
                             ).headers["Location"]
    pages.log_in_as(world["viewer"])
    page = pages.get(invoice_url)
    assert page.status_code == 200 and "/issue" not in page.text


def test_milestones_are_added_and_invoiced(pages, session, world):
    project_id = world["deal"].project_id
    pages.log_in_as(world["finance"])
    page = pages.get(f"/finance/projects/{project_id}/milestones")
    added = pages.post(f"/finance/projects/{project_id}/milestones",
                       data={"name": "Этап 1", "amount": "1 500,00"})
    assert added.status_code == 303
    page = pages.get(f"/finance/projects/{project_id}/milestones")
    milestone_id = re.search(r'data-milestone="(\d+)"', page.text).group(1)
    made = pages.post(f"/finance/projects/{project_id}/milestones/invoice",
                      data={"milestone_id": milestone_id})
    assert made.status_code == 303
    assert "Этап 1" in pages.get(made.headers["Location"]).text


def test_company_details_are_saved_by_an_administrator(pages, session, world):
    pages.log_in_as(world["admin"])
    page = pages.get("/finance/company")
    saved = pages.post("/finance/company", data={"name": "ООО Вектор",
                                                 "inn": "7707083893", "vat_rate": "0"})
    assert saved.status_code == 303
    pages.log_in_as(world["viewer"])
    assert "ООО Вектор" in pages.get("/finance/company").text
    assert pages.post("/finance/company", data={"name": "x"}).status_code == 403


def test_the_account_form_saves_checked_requisites(pages, session, world):
    account = world["deal"].account
    pages.log_in_as(world["admin"])
    form = {"name": account.name, "kind": account.kind.value, "kpp": "773601001", "bank_bik": "044525225",
            "bank_account": "40702810938000000001"}
    saved = pages.post(f"/crm/accounts/{account.id}/edit", data=form)
    assert saved.status_code == 303
    assert "773601001" in pages.get(f"/crm/accounts/{account.id}").text
    refused = pages.post(f"/crm/accounts/{account.id}/edit", data={**form, "bank_account": "40702810838000000001"})
    assert refused.status_code == 422 and "BIK" in refused.get_data(as_text=True)
    session.refresh(account)
    assert account.bank_account == "40702810938000000001"

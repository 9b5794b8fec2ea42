"""The invoice API: the contract's endpoints, milestones, figures and the company's details."""

from __future__ import annotations

from decimal import Decimal

import pytest

from eps.models import Role
from tests import factories


@pytest.fixture
def world(session, admin):
    region = factories.node(session, actor=admin, code="REG")
    account = factories.account(session, actor=admin, region=region)
    deal = factories.deal(session, actor=admin, account=account, pipeline=factories.pipeline(session),
                          lines=[{"product": "Монтаж", "quantity": "2", "unit_price": "1500.50"}])
    finance, viewer = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.finance, target=region, user=finance)
    factories.grant(session, actor=admin, role=Role.viewer, target=region, user=viewer)
    session.commit()
    return {"region": region, "account": account, "deal": deal, "finance": finance, "viewer": viewer}


def test_an_invoice_from_a_deal_is_created_issued_and_listed(api, world):
    finance = world["finance"]
    response = api.post("/api/v1/invoices", user=finance, json={"deal_id": world["deal"].id, "due_date": "2099-01-31"})
    assert response.status_code == 201, response.json
    body = response.json
    # 2 × 1500.50 = 3001.00; the rate in force today (22 % from 2026).
    assert (body["status"], body["number"], body["subtotal"]) == ("draft", None, "3001.00")
    vat = (Decimal("3001.00") * Decimal(body["vat_rate"]) / 100).quantize(Decimal("0.01"))
    assert Decimal(body["vat_amount"]) == vat and Decimal(body["total"]) == Decimal("3001.00") + vat
    issued = api.post(f"/api/v1/invoices/{body['id']}/issue", user=finance, json={})
    assert issued.status_code == 200 and issued.json["number"] == 1 and issued.json["status"] == "issued"
    listed = api.get("/api/v1/invoices?status=issued", user=world["viewer"]).json
    assert listed["total"] == 1 and listed["items"][0] == api.get(f"/api/v1/invoices/{body['id']}", user=finance).json
    assert api.get("/api/v1/invoices?status=draft", user=finance).json["total"] == 0
    billing = api.get(f"/api/v1/deals/{world['deal'].id}/billing", user=world["viewer"]).json
    assert billing["billed"] == body["total"] and billing["received"] == "0.00"
    node = api.get(f"/api/v1/eps/nodes/{world['region'].id}/billing", user=world["viewer"]).json
    assert node["billed"] == body["total"] and node["outstanding"] == body["total"]


def test_milestones_and_a_manual_invoice(api, world):
    finance, project_id = world["finance"], world["deal"].project_id
    made = api.post(f"/api/v1/projects/{project_id}/billing-milestones", user=finance,
                    json={"name": "Этап 1", "amount": "1000.00", "planned_date": "2026-06-30"})
    assert made.status_code == 201, made.json
    invoice = api.post("/api/v1/invoices", user=finance,
                       json={"project_id": project_id, "milestone_ids": [made.json["id"]]})
    assert invoice.status_code == 201, invoice.json
    assert invoice.json["lines"][0]["milestone_id"] == made.json["id"]
    again = api.post("/api/v1/invoices", user=finance, json={"project_id": project_id, "milestone_ids": [made.json["id"]]})
    assert again.status_code == 409
    manual = api.post("/api/v1/invoices", user=finance, json={
        "project_id": project_id, "lines": [{"description": "Выезд", "quantity": "1.5", "unit_price": "100.00"}]})
    assert manual.status_code == 201 and manual.json["subtotal"] == "150.00"
    assert api.delete(f"/api/v1/invoices/{invoice.json['id']}", user=finance).status_code == 204
    freed = api.get(f"/api/v1/projects/{project_id}/billing-milestones", user=finance).json["items"]
    assert freed[0]["invoice_id"] is None


@pytest.mark.parametrize("body", [{}, {"deal_id": 1, "project_id": 1}, {"project_id": 1},
                                  {"deal_id": "x"}, {"project_id": 1, "lines": []}])
def test_bad_bodies_are_refused_naming_the_field(api, world, body):
    response = api.post("/api/v1/invoices", user=world["finance"], json=body)
    assert response.status_code == 422, response.json


def test_another_currency_is_refused(api, world):
    response = api.post("/api/v1/invoices", user=world["finance"], json={
        "project_id": world["deal"].project_id, "currency": "EUR",
        "lines": [{"description": "x", "quantity": "1", "unit_price": "1.00"}]})
    assert response.status_code == 422 and "currency" in str(response.json)


def test_cancel_needs_a_reason_and_an_act_date_is_set(api, world):
    finance = world["finance"]
    invoice = api.post("/api/v1/invoices", user=finance, json={"deal_id": world["deal"].id}).json
    api.post(f"/api/v1/invoices/{invoice['id']}/issue", user=finance, json={})
    act = api.post(f"/api/v1/invoices/{invoice['id']}/act", user=finance, json={"act_date": "2026-12-01"})
    assert act.status_code == 200 and act.json["act_date"] == "2026-12-01"
    assert api.post(f"/api/v1/invoices/{invoice['id']}/cancel", user=finance, json={}).status_code == 422
    cancelled = api.post(f"/api/v1/invoices/{invoice['id']}/cancel", user=finance, json={"reason": "дубль"})
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert api.delete(f"/api/v1/invoices/{invoice['id']}", user=finance).status_code == 409


def test_company_details_are_read_by_everyone_and_changed_by_admins(api, admin, world):
    assert api.get("/api/v1/company", user=world["viewer"]).status_code == 200
    body = {"name": "ООО Вектор", "inn": "7707083893", "bank_bik": "044525225",
            "bank_corr_account": "30101810400000000225", "vat_rate": "0"}
    assert api.put("/api/v1/company", user=world["finance"], json=body).status_code == 403
    saved = api.put("/api/v1/company", user=admin, json=body)
    assert saved.status_code == 200 and saved.json["inn"] == "7707083893" and saved.json["vat_rate"] == "0.00"
    bad = api.put("/api/v1/company", user=admin, json={"inn": "7707083894"})
    assert bad.status_code == 422 and "inn" in str(bad.json)
    assert api.get("/api/v1/company", user=world["viewer"]).json["name"] == "ООО Вектор"


def test_account_requisites_are_checked_and_read_back(api, admin, world):
    account_id = world["account"].id
    good = {"kpp": "773601001", "ogrn": "1027700132195", "legal_address": "Москва, ул. Вавилова, 19",
            "bank_bik": "044525225", "bank_corr_account": "30101810400000000225",
            "bank_account": "40702810938000000001", "bank_name": "ПАО Сбербанк"}
    saved = api.patch(f"/api/v1/accounts/{account_id}", user=admin, json=good)
    assert saved.status_code == 200, saved.json
    assert {key: saved.json[key] for key in good} == good
    # A new BIK the stored account numbers do not fit: both are named.
    moved = api.patch(f"/api/v1/accounts/{account_id}", user=admin, json={"bank_bik": "044030653"})
    assert moved.status_code == 422 and {"bank_account", "bank_corr_account"} <= set(str(moved.json).split("'"))
    bad = api.post("/api/v1/accounts", user=admin, json={"name": "X", "region_node_id": world["region"].id,
                                                         "ogrn": "1027700132196"})
    assert bad.status_code == 422 and "ogrn" in str(bad.json)

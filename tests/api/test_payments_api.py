"""The bank statement and payment endpoints: the contract's counts, a job for large files, who may do what."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import func, select

from accounts.billing import jobs as billing_jobs
from accounts.billing.models import BankStatement, Payment
from crmpm.jobs.models import Job, JobFile
from eps.models import Role
from tests import factories
from tests.accounts.billing.factories import issued_invoice
from tests.accounts.billing.statements import cp1251, incoming, outgoing, statement

PAYER_INN = "7707083893"


@pytest.fixture
def world(session, admin):
    region = factories.node(session, actor=admin, code="NW")
    elsewhere = factories.node(session, actor=admin, code="SOUTH")
    project = factories.project(session, actor=admin, node=region, code="LADOGA")
    other = factories.project(session, actor=admin, node=elsewhere, code="SOCHI")
    client = factories.account(session, actor=admin, region=region, tax_id=PAYER_INN)
    invoice = issued_invoice(session, project=project, account=client, total="12000.00", number=17)
    hidden_invoice = issued_invoice(session, project=other, account=client, total="55.00", number=99)
    users = {}
    for role in Role:
        users[role.value] = factories.user(session)
        factories.grant(session, actor=admin, role=role, target=region, user=users[role.value])
    users["nobody"] = factories.user(session)
    users["admin"] = admin
    session.commit()
    return {"invoice": invoice, "hidden_invoice": hidden_invoice, "users": users, "project": project}


def _upload(api, user, data: bytes, name="statement.txt"):
    return api.request("POST", "/api/v1/bank-statements", user=user, json=None,
                       data={"file": (BytesIO(data), name)}, content_type="multipart/form-data")


DOCS = (incoming(), incoming(number="600", amount="10.00", purpose="Аванс"), outgoing())


def test_a_statement_reports_its_counts_and_again_every_payment_is_a_duplicate(api, session, world):
    finance = world["users"]["finance"]
    first = _upload(api, finance, cp1251(statement(*DOCS)))
    assert first.status_code == 201, first.json
    assert {key: first.json[key] for key in ("payments", "matched", "unmatched", "duplicates", "skipped")} == {
        "payments": 2, "matched": 1, "unmatched": 1, "duplicates": 0, "skipped": 1}
    again = _upload(api, finance, cp1251(statement(*DOCS)))
    assert {key: again.json[key] for key in ("payments", "matched", "unmatched", "duplicates")} == {
        "payments": 2, "matched": 0, "unmatched": 0, "duplicates": 2}
    assert session.scalar(select(func.count()).select_from(Payment)) == 2
    listed = api.get("/api/v1/bank-statements", user=finance).json
    assert [item["id"] for item in listed["items"]] == [again.json["statement_id"], first.json["statement_id"]]
    invoice = api.get(f"/api/v1/payments?matched=true&statement_id={first.json['statement_id']}", user=finance).json
    assert [item["invoice_id"] for item in invoice["items"]] == [world["invoice"].id]


def test_a_bad_file_is_a_422_naming_the_line_and_records_nothing(api, session, world):
    text = statement(*DOCS).replace("Дата=03.12.2026", "Дата=3 декабря")
    response = _upload(api, world["users"]["finance"], cp1251(text))
    assert response.status_code == 422
    line = text.split("\r\n").index("Дата=3 декабря") + 1
    assert response.json["errors"]["file"][0].startswith(f"line {line}:")
    assert session.scalar(select(func.count()).select_from(BankStatement)) == 0


def test_an_empty_or_missing_file_is_a_422(api, world):
    assert _upload(api, world["users"]["finance"], b"").status_code == 422
    response = api.request("POST", "/api/v1/bank-statements", user=world["users"]["finance"], json=None, data={},
                           content_type="multipart/form-data")
    assert response.status_code == 422


def test_a_large_statement_is_imported_by_a_job(api, app, session, world, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_URL", "memory://")
    monkeypatch.setattr(billing_jobs, "LARGE_DOCUMENTS", 2)
    response = _upload(api, world["users"]["finance"], cp1251(statement(*DOCS)))
    assert response.status_code == 202 and response.headers["Location"] == f"/api/v1/jobs/{response.json['id']}"
    job = session.get(Job, response.json["id"])
    assert job.kind == "finance.import_statement"
    assert session.scalar(select(func.count()).select_from(JobFile).where(JobFile.job_id == job.id)) == 1
    assert session.scalar(select(func.count()).select_from(Payment)) == 0

    from crmpm.jobs.runner import run_job

    run_job(app, job.id)
    session.expire_all()
    job = session.get(Job, job.id)
    assert job.status == "succeeded", job.error
    assert (job.result["payments"], job.result["matched"], job.result["unmatched"]) == (2, 1, 1)


@pytest.mark.parametrize("who, expected", [("admin", 201), ("finance", 201), ("manager", 403), ("editor", 403),
                                           ("viewer", 403), ("nobody", 403)])
def test_only_administrators_and_finance_import(api, world, who, expected):
    assert _upload(api, world["users"][who], cp1251(statement(*DOCS))).status_code == expected


@pytest.mark.parametrize("who", ["admin", "finance", "manager", "editor", "viewer", "nobody"])
def test_the_unmatched_queue_and_its_matching(api, session, world, who):
    _upload(api, world["users"]["admin"], cp1251(statement(incoming(amount="50.00", purpose="за работы"))))
    payment_id = session.scalar(select(Payment.id))
    user = world["users"][who]
    queue = api.get("/api/v1/payments?matched=false", user=user).json["items"]
    handles = who in ("admin", "finance")
    assert [item["id"] for item in queue] == ([payment_id] if handles else [])
    assert api.get("/api/v1/bank-statements", user=user).json["total"] == (1 if handles else 0)
    hidden = api.post(f"/api/v1/payments/{payment_id}/match", user=user,
                      json={"invoice_id": world["hidden_invoice"].id})
    # An invoice of a project the user may not read is not found (an administrator reads it: matched, then undone).
    assert hidden.status_code == (200 if who == "admin" else 404)
    if who == "admin":
        api.post(f"/api/v1/payments/{payment_id}/unmatch", user=user)
    response = api.post(f"/api/v1/payments/{payment_id}/match", user=user, json={"invoice_id": world["invoice"].id})
    assert response.status_code == (200 if handles else 404), response.json
    if handles:
        assert response.json["invoice_id"] == world["invoice"].id and response.json["matched_how"] == "manual"
        assert api.get("/api/v1/payments?matched=false", user=user).json["items"] == []


def test_a_payment_recorded_by_hand_without_invoice_is_queued_for_finance(api, world):
    body = {"amount": "15.50", "paid_on": "2026-12-05", "payer_inn": PAYER_INN, "purpose": "наличными"}
    assert api.post("/api/v1/payments", user=world["users"]["viewer"], json=body).status_code == 403
    response = api.post("/api/v1/payments", user=world["users"]["finance"], json=body)
    assert response.status_code == 201 and response.json["invoice_id"] is None and response.json["amount"] == "15.50"
    bad = api.post("/api/v1/payments", user=world["users"]["finance"], json={**body, "amount": "-1"})
    assert bad.status_code == 422 and "amount" in str(bad.json["errors"])


@pytest.mark.parametrize("who", ["finance", "manager", "editor", "viewer", "nobody"])
def test_lists_and_refusals_name_no_payment_of_a_project_the_user_may_not_read(api, session, admin, world, who):
    from datetime import date
    from decimal import Decimal

    from accounts.billing import payments
    from tests.leaks import hidden_mentions

    hidden = payments.record_payment(session, actor=admin, amount=Decimal("55.00"), paid_on=date(2026, 12, 5),
                                     invoice_id=world["hidden_invoice"].id, payer_name="Тайный плательщик",
                                     purpose="Секретная оплата по счету 99")
    session.commit()
    user = world["users"][who]
    for path in ("/api/v1/payments", "/api/v1/payments?matched=true", "/api/v1/payments?matched=false",
                 "/api/v1/bank-statements"):
        response = api.get(path, user=user)
        assert response.status_code == 200
        assert hidden.id not in [item["id"] for item in response.json["items"]]
        assert hidden_mentions(response.json, [hidden], [path]) == []
    refused = api.get(f"/api/v1/payments/{hidden.id}", user=user)
    assert refused.status_code == 404
    assert hidden_mentions(refused.json, [hidden, world["hidden_invoice"]], [f"/api/v1/payments/{hidden.id}"]) == []

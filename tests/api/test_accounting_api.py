"""The accounting exchange over HTTP: the export download, cost imports, runs, cost accounts, expenses."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from accounts.accounting import commerceml
from crmpm.jobs.runner import run_job
from tests import factories
from tests.accounts.accounting import world as worlds

D = Decimal
NS = {"c": "urn:1C.ru:commerceml_2"}
COSTS = ("project;cost_account;date;amount;description;document\r\n"
         "PRJ-1;20.01;2026-11-03;1200.40;Materials;D1\r\n"
         "NOPE;20.01;2026-11-03;5.00;Lost;D2\r\n"
         "PRJ-3;20.01;2026-11-03;7.00;West;D3\r\n").encode()


@pytest.fixture
def world(session):
    made = worlds.build(session)
    buyer = factories.account(session, actor=made["admin"], region=made["east"], name="Buyer", tax_id="7707083893")
    made["invoice"] = worlds.invoice(session, project=made["p1"], account=buyer, number=5,
                                     issue_date=date(2026, 11, 2), act_date=date(2026, 11, 9))
    session.commit()
    return made


def upload(api, user, data: bytes, *, name="costs.csv", query=""):
    return api.post(f"/api/v1/accounting/cost-imports{query}", user=user, json=None,
                    data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_export_downloads_a_valid_commerceml_file_and_records_a_run(api, world):
    response = api.get("/api/v1/accounting/export?from=2026-11-01&to=2026-11-30", user=world["finance"])
    assert response.status_code == 200, response.json
    assert response.mimetype == "application/xml"
    assert "attachment" in response.headers["Content-Disposition"]
    assert commerceml.validate(response.data) == []
    docs = etree.fromstring(response.data).findall("c:Документ", NS)
    assert [d.findtext("c:Номер", namespaces=NS) for d in docs] == ["5", "5"]
    runs = api.get("/api/v1/accounting/runs", user=world["finance"]).json
    assert runs["total"] == 1 and runs["items"][0]["direction"] == "out"


def test_export_refuses_a_bad_period_and_an_unreadable_node(api, world):
    bad = api.get("/api/v1/accounting/export?from=2026-11-30&to=2026-11-01", user=world["admin"])
    assert bad.status_code == 422 and "to" in str(bad.json)
    missing = api.get("/api/v1/accounting/export?to=2026-11-01", user=world["admin"])
    assert missing.status_code == 422
    hidden = api.get(f"/api/v1/accounting/export?from=2026-11-01&to=2026-11-30&eps_node_id={world['west'].id}",
                     user=world["finance"])
    assert hidden.status_code == 404


def test_export_as_a_job_keeps_the_file(api, app, world):
    response = api.get("/api/v1/accounting/export?from=2026-11-01&to=2026-11-30&async=true", user=world["admin"])
    assert response.status_code == 202
    job_id = response.json["id"]
    run_job(app, job_id)
    job = api.get(f"/api/v1/jobs/{job_id}", user=world["admin"]).json
    assert job["status"] == "succeeded", job
    assert job["result"]["invoices"] == 1 and job["result"]["acts"] == 1
    file = api.get(f"/api/v1/jobs/{job_id}/file", user=world["admin"])
    assert file.status_code == 200 and commerceml.validate(file.data) == []


def test_cost_import_answers_the_counts_and_the_run_holds_the_report(api, session, world):
    response = upload(api, world["finance"], COSTS)
    assert response.status_code == 201, response.json
    counts = response.json
    assert (counts["rows"], counts["applied"], counts["unmatched"], counts["duplicates"]) == (3, 1, 2, 0)
    run = api.get(f"/api/v1/accounting/runs/{counts['run_id']}", user=world["finance"]).json
    assert [row["reason"] for row in run["report"]["unmatched_rows"]] == ["no such project"] * 2
    again = upload(api, world["finance"], COSTS).json
    assert (again["applied"], again["duplicates"], again["unmatched"]) == (0, 1, 2)
    expenses = api.get(f"/api/v1/projects/{world['p1'].id}/expenses", user=world["viewer"]).json
    assert [(e["amount"], e["cost_account_code"]) for e in expenses["items"]] == [("1200.40", "20.01")]
    project = api.get(f"/api/v1/projects/{world['p1'].id}", user=world["viewer"]).json
    assert D(project["actual_cost"]) == D("1200.40")


def test_a_bad_cost_file_is_422_naming_the_lines_and_writes_nothing(api, world):
    bad = COSTS + b"PRJ-1;20.01;2026-13-01;1;x;D9\r\n"
    response = upload(api, world["finance"], bad)
    assert response.status_code == 422
    assert response.json["errors"]["rows"][0]["line"] == 5
    assert api.get("/api/v1/accounting/runs", user=world["finance"]).json["total"] == 0


def test_cost_import_needs_finance_or_admin(api, world):
    assert upload(api, world["viewer"], COSTS).status_code == 403
    assert upload(api, world["outsider"], COSTS).status_code == 403


def test_cost_import_as_a_job(api, app, session, world):
    response = upload(api, world["admin"], COSTS, query="?async=true")
    assert response.status_code == 202
    run_job(app, response.json["id"])
    job = api.get(f"/api/v1/jobs/{response.json['id']}", user=world["admin"]).json
    assert job["status"] == "succeeded", job
    assert (job["result"]["applied"], job["result"]["unmatched"]) == (2, 1)


def test_runs_are_seen_by_admins_and_their_actor_only(api, world):
    run_id = upload(api, world["finance"], COSTS).json["run_id"]
    assert api.get(f"/api/v1/accounting/runs/{run_id}", user=world["admin"]).status_code == 200
    assert api.get(f"/api/v1/accounting/runs/{run_id}", user=world["viewer"]).status_code == 404
    assert api.get("/api/v1/accounting/runs", user=world["viewer"]).json["total"] == 0
    assert api.get("/api/v1/accounting/runs", user=world["admin"]).json["total"] == 1


def test_cost_accounts(api, world):
    made = api.post("/api/v1/cost-accounts", user=world["finance"], json={"code": "20.01", "name": "Основное"})
    assert made.status_code == 201 and made.json["code"] == "20.01"
    assert api.post("/api/v1/cost-accounts", user=world["finance"], json={"code": "20.01"}).status_code == 409
    assert api.post("/api/v1/cost-accounts", user=world["viewer"], json={"code": "26"}).status_code == 403
    assert api.post("/api/v1/cost-accounts", user=world["admin"], json={"code": "a b"}).status_code == 422
    listed = api.get("/api/v1/cost-accounts", user=world["viewer"]).json
    assert [item["code"] for item in listed["items"]] == ["20.01"]


def test_expenses_of_an_unreadable_project_are_not_found(api, world):
    assert api.get(f"/api/v1/projects/{world['p3'].id}/expenses", user=world["finance"]).status_code == 404




def test_a_job_refuses_a_bad_header_at_once_and_fails_on_bad_rows_booking_nothing(api, app, world):
    headless = upload(api, world["admin"], b"project;amount\r\nPRJ-1;1\r\n", query="?async=true")
    assert headless.status_code == 422 and "cost_account" in str(headless.json)
    started = upload(api, world["admin"], COSTS + b"PRJ-1;20;2026-13-01;1;x;D9\r\n", query="?async=true")
    assert started.status_code == 202
    run_job(app, started.json["id"])
    job = api.get(f"/api/v1/jobs/{started.json['id']}", user=world["admin"]).json
    assert job["status"] == "failed" and "line 5" in job["error"]
    assert api.get(f"/api/v1/projects/{world['p1'].id}/expenses", user=world["admin"]).json["total"] == 0

"""The accounting exchange's pages: export download, cost upload with its run's report, the project's expenses."""

from __future__ import annotations

import io
from datetime import date

import pytest

from accounts.accounting import commerceml
from tests import factories
from tests.accounts.accounting import world as worlds


@pytest.fixture
def place(session):
    made = worlds.build(session)
    buyer = factories.account(session, actor=made["admin"], region=made["east"], name="Buyer", tax_id="7707083893")
    worlds.invoice(session, project=made["p1"], account=buyer, number=9, issue_date=date(2026, 11, 2))
    session.commit()
    return made


def test_finance_exports_a_valid_file_from_the_page(pages, place):
    pages.log_in_as(place["finance"])
    assert pages.client.get("/finance/accounting/").status_code == 200
    response = pages.post("/finance/accounting/export", {"date_from": "2026-11-01", "date_to": "2026-11-30",
                                                        "eps_node_id": str(place["east"].id)})
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert commerceml.validate(response.data) == []
    assert "<Номер>9</Номер>" in response.get_data(as_text=True)


def test_a_bad_period_is_told_on_the_page(pages, place):
    pages.log_in_as(place["finance"])
    response = pages.post("/finance/accounting/export", {"date_from": "2026-11-30", "date_to": "2026-11-01"})
    assert response.status_code in (200, 303, 422)
    assert response.status_code != 500


def test_cost_upload_shows_the_run_and_the_project_expenses(pages, place):
    pages.log_in_as(place["finance"])
    data = ("project;cost_account;date;amount;description;document\r\n"
            "PRJ-1;20.01;2026-11-03;1200.40;Бетон;D1\r\nPRJ-3;20.01;2026-11-03;7.00;West;D2\r\n").encode("cp1251")
    response = pages.post("/finance/accounting/import", {"file": (io.BytesIO(data), "costs.csv")},
                          content_type="multipart/form-data")
    assert response.status_code == 303, response.status_code
    run_page = pages.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "PRJ-3" in run_page and "no such project" in run_page
    assert place["p3"].name not in run_page  # the project the user may not book to is never named
    budget = pages.client.get(f"/finance/projects/{place['p1'].id}").get_data(as_text=True)
    assert "Бетон" in budget and "20.01" in budget


def test_the_pages_are_for_finance_and_administrators(pages, place):
    pages.log_in_as(place["viewer"])
    assert pages.client.get("/finance/accounting/").status_code == 403

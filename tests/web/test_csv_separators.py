"""Every CSV crmpm hands out (API ``?format=csv`` and the pages' exports) is formula-free under a ``;`` separator."""

from __future__ import annotations

import csv
import io

import pytest

from tests import factories
from tests.api.conftest import ApiClient
from tests.crmpm.test_spreadsheet import DELIMITERS, pieces, runs

NAME = "x;=1+1"


@pytest.fixture
def semicolon_world(session, admin):
    root = factories.node(session, actor=admin, code="ROOT")
    pipeline = factories.pipeline(session, name="Sales")
    account = factories.account(session, actor=admin, region=root, name=NAME, sector="a;@SUM(A1)")
    factories.contact(session, actor=admin, account=account, last_name="y;-2+3", first_name="z;+1")
    deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline, product="p\n=2")
    deal.project.name = NAME
    session.commit()
    return {"account": account, "deal": deal}


def _check(content: str, label: str) -> None:
    assert NAME.split(";")[0] in content, label  # the row is there at all
    for delimiter in DELIMITERS:
        assert not [cell for cell in pieces(content, delimiter) if runs(cell)], (label, delimiter)


def test_api_csv_lists_hold_no_formula_for_a_semicolon_spreadsheet(app, session, admin, semicolon_world):
    api = ApiClient(app.test_client(), session)
    for path in ("/api/v1/accounts", "/api/v1/contacts", "/api/v1/deals"):
        answer = api.get(path, user=admin, query_string={"format": "csv"})
        assert answer.status_code == 200 and answer.mimetype == "text/csv", path
        _check(answer.get_data(as_text=True), path)
    # Read with the comma it was written with, the name is kept (the apostrophe only marks it as text).
    rows = list(csv.DictReader(io.StringIO(api.get("/api/v1/accounts", user=admin, query_string={
        "format": "csv"}).get_data(as_text=True))))
    assert rows[0]["name"] == "x;'=1+1"


def test_the_deals_page_csv_holds_no_formula_for_a_semicolon_spreadsheet(pages, admin, semicolon_world):
    pages.log_in_as(admin)
    answer = pages.get("/crm/deals.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    _check(answer.get_data(as_text=True), "/crm/deals.csv")

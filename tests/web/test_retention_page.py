"""The retention page: cohorts, curves, before/after and the contact norm, with figures equal to those the test
computes itself from the rows it generated, for what the user may read."""

from __future__ import annotations

import re
from datetime import date

from eps.models import Role
from tests import factories
from tests.accounts import test_retention
from tests.accounts.test_retention import _norm_rows, expected_cohorts

world = test_retention.world  # the generated accounts, deals, touches and answers

URL = "/dashboards/retention?since=2023-01-01"


def _cohort_rows(body: str) -> dict[str, tuple[int, int]]:
    table = body.split("data-cohorts")[1].split("</table>")[0]
    return {cohort: (int(size), int(churned)) for cohort, size, churned in re.findall(
        r'<tr data-cohort="([^"]+)">.*?data-size>([^<]*)<.*?data-churned>(\d+)', table, re.S)}


def test_cohorts_on_the_page_equal_the_independent_computation(pages, world):
    body = pages.log_in_as(world["admin"]).get(URL + "&periods=6").get_data(as_text=True)
    expected = expected_cohorts(world["rows"], as_of=date.today(), periods=6)
    assert _cohort_rows(body) == {label: (c["size"], c["churned"]) for label, c in expected.items()}
    # One heat-map cell per (cohort, period reached), a curve per recent cohort plus all cohorts.
    assert body.count('class="heat-cell"') == sum(len(c["periods"]) for c in expected.values())
    assert body.count('class="line line-all"') == 2 and 'class="line line-0"' in body
    assert "data-compare" in body and body.count("<tr data-id=") >= 2


def test_quarters_and_filters(pages, world):
    pages.log_in_as(world["admin"])
    branch = world["branches"]["B"]
    body = pages.get(URL + f"&period=quarter&churn=3&branch={branch.id}&sector=Energy").get_data(as_text=True)
    rows = [row for row in world["rows"] if row.side == "B" and row.sector == "Energy"]
    expected = expected_cohorts(rows, period="quarter", churn_months=3, periods=8, as_of=date.today())
    assert _cohort_rows(body) == {label: (c["size"], c["churned"]) for label, c in expected.items()}
    owner = world["owners"][0]
    body = pages.get(URL + f"&owner={owner.id}").get_data(as_text=True)
    norm = body.split('data-norm="by_owner"')[1].split("</table>")[0]
    assert re.findall(r'<tr data-id="(\d+)">', norm) == [str(owner.id)]
    mine = [meets for row, meets in _norm_rows(world["rows"]) if row.owner == 0]
    assert f'data-kpi="compliance">{round(100 * sum(mine) / len(mine))}\u00a0%' in body


def test_a_viewer_sees_only_readable_accounts(pages, session, world):
    viewer = factories.user(session)
    factories.grant(session, actor=world["admin"], role=Role.viewer, target=world["branches"]["A"], user=viewer)
    session.commit()
    body = pages.log_in_as(viewer).get(URL).get_data(as_text=True)
    rows_a = [row for row in world["rows"] if row.side == "A"]
    expected = expected_cohorts(rows_a, as_of=date.today())
    assert _cohort_rows(body) == {label: (c["size"], c["churned"]) for label, c in expected.items()}
    shown = set(re.findall(r'<a href="/crm/accounts/\d+">([^<]+)</a>', body.split("data-behind")[1]))
    assert shown and shown <= {row.name for row in rows_a}
    assert not any(f">{row.name}<" in body for row in world["rows"] if row.side == "B")
    assert pages.get(f"/dashboards/retention?branch={world['branches']['B'].id}").status_code == 404


def test_garbage_arguments_fall_back_to_defaults(pages, world):
    pages.log_in_as(world["admin"])
    for query in ("period=week&since=garbage&until=2026-13-45", "periods=-4&churn=100000&norm_days=x",
                  "a_since=2026-05-01&a_until=2026-01-01&b_since=zz", "branch=99999999999&owner=-1&sector=" + "x" * 500):
        assert pages.get(f"/dashboards/retention?{query}").status_code == 200, query
    assert pages.get("/dashboards/retention?branch=424242").status_code == 404
    assert 'href="/dashboards/retention"' in pages.get("/dashboards/").get_data(as_text=True)

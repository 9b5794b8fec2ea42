"""The retention reports over HTTP: cohorts, before/after and the contact norm; bad parameters named; rights."""

from datetime import date
from decimal import Decimal

import pytest

from eps.models import Role
from tests import factories
from tests.accounts import fixtures, test_retention
from tests.accounts.test_retention import AS_OF, expected_cohorts, expected_kpis

admin, api, world = fixtures.admin, fixtures.api, test_retention.world  # fixtures


def _cohorts_of(body):
    return {c["cohort"]: {"size": c["size"], "churned": c["churned"], "won_value": Decimal(c["won_value"]),
                          "periods": [(p["k"], p["accounts"], p["share"], Decimal(p["value"]), p["revenue_retention"])
                                      for p in c["periods"]]}
            for c in body["cohorts"]}


def test_cohorts_over_http_equal_the_independent_computation(api, world):
    body = api.get(f"/api/v1/reports/cohorts?as_of={AS_OF}", user=world["admin"]).json
    assert _cohorts_of(body) == expected_cohorts(world["rows"])
    quarter = api.get(f"/api/v1/reports/cohorts?as_of={AS_OF}&period=quarter&churn_months=3&periods=4"
                      f"&branch_id={world['branches']['A'].id}&sector=Retail", user=world["admin"]).json
    rows = [row for row in world["rows"] if row.side == "A" and row.sector == "Retail"]
    assert _cohorts_of(quarter) == expected_cohorts(rows, period="quarter", churn_months=3, periods=4)


def test_a_reader_of_one_branch_gets_only_its_figures(api, session, world):
    viewer = factories.user(session)
    factories.grant(session, actor=world["admin"], role=Role.viewer, target=world["branches"]["A"], user=viewer)
    session.commit()
    rows_a = [row for row in world["rows"] if row.side == "A"]
    body = api.get(f"/api/v1/reports/cohorts?as_of={AS_OF}", user=viewer).json
    assert _cohorts_of(body) == expected_cohorts(rows_a)
    compare = api.get("/api/v1/reports/compare?a_since=2025-01-01&a_until=2025-07-01&b_since=2025-07-01"
                      "&b_until=2026-01-01&kpis=retention,contact_norm", user=viewer).json
    from accounts.retention import Period

    assert compare["b"]["retention"] == expected_kpis(rows_a, Period(date(2025, 7, 1), date(2026, 1, 1)))["retention"]
    norm = api.get("/api/v1/reports/contact-norm", user=viewer).json
    assert [row["id"] for row in norm["by_branch"]] == [world["branches"]["A"].id]
    assert {row["account"] for row in norm["behind"]} <= {row.name for row in rows_a}
    # Another branch's node is not found for this reader, and named as the parameter.
    hidden = api.get(f"/api/v1/reports/cohorts?branch_id={world['branches']['B'].id}", user=viewer)
    assert hidden.status_code == 404 and "branch_id" in hidden.json["errors"]
    nobody = factories.user(session)
    session.commit()
    assert api.get("/api/v1/reports/cohorts", user=nobody).json["cohorts"] == []
    assert api.get("/api/v1/reports/contact-norm", user=nobody).json["total"]["accounts"] == 0


def test_compare_answers_both_periods_and_the_difference(api, world):
    from accounts.retention import Period

    body = api.get("/api/v1/reports/compare?a_since=2025-01-01&a_until=2025-07-01&b_since=2025-07-01"
                   "&b_until=2026-01-01", user=world["admin"]).json
    assert body["kpis"] == ["win_rate", "sales_cycle", "retention", "satisfaction", "contact_norm"]
    a = expected_kpis(world["rows"], Period(date(2025, 1, 1), date(2025, 7, 1)))
    b = expected_kpis(world["rows"], Period(date(2025, 7, 1), date(2026, 1, 1)))
    assert body["a"]["win_rate"] == a["win_rate"] and body["b"]["win_rate"] == b["win_rate"]
    assert body["a"]["contact_norm"] == a["contact_norm"] and body["b"]["retention"] == b["retention"]
    assert body["difference"]["win_rate"]["won"] == b["win_rate"]["won"] - a["win_rate"]["won"]
    assert body["a"]["since"] == "2025-01-01" and body["b"]["until"] == "2026-01-01"


def test_contact_norm_report_totals_match_its_groups(api, world):
    body = api.get("/api/v1/reports/contact-norm?days=200&client_norm=2", user=world["admin"]).json
    assert body["total"]["accounts"] == sum(row["accounts"] for row in body["by_owner"]) \
        == sum(row["accounts"] for row in body["by_branch"])
    assert len(body["behind"]) == body["total"]["behind"]


@pytest.mark.parametrize("path, query, field", [
    ("cohorts", "period=week", "period"),
    ("cohorts", "churn_months=0", "churn_months"),
    ("cohorts", "periods=1000", "periods"),
    ("cohorts", "since=2026-05-01&until=2026-04-01", "until"),
    ("cohorts", "as_of=tomorrow", "as_of"),
    ("cohorts", "owner_id=-1", "owner_id"),
    ("cohorts", "branch_id=424242", "branch_id"),
    ("cohorts", "sector=" + "x" * 300, "sector"),
    ("compare", "a_since=2025-01-01&a_until=2025-02-01&b_since=2025-02-01", "b_until"),
    ("compare", "a_since=2025-03-01&a_until=2025-02-01&b_since=2025-02-01&b_until=2025-03-01", "a_until"),
    ("compare", "a_since=2025-01-01&a_until=2025-02-01&b_since=2025-02-01&b_until=2025-03-01&kpis=happiness",
     "kpis"),
    ("compare", "a_since=2025-01-01&a_until=2025-02-01&b_since=2015-02-01&b_until=2026-03-01", "b_until"),
    ("contact-norm", "days=0", "days"),
    ("contact-norm", "client_norm=x", "client_norm"),
    ("contact-norm", "limit=5000", "limit"),
])
def test_bad_parameters_are_named(api, admin, path, query, field):
    response = api.get(f"/api/v1/reports/{path}?{query}", user=admin)
    assert response.status_code in (404, 422), response.json
    assert field in response.json["errors"], response.json

"""Sales dashboards: every figure equals what the test computes from the deals it made, for what the user sees."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from eps.models import Role
from tests import factories

D = Decimal
UTC = timezone.utc
ORDER = ["Qualification", "Proposal", "Negotiation", "Won"]
PROBABILITY = {"Qualification": 10, "Proposal": 40, "Negotiation": 70}

# branch, owner key, path of stages (after Qualification), amount, close day of the last move, expected close
DEALS = [
    ("A", "anna", ["Proposal", "Won"], "1000.00", "2026-02-10", None),
    ("A", "anna", ["Proposal", "Negotiation", "Won"], "3000.00", "2026-03-05", None),
    ("A", "anna", ["Lost"], "200.00", "2026-03-20", None),
    ("A", "ivan", ["Proposal", "Lost"], "700.00", "2026-04-02", None),
    ("B", "ivan", ["Negotiation", "Won"], "9000.00", "2026-04-15", None),
    ("A", "anna", ["Proposal"], "500.00", "2026-05-01", date(2026, 12, 20)),
    ("A", "ivan", [], "800.00", None, date(2027, 1, 10)),
    ("B", "anna", ["Negotiation"], "600.00", "2026-05-03", date(2026, 12, 5)),
]


def _day(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def sales(session, admin):
    root = factories.node(session, actor=admin, code="ENT")
    branches = {side: factories.node(session, actor=admin, parent=root, code=side) for side in "AB"}
    accounts = {side: factories.account(session, actor=admin, region=branches[side]) for side in "AB"}
    pipeline = factories.pipeline(session, name="Sales")
    people = {"anna": factories.user(session, name="Anna Seller"), "ivan": factories.user(session, name="Ivan Seller")}
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=branches["A"], user=viewer)
    for side, owner, path, amount, closed, close in DEALS:
        deal = factories.deal(session, actor=admin, account=accounts[side], pipeline=pipeline, amount=amount,
                              owner=people[owner], expected_close=close, created_at=_day("2026-01-05"))
        for stage in path:
            factories.move(session, actor=admin, deal=deal, stage=stage, at=_day(closed), lost_reason="Price")
    session.commit()
    return {"pipeline": pipeline, "people": people, "viewer": viewer}


def _expected(deals):
    furthest = [max([0] + [ORDER.index(s) for s in path if s != "Lost"]) for _b, _o, path, *_ in deals]
    reached = [sum(1 for f in furthest if f >= i) for i in range(len(ORDER))]
    reached_value = [sum((D(d[3]) for f, d in zip(furthest, deals) if f >= i), D(0)) for i in range(len(ORDER))]
    final = [path[-1] if path else "Qualification" for _b, _o, path, *_ in deals]
    return furthest, reached, reached_value, final


def _funnel_rows(html: str) -> dict[str, tuple[str, str]]:
    table = html.split("data-funnel")[1].split("</table>")[0]
    return {stage: (reached, count) for stage, reached, count in re.findall(
        r'<tr data-stage="([^"]+)">.*?data-reached>([^<]*)<.*?data-count>([^<]*)<', table, re.S)}


def _money(text: str) -> Decimal:
    return D(re.sub(r"[^\d.]", "", text))


def test_funnel_and_win_rates_equal_the_deals_made(pages, sales, admin):
    body = pages.log_in_as(admin).get(f"/dashboards/?pipeline={sales['pipeline'].id}").get_data(as_text=True)
    _furthest, reached, reached_value, final = _expected(DEALS)
    rows = _funnel_rows(body)
    for index, stage in enumerate(ORDER):
        assert rows[stage] == (str(reached[index]), str(final.count(stage)))
        assert f"{reached_value[index]:,.2f}" in body
    assert rows["Lost"] == ("—", str(final.count("Lost")))
    won, lost = final.count("Won"), final.count("Lost")
    assert re.search(r'data-kpi="win-rate">([^<]+)<', body).group(1) == f"{round(100 * won / (won + lost))}\u00a0%"
    rates = dict(re.findall(r'<tr data-owner="(\d+)">.*?data-rate>([^<]+)<', body, re.S))
    for key, person in sales["people"].items():
        mine = [f for f, d in zip(final, DEALS) if d[1] == key]
        w, l = mine.count("Won"), mine.count("Lost")
        assert rates[str(person.id)] == f"{round(100 * w / (w + l))}\u00a0%"
    # The funnel's SVG has a step per stage but the lost one, as wide as its share of the first.
    assert body.count('class="funnel-step"') == len(ORDER)


def test_won_by_month_and_forecast_equal_the_deals_made(pages, sales, admin):
    body = pages.log_in_as(admin).get("/dashboards/").get_data(as_text=True)
    won = defaultdict(lambda: D(0))
    for _b, _o, path, amount, closed, _close in DEALS:
        if path and path[-1] == "Won":
            won[closed[:7]] += D(amount)
    assert body.count('class="bar-won"') == len(won)
    assert f"RUB\u00a0{sum(won.values()):,.2f}" in body or f"RUB {sum(won.values()):,.2f}" in body
    forecast = [(D(amount), PROBABILITY[path[-1] if path else "Qualification"])
                for _b, _o, path, amount, _c, close in DEALS if close and (not path or path[-1] in PROBABILITY)]
    foot = body.split("data-forecast")[1].split("<tfoot>")[1].split("</tfoot>")[0]
    figures = [_money(cell) for cell in re.findall(r'<td class="num">([^<]+)</td>', foot)]
    assert figures == [D(len(forecast)), sum(a for a, _p in forecast),
                       sum(a * p / 100 for a, p in forecast).quantize(D("0.01"))]


def test_a_viewer_sees_only_the_deals_of_their_branch(pages, session, sales):
    body = pages.log_in_as(sales["viewer"]).get("/dashboards/").get_data(as_text=True)
    mine = [d for d in DEALS if d[0] == "A"]
    _furthest, reached, _values, final = _expected(mine)
    assert re.search(r'data-kpi="total">([^<]+)<', body).group(1) == str(len(mine))
    rows = _funnel_rows(body)
    assert [rows[stage][0] for stage in ORDER] == [str(n) for n in reached]
    assert "9,000.00" not in body  # B's won deal
    nobody = factories.user(session)
    session.commit()
    empty = pages.log_in_as(nobody).get("/dashboards/").get_data(as_text=True)
    assert re.search(r'data-kpi="total">([^<]+)<', empty).group(1) == "0" and "data-owner=" not in empty


def test_filters_by_period_and_owner(pages, sales, admin):
    pages.log_in_as(admin)
    anna = sales["people"]["anna"]
    body = pages.get(f"/dashboards/?owner={anna.id}").get_data(as_text=True)
    assert re.search(r'data-kpi="total">([^<]+)<', body).group(1) == str(sum(1 for d in DEALS if d[1] == "anna"))
    assert list(re.findall(r'<tr data-owner="(\d+)">', body)) == [str(anna.id)]
    # Closed in March 2026 only: one won (3000) and one lost for Anna.
    march = pages.get("/dashboards/?period=custom&since=2026-03-01&until=2026-03-31").get_data(as_text=True)
    assert march.count('class="bar-won"') == 1 and "3,000.00" in march
    assert re.search(r'data-kpi="total">([^<]+)<', march).group(1) == "0"  # all were opened in January
    # Dates that are no dates are ignored; a pipeline that does not exist is a 404.
    assert pages.get("/dashboards/?period=custom&since=garbage&until=2026-13-45").status_code == 200
    assert pages.get("/dashboards/?pipeline=999999").status_code == 404


def test_home_links_to_the_dashboards(pages, sales):
    # The sales card is for the people who sell: a viewer's home (no finance, no manager role).
    body = pages.log_in_as(sales["viewer"]).get("/").get_data(as_text=True)
    card = body.split("<h2>Sales</h2>")[1].split("</section>")[0]
    assert 'href="/crm/pipeline"' in card and 'href="/dashboards/"' in card

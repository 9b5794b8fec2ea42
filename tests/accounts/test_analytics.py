"""Analytics, checked against figures the test computes itself from the records it creates."""

import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from accounts import activities, analytics
from accounts.models import AccountKind, SurveyKind
from eps.models import Role
from tests import factories
from tests.accounts.fixtures import crm  # noqa: F401 - fixture

D = Decimal
UTC = timezone.utc
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ORDER = ["Qualification", "Proposal", "Negotiation", "Won"]
PROBABILITY = {"Qualification": 10, "Proposal": 40, "Negotiation": 70}

# side, path of stages with the day each was entered, amount, expected close, probability override
DEALS = [
    ("A", [("Qualification", "2026-01-01"), ("Proposal", "2026-01-05"), ("Negotiation", "2026-01-15"),
           ("Won", "2026-01-31")], "1000.00", None, None),
    ("A", [("Qualification", "2026-02-01"), ("Proposal", "2026-02-04"), ("Won", "2026-02-11")], "500.00", None, None),
    ("A", [("Qualification", "2026-03-01"), ("Lost", "2026-03-03")], "300.00", None, None),
    ("B", [("Qualification", "2026-04-01"), ("Proposal", "2026-04-11"), ("Lost", "2026-05-01")], "200.00", None, None),
    ("B", [("Qualification", "2026-04-10"), ("Proposal", "2026-04-20"), ("Negotiation", "2026-05-02"),
           ("Won", "2026-05-20")], "2500.00", None, None),
    ("A", [("Qualification", "2026-10-01")], "800.00", date(2026, 12, 15), None),
    ("B", [("Qualification", "2026-10-03"), ("Proposal", "2026-10-13")], "600.00", date(2026, 12, 20), 50),
    ("A", [("Qualification", "2026-09-01"), ("Negotiation", "2026-11-01")], "400.00", date(2027, 1, 10), None),
]


def _day(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def sales(session, crm):
    admin, pipeline = crm["admin"], crm["pipeline"]
    made = []
    for side, path, amount, close, probability in DEALS:
        (_first, opened), rest = path[0], path[1:]
        deal = factories.deal(session, actor=admin, account=crm[side]["account"], pipeline=pipeline, amount=amount,
                              created_at=_day(opened), expected_close=close, probability=probability)
        for stage, day in rest:
            factories.move(session, actor=admin, deal=deal, stage=stage, at=_day(day), lost_reason="Price")
        made.append(deal)
    return made


def _final(path):
    return path[-1][0]


def test_funnel_counts_values_win_rate_and_conversion(session, crm, sales):
    result = analytics.funnel(session, user=crm["admin"], pipeline=crm["pipeline"])
    finals = [_final(path) for _side, path, *_ in DEALS]
    won = finals.count("Won")
    lost = finals.count("Lost")
    assert (result["won"], result["lost"], result["open"]) == (won, lost, len(DEALS) - won - lost)
    assert result["win_rate"] == round(won / (won + lost), 4)  # never won / all
    assert result["win_rate"] != round(won / len(DEALS), 4)
    assert result["won_value"] == sum(D(amount) for _s, path, amount, *_ in DEALS if _final(path) == "Won")
    expected_by_stage = defaultdict(lambda: [0, D("0")])
    for _side, path, amount, *_ in DEALS:
        expected_by_stage[_final(path)][0] += 1
        expected_by_stage[_final(path)][1] += D(amount)
    got = {row["stage"]: [row["count"], row["value"]] for row in result["by_stage"]}
    assert got == {stage: expected_by_stage.get(stage, [0, D("0")]) for stage in ORDER + ["Lost"]}
    # A deal has reached every stage up to the furthest non-lost stage in its path.
    furthest = [max(ORDER.index(stage) for stage, _day in path if stage != "Lost") for _s, path, *_ in DEALS]
    reached = [sum(1 for f in furthest if f >= index) for index in range(len(ORDER))]
    assert [(c["from_stage"], c["to_stage"], c["rate"]) for c in result["conversion"]] == [
        (ORDER[i], ORDER[i + 1], round(reached[i + 1] / reached[i], 4)) for i in range(len(ORDER) - 1)]


def test_funnel_sees_only_readable_deals_and_filters(session, crm, sales):
    viewer = factories.user(session)
    factories.grant(session, actor=crm["admin"], role=Role.viewer, target=crm["B"]["branch"], user=viewer)
    result = analytics.funnel(session, user=viewer, pipeline=crm["pipeline"])
    b_deals = [path for side, path, *_ in DEALS if side == "B"]
    assert result["total"] == len(b_deals)
    b_won = sum(1 for path in b_deals if _final(path) == "Won")
    b_lost = sum(1 for path in b_deals if _final(path) == "Lost")
    assert result["win_rate"] == round(b_won / (b_won + b_lost), 4)
    # Period: deals created in April 2026.
    april = analytics.funnel(session, user=crm["admin"], pipeline=crm["pipeline"],
                             flt=analytics.DealFilter(since=date(2026, 4, 1), until=date(2026, 5, 1)))
    assert april["total"] == sum(1 for _s, path, *_ in DEALS if path[0][1].startswith("2026-04"))
    region = analytics.funnel(session, user=crm["admin"], pipeline=crm["pipeline"],
                              flt=analytics.DealFilter(region_node=crm["A"]["branch"]))
    assert region["total"] == sum(1 for side, *_ in DEALS if side == "A")


def test_win_rate_is_none_without_closed_deals(session, crm):
    factories.deal(session, actor=crm["admin"], account=crm["A"]["account"], pipeline=crm["pipeline"])
    result = analytics.funnel(session, user=crm["admin"], pipeline=crm["pipeline"])
    assert result["win_rate"] is None and result["open"] == 1


def test_won_by_month_and_quarter(session, crm, sales):
    result = analytics.won_by_period(session, user=crm["admin"])
    months = defaultdict(lambda: [0, D("0")])
    for _side, path, amount, *_ in DEALS:
        if _final(path) == "Won":
            months[path[-1][1][:7]][0] += 1
            months[path[-1][1][:7]][1] += D(amount)
    assert {row["month"]: [row["count"], row["value"]] for row in result["by_month"]} == dict(months)
    quarters = defaultdict(lambda: [0, D("0")])
    for month, (count, value) in months.items():
        key = f"{month[:4]}-Q{(int(month[5:]) - 1) // 3 + 1}"
        quarters[key][0] += count
        quarters[key][1] += value
    assert {row["quarter"]: [row["count"], row["value"]] for row in result["by_quarter"]} == dict(quarters)


def test_sales_cycle_mean_and_median(session, crm, sales):
    cycles = [(_day(path[-1][1]) - _day(path[0][1])).days for _s, path, *_ in DEALS if _final(path) == "Won"]
    result = analytics.sales_cycle(session, user=crm["admin"])
    assert result["won_deals"] == len(cycles)
    assert result["mean_days"] == pytest.approx(statistics.fmean(cycles), abs=0.01)
    assert result["median_days"] == pytest.approx(statistics.median(cycles), abs=0.01)


def test_average_days_in_each_stage(session, crm, sales):
    spans = defaultdict(list)
    for _side, path, *_ in DEALS:
        for (stage, entered), following in zip(path, path[1:] + [None]):
            if stage in ("Won", "Lost"):
                continue
            left = _day(following[1]) if following else NOW
            spans[stage].append((left - _day(entered)).total_seconds() / 86400)
    result = analytics.stage_durations(session, user=crm["admin"], pipeline=crm["pipeline"], now=NOW)
    assert {row["stage"]: (row["visits"], row["average_days"]) for row in result} == {
        stage: (len(spans[stage]), pytest.approx(statistics.fmean(spans[stage]), abs=0.01)) for stage in ORDER[:-1]}


def test_weighted_forecast_by_expected_close_month(session, crm, sales):
    expected = defaultdict(lambda: [0, D("0"), D("0")])
    for _side, path, amount, close, override in DEALS:
        stage = _final(path)
        if stage in ("Won", "Lost") or close is None:
            continue
        probability = override if override is not None else PROBABILITY[stage]
        entry = expected[f"{close:%Y-%m}"]
        entry[0] += 1
        entry[1] += D(amount)
        entry[2] += D(amount) * probability / 100
    result = analytics.forecast(session, user=crm["admin"])
    assert {row["month"]: [row["count"], row["value"], row["weighted_value"]] for row in result} == dict(expected)


def test_lifetime_value_per_account(session, crm, sales):
    totals = defaultdict(lambda: D("0"))
    for side, path, amount, *_ in DEALS:
        if _final(path) == "Won":
            totals[crm[side]["account"].id] += D(amount)
    result = analytics.lifetime_value(session, user=crm["admin"])
    assert [(row["account_id"], row["lifetime_value"]) for row in result] == sorted(
        totals.items(), key=lambda item: -item[1])


def test_rfm_separates_champions_from_hibernating(session, crm):
    admin, pipeline, region = crm["admin"], crm["pipeline"], crm["A"]["branch"]
    names = {}
    # (wins, amount each, days before NOW of the last win)
    for name, wins, amount, last in (("best", 3, "900.00", 5), ("middle", 2, "400.00", 60),
                                     ("sleepy", 1, "100.00", 400)):
        account = factories.account(session, actor=admin, region=region, name=name)
        names[account.id] = name
        for i in range(wins):
            closed = NOW - timedelta(days=last + 30 * i)
            factories.deal(session, actor=admin, account=account, pipeline=pipeline, stage="Won", amount=amount,
                           created_at=closed - timedelta(days=10), closed_at=closed)
    result = {names[row["account_id"]]: row for row in analytics.rfm(session, user=admin, now=NOW)}
    assert (result["best"]["score"], result["best"]["segment"]) == ("333", "champions")
    assert (result["sleepy"]["score"], result["sleepy"]["segment"]) == ("111", "hibernating")
    assert result["best"]["frequency"] == 3 and result["best"]["monetary"] == D("2700.00")
    assert result["middle"]["recency_days"] == pytest.approx(60, abs=0.1)


def test_accounts_contacted_less_often_than_their_norm(session, crm):
    admin, region = crm["admin"], crm["A"]["branch"]
    expected = set()
    # kind, touches within the year, touches older than a year
    for name, kind, recent, old in (("client-3", AccountKind.client, 3, 2), ("client-4", AccountKind.client, 4, 0),
                                    ("prospect-5", AccountKind.prospect, 5, 0),
                                    ("prospect-6", AccountKind.prospect, 6, 0),
                                    ("partner-0", AccountKind.partner, 0, 0)):
        account = factories.account(session, actor=admin, region=region, name=name, kind=kind)
        for i in range(recent):
            factories.interaction(session, actor=admin, account=account, occurred_at=NOW - timedelta(days=20 + i))
        for i in range(old):
            factories.interaction(session, actor=admin, account=account, occurred_at=NOW - timedelta(days=400 + i))
        norm = {AccountKind.client: 4, AccountKind.prospect: 6}.get(kind)
        if norm is not None and recent < norm:
            expected.add(name)
    # The fixture's two clients were never touched.
    expected |= {"Client A", "Client B"}
    result = analytics.contact_gaps(session, user=admin, now=NOW)
    assert {row["account"] for row in result} == expected
    assert next(row for row in result if row["account"] == "client-3")["touches"] == 3


def test_satisfaction_by_month(session, crm):
    admin, account = crm["admin"], crm["A"]["account"]
    answers = [(SurveyKind.csat, 5, "2026-01-10"), (SurveyKind.csat, 3, "2026-01-20"),
               (SurveyKind.nps, 10, "2026-02-01"), (SurveyKind.nps, 9, "2026-02-02"),
               (SurveyKind.nps, 7, "2026-02-03"), (SurveyKind.nps, 3, "2026-02-04")]
    for kind, score, day in answers:
        activities.record_answer(session, actor=admin, account=account, kind=kind, score=score, answered_at=_day(day))
    result = {row["month"]: row for row in analytics.satisfaction(session, user=admin, account_id=account.id)}
    csat = [s for k, s, d in answers if k is SurveyKind.csat and d.startswith("2026-01")]
    nps = [s for k, s, d in answers if k is SurveyKind.nps and d.startswith("2026-02")]
    assert result["2026-01"]["csat"] == pytest.approx(statistics.fmean(csat))
    promoters, detractors = sum(s >= 9 for s in nps), sum(s <= 6 for s in nps)
    assert result["2026-02"]["nps"] == pytest.approx(100 * (promoters - detractors) / len(nps))
    assert result["2026-02"]["nps_answers"] == len(nps) and result["2026-02"]["csat"] is None

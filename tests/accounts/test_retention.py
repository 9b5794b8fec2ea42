"""Cohorts, churn, revenue retention, before/after KPIs and contact-norm compliance, checked against figures the
test computes itself in plain Python from the rows it generated (on SQLite and PostgreSQL)."""

import random
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from accounts import activities, analytics, retention
from accounts.analytics import AccountScope
from accounts.models import AccountKind, SurveyKind
from crmpm.errors import Invalid
from eps.models import Role
from tests import factories

UTC = timezone.utc
AS_OF = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
FIRST_DAY = datetime(2024, 1, 1, tzinfo=UTC)
SECTORS = ("Retail", "Energy")


@dataclass
class Row:
    """What the test generated for one account, kept to compute the figures independently."""

    name: str
    side: str
    sector: str
    owner: int
    kind: AccountKind
    deals: list = field(default_factory=list)  # (created, outcome, closed, amount, deal owner)
    touches: list = field(default_factory=list)
    answers: list = field(default_factory=list)  # (kind, score, at)
    account: object = None


def _moment(rng, start=FIRST_DAY, end=NOW):
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


@pytest.fixture
def world(session):
    rng = random.Random(17)
    admin = factories.admin(session)
    owners = [factories.user(session, name=f"Owner {i}") for i in range(2)]
    root = factories.node(session, actor=admin, code="ENT")
    branches = {side: factories.node(session, actor=admin, parent=root, code=side) for side in "AB"}
    pipeline = factories.pipeline(session, name="Sales")
    rows = []
    for i in range(26):
        side = "AB"[i % 2]
        row = Row(name=f"Acc {i}", side=side, sector=SECTORS[(i // 2) % 2], owner=(i // 4) % 2,
                  kind=AccountKind.client if i % 5 else AccountKind.prospect)
        row.account = factories.account(session, actor=admin, region=branches[side], name=row.name, kind=row.kind,
                                        owner=owners[row.owner], sector=row.sector)
        for _ in range(rng.choice([0, 1, 2, 3, 4, 5])):
            created = _moment(rng)
            outcome = rng.choice(["won", "won", "won", "lost", "open"])
            closed = min(created + timedelta(days=rng.randrange(1, 90), hours=rng.randrange(24)), NOW) \
                if outcome != "open" else None
            if closed is not None and closed <= created:
                outcome, closed = "open", None
            amount = Decimal(rng.randrange(100, 100_000))
            deal_owner = rng.randrange(2)
            deal = factories.deal(session, actor=admin, account=row.account, pipeline=pipeline, amount=str(amount),
                                  created_at=created, owner=owners[deal_owner])
            if outcome == "won":
                factories.move(session, actor=admin, deal=deal, stage="Won", at=closed)
            elif outcome == "lost":
                factories.move(session, actor=admin, deal=deal, stage="Lost", at=closed, lost_reason="Price")
            row.deals.append((created, outcome, closed, amount, deal_owner))
        for _ in range(rng.choice([0, 1, 3, 6, 9])):
            at = _moment(rng, start=datetime(2025, 6, 1, tzinfo=UTC))
            factories.interaction(session, actor=admin, account=row.account, occurred_at=at)
            row.touches.append(at)
        for _ in range(rng.choice([0, 0, 1, 2])):
            kind = rng.choice([SurveyKind.csat, SurveyKind.nps])
            score = rng.randrange(1, 6) if kind is SurveyKind.csat else rng.randrange(0, 11)
            at = _moment(rng, start=datetime(2025, 1, 1, tzinfo=UTC))
            activities.record_answer(session, actor=admin, account=row.account, kind=kind, score=score,
                                     answered_at=at)
            row.answers.append((kind, score, at))
        rows.append(row)
    session.commit()
    return {"admin": admin, "owners": owners, "root": root, "branches": branches, "pipeline": pipeline,
            "rows": rows}


# -- the independent computation -------------------------------------------------------------------------------

def _index(moment, period):
    index = moment.year * 12 + moment.month - 1
    return index // 3 if period == "quarter" else index


def _label(index, period):
    return f"{index // 4}-Q{index % 4 + 1}" if period == "quarter" else f"{index // 12}-{index % 12 + 1:02d}"


def _months_back(day, months):
    index = day.year * 12 + day.month - 1 - months
    year, month = index // 12, index % 12 + 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def expected_cohorts(rows, *, period="month", churn_months=6, periods=12, as_of=AS_OF):
    end = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), UTC)
    window = datetime.combine(_months_back(as_of + timedelta(days=1), churn_months), datetime.min.time(), UTC)
    cohorts = {}
    for row in rows:
        wins = [(closed, amount) for _c, outcome, closed, amount, _o in row.deals if outcome == "won" and closed < end]
        if not wins:
            continue
        first = min(_index(closed, period) for closed, _a in wins)
        entry = cohorts.setdefault(first, {"size": 0, "churned": 0, "accounts": defaultdict(int),
                                           "value": defaultdict(Decimal)})
        entry["size"] += 1
        for k in {_index(closed, period) - first for closed, _a in wins}:
            entry["accounts"][k] += 1
        for closed, amount in wins:
            entry["value"][_index(closed, period) - first] += amount
        active = any(window <= created < end or (outcome == "won" and window <= closed < end)
                     for created, outcome, closed, _a, _o in row.deals) \
            or any(window <= at < end for at in row.touches)
        entry["churned"] += not active
    last = _index(as_of, period)
    result = {}
    for c, entry in cohorts.items():
        base = entry["value"][0]
        result[_label(c, period)] = {
            "size": entry["size"], "churned": entry["churned"], "won_value": base,
            "periods": [(k, entry["accounts"][k], round(entry["accounts"][k] / entry["size"], 4), entry["value"][k],
                         round(float(entry["value"][k] / base), 4) if base else None)
                        for k in range(0, min(periods, last - c) + 1)]}
    return result


def _got(result):
    return {c["cohort"]: {"size": c["size"], "churned": c["churned"], "won_value": c["won_value"],
                          "periods": [(p["k"], p["accounts"], p["share"], p["value"], p["revenue_retention"])
                                      for p in c["periods"]]}
            for c in result["cohorts"]}


# -- cohorts ----------------------------------------------------------------------------------------------------

def test_monthly_cohorts_equal_the_independent_computation(session, world):
    result = retention.cohorts(session, user=world["admin"], as_of=AS_OF)
    expected = expected_cohorts(world["rows"])
    assert len(expected) >= 5  # the generated data makes several cohorts
    assert _got(result) == expected
    assert any(p[1] for c in expected.values() for p in c["periods"][1:])  # someone bought again
    assert any(c["churned"] for c in expected.values()) and any(c["churned"] < c["size"] for c in expected.values())
    for cohort in result["cohorts"]:
        assert cohort["churn_rate"] == round(cohort["churned"] / cohort["size"], 4)


def test_quarterly_cohorts_with_another_churn_window(session, world):
    result = retention.cohorts(session, user=world["admin"], period="quarter", churn_months=3, periods=6,
                               as_of=AS_OF)
    assert _got(result) == expected_cohorts(world["rows"], period="quarter", churn_months=3, periods=6)
    assert all(c["cohort"][4:6] == "-Q" for c in result["cohorts"])


def test_cohorts_as_of_an_earlier_day_ignore_later_wins(session, world):
    as_of = date(2025, 9, 15)
    result = retention.cohorts(session, user=world["admin"], as_of=as_of, periods=24)
    assert _got(result) == expected_cohorts(world["rows"], as_of=as_of, periods=24)


def test_cohorts_chosen_by_since_and_until(session, world):
    since, until = date(2024, 6, 1), date(2025, 3, 1)
    result = retention.cohorts(session, user=world["admin"], since=since, until=until, as_of=AS_OF)
    expected = {label: figures for label, figures in expected_cohorts(world["rows"]).items()
                if "2024-06" <= label <= "2025-02"}
    assert _got(result) == expected


@pytest.mark.parametrize("which", ["branch", "sector", "owner"])
def test_cohorts_filtered_by_branch_sector_and_owner(session, world, which):
    scope, keep = {
        "branch": (AccountScope(branch=world["branches"]["B"]), lambda row: row.side == "B"),
        "sector": (AccountScope(sector="Energy"), lambda row: row.sector == "Energy"),
        "owner": (AccountScope(owner_id=world["owners"][1].id), lambda row: row.owner == 1),
    }[which]
    result = retention.cohorts(session, user=world["admin"], scope=scope, as_of=AS_OF)
    assert _got(result) == expected_cohorts([row for row in world["rows"] if keep(row)])


def test_a_user_sees_only_the_cohorts_of_readable_accounts(session, world):
    viewer = factories.user(session)
    factories.grant(session, actor=world["admin"], role=Role.viewer, target=world["branches"]["A"], user=viewer)
    nobody = factories.user(session)
    session.commit()
    result = retention.cohorts(session, user=viewer, as_of=AS_OF)
    assert _got(result) == expected_cohorts([row for row in world["rows"] if row.side == "A"])
    assert retention.cohorts(session, user=nobody, as_of=AS_OF)["cohorts"] == []


def test_average_curve_weights_cohorts_by_size(session, world):
    result = retention.cohorts(session, user=world["admin"], as_of=AS_OF)
    expected = expected_cohorts(world["rows"])
    for row in result["average"]:
        reached = [c for c in expected.values() if len(c["periods"]) > row["k"]]
        accounts = sum(c["periods"][row["k"]][1] for c in reached)
        assert (row["cohorts"], row["accounts"]) == (len(reached), accounts)
        assert row["share"] == round(accounts / sum(c["size"] for c in reached), 4)


def test_bad_period_is_refused_naming_it(session, world):
    with pytest.raises(Invalid) as caught:
        retention.cohorts(session, user=world["admin"], period="week")
    assert "period" in caught.value.errors


# -- before / after ---------------------------------------------------------------------------------------------

A = retention.Period(date(2025, 1, 1), date(2025, 7, 1))
B = retention.Period(date(2025, 7, 1), date(2026, 1, 1))


def _at(day):
    return datetime.combine(day, datetime.min.time(), UTC)


def expected_kpis(rows, span, *, deal_owner=None):
    start, end = _at(span.since), _at(span.until)
    deals = [d for row in rows for d in row.deals if deal_owner is None or d[4] == deal_owner]
    closed = [d for d in deals if d[1] in ("won", "lost") and start <= d[2] < end]
    won = sum(1 for d in closed if d[1] == "won")
    lost = len(closed) - won
    cycle = [(d[2] - d[0]).total_seconds() / 86400 for d in closed if d[1] == "won"]
    before_start = _at(span.since - timedelta(days=span.days))
    base = kept = 0
    for row in rows:
        wins = [d[2] for d in row.deals if d[1] == "won"]
        if any(before_start <= at < start for at in wins):
            base += 1
            kept += any(start <= at < end for at in wins)
    csat = [s for row in rows for k, s, at in row.answers if k is SurveyKind.csat and start <= at < end]
    nps = [s for row in rows for k, s, at in row.answers if k is SurveyKind.nps and start <= at < end]
    normed = [row for row in rows if row.kind in (AccountKind.client, AccountKind.prospect)]
    meeting = sum(1 for row in normed
                  if sum(start <= at < end for at in row.touches) >= {AccountKind.client: 4,
                                                                      AccountKind.prospect: 6}[row.kind] * span.days / 365)
    return {
        "win_rate": {"won": won, "lost": lost, "win_rate": round(won / (won + lost), 4) if closed else None},
        "sales_cycle": {"won_deals": len(cycle), "mean": statistics.fmean(cycle) if cycle else None,
                        "median": statistics.median(cycle) if cycle else None},
        "retention": {"base_accounts": base, "retained_accounts": kept,
                      "retention": round(kept / base, 4) if base else None},
        "satisfaction": {"csat_answers": len(csat), "csat": round(statistics.fmean(csat), 2) if csat else None,
                         "nps_answers": len(nps),
                         "nps": round(100 * (sum(s >= 9 for s in nps) - sum(s <= 6 for s in nps)) / len(nps), 1)
                         if nps else None},
        "contact_norm": {"accounts": len(normed), "meeting": meeting,
                         "compliance": round(meeting / len(normed), 4) if normed else None},
    }


def _check_period(got, expected):
    assert got["win_rate"] == expected["win_rate"]
    assert got["sales_cycle"]["won_deals"] == expected["sales_cycle"]["won_deals"]
    if expected["sales_cycle"]["mean"] is not None:
        assert got["sales_cycle"]["mean_days"] == pytest.approx(expected["sales_cycle"]["mean"], abs=0.01)
        assert got["sales_cycle"]["median_days"] == pytest.approx(expected["sales_cycle"]["median"], abs=0.01)
    assert got["retention"] == expected["retention"]
    assert got["satisfaction"]["csat_answers"] == expected["satisfaction"]["csat_answers"]
    assert got["satisfaction"]["nps"] == pytest.approx(expected["satisfaction"]["nps"])
    assert got["satisfaction"]["csat"] == pytest.approx(expected["satisfaction"]["csat"])
    assert got["contact_norm"] == expected["contact_norm"]


def test_before_and_after_equal_the_independent_computation(session, world):
    result = retention.compare(session, user=world["admin"], a=A, b=B)
    first, second = expected_kpis(world["rows"], A), expected_kpis(world["rows"], B)
    _check_period(result["a"], first)
    _check_period(result["b"], second)
    assert first["win_rate"]["won"] and second["retention"]["base_accounts"]  # the data exercises the figures
    assert result["difference"]["win_rate"]["won"] == second["win_rate"]["won"] - first["win_rate"]["won"]
    if first["retention"]["retention"] is not None and second["retention"]["retention"] is not None:
        assert result["difference"]["retention"]["retention"] == pytest.approx(
            second["retention"]["retention"] - first["retention"]["retention"], abs=1e-4)
    assert result["difference"]["contact_norm"]["meeting"] == (second["contact_norm"]["meeting"]
                                                               - first["contact_norm"]["meeting"])


def test_before_and_after_for_readable_accounts_and_one_owner(session, world):
    viewer = factories.user(session)
    factories.grant(session, actor=world["admin"], role=Role.viewer, target=world["branches"]["B"], user=viewer)
    session.commit()
    result = retention.compare(session, user=viewer, a=A, b=B)
    rows_b = [row for row in world["rows"] if row.side == "B"]
    _check_period(result["a"], expected_kpis(rows_b, A))
    _check_period(result["b"], expected_kpis(rows_b, B))
    # owner: the account's owner for account figures, the deal's owner for deal figures.
    owner = world["owners"][0]
    one = retention.compare(session, user=world["admin"], a=A, b=B, kpis=("win_rate", "retention"),
                            scope=AccountScope(owner_id=owner.id))
    mine = [row for row in world["rows"] if row.owner == 0]
    assert one["b"]["retention"] == expected_kpis(mine, B)["retention"]
    assert one["b"]["win_rate"] == expected_kpis(world["rows"], B, deal_owner=0)["win_rate"]
    assert set(one["a"]) == {"since", "until", "win_rate", "retention"}


def test_unknown_kpi_and_reversed_period_are_refused(session, world):
    with pytest.raises(Invalid) as caught:
        retention.compare(session, user=world["admin"], a=A, b=B, kpis=("win_rate", "happiness"))
    assert "kpis" in caught.value.errors
    with pytest.raises(Invalid) as caught:
        retention.compare(session, user=world["admin"], a=A, b=retention.Period(B.until, B.since))
    assert "b_until" in caught.value.errors


# -- contact norm -----------------------------------------------------------------------------------------------

def _norm_rows(rows, days=365, now=NOW):
    start = now - timedelta(days=days)
    result = []
    for row in rows:
        if row.kind not in (AccountKind.client, AccountKind.prospect):
            continue
        touches = sum(start <= at < now for at in row.touches)
        norm = {AccountKind.client: 4, AccountKind.prospect: 6}[row.kind] * days / 365
        result.append((row, touches >= norm))
    return result


def test_contact_norm_compliance_per_owner_and_branch(session, world):
    normed = _norm_rows(world["rows"])
    assert 0 < sum(meets for _row, meets in normed) < len(normed)
    by_owner = {row["id"]: row for row in analytics.contact_compliance(session, user=world["admin"], now=NOW,
                                                                       by="owner")}
    for i, owner in enumerate(world["owners"]):
        mine = [meets for row, meets in normed if row.owner == i]
        assert (by_owner[owner.id]["accounts"], by_owner[owner.id]["meeting"]) == (len(mine), sum(mine))
        assert by_owner[owner.id]["compliance"] == round(sum(mine) / len(mine), 4)
        assert by_owner[owner.id]["name"] == owner.name
    by_branch = {row["id"]: row for row in analytics.contact_compliance(session, user=world["admin"], now=NOW,
                                                                        by="branch")}
    for side, branch in world["branches"].items():
        mine = [meets for row, meets in normed if row.side == side]
        assert (by_branch[branch.id]["accounts"], by_branch[branch.id]["meeting"]) == (len(mine), sum(mine))
    (total,) = analytics.contact_compliance(session, user=world["admin"], now=NOW, days=180)
    half = _norm_rows(world["rows"], days=180)
    assert (total["accounts"], total["meeting"]) == (len(half), sum(meets for _r, meets in half))


def test_accounts_behind_are_the_ones_missing_the_norm(session, world):
    behind = analytics.contact_gaps(session, user=world["admin"], now=NOW)
    assert {row["account"] for row in behind} == {row.name for row, meets in _norm_rows(world["rows"]) if not meets}
    sector = analytics.contact_gaps(session, user=world["admin"], now=NOW, sector="Retail")
    assert {row["account"] for row in sector} == {row.name for row, meets in _norm_rows(world["rows"])
                                                  if not meets and row.sector == "Retail"}


def test_contact_norm_sees_only_readable_accounts(session, world):
    viewer = factories.user(session)
    factories.grant(session, actor=world["admin"], role=Role.viewer, target=world["branches"]["A"], user=viewer)
    session.commit()
    rows = analytics.contact_compliance(session, user=viewer, now=NOW, by="branch")
    assert [row["id"] for row in rows] == [world["branches"]["A"].id]
    behind = analytics.contact_gaps(session, user=viewer, now=NOW)
    assert {row["account"] for row in behind} == {row.name for row, meets in _norm_rows(world["rows"])
                                                  if not meets and row.side == "A"}

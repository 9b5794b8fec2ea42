"""Segments' filters, each checked against a computation of its own in Python over generated data; the RFM filter
against the RFM report; members and counts only what the reader may read; bad filters refused by key."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from accounts import analytics
from accounts.marketing import consent, segments
from accounts.marketing.models import AccountTag, ContactTag, Segment
from accounts.models import Account, AccountKind, Contact, Deal, DealLine, Interaction, StageKind, SurveyAnswer, SurveyKind
from crmpm.database import utcnow
from crmpm.errors import Forbidden, Invalid
from eps.models import Role
from tests import factories
from tests.accounts.fixtures import crm  # noqa: F401 - fixture

UTC = timezone.utc
SECTORS = ("retail", "energy", "it")
PRODUCTS = ("pump", "valve", "meter")
TAGS = ("vip", "export", "b2g")


@pytest.fixture
def world(session, crm):
    """About 30 accounts over three branches (one nested) with random owners, kinds, sectors, contacts, won and
    open deals with product lines, interactions, CSAT answers, tags and consents."""
    rng = random.Random(17)
    admin, pipeline = crm["admin"], crm["pipeline"]
    sub = factories.node(session, actor=admin, parent=crm["A"]["branch"], code="A1")
    branches = [crm["A"]["branch"], crm["B"]["branch"], sub]
    owners = [factories.user(session), factories.user(session), None]
    now = utcnow()
    for n in range(30):
        account = factories.account(session, actor=admin, region=rng.choice(branches), name=f"Gen {n}",
                                    owner=rng.choice(owners), kind=rng.choice(list(AccountKind)),
                                    sector=rng.choice(SECTORS))
        for c in range(rng.randint(0, 2)):
            contact = factories.contact(session, actor=admin, account=account,
                                        email=f"p{n}x{c}@gen.example" if rng.random() < 0.7 else None)
            if rng.random() < 0.4:
                session.add(ContactTag(contact_id=contact.id, tag=rng.choice(TAGS)))
            for channel in ("email", "sms"):
                roll = rng.random()
                if roll < 0.3:
                    consent.record_consent(session, contact_id=contact.id, channel=channel, source="form", actor=admin)
                elif roll < 0.45:
                    consent.record_opt_out(session, contact_id=contact.id, channel=channel, source="link", actor=admin)
                elif roll < 0.55:
                    consent.record_consent(session, contact_id=contact.id, channel=channel, source="form", actor=admin)
                    consent.record_opt_out(session, contact_id=contact.id, channel=channel, source="call", actor=admin)
        for _ in range(rng.randint(0, 3)):
            closed = now - timedelta(days=rng.choice([3, 20, 90, 200, 400]), hours=rng.randint(0, 20))
            deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline, stage="Won",
                                  amount=rng.choice(["100.00", "250.50", "900.00", "1500.00"]),
                                  created_at=closed - timedelta(days=10), closed_at=closed)
            for product in rng.sample(PRODUCTS, rng.randint(0, 2)):
                session.add(DealLine(deal_id=deal.id, product=product, quantity=Decimal("1"), unit_price=Decimal("10")))
        if rng.random() < 0.4:
            factories.deal(session, actor=admin, account=account, pipeline=pipeline,
                           stage=rng.choice(["Qualification", "Proposal", "Negotiation"]))
        if rng.random() < 0.2:
            factories.deal(session, actor=admin, account=account, pipeline=pipeline, stage="Lost", lost_reason="Price")
        for _ in range(rng.randint(0, 3)):
            factories.interaction(session, actor=admin, account=account,
                                  occurred_at=now - timedelta(days=rng.randint(1, 300)))
        for _ in range(rng.randint(0, 2)):
            session.add(SurveyAnswer(account_id=account.id, kind=SurveyKind.csat, score=rng.randint(1, 5),
                                     answered_at=now - timedelta(days=rng.randint(1, 100))))
        if rng.random() < 0.15:
            session.add(SurveyAnswer(account_id=account.id, kind=SurveyKind.nps, score=rng.randint(0, 10),
                                     answered_at=now))
        for tag in rng.sample(TAGS, rng.randint(0, 2)):
            session.add(AccountTag(account_id=account.id, tag=tag))
    session.commit()
    return {"admin": admin, "branches": branches, "owners": owners, "pipeline": pipeline, "now": now}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _tertiles(values: dict[int, object], *, higher_is_better: bool) -> dict[int, int]:
    ordered = sorted(set(values.values()), reverse=not higher_is_better)
    rank = {value: 1 + (3 * index) // len(ordered) for index, value in enumerate(ordered)}
    return {key: rank[value] for key, value in values.items()}


class Oracle:
    """The filter's meaning computed in Python from every row (no SQL but plain reads)."""

    def __init__(self, session, now):
        self.now = now
        self.accounts = {a.id: a for a in session.scalars(select(Account).where(Account.merged_into_id.is_(None)))}
        self.contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.merged_into_id.is_(None)))}
        deals = session.scalars(select(Deal)).all()
        self.won = [d for d in deals if d.stage.kind is StageKind.won]
        self.open = [d for d in deals if d.stage.kind is StageKind.open]
        self.ltv = defaultdict(Decimal)
        for deal in self.won:
            self.ltv[deal.account_id] += deal.amount
        self.lines = defaultdict(set)
        for line in session.scalars(select(DealLine)):
            if line.deal in self.won:
                self.lines[line.deal.account_id].add(line.product)
        self.touches = defaultdict(list)
        for interaction in session.scalars(select(Interaction)):
            self.touches[interaction.account_id].append(_aware(interaction.occurred_at))
        latest = {}
        for answer in session.scalars(select(SurveyAnswer).where(SurveyAnswer.kind == SurveyKind.csat)):
            key = (_aware(answer.answered_at), answer.id)
            if answer.account_id not in latest or key > latest[answer.account_id][0]:
                latest[answer.account_id] = (key, answer.score)
        self.csat = {account_id: score for account_id, (_key, score) in latest.items()}
        self.account_tags = defaultdict(set)
        for tag in session.scalars(select(AccountTag)):
            self.account_tags[tag.account_id].add(tag.tag)
        self.contact_tags = defaultdict(set)
        for tag in session.scalars(select(ContactTag)):
            self.contact_tags[tag.contact_id].add(tag.tag)
        self.consents = {(row.contact_id, row.channel): row for row in session.scalars(select(consent.ContactConsent))}
        self.rfm = self._rfm()

    def _rfm(self):
        by_account = defaultdict(list)
        for deal in self.won:
            by_account[deal.account_id].append(deal)
        last = {a: max(_aware(d.closed_at) for d in ds) for a, ds in by_account.items()}
        r = _tertiles(last, higher_is_better=True)
        f = _tertiles({a: len(ds) for a, ds in by_account.items()}, higher_is_better=True)
        names = {}
        for a in by_account:
            names[a] = next(name for r_min, f_min, name in analytics.RFM_SEGMENTS if r[a] >= r_min and f[a] >= f_min)
        return names

    def account_matches(self, account, flt, paths) -> bool:
        a = account.id
        day = lambda key: datetime.combine(date.fromisoformat(flt[key]), datetime.min.time(), tzinfo=UTC)  # noqa: E731
        checks = {
            "branch_ids": lambda v: any(account.eps_node.path.startswith(paths[b]) for b in v),
            "sectors": lambda v: account.sector in v,
            "account_kinds": lambda v: account.kind.value in v,
            "owner_ids": lambda v: account.owner_id in v,
            "rfm_segments": lambda v: self.rfm.get(a) in v,
            "lifetime_value_min": lambda v: self.ltv[a] >= Decimal(v),
            "lifetime_value_max": lambda v: self.ltv[a] <= Decimal(v),
            "last_contact_after": lambda v: bool(self.touches[a]) and max(self.touches[a]) >= day("last_contact_after"),
            "last_contact_before": lambda v: bool(self.touches[a]) and max(self.touches[a]) < day("last_contact_before"),
            "no_contact_days": lambda v: not any(t >= self.now - timedelta(days=v) for t in self.touches[a]),
            "products": lambda v: bool(self.lines[a] & set(v)),
            "open_deal_stage_ids": lambda v: any(d.account_id == a and d.stage_id in v for d in self.open),
            "satisfaction_min": lambda v: a in self.csat and self.csat[a] >= v,
            "satisfaction_max": lambda v: a in self.csat and self.csat[a] <= v,
            "tags": lambda v: bool(self.account_tags[a] & set(v)),
        }
        return all(check(flt[key]) for key, check in checks.items() if key in flt)

    def contact_matches(self, contact, flt) -> bool:
        c = contact.id
        consent_row = lambda channel: self.consents.get((c, channel))  # noqa: E731
        checks = {
            "contact_tags": lambda v: bool(self.contact_tags[c] & set(v)),
            "has_email": lambda v: bool(contact.email) == v,
            "consent_channel": lambda v: consent_row(v) is not None and consent_row(v).consented_at is not None
            and consent_row(v).opted_out_at is None,
            "not_opted_out_channel": lambda v: consent_row(v) is None or consent_row(v).opted_out_at is None,
        }
        return all(check(flt[key]) for key, check in checks.items() if key in flt)

    def contacts_of(self, flt, paths, readable=None):
        return {c.id for c in self.contacts.values()
                if (readable is None or c.account_id in readable)
                and self.account_matches(self.accounts[c.account_id], flt, paths) and self.contact_matches(c, flt)}

    def accounts_of(self, flt, paths, readable=None):
        person = {c.account_id for c in self.contacts.values() if self.contact_matches(c, flt)}
        needs_person = any(key in flt for key in ("contact_tags", "has_email", "consent_channel", "not_opted_out_channel"))
        return {a.id for a in self.accounts.values()
                if (readable is None or a.id in readable) and self.account_matches(a, flt, paths)
                and (not needs_person or a.id in person)}


def _filters(world, session):
    stages = {s.name: s.id for s in world["pipeline"].stages}
    branch_a, branch_b, sub = (b.id for b in world["branches"])
    owner_1, owner_2, _ = world["owners"]
    today = world["now"].date()
    return [
        {}, {"branch_ids": [branch_a]}, {"branch_ids": [sub]}, {"branch_ids": [branch_b, sub]},
        {"sectors": ["retail"]}, {"sectors": ["it", "energy"]}, {"account_kinds": ["client", "prospect"]},
        {"owner_ids": [owner_1.id]}, {"owner_ids": [owner_1.id, owner_2.id]},
        {"rfm_segments": ["champions"]}, {"rfm_segments": ["hibernating", "at_risk"]}, {"rfm_segments": ["loyal", "new"]},
        {"lifetime_value_min": "1000"}, {"lifetime_value_max": "500.50"}, {"lifetime_value_min": "100", "lifetime_value_max": "2000"},
        {"lifetime_value_max": "0"},
        {"last_contact_after": (today - timedelta(days=60)).isoformat()},
        {"last_contact_before": (today - timedelta(days=100)).isoformat()},
        {"no_contact_days": 90}, {"no_contact_days": 0},
        {"products": ["pump"]}, {"products": ["valve", "meter"]},
        {"open_deal_stage_ids": [stages["Proposal"]]}, {"open_deal_stage_ids": [stages["Qualification"], stages["Negotiation"]]},
        {"satisfaction_min": 4}, {"satisfaction_max": 2}, {"satisfaction_min": 2, "satisfaction_max": 3},
        {"tags": ["vip"]}, {"tags": ["export", "b2g"]}, {"contact_tags": ["vip", "export"]},
        {"has_email": True}, {"has_email": False}, {"consent_channel": "email"}, {"not_opted_out_channel": "sms"},
        {"sectors": ["retail", "it"], "has_email": True, "not_opted_out_channel": "email", "lifetime_value_min": "200"},
        {"branch_ids": [branch_a], "rfm_segments": ["champions", "loyal"], "tags": ["vip", "export"]},
    ]


def _paths(session):
    from eps.models import EpsNode
    return dict(session.execute(select(EpsNode.id, EpsNode.path)).all())


def test_every_filter_matches_an_independent_computation(session, world):
    oracle, paths = Oracle(session, world["now"]), _paths(session)
    checked = 0
    for flt in _filters(world, session):
        clean = segments.validate_filter(session, flt)
        contacts = set(session.scalars(segments.filter_contact_ids(session, clean, now=world["now"])))
        accounts = set(session.scalars(segments.filter_account_ids(session, clean, now=world["now"])))
        assert contacts == oracle.contacts_of(flt, paths), flt
        assert accounts == oracle.accounts_of(flt, paths), flt
        checked += bool(contacts) + bool(accounts)
    assert checked > 40  # most filters select somebody: the comparisons are not between empty sets


def test_the_rfm_filter_holds_the_rfm_report_s_segments(session, world):
    admin = world["admin"]
    report = defaultdict(set)
    for row in analytics.rfm(session, user=admin):
        report[row["segment"]].add(row["account_id"])
    assert len(report) >= 3
    oracle = Oracle(session, world["now"])
    for name in segments.RFM_NAMES:
        members = set(session.scalars(segments.filter_account_ids(session, {"rfm_segments": [name]}, user=admin)))
        assert members == report[name] == {a for a, s in oracle.rfm.items() if s == name}


def test_a_reader_sees_only_the_members_they_may_read_and_counts_them(session, world, crm):
    reader = factories.user(session)
    factories.grant(session, actor=world["admin"], role=Role.viewer, target=world["branches"][1], user=reader)
    session.commit()
    readable = {a.id for a in session.scalars(select(Account)) if a.eps_node.path.startswith(world["branches"][1].path)}
    oracle, paths = Oracle(session, world["now"]), _paths(session)
    for flt in ({}, {"has_email": True}, {"lifetime_value_min": "100"}, {"rfm_segments": ["champions", "loyal"]}):
        segment = segments.create_segment(session, actor=world["admin"], name="S", flt=flt)
        expected = oracle.contacts_of(flt, paths, readable) if "rfm_segments" not in flt else None
        members = set(session.scalars(segments.contact_ids(session, segment, user=reader)))
        assert members and {session.get(Contact, c).account_id for c in members} <= readable
        if expected is not None:
            assert members == expected
        assert segments.count(session, segment, user=reader) == len(members)
        assert segments.count(session, segment, user=world["admin"]) >= len(members)
        every = set(session.scalars(segments.contact_ids(session, segment)))
        assert members <= every
    rfm_reader = {row["account_id"]: row["segment"] for row in analytics.rfm(session, user=reader)}
    seen = set(session.scalars(segments.filter_account_ids(session, {"rfm_segments": ["champions"]}, user=reader)))
    assert seen == {a for a, s in rfm_reader.items() if s == "champions"}


@pytest.mark.parametrize("flt, key", [
    ({"colour": ["red"]}, "filter.colour"), ({"sectors": "retail"}, "filter.sectors"),
    ({"account_kinds": ["alien"]}, "filter.account_kinds"), ({"rfm_segments": ["sleepy"]}, "filter.rfm_segments"),
    ({"lifetime_value_min": "lots"}, "filter.lifetime_value_min"), ({"lifetime_value_max": -1}, "filter.lifetime_value_max"),
    ({"last_contact_before": "2026-13-01"}, "filter.last_contact_before"), ({"no_contact_days": "ten"}, "filter.no_contact_days"),
    ({"satisfaction_min": 9}, "filter.satisfaction_min"), ({"has_email": "yes"}, "filter.has_email"),
    ({"consent_channel": "pigeon"}, "filter.consent_channel"), ({"branch_ids": [999999]}, "filter.branch_ids"),
    ({"open_deal_stage_ids": [999999]}, "filter.open_deal_stage_ids"), ({"owner_ids": [True]}, "filter.owner_ids"),
    ({"satisfaction_min": 4, "satisfaction_max": 2}, "filter.satisfaction_max"),
    ({"tags": ["x" * 101]}, "filter.tags"),
])
def test_a_bad_filter_is_refused_naming_its_key(session, crm, flt, key):
    with pytest.raises(Invalid) as raised:
        segments.validate_filter(session, flt)
    assert key in raised.value.errors


def test_a_won_stage_is_not_an_open_deal_stage(session, crm):
    won = next(s for s in crm["pipeline"].stages if s.kind is StageKind.won)
    with pytest.raises(Invalid) as raised:
        segments.validate_filter(session, {"open_deal_stage_ids": [won.id]})
    assert "filter.open_deal_stage_ids" in raised.value.errors


def test_static_segments_from_ids_and_frozen_from_a_filter(session, world):
    admin = world["admin"]
    with_email = set(session.scalars(segments.filter_contact_ids(session, {"has_email": True})))
    frozen = segments.create_segment(session, actor=admin, name="Frozen", kind="static", flt={"has_email": True},
                                     from_filter=True)
    assert set(session.scalars(segments.contact_ids(session, frozen))) == with_email
    # a contact who gets an e-mail later is not added to the frozen list
    later = factories.contact(session, actor=admin, account=session.get(Account, min(world_accounts(session))),
                              email="late@gen.example")
    assert later.id not in set(session.scalars(segments.contact_ids(session, frozen)))
    some = sorted(with_email)[:3]
    listed = segments.create_segment(session, actor=admin, name="Listed", kind="static", contact_ids_=some)
    assert segments.count(session, listed) == 3
    assert segments.remove_members(session, actor=admin, segment=listed, ids=some[:1]) == 1
    assert segments.add_members(session, actor=admin, segment=listed, ids=[later.id, some[1]]) == 1
    assert set(session.scalars(segments.contact_ids(session, listed))) == {later.id, *some[1:]}
    accounts = segments.create_segment(session, actor=admin, name="Accounts", subject="accounts", kind="static",
                                       account_ids_=sorted(world_accounts(session))[:2])
    assert set(session.scalars(segments.account_ids(session, accounts))) == set(sorted(world_accounts(session))[:2])
    with pytest.raises(Invalid) as raised:
        segments.add_members(session, actor=admin, segment=listed, ids=[999999])
    assert "contact_ids" in raised.value.errors


def world_accounts(session):
    return set(session.scalars(select(Account.id).where(Account.name.like("Gen %"))))


def test_only_the_owner_or_an_administrator_changes_a_segment(session, world):
    owner, other = factories.user(session), factories.user(session)
    segment = segments.create_segment(session, actor=owner, name="Mine", flt={"sectors": ["it"]})
    segments.update_segment(session, actor=owner, segment=segment, name="Still mine")
    with pytest.raises(Forbidden):
        segments.update_segment(session, actor=other, segment=segment, name="Taken")
    with pytest.raises(Forbidden):
        segments.delete_segment(session, actor=other, segment=segment)
    segments.update_segment(session, actor=world["admin"], segment=segment, filter={"sectors": ["retail"]})
    assert segment.filter == {"sectors": ["retail"]}
    segments.delete_segment(session, actor=owner, segment=segment)
    assert session.get(Segment, segment.id) is None

"""Board figures (weighted sums, search, further cards), deal sorting, edit rights per card, the funnel's
reached stages and win rate by owner: each checked against figures computed here from the deals made here."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from accounts import analytics, deals
from accounts.permissions import editable_deal_ids
from eps import services as eps_services
from eps.models import Role
from eps.permissions import Permission, access_to
from tests import factories
from tests.accounts.fixtures import crm  # noqa: F401 - fixture

D = Decimal
UTC = timezone.utc
PROBABILITY = {"Qualification": 10, "Proposal": 40, "Negotiation": 70, "Won": 100, "Lost": 0}


def test_board_weighted_sums_use_the_deals_own_probability_first(session, crm):
    admin, pipeline = crm["admin"], crm["pipeline"]
    made = [("Proposal", "1000.00", None), ("Proposal", "333.33", 55), ("Negotiation", "250.00", None),
            ("Qualification", "10.01", None)]
    for stage, amount, probability in made:
        factories.deal(session, actor=admin, account=crm["A"]["account"], pipeline=pipeline, stage=stage,
                       amount=amount, probability=probability)
    columns = {c.stage.name: c for c in deals.board(session, user=admin, pipeline=pipeline)}
    for name in ("Qualification", "Proposal", "Negotiation"):
        mine = [(D(a), p if p is not None else PROBABILITY[name]) for s, a, p in made if s == name]
        assert columns[name].count == len(mine)
        assert columns[name].value == sum((a for a, _p in mine), D(0))
        assert columns[name].weighted == sum((a * p / 100 for a, p in mine), D(0)).quantize(D("0.01"))
    assert columns["Won"].weighted == D("0.00")


def test_board_search_and_further_cards(session, crm):
    admin, pipeline = crm["admin"], crm["pipeline"]
    made = [factories.deal(session, actor=admin, account=crm["A"]["account"], pipeline=pipeline, stage="Proposal",
                           expected_close=date(2027, 1, n + 1)) for n in range(7)]
    made[3].project.name = "Turbine retrofit"
    session.flush()
    columns = {c.stage.name: c for c in deals.board(session, user=admin, pipeline=pipeline, per_stage=3)}
    assert columns["Proposal"].count == 7 and [d.id for d in columns["Proposal"].deals] == [d.id for d in made[:3]]
    stage = columns["Proposal"].stage
    rest = deals.board_column(session, user=admin, stage=stage, offset=3, limit=3)
    assert [d.id for d in rest] == [d.id for d in made[3:6]]
    found = {c.stage.name: c for c in deals.board(session, user=admin, pipeline=pipeline, search="TURBINE")}
    assert found["Proposal"].count == 1 and found["Proposal"].deals == [made[3]]
    assert deals.board_column(session, user=admin, stage=stage, search="turbine") == [made[3]]


def test_deal_list_sorts(session, crm):
    admin, pipeline = crm["admin"], crm["pipeline"]
    amounts = ["300.00", "100.00", "200.00"]
    made = [factories.deal(session, actor=admin, account=crm["A"]["account"], pipeline=pipeline, amount=a)
            for a in amounts]
    factories.move(session, actor=admin, deal=made[1], stage="Negotiation")

    def ids(sort):
        return [d.id for d in session.scalars(deals.list_deals(session, user=admin, pipeline_id=pipeline.id,
                                                                sort=sort))]

    assert ids("amount") == [made[1].id, made[2].id, made[0].id]
    assert ids("-amount") == [made[0].id, made[2].id, made[1].id]
    assert ids("-stage")[0] == made[1].id
    assert ids("nonsense") == [d.id for d in reversed(made)]


def test_editable_deal_ids_follow_the_edit_grants(session, crm):
    admin, pipeline = crm["admin"], crm["pipeline"]
    in_a = factories.deal(session, actor=admin, account=crm["A"]["account"], pipeline=pipeline)
    in_b = factories.deal(session, actor=admin, account=crm["B"]["account"], pipeline=pipeline)
    editor, viewer = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=editor)
    factories.grant(session, actor=admin, role=Role.viewer, target=crm["root"], user=editor)
    factories.grant(session, actor=admin, role=Role.viewer, target=crm["root"], user=viewer)
    ids = [in_a.id, in_b.id]
    assert editable_deal_ids(session, user=editor, deal_ids=ids) == {in_a.id}
    assert editable_deal_ids(session, user=viewer, deal_ids=ids) == set()
    assert editable_deal_ids(session, user=admin, deal_ids=ids) == set(ids)
    outsider = factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=crm["root"], user=outsider)
    # Protecting A cuts the viewer grants at the top off, not the editor grant on A itself.
    eps_services.update_node(session, actor=admin, node=crm["A"]["branch"], protected=True)
    session.expire_all()
    assert editable_deal_ids(session, user=editor, deal_ids=ids) == {in_a.id}
    assert editable_deal_ids(session, user=outsider, deal_ids=ids) == {in_b.id}
    for user in (editor, viewer, outsider):  # the same answer as asking access_to() deal by deal
        assert editable_deal_ids(session, user=user, deal_ids=ids) == {
            deal.id for deal in (in_a, in_b) if access_to(session, user=user, obj=deal.project).can(Permission.edit)}


def test_funnel_reached_counts_and_values(session, crm):
    admin, pipeline = crm["admin"], crm["pipeline"]
    paths = [(["Proposal", "Won"], "100.00"), (["Negotiation", "Lost"], "50.00"), (["Proposal"], "20.00"),
             ([], "7.00")]
    for path, amount in paths:
        deal = factories.deal(session, actor=admin, account=crm["A"]["account"], pipeline=pipeline, amount=amount)
        for stage in path:
            factories.move(session, actor=admin, deal=deal, stage=stage, lost_reason="Price")
    order = ["Qualification", "Proposal", "Negotiation", "Won"]
    furthest = [max([0] + [order.index(s) for s in path if s != "Lost"]) for path, _a in paths]
    rows = {row["stage"]: row for row in analytics.funnel(session, user=admin, pipeline=pipeline)["by_stage"]}
    for index, name in enumerate(order):
        assert rows[name]["reached"] == sum(1 for f in furthest if f >= index)
        assert rows[name]["reached_value"] == sum((D(a) for f, (_p, a) in zip(furthest, paths) if f >= index), D(0))
    assert rows["Lost"]["reached"] is None


def test_win_rate_by_owner(session, crm):
    admin, pipeline = crm["admin"], crm["pipeline"]
    anna, ivan = factories.user(session, name="Anna"), factories.user(session, name="Ivan")
    plan = [(anna, "Won", "100.00"), (anna, "Won", "50.00"), (anna, "Lost", "10.00"), (ivan, "Lost", "30.00"),
            (ivan, None, "99.00"), (None, "Won", "5.00")]
    for owner, final, amount in plan:
        deal = factories.deal(session, actor=admin, account=crm["B"]["account"], pipeline=pipeline, amount=amount,
                              owner=owner)
        if final:
            factories.move(session, actor=admin, deal=deal, stage=final, lost_reason="Price",
                           at=datetime(2026, 5, 1, tzinfo=UTC))
    rows = {row["owner_id"]: row for row in analytics.win_rate_by_owner(session, user=admin)}
    for owner in (anna, ivan, None):
        mine = [(final, D(a)) for o, final, a in plan if o is owner and final]
        won = sum(1 for f, _a in mine if f == "Won")
        lost = sum(1 for f, _a in mine if f == "Lost")
        row = rows[owner.id if owner else None]
        assert (row["won"], row["lost"]) == (won, lost)
        assert row["win_rate"] == round(won / (won + lost), 4)
        assert row["won_value"] == sum((a for f, a in mine if f == "Won"), D(0))
    assert rows[anna.id]["owner"] == "Anna"
    assert analytics.win_rate_by_owner(session, user=admin, flt=analytics.DealFilter(since=date(2026, 6, 1))) == []
    # A viewer of branch A alone sees none of these (all in B).
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=crm["A"]["branch"], user=viewer)
    assert analytics.win_rate_by_owner(session, user=viewer) == []

"""Visibility through EPS grants: a viewer at the top sees everything, unless a node is protected."""

from datetime import datetime, timedelta, timezone

from accounts import activities, analytics, deals, leads, services
from accounts.models import Deal
from eps import services as eps_services
from eps.models import Role
from eps.permissions import principal_grant_paths, reads_everything
from tests import factories
from tests.accounts.fixtures import crm  # noqa: F401 - fixture


def _ids(session, query):
    return sorted(row.id for row in session.scalars(query))


def test_viewer_at_the_top_reads_every_client_until_a_node_is_protected(session, crm):
    admin = crm["admin"]
    seller = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=crm["root"], user=seller)
    deal_a = factories.deal(session, actor=admin, account=crm["A"]["account"], pipeline=crm["pipeline"])
    deal_b = factories.deal(session, actor=admin, account=crm["B"]["account"], pipeline=crm["pipeline"])
    when = datetime(2026, 6, 1, tzinfo=timezone.utc)
    for side in ("A", "B"):
        factories.interaction(session, actor=admin, account=crm[side]["account"], occurred_at=when)
        leads.create_lead(session, actor=admin, region=crm[side]["branch"], company=f"Lead {side}")
    assert reads_everything(session, user=seller, paths=principal_grant_paths(session, user=seller))
    assert _ids(session, deals.list_deals(session, user=seller)) == sorted([deal_a.id, deal_b.id])

    eps_services.update_node(session, actor=admin, node=crm["B"]["branch"], protected=True)
    assert not reads_everything(session, user=seller, paths=principal_grant_paths(session, user=seller))
    assert _ids(session, deals.list_deals(session, user=seller)) == [deal_a.id]
    assert _ids(session, services.list_accounts(session, user=seller)) == [crm["A"]["account"].id]
    assert [i.account_id for i in session.scalars(activities.list_interactions(session, user=seller))] == [
        crm["A"]["account"].id]
    assert [lead.company for lead in session.scalars(leads.list_leads(session, user=seller))] == ["Lead A"]
    assert analytics.funnel(session, user=seller, pipeline=crm["pipeline"])["total"] == 1
    columns = deals.board(session, user=seller, pipeline=crm["pipeline"])
    assert [d.id for column in columns for d in column.deals] == [deal_a.id]


def test_board_shows_open_deals_and_those_closed_lately(session, crm):
    admin, account, pipeline = crm["admin"], crm["A"]["account"], crm["pipeline"]
    now = datetime(2026, 11, 27, tzinfo=timezone.utc)
    open_deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline, amount="10.00")
    recent = factories.deal(session, actor=admin, account=account, pipeline=pipeline, amount="20.00")
    factories.move(session, actor=admin, deal=recent, stage="Won", at=now - timedelta(days=3))
    old = factories.deal(session, actor=admin, account=account, pipeline=pipeline, amount="40.00")
    factories.move(session, actor=admin, deal=old, stage="Won", at=now - timedelta(days=90))
    columns = {c.stage.name: c for c in deals.board(session, user=admin, pipeline=pipeline, now=now)}
    assert (columns["Qualification"].count, [d.id for d in columns["Qualification"].deals]) == (1, [open_deal.id])
    assert (columns["Won"].count, columns["Won"].value, [d.id for d in columns["Won"].deals]) == (
        1, recent.amount, [recent.id])
    wider = {c.stage.name: c for c in deals.board(session, user=admin, pipeline=pipeline, now=now, closed_days=365)}
    assert wider["Won"].count == 2 and [d.id for d in wider["Won"].deals] == [recent.id, old.id]
    assert session.get(Deal, old.id).closed_at == now - timedelta(days=90)

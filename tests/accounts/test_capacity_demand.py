"""The pipeline's demand: open deals' templates from their expected close, weighted by probability."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from accounts.capacity_demand import capacity_with_demand
from accounts.deals import update_deal
from crmpm.errors import NotFound
from eps.models import Role
from tests import factories
from tests.wbs.resources import oracle
from wbs.resources.models import ResourceRole


@pytest.fixture
def world(session):
    admin = factories.admin(session)
    sales = factories.node(session, actor=admin, code="SALES")
    templates = factories.node(session, actor=admin, code="TPL")
    template = factories.project(session, actor=admin, node=templates, code="TPL-PLANT")
    worker = oracle.resource(session, calendar_=oracle.calendar(session), node=sales, name="Engineer")
    role = ResourceRole(code="PLC", name="PLC programmer")
    session.add(role)
    session.flush()
    # The template's plan: 40 h of the engineer in the week of 4 January 2027, then 20 h of a generic
    # programmer in the week after (the built-in calendar: Monday to Friday).
    oracle.assign(session, project=template, resource_=worker, start=datetime(2027, 1, 4, 9, 0),
                  finish=datetime(2027, 1, 8, 18, 0), remaining=40.0)
    oracle.assign(session, project=template, role=role, start=datetime(2027, 1, 11, 8, 0),
                  finish=datetime(2027, 1, 15, 17, 0), remaining=20.0)
    pipeline = factories.pipeline(session)
    clients = factories.node(session, actor=admin, code="CLIENTS")
    account = factories.account(session, actor=admin, region=clients)
    return {"admin": admin, "sales": sales, "clients": clients, "template": template, "worker": worker, "role": role,
            "pipeline": pipeline, "account": account}


def _deal(session, world, *, stage="Proposal", close=date(2027, 6, 7), probability=None):
    extra = {"lost_reason": "price"} if stage == "Lost" else {}
    deal = factories.deal(session, actor=world["admin"], account=world["account"], pipeline=world["pipeline"],
                          stage=stage, expected_close=close, probability=probability, **extra)
    update_deal(session, actor=world["admin"], deal=deal, template=world["template"])
    return deal


def _demand(session, user, world):
    result = capacity_with_demand(session, user=user, start=date(2027, 6, 1), end=date(2027, 6, 30), period="week",
                                  with_roles=True, demand=True)
    by_week = dict(zip(result.periods, next(i for i in result.items if i.id == world["worker"].id).demand_hours))
    role_row = next(r for r in result.roles if r.id == world["role"].id)
    return by_week, dict(zip(result.periods, role_row.demand_hours)), result


def test_demand_is_the_template_moved_to_the_close_date_times_the_effective_probability(session, world):
    """Closing Monday 7 June 2027 moves the plan by 154 days (22 weeks): the engineer's 40 h fall in the week of
    7 June, the role's 20 h in the week of 14 June. One deal at its stage's 40 %, one at its own 25 %:
    40 × (0.40 + 0.25) = 26 h and 20 × 0.65 = 13 h."""
    _deal(session, world)
    _deal(session, world, probability=25)
    worker, role, _result = _demand(session, world["admin"], world)
    assert worker[date(2027, 6, 7)] == pytest.approx(26.0)
    assert sum(worker.values()) == pytest.approx(26.0)
    assert role[date(2027, 6, 14)] == pytest.approx(13.0)
    assert sum(role.values()) == pytest.approx(13.0)


def test_closed_deals_and_deals_without_a_template_or_a_date_bring_no_demand(session, world):
    _deal(session, world, stage="Won")
    _deal(session, world, stage="Lost")
    _deal(session, world, close=None)
    factories.deal(session, actor=world["admin"], account=world["account"], pipeline=world["pipeline"],
                   stage="Proposal", expected_close=date(2027, 6, 7))
    worker, role, _result = _demand(session, world["admin"], world)
    assert sum(worker.values()) == 0.0 and sum(role.values()) == 0.0


def test_only_deals_the_viewer_may_read_count(session, world):
    """The engineer belongs to the sales branch, the deal to the clients' node: a viewer of the sales branch
    sees the engineer but no demand; a viewer of both sees the deal's 40 h × 40 % = 16 h."""
    _deal(session, world)
    sales_only, both = factories.user(session), factories.user(session)
    for user, nodes in ((sales_only, ["sales"]), (both, ["sales", "clients"])):
        for key in nodes:
            factories.grant(session, actor=world["admin"], role=Role.viewer, target=world[key], user=user)
    worker, _role, _result = _demand(session, sales_only, world)
    assert sum(worker.values()) == 0.0
    worker, _role, _result = _demand(session, both, world)
    assert sum(worker.values()) == pytest.approx(16.0)


def test_the_template_needs_read_rights_and_is_kept_on_the_deal(session, world):
    deal = _deal(session, world)
    assert deal.template_project_id == world["template"].id
    editor = factories.user(session)
    factories.grant(session, actor=world["admin"], role=Role.editor, target=world["clients"], user=editor)
    with pytest.raises(NotFound):
        update_deal(session, actor=editor, deal=deal, template=world["template"])
    update_deal(session, actor=editor, deal=deal, template=None)
    assert deal.template_project_id is None


def test_the_deal_api_sets_the_template(app, session, world):
    from tests.api.conftest import ApiClient

    deal = _deal(session, world)
    session.commit()
    api = ApiClient(app.test_client(), session)
    answer = api.patch(f"/api/v1/deals/{deal.id}", user=world["admin"], json={"template_project_id": None})
    assert answer.status_code == 200 and answer.json["template_project_id"] is None
    answer = api.patch(f"/api/v1/deals/{deal.id}", user=world["admin"],
                       json={"template_project_id": world["template"].id})
    assert answer.status_code == 200 and answer.json["template_project_id"] == world["template"].id
    missing = api.patch(f"/api/v1/deals/{deal.id}", user=world["admin"], json={"template_project_id": 99999999})
    assert missing.status_code == 404 and "template_project_id" in str(missing.json)

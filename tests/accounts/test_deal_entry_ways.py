"""Whatever way a deal comes in, it opens the same way: the same rules, one writer (``accounts.deals``).

The ways: ``create_deal`` (the reference), the API (POST /api/v1/deals), the bulk
``create_deals`` of imports (through ``check_new_deal``), the CSV import
(``accounts.imports``) and lead qualification (``accounts.leads``, behind the lead
pages and the API). For any stage, opening time and close time a way can express,
its deal's project has the fixed-width path segment of every project, and its stage
history, reached stage and close match the reference's.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from accounts import deals, leads, pipelines
from accounts.deals import rules
from accounts.imports import import_csv
from accounts.models import Deal, DealStageChange, StageKind
from eps.models import project_segment
from tests import factories
from tests.accounts.fixtures import admin, api  # noqa: F401 - fixtures

STAGES = ["Qualification", "Proposal", "Negotiation", "Won", "Lost"]
BASE = datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc)
_numbers = itertools.count(1)


@st.composite
def specs(draw):
    """A deal as an importer may bring it: a stage, maybe when it opened, maybe when it closed."""
    stage = draw(st.sampled_from(STAGES))
    created = draw(st.none() | st.integers(0, 400).map(lambda days: BASE + timedelta(days=days)))
    closed = None
    if draw(st.booleans()):
        closed = (created or BASE) + timedelta(days=draw(st.integers(-5, 60)), minutes=draw(st.integers(0, 600)))
    return {"stage": stage, "created_at": created, "closed_at": closed}


def _signature(session, deal: Deal, *, closed: datetime | None) -> dict:
    """How a deal opened, its times named: "opened" (the spec's, else now), "closed" (the spec's close)."""
    session.refresh(deal)

    def named(moment):
        return "opened" if moment == deal.created_at else "closed" if moment == closed else moment

    history = session.scalars(select(DealStageChange).where(DealStageChange.deal_id == deal.id)
                              .order_by(DealStageChange.at, DealStageChange.id)).all()
    return {
        "stage": deal.stage_id,
        "history": [(change.from_stage_id, change.to_stage_id, named(change.at)) for change in history],
        "reached": deal.reached_stage_id,
        "entered": named(deal.stage_entered_at),
        "closed": None if deal.closed_at is None else named(deal.closed_at),
    }


def _check_opening(session, deal: Deal, pipeline) -> None:
    """What holds for every new deal, whichever way it came in."""
    project, node = deal.project, deal.account.eps_node
    assert project.path == f"{node.path}{project_segment(project.id)}/"
    assert project.protect_path == node.protect_path and project.depth == node.depth + 1
    history = deals.stage_history(session, deal=deal)
    assert history[0].from_stage_id is None and history[-1].to_stage_id == deal.stage_id
    assert all(later.from_stage_id == earlier.to_stage_id for earlier, later in zip(history, history[1:]))
    stages = {stage.id: stage for stage in pipeline.stages}
    first = pipelines.first_open_stage(pipeline)
    assert deal.reached_stage_id == (rules.furthest(stages[c.to_stage_id] for c in history) or first).id
    assert (deal.closed_at is None) == (deal.stage.kind is StageKind.open)


def _by_function(session, world, spec):
    return deals.create_deal(session, actor=world["admin"], account=world["account"], name="Deal",
                             pipeline=world["pipeline"], stage=pipelines.stage_in(world["pipeline"],
                                                                                 name=spec["stage"]),
                             lost_reason="Price" if spec["stage"] == "Lost" else "",
                             created_at=spec["created_at"], closed_at=spec["closed_at"])


def _in_bulk(session, world, spec):
    new = deals.check_new_deal(session, actor=world["admin"], account=world["account"], name="Deal",
                               pipeline=world["pipeline"], stage=pipelines.stage_in(world["pipeline"],
                                                                                   name=spec["stage"]),
                               lost_reason="Price" if spec["stage"] == "Lost" else "",
                               external_id=f"BULK-{next(_numbers)}", created_at=spec["created_at"],
                               closed_at=spec["closed_at"])
    [deal_id] = deals.create_deals(session, actor=world["admin"], pipeline=world["pipeline"], new=[new])
    return session.get(Deal, deal_id)


MAPPING = {
    "columns": {"id": "external_id", "title": "title", "account": "account", "stage": "stage",
                "opened": "engaged_at", "closed": "closed_at", "reason": "lost_reason"},
    "values": {"stage": {"Qualification": "Qualification", "Proposal": "Proposal", "Negotiation": "Negotiation",
                         "Won": "won", "Lost": "lost"}},
    "defaults": {"currency": "RUB"},
    "pipeline": "Sales",
}


def _by_csv(session, world, spec, tmp_path):
    external_id = f"CSV-{next(_numbers)}"
    moment = lambda value: value.strftime("%Y-%m-%d %H:%M") if value else ""  # noqa: E731
    csv_path, mapping_path = tmp_path / f"{external_id}.csv", tmp_path / "deals.json"
    csv_path.write_text("id,title,account,stage,opened,closed,reason\n"
                        f"{external_id},Deal,ACC-1,{spec['stage']},{moment(spec['created_at'])},"
                        f"{moment(spec['closed_at'])},{'Price' if spec['stage'] == 'Lost' else ''}\n",
                        encoding="utf-8")
    mapping_path.write_text(json.dumps(MAPPING), encoding="utf-8")
    report = import_csv(session, actor=world["admin"], kind="deals", path=csv_path, mapping=mapping_path, tz="UTC")
    assert report.committed and report.created == 1, report.summary()
    return session.scalar(select(Deal).where(Deal.external_id == external_id))


def _by_api(session, world, spec, api):
    stage = pipelines.stage_in(world["pipeline"], name=spec["stage"])
    response = api.post("/api/v1/deals", user=world["admin"], json={
        "account_id": world["account"].id, "name": "Deal", "pipeline_id": world["pipeline"].id,
        "stage_id": stage.id, "lost_reason": "Price" if spec["stage"] == "Lost" else ""})
    assert response.status_code == 201, response.get_json()
    return session.get(Deal, response.get_json()["id"])


def _by_lead(session, world):
    lead = leads.create_lead(session, actor=world["admin"], region=world["branch"], company="Client",
                             contact_name="Ann Lee")
    return leads.qualify_lead(session, actor=world["admin"], lead=lead, pipeline=world["pipeline"],
                              account=world["account"]).deal


@pytest.fixture
def world(session, admin):  # noqa: F811
    """One account and pipeline, shared by the examples of a test (they roll back with it)."""
    root = factories.node(session, actor=admin, code="ENT")
    branch = factories.node(session, actor=admin, parent=root)
    account = factories.account(session, actor=admin, region=branch, name="Client", external_id="ACC-1")
    made = {"admin": admin, "branch": branch, "account": account, "pipeline": factories.pipeline(session, name="Sales")}
    session.commit()
    return made


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=specs())
def test_every_way_in_opens_a_deal_the_same_way(session, world, api, tmp_path, spec):  # noqa: F811
    reference = _by_function(session, world, spec)
    _check_opening(session, reference, world["pipeline"])
    expected = _signature(session, reference, closed=spec["closed_at"])
    for way in (lambda: _in_bulk(session, world, spec), lambda: _by_csv(session, world, spec, tmp_path)):
        deal = way()
        _check_opening(session, deal, world["pipeline"])
        assert _signature(session, deal, closed=spec["closed_at"]) == expected

    # The API opens a deal now, in any stage.
    now_spec = {**spec, "created_at": None, "closed_at": None}
    through_api = _by_api(session, world, now_spec, api)
    _check_opening(session, through_api, world["pipeline"])
    assert _signature(session, through_api, closed=None) == _signature(
        session, _by_function(session, world, now_spec), closed=None)

    # A qualified lead opens a deal now, in the first stage.
    first_spec = {"stage": STAGES[0], "created_at": None, "closed_at": None}
    qualified = _by_lead(session, world)
    _check_opening(session, qualified, world["pipeline"])
    assert _signature(session, qualified, closed=None) == _signature(
        session, _by_function(session, world, first_spec), closed=None)


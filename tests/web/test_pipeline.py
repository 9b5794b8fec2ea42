"""The pipeline board: columns and their figures, filters, "more" cards, and moving a deal by drag (JSON) or form."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from accounts.models import Deal
from eps import budgets
from eps.models import Role
from tests import factories

D = Decimal
PROBABILITY = {"Qualification": 10, "Proposal": 40, "Negotiation": 70, "Won": 100, "Lost": 0}
JSON = {"X-Requested-With": "fetch", "Accept": "application/json"}


@pytest.fixture
def crm_world(session, admin):
    """Branches A and B with an account each; an editor and a viewer on A; deals in A and one secret in B."""
    root = factories.node(session, actor=admin, code="ENT")
    a = factories.node(session, actor=admin, parent=root, code="A")
    b = factories.node(session, actor=admin, parent=root, code="B")
    pipeline = factories.pipeline(session, name="Sales")
    editor, viewer, outsider = (factories.user(session, name=name) for name in ("Eda Editor", "Vic Viewer", "Otto"))
    factories.grant(session, actor=admin, role=Role.editor, target=a, user=editor)
    factories.grant(session, actor=admin, role=Role.viewer, target=a, user=viewer)
    account_a = factories.account(session, actor=admin, region=a, name="Alpha Works")
    account_b = factories.account(session, actor=admin, region=b, name="Beta Secret Corp")
    # stage, amount, owner, own probability
    plan = [("Qualification", "1000.00", editor, None), ("Proposal", "2500.50", editor, None),
            ("Proposal", "400.00", viewer, 90), ("Negotiation", "12000.00", editor, None),
            ("Negotiation", "300.00", None, None), ("Won", "5000.00", editor, None)]
    made = []
    for stage, amount, owner, probability in plan:
        made.append(factories.deal(session, actor=admin, account=account_a, pipeline=pipeline, stage=stage,
                                   amount=amount, owner=owner, probability=probability,
                                   expected_close=date(2027, 1, 15)))
    secret = factories.deal(session, actor=admin, account=account_b, pipeline=pipeline, stage="Proposal",
                            amount="777.00", owner=editor)
    secret.project.name = "Secret turbine deal"
    session.commit()
    return {"root": root, "A": a, "B": b, "pipeline": pipeline, "editor": editor, "viewer": viewer,
            "outsider": outsider, "plan": plan, "deals": made, "secret": secret, "account_a": account_a,
            "account_b": account_b}


def _number(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.\-]", "", text))


def columns_of(html: str) -> dict[str, dict]:
    """Per column of the board: its figures and the ids of its cards."""
    found = {}
    parts = re.split(r'(?=<section class="board-column)', html)
    for part in parts[1:]:
        name = re.search(r'data-stage-name="([^"]+)"', part).group(1)
        figures = {key: re.search(rf'data-figure="{key}"[^>]*>([^<]*)<', part) for key in ("count", "value", "weighted")}
        found[name] = {
            "count": int(_number(figures["count"].group(1))),
            "value": _number(figures["value"].group(1)),
            "weighted": _number(figures["weighted"].group(1)) if figures["weighted"] else None,
            "cards": [int(n) for n in re.findall(r'<article class="deal-card[^"]*" data-deal="(\d+)"', part)],
        }
    return found


def test_board_columns_count_sum_and_weigh_what_the_user_sees(pages, crm_world, admin):
    body = pages.log_in_as(admin).get(f"/crm/pipeline?pipeline={crm_world['pipeline'].id}&owner=all")
    assert body.status_code == 200
    columns = columns_of(body.get_data(as_text=True))
    plan = crm_world["plan"] + [("Proposal", "777.00", None, None)]  # the admin sees B's deal too
    for stage in ("Qualification", "Proposal", "Negotiation", "Won"):
        mine = [(D(amount), PROBABILITY[stage] if p is None else p) for s, amount, _o, p in plan if s == stage]
        assert columns[stage]["count"] == len(mine) == len(columns[stage]["cards"])
        assert columns[stage]["value"] == sum(a for a, _p in mine)
        if stage != "Won":
            assert columns[stage]["weighted"] == sum(a * p / 100 for a, p in mine).quantize(D("0.01"))
    open_plan = [(D(a), PROBABILITY[s] if p is None else p) for s, a, _o, p in plan if s not in ("Won", "Lost")]
    html = body.get_data(as_text=True)
    total = re.search(r'data-total="value">([^<]+)<', html).group(1)
    weighted = re.search(r'data-total="weighted">([^<]+)<', html).group(1)
    assert _number(total) == sum(a for a, _p in open_plan)
    assert _number(weighted) == sum(a * p / 100 for a, p in open_plan).quantize(D("0.01"))


def test_the_board_shows_my_deals_by_default_and_filters_by_owner_and_text(pages, crm_world):
    editor = crm_world["editor"]
    pages.log_in_as(editor)
    mine = columns_of(pages.get("/crm/pipeline").get_data(as_text=True))
    expected = {d.id for d in crm_world["deals"] if d.owner_id == editor.id}
    assert {card for c in mine.values() for card in c["cards"]} == expected  # the secret deal is in B: not here
    everyone = columns_of(pages.get("/crm/pipeline?owner=all").get_data(as_text=True))
    assert {card for c in everyone.values() for card in c["cards"]} == {d.id for d in crm_world["deals"]}
    viewer_id = crm_world["viewer"].id
    theirs = columns_of(pages.get(f"/crm/pipeline?owner={viewer_id}").get_data(as_text=True))
    assert {card for c in theirs.values() for card in c["cards"]} == {
        d.id for d in crm_world["deals"] if d.owner_id == viewer_id}
    target = crm_world["deals"][3]
    found = columns_of(pages.get(f"/crm/pipeline?owner=all&q={target.project.code.lower()}").get_data(as_text=True))
    assert [card for c in found.values() for card in c["cards"]] == [target.id]


def test_a_user_without_rights_does_not_see_the_deal_on_the_board(pages, crm_world):
    body = pages.log_in_as(crm_world["outsider"]).get("/crm/pipeline?owner=all").get_data(as_text=True)
    assert all(not c["cards"] and c["count"] == 0 for c in columns_of(body).values())
    assert "Secret turbine deal" not in body and "Alpha Works" not in body
    editor_view = pages.log_in_as(crm_world["editor"]).get("/crm/pipeline?owner=all").get_data(as_text=True)
    assert "Secret turbine deal" not in editor_view
    stage_id = crm_world["secret"].stage_id
    more = pages.get(f"/crm/pipeline/stages/{stage_id}/cards?owner=all").get_data(as_text=True)
    assert "Secret turbine deal" not in more


def test_a_column_shows_its_first_cards_and_loads_the_rest(pages, session, crm_world, admin):
    account, pipeline = crm_world["account_a"], crm_world["pipeline"]
    extra = [factories.deal(session, actor=admin, account=account, pipeline=pipeline, stage="Qualification",
                            owner=admin, expected_close=date(2026, 1, 1 + n)) for n in range(23)]
    session.commit()
    pages.log_in_as(admin)
    column = columns_of(pages.get("/crm/pipeline").get_data(as_text=True))["Qualification"]
    assert column["count"] == 23 and column["cards"] == [d.id for d in extra[:20]]
    stage_id = extra[0].stage_id
    page = pages.get("/crm/pipeline").get_data(as_text=True)
    assert f"/crm/pipeline/stages/{stage_id}/cards?offset=20" in page.replace("&amp;", "&")
    rest = pages.get(f"/crm/pipeline/stages/{stage_id}/cards?offset=20&owner=mine").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'data-deal="(\d+)"', rest)] == [d.id for d in extra[20:]]
    assert "cards?offset=" not in rest  # nothing after these
    assert pages.get("/crm/pipeline/stages/999999/cards").status_code == 404


def test_moving_a_deal_by_drag_answers_json_with_the_new_figures(pages, session, crm_world):
    deal = crm_world["deals"][1]  # Proposal, 2500.50, the editor's
    negotiation = next(s for s in crm_world["pipeline"].stages if s.name == "Negotiation")
    pages.log_in_as(crm_world["editor"])
    response = pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": negotiation.id, "owner": "all"}, headers=JSON)
    assert response.status_code == 200
    data = response.get_json()
    assert data["stage_id"] == negotiation.id and "Negotiation" in data["message"]
    session.expire_all()
    assert session.get(Deal, deal.id).stage_id == negotiation.id
    figures = {c["stage_id"]: c for c in data["columns"]}
    in_negotiation = [D(a) for s, a, _o, _p in crm_world["plan"] if s == "Negotiation"] + [D("2500.50")]
    assert figures[negotiation.id]["count"] == len(in_negotiation)
    assert _number(figures[negotiation.id]["value"]) == sum(in_negotiation)
    assert _number(figures[negotiation.id]["weighted"]) == (sum(in_negotiation) * 70 / 100).quantize(D("0.01"))
    proposal = deal.pipeline.stages[1]
    assert figures[proposal.id]["count"] == 1  # the viewer's 400.00 stays; B's deal is not the editor's to see


def test_moving_a_deal_by_form_redirects_back_with_a_message(pages, session, crm_world):
    deal = crm_world["deals"][0]
    proposal = next(s for s in crm_world["pipeline"].stages if s.name == "Proposal")
    pages.log_in_as(crm_world["editor"])
    response = pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": proposal.id, "next": "/crm/pipeline?owner=all"})
    assert response.status_code == 303 and response.location == "/crm/pipeline?owner=all"
    assert "moved to Proposal" in pages.get(response.location).get_data(as_text=True)
    session.expire_all()
    assert session.get(Deal, deal.id).stage_id == proposal.id


def test_lost_needs_a_reason(pages, session, crm_world):
    deal = crm_world["deals"][3]
    lost = next(s for s in crm_world["pipeline"].stages if s.name == "Lost")
    before = deal.stage_id
    pages.log_in_as(crm_world["editor"])
    refused = pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": lost.id}, headers=JSON)
    assert refused.status_code == 422 and "lost" in refused.get_json()["message"].lower()
    form = pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": lost.id, "lost_reason": "  "},
                      headers={"Referer": f"http://localhost/crm/deals/{deal.id}"})
    assert form.status_code == 303 and "flash-error" in pages.get(form.location).get_data(as_text=True)
    session.expire_all()
    assert session.get(Deal, deal.id).stage_id == before
    done = pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": lost.id, "lost_reason": "Budget cut"}, headers=JSON)
    assert done.status_code == 200 and done.get_json()["stage_kind"] == "lost"
    session.expire_all()
    assert session.get(Deal, deal.id).lost_reason == "Budget cut"


def test_winning_hands_the_project_over_with_its_budget(pages, session, crm_world, admin):
    deal = crm_world["deals"][3]
    for obj in (crm_world["root"], crm_world["A"], crm_world["account_a"].eps_node):  # room for the project's budget
        budgets.set_original(session, actor=admin, obj=obj, amount=D("50000.00"))
    session.commit()
    won = next(s for s in crm_world["pipeline"].stages if s.name == "Won")
    response = pages.log_in_as(admin).post(f"/crm/deals/{deal.id}/stage", {"stage_id": won.id}, headers=JSON)
    assert response.status_code == 200 and "budget was set to 12,000.00" in response.get_json()["message"]
    session.expire_all()
    moved = session.get(Deal, deal.id)
    assert moved.closed_at is not None and moved.budget_set_at is not None
    assert budgets.figures(session, obj=moved.project).original == D("12000.00")


def test_a_stage_of_another_pipeline_is_refused(pages, session, crm_world, admin):
    other = factories.pipeline(session, name="Other")
    session.commit()
    deal = crm_world["deals"][0]
    response = pages.log_in_as(admin).post(f"/crm/deals/{deal.id}/stage", {"stage_id": other.stages[1].id},
                                           headers=JSON)
    assert response.status_code == 422 and response.get_json()["errors"] == {
        "stage_id": [f"not a stage of pipeline {deal.pipeline.name}"]}
    bad = pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": "abc"}, headers=JSON)
    assert bad.status_code == 422
    session.expire_all()
    assert session.get(Deal, deal.id).stage.name == "Qualification"


def test_a_read_only_user_sees_no_drag_handles_and_cannot_move(pages, session, crm_world):
    viewer = crm_world["viewer"]
    body = pages.log_in_as(viewer).get("/crm/pipeline?owner=all").get_data(as_text=True)
    assert len([card for c in columns_of(body).values() for card in c["cards"]]) == len(crm_world["deals"])
    assert 'draggable="true"' not in body and "drag-handle" not in body and "move-form" not in body
    deal = crm_world["deals"][2]  # the viewer owns it, yet may only read
    target = next(s for s in crm_world["pipeline"].stages if s.name == "Negotiation")
    assert pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": target.id}).status_code == 403
    assert pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": target.id}, headers=JSON).status_code == 403
    session.expire_all()
    assert session.get(Deal, deal.id).stage.name == "Proposal"
    editor_body = pages.log_in_as(crm_world["editor"]).get("/crm/pipeline?owner=all").get_data(as_text=True)
    assert editor_body.count('draggable="true"') == len(crm_world["deals"])


def test_moving_an_unreadable_deal_is_not_found_and_csrf_is_checked(pages, session, crm_world):
    secret = crm_world["secret"]
    won = next(s for s in crm_world["pipeline"].stages if s.name == "Won")
    pages.log_in_as(crm_world["editor"])
    assert pages.post(f"/crm/deals/{secret.id}/stage", {"stage_id": won.id}).status_code == 404
    assert pages.post(f"/crm/deals/{secret.id}/stage", {"stage_id": won.id}, headers=JSON).status_code == 404
    deal = crm_world["deals"][0]
    assert pages.post(f"/crm/deals/{deal.id}/stage", {"stage_id": won.id}, csrf=False).status_code == 400
    session.expire_all()
    assert session.get(Deal, deal.id).stage.name == "Qualification"
    assert session.get(Deal, secret.id).stage.name == "Proposal"

"""The CRM over HTTP: a sale from lead to won deal, the board, the timeline, duplicates, CSV and reports."""

import csv
import io

import pytest

from eps.models import Role
from tests import factories
from tests.accounts.fixtures import admin, api  # noqa: F401 - fixtures

STAGES = [{"name": "Qualification", "probability": 10}, {"name": "Proposal", "probability": 40},
          {"name": "Won", "probability": 100, "kind": "won"}, {"name": "Lost", "probability": 0, "kind": "lost"}]


@pytest.fixture
def setup(session, admin, api):
    root = factories.node(session, actor=admin, code="ENT", budget="100000.00")
    branch = factories.node(session, actor=admin, parent=root, code="MSK", budget="50000.00")
    seller = factories.user(session, name="Seller")
    factories.grant(session, actor=admin, role=Role.manager, target=branch, user=seller)
    factories.grant(session, actor=admin, role=Role.finance, target=branch, user=seller)
    session.commit()
    pipeline = api.post("/api/v1/pipelines", user=admin, json={"name": "Sales", "stages": STAGES})
    assert pipeline.status_code == 201, pipeline.json
    return {"root": root, "branch": branch, "seller": seller, "pipeline": pipeline.json}


def test_from_lead_to_won_deal(api, session, setup):
    seller, branch, pipeline = setup["seller"], setup["branch"], setup["pipeline"]
    lead = api.post("/api/v1/leads", user=seller, json={
        "region_node_id": branch.id, "company": "Tverskaya Tech", "contact_name": "Sergey Orlov",
        "email": "S.Orlov@TvTech.example", "phone": "8 495 111-22-33", "tax_id": "7707083893",
        "source": "website", "channel": "web_form", "product": "ERP"})
    assert lead.status_code == 201, lead.json
    assert lead.json["email"] == "s.orlov@tvtech.example" and lead.json["phone"] == "+74951112233"
    qualified = api.post(f"/api/v1/leads/{lead.json['id']}/qualify", user=seller, json={
        "pipeline_id": pipeline["id"], "amount": "12000.00", "expected_close": "2026-12-20", "account_kind": "client"})
    assert qualified.status_code == 201, qualified.json
    body = qualified.json
    assert body["account_created"] and body["contact_created"]
    assert body["account"]["tax_id"] == "7707083893" and body["account"]["region_node_id"] == branch.id
    assert body["contact"]["email"] == "s.orlov@tvtech.example"
    deal = body["deal"]
    assert deal["stage"] == "Qualification" and deal["status"] == "open" and deal["effective_probability"] == 10
    assert body["lead"]["status"] == "qualified" and body["lead"]["deal_id"] == deal["id"]
    project = api.get(f"/api/v1/projects/{deal['project_id']}", user=seller).json
    assert project["eps_node_id"] == body["account"]["eps_node_id"]

    # A second lead from the same client finds the account instead of making another.
    again = api.post("/api/v1/leads", user=seller, json={"region_node_id": branch.id, "company": "TVT LLC",
                                                         "email": "s.orlov@tvtech.example"}).json
    second = api.post(f"/api/v1/leads/{again['id']}/qualify", user=seller,
                      json={"pipeline_id": pipeline["id"], "deal_name": "Second order"}).json
    assert not second["account_created"] and second["account"]["id"] == body["account"]["id"]
    assert not second["contact_created"]

    moved = api.post(f"/api/v1/deals/{deal['id']}/stage", user=seller, json={"stage": "Proposal", "note": "sent"})
    assert moved.status_code == 200 and moved.json["effective_probability"] == 40
    api.patch(f"/api/v1/deals/{deal['id']}", user=seller, json={"probability": 60})
    assert api.get(f"/api/v1/deals/{deal['id']}", user=seller).json["effective_probability"] == 60
    budgets = {"original_budget": "30000.00"}
    assert api.put(f"/api/v1/eps/nodes/{body['account']['eps_node_id']}/budget", user=seller,
                   json=budgets).status_code == 200
    won = api.post(f"/api/v1/deals/{deal['id']}/stage", user=seller, json={"stage": "Won"})
    assert won.status_code == 200 and won.json["status"] == "won" and won.json["budget_set_at"]
    assert api.get(f"/api/v1/projects/{deal['project_id']}/budget", user=seller).json["original_budget"] == "12000.00"
    history = api.get(f"/api/v1/deals/{deal['id']}/history", user=seller).json["items"]
    assert [item["to_stage"] for item in history] == ["Qualification", "Proposal", "Won"]
    assert history[1]["note"] == "sent"


def test_board_timeline_and_tasks(api, session, setup):
    admin_user = setup["seller"]
    branch, pipeline = setup["branch"], setup["pipeline"]
    account = api.post("/api/v1/accounts", user=admin_user, json={"name": "Baltic", "region_node_id": branch.id}).json
    deals = [api.post("/api/v1/deals", user=admin_user, json={
        "account_id": account["id"], "name": f"Deal {i}", "pipeline_id": pipeline["id"], "amount": f"{i}00.00",
        "expected_close": f"2026-12-{10 + i}"}).json for i in range(1, 4)]
    api.post(f"/api/v1/deals/{deals[2]['id']}/stage", user=admin_user, json={"stage": "Proposal"})
    board = api.get(f"/api/v1/pipelines/{pipeline['id']}/board?per_stage=1", user=admin_user).json
    columns = {column["stage"]["name"]: column for column in board["columns"]}
    assert columns["Qualification"]["count"] == 2 and columns["Qualification"]["value"] == "300.00"
    assert [deal["id"] for deal in columns["Qualification"]["deals"]] == [deals[0]["id"]]  # closing soonest
    assert columns["Proposal"]["count"] == 1 and columns["Won"]["count"] == 0

    call = api.post("/api/v1/interactions", user=admin_user, json={
        "account_id": account["id"], "deal_id": deals[0]["id"], "kind": "call", "direction": "outbound",
        "occurred_at": "2026-11-20T10:00:00+03:00", "subject": "First call"})
    assert call.status_code == 201 and call.json["user_id"] == admin_user.id
    task = api.post("/api/v1/tasks", user=admin_user, json={"deal_id": deals[0]["id"], "title": "Send offer",
                                                            "due_at": "2026-01-01T09:00:00Z"})
    assert task.status_code == 201 and task.json["account_id"] == account["id"]
    overdue = api.get("/api/v1/tasks?overdue=true&mine=true", user=admin_user).json
    assert [t["id"] for t in overdue["items"]] == [task.json["id"]]
    api.patch(f"/api/v1/deals/{deals[2]['id']}", user=admin_user, json={"next_step": "Call the CFO"})
    missing = api.get("/api/v1/deals?missing_next_step=true", user=admin_user).json
    # Deal 0 has an open task, deal 2 a next step: only deal 1 lacks both.
    assert [d["id"] for d in missing["items"]] == [deals[1]["id"]]
    timeline = api.get(f"/api/v1/accounts/{account['id']}/timeline", user=admin_user).json
    types = [item["type"] for item in timeline["items"]]
    assert types.count("interaction") == 1 and types.count("task") == 1 and types.count("stage_change") == 4
    assert timeline["total"] == 6
    done = api.patch(f"/api/v1/tasks/{task.json['id']}", user=admin_user, json={"status": "done"})
    assert done.json["status"] == "done" and done.json["completed_at"]
    assert api.get("/api/v1/tasks?overdue=true", user=admin_user).json["total"] == 0


def test_duplicates_and_merge_over_http(api, session, setup):
    seller, branch = setup["seller"], setup["branch"]
    account = api.post("/api/v1/accounts", user=seller, json={"name": "Kuban", "region_node_id": branch.id}).json
    first = api.post("/api/v1/contacts", user=seller, json={"account_id": account["id"], "last_name": "Kovalenko",
                                                            "phone": "+7 861 200-30-40"}).json
    second = api.post("/api/v1/contacts", user=seller, json={"account_id": account["id"], "first_name": "Oksana",
                                                             "last_name": "K.", "phone": "8 (861) 200 30 40",
                                                             "email": "ok@kuban.example"}).json
    groups = api.get("/api/v1/contacts/duplicates", user=seller).json["items"]
    assert [(g["key"], g["value"], [r["id"] for r in g["records"]]) for g in groups] == [
        ("phone", "+78612003040", [first["id"], second["id"]])]
    merged = api.post(f"/api/v1/contacts/{first['id']}/merge", user=seller, json={"merge_id": second["id"]})
    assert merged.status_code == 200 and merged.json["email"] == "ok@kuban.example"
    gone = api.get(f"/api/v1/contacts/{second['id']}", user=seller).json
    assert gone["merged_into_id"] == first["id"]
    assert api.get("/api/v1/contacts", user=seller).json["total"] == 1
    assert api.get("/api/v1/contacts?include_merged=true", user=seller).json["total"] == 2


def test_lists_export_as_csv(api, session, setup):
    seller, branch = setup["seller"], setup["branch"]
    api.post("/api/v1/accounts", user=seller, json={"name": "=HYPERLINK(\"x\")", "region_node_id": branch.id,
                                                    "sector": "Retail, wholesale"})
    api.post("/api/v1/accounts", user=seller, json={"name": "Plain", "region_node_id": branch.id})
    by_query = api.get("/api/v1/accounts?format=csv&per_page=1", user=seller)
    assert by_query.status_code == 200 and by_query.mimetype == "text/csv"
    assert "attachment" in by_query.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(by_query.data.decode())))
    assert len(rows) == 2  # the whole list, not one page
    assert rows[0]["name"] == "'=HYPERLINK(\"x\")" and rows[0]["sector"] == "Retail, wholesale"
    by_header = api.get("/api/v1/accounts", user=seller, headers={"Accept": "text/csv"})
    assert by_header.mimetype == "text/csv" and by_header.data == by_query.data
    assert api.get("/api/v1/accounts", user=seller, headers={"Accept": "*/*"}).mimetype == "application/json"
    report = api.get("/api/v1/reports/funnel?format=csv", user=seller)
    assert report.mimetype == "text/csv" and report.data.decode().splitlines()[0].startswith("stage_id,stage")


def test_reports_answer_json(api, session, setup):
    seller = setup["seller"]
    for path in ("funnel", "won", "sales-cycle", "stage-durations", "forecast", "lifetime-value", "rfm",
                 "contact-gaps", "satisfaction"):
        response = api.get(f"/api/v1/reports/{path}", user=seller)
        assert response.status_code == 200, (path, response.json)
    funnel = api.get("/api/v1/reports/funnel", user=seller).json
    assert set(funnel) >= {"won", "lost", "open", "win_rate", "won_value", "by_stage", "conversion"}
    assert funnel["win_rate"] is None and funnel["won_value"] == "0.00"


def test_routing_over_http(api, session, admin, setup):
    seller, branch = setup["seller"], setup["branch"]
    team = factories.team(session, members=[seller])
    session.commit()
    rule = api.post("/api/v1/routing-rules", user=admin, json={
        "name": "Moscow desk", "team_id": team.id, "capacity": 5,
        "members": [{"user_id": seller.id, "territories": [branch.id]}]})
    assert rule.status_code == 201, rule.json
    lead = api.post("/api/v1/leads", user=seller, json={"region_node_id": branch.id, "company": "New Co",
                                                        "route": True}).json
    assert lead["owner_id"] == seller.id and lead["status"] == "assigned"
    assignments = api.get(f"/api/v1/leads/{lead['id']}/assignments", user=seller).json["items"]
    assert [(a["rule_id"], a["reason"]) for a in assignments] == [(rule.json["id"], "round_robin")]
    api.patch(f"/api/v1/routing-rules/{rule.json['id']}", user=admin, json={"is_active": False})
    other = api.post("/api/v1/leads", user=seller, json={"region_node_id": branch.id, "company": "Later"}).json
    refused = api.post(f"/api/v1/leads/{other['id']}/route", user=seller)
    assert refused.status_code == 409 and "owner_id" in refused.json["errors"]


def test_won_deal_gets_its_plan_from_a_template(api, session, setup, admin):
    from wbs import services as wbs_services

    seller, branch, pipeline = setup["seller"], setup["branch"], setup["pipeline"]
    templates_node = factories.node(session, actor=admin, parent=setup["root"], code="TEMPLATES")
    template = factories.project(session, actor=admin, node=templates_node, code="TPL-ERP")
    factories.grant(session, actor=admin, role=Role.viewer, target=templates_node, user=seller)
    design = wbs_services.create_activity(session, actor=admin, project=template, code="DESIGN", name="Design",
                                          original_duration_hours=40)
    build = wbs_services.create_activity(session, actor=admin, project=template, code="BUILD", name="Build",
                                         original_duration_hours=80)
    wbs_services.create_relationship(session, actor=admin, project=template, predecessor=design, successor=build)
    session.commit()
    lead = api.post("/api/v1/leads", user=seller, json={"region_node_id": branch.id, "company": "Kuban Agro"}).json
    deal = api.post(f"/api/v1/leads/{lead['id']}/qualify", user=seller,
                    json={"pipeline_id": pipeline["id"], "amount": "5000.00"}).json["deal"]

    refused = api.post(f"/api/v1/deals/{deal['id']}/stage", user=seller,
                       json={"stage": "Proposal", "template_project_id": template.id})
    assert refused.status_code == 422 and "template_project_id" in refused.json["errors"]
    won = api.post(f"/api/v1/deals/{deal['id']}/stage", user=seller,
                   json={"stage": "Won", "template_project_id": template.id})
    assert won.status_code == 200, won.json
    activities = api.get(f"/api/v1/projects/{deal['project_id']}/activities", user=seller).json["items"]
    assert sorted(a["code"] for a in activities) == ["BUILD", "DESIGN"]
    links = api.get(f"/api/v1/projects/{deal['project_id']}/relationships", user=seller).json["items"]
    assert [(link["predecessor_code"], link["successor_code"]) for link in links] == [("DESIGN", "BUILD")]

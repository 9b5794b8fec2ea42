"""The automation rules' API: what it keeps, what it refuses (naming the field, keeping nothing), and the runs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accounts.automation.models import AutomationRule, AutomationRun
from crmpm.audit.models import AuditEntry
from tests import factories

URL = "/api/v1/automation-rules"


@pytest.fixture
def pipeline(session):
    made = factories.pipeline(session, name="Sales")
    session.commit()
    return made


def _stage(pipeline, name):
    return next(stage.id for stage in pipeline.stages if stage.name == name)


def _rule(pipeline, **changes):
    return {"pipeline_id": pipeline.id, "name": "Proposal follow-up", "trigger": "deal.entered_stage",
            "stage_id": _stage(pipeline, "Proposal"), "conditions": {"min_amount": "1000.50"},
            "actions": [{"type": "create_task", "title": "Call {{ contact_name }} about {{ deal_name }}",
                         "due_in_working_days": 2, "assignee": "owner"},
                        {"type": "send_email", "to": "contact", "subject": "{{ deal_name }}", "body": "Hello"}]} | changes


def test_a_rule_is_created_read_listed_changed_and_deleted_with_an_audit_entry_each(api, session, admin, pipeline):
    created = api.post(URL, user=admin, json=_rule(pipeline))
    assert created.status_code == 201, created.json
    rule = created.json
    assert rule["conditions"] == {"min_amount": "1000.50"} and rule["created_by"] == admin.id
    assert rule["actions"][0]["title"] == "Call {{ contact_name }} about {{ deal_name }}"
    assert api.get(f"{URL}/{rule['id']}", user=admin).json == rule
    other = factories.pipeline(session)
    session.commit()
    assert [item["id"] for item in api.get(f"{URL}?pipeline_id={pipeline.id}", user=admin).json["items"]] == [rule["id"]]
    assert api.get(f"{URL}?pipeline_id={other.id}", user=admin).json["items"] == []
    changed = api.patch(f"{URL}/{rule['id']}", user=admin, json={"active": False, "name": "Renamed"})
    assert changed.status_code == 200 and (changed.json["active"], changed.json["name"]) == (False, "Renamed")
    assert api.get(f"{URL}/{rule['id']}/runs", user=admin).json["items"] == []
    assert api.delete(f"{URL}/{rule['id']}", user=admin).status_code == 204
    assert api.get(f"{URL}/{rule['id']}", user=admin).status_code == 404
    audited = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "automation_rules",
                                                              AuditEntry.entity_id == rule["id"])
                              .order_by(AuditEntry.id)).all()
    assert audited == ["create", "update", "delete"]


@pytest.mark.parametrize("change, field, named", [
    ({"actions": [{"type": "create_task", "title": "Call {{ clinet_name }}", "due_in_working_days": 1,
                   "assignee": "owner"}]}, "actions.0.title", "clinet_name"),
    ({"actions": [{"type": "send_email", "to": "contact", "subject": "Hi", "body": "{{ amount"}]},
     "actions.0.body", "body"),
    ({"actions": [{"type": "launch_rocket"}]}, "actions.0.type", "launch_rocket"),
    ({"actions": [{"type": "set_field", "field": "amount", "value": "1"}]}, "actions.0.field", "probability"),
    ({"actions": [{"type": "set_field", "field": "probability", "value": 101}]}, "actions.0.value", "0 to 100"),
    ({"actions": [{"type": "create_task", "title": "T", "due_in_working_days": 1, "assignee": "owner",
                   "priority": "high"}]}, "actions.0.priority", "priority"),
    ({"actions": [{"type": "create_task", "title": "T", "due_in_working_days": 1, "assignee": "everyone"}]},
     "actions.0.assignee", "owner_manager"),
    ({"actions": [{"type": "create_task", "title": "T", "due_in_working_days": 1, "assignee": "user:999999"}]},
     "actions.0.assignee", "999999"),
    ({"actions": [{"type": "move_stage", "to_stage_id": 1}]}, "actions.0.type", "move_stage"),
    ({"trigger": "deal.idle"}, "idle_days", "days"),
    ({"stage_id": None}, "stage_id", "stage"),
    ({"conditions": {"node_id": 999999}}, "conditions.node_id", "999999"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_kept(api, session, admin, pipeline, change, field, named):
    before = session.scalar(select(func.count()).select_from(AutomationRule))
    response = api.post(URL, user=admin, json=_rule(pipeline, **change))
    assert response.status_code == 422, response.json
    body = response.json
    assert field in str(body.get("errors")) and named in str(body), body
    assert session.scalar(select(func.count()).select_from(AutomationRule)) == before


def test_a_change_with_an_unknown_field_changes_nothing(api, session, admin, pipeline):
    rule = api.post(URL, user=admin, json=_rule(pipeline)).json
    response = api.patch(f"{URL}/{rule['id']}", user=admin,
                         json={"name": "New", "actions": [{"type": "notify_everyone"}]})
    assert response.status_code == 422 and "actions.0.type" in str(response.json["errors"])
    assert api.get(f"{URL}/{rule['id']}", user=admin).json["name"] == "Proposal follow-up"


def test_garbage_never_gives_a_500(api, admin, pipeline):
    for body in ({"pipeline_id": pipeline.id, "name": "X", "trigger": "deal.won", "actions": "all"},
                 {"pipeline_id": pipeline.id, "name": "X", "trigger": "deal.won", "actions": [1, None]},
                 {"pipeline_id": pipeline.id, "name": "X", "trigger": "deal.won",
                  "actions": [{"type": "create_task", "title": ["x"], "due_in_working_days": "2",
                               "assignee": 5}]},
                 {"pipeline_id": 999999, "name": "X", "trigger": "deal.won", "actions": []},
                 {"pipeline_id": pipeline.id, "name": "X", "trigger": "deal.won", "conditions": {"min_amount": "x"},
                  "actions": [{"type": "set_field", "field": "probability", "value": 5}]}):
        assert api.post(URL, user=admin, json=body).status_code in (404, 422)


def test_runs_are_listed_newest_first(api, session, admin, pipeline):
    rule = api.post(URL, user=admin, json=_rule(pipeline)).json
    for key in ("event:1", "event:2"):
        session.add(AutomationRun(rule_id=rule["id"], run_key=key, status="skipped", reason="amount too small",
                                  results=[], error="", attempts=0))
    session.commit()
    runs = api.get(f"{URL}/{rule['id']}/runs", user=admin).json["items"]
    assert [run["status"] for run in runs] == ["skipped", "skipped"] and runs[0]["id"] > runs[1]["id"]
    assert runs[0]["reason"] == "amount too small"

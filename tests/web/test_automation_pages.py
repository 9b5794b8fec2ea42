"""The pipeline's automation page: add, change and delete a rule through the form; refusals; runs on the deal."""

from __future__ import annotations

from html import unescape

from sqlalchemy import select

from accounts.automation import services as automation
from accounts.automation.models import AutomationRule, AutomationRun
from tests import factories


def _form(pipeline, **changes):
    proposal = next(stage for stage in pipeline.stages if stage.name == "Proposal")
    return {"name": "Follow up", "trigger": "deal.entered_stage", "stage_id": str(proposal.id), "idle_days": "",
            "min_amount": "1 500,50", "products": "Cranes, Pumps", "node_id": "", "active": "y",
            "task_title": "Call {{ contact_name }}", "task_days": "2", "task_assignee": "owner",
            "email_to": "contact", "email_subject": "", "email_body": "", "probability": "", "next_step": "",
            "move_to": ""} | changes


def test_an_administrator_adds_changes_and_deletes_a_rule_on_the_pipelines_page(pages, session, admin):
    pipeline = factories.pipeline(session, name="Sales")
    session.commit()
    pages.log_in_as(admin)
    settings = pages.get(f"/settings/pipelines/{pipeline.id}").get_data(as_text=True)
    assert f"/settings/pipelines/{pipeline.id}/automation" in settings
    response = pages.post(f"/settings/pipelines/{pipeline.id}/automation", _form(pipeline))
    assert response.status_code == 303
    rule = session.scalar(select(AutomationRule).where(AutomationRule.pipeline_id == pipeline.id))
    assert rule.conditions == {"min_amount": "1500.50", "products": ["Cranes", "Pumps"]}
    assert rule.actions == [{"type": "create_task", "title": "Call {{ contact_name }}", "due_in_working_days": 2,
                             "assignee": "owner"}]
    listed = pages.get(f"/settings/pipelines/{pipeline.id}/automation").get_data(as_text=True)
    assert "Follow up" in listed
    edit = unescape(pages.get(f"/settings/pipelines/{pipeline.id}/automation/{rule.id}").get_data(as_text=True))
    assert "Call {{ contact_name }}" in edit
    response = pages.post(f"/settings/pipelines/{pipeline.id}/automation/{rule.id}",
                          _form(pipeline, name="Renamed", next_step="Send the offer"))
    assert response.status_code == 303
    session.refresh(rule)
    assert rule.name == "Renamed" and rule.actions[-1] == {"type": "set_field", "field": "next_step",
                                                           "value": "Send the offer"}
    assert pages.post(f"/settings/pipelines/{pipeline.id}/automation/{rule.id}/delete").status_code == 303
    assert session.scalar(select(AutomationRule).where(AutomationRule.id == rule.id)) is None


def test_a_template_with_an_unknown_field_is_refused_naming_it_and_nothing_is_kept(pages, session, admin):
    pipeline = factories.pipeline(session, name="Sales")
    session.commit()
    pages.log_in_as(admin)
    response = pages.post(f"/settings/pipelines/{pipeline.id}/automation",
                          _form(pipeline, task_title="Call {{ clinet }}"), follow_redirects=True)
    assert "clinet" in response.get_data(as_text=True)
    assert session.scalar(select(AutomationRule)) is None


def test_only_administrators_may_open_the_page(pages, session, admin):
    pipeline = factories.pipeline(session, name="Sales")
    manager = factories.user(session)
    root = factories.node(session, actor=admin, code="ROOT")
    factories.grant(session, actor=admin, role="manager", target=root, user=manager)
    session.commit()
    pages.log_in_as(manager)
    assert pages.get(f"/settings/pipelines/{pipeline.id}/automation").status_code == 403
    assert pages.post(f"/settings/pipelines/{pipeline.id}/automation", _form(pipeline)).status_code == 403
    assert session.scalar(select(AutomationRule)) is None


def test_a_run_shows_on_the_deal_page_and_the_account_timeline(pages, session, admin):
    pipeline = factories.pipeline(session, name="Sales")
    root = factories.node(session, actor=admin, code="ROOT")
    account = factories.account(session, actor=admin, region=root, name="Ladoga Port")
    deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline)
    rule = automation.create_rule(session, actor=admin, pipeline=pipeline, name="Big deals", trigger="deal.won",
                                  actions=[{"type": "set_field", "field": "probability", "value": 90}])
    session.add(AutomationRun(rule_id=rule.id, run_key="event:1", deal_id=deal.id, status="skipped",
                              reason="amount 100.00 is below 10000", results=[], error="", attempts=0))
    session.add(AutomationRun(rule_id=rule.id, run_key="event:2", deal_id=deal.id, status="retrying",
                              reason="", results=[], error="ConnectionError: SMTP away", attempts=1))
    session.commit()
    pages.log_in_as(admin)
    for path in (f"/crm/deals/{deal.id}", f"/crm/accounts/{account.id}"):
        page = unescape(pages.get(path).get_data(as_text=True))
        assert "Big deals" in page and "amount 100.00 is below 10000" in page, path
        assert "ConnectionError: SMTP away" in page and "failed, will retry" in page, path

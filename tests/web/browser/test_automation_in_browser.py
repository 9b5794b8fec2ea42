"""The issue's acceptance in a real browser: a deal dragged on the board to a stage with a rule → the rule's task
appears for the deal's owner, and the rule's e-mail arrives at a real SMTP server.

The rule's work is done here as a worker does it: the ``automation`` consumer is given the committed events and
the jobs run in-process (``crmpm.jobs.runner.run_due``) against the live server's database.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from accounts.automation import engine, services as automation
from accounts import deals
from accounts.models import Deal, Pipeline
from crmpm.database import db
from crmpm.events import deliver
from crmpm.jobs.runner import run_due
from crmpm.users.models import User
from eps.models import Project

expect = pytest.importorskip("playwright.sync_api").expect


def _column(page, stage: str):
    return page.locator(f'.board-column[data-stage-name="{stage}"]')


def _work(app) -> None:
    """What the workers do after the move: deliver the events to the rules, run the jobs (twice: the rule's job
    asks for the mail's)."""
    with app.app_context():
        with db.transaction() as session:
            while deliver(session, "automation", engine.handle):
                pass
    run_due(app)
    run_due(app)


@pytest.fixture
def rule(live_server, smtp_server):
    app = live_server.app
    saved = {key: app.config.get(key) for key in ("SMTP_URL", "JOBS_URL")}
    app.config.update(SMTP_URL=smtp_server.url, JOBS_URL="memory://")
    with app.app_context():
        with db.transaction() as session:
            # Events of the demo and of earlier tests are not this rule's business.
            while deliver(session, "automation", engine.handle):
                pass
        with db.transaction() as session:
            admin = session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id).limit(1))
            pipeline = session.scalar(select(Pipeline).where(Pipeline.name == "B2B projects"))
            stage = next(stage for stage in pipeline.stages if stage.name == "Needs analysis")
            made = automation.create_rule(session, actor=admin, pipeline=pipeline, name="Needs analysis follow-up",
                                          trigger="deal.entered_stage", stage_id=stage.id, actions=[
                                              {"type": "create_task", "title": "Analyse the needs of {{ account_name }}",
                                               "due_in_working_days": 2, "assignee": "owner"},
                                              {"type": "send_email", "to": "owner",
                                               "subject": "{{ deal_name }} is in {{ stage }}",
                                               "body": "Call {{ account_name }} within two days."}])
            rule_id = made.id
    yield rule_id
    with app.app_context():
        with db.transaction() as session:
            found = session.get(type(made), rule_id)
            if found is not None:
                session.delete(found)
        with db.transaction() as session:  # the board as the other browser tests expect it (a card to move)
            admin = session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id).limit(1))
            deal = session.scalar(select(Deal).join(Project, Project.id == Deal.project_id)
                                  .where(Project.code == "URS-MES"))
            first = next(stage for stage in deal.pipeline.stages if stage.name == "Qualification")
            if deal.stage_id != first.id:
                deals.move_stage(session, actor=admin, deal=deal, stage=first)
        with db.transaction() as session:  # and those events are nobody's business either
            while deliver(session, "automation", engine.handle):
                pass
    app.config.update(saved)


def test_a_deal_dragged_on_the_board_gets_the_rules_task_and_mail(log_in, live_server, smtp_server, rule, screenshot):
    # Anna (an editor of Moscow) moves the MES pilot of Ural Steel, a deal of her colleague's (am2).
    page = log_in("am@crmpm.local")
    page.goto(live_server.url("/crm/pipeline?owner=all"))
    card = _column(page, "Qualification").locator(".deal-card", has_text="MES pilot")
    assert card.count() == 1
    card.drag_to(_column(page, "Needs analysis").locator("[data-cards]"))
    page.wait_for_selector("[data-board-status].ok")
    expect(_column(page, "Needs analysis").locator(".deal-card", has_text="MES pilot")).to_have_count(1)

    _work(live_server.app)

    [received] = smtp_server.messages
    assert received.message["To"] == "am2@crmpm.local"
    assert received.message["Subject"] == "Ural Steel: MES pilot is in Needs analysis"
    owner = log_in("am2@crmpm.local")  # the deal's owner finds the rule's task among theirs
    owner.goto(live_server.url("/crm/tasks"))
    expect(owner.locator("body")).to_contain_text("Analyse the needs of Ural Steel Trading")
    page.goto(live_server.url("/crm/pipeline?owner=all"))
    _column(page, "Needs analysis").locator(".deal-name", has_text="MES pilot").click()
    page.wait_for_url(re.compile(r"/crm/deals/\d+$"))
    runs = page.locator("#automation")
    expect(runs).to_contain_text("Needs analysis follow-up")
    expect(runs).to_contain_text("Analyse the needs of Ural Steel Trading")
    screenshot(page, "deal-automation-run")

"""The issue's acceptance in a real browser: a deal dragged on the board to a stage with a rule → the rule's task
appears for the deal's owner, the owner's bell counts it (and the rule's own notification), the rule's e-mail
arrives at a real SMTP server and a real HTTP receiver gets the signed event of its webhook.

The rule's work is done here as a worker does it: the ``automation`` consumer is given the committed events and
the jobs run in-process (``crmpm.jobs.runner.run_due``) against the live server's database.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

import hashlib
import hmac
import json

from accounts import notifying
from accounts import webhooks as account_webhooks
from accounts.automation import engine, services as automation
from accounts import deals
from accounts.models import Deal, Pipeline
from crmpm.database import db
from crmpm.events import deliver
from crmpm.jobs.runner import run_due
from crmpm.users.models import User
from crmpm.webhooks import Webhook
from crmpm.webhooks import services as webhooks
from tests.receivers import Receiver
from eps.models import Project

expect = pytest.importorskip("playwright.sync_api").expect

SECRET = "browser-hook-secret-0123456789"
CONSUMERS = (("automation", engine.handle), ("notifications", notifying.handle),
             ("webhooks", account_webhooks.handle))


def _column(page, stage: str):
    return page.locator(f'.board-column[data-stage-name="{stage}"]')


def _deliver(app, consumer: str, handle) -> None:
    with app.app_context():
        with db.transaction() as session:
            while deliver(session, consumer, handle):
                pass


def _work(app) -> None:
    """What the workers do after the move: the events to the rules, the rule's job; then its events (the task
    given, the webhook's call) to the notifications and the webhooks, and their jobs (the mail, the POST)."""
    _deliver(app, "automation", engine.handle)
    run_due(app)
    _deliver(app, "notifications", notifying.handle)
    _deliver(app, "webhooks", account_webhooks.handle)
    run_due(app)


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv("CRMPM_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def rule(live_server, smtp_server, receiver):
    app = live_server.app
    saved = {key: app.config.get(key) for key in ("SMTP_URL", "JOBS_URL")}
    app.config.update(SMTP_URL=smtp_server.url, JOBS_URL="memory://")
    # Events of the demo and of earlier tests are not this test's business.
    for consumer, handle in CONSUMERS:
        _deliver(app, consumer, handle)
    with app.app_context():
        with db.transaction() as session:
            owner = session.scalar(select(User).where(User.email == "am2@crmpm.local"))
            hook = webhooks.create(session, actor=owner, url=receiver.url, events=["deal.won"], secret=SECRET,
                                   description="Ural Steel's ERP")
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
                                               "body": "Call {{ account_name }} within two days."},
                                              {"type": "notify", "to": "owner",
                                               "text": "{{ deal_name }} needs your analysis"},
                                              {"type": "call_webhook", "webhook_id": hook.id}])
            rule_id = made.id
    yield rule_id
    with app.app_context():
        with db.transaction() as session:
            found = session.get(type(made), rule_id)
            if found is not None:
                session.delete(found)
            session.delete(session.get(Webhook, hook.id))
        with db.transaction() as session:  # the board as the other browser tests expect it (a card to move)
            admin = session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id).limit(1))
            deal = session.scalar(select(Deal).join(Project, Project.id == Deal.project_id)
                                  .where(Project.code == "URS-MES"))
            first = next(stage for stage in deal.pipeline.stages if stage.name == "Qualification")
            if deal.stage_id != first.id:
                deals.move_stage(session, actor=admin, deal=deal, stage=first)
    for consumer, handle in CONSUMERS:  # and those events are nobody's business either
        _deliver(app, consumer, handle)
    app.config.update(saved)


def test_a_deal_dragged_on_the_board_gets_the_rules_task_bell_mail_and_webhook(log_in, live_server, smtp_server,
                                                                               receiver, rule, screenshot):
    owner = log_in("am2@crmpm.local")
    bell = owner.locator("a.bell")
    unread = int(bell.get_attribute("data-unread"))
    # Anna (an editor of Moscow) moves the MES pilot of Ural Steel, a deal of her colleague's (am2).
    page = log_in("am@crmpm.local")
    page.goto(live_server.url("/crm/pipeline?owner=all"))
    card = _column(page, "Qualification").locator(".deal-card", has_text="MES pilot")
    assert card.count() == 1
    card.drag_to(_column(page, "Needs analysis").locator("[data-cards]"))
    page.wait_for_selector("[data-board-status].ok")
    expect(_column(page, "Needs analysis").locator(".deal-card", has_text="MES pilot")).to_have_count(1)

    _work(live_server.app)

    # The rule's e-mail (beside it, the notification of the task given, which the owner gets by e-mail too).
    [received] = [m for m in smtp_server.messages if m.message["Subject"] == "Ural Steel: MES pilot is in Needs analysis"]
    assert received.message["To"] == "am2@crmpm.local"
    assert received.message.get_content().strip() == "Call Ural Steel Trading within two days."
    (_path, headers, body), = receiver.received  # the webhook's signed event
    assert headers["X-Crmpm-Signature"] == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    sent = json.loads(body)
    assert (sent["type"], sent["data"]["rule"]) == ("automation.webhook", "Needs analysis follow-up")

    owner.goto(live_server.url("/crm/tasks"))  # the deal's owner: the rule's task among theirs, the bell counting
    expect(bell).to_have_attribute("data-unread", str(unread + 2))  # the task given and the rule's notification
    bell.click()
    expect(owner.locator("main")).to_contain_text("Ural Steel: MES pilot needs your analysis")
    owner.goto(live_server.url("/crm/tasks"))
    expect(owner.locator("body")).to_contain_text("Analyse the needs of Ural Steel Trading")
    page.goto(live_server.url("/crm/pipeline?owner=all"))
    _column(page, "Needs analysis").locator(".deal-name", has_text="MES pilot").click()
    page.wait_for_url(re.compile(r"/crm/deals/\d+$"))
    runs = page.locator("#automation")
    expect(runs).to_contain_text("Needs analysis follow-up")
    expect(runs).to_contain_text("Analyse the needs of Ural Steel Trading")
    screenshot(page, "deal-automation-run")

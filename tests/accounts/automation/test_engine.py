"""Automation rules at work on a committed database: events delivered to the consumer, runs done by jobs in-process.

Each action is checked for what it claims: the task with its rendered title, its assignee and a due date
computed here independently; the e-mail as it arrives at a real SMTP server; the field changed; the idle
deal moved. Then the conditions, once-only runs, retries and rights.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from accounts import activities, mail_journal
from accounts.automation import engine, services
from accounts.automation.models import AutomationRun
from accounts.marketing import consent
from accounts.models import Deal, Interaction, Task
from crmpm.audit.models import AuditEntry
from crmpm.database import db, utcnow
from crmpm.events import Event, deliver
from crmpm.jobs import Job
from eps.models import Role
from tests import factories
from tests.committed import committed  # noqa: F401 - fixture
from tests.mailserver import smtp_server  # noqa: F401 - fixture


@pytest.fixture
def world(committed):
    session = committed.session
    admin = factories.admin(session)
    root = factories.node(session, actor=admin, code="ENT")
    branch = factories.node(session, actor=admin, parent=root, code="NORTH")
    other_branch = factories.node(session, actor=admin, parent=root, code="SOUTH")
    owner = factories.user(session, name="Olga Owner", email="olga@firm.test")
    boss = factories.user(session, name="Boris Boss", email="boris@firm.test")
    stranger = factories.user(session, name="Sam Stranger", email="sam@firm.test")
    factories.grant(session, actor=admin, role=Role.editor, target=branch, user=owner)
    factories.grant(session, actor=admin, role=Role.manager, target=branch, user=boss)
    factories.grant(session, actor=admin, role=Role.editor, target=other_branch, user=stranger)
    pipeline = factories.pipeline(session, name="Sales")
    account = factories.account(session, actor=admin, region=branch, name="Ladoga Port")
    contact = factories.contact(session, actor=admin, account=account, first_name="Ivan", last_name="Petrov",
                                email="ivan@ladoga.example")
    deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline, amount="5000.00",
                          owner=owner, contact=contact, product="Cranes")
    session.commit()
    deliver_all(committed)  # the deal's own events, before any rule exists
    return {"admin": admin, "owner": owner, "boss": boss, "stranger": stranger, "pipeline": pipeline,
            "account": account, "contact": contact, "deal": deal, "branch": branch, "other_branch": other_branch,
            "stage": {stage.name: stage for stage in pipeline.stages}}


def deliver_all(committed, consumer: str = "automation", handle=engine.handle) -> int:
    """Deliver the committed events to a consumer (the automation's unless named), as a worker does."""
    committed.session.commit()
    with committed.app.app_context():
        with db.transaction() as session:
            count = deliver(session, consumer, handle)
    committed.session.expire_all()
    return count


def rule(committed, world, *, actions, trigger="deal.entered_stage", stage="Proposal", **fields):
    made = services.create_rule(committed.session, actor=world["admin"], pipeline=world["pipeline"], name="Rule",
                                trigger=trigger, stage_id=world["stage"][stage].id if stage else None,
                                actions=actions, **fields)
    committed.session.commit()
    return made


def move(committed, world, stage="Proposal", deal=None):
    """The deal's owner moves it (an editor of its branch), as on the board."""
    factories.move(committed.session, actor=world["owner"], deal=deal or world["deal"], stage=stage)
    committed.session.commit()
    deliver_all(committed)
    return committed.run_jobs()


def runs(committed, made) -> list[AutomationRun]:
    return list(committed.session.scalars(select(AutomationRun).where(AutomationRun.rule_id == made.id)
                                          .order_by(AutomationRun.id)))


def working_days_after(start: date, count: int) -> date:
    day = start
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    added = 0
    while added < count:
        day += timedelta(days=1)
        if day.isoweekday() <= 5:
            added += 1
    return day


def test_a_deal_entering_the_stage_gets_the_rules_task_for_its_owner_due_in_working_days(committed, world):
    made = rule(committed, world, actions=[{"type": "create_task", "title": "Send {{ deal_name }} a proposal "
                                            "for {{ amount }} {{ currency }} ({{ account_name }})",
                                            "due_in_working_days": 3, "assignee": "owner"}])
    move(committed, world)
    [task] = committed.session.scalars(select(Task).where(Task.deal_id == world["deal"].id))
    deal = world["deal"]
    assert task.title == f"Send {deal.project.name} a proposal for 5000.00 {deal.currency} (Ladoga Port)"
    assert task.assignee_id == world["owner"].id
    [run] = runs(committed, made)
    at = committed.session.scalar(select(Event.occurred_at).where(Event.id == run.event_id))
    zone = ZoneInfo(world["owner"].time_zone)  # the owner's (crmpm's default, Moscow)
    expected = datetime.combine(working_days_after(at.astimezone(zone).date(), 3), time(18), tzinfo=zone)
    assert task.due_at == expected and task.due_at.isoweekday() <= 5
    [done] = runs(committed, made)
    assert done.status == "done" and done.results[0]["task_id"] == task.id


def test_the_due_date_counts_working_days_in_the_owners_time_zone(committed, world):
    session = committed.session
    world["owner"].time_zone = "Asia/Vladivostok"
    session.commit()
    rule(committed, world, actions=[{"type": "create_task", "title": "Call", "due_in_working_days": 1,
                                     "assignee": "owner"}])
    move(committed, world)
    task = session.scalar(select(Task).where(Task.deal_id == world["deal"].id))
    zone = ZoneInfo("Asia/Vladivostok")
    [run] = session.scalars(select(AutomationRun))
    at = session.scalar(select(Event.occurred_at).where(Event.id == run.event_id))
    expected = datetime.combine(working_days_after(at.astimezone(zone).date(), 1), time(18), tzinfo=zone)
    assert task.due_at == expected


def test_the_rules_email_arrives_at_the_smtp_server_with_the_rendered_subject(committed, world, smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    rule(committed, world, actions=[{"type": "send_email", "to": "contact",
                                     "subject": "Proposal for {{ account_name }}: {{ stage }}",
                                     "body": "Dear {{ contact_name }}, {{ owner_name }} will call you."}])
    move(committed, world)
    committed.run_jobs()  # the mail.send job the rule asked for
    [received] = smtp_server.messages
    assert received.message["To"] == "ivan@ladoga.example"
    assert received.message["Subject"] == "Proposal for Ladoga Port: Proposal"
    assert received.message.get_content().strip() == "Dear Ivan Petrov, Olga Owner will call you."
    # Mail to the client is filed in the deal's journal once the server has taken it (accounts.mail_journal).
    deliver_all(committed, "crm.mail_journal", mail_journal.handle)
    filed = committed.session.scalars(select(Interaction.subject).where(Interaction.deal_id == world["deal"].id)).all()
    assert filed == ["Proposal for Ladoga Port: Proposal"]


def test_a_contact_who_opted_out_of_email_gets_no_rules_email_and_the_run_says_why(committed, world, smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    consent.record_opt_out(committed.session, contact_id=world["contact"].id, channel="email",
                           source="unsubscribe link", actor=None)
    committed.session.commit()
    made = rule(committed, world, actions=[{"type": "send_email", "to": "contact", "subject": "Proposal",
                                            "body": "Dear {{ contact_name }}"}])
    move(committed, world)
    committed.run_jobs()
    assert smtp_server.messages == []
    [run] = runs(committed, made)
    assert run.results[0]["type"] == "send_email" and run.results[0]["status"] == "skipped"
    assert "opted out" in run.results[0]["reason"]


def test_mail_to_staff_is_not_filed_in_the_clients_journal(committed, world, smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    rule(committed, world, actions=[{"type": "send_email", "to": "owner", "subject": "Watch {{ deal_name }}",
                                     "body": "It moved."}])
    move(committed, world)
    committed.run_jobs()
    [received] = smtp_server.messages
    assert received.message["To"] == "olga@firm.test"
    deliver_all(committed, "crm.mail_journal", mail_journal.handle)
    assert committed.session.scalars(select(Interaction.id).where(Interaction.deal_id == world["deal"].id)).all() == []


def test_set_field_changes_the_deals_probability_and_next_step(committed, world):
    rule(committed, world, actions=[{"type": "set_field", "field": "probability", "value": 55},
                                    {"type": "set_field", "field": "next_step", "value": "Meet {{ contact_name }}"}])
    move(committed, world)
    deal = committed.session.get(Deal, world["deal"].id)
    assert (deal.probability, deal.next_step) == (55, "Meet Ivan Petrov")


def test_conditions_filter_and_the_skipped_run_says_why(committed, world):
    made = rule(committed, world, actions=[{"type": "create_task", "title": "Big", "due_in_working_days": 0,
                                            "assignee": "owner"}], conditions={"min_amount": "10000"})
    branch_rule = rule(committed, world, actions=[{"type": "create_task", "title": "South", "due_in_working_days": 0,
                                                   "assignee": "owner"}],
                       conditions={"node_id": world["other_branch"].id})
    product_rule = rule(committed, world, actions=[{"type": "create_task", "title": "Cranes",
                                                    "due_in_working_days": 0, "assignee": "owner"}],
                        conditions={"products": ["Cranes"], "node_id": world["branch"].id, "min_amount": "5000"})
    move(committed, world)
    [skipped] = runs(committed, made)
    assert skipped.status == "skipped" and skipped.reason == "amount 5000.00 is below 10000"
    assert runs(committed, branch_rule)[0].reason == "not in branch SOUTH"
    assert runs(committed, product_rule)[0].status == "done"
    titles = committed.session.scalars(select(Task.title).where(Task.deal_id == world["deal"].id)).all()
    assert titles == ["Cranes"]


def test_a_redelivered_event_runs_the_rule_once(committed, world):
    made = rule(committed, world, actions=[{"type": "create_task", "title": "Once", "due_in_working_days": 0,
                                            "assignee": "owner"}])
    move(committed, world)
    with committed.app.app_context():  # the consumer's cursor moved back: the same events come again
        with db.transaction() as session:
            from crmpm.events import EventCursor

            session.get(EventCursor, "automation").last_id = 0
    deliver_all(committed)
    committed.run_jobs()
    assert len(runs(committed, made)) == 1
    assert committed.session.scalars(select(Task.title).where(Task.deal_id == world["deal"].id)).all() == ["Once"]


def test_a_failing_action_retries_shows_the_failure_and_the_stage_change_stays(committed, world, monkeypatch):
    made = rule(committed, world, actions=[{"type": "create_task", "title": "T", "due_in_working_days": 0,
                                            "assignee": "owner"}])
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise ConnectionError("the database of tasks is away")

    monkeypatch.setattr(activities, "create_task", broken)
    move(committed, world)
    deal = committed.session.get(Deal, world["deal"].id)
    assert deal.stage.name == "Proposal"  # the move stands
    [failing] = runs(committed, made)
    assert failing.status == "retrying" and "the database of tasks is away" in failing.error
    job = committed.session.get(Job, failing.job_id)
    assert job.status == "queued" and job.attempt == 1
    monkeypatch.undo()
    committed.session.execute(Job.__table__.update().where(Job.id == job.id).values(run_after=utcnow()))
    committed.run_jobs()
    committed.session.refresh(failing)
    assert failing.status == "done" and failing.attempts == 2 and len(calls) == 1
    assert committed.session.scalar(select(Task.title).where(Task.deal_id == deal.id)) == "T"


def test_a_refusal_fails_the_run_at_once_without_retrying(committed, world):
    # The deal has no next step: the title renders empty, which the task service refuses (no use retrying).
    made = rule(committed, world, actions=[{"type": "create_task", "title": "{{ next_step }}",
                                            "due_in_working_days": 0, "assignee": "owner"}])
    move(committed, world)
    [failed] = runs(committed, made)
    assert failed.status == "failed" and failed.error == "a task needs a title of at most 500 characters"
    assert committed.session.get(Job, failed.job_id).status == "failed"
    assert committed.session.get(Deal, world["deal"].id).stage.name == "Proposal"


def test_a_task_is_never_given_to_someone_who_may_not_read_the_deal(committed, world):
    made = rule(committed, world, actions=[
        {"type": "create_task", "title": "Hidden", "due_in_working_days": 0, "assignee": f"user:{world['stranger'].id}"},
        {"type": "create_task", "title": "Boss", "due_in_working_days": 0, "assignee": "owner_manager"}])
    move(committed, world)
    [done] = runs(committed, made)
    assert done.results[0] == {"type": "create_task", "status": "skipped", "reason": "Sam Stranger may not read it"}
    tasks = committed.session.scalars(select(Task).where(Task.deal_id == world["deal"].id)).all()
    assert [(task.title, task.assignee_id) for task in tasks] == [("Boss", world["boss"].id)]


def test_a_rule_whose_author_lost_the_right_does_nothing_and_says_so(committed, world):
    made = rule(committed, world, actions=[{"type": "create_task", "title": "T", "due_in_working_days": 0,
                                            "assignee": "owner"}])
    world["admin"].is_admin = False
    committed.session.commit()
    move(committed, world)
    [skipped] = runs(committed, made)
    assert skipped.status == "skipped" and "author" in skipped.reason


def test_an_idle_deal_is_moved_once_per_stage_entry(committed, world):
    made = rule(committed, world, trigger="deal.idle", idle_days=5, actions=[
        {"type": "move_stage", "to_stage_id": world["stage"]["Negotiation"].id}])
    move(committed, world)
    session = committed.session
    entered = utcnow() - timedelta(days=6)
    session.execute(Deal.__table__.update().where(Deal.id == world["deal"].id).values(stage_entered_at=entered))
    session.commit()
    with committed.app.app_context():
        with db.transaction() as other:
            assert engine.start_idle_runs(other) == 1
    committed.run_jobs()
    with committed.app.app_context():
        with db.transaction() as other:
            assert engine.start_idle_runs(other) == 0  # moved on: not in the stage any more
    deal = session.get(Deal, world["deal"].id)
    assert deal.stage.name == "Negotiation"
    assert [run.status for run in runs(committed, made)] == ["done"]


def test_a_deal_touched_lately_is_not_idle(committed, world):
    rule(committed, world, trigger="deal.idle", idle_days=5, actions=[
        {"type": "move_stage", "to_stage_id": world["stage"]["Negotiation"].id}])
    move(committed, world)
    session = committed.session
    session.execute(Deal.__table__.update().where(Deal.id == world["deal"].id)
                    .values(stage_entered_at=utcnow() - timedelta(days=6)))
    factories.interaction(session, actor=world["admin"], account=world["account"], deal=world["deal"],
                          occurred_at=utcnow() - timedelta(days=1))
    session.commit()
    with committed.app.app_context():
        with db.transaction() as other:
            assert engine.start_idle_runs(other) == 0


def test_rule_changes_are_audited(committed, world):
    made = rule(committed, world, actions=[{"type": "set_field", "field": "probability", "value": 20}])
    services.update_rule(committed.session, actor=world["admin"], rule=made, active=False)
    services.delete_rule(committed.session, actor=world["admin"], rule=made)
    committed.session.commit()
    actions = committed.session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "automation_rules").order_by(AuditEntry.id)).all()
    assert actions == ["create", "update", "delete"]


def test_a_lead_rule_gives_the_new_leads_owner_a_task_in_its_branch_only(committed, world):
    from accounts import leads, routing
    from accounts.models import Lead

    made = rule(committed, world, trigger="lead.created", stage=None, conditions={"node_id": world["branch"].id},
                actions=[{"type": "create_task", "title": "Call {{ contact_name }} of {{ company }} ({{ source }})",
                          "due_in_working_days": 0, "assignee": "owner"}])
    session = committed.session
    north = leads.create_lead(session, actor=world["admin"], region=world["branch"], company="Onega Mills",
                              contact_name="Pavel", source="website")
    routing.assign_lead(session, actor=world["admin"], lead=north, user=world["owner"])
    south = leads.create_lead(session, actor=world["admin"], region=world["other_branch"], company="Sochi Port",
                              source="call")
    session.commit()
    deliver_all(committed)
    committed.run_jobs()
    done, skipped = runs(committed, made)
    assert (done.lead_id, done.status) == (north.id, "done")
    assert (skipped.lead_id, skipped.status, skipped.reason) == (south.id, "skipped", "not in branch NORTH")
    task = session.scalar(select(Task).where(Task.lead_id == north.id))
    assert (task.title, task.assignee_id) == ("Call Pavel of Onega Mills (website)", world["owner"].id)
    assert session.get(Lead, south.id) is not None


def test_notify_tells_the_owners_manager_in_the_bell(committed, world):
    from crmpm import notifications

    made = rule(committed, world, actions=[{"type": "notify", "to": "owner_manager",
                                            "text": "{{ deal_name }} reached {{ stage }} ({{ amount }})"}])
    move(committed, world)
    [done] = runs(committed, made)
    deal = world["deal"]
    text = f"{deal.project.name} reached Proposal (5000.00)"
    assert done.results == [{"type": "notify", "status": "done", "user_id": world["boss"].id, "name": "Boris Boss",
                              "text": text}]
    assert notifications.unread_count(committed.session, user=world["boss"]) == 1
    [note] = committed.session.scalars(notifications.list_for(committed.session, user=world["boss"]))
    assert (note.kind, note.subject_type, note.subject_id) == ("automation", "deals", deal.id)
    assert notifications.text_of(note, world["boss"]) == text


def test_call_webhook_delivers_the_signed_event_to_the_named_webhook_only(committed, world, monkeypatch):
    import hashlib
    import hmac
    import json

    from accounts import webhooks as account_webhooks
    from crmpm.webhooks import services as webhooks
    from tests.receivers import Receiver

    monkeypatch.setenv("CRMPM_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    receiver, other = Receiver().start(), Receiver().start()
    try:
        session = committed.session
        named = webhooks.create(session, actor=world["owner"], url=receiver.url, events=["deal.won"],
                                secret="s" * 32)
        webhooks.create(session, actor=world["owner"], url=other.url, events=["automation.webhook"], secret="t" * 32)
        session.commit()
        made = rule(committed, world, actions=[{"type": "call_webhook", "webhook_id": named.id}])
        move(committed, world)
        [done] = runs(committed, made)
        assert done.results == [{"type": "call_webhook", "status": "done", "webhook_id": named.id}]
        deliver_all(committed, "webhooks", account_webhooks.handle)
        committed.run_jobs()
        (_path, headers, body), = receiver.received
        assert headers["X-Crmpm-Signature"] == "sha256=" + hmac.new(b"s" * 32, body, hashlib.sha256).hexdigest()
        sent = json.loads(body)
        assert (sent["type"], sent["subject_type"], sent["subject_id"]) == ("automation.webhook", "deals",
                                                                            world["deal"].id)
        assert (sent["data"]["rule_id"], sent["data"]["run_id"], sent["data"]["amount"]) == (made.id, done.id,
                                                                                           "5000.00")
        assert other.received == []  # subscribed to the type, but not the webhook the rule names
    finally:
        receiver.stop()
        other.stop()


def test_a_rule_naming_an_unknown_webhook_is_refused(committed, world):
    from crmpm.errors import Invalid

    with pytest.raises(Invalid) as refused:
        rule(committed, world, actions=[{"type": "call_webhook", "webhook_id": 999999}])
    assert refused.value.errors == {"actions.0.webhook_id": ["unknown or disabled webhook"]}


def test_the_consumer_and_the_jobs_are_registered_for_the_workers():
    from crmpm.events import installed_consumers
    from crmpm.jobs import installed_kinds

    assert installed_consumers()["automation"] is engine.handle
    assert installed_kinds()["automation.run"] is engine.run
    assert installed_kinds()["automation.idle"].crmpm_schedule == {"minute": "*/15"}

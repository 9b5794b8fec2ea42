"""Who is told about which event (accounts.notifying), through the real delivery of events; reminders; the digest.

Events are recorded by the services, numbered as the test's session commits, and delivered by
``crmpm.events.deliver`` to the registered consumer, as a worker's dispatcher does.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from accounts import activities, deals, leads, notifying, routing
from crmpm import events, notifications
from crmpm.database import utcnow
from crmpm.events import EventCursor, installed_consumers
from crmpm.notifications import Channels, Notification
from eps import budgets
from eps.models import Role
from tests import factories
from tests.accounts.fixtures import crm  # noqa: F401 - fixture
from tests.committed import committed  # noqa: F401 - fixture

CONSUMER = "notifications"


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():  # e-mails are jobs asked for with the app's settings, as in a worker
        yield


def delivered(session) -> int:
    """Commit what the test did (its events get their ids) and deliver it to the notifications consumer."""
    session.commit()
    count = events.deliver(session, CONSUMER, installed_consumers()[CONSUMER])
    session.commit()
    return count


def told(session, user=None, kind=None) -> list[tuple]:
    """(user id, kind, subject type, subject id) of the notifications made, in order."""
    query = select(Notification).order_by(Notification.id)
    if user is not None:
        query = query.where(Notification.user_id == user.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return [(n.user_id, n.kind, n.subject_type, n.subject_id) for n in session.scalars(query)]


@pytest.fixture
def people(session, crm):
    """A seller and a finance person on branch A, a viewer on A, someone on branch B only."""
    admin = crm["admin"]
    made = {name: factories.user(session, name=name.title()) for name in ("seller", "finance", "viewer", "outsider")}
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=made["seller"])
    factories.grant(session, actor=admin, role=Role.finance, target=crm["A"]["branch"], user=made["finance"])
    factories.grant(session, actor=admin, role=Role.viewer, target=crm["A"]["branch"], user=made["viewer"])
    factories.grant(session, actor=admin, role=Role.editor, target=crm["B"]["branch"], user=made["outsider"])
    delivered(session)  # nothing so far is anyone's notification
    return made


def test_the_consumer_is_registered():
    assert installed_consumers()[CONSUMER] is notifying.handle


def test_a_task_given_to_someone_else_tells_them_and_nobody_else(session, crm, people):
    seller = people["seller"]
    task = activities.create_task(session, actor=crm["admin"], title="Call", due_at=utcnow() + timedelta(days=1),
                                  assignee=seller, account=crm["A"]["account"])
    activities.create_task(session, actor=seller, title="Mine", due_at=utcnow() + timedelta(days=1),
                           account=crm["A"]["account"])  # one's own task: nobody is told
    delivered(session)
    assert told(session) == [(seller.id, "task_assigned", "tasks", task.id)]
    note = session.scalar(select(Notification))
    assert notifications.text_of(note, seller) == "New task for you: Call"
    assert notifications.url_of(note) == f"/crm/accounts/{crm['A']['account'].id}"


def test_a_task_given_to_someone_who_may_not_read_its_account_tells_nobody(session, crm, people):
    activities.create_task(session, actor=crm["admin"], title="Call", due_at=utcnow() + timedelta(days=1),
                           assignee=people["outsider"], account=crm["A"]["account"])
    delivered(session)
    assert told(session) == []


def test_a_task_coming_due_tells_its_assignee(session, crm, people):
    seller = people["seller"]
    task = activities.create_task(session, actor=seller, title="Call", due_at=utcnow() - timedelta(minutes=1),
                                  account=crm["A"]["account"])
    done = activities.create_task(session, actor=seller, title="Done", due_at=utcnow() - timedelta(minutes=2),
                                  account=crm["A"]["account"])
    activities.record_due_tasks(session)
    activities.update_task(session, actor=seller, task=done, status="done")  # before its due event is delivered
    delivered(session)
    assert told(session) == [(seller.id, "task_due", "tasks", task.id)]


def test_an_event_delivered_again_tells_once(session, crm, people):
    task = activities.create_task(session, actor=crm["admin"], title="Call", due_at=utcnow() + timedelta(days=1),
                                  assignee=people["seller"], account=crm["A"]["account"])
    assert delivered(session) >= 1
    # as after a worker died before its cursor's commit: the same events are delivered again
    session.execute(update(EventCursor).where(EventCursor.consumer == CONSUMER).values(last_id=0))
    assert delivered(session) >= 1
    assert told(session) == [(people["seller"].id, "task_assigned", "tasks", task.id)]


def test_a_lead_assigned_tells_its_new_owner(session, crm, people):
    lead = leads.create_lead(session, actor=crm["admin"], region=crm["A"]["branch"], company="Ladoga Port",
                             source="web")
    routing.assign_lead(session, actor=crm["admin"], lead=lead, user=people["seller"])
    delivered(session)
    assert told(session) == [(people["seller"].id, "lead_assigned", "leads", lead.id)]
    assert notifications.text_of(session.scalar(select(Notification)), people["seller"]) == \
        "Lead assigned to you: Ladoga Port"


def test_a_deal_given_to_a_new_owner_tells_them(session, crm, people):
    admin, seller = crm["admin"], people["seller"]
    deal = factories.deal(session, actor=admin, account=crm["A"]["account"], pipeline=crm["pipeline"])
    deals.update_deal(session, actor=admin, deal=deal, owner=seller)
    deals.update_deal(session, actor=admin, deal=deal, amount=Decimal("5.00"))  # the owner stays: nobody told
    delivered(session)
    assert told(session) == [(seller.id, "deal_handed_over", "deals", deal.id)]


def test_a_deputys_handover_tells_the_deputy_of_each_deal(session, crm, people):
    admin, seller = crm["admin"], people["seller"]
    deputy = factories.user(session, name="Deputy")
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=deputy)
    deal = factories.deal(session, actor=admin, account=crm["A"]["account"], pipeline=crm["pipeline"], owner=seller)
    absence = routing.create_absence(session, actor=admin, user=seller, deputy=deputy,
                                     starts_at=utcnow() - timedelta(hours=1), ends_at=utcnow() + timedelta(days=3))
    routing.hand_over(session, actor=seller, absence=absence)
    delivered(session)
    assert told(session) == [(deputy.id, "deal_handed_over", "deals", deal.id)]
    routing.give_back(session, actor=None, absence=absence)
    delivered(session)
    assert told(session, seller) == [(seller.id, "deal_handed_over", "deals", deal.id)]


def test_a_budget_change_tells_who_may_decide_it_then_its_requester_the_decision(session, crm, people):
    admin, seller, finance = crm["admin"], people["seller"], people["finance"]
    budgets.set_original(session, actor=admin, obj=crm["root"], amount=Decimal("1000.00"))
    budgets.set_original(session, actor=admin, obj=crm["A"]["branch"], amount=Decimal("500.00"))
    project = factories.project(session, actor=admin, node=crm["A"]["branch"], code="PA", budget="100.00")
    manager = factories.user(session, name="Manager")
    factories.grant(session, actor=admin, role=Role.manager, target=project, user=manager)
    delivered(session)
    change = budgets.request_change(session, actor=manager, obj=project, amount=Decimal("10.00"), reason="more")
    delivered(session)
    # finance holds budget rights there; the seller (editor), the viewer and the outsider do not
    assert told(session) == [(finance.id, "budget_change_awaiting", "budget_changes", change.id)]
    budgets.approve_change(session, actor=finance, change=change)
    delivered(session)
    assert told(session, manager) == [(manager.id, "budget_change_decided", "budget_changes", change.id)]
    manager.locale = "ru"
    note = session.scalars(select(Notification).where(Notification.user_id == manager.id)).one()
    assert notifications.text_of(note, manager) == "Изменение бюджета одобрено: 10.00, PA " + project.name
    assert seller.id not in {row[0] for row in told(session)}


def test_an_import_finished_tells_who_ran_it(session, crm, people):
    seller = people["seller"]
    events.record(session, "import.finished", ("jobs", 77), {"kind": "accounts", "created": 3, "updated": 1,
                                                             "failed": 0, "job_id": 77, "dry_run": False},
                  actor=seller)
    events.record(session, "import.finished", ("jobs", 78), {"kind": "accounts", "created": 3, "updated": 1,
                                                             "failed": 0, "job_id": 78, "dry_run": True},
                  actor=seller)  # a dry run changed nothing: nobody told
    delivered(session)
    assert told(session) == [(seller.id, "import_finished", "jobs", 77)]


def test_a_disabled_webhook_tells_its_owner(session, crm, people):
    events.record(session, "webhook.disabled", ("webhooks", 5),
                  {"owner_id": people["viewer"].id, "url": "https://hooks.example/x", "failures": 10,
                   "last_status": 503})
    delivered(session)
    assert told(session) == [(people["viewer"].id, "webhook_disabled", "webhooks", 5)]


# Reminders


def test_a_reminder_fires_once_per_reminder_time_and_again_when_it_moves(session, crm, people):
    seller = people["seller"]
    now = utcnow()
    task = activities.create_task(session, actor=seller, title="Call", due_at=now + timedelta(hours=2),
                                  remind_at=now - timedelta(minutes=1), account=crm["A"]["account"])
    later = activities.create_task(session, actor=seller, title="Later", due_at=now + timedelta(hours=2),
                                   remind_at=now + timedelta(hours=1), account=crm["A"]["account"])
    assert notifying.remind_tasks(session, now=now) == 1
    assert notifying.remind_tasks(session, now=now) == 0
    assert told(session, seller, "task_reminder") == [(seller.id, "task_reminder", "tasks", task.id)]
    activities.update_task(session, actor=seller, task=task, remind_at=now + timedelta(minutes=30))
    assert notifying.remind_tasks(session, now=now + timedelta(minutes=29)) == 0
    assert notifying.remind_tasks(session, now=now + timedelta(minutes=31)) == 1
    assert told(session, seller, "task_reminder") == [(seller.id, "task_reminder", "tasks", task.id)] * 2
    activities.update_task(session, actor=seller, task=later, status="done")
    assert notifying.remind_tasks(session, now=now + timedelta(hours=1, minutes=1)) == 0  # done: no reminder


def test_a_reminder_for_someone_who_may_not_read_the_task_tells_nobody(session, crm, people):
    now = utcnow()
    activities.create_task(session, actor=crm["admin"], title="Call", due_at=now + timedelta(hours=2),
                           remind_at=now - timedelta(minutes=1), assignee=people["outsider"],
                           account=crm["A"]["account"])
    assert notifying.remind_tasks(session, now=now) == 1  # dealt with (not again), but nobody told
    assert told(session, kind="task_reminder") == []


# The daily digest

VLADIVOSTOK = timezone(timedelta(hours=10))  # Asia/Vladivostok has no summer time


def test_the_digest_comes_once_per_local_day_after_eight_in_the_users_zone_and_language(session, crm, people):
    seller = people["seller"]
    seller.locale, seller.time_zone = "ru", "Asia/Vladivostok"
    notifications.set_preferences(session, user=seller, choices={"daily_digest": Channels(in_app=True, email=False)})
    account = crm["A"]["account"]
    local = lambda *args: datetime(*args, tzinfo=VLADIVOSTOK)  # noqa: E731
    activities.create_task(session, actor=seller, title="Old", due_at=local(2026, 12, 3, 17, 0), account=account)
    activities.create_task(session, actor=seller, title="Today", due_at=local(2026, 12, 4, 15, 0), account=account)
    activities.create_task(session, actor=seller, title="Tomorrow", due_at=local(2026, 12, 5, 9, 0), account=account)
    activities.create_task(session, actor=crm["admin"], title="Not mine", due_at=local(2026, 12, 4, 10, 0),
                           account=account)

    def digests():
        return [notifications.rendered(n.kind, seller, n.params) for n in session.scalars(
            select(Notification).where(Notification.user_id == seller.id, Notification.kind == "daily_digest")
            .order_by(Notification.id))]

    notifying.send_digests(session, now=local(2026, 12, 4, 7, 59))
    assert digests() == []  # before 08:00 there
    notifying.send_digests(session, now=local(2026, 12, 4, 8, 1))
    [digest] = digests()
    assert digest.subject == "Ваши задачи на 2026-12-04: просрочено 1, на сегодня 1"
    assert digest.text.split("\n")[:5] == ["Просрочены:", "- Old (срок 2026-12-03 17:00)", "", "На сегодня:",
                                           "- Today (2026-12-04 15:00)"]
    notifying.send_digests(session, now=local(2026, 12, 4, 20, 0))
    assert len(digests()) == 1  # once a day
    notifying.send_digests(session, now=local(2026, 12, 5, 8, 0))
    assert len(digests()) == 2
    assert digests()[1].subject == "Ваши задачи на 2026-12-05: просрочено 2, на сегодня 1"


def test_no_digest_when_there_is_nothing_to_say(session, crm, people):
    viewer = people["viewer"]
    notifications.set_preferences(session, user=viewer, choices={"daily_digest": Channels(in_app=True, email=True)})
    notifying.send_digests(session, now=utcnow().replace(hour=12))
    assert told(session, viewer) == []


def test_the_reminder_job_sends_the_assignee_an_email_once(committed, smtp_server):
    """The periodic job run as a worker runs it (its own transactions), its e-mail through a real SMTP server."""
    from crmpm import jobs

    app, session = committed.app, committed.session
    app.config["SMTP_URL"] = smtp_server.url
    admin = factories.admin(session)
    branch = factories.node(session, actor=admin, code="RB")
    account = factories.account(session, actor=admin, region=branch, name="Ladoga Port")
    anna = factories.user(session, email="anna@example.test")
    anna.locale = "en"
    anna.time_zone = "Europe/London"
    factories.grant(session, actor=admin, role=Role.editor, target=branch, user=anna)
    now = utcnow()
    activities.create_task(session, actor=anna, title="Call the harbour master", due_at=now + timedelta(hours=1),
                           remind_at=now - timedelta(minutes=1), account=account)
    session.commit()
    with app.app_context():
        for _run in range(2):  # asked twice (two workers' schedulers): reminds once
            jobs.start(session, kind="crm.task_reminders")
            committed.run_jobs()
    committed.run_jobs()  # the mail jobs asked for by the reminders
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["anna@example.test"]
    assert received.message["Subject"] == "Reminder: Call the harbour master"
    assert smtp_server.messages == [received]


def test_a_mention_in_a_note_or_a_task_tells_the_mentioned_who_may_read_it(session, crm, people):
    admin, seller, viewer, outsider = crm["admin"], people["seller"], people["viewer"], people["outsider"]
    seller.email, viewer.email, outsider.email = "seller@firm.test", "v.petrova@firm.test", "out@firm.test"
    factories.user(session, email="seller@other.test")  # "@seller" alone is now ambiguous: nobody
    interaction = factories.interaction(session, actor=admin, account=crm["A"]["account"], occurred_at=utcnow(),
                                        subject="Call with the buyer",
                                        summary="@v.petrova please send the offer; @out@firm.test FYI; "
                                                "@seller; mail me at admin@firm.test")
    task = activities.create_task(session, actor=admin, title="Ask @seller@firm.test about the price",
                                  due_at=utcnow() + timedelta(days=1), assignee=viewer, account=crm["A"]["account"])
    delivered(session)
    assert sorted(told(session, kind="mention")) == sorted([
        (viewer.id, "mention", "interactions", interaction.id),  # the outsider may not read branch A: not told
        (seller.id, "mention", "tasks", task.id)])
    assert told(session, viewer, "task_assigned") == [(viewer.id, "task_assigned", "tasks", task.id)]
    note = session.scalars(select(Notification).where(Notification.kind == "mention",
                                                      Notification.user_id == viewer.id)).one()
    assert notifications.text_of(note, viewer) == "Admin mentioned you in a note: Call with the buyer"

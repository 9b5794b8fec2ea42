"""Who receives which event: only the subscribers who may read it, when it is handed over and when it is sent;
``webhook.disabled`` read by the webhook's owner and administrators."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts import webhooks as consumer
from crmpm import events
from crmpm.events import DomainEvent, Event
from crmpm.jobs import JobContext
from crmpm.webhooks import Webhook, WebhookDelivery
from crmpm.webhooks import services as webhooks
from eps import grants
from tests import factories
from tests.receivers import Receiver


@pytest.fixture(autouse=True)
def allow_loopback(monkeypatch):
    monkeypatch.setenv("CRMPM_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")


@pytest.fixture
def world(session, admin):
    root = factories.node(session, actor=admin, code="ROOT")
    a, b = (factories.node(session, actor=admin, parent=root, code=code) for code in ("A", "B"))
    reader, outsider, idle = factories.user(session), factories.user(session), factories.user(session)
    grant = factories.grant(session, actor=admin, role="viewer", target=a, user=reader)
    factories.grant(session, actor=admin, role="viewer", target=b, user=outsider)
    hooks = {}
    for name, user in (("reader", reader), ("outsider", outsider), ("admin", admin)):
        hooks[name] = webhooks.create(session, actor=user, url="http://127.0.0.1:9/h", events=["deal.created"])
    webhooks.create(session, actor=idle, url="http://127.0.0.1:9/h", events=["deal.won"])  # not this type
    account = factories.account(session, actor=admin, region=a)
    deal = factories.deal(session, actor=admin, account=account, pipeline=factories.pipeline(session))
    session.commit()
    row = session.scalars(select(Event).where(Event.type == "deal.created", Event.subject_id == deal.id)).one()
    return {"event": DomainEvent.of(row), "hooks": hooks, "grant": grant, "reader": reader, "admin": admin}


def _delivered_to(session):
    rows = session.execute(select(WebhookDelivery.webhook_id, Webhook.owner_id).join(Webhook)).all()
    return {owner_id for _hook, owner_id in rows}


def test_an_event_is_handed_only_to_subscribers_who_may_read_it(app, session, world):
    with app.app_context():
        consumer.handle(session, world["event"])
    assert _delivered_to(session) == {world["reader"].id, world["admin"].id}


def test_a_webhook_created_after_the_event_happened_gets_nothing_of_it(app, session, world):
    late = webhooks.create(session, actor=world["admin"], url="http://127.0.0.1:9/late", events=["deal.created"])
    late.created_at = world["event"].occurred_at + timedelta(microseconds=1)
    session.flush()
    with app.app_context():
        consumer.handle(session, world["event"])
    hooks = set(session.scalars(select(WebhookDelivery.webhook_id)))
    assert late.id not in hooks and world["hooks"]["admin"].id in hooks


def test_a_paused_webhook_or_an_inactive_owner_gets_nothing(app, session, world):
    session.get(Webhook, world["hooks"]["admin"].id).active = False
    world["reader"].is_active = False
    session.flush()
    with app.app_context():
        consumer.handle(session, world["event"])
    assert _delivered_to(session) == set()


def test_an_owner_who_lost_the_rights_before_the_attempt_gets_nothing(app, session, world):
    receiver = Receiver(port=9)  # never started: nothing may be sent anyway
    with app.app_context():
        consumer.handle(session, world["event"])
        grants.delete(session, actor=world["admin"], grant=world["grant"])
        delivery = session.scalars(select(WebhookDelivery).where(
            WebhookDelivery.webhook_id == world["hooks"]["reader"].id)).one()
        result = consumer.deliver(JobContext(session=session, job_id=0,
                                             params={"delivery_id": delivery.id, "after": 0}))
    assert result == {"status": "gave_up"}
    assert delivery.error == "the webhook's owner may no longer read this event" and delivery.attempts == 0
    assert receiver.received == []


def test_a_job_overtaken_by_another_attempt_does_nothing(app, session, world):
    with app.app_context():
        consumer.handle(session, world["event"])
        delivery = session.scalars(select(WebhookDelivery)).first()
        delivery.attempts = 2
        session.flush()
        assert consumer.deliver(JobContext(session=session, job_id=0, params={
            "delivery_id": delivery.id, "after": 1})) == {"status": "overtaken"}
    assert delivery.attempts == 2


def test_webhook_disabled_is_read_by_its_owner_and_administrators_only(api, session, world):
    hook = world["hooks"]["reader"]
    events.record(session, "webhook.disabled", hook, {"owner_id": hook.owner_id, "url": hook.url, "failures": 20,
                                                       "last_status": 500})
    other = factories.user(session)
    session.commit()

    def disabled(user):
        items = api.get("/api/v1/events?type=webhook.disabled", user=user).json["items"]
        return [(item["subject_id"], item["payload"]["failures"]) for item in items]

    assert disabled(world["reader"]) == [(hook.id, 20)]
    assert disabled(world["admin"]) == [(hook.id, 20)]
    assert disabled(other) == []

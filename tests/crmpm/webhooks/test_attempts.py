"""One attempt of a delivery, in this process, against a real receiver on 127.0.0.1: what is sent, what is logged,
what comes next (a retry, giving up, disabling), and that the target is checked again when sending."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from crmpm.database import utcnow
from crmpm.events import DomainEvent
from crmpm.jobs.models import Job
from crmpm.webhooks import Webhook, WebhookDelivery
from crmpm.webhooks import services as webhooks
from tests import factories
from tests.receivers import Receiver

SECRET = "attempt-secret-0123456789"


@pytest.fixture(autouse=True)
def allow_loopback(monkeypatch):
    monkeypatch.setenv("CRMPM_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.delenv("CRMPM_WEBHOOK_RETRY_BASE", raising=False)
    monkeypatch.delenv("CRMPM_WEBHOOK_DISABLE_AFTER", raising=False)


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def _event(event_id=41):
    return DomainEvent(id=event_id, type="deal.won", version=1, subject_type="deals", subject_id=7,
                       payload={"stage_id": 3, "amount": "1250.50", "project_id": 9, "first_win": True,
                                "budget_set": False}, actor_id=None, occurred_at=utcnow())


def _hook(session, url, **fields):
    owner = factories.user(session)
    hook = Webhook(owner_id=owner.id, url=url, events=["deal.won"], secret=SECRET, active=True, description="",
                   consecutive_failures=0, **fields)
    delivery = WebhookDelivery(event_id=41, event_type="deal.won", attempts=0, status="pending")
    session.add(hook)
    session.flush()
    delivery.webhook_id = hook.id
    session.add(delivery)
    session.flush()
    return hook, delivery


def _jobs(session):
    return session.scalars(select(Job).where(Job.kind == "webhooks.deliver")).all()


def test_a_success_is_signed_logged_and_resets_the_failure_count(app, session, receiver):
    receiver.answer = b"accepted " + "ё".encode() * 600
    with app.app_context():
        hook, delivery = _hook(session, receiver.url + "?source=crmpm", )
        hook.consecutive_failures = 5
        session.flush()
        result = webhooks.attempt(session, delivery, hook, _event())
        session.refresh(hook)
    assert result == {"status": "succeeded", "status_code": 200}
    (path, headers, body), = receiver.received
    assert path == "/hook?source=crmpm"
    assert headers["X-Crmpm-Signature"] == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Crmpm-Event"] == "deal.won" and headers["X-Crmpm-Delivery"] == str(delivery.id)
    sent = json.loads(body)
    assert (sent["id"], sent["type"], sent["data"]["amount"]) == (41, "deal.won", "1250.50")
    assert (delivery.status, delivery.attempts, delivery.status_code) == ("succeeded", 1, 200)
    assert delivery.duration_ms is not None and delivery.duration_ms >= 0 and delivery.delivered_at is not None
    assert delivery.response_excerpt == ("accepted " + "ё" * 600)[:500]  # bounded, decoded
    assert hook.consecutive_failures == 0 and _jobs(session) == []


def test_a_failure_schedules_the_next_attempt_after_the_backoff(app, session, receiver):
    receiver.status, receiver.answer = 503, b"busy"
    with app.app_context():
        hook, delivery = _hook(session, receiver.url)
        before = utcnow()
        result = webhooks.attempt(session, delivery, hook, _event())
        session.refresh(hook)
        job, = _jobs(session)
    assert result["status"] == "failed" and result["status_code"] == 503
    assert (delivery.status, delivery.error, delivery.response_excerpt) == ("failed", "the receiver answered 503", "busy")
    assert hook.consecutive_failures == 1
    assert job.params == {"delivery_id": delivery.id, "after": 1}
    assert timedelta(seconds=29) < job.run_after - before < timedelta(seconds=31)  # 30 s after the first failure
    assert abs((delivery.next_attempt_at - job.run_after).total_seconds()) < 1


def test_the_backoff_doubles_from_30_seconds_up_to_an_hour():
    assert [webhooks.retry_delay(n).total_seconds() for n in range(1, 11)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


def test_a_failure_past_the_retry_window_gives_up_without_asking_again(app, session, receiver):
    receiver.status = 500
    with app.app_context():
        hook, delivery = _hook(session, receiver.url)
        delivery.created_at = utcnow() - timedelta(hours=24) + timedelta(seconds=10)  # the next try would be past 24 h
        session.flush()
        webhooks.attempt(session, delivery, hook, _event())
    assert delivery.status == "gave_up" and delivery.next_attempt_at is None and _jobs(session) == []


def test_a_redirect_is_not_followed(app, session, receiver):
    elsewhere = Receiver().start()
    try:
        receiver.status, receiver.headers = 307, {"Location": elsewhere.url}
        with app.app_context():
            hook, delivery = _hook(session, receiver.url)
            webhooks.attempt(session, delivery, hook, _event())
        assert delivery.status == "failed" and delivery.status_code == 307
        assert len(receiver.received) == 1 and elsewhere.received == []
    finally:
        elsewhere.stop()


def test_the_target_is_checked_again_when_sending(app, session, receiver, monkeypatch):
    # Saved while allowed (or while the name resolved to a public address); refused now, nothing is sent.
    with app.app_context():
        hook, delivery = _hook(session, receiver.url)
        monkeypatch.setenv("CRMPM_WEBHOOK_ALLOW_HOSTS", "")
        webhooks.attempt(session, delivery, hook, _event())
    assert receiver.received == []
    assert delivery.status == "failed" and delivery.status_code is None
    assert delivery.error == "target refused: the host is in a private, loopback or link-local network"


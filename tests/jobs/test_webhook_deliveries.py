"""Webhooks end to end: real worker processes, a real HTTP receiver on 127.0.0.1, real commits and rollbacks.

What a receiver gets is checked as a receiver would: the signature recomputed here with ``hmac``, the
body parsed as JSON. Every site runs both set-ups (SQLite + its own store, PostgreSQL + Redis).
"""

import hashlib
import hmac
import json
import time

import pytest

from crmpm.database import db
from crmpm.events import Event
from crmpm.webhooks import Webhook, WebhookDelivery
from crmpm.webhooks import services as webhooks
from tests import factories
from tests.jobs.conftest import PATIENCE
from tests.receivers import Receiver

SECRET = "receiver-secret-0123456789"


@pytest.fixture(autouse=True)
def webhook_settings(monkeypatch):
    # Workers inherit these: only 127.0.0.1 is allowed, retries come after 0.2 s, 0.4 s, 0.8 s …
    monkeypatch.setenv("CRMPM_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("CRMPM_WEBHOOK_RETRY_BASE", "0.2")


def _world(site, urls: dict[str, str], events=("deal.stage_changed",)) -> dict:
    """A deal under node A, a reader granted A, an outsider granted B, and a webhook of each (``urls``)."""
    with site.app.app_context(), db.transaction() as session:
        admin = factories.user(session, admin=True)
        root = factories.node(session, actor=admin, code="ROOT")
        a = factories.node(session, actor=admin, parent=root, code="A")
        b = factories.node(session, actor=admin, parent=root, code="B")
        reader, outsider = factories.user(session), factories.user(session)
        factories.grant(session, actor=admin, role="viewer", target=a, user=reader)
        factories.grant(session, actor=admin, role="viewer", target=b, user=outsider)
        account = factories.account(session, actor=admin, region=a)
        deal = factories.deal(session, actor=admin, account=account, pipeline=factories.pipeline(session))
        hooks = {who: webhooks.create(session, actor={"reader": reader, "outsider": outsider}[who], url=url,
                                      events=list(events), secret=SECRET).id for who, url in urls.items()}
        return {"admin": admin.id, "deal": deal.id, "hooks": hooks}


def _move(site, world, stage: str, *, roll_back: bool = False) -> None:
    from accounts.deals import get_deal_or_raise
    from crmpm.users.models import User

    class RolledBack(Exception):
        pass

    try:
        with site.app.app_context(), db.transaction() as session:
            admin = session.get(User, world["admin"])
            deal = get_deal_or_raise(session, user=admin, deal_id=world["deal"])
            factories.move(session, actor=admin, deal=deal, stage=stage)
            if roll_back:
                raise RolledBack
    except RolledBack:
        pass


def _stage_events(site) -> list[int]:
    return [row.id for row in site.rows(Event.id, where=[Event.type == "deal.stage_changed"])]


def _deliveries(site, hook_id: int) -> list:
    return site.rows(WebhookDelivery.__table__, where=[WebhookDelivery.webhook_id == hook_id])


def _wait(condition, site, what: str):
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen\n{site.logs()}")


def _verified(request) -> dict:
    """The body of a received request, after checking its signatures as a receiver does."""
    _path, headers, body = request
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Crmpm-Signature"], expected)
    timestamp = headers["X-Crmpm-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 300
    signed = timestamp.encode() + b"." + body
    assert headers["X-Crmpm-Signature-V2"] == "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert headers["Content-Type"] == "application/json"
    return json.loads(body)


def test_committed_stage_changes_reach_the_receiver_signed_and_nothing_else(site):
    receiver = Receiver().start()
    other = Receiver().start()
    try:
        world = _world(site, {"reader": receiver.url, "outsider": other.url})
        site.spawn("worker", "--dispatch-interval", "0.2")
        _move(site, world, "Proposal")
        _move(site, world, "Negotiation", roll_back=True)  # rolled back: no event, no delivery
        _move(site, world, "Won")
        committed = _stage_events(site)
        assert len(committed) == 2
        got = receiver.wait_for(2, PATIENCE)
        assert len(got) == 2, site.logs()
        bodies = [_verified(request) for request in got]
        assert sorted(body["id"] for body in bodies) == committed
        assert {body["type"] for body in bodies} == {"deal.stage_changed"}
        assert {body["subject_id"] for body in bodies} == {world["deal"]}
        assert sorted(body["data"]["status"] for body in bodies) == ["open", "won"]
        for body in bodies:
            assert body["occurred_at"].endswith("+00:00") and set(body["data"]) >= {"from_stage_id", "to_stage_id"}
        log = _wait(lambda: [row for row in _deliveries(site, world["hooks"]["reader"])
                             if row.status == "succeeded"] if len(_deliveries(site, world["hooks"]["reader"])) == 2
                    and all(row.status == "succeeded" for row in _deliveries(site, world["hooks"]["reader"]))
                    else None, site, "the delivery log")
        assert {row.status_code for row in log} == {200}
        assert all(row.duration_ms is not None and row.response_excerpt == "ok" and row.attempts == 1 for row in log)
        time.sleep(1.0)  # what the outsider's webhook would have got by now
        assert other.received == [] and _deliveries(site, world["hooks"]["outsider"]) == []
        assert len(receiver.received) == 2
    finally:
        receiver.stop()
        other.stop()


def test_a_receiver_down_then_up_gets_the_event_later(site):
    receiver = Receiver()  # not listening yet
    try:
        world = _world(site, {"reader": receiver.url})
        hook = world["hooks"]["reader"]
        site.spawn("worker", "--dispatch-interval", "0.2")
        _move(site, world, "Proposal")
        failed = _wait(lambda: [row for row in _deliveries(site, hook) if row.attempts >= 2], site, "two failed attempts")
        assert failed[0].status == "failed" and failed[0].status_code is None
        assert failed[0].error == "connection refused or unreachable" and failed[0].next_attempt_at is not None
        receiver.start()
        got = receiver.wait_for(1, PATIENCE)
        assert len(got) == 1, site.logs()
        assert _verified(got[0])["id"] == _stage_events(site)[0]
        done = _wait(lambda: [row for row in _deliveries(site, hook) if row.status == "succeeded"], site, "success")
        assert done[0].attempts >= 3 and done[0].status_code == 200 and done[0].delivered_at is not None
    finally:
        receiver.stop()


def test_repeated_failures_disable_the_webhook_record_the_event_and_a_replay_delivers(site, monkeypatch):
    monkeypatch.setenv("CRMPM_WEBHOOK_DISABLE_AFTER", "3")
    receiver = Receiver(status=500, answer=b"Internal trouble " + b"x" * 2000).start()
    try:
        world = _world(site, {"reader": receiver.url})
        hook_id = world["hooks"]["reader"]
        site.spawn("worker", "--dispatch-interval", "0.2")
        _move(site, world, "Proposal")
        disabled = _wait(lambda: site.rows(Event.__table__, where=[Event.type == "webhook.disabled",
                                                                    Event.id.is_not(None)]), site, "webhook.disabled")
        assert len(disabled) == 1
        assert disabled[0].subject_type == "webhooks" and disabled[0].subject_id == hook_id
        assert disabled[0].payload["failures"] == 3 and disabled[0].payload["last_status"] == 500
        assert disabled[0].payload["url"] == receiver.url
        hook = site.rows(Webhook.__table__, where=[Webhook.id == hook_id])[0]
        assert hook.active is False or hook.active == 0
        assert hook.disabled_reason == "3 failed attempts in a row"
        delivery = _wait(lambda: [row for row in _deliveries(site, hook_id) if row.status == "gave_up"], site,
                         "the delivery given up")[0]
        assert delivery.attempts == 3 and delivery.status_code == 500
        assert delivery.response_excerpt.startswith("Internal trouble") and len(delivery.response_excerpt) == 500
        assert len(receiver.received) == 3

        receiver.status, receiver.answer = 200, b"ok"
        with site.app.app_context(), db.transaction() as session:
            hook_row = session.get(Webhook, hook_id)
            from crmpm.users.models import User
            owner = session.get(User, hook_row.owner_id)
            webhooks.update_(session, hook_row, actor=owner, changes={"active": True})
            webhooks.replay(session, hook_row, session.get(WebhookDelivery, delivery.id))
        got = receiver.wait_for(4, PATIENCE)
        assert len(got) == 4, site.logs()
        assert _verified(got[-1])["id"] == _stage_events(site)[0]
        _wait(lambda: [row for row in _deliveries(site, hook_id) if row.status == "succeeded"], site, "the replay")
        hook = site.rows(Webhook.__table__, where=[Webhook.id == hook_id])[0]
        assert hook.consecutive_failures == 0
    finally:
        receiver.stop()

"""The webhooks API: the contract's create and delivery log, bad input refused with the field named, rights."""

import json

import pytest
from sqlalchemy import func, select

from crmpm.audit.models import AuditEntry
from crmpm.events import DomainEvent, Event
from crmpm.jobs.models import Job
from crmpm.webhooks import Webhook, WebhookDelivery
from crmpm.webhooks import services as webhooks
from tests import factories

HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture(autouse=True)
def allow_loopback(monkeypatch):
    monkeypatch.setenv("CRMPM_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_create_answers_201_with_its_id_and_reads_mask_the_secret(api, session):
    user = factories.user(session)
    session.commit()
    response = api.post("/api/v1/webhooks", user=user, json={
        "url": HOOK, "events": ["deal.stage_changed", "lead.created"], "secret": "s3cret-of-the-receiver"})
    assert response.status_code == 201, response.json
    hook_id = response.json["id"]
    assert isinstance(hook_id, int)
    assert response.json["secret"] == "s3cret-of-the-receiver"  # shown once, in full
    assert response.json["events"] == ["deal.stage_changed", "lead.created"]
    read = api.get(f"/api/v1/webhooks/{hook_id}", user=user).json
    assert "s3cret" not in str(read) and read["secret"] == "****iver"
    assert [item["id"] for item in api.get("/api/v1/webhooks", user=user).json["items"]] == [hook_id]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "webhooks")).one()
    assert entry.action == "create" and "s3cret" not in str(entry.after)


def test_a_secret_left_out_is_generated_and_returned_once(api, session):
    user = factories.user(session)
    session.commit()
    response = api.post("/api/v1/webhooks", user=user, json={"url": HOOK, "events": ["deal.won"]})
    assert response.status_code == 201
    secret = response.json["secret"]
    assert len(secret) >= 32
    assert session.get(Webhook, response.json["id"]).secret == secret
    assert api.get(f"/api/v1/webhooks/{response.json['id']}", user=user).json["secret"] == "****" + secret[-4:]


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "ftp://127.0.0.1/x", "events": ["deal.won"]}, "url"),
    ({"url": "javascript:alert(1)", "events": ["deal.won"]}, "url"),
    ({"url": "not a url", "events": ["deal.won"]}, "url"),
    ({"url": "http://user:pw@127.0.0.1/x", "events": ["deal.won"]}, "url"),
    ({"url": HOOK, "events": ["deal.exploded"]}, "events"),
    ({"url": HOOK, "events": []}, "events"),
    ({"url": HOOK}, "events"),
    ({"events": ["deal.won"]}, "url"),
    ({"url": HOOK, "events": ["deal.won"], "secret": ""}, "secret"),
    ({"url": HOOK, "events": "deal.won"}, "events"),
])
def test_bad_input_is_422_naming_the_field_and_records_nothing(api, session, body, field):
    user = factories.user(session)
    session.commit()
    response = api.post("/api/v1/webhooks", user=user, json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert _count(session, Webhook) == 0


@pytest.mark.parametrize("url", [
    "http://10.0.0.5/hook", "http://192.168.1.10/hook", "http://172.16.0.1/hook", "http://169.254.169.254/latest",
    "http://[::1]:8080/hook", "http://[fe80::1]/hook", "http://[fc00::5]/hook", "http://[::ffff:10.0.0.1]/hook",
    "http://localhost:9/hook", "http://0.0.0.0/hook", "http://127.0.0.2/hook",
])
def test_private_loopback_and_link_local_targets_are_refused(api, session, monkeypatch, url):
    monkeypatch.setenv("CRMPM_WEBHOOK_ALLOW_HOSTS", "")
    user = factories.user(session)
    session.commit()
    response = api.post("/api/v1/webhooks", user=user, json={"url": url, "events": ["deal.won"]})
    assert response.status_code == 422, response.json
    assert "url" in response.json["errors"]
    assert _count(session, Webhook) == 0


def test_the_allow_list_lets_a_named_address_through_and_nothing_else(api, session, monkeypatch):
    user = factories.user(session)
    session.commit()
    monkeypatch.setenv("CRMPM_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    assert api.post("/api/v1/webhooks", user=user, json={"url": HOOK, "events": ["deal.won"]}).status_code == 201
    refused = api.post("/api/v1/webhooks", user=user, json={"url": "http://10.0.0.5/h", "events": ["deal.won"]})
    assert refused.status_code == 422


def test_another_users_webhook_is_404_everywhere_and_administrators_see_all(api, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_URL", "memory://")
    owner, other, admin = factories.user(session), factories.user(session), factories.user(session, admin=True)
    session.commit()
    hook_id = api.post("/api/v1/webhooks", user=owner, json={"url": HOOK, "events": ["deal.won"]}).json["id"]
    delivery = WebhookDelivery(webhook_id=hook_id, event_id=1, event_type="deal.won", attempts=1, status="failed")
    session.add(delivery)
    session.commit()
    for method, path, body in (
            ("GET", f"/api/v1/webhooks/{hook_id}", None),
            ("PATCH", f"/api/v1/webhooks/{hook_id}", {"description": "mine now"}),
            ("DELETE", f"/api/v1/webhooks/{hook_id}", None),
            ("GET", f"/api/v1/webhooks/{hook_id}/deliveries", None),
            ("POST", f"/api/v1/webhooks/{hook_id}/deliveries/{delivery.id}/replay", None)):
        response = api.request(method, path, user=other, json=body)
        assert response.status_code == 404, (method, path, response.status_code)
        assert HOOK not in str(response.json)
        assert api.request(method, path, json=body).status_code == 401
    assert api.get("/api/v1/webhooks", user=other).json["items"] == []
    assert [item["id"] for item in api.get("/api/v1/webhooks", user=admin).json["items"]] == [hook_id]
    assert api.get(f"/api/v1/webhooks/{hook_id}/deliveries", user=admin).json["total"] == 1
    assert api.post(f"/api/v1/webhooks/{hook_id}/deliveries/{delivery.id}/replay", user=owner).status_code == 202
    assert api.delete(f"/api/v1/webhooks/{hook_id}", user=owner).status_code == 204
    assert _count(session, Webhook) == 0 and _count(session, WebhookDelivery) == 0


def test_patch_changes_and_reenables_and_replay_starts_an_attempt(api, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_URL", "memory://")
    owner = factories.user(session)
    session.commit()
    hook_id = api.post("/api/v1/webhooks", user=owner, json={"url": HOOK, "events": ["deal.won"]}).json["id"]
    hook = session.get(Webhook, hook_id)
    delivery = WebhookDelivery(webhook_id=hook_id, event_id=7, event_type="deal.won", attempts=3, status="gave_up")
    session.add(delivery)
    hook.active, hook.consecutive_failures, hook.disabled_reason = False, 20, "20 failed attempts in a row"
    session.commit()
    refused = api.post(f"/api/v1/webhooks/{hook_id}/deliveries/{delivery.id}/replay", user=owner)
    assert refused.status_code == 409
    response = api.patch(f"/api/v1/webhooks/{hook_id}", user=owner,
                         json={"active": True, "events": ["deal.won", "deal.lost"], "secret": "rotated-secret-xyz1"})
    assert response.status_code == 200, response.json
    assert response.json["active"] is True and response.json["consecutive_failures"] == 0
    assert response.json["disabled_reason"] is None and response.json["events"] == ["deal.won", "deal.lost"]
    assert response.json["secret"] == "****xyz1"
    bad = api.patch(f"/api/v1/webhooks/{hook_id}", user=owner, json={"events": ["nope.nope"]})
    assert bad.status_code == 422 and "events" in bad.json["errors"]
    replayed = api.post(f"/api/v1/webhooks/{hook_id}/deliveries/{delivery.id}/replay", user=owner)
    assert replayed.status_code == 202 and replayed.json["status"] == "pending"
    job = session.scalars(select(Job).where(Job.kind == "webhooks.deliver")).one()
    assert job.params == {"delivery_id": delivery.id, "after": 3}
    log = api.get(f"/api/v1/webhooks/{hook_id}/deliveries", user=owner).json
    assert [item["id"] for item in log["items"]] == [delivery.id]


def test_a_delivered_body_is_the_events_api_item_with_its_payload_as_data(api, session, admin):
    node = factories.node(session, actor=admin, code="WH")
    account = factories.account(session, actor=admin, region=node)
    factories.deal(session, actor=admin, account=account, pipeline=factories.pipeline(session), amount="1250.50")
    session.commit()
    listed = api.get("/api/v1/events?limit=1000", user=admin).json["items"]
    rows = session.scalars(select(Event).where(Event.id.is_not(None)).order_by(Event.id)).all()
    bodies = [json.loads(webhooks.body_of(DomainEvent.of(row))) for row in rows]
    assert "deal.created" in {item["type"] for item in listed}
    assert [{**{key: value for key, value in item.items() if key != "payload"}, "data": item["payload"]}
            for item in listed] == bodies


def test_creating_webhooks_is_rate_limited_per_user(api, session):
    user, other = factories.user(session), factories.user(session)
    session.commit()
    body = {"url": HOOK, "events": ["deal.won"]}
    assert all(api.post("/api/v1/webhooks", user=user, json=body).status_code == 201 for _ in range(30))
    refused = api.post("/api/v1/webhooks", user=user, json=body)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert _count(session, Webhook) == 30
    assert api.post("/api/v1/webhooks", user=other, json=body).status_code == 201  # counted per user

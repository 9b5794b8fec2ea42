"""Campaigns end to end: a segment with some people opted out gets the e-mail at a real SMTP server (the
others exactly), unsubscribing, clicks through redirects, responses making attributed leads, the result figures
against an independent count, batches under the rate limit, and a batch that dies half-way sending nothing twice.

Jobs run in-process as a worker runs them (``committed.run_jobs``: each in its own transactions).
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from accounts.marketing import consent, responses
from accounts.marketing import jobs as campaign_jobs
from accounts.marketing.models import Campaign, CampaignMessage, CampaignResponse, Segment, SegmentMember
from accounts.models import Lead
from crmpm.database import utcnow
from crmpm.jobs.models import Job
from eps.models import Role
from tests import factories
from tests.committed import committed  # noqa: F401 - fixture

BODY = ("Hello {{ first_name }} of {{ account }},\n\nour offer: https://offers.example/spring?x=1 "
        "and the price list https://offers.example/prices.\n")


@pytest.fixture
def world(committed):
    """Branch A with six people (one without an e-mail, two opted out of e-mail), one person on branch B, a static
    segment of all seven, a seller on A (the campaigns' owner) and a viewer on A."""
    session = committed.session
    committed.app.config["PUBLIC_URL"] = "https://crm.example"
    admin = factories.admin(session)
    root = factories.node(session, actor=admin, code="ENT")
    a = factories.node(session, actor=admin, parent=root, code="A")
    b = factories.node(session, actor=admin, parent=root, code="B")
    seller = factories.user(session, name="Seller", email="seller@firm.test")
    viewer = factories.user(session, name="Viewer", email="viewer@firm.test")
    factories.grant(session, actor=admin, role=Role.editor, target=a, user=seller)
    factories.grant(session, actor=admin, role=Role.viewer, target=a, user=viewer)
    account_a = factories.account(session, actor=admin, region=a, name="Ladoga Port")
    account_b = factories.account(session, actor=admin, region=b, name="Onega Mill")
    people = [factories.contact(session, actor=admin, account=account_a, first_name=f"P{n}", last_name=f"L{n}",
                                email=f"p{n}@ladoga.example") for n in range(5)]
    no_mail = factories.contact(session, actor=admin, account=account_a, first_name="Nomail", last_name="X")
    outside = factories.contact(session, actor=admin, account=account_b, first_name="Far", email="far@onega.example")
    for person in people[3:]:
        consent.record_opt_out(session, contact_id=person.id, channel="email", source="by hand", actor=admin)
    segment = Segment(name="Spring list", subject="contacts", kind="static", owner_id=seller.id)
    session.add(segment)
    session.flush()
    for person in [*people, no_mail, outside]:
        session.add(SegmentMember(segment_id=segment.id, contact_id=person.id))
    pipeline = factories.pipeline(session, name="Sales")
    session.commit()
    return {"admin": admin, "seller": seller, "viewer": viewer, "people": people, "no_mail": no_mail,
            "outside": outside, "segment": segment, "A": a, "account_a": account_a, "pipeline": pipeline}


def create(committed, world, **fields) -> dict:
    body = {"name": "Spring offer", "segment_id": world["segment"].id, "cost": "1000.00", "rate_per_minute": 100,
            "variants": [{"label": "A", "subject": "Spring for {{ name }}", "body": BODY, "weight": 1},
                         {"label": "B", "subject": "Offer, {{ first_name }}", "body": BODY, "weight": 1}],
            **fields}
    response = committed.api.post("/api/v1/campaigns", user=world["seller"], json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def send_all(committed, world, campaign_id: int) -> None:
    response = committed.api.post(f"/api/v1/campaigns/{campaign_id}/send", user=world["seller"])
    assert response.status_code == 202, response.get_json()
    assert response.headers["Location"] == f"/api/v1/jobs/{response.get_json()['id']}"
    for _round in range(4):  # start, batch, the mail jobs
        committed.run_jobs()


def test_the_campaign_reaches_exactly_the_people_not_opted_out_with_an_unsubscribe_link(committed, world,
                                                                                        smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    campaign = create(committed, world)
    assert campaign["code"] and campaign["status"] == "draft"
    send_all(committed, world, campaign["id"])
    expected = {person.email for person in world["people"][:3]}  # not the opted out, the one without an address
    received = smtp_server.wait_for(len(expected))
    assert {address for item in received for address in item.rcpt_tos} == expected
    assert len(smtp_server.messages) == len(expected)
    session = committed.session
    rows = {row.contact_id: row for row in session.scalars(select(CampaignMessage))}
    assert {(contact_id, row.status, row.reason) for contact_id, row in rows.items() if row.status == "skipped"} == {
        (world["people"][3].id, "skipped", "opted out"), (world["people"][4].id, "skipped", "opted out"),
        (world["no_mail"].id, "skipped", "no e-mail")}
    assert world["outside"].id not in rows  # the seller may not read branch B: not a recipient
    for item in received:
        message = item.message
        row = next(r for r in rows.values() if r.address == item.rcpt_tos[0])
        assert message["Message-ID"] == row.message_id
        unsubscribe = f"https://crm.example/m/u/{row.token}"
        assert message["List-Unsubscribe"].strip() == f"<{unsubscribe}/one-click>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = message.get_content()
        assert unsubscribe in text
        assert "Ladoga Port" in text and "https://offers.example/spring" not in text
        assert re.search(rf"https://crm\.example/m/c/{row.token}/\d+", text)
    assert session.get(Campaign, campaign["id"]).status == "sent"
    again = committed.api.post(f"/api/v1/campaigns/{campaign['id']}/send", user=world["seller"])
    assert again.status_code == 409


def test_the_unsubscribe_link_records_the_opt_out_and_the_next_campaign_skips_the_person(committed, world):
    first = create(committed, world)
    send_all(committed, world, first["id"])
    session = committed.session
    person = world["people"][0]
    token = session.scalar(select(CampaignMessage.token).where(CampaignMessage.contact_id == person.id))
    page = committed.pages.get(f"/m/u/{token}")
    assert page.status_code == 200
    done = committed.pages.post(f"/m/u/{token}", {"csrf_token": _form_token(page)})
    assert done.status_code == 200
    assert committed.pages.get("/m/u/not-a-token").status_code == 404
    session.expire_all()
    assert person.id in set(session.scalars(consent.opted_out_ids("email")))
    # The one-click POST of RFC 8058 (no session, no CSRF token) for another person.
    other = world["people"][1]
    other_token = session.scalar(select(CampaignMessage.token).where(CampaignMessage.contact_id == other.id))
    session.commit()  # (SQLite: the app's request needs the write lock the test's reading holds)
    one_click = committed.app.test_client().post(f"/m/u/{other_token}/one-click",
                                                 data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert committed.app.test_client().post(f"/m/u/{other_token}/one-click", data={}).status_code == 400
    second = create(committed, world, name="Summer offer")
    send_all(committed, world, second["id"])
    session.expire_all()
    statuses = dict(session.execute(select(CampaignMessage.contact_id, CampaignMessage.reason)
                                    .where(CampaignMessage.campaign_id == second["id"])).all())
    assert statuses[person.id] == "opted out" and statuses[other.id] == "opted out"
    assert statuses[world["people"][2].id] == ""
    kinds = session.scalars(select(CampaignResponse.kind).where(CampaignResponse.campaign_id == first["id"])).all()
    assert sorted(kinds) == ["unsubscribe", "unsubscribe"]


def _form_token(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_a_click_redirects_to_the_registered_link_only_and_is_counted(committed, world):
    campaign = create(committed, world)
    send_all(committed, world, campaign["id"])
    session = committed.session
    messages = session.scalars(select(CampaignMessage).where(CampaignMessage.status == "sent")
                               .order_by(CampaignMessage.id)).all()
    link_ids = sorted({int(m) for m in re.findall(r"/m/c/[^/]+/(\d+)", _text_of(messages[0], campaign, committed))})
    session.commit()
    client = committed.app.test_client()
    assert len(link_ids) == 2
    first = client.get(f"/m/c/{messages[0].token}/{link_ids[0]}")
    assert first.status_code == 302 and first.headers["Location"] == "https://offers.example/spring?x=1"
    client.get(f"/m/c/{messages[0].token}/{link_ids[1]}")
    client.get(f"/m/c/{messages[0].token}/{link_ids[0]}")
    client.get(f"/m/c/{messages[1].token}/{link_ids[0]}")
    assert client.get(f"/m/c/{messages[0].token}/999999").status_code == 404
    assert client.get(f"/m/c/unknown/{link_ids[0]}").status_code == 404
    results = committed.api.get(f"/api/v1/campaigns/{campaign['id']}/results", user=world["viewer"]).get_json()
    assert results["responses"]["click"] == 4
    assert results["responses"]["unique_clicks"] == 2  # two messages clicked


def _text_of(message, campaign, committed) -> str:
    """The text the message was sent with (its mail.send job's parameters)."""
    for job in committed.session.scalars(select(Job).where(Job.kind == "mail.send")):
        if job.params["message"]["message_id"] == message.message_id:
            return job.params["message"]["text"]
    raise AssertionError("no mail job for the message")


def test_a_reply_makes_a_lead_attributed_to_the_campaign_unless_one_is_open(committed, world):
    campaign = create(committed, world, region_node_id=world["A"].id)
    send_all(committed, world, campaign["id"])
    session = committed.session
    person, other = world["people"][0], world["people"][1]
    message_id = session.scalar(select(CampaignMessage.message_id).where(CampaignMessage.contact_id == person.id))
    reply = responses.record_reply(session, message_ids=["<unknown@x>", message_id], actor=world["seller"],
                                   note="Interested, call me")
    session.commit()
    lead = session.get(Lead, reply.lead_id)
    assert lead.campaign_id == campaign["id"] and lead.contact_id == person.id
    assert lead.region_node_id == world["A"].id and lead.email == person.email
    assert responses.record_reply(session, message_ids=[message_id], actor=world["seller"]) is None  # once
    # The other person's account has an open deal now: their reply is a response without a lead.
    factories.deal(session, actor=world["admin"], account=world["account_a"], pipeline=world["pipeline"])
    session.commit()
    response = committed.api.post(f"/api/v1/campaigns/{campaign['id']}/responses", user=world["seller"],
                                  json={"kind": "reply", "contact_id": other.id})
    assert response.status_code == 201 and response.get_json()["lead_id"] is None
    hidden = committed.api.post(f"/api/v1/campaigns/{campaign['id']}/responses", user=world["seller"],
                                json={"kind": "reply", "contact_id": world["outside"].id})
    assert hidden.status_code == 404


def test_the_results_equal_an_independent_count(committed, world):
    campaign = create(committed, world, cost="1000.00")
    send_all(committed, world, campaign["id"])
    session = committed.session
    sent = session.scalars(select(CampaignMessage).where(CampaignMessage.status == "sent")
                           .order_by(CampaignMessage.id)).all()
    # Two replies make two leads; one becomes a deal that is won for 4,500.00, another a deal still open.
    leads = [responses.record_reply(session, message_ids=[m.message_id], actor=world["seller"]).lead_id
             for m in sent[:2]]
    won = factories.deal(session, actor=world["admin"], account=world["account_a"], pipeline=world["pipeline"],
                         amount="4500.00")
    factories.move(session, actor=world["admin"], deal=won, stage="Won")
    open_deal = factories.deal(session, actor=world["admin"], account=world["account_a"], pipeline=world["pipeline"],
                               amount="700.00")
    session.execute(update(Lead).where(Lead.id == leads[0]).values(deal_id=won.id))
    session.execute(update(Lead).where(Lead.id == leads[1]).values(deal_id=open_deal.id))
    link = re.search(r"/m/c/[^/]+/(\d+)", _text_of(sent[0], campaign, committed)).group(1)
    session.commit()
    client = committed.app.test_client()
    client.get(f"/m/c/{sent[0].token}/{link}")
    client.get(f"/m/c/{sent[0].token}/{link}")
    results = committed.api.get(f"/api/v1/campaigns/{campaign['id']}/results", user=world["viewer"]).get_json()
    assert results["cost"] == "1000.00"
    assert results["messages"] == {"sent": 3, "skipped": 3, "failed": 0, "queued": 0}
    assert results["responses"] == {"click": 2, "unique_clicks": 1, "reply": 2, "form": 0, "unsubscribe": 0}
    assert (results["leads"], results["deals"], results["won_deals"]) == (2, 2, 1)
    assert Decimal(results["won_value"]) == Decimal("4500.00")
    assert Decimal(results["return_on_cost"]) == (Decimal("4500.00") - Decimal("1000.00")) / Decimal("1000.00")
    by_label = {row["label"]: row for row in results["variants"]}
    variant_of = {m.id: m.variant_id for m in sent}
    for row in results["variants"]:
        mine = [m for m in sent if variant_of[m.id] == row["variant_id"]]
        assert row["messages"]["sent"] == len(mine)
        assert row["leads"] == sum(1 for m in mine if m.id in (sent[0].id, sent[1].id))
    assert sum(row["messages"]["sent"] for row in by_label.values()) == 3
    assert sum(Decimal(row["cost"]) for row in by_label.values()) == Decimal("1000.00")
    free = create(committed, world, name="Free", cost="0")
    assert committed.api.get(f"/api/v1/campaigns/{free['id']}/results",
                             user=world["viewer"]).get_json()["return_on_cost"] is None


def test_batches_keep_to_the_rate_per_minute(committed, world, smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    campaign = create(committed, world, rate_per_minute=2)
    committed.api.post(f"/api/v1/campaigns/{campaign['id']}/send", user=world["seller"])
    committed.run_jobs()  # the start
    committed.run_jobs()  # the first batch
    session = committed.session
    assert len(session.scalars(select(Job.id).where(Job.kind == "mail.send")).all()) == 2
    waiting = session.scalars(select(Job).where(Job.kind == "marketing.campaign_batch", Job.status == "queued")).all()
    assert len(waiting) == 1 and waiting[0].run_after > utcnow() + timedelta(seconds=50)
    committed.run_jobs()  # not due yet: nothing more
    assert len(session.scalars(select(Job.id).where(Job.kind == "mail.send")).all()) == 2
    session.execute(update(Job).where(Job.id == waiting[0].id).values(run_after=utcnow()))
    session.commit()
    committed.run_jobs()
    committed.run_jobs()
    smtp_server.wait_for(3)
    assert len(smtp_server.messages) == 3
    assert session.get(Campaign, campaign["id"]).status == "sent"


def test_a_batch_that_dies_half_way_sends_each_message_once(committed, world, smtp_server, monkeypatch):
    committed.app.config["SMTP_URL"] = smtp_server.url
    campaign = create(committed, world)
    real, calls = campaign_jobs.send_later, []

    def dying(session, message, **kwargs):
        calls.append(message.to)
        if len(calls) == 2:
            raise RuntimeError("the worker died")
        return real(session, message, **kwargs)

    monkeypatch.setattr(campaign_jobs, "send_later", dying)
    committed.api.post(f"/api/v1/campaigns/{campaign['id']}/send", user=world["seller"])
    committed.run_jobs()
    session = committed.session
    assert session.scalars(select(CampaignMessage.status).where(CampaignMessage.status == "sent")).all() == []
    assert session.scalars(select(Job.id).where(Job.kind == "mail.send")).all() == []
    monkeypatch.setattr(campaign_jobs, "send_later", real)
    session.execute(update(Job).where(Job.kind == "marketing.campaign_batch").values(run_after=utcnow()))
    session.commit()
    for _round in range(3):
        committed.run_jobs()
    smtp_server.wait_for(3)
    assert sorted(a for item in smtp_server.messages for a in item.rcpt_tos) == sorted(
        p.email for p in world["people"][:3])


def test_a_scheduled_campaign_waits_for_its_time_and_can_be_cancelled(committed, world):
    later = (utcnow() + timedelta(hours=2)).isoformat()
    campaign = create(committed, world, scheduled_at=later)
    response = committed.api.post(f"/api/v1/campaigns/{campaign['id']}/send", user=world["seller"])
    assert response.status_code == 202
    session = committed.session
    assert session.get(Campaign, campaign["id"]).status == "scheduled"
    job = session.scalar(select(Job).where(Job.kind == "marketing.campaign_start"))
    assert job.run_after > utcnow() + timedelta(minutes=100)
    committed.run_jobs()
    assert session.scalars(select(CampaignMessage.id)).all() == []
    cancelled = committed.api.post(f"/api/v1/campaigns/{campaign['id']}/cancel", user=world["seller"])
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    session.execute(update(Job).where(Job.id == job.id).values(run_after=utcnow()))
    session.commit()
    committed.run_jobs()
    assert session.scalars(select(CampaignMessage.id)).all() == []
    assert committed.api.post(f"/api/v1/campaigns/{campaign['id']}/cancel", user=world["seller"]).status_code == 409


def test_every_staff_user_reads_a_campaign_editors_create_only_its_owner_or_an_administrator_changes_it(committed, world):
    campaign = create(committed, world)
    path = f"/api/v1/campaigns/{campaign['id']}"
    viewer, admin = world["viewer"], world["admin"]
    assert committed.api.get(path, user=viewer).status_code == 200
    assert committed.api.get("/api/v1/campaigns", user=viewer).get_json()["total"] == 1
    assert committed.api.patch(path, user=viewer, json={"name": "Mine"}).status_code == 403
    assert committed.api.post(f"{path}/send", user=viewer).status_code == 403
    assert committed.api.delete(path, user=viewer).status_code == 403
    assert committed.api.patch(path, user=admin, json={"cost": "12.50"}).get_json()["cost"] == "12.50"
    assert committed.api.get("/api/v1/campaigns/999999", user=viewer).status_code == 404
    assert committed.api.post("/api/v1/campaigns", user=viewer, json={
        "name": "Read-only", "variants": [{"subject": "Hi", "body": "x"}]}).status_code == 403
    bad = committed.api.post("/api/v1/campaigns", user=world["seller"], json={
        "name": "Bad", "variants": [{"subject": "Hi {{ password }}", "body": "x"}]})
    assert bad.status_code == 422 and "password" in bad.get_json()["message"]
    assert committed.api.delete(path, user=world["seller"]).status_code == 204


def test_the_recipients_list_holds_only_contacts_the_reader_may_read(committed, world):
    session = committed.session
    # An administrator's campaign reaches branch B too; the viewer on A sees only A's recipients.
    body = {"name": "Everyone", "segment_id": world["segment"].id,
            "variants": [{"subject": "Hi", "body": "Hello {{ name }}"}]}
    campaign = committed.api.post("/api/v1/campaigns", user=world["admin"], json=body).get_json()
    assert committed.api.post(f"/api/v1/campaigns/{campaign['id']}/send", user=world["admin"]).status_code == 202
    committed.run_jobs()
    committed.run_jobs()
    assert world["outside"].id in set(session.scalars(select(CampaignMessage.contact_id)))
    seen = committed.api.get(f"/api/v1/campaigns/{campaign['id']}/recipients?per_page=100",
                             user=world["viewer"]).get_json()
    assert {item["contact_id"] for item in seen["items"]} == {p.id for p in world["people"]} | {world["no_mail"].id}
    assert seen["total"] == 6


def test_an_inbound_reply_to_a_campaign_message_is_a_response_with_an_attributed_lead(committed, world, smtp_server):
    """The reply arrives through the e-mail integration (accounts.inbound.journal.record_email) naming the
    campaign message's Message-ID, as the recipient's mail program writes it."""
    from email.message import EmailMessage

    from accounts.inbound import integrations, journal
    from accounts.inbound.mail import parse_message

    committed.app.config["SMTP_URL"] = smtp_server.url
    campaign = create(committed, world)
    send_all(committed, world, campaign["id"])
    session = committed.session
    integration, _token = integrations.create_integration(session, actor=world["admin"], kind="email",
                                                          name="Mailbox", region_node_id=world["A"].id,
                                                          acting_user_id=world["seller"].id)
    session.commit()
    person = world["people"][2]
    [received] = [item for item in smtp_server.wait_for(3) if item.rcpt_tos == [person.email]]
    reply = EmailMessage()
    reply["From"] = person.email
    reply["To"] = "sales@firm.test"
    reply["Subject"] = "Re: " + received.message["Subject"]
    reply["Message-ID"] = "<reply-1@ladoga.example>"
    reply["In-Reply-To"] = received.message["Message-ID"]
    reply.set_content("Interested.")
    journal.record_email(session, integration=session.get(type(integration), integration.id),
                         mail=parse_message(reply.as_bytes()))
    session.commit()
    [response] = session.scalars(select(CampaignResponse).where(CampaignResponse.kind == "reply")).all()
    lead = session.get(Lead, response.lead_id)
    assert (response.campaign_id, response.contact_id) == (campaign["id"], person.id)
    assert lead.campaign_id == campaign["id"] and lead.contact_id == person.id

"""A campaign sent by real ``crmpm worker`` processes (the job engine, its store, the SMTP server all real): the
segment's people not opted out get the e-mail once each, in batches under the rate limit."""

from __future__ import annotations

import time

import pytest

from accounts.marketing import campaigns, consent
from accounts.marketing.models import Campaign, CampaignMessage, Segment, SegmentMember
from crmpm.database import db
from tests import factories
from tests.jobs.conftest import PATIENCE


def test_workers_send_the_campaign_to_the_people_not_opted_out(site, smtp_server, monkeypatch):
    monkeypatch.setenv("CRMPM_SMTP_URL", smtp_server.url)
    with site.app.app_context(), db.transaction() as session:
        admin = factories.user(session, admin=True)
        branch = factories.node(session, actor=admin, code="W")
        account = factories.account(session, actor=admin, region=branch, name="Ladoga Port")
        people = [factories.contact(session, actor=admin, account=account, first_name=f"P{n}",
                                    email=f"p{n}@ladoga.example") for n in range(6)]
        consent.record_opt_out(session, contact_id=people[0].id, channel="email", source="by hand", actor=admin)
        segment = Segment(name="All", subject="contacts", kind="static")
        session.add(segment)
        session.flush()
        session.add_all([SegmentMember(segment_id=segment.id, contact_id=p.id) for p in people])
        campaign = campaigns.create_campaign(session, actor=admin, name="Spring", segment_id=segment.id,
                                             rate_per_minute=1000,
                                             variants=[{"subject": "Hi {{ first_name }}", "body": "Hello"}])
        campaigns.send(session, actor=admin, campaign=campaign)
        campaign_id = campaign.id
        expected = sorted(p.email for p in people[1:])
    site.worker("--concurrency", "2")
    received = smtp_server.wait_for(len(expected), timeout=PATIENCE)
    assert sorted(a for item in received for a in item.rcpt_tos) == expected
    deadline = time.monotonic() + PATIENCE
    while site.rows(Campaign.status, where=[Campaign.id == campaign_id])[0][0] != "sent":
        if time.monotonic() > deadline:
            pytest.fail(site.logs())
        time.sleep(0.2)
    time.sleep(1.0)  # nothing more arrives
    assert len(smtp_server.messages) == len(expected)
    statuses = sorted(status for (status,) in site.rows(CampaignMessage.status))
    assert statuses == ["sent"] * 5 + ["skipped"]
    assert all("/m/u/" in item.message["List-Unsubscribe"] for item in received)

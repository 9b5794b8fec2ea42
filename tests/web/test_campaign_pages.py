"""The campaign pages: a new campaign through the form (two variants, a schedule, a cost), its page with the results
per variant and the recipients the reader may read, send and cancel; in Russian and English."""

from __future__ import annotations

from sqlalchemy import select

from accounts.marketing.models import Campaign, CampaignMessage, Segment, SegmentMember
from eps.models import Role
from tests import factories


def _world(session, admin, world):
    seller = factories.user(session, name="Seller")
    factories.grant(session, actor=admin, role=Role.editor, target=world["A"], user=seller)
    account_a = factories.account(session, actor=admin, region=world["A"], name="Ladoga Port")
    account_b = factories.account(session, actor=admin, region=world["B"], name="Hidden Mill")
    mine = factories.contact(session, actor=admin, account=account_a, first_name="Anna", last_name="Visible",
                             email="anna@ladoga.example")
    hidden = factories.contact(session, actor=admin, account=account_b, first_name="Boris", last_name="Hidden",
                               email="boris@mill.example")
    segment = Segment(name="Spring list", subject="contacts", kind="static")
    session.add(segment)
    session.flush()
    session.add_all([SegmentMember(segment_id=segment.id, contact_id=c.id) for c in (mine, hidden)])
    session.commit()
    return seller, segment, mine, hidden


def test_a_campaign_made_sent_and_cancelled_through_the_pages(app, session, pages, admin, world, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_URL", "memory://")
    seller, segment, _mine, _hidden = _world(session, admin, world)
    seller.locale = "ru"
    session.commit()
    pages.log_in_as(seller)
    listing = pages.get("/campaigns/")
    assert listing.status_code == 200 and "Рассылки" in listing.get_data(as_text=True)
    form = pages.get("/campaigns/new").get_data(as_text=True)
    assert "Spring list" in form and "Вариант A" in form
    response = pages.post("/campaigns/new", {
        "name": "Весеннее предложение", "segment_id": str(segment.id), "channel": "email", "cost": "1 500,50",
        "rate_per_minute": "30", "subject_A": "Привет, {{ first_name }}", "body_A": "Смотрите https://offer.example/a",
        "weight_A": "2", "subject_B": "Предложение", "body_B": "Текст B", "weight_B": "1", "scheduled_at": ""})
    assert response.status_code == 303
    campaign = session.scalar(select(Campaign))
    assert (campaign.name, str(campaign.cost), campaign.rate_per_minute) == ("Весеннее предложение", "1500.50", 30)
    assert [(v.label, v.weight) for v in campaign.variants] == [("A", 2), ("B", 1)]
    page = pages.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert campaign.code in page and "Результаты" in page and "Окупаемость" in page
    bad = pages.post(f"/campaigns/{campaign.id}/edit", {"name": "X", "cost": "много", "body_A": "x",
                                                        "subject_A": "s"})
    assert bad.status_code == 303
    session.expire_all()
    assert session.get(Campaign, campaign.id).name == "Весеннее предложение"  # nothing of the refused form kept
    assert pages.post(f"/campaigns/{campaign.id}/send").status_code == 303
    session.expire_all()
    assert session.get(Campaign, campaign.id).status == "sending"
    assert pages.post(f"/campaigns/{campaign.id}/cancel").status_code == 303
    session.expire_all()
    assert session.get(Campaign, campaign.id).status == "cancelled"


def test_the_campaign_page_lists_only_recipients_the_reader_may_read(app, session, pages, admin, world, user_with):
    seller, segment, mine, hidden = _world(session, admin, world)
    campaign = Campaign(name="Spring", code="SPRING", segment_id=segment.id, status="sent", owner_id=admin.id)
    session.add(campaign)
    session.flush()
    for number, contact in enumerate((mine, hidden)):
        session.add(CampaignMessage(campaign_id=campaign.id, contact_id=contact.id, address=contact.email,
                                    token=f"t{number}", status="sent"))
    session.commit()
    viewer = user_with(Role.viewer)
    viewer.locale = "en"
    session.commit()
    pages.log_in_as(viewer)
    page = pages.get(f"/campaigns/{campaign.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Anna" in text and "Boris" not in text and "Results" in text
    assert f"/campaigns/{campaign.id}/cancel" not in text  # no buttons for a reader
    assert pages.post(f"/campaigns/{campaign.id}/cancel").status_code == 403
    assert pages.get("/campaigns/new").status_code == 403

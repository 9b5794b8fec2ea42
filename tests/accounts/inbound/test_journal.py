"""Calls, messages and e-mails recorded into the journal by accounts.inbound.journal; each test names its rule."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from accounts.activities import list_interactions, timeline
from accounts.inbound import journal
from accounts.inbound.mail import ParsedMail, parse_message
from accounts.inbound.models import InboundEvent
from accounts.models import Interaction, Lead, LeadStatus
from crmpm.errors import Invalid
from crmpm.events.models import Event
from tests import factories
from tests.accounts.inbound.conftest import PHONE

AT = datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=3)))


def _call(session, inbound, external_id, number, direction="in", **fields):
    return journal.record_call(session, integration=inbound["telephony"], external_id=external_id,
                               from_number=number if direction != "out" else "+74950000000",
                               to_number="+74950000000" if direction != "out" else number, direction=direction,
                               started_at=fields.pop("started_at", AT), **fields)


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("written", ["+7 (912) 345-67-89", "8 912 345 67 89", "89123456789", "+79123456789",
                                     "8(912)3456789", "+7 912 345 6789"])
def test_every_way_of_writing_a_number_finds_the_same_contact(session, inbound, written):
    recorded = _call(session, inbound, "c-1", written)
    assert recorded.created
    assert recorded.interaction.contact_id == inbound["known"].id
    assert recorded.interaction.account_id == inbound["A"]["account"].id
    assert recorded.interaction.subject == f"Call from {PHONE}"


def test_an_unknown_number_becomes_one_routed_lead_and_the_next_call_finds_it(session, inbound):
    leads_before = _count(session, Lead)
    first = _call(session, inbound, "u-1", "+7 (913) 111-22-33", duration_seconds=61)
    lead = session.get(Lead, first.interaction.lead_id)
    assert (lead.phone, lead.owner_id, lead.status) == ("+79131112233", inbound["alice"].id, LeadStatus.assigned)
    assert lead.region_node_id == inbound["A"]["branch"].id
    assert first.interaction.account_id is None and first.interaction.duration_minutes == 2
    second = _call(session, inbound, "u-2", "8 913 111 22 33")
    assert second.created and second.interaction.lead_id == lead.id
    assert _count(session, Lead) == leads_before + 1


def test_the_same_event_twice_records_one_interaction_and_a_later_report_updates_it(session, inbound):
    before = _count(session, Interaction)
    ringing = _call(session, inbound, "same", PHONE)
    done = _call(session, inbound, "same", PHONE, duration_seconds=125, recording_url="https://pbx.example/r/1.mp3")
    again = _call(session, inbound, "same", PHONE, duration_seconds=125, recording_url="https://pbx.example/r/1.mp3")
    assert (ringing.created, done.created, again.created) == (True, False, False)
    assert done.interaction.id == ringing.interaction.id == again.interaction.id
    assert _count(session, Interaction) == before + 1
    assert ringing.interaction.duration_minutes == 3
    assert "Recording: https://pbx.example/r/1.mp3" in ringing.interaction.summary
    event = session.scalar(select(InboundEvent).where(InboundEvent.external_id == "same"))
    assert (event.duration_seconds, event.status, event.recording_url) == (
        125, "answered", "https://pbx.example/r/1.mp3")
    recorded = session.scalar(select(func.count()).select_from(Event).where(
        Event.type == "interaction.recorded", Event.subject_id == ringing.interaction.id))
    assert recorded == 1


def test_a_known_contact_with_an_open_deal_gets_the_call_on_the_deal_and_both_timelines(session, inbound):
    account, admin = inbound["A"]["account"], inbound["admin"]
    older = factories.deal(session, actor=admin, account=account, pipeline=inbound["pipeline"])
    theirs = factories.deal(session, actor=admin, account=account, pipeline=inbound["pipeline"],
                            contact=inbound["known"])
    newest = factories.deal(session, actor=admin, account=account, pipeline=inbound["pipeline"])
    factories.move(session, actor=admin, deal=newest, stage="Lost", lost_reason="price")
    recorded = _call(session, inbound, "d-1", PHONE, direction="missed")
    interaction = recorded.interaction
    assert interaction.deal_id == theirs.id != older.id
    assert (interaction.kind.value, interaction.direction.value, interaction.subject) == (
        "call", "inbound", f"Missed call from {PHONE}")
    on_deal = session.scalars(list_interactions(session, user=inbound["seller"], deal_id=theirs.id)).all()
    assert [row.id for row in on_deal] == [interaction.id]
    rows = session.execute(timeline(session, account=account, user=inbound["seller"],
                                    contact=inbound["known"])).all()
    assert ("interaction", interaction.id) in [(row.type, row.id) for row in rows]


def test_a_number_known_only_at_a_branch_out_of_reach_is_a_new_lead(session, inbound):
    admin = inbound["admin"]
    hidden = factories.contact(session, actor=admin, account=inbound["B"]["account"], last_name="Hidden",
                               phone="+7 914 000 00 01")
    recorded = _call(session, inbound, "b-1", "+79140000001")
    assert recorded.interaction.contact_id is None and recorded.interaction.account_id is None
    lead = session.get(Lead, recorded.interaction.lead_id)
    assert lead.region_node_id == inbound["A"]["branch"].id and hidden.id != recorded.interaction.contact_id


def test_an_outbound_call_is_matched_by_the_number_called(session, inbound):
    recorded = _call(session, inbound, "o-1", "8 912 345 67 89", direction="out", duration_seconds=30)
    assert recorded.interaction.contact_id == inbound["known"].id
    assert recorded.interaction.direction.value == "outbound"
    assert recorded.interaction.subject == f"Call to {PHONE}"


def test_a_naive_start_is_refused_naming_the_field_and_nothing_is_recorded(session, inbound):
    before = (_count(session, Interaction), _count(session, InboundEvent), _count(session, Lead))
    with pytest.raises(Invalid) as caught:
        _call(session, inbound, "n-1", "+7 913 555 00 00", started_at=datetime(2026, 12, 1, 10, 0))
    assert "started_at" in caught.value.errors
    assert (_count(session, Interaction), _count(session, InboundEvent), _count(session, Lead)) == before


def test_a_message_from_a_known_phone_goes_to_the_contact(session, inbound):
    recorded = journal.record_message(session, integration=inbound["messenger"], external_id="m-1", sent_at=AT,
                                      text="Привет! Когда доставка?", channel="whatsapp", phone="8 912 345 67 89",
                                      name="Known")
    assert recorded.interaction.contact_id == inbound["known"].id
    assert recorded.interaction.kind.value == "messenger"
    assert recorded.interaction.summary == "Привет! Когда доставка?"
    repeat = journal.record_message(session, integration=inbound["messenger"], external_id="m-1", sent_at=AT,
                                    text="Привет! Когда доставка?", phone="8 912 345 67 89")
    assert not repeat.created and repeat.interaction.id == recorded.interaction.id


def _mail(**fields) -> ParsedMail:
    values = {"sender": "someone@new.example", "sender_name": "Сергей Новиков", "to": ["sales@us.example"],
              "cc": [], "subject": "Запрос цены", "text": "Сколько стоит?", "message_id": "<m1@new.example>"}
    return ParsedMail(**(values | fields))


def test_an_email_from_a_contact_goes_to_them_and_a_reply_threads_onto_the_same_lead(session, inbound):
    known = journal.record_email(session, integration=inbound["email"],
                                 mail=_mail(sender="BUYER@a.example", message_id="<k1@a.example>"))
    assert known.interaction.contact_id == inbound["A"]["contact"].id
    first = journal.record_email(session, integration=inbound["email"], mail=_mail())
    lead = session.get(Lead, first.interaction.lead_id)
    assert (lead.email, lead.contact_name, lead.owner_id) == ("someone@new.example", "Сергей Новиков",
                                                            inbound["alice"].id)
    # Written from another address (a colleague answering): the thread, not the sender, decides.
    reply = journal.record_email(session, integration=inbound["email"],
                                 mail=_mail(sender="colleague@new.example", message_id="<m2@new.example>",
                                            in_reply_to=["<m1@new.example>"], subject="Re: Запрос цены"))
    assert reply.interaction.lead_id == lead.id
    assert session.scalar(select(func.count()).select_from(Lead).where(Lead.email == "colleague@new.example")) == 0
    again = journal.record_email(session, integration=inbound["email"], mail=_mail())
    assert not again.created and again.interaction.id == first.interaction.id


def test_a_raw_message_is_read_with_its_non_ascii_subject_and_plain_part(session, inbound):
    message = EmailMessage()
    message["From"] = "Покупатель <BUYER@a.example>"
    message["To"] = "sales@us.example"
    message["Cc"] = "boss@a.example"
    message["Subject"] = "Счёт №42 — оплата"
    message["Message-ID"] = "<raw-1@a.example>"
    message["Date"] = "Tue, 01 Dec 2026 10:00:00 +0300"
    message.set_content("Оплатили счёт.\nСпасибо!")
    message.add_alternative("<html><body><p>Оплатили <b>счёт</b>.</p></body></html>", subtype="html")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="платёжка.pdf")
    mail = parse_message(message.as_bytes())
    assert (mail.sender, mail.subject, mail.text) == ("BUYER@a.example", "Счёт №42 — оплата",
                                                      "Оплатили счёт.\nСпасибо!")
    assert (mail.cc, mail.attachments, mail.message_id) == (["boss@a.example"], ["платёжка.pdf"],
                                                            "<raw-1@a.example>")
    recorded = journal.record_email(session, integration=inbound["email"], mail=mail)
    assert recorded.interaction.contact_id == inbound["A"]["contact"].id
    assert recorded.interaction.subject == "Счёт №42 — оплата"
    assert recorded.interaction.occurred_at == datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)
    assert "Attachments (not stored): платёжка.pdf" in recorded.interaction.summary


def test_an_html_only_message_is_read_as_text():
    message = EmailMessage()
    message["From"] = "x@y.example"
    message["Subject"] = "html"
    message.set_content("<html><head><style>p{}</style></head><body><p>Line&nbsp;one</p><p>Line two</p>"
                        "<script>alert(1)</script></body></html>", subtype="html")
    assert parse_message(message.as_bytes()).text == "Line\xa0one\n\nLine two"

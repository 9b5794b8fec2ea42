"""Mail sent to a client lands in the client's journal once, through the ``mail.sent`` event.

The message goes to a real SMTP server (aiosmtpd); the job and the event delivery run as a worker
runs them (``run_due``, ``crmpm.events.deliver``) on a database the test commits to.
"""

from __future__ import annotations

from sqlalchemy import select

from accounts import mail_journal
from accounts.events import visible_events
from accounts.models import Direction, Interaction, InteractionKind
from crmpm import mail
from crmpm.events import Event, EventCursor, deliver
from crmpm.mail import Message
from tests import factories
from tests.committed import committed  # noqa: F401 - fixture


def _world(session):
    admin = factories.admin(session)
    branch = factories.node(session, actor=admin, code="NORTH")
    owner = factories.user(session)
    factories.grant(session, actor=admin, role="editor", target=branch, user=owner)
    account = factories.account(session, actor=admin, region=branch, name="Ladoga Port", owner=owner)
    contact = factories.contact(session, actor=admin, account=account, email="buyer@ladoga.example")
    deal = factories.deal(session, actor=owner, account=account, pipeline=factories.pipeline(session),
                          contact=contact)
    session.commit()
    return admin, owner, contact, deal


def _send_and_deliver(committed, message, *, about, actor) -> list[Interaction]:
    with committed.app.app_context():
        mail.send_later(committed.session, message, about=about, actor=actor)
    committed.run_jobs()
    for _ in range(2):  # delivered again from the start (at least once): filed once all the same
        with committed.app.app_context():
            deliver(committed.session, "crm.mail_journal", mail_journal.handle)
        committed.session.execute(EventCursor.__table__.update().values(last_id=0))
        committed.session.commit()
    return list(committed.session.scalars(select(Interaction).where(Interaction.kind == InteractionKind.email)))


def test_a_mail_about_a_deal_is_filed_once_on_the_deal_with_its_contact(committed, smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    admin, owner, contact, deal = _world(committed.session)
    [interaction] = _send_and_deliver(
        committed, Message(to=["buyer@ladoga.example"], subject="Коммерческое предложение", text="Добрый день!"),
        about=deal, actor=owner)
    assert len(smtp_server.messages) == 1
    assert (interaction.deal_id, interaction.account_id, interaction.contact_id) == (deal.id, deal.account_id, contact.id)
    assert (interaction.direction, interaction.user_id) == (Direction.outbound, owner.id)
    assert interaction.subject == "Коммерческое предложение"
    assert "buyer@ladoga.example" in interaction.summary and "Добрый день!" in interaction.summary
    sent = smtp_server.messages[0].message["Message-ID"]
    assert interaction.external_id == f"mail:{sent}"


def test_a_mail_the_system_sent_about_a_contact_is_filed_by_the_accounts_owner(committed, smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    admin, owner, contact, deal = _world(committed.session)
    [interaction] = _send_and_deliver(committed, Message(to=["buyer@ladoga.example"], subject="s", text="t"),
                                      about=contact, actor=None)
    assert (interaction.contact_id, interaction.user_id, interaction.deal_id) == (contact.id, owner.id, None)


def test_a_mail_kept_in_the_outbox_is_not_filed_as_sent(committed, tmp_path):
    committed.app.config.update(SMTP_URL=None, INSTANCE_PATH=str(tmp_path))
    admin, owner, contact, deal = _world(committed.session)
    assert _send_and_deliver(committed, Message(to=["buyer@ladoga.example"], subject="s", text="t"),
                             about=deal, actor=owner) == []
    assert committed.session.scalar(select(Event).where(Event.type == "mail.sent")) is None


def test_a_mail_refused_by_the_server_is_not_filed(committed, smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    smtp_server.refuse("550 5.1.1 no such mailbox")
    admin, owner, contact, deal = _world(committed.session)
    assert _send_and_deliver(committed, Message(to=["buyer@ladoga.example"], subject="s", text="t"),
                             about=deal, actor=owner) == []


def test_the_mail_sent_event_about_a_contact_is_read_by_who_reads_its_account(committed, smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    admin, owner, contact, deal = _world(committed.session)
    _send_and_deliver(committed, Message(to=["buyer@ladoga.example"], subject="s", text="t"), about=contact, actor=None)
    stranger = factories.user(committed.session)
    committed.session.commit()
    event = select(Event.id).where(Event.type == "mail.sent")
    with committed.app.app_context():
        assert committed.session.scalar(event.where(visible_events(committed.session, user=owner))) is not None
        assert committed.session.scalar(event.where(visible_events(committed.session, user=stranger))) is None

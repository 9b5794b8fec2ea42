"""A client's reply to mail crmpm sent threads onto where that mail was filed, whoever replies.

The message goes out to a real SMTP server (aiosmtpd) and is filed in the journal by the CRM's consumer of
``mail.sent`` (``accounts.mail_journal``); the reply names its Message-ID in In-Reply-To.
"""

from __future__ import annotations

from email.message import EmailMessage

from accounts import mail_journal
from accounts.inbound import integrations, journal
from accounts.inbound.mail import parse_message
from crmpm import mail
from crmpm.events import deliver
from crmpm.mail import Message
from tests import factories
from tests.committed import committed  # noqa: F401 - fixture


def test_a_reply_from_another_address_lands_on_the_deal_the_mail_was_about(committed, smtp_server):
    committed.app.config["SMTP_URL"] = smtp_server.url
    session = committed.session
    admin = factories.admin(session)
    branch = factories.node(session, actor=admin, code="NORTH")
    owner = factories.user(session)
    factories.grant(session, actor=admin, role="editor", target=branch, user=owner)
    account = factories.account(session, actor=admin, region=branch, name="Ladoga Port", owner=owner)
    contact = factories.contact(session, actor=admin, account=account, email="buyer@ladoga.example")
    deal = factories.deal(session, actor=owner, account=account, pipeline=factories.pipeline(session),
                          contact=contact)
    integration, _token = integrations.create_integration(session, actor=admin, kind="email", name="Mailbox",
                                                          region_node_id=branch.id, acting_user_id=owner.id)
    session.commit()
    with committed.app.app_context():
        mail.send_later(session, Message(to=["buyer@ladoga.example"], subject="Offer", text="Our offer"),
                        about=deal, actor=owner)
    committed.run_jobs()
    with committed.app.app_context():
        deliver(session, "crm.mail_journal", mail_journal.handle)
    session.commit()
    sent_id = smtp_server.messages[0].message["Message-ID"]

    reply = EmailMessage()
    reply["From"] = "Колега <colleague@ladoga.example>"  # not a contact: only the thread can tell
    reply["To"] = "sales@us.example"
    reply["Subject"] = "Re: Offer"
    reply["Message-ID"] = "<reply-1@ladoga.example>"
    reply["In-Reply-To"] = sent_id
    reply["References"] = sent_id
    reply.set_content("Согласны.")
    recorded = journal.record_email(session, integration=session.get(type(integration), integration.id),
                                    mail=parse_message(reply.as_bytes()))
    session.commit()
    interaction = recorded.interaction
    assert (interaction.deal_id, interaction.account_id, interaction.contact_id, interaction.lead_id) == (
        deal.id, account.id, contact.id, None)
    assert interaction.direction.value == "inbound" and interaction.subject == "Re: Offer"

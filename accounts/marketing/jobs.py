"""Sending a campaign as jobs: ``marketing.campaign_start`` picks the recipients, ``marketing.campaign_batch`` sends.

The start job writes one ``CampaignMessage`` per contact of the segment that the sender may read, the ones that
cannot be sent recorded as ``skipped`` with the reason (opted out of the channel, no consent where the campaign
requires it, no address), each with its variant (by the variants' weights) and its random token. Then each
batch job sends at most ``rate_per_minute`` queued messages and asks for the next batch a minute later.

Idempotent: a batch marks its messages ``sent`` and asks for their ``mail.send`` jobs (each with its Message-ID
fixed) in its one transaction; the mail jobs are handed to the workers only once it commits. A worker killed
mid-batch leaves nothing (no message marked, no mail asked), and the batch runs again; a message marked sent is
never picked again. An SMS or messenger message is a ``campaign.message`` event addressed to the campaign's
webhook, recorded in the same transaction (the webhooks' consumer delivers it).
"""

from __future__ import annotations

import re
import secrets

from markupsafe import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.marketing import campaigns as campaign_services
from accounts.marketing.consent import consented_ids, opted_out_ids
from accounts.marketing.models import Campaign, CampaignLink, CampaignMessage, Segment
from accounts.marketing.segments import contact_ids
from accounts.models import Contact
from crmpm import events, jobs
from crmpm.database import utcnow
from crmpm.errors import Invalid
from crmpm.jobs import JobContext
from crmpm.mail import Message, new_message_id, render_user_template, send_later

CHUNK = 500


def start_campaign(ctx: JobContext) -> dict:
    """Write the campaign's messages (once) and start its first batch."""
    session = ctx.session
    campaign = session.get(Campaign, ctx.params["campaign_id"])
    if campaign is None or campaign.status not in ("scheduled", "sending"):
        return {"skipped": "the campaign is not waiting to be sent"}
    if campaign.status == "scheduled":
        asked_for = ctx.params.get("scheduled_at")
        if campaign.scheduled_at is None or asked_for != campaign_services._aware(campaign.scheduled_at).isoformat():
            return {"skipped": "the campaign was rescheduled"}
        campaign.status = "sending"
    if ctx.actor is None or not campaign_services.may_change(ctx.actor, campaign):
        raise Invalid("the campaign's sender may no longer send it")
    campaign.started_at = campaign.started_at or utcnow()
    written = _write_messages(session, campaign, ctx.actor) if not _has_messages(session, campaign) else 0
    session.flush()
    jobs.start(session, kind=campaign_services.BATCH_JOB, actor=ctx.actor,
               params={"campaign_id": campaign.id, "base_url": ctx.params["base_url"]})
    return {"campaign_id": campaign.id, "messages": written}


def _has_messages(session: Session, campaign: Campaign) -> bool:
    return session.scalar(select(CampaignMessage.id).where(CampaignMessage.campaign_id == campaign.id).limit(1)) \
        is not None


def _write_messages(session: Session, campaign: Campaign, sender) -> int:
    segment = session.get(Segment, campaign.segment_id) if campaign.segment_id else None
    if segment is None:
        raise Invalid("the campaign's segment no longer exists")
    members = contact_ids(session, segment, user=sender).subquery()
    opted_out = set(session.scalars(opted_out_ids(campaign.channel)))
    consented = set(session.scalars(consented_ids(campaign.channel))) if campaign.consent_required else None
    address_column = Contact.email if campaign.channel == "email" else Contact.phone
    slots = [variant for variant in campaign.variants for _ in range(variant.weight)]
    count = 0
    rows = session.execute(select(Contact.id, address_column).where(Contact.id.in_(select(members)))
                           .order_by(Contact.id))
    for number, (contact_id, address) in enumerate(rows):
        status, reason = "queued", ""
        if contact_id in opted_out:
            status, reason = "skipped", "opted out"
        elif consented is not None and contact_id not in consented:
            status, reason = "skipped", "no consent"
        elif not address:
            status, reason = "skipped", "no e-mail" if campaign.channel == "email" else "no phone"
        session.add(CampaignMessage(campaign_id=campaign.id, variant_id=slots[number % len(slots)].id,
                                    contact_id=contact_id, address=address or "", token=secrets.token_urlsafe(32),
                                    status=status, reason=reason, queued_at=utcnow()))
        count += 1
        if count % CHUNK == 0:
            session.flush()
    return count


def send_batch(ctx: JobContext) -> dict:
    """Send up to ``rate_per_minute`` queued messages; the next batch a minute later, or the campaign is sent."""
    session = ctx.session
    campaign = session.get(Campaign, ctx.params["campaign_id"])
    if campaign is None or campaign.status != "sending":
        return {"skipped": "the campaign is not sending"}
    base_url = ctx.params["base_url"]
    batch = list(session.scalars(select(CampaignMessage).where(CampaignMessage.campaign_id == campaign.id,
                                                               CampaignMessage.status == "queued")
                                 .order_by(CampaignMessage.id).limit(campaign.rate_per_minute)))
    links = {link.url: link.id for link in session.scalars(
        select(CampaignLink).where(CampaignLink.campaign_id == campaign.id))}
    variants = {variant.id: variant for variant in campaign.variants}
    config = jobs.config_of(session)
    sent = failed = 0
    for message in batch:
        contact = session.get(Contact, message.contact_id)
        variant = variants.get(message.variant_id) or campaign.variants[0]
        try:
            rendered = render(campaign, variant, contact, message, base_url=base_url, links=links)
            if campaign.channel == "email":
                mail = Message(to=[message.address], subject=rendered["subject"], text=rendered["text"],
                               html=rendered["html"] or None,
                               message_id=new_message_id(config["MAIL_FROM"]),
                               headers={"List-Unsubscribe": f"<{rendered['unsubscribe_url']}/one-click>",
                                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
                send_later(session, mail, actor=ctx.actor, about=("contacts", contact.id))
                message.message_id = mail.message_id
            else:
                events.record(session, "campaign.message", ("contacts", contact.id),
                              {"webhook_id": campaign.webhook_id, "campaign_id": campaign.id,
                               "campaign_code": campaign.code, "channel": campaign.channel, "to": message.address,
                               "text": rendered["text"], "token": message.token}, actor=ctx.actor)
        except Invalid as exc:
            message.status, message.reason = "failed", exc.message[:500]
            failed += 1
            continue
        message.status, message.sent_at = "sent", utcnow()
        sent += 1
    session.flush()
    left = session.scalar(select(CampaignMessage.id).where(CampaignMessage.campaign_id == campaign.id,
                                                           CampaignMessage.status == "queued").limit(1))
    if left is not None:
        jobs.start(session, kind=campaign_services.BATCH_JOB, actor=ctx.actor, params=ctx.params,
                   delay=campaign_services.next_batch_delay())
    else:
        campaign.status, campaign.finished_at = "sent", utcnow()
    session.flush()
    return {"campaign_id": campaign.id, "sent": sent, "failed": failed, "more": left is not None}


def tracked_url(base_url: str, token: str, link_id: int) -> str:
    return f"{base_url}/m/c/{token}/{link_id}"


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url}/m/u/{token}"


def render(campaign: Campaign, variant, contact: Contact, message: CampaignMessage, *, base_url: str,
           links: dict[str, int]) -> dict:
    """The variant's subject, text and HTML for one recipient: personal fields, tracked links, an unsubscribe link."""
    account = contact.account if contact is not None else None
    unsubscribe = unsubscribe_url(base_url, message.token)
    context = {"first_name": contact.first_name, "last_name": contact.last_name,
               "name": " ".join(part for part in (contact.first_name, contact.last_name) if part),
               "account": account.name if account is not None else "", "unsubscribe_url": unsubscribe}

    def track(text: str) -> str:
        return re.sub(campaign_services.URL_PATTERN,
                      lambda m: tracked_url(base_url, message.token, links[m.group(0)]) if m.group(0) in links
                      else m.group(0), text)

    subject = render_user_template(variant.subject, context, what="subject").replace("\n", " ").strip()
    text = track(render_user_template(variant.body, context, what="body"))
    if unsubscribe not in text:
        text = f"{text.rstrip()}\n\n--\nUnsubscribe / Отписаться: {unsubscribe}\n"
    escaped = {key: escape(value) for key, value in context.items()}
    html = track(render_user_template(variant.html, escaped, what="html")) if variant.html else ""
    if html and unsubscribe not in html:
        html += f'<p><a href="{unsubscribe}">Unsubscribe / Отписаться</a></p>'
    return {"subject": subject, "text": text, "html": html, "unsubscribe_url": unsubscribe}

"""Responses to campaigns (a click, a reply, a web form with the campaign's code, an unsubscribe): one home.

``record_response`` records any of them. A reply, or a form that names a known contact, makes a lead attributed
to the campaign (``Lead.campaign_id``; on the campaign's region node, else the contact's account's branch, routed by
the usual rules through ``accounts.leads.receive_lead``) unless the contact has an open lead or an open deal
already; then it is only a response. A form that made its own lead passes it as ``lead`` and it is attributed.

The public tracking links carry a message's random token: ``click`` (the link's registered URL, never another),
``unsubscribe`` (the opt-out of the campaign's channel), and ``record_reply`` for an inbound e-mail answering a
campaign message (its In-Reply-To / References name the message's Message-ID).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.marketing.consent import record_opt_out
from accounts.marketing.models import RESPONSE_KINDS, Campaign, CampaignLink, CampaignMessage, CampaignResponse
from accounts.models import Contact, Deal, Lead, LeadStatus, PipelineStage, StageKind
from crmpm.database import utcnow
from crmpm.errors import Invalid
from crmpm.users.models import User
from eps.models import EpsNode

OPEN_LEAD_STATUSES = (LeadStatus.new, LeadStatus.assigned)
# Responses that make a lead of the person who responded.
LEAD_KINDS = ("reply", "form")


def record_response(session: Session, *, campaign_id: int, kind: str, message_id: int | None = None,
                    contact_id: int | None = None, lead: Lead | None = None,
                    link_id: int | None = None, actor: User | None = None, note: str = "") -> CampaignResponse:
    """Record a response to campaign ``campaign_id``; a lead it created is attributed to the campaign.

    A reply or form from a known contact without ``lead`` makes one (with ``actor``'s rights, else the campaign
    owner's) unless the contact has an open lead or deal.
    """
    if kind not in RESPONSE_KINDS:
        raise Invalid("unknown response kind {kind}", kind=str(kind)[:20],
                      errors={"kind": [f"one of {', '.join(RESPONSE_KINDS)}"]})
    campaign = session.get(Campaign, campaign_id)
    if lead is None and kind in LEAD_KINDS and contact_id is not None and campaign is not None:
        lead = _lead_for(session, campaign=campaign, contact_id=contact_id, kind=kind, actor=actor, note=note)
    if lead is not None and lead.campaign_id is None:
        lead.campaign_id = campaign_id
    response = CampaignResponse(campaign_id=campaign_id, kind=kind, message_id=message_id, contact_id=contact_id,
                                lead_id=lead.id if lead is not None else None, link_id=link_id, at=utcnow())
    session.add(response)
    session.flush()
    return response


def has_open_lead_or_deal(session: Session, contact: Contact) -> bool:
    """True when the person has an open lead, or their account an open deal (a response then makes no lead)."""
    lead = session.scalar(select(Lead.id).where(Lead.contact_id == contact.id,
                                                Lead.status.in_(OPEN_LEAD_STATUSES)).limit(1))
    if lead is None and contact.email:
        lead = session.scalar(select(Lead.id).where(Lead.email == contact.email, Lead.contact_id.is_(None),
                                                    Lead.status.in_(OPEN_LEAD_STATUSES)).limit(1))
    if lead is not None:
        return True
    deal = session.scalar(select(Deal.id).join(PipelineStage, PipelineStage.id == Deal.stage_id)
                          .where(Deal.account_id == contact.account_id, PipelineStage.kind == StageKind.open).limit(1))
    return deal is not None


def _lead_for(session: Session, *, campaign: Campaign, contact_id: int, kind: str, actor: User | None,
              note: str) -> Lead | None:
    from accounts.leads import receive_lead

    contact = session.get(Contact, contact_id)
    if contact is None or has_open_lead_or_deal(session, contact):
        return None
    actor = actor or (session.get(User, campaign.owner_id) if campaign.owner_id else None)
    if actor is None:
        return None
    region = session.get(EpsNode, campaign.region_node_id or contact.account.region_node_id)
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
    lead = receive_lead(session, actor=actor, region=region, company=contact.account.name, contact_name=name,
                        email=contact.email, phone=contact.phone, source=f"campaign {campaign.code}"[:100],
                        channel=kind, message=note[:10_000])
    lead.account_id, lead.contact_id, lead.campaign_id = contact.account_id, contact.id, campaign.id
    session.flush()
    return lead


# The public tracking links

def message_by_token(session: Session, token: str) -> CampaignMessage | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(select(CampaignMessage).where(CampaignMessage.token == token))


def click(session: Session, *, token: str, link_id: int) -> str | None:
    """The registered URL of ``link_id`` for the message with ``token`` (a click recorded), or None."""
    message = message_by_token(session, token)
    if message is None:
        return None
    link = session.get(CampaignLink, link_id)
    if link is None or link.campaign_id != message.campaign_id:
        return None
    record_response(session, campaign_id=message.campaign_id, kind="click", message_id=message.id,
                    contact_id=message.contact_id, link_id=link.id)
    return link.url


def unsubscribe(session: Session, *, token: str, how: str = "link") -> CampaignMessage | None:
    """The recipient of the message with ``token`` opts out of its campaign's channel (once); None if unknown."""
    message = message_by_token(session, token)
    if message is None:
        return None
    campaign = session.get(Campaign, message.campaign_id)
    record_opt_out(session, contact_id=message.contact_id, channel=campaign.channel,
                   source=f"unsubscribe {how}, campaign {campaign.code}", actor=None)
    already = session.scalar(select(CampaignResponse.id).where(CampaignResponse.message_id == message.id,
                                                               CampaignResponse.kind == "unsubscribe"))
    if already is None:
        record_response(session, campaign_id=campaign.id, kind="unsubscribe", message_id=message.id,
                        contact_id=message.contact_id)
    return message


def record_reply(session: Session, *, message_ids: list[str], actor: User | None, note: str = "") -> CampaignResponse | None:
    """An e-mail answering a campaign message (one of ``message_ids`` is its Message-ID): a reply response, once
    per message; None when it answers no campaign message."""
    ids = [value.strip() for value in message_ids if value and value.strip()][:50]
    if not ids:
        return None
    message = session.scalar(select(CampaignMessage).where(CampaignMessage.message_id.in_(ids)).limit(1))
    if message is None:
        return None
    if session.scalar(select(CampaignResponse.id).where(CampaignResponse.message_id == message.id,
                                                        CampaignResponse.kind == "reply")) is not None:
        return None
    return record_response(session, campaign_id=message.campaign_id, kind="reply", message_id=message.id,
                           contact_id=message.contact_id, actor=actor, note=note)

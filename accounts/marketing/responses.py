"""Responses to campaigns (a click, a reply, a web form with the campaign's code, an unsubscribe): one home.

(Skeleton: recording works; the campaigns' work builds on it.)
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from accounts.marketing.models import RESPONSE_KINDS, CampaignResponse
from accounts.models import Lead
from crmpm.database import utcnow


def record_response(session: Session, *, campaign_id: int, kind: str, message_id: int | None = None,
                    contact_id: int | None = None, lead: Lead | None = None,
                    link_id: int | None = None) -> CampaignResponse:
    """Record a response to campaign ``campaign_id``; a lead it created is attributed to the campaign."""
    if kind not in RESPONSE_KINDS:
        raise ValueError(f"unknown response kind {kind!r}")
    if lead is not None and lead.campaign_id is None:
        lead.campaign_id = campaign_id
    response = CampaignResponse(campaign_id=campaign_id, kind=kind, message_id=message_id, contact_id=contact_id,
                                lead_id=lead.id if lead is not None else None, link_id=link_id, at=utcnow())
    session.add(response)
    session.flush()
    return response

"""Campaigns: a message to a segment over one channel, its A/B variants, tracked links, sending and results.

Rights: a campaign is a company-wide object: every staff user reads it (its settings and its result figures,
which are totals and name nobody); administrators and users with edit rights on some branch create campaigns;
its owner or an administrator changes, sends, cancels and deletes it. Its
recipients are only the contacts the sender may read (``segments.contact_ids(..., user=sender)``), and the list of
recipients shown to a reader is filtered to the contacts that reader may read.

Sending (``send``) moves a draft to ``sending`` (or ``scheduled`` when ``scheduled_at`` is in the future) and asks
for the ``marketing.campaign_start`` job (delayed until ``scheduled_at``); the jobs are in ``accounts/marketing/jobs.py``.
Statuses: draft → scheduled → sending → sent; a scheduled or sending campaign may be cancelled.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from accounts.marketing.models import (CAMPAIGN_CHANNELS, NAME_LENGTH, Campaign, CampaignLink, CampaignMessage,
                                       CampaignResponse, CampaignVariant, Segment)
from accounts.models import Contact, Deal, Lead, PipelineStage, StageKind
from accounts.permissions import readable_account_ids
from crmpm import audit, jobs
from crmpm.codes import code_from_name
from crmpm.database import utcnow
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound
from crmpm.mail import check_user_template
from crmpm.search import contains
from crmpm.users.models import User
from crmpm.webhooks.models import Webhook
from eps.models import EpsNode
from eps.permissions import ROLE_PERMISSIONS, Permission, principal_grant_paths

# The personal fields a campaign's subject and body may use.
FIELDS = {"first_name", "last_name", "name", "account", "unsubscribe_url"}
MAX_VARIANTS = 5
MAX_BODY = 100_000
MAX_RATE = 10_000
MAX_COST = Decimal("1000000000000")
CODE_LENGTH = 60
# Links in a message's text or HTML that are sent as tracked redirects.
URL_PATTERN = re.compile(r"https?://[^\s<>\"'()\[\]{}]+")
MAX_LINKS = 50
START_JOB = "marketing.campaign_start"
BATCH_JOB = "marketing.campaign_batch"
EDITABLE = ("draft", "scheduled")


# Reading

def get_campaign_or_raise(session: Session, *, user: User, campaign_id: int, field: str | None = None) -> Campaign:
    """The campaign (every staff user reads campaigns); NotFound when there is none."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or getattr(user, "is_client", False):
        raise NotFound("campaign {campaign_id} not found", campaign_id=campaign_id,
                       errors={field: ["not found"]} if field else None)
    return campaign


def list_campaigns(session: Session, *, user: User, status: str | None = None, search: str | None = None) -> Select:
    """A select of the campaigns, newest first."""
    query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    if status is not None:
        query = query.where(Campaign.status == status)
    matches = contains([Campaign.name, Campaign.code], search)
    if matches is not None:
        query = query.where(matches)
    return query


def may_change(user: User, campaign: Campaign) -> bool:
    return bool(user.is_admin or (campaign.owner_id is not None and campaign.owner_id == user.id))


def may_create(session: Session, user: User) -> bool:
    """Whether ``user`` may start campaigns: an administrator, or someone with edit rights on some branch (who may
    take the leads it brings); read-only users may not."""
    if user.is_admin:
        return True
    if getattr(user, "is_client", False):
        return False
    editing = tuple(role for role, allowed in ROLE_PERMISSIONS.items() if Permission.edit in allowed)
    return bool(principal_grant_paths(session, user=user, roles=editing))


def authorize_change(user: User, campaign: Campaign) -> None:
    if not may_change(user, campaign):
        raise Forbidden("only the owner of campaign {campaign_id} or an administrator may change it",
                        campaign_id=campaign.id)


def recipients(session: Session, *, user: User, campaign: Campaign) -> Select:
    """A select of the campaign's messages to the contacts ``user`` may read, in order."""
    query = (select(CampaignMessage).join(Contact, Contact.id == CampaignMessage.contact_id)
             .where(CampaignMessage.campaign_id == campaign.id).order_by(CampaignMessage.id))
    readable = readable_account_ids(session, user=user)
    if readable is not None:
        query = query.where(Contact.account_id.in_(readable))
    return query


# Changing

def _text(field: str, value, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        raise Invalid("{field} must be text", field=field, errors={field: ["must be text"]})
    if required and not value:
        raise Invalid("{field} is required", field=field, errors={field: ["required"]})
    if len(value) > limit:
        raise Invalid("{field} is longer than {count} characters", field=field, count=limit,
                      errors={field: [f"at most {limit} characters"]})
    return value


def _cost(value) -> Decimal:
    try:
        cost = Decimal(str(value if value is not None else "0"))
    except (InvalidOperation, ValueError):
        raise Invalid("cost must be an amount", errors={"cost": ["not an amount"]}) from None
    if not cost.is_finite() or cost < 0 or cost >= MAX_COST:
        raise Invalid("cost must be an amount of zero or more", errors={"cost": ["zero or more"]})
    return cost.quantize(Decimal("0.01"))


def _rate(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_RATE:
        raise Invalid("rate_per_minute must be a whole number from 1 to {count}", count=MAX_RATE,
                      errors={"rate_per_minute": [f"from 1 to {MAX_RATE}"]})
    return value


def _when(value) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise Invalid("scheduled_at needs a time zone", errors={"scheduled_at": ["a time with its zone"]})
    return value


def _segment(session: Session, segment_id) -> int | None:
    if segment_id is None:
        return None
    if session.get(Segment, segment_id) is None:
        raise NotFound("segment {segment_id} not found", segment_id=segment_id, errors={"segment_id": ["not found"]})
    return segment_id


def _region(session: Session, node_id) -> int | None:
    if node_id is None:
        return None
    if session.get(EpsNode, node_id) is None:
        raise NotFound("EPS node {node_id} not found", node_id=node_id, errors={"region_node_id": ["not found"]})
    return node_id


def _webhook(session: Session, user: User, webhook_id) -> int | None:
    if webhook_id is None:
        return None
    hook = session.get(Webhook, webhook_id)
    if hook is None or not (user.is_admin or hook.owner_id == user.id):
        raise NotFound("webhook {webhook_id} not found", webhook_id=webhook_id, errors={"webhook_id": ["not found"]})
    return webhook_id


def _variants(values: list) -> list[dict]:
    if not isinstance(values, list) or not values:
        raise Invalid("a campaign needs at least one variant", errors={"variants": ["at least one"]})
    if len(values) > MAX_VARIANTS:
        raise Invalid("a campaign has at most {count} variants", count=MAX_VARIANTS,
                      errors={"variants": [f"at most {MAX_VARIANTS}"]})
    checked, labels = [], set()
    for number, value in enumerate(values):
        label = _text("label", value.get("label") or "ABCDE"[number], 10, required=True)
        if label in labels:
            raise Invalid("variant {label} is given twice", label=label, errors={"variants": ["labels differ"]})
        labels.add(label)
        subject = _text("subject", value.get("subject"), 500)
        body = _text("body", value.get("body"), MAX_BODY, required=True)
        html = _text("html", value.get("html"), MAX_BODY)
        weight = value.get("weight", 1)
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 100:
            raise Invalid("a variant's weight is a whole number from 1 to 100", errors={"weight": ["from 1 to 100"]})
        for what, source in (("subject", subject), ("body", body), ("html", html)):
            check_user_template(source, FIELDS, what=what)
        checked.append({"label": label, "subject": subject, "body": body, "html": html, "weight": weight})
    return checked


def _channel(channel: str) -> str:
    if channel not in CAMPAIGN_CHANNELS:
        raise Invalid("unknown channel", errors={"channel": [f"one of {', '.join(CAMPAIGN_CHANNELS)}"]})
    return channel


def _check_channel(campaign: Campaign) -> None:
    if campaign.channel == "email":
        if any(not variant.subject for variant in campaign.variants):
            raise Invalid("an e-mail needs a subject", errors={"subject": ["required"]})
    elif campaign.webhook_id is None:
        raise Invalid("an SMS or messenger campaign goes out through a webhook: name one",
                      errors={"webhook_id": ["required"]})


def _code(session: Session, name: str) -> str:
    return code_from_name(name, taken=lambda code: session.scalar(select(Campaign.id).where(Campaign.code == code))
                          is not None, fallback="CAMPAIGN", limit=CODE_LENGTH)


def _links(session: Session, campaign: Campaign) -> None:
    """Register the links of the variants' texts (kept: links already registered, which clicks name)."""
    urls = []
    for variant in campaign.variants:
        for source in (variant.body, variant.html):
            urls.extend(url for url in URL_PATTERN.findall(source) if url not in urls)
    if len(urls) > MAX_LINKS:
        raise Invalid("a campaign has at most {count} links", count=MAX_LINKS, errors={"body": [f"at most {MAX_LINKS} links"]})
    known = set(session.scalars(select(CampaignLink.url).where(CampaignLink.campaign_id == campaign.id)))
    for url in urls:
        if url not in known and len(url) <= 2000:
            session.add(CampaignLink(campaign_id=campaign.id, url=url))


def create_campaign(session: Session, *, actor: User, name: str, variants: list, segment_id: int | None = None,
                    channel: str = "email", webhook_id: int | None = None, scheduled_at: datetime | None = None,
                    cost=Decimal("0"), rate_per_minute: int = 60, consent_required: bool = False,
                    region_node_id: int | None = None, from_name: str = "") -> Campaign:
    """A new draft campaign of ``actor``'s, its code made from its name (any staff user may create one)."""
    if not may_create(session, actor):
        raise Forbidden("creating campaigns needs edit rights on a branch")
    name = _text("name", name, NAME_LENGTH, required=True)
    campaign = Campaign(
        name=name, code=_code(session, name), segment_id=_segment(session, segment_id), channel=_channel(channel),
        webhook_id=_webhook(session, actor, webhook_id), status="draft", scheduled_at=_when(scheduled_at),
        cost=_cost(cost), rate_per_minute=_rate(rate_per_minute), consent_required=bool(consent_required),
        region_node_id=_region(session, region_node_id), from_name=_text("from_name", from_name, NAME_LENGTH),
        owner_id=actor.id, created_at=utcnow())
    campaign.variants = [CampaignVariant(**value) for value in _variants(variants)]
    _check_channel(campaign)
    session.add(campaign)
    session.flush()
    _links(session, campaign)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=campaign, after=campaign.audit_state())
    return campaign


UPDATABLE = {"name", "segment_id", "channel", "webhook_id", "scheduled_at", "cost", "rate_per_minute",
             "consent_required", "region_node_id", "from_name", "variants"}


def update_campaign(session: Session, *, actor: User, campaign: Campaign, **changes) -> Campaign:
    """Change a draft or scheduled campaign (its owner or an administrator); the code stays."""
    authorize_change(actor, campaign)
    unknown = sorted(set(changes) - UPDATABLE)
    if unknown:
        raise Invalid("unknown campaign field {key}", key=unknown[0], errors={unknown[0]: ["unknown field"]})
    if campaign.status not in EDITABLE:
        raise Conflict("campaign {campaign_id} is {status}: it can no longer be changed", campaign_id=campaign.id,
                       status=campaign.status)
    before = campaign.audit_state()
    checks = {"name": lambda v: _text("name", v, NAME_LENGTH, required=True), "segment_id": lambda v: _segment(session, v),
              "channel": _channel, "webhook_id": lambda v: _webhook(session, actor, v), "scheduled_at": _when,
              "cost": _cost, "rate_per_minute": _rate, "consent_required": bool,
              "region_node_id": lambda v: _region(session, v),
              "from_name": lambda v: _text("from_name", v, NAME_LENGTH)}
    for key, value in changes.items():
        if key == "variants":
            checked = _variants(value)
            existing = {variant.label: variant for variant in campaign.variants}
            kept = []
            for item in checked:
                variant = existing.get(item["label"]) or CampaignVariant(label=item["label"])
                for attribute, attribute_value in item.items():
                    setattr(variant, attribute, attribute_value)
                kept.append(variant)
            campaign.variants = kept
        else:
            setattr(campaign, key, checks[key](value))
    _check_channel(campaign)
    session.flush()
    _links(session, campaign)
    if campaign.status == "scheduled" and "scheduled_at" in changes:
        # Sent again at the new time: the job asked for the old time finds the time changed and does nothing.
        campaign.status = "draft"
        _schedule_or_start(session, actor=actor, campaign=campaign, base_url=None)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=campaign, before=before, after=campaign.audit_state())
    return campaign


def delete_campaign(session: Session, *, actor: User, campaign: Campaign) -> None:
    """Delete a draft (or cancelled campaign that sent nothing): its owner or an administrator."""
    authorize_change(actor, campaign)
    sent = session.scalar(select(func.count()).select_from(CampaignMessage).where(
        CampaignMessage.campaign_id == campaign.id, CampaignMessage.status == "sent"))
    if campaign.status not in ("draft", "cancelled") or sent:
        raise Conflict("campaign {campaign_id} is {status}: only a draft can be deleted", campaign_id=campaign.id,
                       status=campaign.status)
    before = campaign.audit_state()
    audit.record(session, actor=actor, action="delete", entity=campaign, before=before)
    session.execute(delete(CampaignResponse).where(CampaignResponse.campaign_id == campaign.id))
    session.delete(campaign)
    session.flush()


# Sending

def send(session: Session, *, actor: User, campaign: Campaign, base_url: str | None = None):
    """Send the campaign now, or at its ``scheduled_at``: the job that starts it (Conflict unless a draft)."""
    authorize_change(actor, campaign)
    if campaign.status != "draft":
        raise Conflict("campaign {campaign_id} is {status}: it cannot be sent again", campaign_id=campaign.id,
                       status=campaign.status)
    if campaign.segment_id is None:
        raise Invalid("choose the segment the campaign goes to", errors={"segment_id": ["required"]})
    _check_channel(campaign)
    before = campaign.audit_state()
    job = _schedule_or_start(session, actor=actor, campaign=campaign, base_url=base_url)
    audit.record(session, actor=actor, action="update", entity=campaign, before=before, after=campaign.audit_state())
    return job


def _schedule_or_start(session: Session, *, actor: User, campaign: Campaign, base_url: str | None):
    now = utcnow()
    params = {"campaign_id": campaign.id, "base_url": _base_url(session, base_url)}
    if campaign.scheduled_at is not None and _aware(campaign.scheduled_at) > now:
        campaign.status = "scheduled"
        params["scheduled_at"] = _aware(campaign.scheduled_at).isoformat()
        delay = _aware(campaign.scheduled_at) - now
    else:
        campaign.status, delay = "sending", None
    session.flush()
    return jobs.start(session, kind=START_JOB, params=params, actor=actor, delay=delay)


def cancel(session: Session, *, actor: User, campaign: Campaign) -> Campaign:
    """Stop a scheduled or sending campaign: the messages not sent yet are skipped as cancelled."""
    authorize_change(actor, campaign)
    if campaign.status not in ("scheduled", "sending"):
        raise Conflict("campaign {campaign_id} is {status}: only a scheduled or sending campaign can be cancelled",
                       campaign_id=campaign.id, status=campaign.status)
    before = campaign.audit_state()
    campaign.status, campaign.finished_at = "cancelled", utcnow()
    for message in session.scalars(select(CampaignMessage).where(CampaignMessage.campaign_id == campaign.id,
                                                                 CampaignMessage.status == "queued")):
        message.status, message.reason = "skipped", "cancelled"
    session.flush()
    audit.record(session, actor=actor, action="update", entity=campaign, before=before, after=campaign.audit_state())
    return campaign


def _aware(value: datetime) -> datetime:
    # SQLite gives times back without their zone: stored in UTC.
    from datetime import timezone
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _base_url(session: Session, asked: str | None) -> str:
    """Where the links in messages point: ``PUBLIC_URL`` (CRMPM_PUBLIC_URL) when set, which a request's Host header
    cannot change; else the address the sender used."""
    return jobs.public_url(session) or (asked or "http://localhost").rstrip("/")


def next_batch_delay() -> timedelta:
    return timedelta(minutes=1)


# Results

def _ratio(won: Decimal, cost: Decimal) -> Decimal | None:
    if not cost:
        return None
    return ((won - cost) / cost).quantize(Decimal("0.0001"))


def results(session: Session, campaign: Campaign, user: User) -> dict:
    """The campaign's figures, in all and per variant (figures only: they name nobody, so every reader sees the
    same totals; who the recipients, leads and deals are is shown only as far as the reader may read them).

    messages: sent, skipped, failed, queued; responses by kind (clicks: all and unique per message); leads
    attributed to the campaign (``Lead.campaign_id``); deals made of those leads (``Lead.deal_id``); won deals
    (in a won stage) and their value; return on cost = (won value − cost) / cost, None when the cost is 0.
    A variant's leads are those whose response came from a message of that variant; its cost is the campaign's
    cost shared by the variant's sent messages.
    """
    messages = dict.fromkeys(("sent", "skipped", "failed", "queued"), 0)
    per_variant = {variant.id: {"variant_id": variant.id, "label": variant.label,
                                "messages": dict(messages), "responses": _no_responses(),
                                "leads": 0, "deals": 0, "won_deals": 0, "won_value": Decimal("0.00")}
                   for variant in campaign.variants}
    for variant_id, status, count in session.execute(
            select(CampaignMessage.variant_id, CampaignMessage.status, func.count())
            .where(CampaignMessage.campaign_id == campaign.id)
            .group_by(CampaignMessage.variant_id, CampaignMessage.status)):
        messages[status] = messages.get(status, 0) + count
        if variant_id in per_variant:
            per_variant[variant_id]["messages"][status] += count
    responses = _no_responses()
    for variant_id, kind, count, unique in session.execute(
            select(CampaignMessage.variant_id, CampaignResponse.kind, func.count(),
                   func.count(func.distinct(CampaignResponse.message_id)))
            .select_from(CampaignResponse)
            .outerjoin(CampaignMessage, CampaignMessage.id == CampaignResponse.message_id)
            .where(CampaignResponse.campaign_id == campaign.id)
            .group_by(CampaignMessage.variant_id, CampaignResponse.kind)):
        for target in [responses] + ([per_variant[variant_id]["responses"]] if variant_id in per_variant else []):
            target[kind] = target.get(kind, 0) + count
            if kind == "click":
                target["unique_clicks"] += unique
    # Leads of the campaign, with the variant of the response that made each (if any).
    variant_of_lead = dict(session.execute(
        select(CampaignResponse.lead_id, func.min(CampaignMessage.variant_id))
        .join(CampaignMessage, CampaignMessage.id == CampaignResponse.message_id)
        .where(CampaignResponse.campaign_id == campaign.id, CampaignResponse.lead_id.is_not(None))
        .group_by(CampaignResponse.lead_id)).all())
    totals = {"leads": 0, "deals": 0, "won_deals": 0, "won_value": Decimal("0.00")}
    for lead_id, deal_id, kind, amount in session.execute(
            select(Lead.id, Lead.deal_id, PipelineStage.kind, Deal.amount)
            .outerjoin(Deal, Deal.id == Lead.deal_id)
            .outerjoin(PipelineStage, PipelineStage.id == Deal.stage_id)
            .where(Lead.campaign_id == campaign.id)):
        targets = [totals] + ([per_variant[variant_of_lead[lead_id]]]
                              if variant_of_lead.get(lead_id) in per_variant else [])
        for target in targets:
            target["leads"] += 1
            if deal_id is not None:
                target["deals"] += 1
                if kind == StageKind.won:
                    target["won_deals"] += 1
                    target["won_value"] += amount or Decimal("0")
    cost = campaign.cost or Decimal("0.00")
    sent_total = messages["sent"]
    variants = []
    for row in per_variant.values():
        share = (cost * row["messages"]["sent"] / sent_total).quantize(Decimal("0.01")) if sent_total else Decimal("0.00")
        variants.append({**row, "cost": share, "return_on_cost": _ratio(row["won_value"], share)})
    return {"campaign_id": campaign.id, "status": campaign.status, "cost": cost, "messages": messages,
            "responses": responses, **totals, "return_on_cost": _ratio(totals["won_value"], cost),
            "variants": variants}


def _no_responses() -> dict:
    return {"click": 0, "unique_clicks": 0, "reply": 0, "form": 0, "unsubscribe": 0}

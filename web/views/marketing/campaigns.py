"""Campaign pages: the list, a new or changed campaign (segment, channel, A/B variants, schedule, cost), and a
campaign's page with its results per variant, its recipients (those the reader may read) and send/cancel."""

from __future__ import annotations

from datetime import datetime

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _

from sqlalchemy import select

from accounts.marketing import campaigns
from accounts.marketing.models import CAMPAIGN_CHANNELS, CAMPAIGN_STATUSES, Segment
from accounts.models import Contact
from crmpm.database import db
from crmpm.errors import Forbidden, Invalid
from crmpm.ratelimit import throttle
from web.forms import parse_amount
from web.pages import page_blueprint
from web.pagination import paginate

bp = page_blueprint("campaign_pages", __name__, url_prefix="/campaigns")
KIND = "campaign"  # crmpm/ratelimit.py
VARIANT_LABELS = ("A", "B")


def _labels() -> dict:
    return {"draft": _("Draft"), "scheduled": _("Scheduled"), "sending": _("Sending"), "sent": _("Sent"),
            "cancelled": _("Cancelled"), "queued": _("Queued"), "failed": _("Failed"), "skipped": _("Skipped"),
            "email": _("E-mail"), "sms": _("SMS"), "messenger": _("Messenger"),
            # Why a message was not sent (CampaignMessage.reason, written by accounts/marketing/jobs.py).
            "opted out": _("opted out"), "no consent": _("no consent"), "no e-mail": _("no e-mail"),
            "no phone": _("no phone"), "": ""}


@bp.route("/")
def index():
    status = request.args.get("status")
    query = campaigns.list_campaigns(db.session, user=g.user, status=status if status in CAMPAIGN_STATUSES else None,
                                     search=(request.args.get("q") or "")[:200] or None)
    return render_template("marketing/campaigns.html", page=paginate(db.session, query), labels=_labels(),
                           statuses=CAMPAIGN_STATUSES, status=status, q=request.args.get("q", "")[:200])


@bp.route("/new")
def new():
    if not campaigns.may_create(db.session, g.user):
        raise Forbidden(_("Creating campaigns needs edit rights on a branch."))
    return _form(None)


@bp.route("/<int:campaign_id>/edit")
def edit(campaign_id: int):
    campaign = campaigns.get_campaign_or_raise(db.session, user=g.user, campaign_id=campaign_id)
    campaigns.authorize_change(g.user, campaign)
    return _form(campaign)


def _form(campaign):
    segments = db.session.scalars(select(Segment).order_by(Segment.name).limit(500)).all()
    variants = {variant.label: variant for variant in (campaign.variants if campaign else [])}
    scheduled = ""
    if campaign is not None and campaign.scheduled_at is not None:
        scheduled = campaigns._aware(campaign.scheduled_at).astimezone(get_timezone()).strftime("%Y-%m-%dT%H:%M")
    return render_template("marketing/campaign_form.html", campaign=campaign, segments=segments, variants=variants,
                           labels=_labels(), channels=CAMPAIGN_CHANNELS, variant_labels=VARIANT_LABELS,
                           scheduled=scheduled, fields=sorted(campaigns.FIELDS))


def _whole(name: str, default: int) -> int:
    text = (request.form.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or len(text) > 9:
        raise Invalid(_("%(field)s must be a whole number.", field=name), errors={name: ["a whole number"]})
    return int(text)


def _optional_id(name: str) -> int | None:
    text = (request.form.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise Invalid(_("%(field)s must be a whole number.", field=name), errors={name: ["a whole number"]})
    return int(text)


def _values() -> dict:
    form = request.form
    cost_text = (form.get("cost") or "0").strip() or "0"
    cost = parse_amount(cost_text)
    if cost is None:
        raise Invalid(_("The cost is not an amount."), errors={"cost": ["not an amount"]})
    scheduled_at = None
    when = (form.get("scheduled_at") or "").strip()
    if when:
        try:
            scheduled_at = datetime.strptime(when, "%Y-%m-%dT%H:%M").replace(tzinfo=get_timezone())
        except ValueError:
            raise Invalid(_("The time to send is not a date and time."), errors={"scheduled_at": ["not a time"]}) from None
    variants = []
    for label in VARIANT_LABELS:
        body = form.get(f"body_{label}", "")
        if body.strip() or label == "A":
            variants.append({"label": label, "subject": form.get(f"subject_{label}", ""), "body": body,
                             "html": form.get(f"html_{label}", ""), "weight": _whole(f"weight_{label}", 1)})
    channel = form.get("channel", "email")
    return {"name": form.get("name", ""), "segment_id": _optional_id("segment_id"), "channel": channel,
            "webhook_id": _optional_id("webhook_id"), "scheduled_at": scheduled_at, "cost": cost,
            "rate_per_minute": _whole("rate_per_minute", 60), "consent_required": form.get("consent_required") == "on",
            "from_name": form.get("from_name", ""), "variants": variants}


@bp.route("/new", methods=["POST"])
def create():
    throttle().attempt(KIND, g.user.id)
    campaign = campaigns.create_campaign(db.session, actor=g.user, **_values())
    flash(_("The campaign is saved as a draft."), "info")
    return redirect(url_for("campaign_pages.show", campaign_id=campaign.id), code=303)


@bp.route("/<int:campaign_id>/edit", methods=["POST"])
def update(campaign_id: int):
    campaign = campaigns.get_campaign_or_raise(db.session, user=g.user, campaign_id=campaign_id)
    campaigns.update_campaign(db.session, actor=g.user, campaign=campaign, **_values())
    flash(_("The campaign is saved."), "info")
    return redirect(url_for("campaign_pages.show", campaign_id=campaign.id), code=303)


@bp.route("/<int:campaign_id>")
def show(campaign_id: int):
    campaign = campaigns.get_campaign_or_raise(db.session, user=g.user, campaign_id=campaign_id)
    page = paginate(db.session, campaigns.recipients(db.session, user=g.user, campaign=campaign))
    ids = [message.contact_id for message in page.items]
    contacts = {contact.id: contact for contact in db.session.scalars(select(Contact).where(Contact.id.in_(ids)))}
    return render_template("marketing/campaign.html", campaign=campaign, page=page, labels=_labels(),
                           contacts=contacts,
                           results=campaigns.results(db.session, campaign, g.user),
                           segment=db.session.get(Segment, campaign.segment_id) if campaign.segment_id else None,
                           may_change=campaigns.may_change(g.user, campaign))


@bp.route("/<int:campaign_id>/send", methods=["POST"])
def send(campaign_id: int):
    campaign = campaigns.get_campaign_or_raise(db.session, user=g.user, campaign_id=campaign_id)
    throttle().attempt(KIND, g.user.id)
    campaigns.send(db.session, actor=g.user, campaign=campaign, base_url=request.url_root.rstrip("/"))
    flash(_("The campaign is scheduled.") if campaign.status == "scheduled" else _("The campaign is being sent."),
          "info")
    return redirect(url_for("campaign_pages.show", campaign_id=campaign.id), code=303)


@bp.route("/<int:campaign_id>/cancel", methods=["POST"])
def cancel(campaign_id: int):
    campaign = campaigns.get_campaign_or_raise(db.session, user=g.user, campaign_id=campaign_id)
    campaigns.cancel(db.session, actor=g.user, campaign=campaign)
    flash(_("The campaign is cancelled."), "info")
    return redirect(url_for("campaign_pages.show", campaign_id=campaign.id), code=303)


@bp.route("/<int:campaign_id>/delete", methods=["POST"])
def delete(campaign_id: int):
    campaign = campaigns.get_campaign_or_raise(db.session, user=g.user, campaign_id=campaign_id)
    campaigns.delete_campaign(db.session, actor=g.user, campaign=campaign)
    flash(_("The campaign is deleted."), "info")
    return redirect(url_for("campaign_pages.index"), code=303)

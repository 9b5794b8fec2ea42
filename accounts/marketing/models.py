"""Marketing's records: tags, consents and opt-outs, segments, campaigns and their messages, web-to-lead forms.

Who may see a member of a segment or a recipient of a campaign is decided by the contact's account, as everywhere
in the CRM (``accounts.permissions``): a segment or campaign is a company-wide object, its members are always
filtered to what the reader may read.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crmpm.database import Base, utcnow

NAME_LENGTH = 200
TAG_LENGTH = 100

# Channels a person may consent to or opt out of (the law on personal data: per channel, with when and how).
CHANNELS = ("email", "sms", "messenger", "phone")
# Campaign channels: e-mail is sent by crmpm; SMS and messengers through a webhook subscription.
CAMPAIGN_CHANNELS = ("email", "sms", "messenger")
CAMPAIGN_STATUSES = ("draft", "scheduled", "sending", "sent", "cancelled")
MESSAGE_STATUSES = ("queued", "sent", "failed", "skipped")
RESPONSE_KINDS = ("click", "reply", "form", "unsubscribe")


class AccountTag(Base):
    """A free tag on an account (normalized: stripped, lower-cased)."""

    __tablename__ = "account_tags"
    __table_args__ = (Index("ix_account_tags_tag", "tag"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(TAG_LENGTH), primary_key=True)


class ContactTag(Base):
    """A free tag on a contact (normalized: stripped, lower-cased)."""

    __tablename__ = "contact_tags"
    __table_args__ = (Index("ix_contact_tags_tag", "tag"),)

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(TAG_LENGTH), primary_key=True)


class ContactConsent(Base):
    """A person's consent to and opt-out of one channel: the current state, with when and how each was given.

    Sending honours ``opted_out_at`` always; a campaign that requires consent also needs ``consented_at``.
    Every change is audited (the history the law asks for).
    """

    __tablename__ = "contact_consents"
    __table_args__ = (UniqueConstraint("contact_id", "channel", name="uq_contact_consents_contact_channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    consented_at: Mapped[datetime | None]
    consent_source: Mapped[str] = mapped_column(String(200), default="")
    opted_out_at: Mapped[datetime | None]
    opt_out_source: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def audit_state(self) -> dict:
        return {"contact_id": self.contact_id, "channel": self.channel, "consented_at": self.consented_at,
                "consent_source": self.consent_source, "opted_out_at": self.opted_out_at,
                "opt_out_source": self.opt_out_source}


class Segment(Base):
    """A saved filter over contacts or accounts (``dynamic``), or a fixed list of them (``static``)."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # What its members are: "contacts" or "accounts".
    subject: Mapped[str] = mapped_column(String(20), default="contacts")
    # "dynamic": members are whoever matches ``filter`` now; "static": the rows of segment_members.
    kind: Mapped[str] = mapped_column(String(20), default="dynamic")
    filter: Mapped[dict] = mapped_column(JSON, default=dict)
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def audit_state(self) -> dict:
        return {"name": self.name, "subject": self.subject, "kind": self.kind, "filter": self.filter,
                "owner_id": self.owner_id}


class SegmentMember(Base):
    """A member of a static segment: a contact (contacts segments) or an account (accounts segments)."""

    __tablename__ = "segment_members"
    __table_args__ = (
        UniqueConstraint("segment_id", "contact_id", name="uq_segment_members_segment_contact"),
        UniqueConstraint("segment_id", "account_id", name="uq_segment_members_segment_account"),
        CheckConstraint("(contact_id IS NULL) <> (account_id IS NULL)", name="one_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Campaign(Base):
    """A message to a segment over one channel, sent as jobs, whose result is measured in leads and deals won."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # The code responses carry (a web form's hidden field, a lead's source): unique, made from the name.
    code: Mapped[str] = mapped_column(String(60), unique=True)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(20), default="email")
    # SMS and messenger campaigns go out through this webhook subscription (crmpm.webhooks).
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    scheduled_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # What the campaign cost (for its return on cost), in the base currency.
    cost: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    # Messages sent per minute at most.
    rate_per_minute: Mapped[int] = mapped_column(Integer, default=60)
    # Send only to people who consented to the channel (advertising needs prior consent); opt-outs always apply.
    consent_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where leads from responses come in when nothing else says (a branch node); routed by the usual rules.
    region_node_id: Mapped[int | None] = mapped_column(ForeignKey("eps_nodes.id", ondelete="SET NULL"))
    from_name: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    variants: Mapped[list[CampaignVariant]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="CampaignVariant.label")

    def audit_state(self) -> dict:
        return {"name": self.name, "code": self.code, "segment_id": self.segment_id, "channel": self.channel,
                "status": self.status, "scheduled_at": self.scheduled_at, "cost": self.cost,
                "rate_per_minute": self.rate_per_minute, "consent_required": self.consent_required}


class CampaignVariant(Base):
    """One version of a campaign's message (A/B): a subject and body with personal fields, and its share."""

    __tablename__ = "campaign_variants"
    __table_args__ = (UniqueConstraint("campaign_id", "label", name="uq_campaign_variants_campaign_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(10), default="A")
    subject: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[int] = mapped_column(Integer, default=1)

    campaign: Mapped[Campaign] = relationship(back_populates="variants")


class CampaignLink(Base):
    """A link of a campaign's message, sent as a redirect through crmpm so that a click is counted.

    Only these targets are redirected to (no open redirect)."""

    __tablename__ = "campaign_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))


class CampaignMessage(Base):
    """One recipient of a campaign: the variant they got, what happened to the send, and their tracking token."""

    __tablename__ = "campaign_messages"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id", name="uq_campaign_messages_campaign_contact"),
        Index("ix_campaign_messages_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_variants.id", ondelete="SET NULL"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(254), default="")
    # Random, URL-safe: the message's click, unsubscribe and reply links carry it.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    # Why it was not sent (opted out, no consent, no address) or what the server said.
    reason: Mapped[str] = mapped_column(String(500), default="")
    message_id: Mapped[str] = mapped_column(String(300), default="")
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class CampaignResponse(Base):
    """A response to a campaign: a click, a reply, a web form with its code, an unsubscribe; with its lead."""

    __tablename__ = "campaign_responses"
    __table_args__ = (Index("ix_campaign_responses_campaign_kind", "campaign_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_messages.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    link_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_links.id", ondelete="SET NULL"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class WebForm(Base):
    """An embeddable web-to-lead form: the fields it asks, where its leads go, the campaign they count for."""

    __tablename__ = "web_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # The public key in the form's address (/forms/<key>): random, URL-safe.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    # The lead fields asked, in order: [{"name": "contact_name", "required": true, "label": "..."}, ...].
    fields: Mapped[list] = mapped_column(JSON, default=list)
    region_node_id: Mapped[int] = mapped_column(ForeignKey("eps_nodes.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(100), default="web form")
    product: Mapped[str] = mapped_column(String(100), default="")
    thank_you: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="ru")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    submissions: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def audit_state(self) -> dict:
        return {"name": self.name, "fields": self.fields, "region_node_id": self.region_node_id,
                "campaign_id": self.campaign_id, "source": self.source, "is_active": self.is_active}

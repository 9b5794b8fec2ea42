"""Outbound webhooks: subscriptions to domain event types, and the log of their deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crmpm.database import Base, utcnow

DELIVERY_STATUSES = ("pending", "succeeded", "failed", "gave_up")


class Webhook(Base):
    """A user's subscription: events of ``events`` types they may read are POSTed, signed, to ``url``.

    ``secret`` signs each body (HMAC-SHA256), so it is kept; reads show it masked. After
    ``consecutive_failures`` reach the limit (``crmpm.webhooks.services``) the webhook is disabled
    (``active`` false, ``disabled_at``, ``disabled_reason``); a success resets the count.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column()
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def secret_masked(self) -> str:
        """What reads show of the secret: its last four characters at most (none of a short one)."""
        return "****" + (self.secret[-4:] if len(self.secret) >= 16 else "")


class WebhookDelivery(Base):
    """One event for one webhook: its attempts so far and how the last one went.

    ``pending`` (not tried yet, or a replay asked), ``failed`` (tried, a retry at ``next_attempt_at``),
    ``succeeded`` (a 2xx answer), ``gave_up`` (retried for the whole retry window, or its webhook was
    disabled or its owner may no longer read the event). ``response_excerpt`` holds the start of the
    receiver's answer (bounded), ``error`` what went wrong on our side of the wire (never a traceback).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(60))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()

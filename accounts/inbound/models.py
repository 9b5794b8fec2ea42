"""Inbound channels: integrations (a telephony, messenger or e-mail system with its own token) and the events
they delivered, one row per (integration, external id) so that an event sent twice is recorded once."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crmpm.database import Base, utcnow
from crmpm.users.models import User
from eps.models import EpsNode

from accounts.models import Interaction

EXTERNAL_ID_LENGTH = 500  # RFC 5322 allows long Message-IDs; telephony ids are short
URL_LENGTH = 2000


class IntegrationKind(str, enum.Enum):
    telephony = "telephony"
    messenger = "messenger"
    email = "email"


class Integration(Base):
    """A named inbound channel; only a hash of its token is stored, the token is shown once."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IntegrationKind] = mapped_column(Enum(IntegrationKind, name="integration_kind", native_enum=False,
                                                       length=20))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    # Where leads from unknown senders land (and are routed from).
    region_node_id: Mapped[int] = mapped_column(ForeignKey("eps_nodes.id"), index=True)
    # Whose rights and name the records it makes carry: it attaches only to what this user may change.
    acting_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    region_node: Mapped[EpsNode] = relationship()
    acting_user: Mapped[User] = relationship(foreign_keys=[acting_user_id])

    def audit_state(self) -> dict:
        return {"kind": self.kind.value, "name": self.name, "prefix": self.prefix,
                "region_node_id": self.region_node_id, "acting_user_id": self.acting_user_id,
                "is_active": self.is_active}


class InboundEvent(Base):
    """One event an integration delivered (a call, a message, an e-mail) and the interaction it was recorded as."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("integration_id", "external_id", name="uq_inbound_events_integration_external"),
        # Threading: an e-mail's In-Reply-To and References name earlier Message-IDs, of any e-mail integration.
        Index("ix_inbound_events_external_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LENGTH))
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id", ondelete="SET NULL"), index=True)
    # Calls: the exact duration (the interaction keeps whole minutes), the outcome and the recording's address.
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="")
    recording_url: Mapped[str | None] = mapped_column(String(URL_LENGTH))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]

    interaction: Mapped[Interaction | None] = relationship()

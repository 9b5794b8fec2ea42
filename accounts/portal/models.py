"""The client portal's records: client users, the projects shared with clients, approvals and survey requests.

A client user (``users.is_client``) is a contact of one account, invited by staff. What they reach is their
account's EPS node only (the portal's grant, ``PortalUser.account_id``): the projects of that account that staff
shared (``PortalProject``), and nothing above or beside it. Staff pages, the staff API and API tokens refuse
client users altogether (``crmpm.users``); EPS grants never name them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crmpm.database import Base, utcnow
from crmpm.users.models import User

APPROVAL_SUBJECTS = ("milestone", "act")  # a billing milestone, an invoice's act
DECISIONS = ("approved", "rejected")


class PortalUser(Base):
    """A client user: the login of one contact, reaching its account's node (role ``client``)."""

    __tablename__ = "portal_users"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def audit_state(self) -> dict:
        return {"user_id": self.user_id, "contact_id": self.contact_id, "account_id": self.account_id}


class PortalProject(Base):
    """A project staff shared with the clients of its account."""

    __tablename__ = "portal_projects"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    shared_at: Mapped[datetime] = mapped_column(default=utcnow)


class PortalApproval(Base):
    """A client's decision on a billing milestone or an invoice's act: who, when, and why if rejected."""

    __tablename__ = "portal_approvals"
    __table_args__ = (Index("ix_portal_approvals_subject", "subject", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(20))  # milestone | act
    subject_id: Mapped[int] = mapped_column(Integer)  # billing_milestones.id | invoices.id
    decision: Mapped[str] = mapped_column(String(20))  # approved | rejected
    comment: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    def audit_state(self) -> dict:
        return {"project_id": self.project_id, "subject": self.subject, "subject_id": self.subject_id,
                "decision": self.decision, "user_id": self.user_id}


class SurveyRequest(Base):
    """A satisfaction survey (CSAT or NPS) asked of a client, e.g. after a milestone; answered once."""

    __tablename__ = "survey_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"))
    # What it follows: a billing milestone's id when asked after one.
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("billing_milestones.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10), default="csat")  # csat | nps (accounts.models.SurveyKind)
    question: Mapped[str] = mapped_column(String(500), default="")
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("survey_answers.id", ondelete="SET NULL"))

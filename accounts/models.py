"""The CRM records: accounts, contacts, leads, pipelines, deals, interactions, tasks, routing and surveys.

A deal is a project of the EPS seen from the sales side: ``deals.project_id``
points 1:1 at ``projects``, and every account owns an EPS node (under the node
of its branch) where its deal-projects live. Who may see or change a CRM record
is therefore decided by EPS grants on that node: accounts, contacts,
interactions and tasks through their account's node, deals through their
project, leads through the branch node they came in on.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crmpm.database import Base, utcnow
from crmpm.errors import Phrase
from crmpm.users.models import Team, User
from eps.models import EpsNode, Project

NAME_LENGTH = 200
EXTERNAL_ID_LENGTH = 100


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20)


class AccountKind(str, enum.Enum):
    """Where a company stands with us; the contact norms differ (clients four times a year, prospects six)."""

    prospect = "prospect"
    client = "client"
    partner = "partner"
    former = "former"


class StageKind(str, enum.Enum):
    """An open stage of the funnel, or one of the two terminal ones."""

    open = "open"
    won = "won"
    lost = "lost"


class LeadStatus(str, enum.Enum):
    new = "new"
    assigned = "assigned"
    qualified = "qualified"
    disqualified = "disqualified"


# A lead's status as messages name it ("lead 12 is already qualified"), translatable by the pages.
LEAD_STATUS_WORDS = {LeadStatus.new: Phrase("new"), LeadStatus.assigned: Phrase("assigned"),
                     LeadStatus.qualified: Phrase("qualified"), LeadStatus.disqualified: Phrase("disqualified")}


class InteractionKind(str, enum.Enum):
    call = "call"
    email = "email"
    meeting = "meeting"
    messenger = "messenger"
    web_form = "web_form"
    chat = "chat"
    letter = "letter"


class Direction(str, enum.Enum):
    inbound = "inbound"
    outbound = "outbound"


class TaskStatus(str, enum.Enum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class Fairness(str, enum.Enum):
    """How a sales team shares leads among the members still in the running."""

    round_robin = "round_robin"  # least recently assigned first
    least_load = "least_load"  # fewest open leads and deals first


class CapacityPeriod(str, enum.Enum):
    day = "day"
    week = "week"
    month = "month"


class SurveyKind(str, enum.Enum):
    csat = "csat"  # 1..5
    nps = "nps"  # 0..10


class Account(Base):
    """A client company (or a prospect) with its own EPS node under its branch.

    A private client (B2C) is a *person account* (``is_person``): the account of one
    contact, named after that person and kept in step with their name by
    ``accounts.services``, so the person's deals sit in the EPS under an account and
    its branch like any other (rights, budgets and the funnel unchanged).
    """

    __tablename__ = "accounts"
    __table_args__ = (Index("ix_accounts_owner_id", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    tax_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # Details for invoices, acts and the exchange with accounting (КПП, ОГРН, legal address, bank).
    kpp: Mapped[str] = mapped_column(String(9), default="", server_default="")
    ogrn: Mapped[str] = mapped_column(String(15), default="", server_default="")
    legal_address: Mapped[str] = mapped_column(String(500), default="", server_default="")
    bank_name: Mapped[str] = mapped_column(String(NAME_LENGTH), default="", server_default="")
    bank_bik: Mapped[str] = mapped_column(String(9), default="", server_default="")
    bank_account: Mapped[str] = mapped_column(String(20), default="", server_default="")
    bank_corr_account: Mapped[str] = mapped_column(String(20), default="", server_default="")
    kind: Mapped[AccountKind] = mapped_column(_enum(AccountKind, "account_kind"), default=AccountKind.prospect)
    is_person: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sector: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    segment: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    # The branch (region) node the account's own node hangs under.
    region_node_id: Mapped[int] = mapped_column(ForeignKey("eps_nodes.id"), index=True)
    eps_node_id: Mapped[int] = mapped_column(ForeignKey("eps_nodes.id"), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    annual_revenue: Mapped[Decimal | None]
    employees: Mapped[int | None] = mapped_column(Integer)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    eps_node: Mapped[EpsNode] = relationship(foreign_keys=[eps_node_id])
    region_node: Mapped[EpsNode] = relationship(foreign_keys=[region_node_id])
    parent: Mapped[Account | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])

    def audit_state(self) -> dict:
        return {"name": self.name, "tax_id": self.tax_id, "kind": self.kind.value, "sector": self.sector,
                "segment": self.segment, "is_person": self.is_person, "region_node_id": self.region_node_id, "parent_id": self.parent_id,
                "owner_id": self.owner_id, "external_id": self.external_id, "merged_into_id": self.merged_into_id,
                "kpp": self.kpp, "ogrn": self.ogrn, "legal_address": self.legal_address, "bank_name": self.bank_name,
                "bank_bik": self.bank_bik, "bank_account": self.bank_account,
                "bank_corr_account": self.bank_corr_account}


class Contact(Base):
    """A person at an account; email and phone stored normalized so duplicates can be found."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LENGTH), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    last_name: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    # Отчество: Russian names have three parts (accounts.normalize.split_full_name).
    patronymic: Mapped[str] = mapped_column(String(NAME_LENGTH), default="", server_default="")
    title: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    tax_id: Mapped[str | None] = mapped_column(String(32), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    merged_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship()
    # Every phone and e-mail, in the order shown; ``email`` and ``phone`` above are the first of each type.
    channels: Mapped[list[ContactChannel]] = relationship(
        back_populates="contact", cascade="all, delete-orphan",
        order_by="(ContactChannel.type, ContactChannel.position, ContactChannel.id)")

    @property
    def name(self) -> str:
        """First name, patronymic and last name ("Иван Иванович Иванов", "John Smith")."""
        return " ".join(part for part in (self.first_name, self.patronymic, self.last_name) if part)

    def channels_of(self, channel_type: ChannelType) -> list[ContactChannel]:
        """The phones (or e-mails) of the contact, in order."""
        return [channel for channel in self.channels if channel.type is channel_type]

    def audit_state(self) -> dict:
        return {"account_id": self.account_id, "first_name": self.first_name, "last_name": self.last_name,
                "patronymic": self.patronymic, "title": self.title, "email": self.email, "phone": self.phone, "tax_id": self.tax_id,
                "owner_id": self.owner_id, "merged_into_id": self.merged_into_id}


class ChannelType(str, enum.Enum):
    phone = "phone"
    email = "email"


class ChannelKind(str, enum.Enum):
    """Which of a person's numbers or addresses it is."""

    work = "work"
    mobile = "mobile"
    home = "home"
    other = "other"


class ContactChannel(Base):
    """One phone or e-mail of a contact, stored normalized (E.164, lower-cased) so duplicates can be found."""

    __tablename__ = "contact_channels"
    __table_args__ = (
        UniqueConstraint("contact_id", "type", "value", name="uq_contact_channels_contact_type_value"),
        Index("ix_contact_channels_type_value", "type", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    type: Mapped[ChannelType] = mapped_column(_enum(ChannelType, "channel_type"))
    kind: Mapped[ChannelKind] = mapped_column(_enum(ChannelKind, "channel_kind"), default=ChannelKind.work)
    value: Mapped[str] = mapped_column(String(254))
    position: Mapped[int] = mapped_column(Integer, default=0)

    contact: Mapped[Contact] = relationship(back_populates="channels")

    def audit_state(self) -> dict:
        return {"type": self.type.value, "kind": self.kind.value, "value": self.value}

    @classmethod
    def holders(cls, channel_type: ChannelType, value: str):
        """A select of the ids of the contacts with this (normalized) phone or e-mail among theirs."""
        return select(cls.contact_id).where(cls.type == channel_type, cls.value == value)


class Lead(Base):
    """An unqualified inbound request, seen by whoever may read the branch node it came in on."""

    __tablename__ = "leads"
    __table_args__ = (Index("ix_leads_owner_status", "owner_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LENGTH), unique=True)
    region_node_id: Mapped[int] = mapped_column(ForeignKey("eps_nodes.id"), index=True)
    company: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    tax_id: Mapped[str | None] = mapped_column(String(32))
    contact_name: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(100), default="")
    channel: Mapped[str] = mapped_column(String(100), default="")
    product: Mapped[str] = mapped_column(String(100), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[LeadStatus] = mapped_column(_enum(LeadStatus, "lead_status"), default=LeadStatus.new)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"))
    # The campaign it responded to and the web form it came through (accounts.marketing), for attribution.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    web_form_id: Mapped[int | None] = mapped_column(ForeignKey("web_forms.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    qualified_at: Mapped[datetime | None]
    # Why routing left the lead unassigned in the queue: {"at": ISO time, "reasons": [{"template", "params"}]};
    # cleared when someone gets the lead (see accounts.routing.queue_lead).
    routing_reason: Mapped[dict | None] = mapped_column(JSON)

    region_node: Mapped[EpsNode] = relationship()

    def audit_state(self) -> dict:
        return {"company": self.company, "tax_id": self.tax_id, "email": self.email, "phone": self.phone,
                "source": self.source, "channel": self.channel, "product": self.product,
                "status": self.status.value, "owner_id": self.owner_id, "region_node_id": self.region_node_id,
                "account_id": self.account_id, "contact_id": self.contact_id, "deal_id": self.deal_id}


class Pipeline(Base):
    """A sales funnel: ordered open stages, then the terminal won and lost stages."""

    __tablename__ = "pipelines"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    stages: Mapped[list[PipelineStage]] = relationship(back_populates="pipeline", order_by="PipelineStage.position")

    def audit_state(self) -> dict:
        return {"name": self.name, "is_active": self.is_active,
                "stages": [stage.audit_state() for stage in self.stages]}


class PipelineStage(Base):
    """One stage of a pipeline with its default probability (percent)."""

    __tablename__ = "pipeline_stages"
    __table_args__ = (
        UniqueConstraint("pipeline_id", "name", name="uq_pipeline_stages_pipeline_name"),
        CheckConstraint("probability >= 0 AND probability <= 100", name="probability_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    probability: Mapped[int] = mapped_column(Integer)
    kind: Mapped[StageKind] = mapped_column(_enum(StageKind, "stage_kind"), default=StageKind.open)

    pipeline: Mapped[Pipeline] = relationship(back_populates="stages")

    def audit_state(self) -> dict:
        return {"name": self.name, "position": self.position, "probability": self.probability,
                "kind": self.kind.value}


class Deal(Base):
    """The sales side of a project: pipeline, stage, amount, owner, expected close."""

    __tablename__ = "deals"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("probability IS NULL OR (probability >= 0 AND probability <= 100)",
                        name="probability_percent"),
        # The funnel and the board counts group a pipeline's deals by stage from this index alone.
        Index("ix_deals_funnel", "pipeline_id", "stage_id", "reached_stage_id",
              postgresql_include=["amount", "project_id", "opened_stage_id"]),
        # A board column: one stage's deals closing soonest, read in index order.
        Index("ix_deals_board", "pipeline_id", "stage_id", "expected_close", "id"),
        # The board's won and lost columns: the deals closed lately.
        Index("ix_deals_closed", "pipeline_id", "closed_at"),
        Index("ix_deals_owner_id", "owner_id"),
        Index("ix_deals_account_id", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LENGTH), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    # Indexed for a contact's card: the deals naming them (and their stage moves) in its timeline.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("pipeline_stages.id"), index=True)
    # The furthest non-lost stage the deal has reached, kept by the services so the funnel's
    # conversion reads one row per deal instead of replaying every stage history.
    reached_stage_id: Mapped[int | None] = mapped_column(ForeignKey("pipeline_stages.id"))
    # The stage the deal opened in (its first history row): the funnel counts a deal at the stages from
    # here to the one it reached, so an imported deal is not counted at stages nobody saw it in.
    # None (older rows): the pipeline's first open stage.
    opened_stage_id: Mapped[int | None] = mapped_column(ForeignKey("pipeline_stages.id"))
    amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(String(3))
    # None: the stage's default probability applies.
    probability: Mapped[int | None] = mapped_column(Integer)
    expected_close: Mapped[date | None] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    product: Mapped[str] = mapped_column(String(100), default="")
    next_step: Mapped[str] = mapped_column(String(500), default="")
    lost_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stage_entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    budget_set_at: Mapped[datetime | None]
    # The WBS template (a project) the deal's work is planned on: the pipeline's demand for resources
    # (``accounts.capacity_demand``) is its assignments from the expected close on.
    template_project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))

    project: Mapped[Project] = relationship(foreign_keys=[project_id])
    account: Mapped[Account] = relationship()
    pipeline: Mapped[Pipeline] = relationship()
    stage: Mapped[PipelineStage] = relationship(foreign_keys=[stage_id])
    owner: Mapped[User | None] = relationship()
    lines: Mapped[list[DealLine]] = relationship(back_populates="deal", order_by="DealLine.id",
                                                 cascade="all, delete-orphan")

    @property
    def name(self) -> str:
        return self.project.name

    @property
    def code(self) -> str:
        return self.project.code

    @property
    def stage_name(self) -> str:
        return self.stage.name

    @property
    def status(self) -> StageKind:
        """Open, won or lost: the kind of the deal's stage."""
        return self.stage.kind

    @property
    def effective_probability(self) -> int:
        """The deal's own probability if set, else its stage's (``effective_probability`` in SQL)."""
        return self.stage.probability if self.probability is None else self.probability

    def audit_state(self) -> dict:
        return {"project_id": self.project_id, "account_id": self.account_id, "contact_id": self.contact_id,
                "pipeline_id": self.pipeline_id, "stage_id": self.stage_id, "amount": self.amount,
                "currency": self.currency, "probability": self.probability,
                "expected_close": self.expected_close, "owner_id": self.owner_id, "product": self.product,
                "next_step": self.next_step, "lost_reason": self.lost_reason, "external_id": self.external_id,
                "template_project_id": self.template_project_id}


def effective_probability(stage=PipelineStage):
    """``Deal.effective_probability`` in SQL, for a query joined to the deal's stage (``stage``: its alias)."""
    return func.coalesce(Deal.probability, stage.probability)


class DealLine(Base):
    """A product line of a deal."""

    __tablename__ = "deal_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    product: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_price: Mapped[Decimal]

    deal: Mapped[Deal] = relationship(back_populates="lines")


class DealStageChange(Base):
    """One step of a deal through its pipeline (the first row is the stage it was opened in)."""

    __tablename__ = "deal_stage_changes"
    __table_args__ = (Index("ix_deal_stage_changes_deal_at", "deal_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("pipeline_stages.id"))
    to_stage_id: Mapped[int] = mapped_column(ForeignKey("pipeline_stages.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), default="")

    to_stage: Mapped[PipelineStage] = relationship(foreign_keys=[to_stage_id])


class Interaction(Base):
    """One touch of a client: who, when, how, which way, and what was said."""

    __tablename__ = "interactions"
    __table_args__ = (
        CheckConstraint("account_id IS NOT NULL OR lead_id IS NOT NULL", name="account_or_lead"),
        # The account timeline reads one account's touches newest first.
        Index("ix_interactions_account_occurred", "account_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LENGTH), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    kind: Mapped[InteractionKind] = mapped_column(_enum(InteractionKind, "interaction_kind"))
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "interaction_direction"))
    occurred_at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(500), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def audit_state(self) -> dict:
        return {"account_id": self.account_id, "contact_id": self.contact_id, "deal_id": self.deal_id,
                "lead_id": self.lead_id, "kind": self.kind.value, "direction": self.direction.value,
                "occurred_at": self.occurred_at, "user_id": self.user_id, "subject": self.subject}


class Task(Base):
    """Something to do by a date, for an account, a deal or a lead."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("account_id IS NOT NULL OR lead_id IS NOT NULL", name="account_or_lead"),
        Index("ix_tasks_assignee_status_due", "assignee_id", "status", "due_at"),
        Index("ix_tasks_account_id", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LENGTH), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime]
    remind_at: Mapped[datetime | None]
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus, "task_status"), default=TaskStatus.open)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    # The due time for which the ``task.due`` event was recorded (a moved due date records it again).
    due_event_at: Mapped[datetime | None]
    # The reminder time for which the assignee was reminded (a moved reminder reminds again).
    reminded_for: Mapped[datetime | None]

    def audit_state(self) -> dict:
        return {"title": self.title, "account_id": self.account_id, "deal_id": self.deal_id,
                "contact_id": self.contact_id, "lead_id": self.lead_id, "assignee_id": self.assignee_id,
                "due_at": self.due_at, "status": self.status.value}


class RoutingRule(Base):
    """How one sales team receives leads: which leads, capacity, fairness, and its members."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    # Lower first; the first rule with a member in the running wins.
    priority: Mapped[int] = mapped_column(Integer, default=100)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    prefer_account_owner: Mapped[bool] = mapped_column(Boolean, default=True)
    fairness: Mapped[Fairness] = mapped_column(_enum(Fairness, "routing_fairness"), default=Fairness.round_robin)
    capacity: Mapped[int | None] = mapped_column(Integer)
    capacity_period: Mapped[CapacityPeriod] = mapped_column(_enum(CapacityPeriod, "capacity_period"),
                                                            default=CapacityPeriod.day)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team] = relationship()
    members: Mapped[list[RoutingMember]] = relationship(back_populates="rule", order_by="RoutingMember.id",
                                                        cascade="all, delete-orphan")

    def audit_state(self) -> dict:
        return {"name": self.name, "team_id": self.team_id, "priority": self.priority, "is_active": self.is_active,
                "prefer_account_owner": self.prefer_account_owner, "fairness": self.fairness.value,
                "capacity": self.capacity, "capacity_period": self.capacity_period.value,
                "members": [member.audit_state() for member in self.members]}


class RoutingMember(Base):
    """A sales person under a routing rule: territories, products, working hours, own capacity."""

    __tablename__ = "routing_members"
    __table_args__ = (UniqueConstraint("rule_id", "user_id", name="uq_routing_members_rule_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("routing_rules.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # EPS node ids of the branches served (a lead's branch must lie under one); empty: everywhere.
    territories: Mapped[list] = mapped_column(JSON, default=list)
    # Products or skills; empty: everything.
    products: Mapped[list] = mapped_column(JSON, default=list)
    capacity: Mapped[int | None] = mapped_column(Integer)
    # Working hours in the member's time zone, [start, end) hours and ISO weekdays (1 = Monday).
    work_start_hour: Mapped[int] = mapped_column(Integer, default=0)
    work_end_hour: Mapped[int] = mapped_column(Integer, default=24)
    work_days: Mapped[list] = mapped_column(JSON, default=lambda: [1, 2, 3, 4, 5, 6, 7])
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")

    rule: Mapped[RoutingRule] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    def audit_state(self) -> dict:
        return {"user_id": self.user_id, "territories": self.territories, "products": self.products,
                "capacity": self.capacity, "work_start_hour": self.work_start_hour,
                "work_end_hour": self.work_end_hour, "work_days": self.work_days, "timezone": self.timezone}


class Absence(Base):
    """A period a user is away: they receive no leads, and a deputy may hold their deals and tasks."""

    __tablename__ = "absences"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_absences_user_period", "user_id", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    # Set when the open deals and tasks were handed to the deputy, and when they came back.
    handed_over_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deputy_grants: Mapped[list[HandoverGrant]] = relationship(order_by="HandoverGrant.id", viewonly=True)

    def audit_state(self) -> dict:
        return {"user_id": self.user_id, "starts_at": self.starts_at, "ends_at": self.ends_at,
                "deputy_id": self.deputy_id, "reason": self.reason}


class HandoverGrant(Base):
    """A grant the deputy received for an absence, to work what was handed over; revoked when it is given back."""

    __tablename__ = "handover_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    absence_id: Mapped[int] = mapped_column(ForeignKey("absences.id", ondelete="CASCADE"), index=True)
    # Null once the grant is gone (revoked on return, or taken away by a manager meanwhile).
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("grants.id", ondelete="SET NULL"))
    eps_node_id: Mapped[int | None] = mapped_column(ForeignKey("eps_nodes.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class HandoverItem(Base):
    """A deal or task that moved to a deputy for an absence, to be given back when it ends."""

    __tablename__ = "handover_items"
    __table_args__ = (CheckConstraint("(deal_id IS NULL) <> (task_id IS NULL)", name="one_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    absence_id: Mapped[int] = mapped_column(ForeignKey("absences.id", ondelete="CASCADE"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    returned: Mapped[bool] = mapped_column(Boolean, default=False)


class LeadAssignment(Base):
    """Who a lead went to, when, and which rule and step chose them."""

    __tablename__ = "lead_assignments"
    __table_args__ = (Index("ix_lead_assignments_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rules.id", ondelete="SET NULL"))
    # existing_client, round_robin, least_load or manual
    reason: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class SurveyAnswer(Base):
    """A satisfaction answer: CSAT (1-5) or NPS (0-10), about an account and optionally one of its deals."""

    __tablename__ = "survey_answers"
    __table_args__ = (Index("ix_survey_answers_account_at", "account_id", "answered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    kind: Mapped[SurveyKind] = mapped_column(_enum(SurveyKind, "survey_kind"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)

    def audit_state(self) -> dict:
        return {"account_id": self.account_id, "deal_id": self.deal_id, "kind": self.kind.value,
                "score": self.score}


# Partial indexes on EPS tables for the CRM's visibility shortcut: "is anything protected?" is then an
# index probe instead of a scan of every node and project (eps.permissions.reads_everything).
# They belong with the EPS models; kept here until the EPS layer adopts them.
for _table in (EpsNode.__table__, Project.__table__):
    Index(f"ix_{_table.name}_protected", _table.c.protected,
          postgresql_where=_table.c.protected, sqlite_where=_table.c.protected)

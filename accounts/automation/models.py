"""Automation rules of a pipeline and the record of each of their runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmpm.database import Base, utcnow

TRIGGERS = ("deal.entered_stage", "deal.created", "deal.won", "deal.lost", "lead.created", "deal.idle")
RUN_STATUSES = ("pending", "done", "skipped", "failed", "retrying")


class AutomationRule(Base):
    """When something happens to a deal (or a lead) of ``pipeline_id``, do ``actions`` if ``conditions`` hold.

    ``stage_id``: the stage a ``deal.entered_stage`` or ``deal.idle`` rule watches. ``idle_days``: how many
    days without activity in that stage make a deal idle. ``conditions`` and ``actions``: JSON checked
    on save by ``accounts.automation.rules``.
    """

    __tablename__ = "automation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), index=True)
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("pipeline_stages.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[str] = mapped_column(String(30))
    idle_days: Mapped[int | None] = mapped_column(Integer)
    conditions: Mapped[dict] = mapped_column(JSON, default=dict)
    actions: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def audit_state(self) -> dict:
        return {"pipeline_id": self.pipeline_id, "stage_id": self.stage_id, "name": self.name,
                "trigger": self.trigger, "idle_days": self.idle_days, "conditions": self.conditions,
                "actions": self.actions, "active": self.active}


class AutomationRun(Base):
    """One run of a rule for one deal or lead: what each action did, or why the rule did nothing.

    ``run_key`` makes a run once-only per rule: ``event:<id>`` for a run caused by an event (a
    redelivered event finds its run), ``idle:<deal>:<stage entry time>`` for an idle deal (once per
    stage entry).
    """

    __tablename__ = "automation_runs"
    __table_args__ = (
        UniqueConstraint("rule_id", "run_key", name="uq_automation_runs_rule_id_run_key"),
        Index("ix_automation_runs_deal_id", "deal_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("automation_rules.id", ondelete="CASCADE"), index=True)
    run_key: Mapped[str] = mapped_column(String(80))
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    results: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

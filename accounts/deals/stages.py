"""Moving deals through their pipeline: every move kept with its time; a won deal handed over to execution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmpm import audit, events
from crmpm.database import roll_back_savepoint, utcnow
from crmpm.errors import Conflict, CrmpmError, Invalid
from crmpm.users.models import User
from eps import budgets
from eps.models import Project
from eps.permissions import Permission, access_to
from wbs import templates

from accounts.deals import rules
from accounts.models import Deal, DealStageChange, PipelineStage, StageKind
from accounts.permissions import authorize_on

@dataclass(frozen=True)
class WonResult:
    """What handing a won deal over to execution did."""

    budget_set: bool
    note: str
    plan: dict | None = None  # what the WBS template brought, when one was applied


def lock_deal(session: Session, *, deal: Deal) -> Deal:
    """Lock the deal's row until the transaction ends and reload it, so concurrent moves queue one behind another.

    PostgreSQL takes a row lock (``SELECT ... FOR UPDATE``); SQLite has no row
    locks, but its transactions already hold the database's write lock from
    their start (``BEGIN IMMEDIATE``, see ``crmpm.database``).
    """
    # Fetching the row (not just executing) refreshes the loaded object with the values seen under the lock.
    return session.scalars(select(Deal).where(Deal.id == deal.id).with_for_update()
                           .execution_options(populate_existing=True)).one()


def move_stage(session: Session, *, actor: User, deal: Deal, stage: PipelineStage, lost_reason: str | None = None,
               note: str = "", at: datetime | None = None, template: Project | None = None) -> Deal:
    """Move a deal to another stage of its pipeline (edit rights); the move is kept with its time.

    A move to the lost stage needs a reason; a move to the won stage hands the
    deal over to execution (``on_deal_won``, with a WBS ``template`` if given).
    Moving out of a terminal stage reopens it. Concurrent moves of one deal
    queue on its row (``lock_deal``), so the history stays one chain.
    """
    if template is not None and stage.kind is not StageKind.won:
        raise Invalid("a WBS template is applied when a deal is won", errors={"template_project_id": ["only with won"]})
    authorize_on(session, user=actor, obj=deal, governed_by=deal.project, label="deal", permission=Permission.edit)
    lock_deal(session, deal=deal)
    if stage.pipeline_id != deal.pipeline_id:
        raise Invalid("stage {stage_name} belongs to another pipeline than deal {deal_id}'s "
                      "({pipeline_name})",
                      stage_name=stage.name, deal_id=deal.id, pipeline_name=deal.pipeline.name,
                      errors={"stage_id": [f"not a stage of pipeline {deal.pipeline.name}"]})
    if stage.id == deal.stage_id:
        raise Conflict("deal {deal_id} is already in stage {name}",
                       deal_id=deal.id, name=stage.name, errors={"stage_id": ["current stage"]})
    reason = (lost_reason or deal.lost_reason).strip()
    rules.check_lost_reason(stage, reason)
    when = at or utcnow()
    before = deal.audit_state()
    from_stage_id = deal.stage_id
    session.add(DealStageChange(deal_id=deal.id, from_stage_id=deal.stage_id, to_stage_id=stage.id, at=when,
                                actor_id=actor.id, note=note.strip()[:500]))
    deal.stage_id = stage.id
    deal.stage = stage
    deal.stage_entered_at = when
    reached = session.get(PipelineStage, deal.reached_stage_id) if deal.reached_stage_id else None
    furthest = rules.reached_after(reached, stage)
    deal.reached_stage_id = furthest.id if furthest is not None else None
    deal.closed_at = rules.closed_at(stage, when)
    if stage.kind is StageKind.lost:
        deal.lost_reason = reason[:500]
    session.flush()
    audit.record(session, actor=actor, action="move_stage", entity=deal, before=before, after=deal.audit_state())
    events.record(session, "deal.stage_changed", deal,
                  {"from_stage_id": from_stage_id, "to_stage_id": stage.id, "status": stage.kind.value}, actor=actor)
    if stage.kind is StageKind.lost:
        events.record(session, "deal.lost", deal, {"stage_id": stage.id, "reason": deal.lost_reason}, actor=actor)
    if stage.kind is StageKind.won:
        on_deal_won(session, actor=actor, deal=deal, template=template)
    return deal


def on_deal_won(session: Session, *, actor: User, deal: Deal, template: Project | None = None) -> WonResult:
    """Hand a won deal to execution: the project gets its plan from ``template`` and its budget from the amount.

    The template (a stored project: WBS, activities, relationships, calendars) is
    copied into the deal's project; a template that cannot be applied refuses the
    whole move. Without budget rights (or without room in the account's node
    budget) the win stands and the reason is recorded, for finance to set the
    budget later. The handover happens once, at the deal's first win: a deal
    reopened and won again repeats nothing (a template then is a Conflict).
    """
    earlier = first_win(session, deal=deal, before_latest=True)
    if earlier is not None:
        # The handover belongs to the first win: a deal reopened and won again keeps the plan and the
        # budget it got then (finance may have changed the budget since).
        if template is not None:
            raise Conflict("deal {deal_id} was handed over to execution when it was first won ({at}); "
                           "a WBS template is applied only then",
                           deal_id=deal.id, at=earlier, errors={"template_project_id": ["already handed over"]})
        result = WonResult(budget_set=False, note="won again: handed over at the first win, nothing repeated")
        audit.record(session, actor=actor, action="won", entity=deal,
                     after={"amount": deal.amount, "budget_set": False, "note": result.note,
                            "template_project_id": None, "plan": None, "first_won_at": earlier})
        _record_won(session, actor=actor, deal=deal, result=result, first=False)
        return result
    plan = None
    if template is not None:
        plan = templates.apply_template(session, actor=actor, template=template, project=deal.project)
    access = access_to(session, user=actor, obj=deal.project)
    if not access.can(Permission.budget):
        result = WonResult(budget_set=False, note="no budget rights: the project budget is left to finance")
    else:
        savepoint = session.begin_nested()
        try:
            budgets.set_original(session, actor=actor, obj=deal.project, amount=deal.amount)
            savepoint.commit()
        except CrmpmError as exc:
            roll_back_savepoint(savepoint)
            result = WonResult(budget_set=False, note=f"budget not set: {exc.message}")
        else:
            deal.budget_set_at = utcnow()
            session.flush()
            result = WonResult(budget_set=True, note=f"project budget set to {deal.amount}")
    if plan is not None:
        result = WonResult(budget_set=result.budget_set, note=result.note, plan=plan)
    audit.record(session, actor=actor, action="won", entity=deal,
                 after={"amount": deal.amount, "budget_set": result.budget_set, "note": result.note,
                        "template_project_id": template.id if template else None, "plan": plan})
    _record_won(session, actor=actor, deal=deal, result=result, first=True)
    return result


def _record_won(session: Session, *, actor: User, deal: Deal, result: WonResult, first: bool) -> None:
    """``deal.won``: its stage, amount and project; whether this was its first win and the budget set."""
    events.record(session, "deal.won", deal,
                  {"stage_id": deal.stage_id, "amount": deal.amount, "project_id": deal.project_id,
                   "first_win": first, "budget_set": result.budget_set}, actor=actor)


def first_win(session: Session, *, deal: Deal, before_latest: bool = False) -> datetime | None:
    """When the deal first entered a won stage, or None; ``before_latest`` leaves its latest move out."""
    query = (select(DealStageChange.at).join(PipelineStage, PipelineStage.id == DealStageChange.to_stage_id)
             .where(DealStageChange.deal_id == deal.id, PipelineStage.kind == StageKind.won))
    if before_latest:
        latest = select(func.max(DealStageChange.id)).where(DealStageChange.deal_id == deal.id).scalar_subquery()
        query = query.where(DealStageChange.id != latest)
    return session.scalar(query.order_by(DealStageChange.at, DealStageChange.id).limit(1))


def stage_history(session: Session, *, deal: Deal) -> list[DealStageChange]:
    """The deal's stage moves, oldest first."""
    return list(session.scalars(select(DealStageChange).where(DealStageChange.deal_id == deal.id)
                                .order_by(DealStageChange.at, DealStageChange.id)))


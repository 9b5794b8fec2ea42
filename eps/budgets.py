"""Budgets down the EPS and costs up it, in Primavera P6's terms.

current = original + approved changes; proposed = current + pending changes;
distributed = the sum of the children's current budgets; undistributed =
current - distributed. No change may leave a parent's undistributed amount
negative, nor a budget below what it has already distributed.

Every change to a current budget locks the rows it reads, ancestors before
descendants (a single global order, so concurrent requests queue instead of
deadlocking), and re-reads them after the lock, which keeps the invariant under
concurrent requests on PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from crmpm import audit, events
from crmpm.database import utcnow
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound, Phrase
from crmpm.users.models import User
from eps.models import BudgetChange, ChangeStatus, EpsNode, Project, SpendingPlanEntry
from eps.permissions import Permission, authorize, visible

ZERO = Decimal("0.00")

__all__ = [
    "BudgetFigures", "approve_change", "check_room_for_move", "figures", "figures_of_many", "list_changes",
    "reject_change", "request_change", "set_original", "set_spending_plan", "spending_plan",
]


@dataclass(frozen=True)
class BudgetFigures:
    """The budget and cost figures of one node or project."""

    original: Decimal
    approved_changes: Decimal
    current: Decimal
    pending_changes: Decimal
    proposed: Decimal
    distributed: Decimal
    undistributed: Decimal
    planned_cost: Decimal
    actual_cost: Decimal

    @property
    def variance(self) -> Decimal:
        """Current budget less planned cost: what is left if the plan holds (negative: over budget)."""
        return self.current - self.planned_cost


def _owner_filter(model, obj):
    if isinstance(obj, EpsNode):
        return model.eps_node_id == obj.id
    return model.project_id == obj.id


def _parent_of(session: Session, obj) -> EpsNode | None:
    parent_id = obj.parent_id if isinstance(obj, EpsNode) else obj.eps_node_id
    return session.get(EpsNode, parent_id) if parent_id is not None else None


def _lock(session: Session, objs) -> None:
    for obj in sorted(objs, key=lambda o: (o.depth, o.kind, o.id)):
        model = type(obj)
        # Fetching the row (not just executing) is what refreshes the loaded object with the locked values.
        session.scalars(
            select(model).where(model.id == obj.id).with_for_update().execution_options(populate_existing=True)
        ).one()


def distributed(session: Session, *, obj) -> Decimal:
    """The sum of the current budgets of the direct children of ``obj``."""
    if isinstance(obj, Project):
        return ZERO
    nodes = session.scalar(
        select(func.coalesce(func.sum(EpsNode.current_budget), ZERO)).where(EpsNode.parent_id == obj.id))
    projects = session.scalar(
        select(func.coalesce(func.sum(Project.current_budget), ZERO)).where(Project.eps_node_id == obj.id))
    return Decimal(nodes) + Decimal(projects)


def figures(session: Session, *, obj) -> BudgetFigures:
    """The P6 budget figures and cost rollups of a node or project."""
    return figures_of_many(session, [obj])[(obj.kind, obj.id)]


def figures_of_many(session: Session, objs) -> dict[tuple[str, int], BudgetFigures]:
    """``figures`` of many nodes and projects at once, keyed by ``(kind, id)``, in a fixed number of queries.

    For pages that list many rows (the budget tree): change sums, distributed
    amounts and cost rollups are each one grouped query over all of ``objs``,
    whatever their number, instead of four queries per row.
    """
    nodes = [obj for obj in objs if isinstance(obj, EpsNode)]
    projects = [obj for obj in objs if isinstance(obj, Project)]
    node_ids, project_ids = [n.id for n in nodes], [p.id for p in projects]
    changes: dict[tuple[str, int], dict[ChangeStatus, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    given: dict[int, Decimal] = defaultdict(lambda: ZERO)
    costs: dict[int, tuple[Decimal, Decimal]] = {}
    for kind, column, ids in (("node", BudgetChange.eps_node_id, node_ids),
                              ("project", BudgetChange.project_id, project_ids)):
        if ids:
            for owner_id, status, amount in session.execute(
                    select(column, BudgetChange.status, func.coalesce(func.sum(BudgetChange.amount), ZERO))
                    .where(column.in_(ids)).group_by(column, BudgetChange.status)):
                changes[(kind, owner_id)][status] = Decimal(amount)
    if node_ids:
        for model, column in ((EpsNode, EpsNode.parent_id), (Project, Project.eps_node_id)):
            for parent_id, amount in session.execute(
                    select(column, func.coalesce(func.sum(model.current_budget), ZERO))
                    .where(column.in_(node_ids)).group_by(column)):
                given[parent_id] += Decimal(amount)
        # One statement, one indexed prefix scan per node (a LIKE on a column pattern could not use the index).
        per_node = [
            select(literal(node.id).label("node_id"), func.coalesce(func.sum(Project.planned_cost), ZERO),
                   func.coalesce(func.sum(Project.actual_cost), ZERO)).where(Project.path.like(f"{node.path}%"))
            for node in nodes]
        for node_id, planned, actual in session.execute(union_all(*per_node)):
            costs[node_id] = (Decimal(planned), Decimal(actual))
    result = {}
    for obj in objs:
        key = (obj.kind, obj.id)
        sums = changes[key]
        if isinstance(obj, EpsNode):
            distributed_amount = given[obj.id]
            planned, actual = costs.get(obj.id, (ZERO, ZERO))
        else:
            distributed_amount = ZERO
            planned, actual = obj.planned_cost, obj.actual_cost
        current = obj.current_budget
        result[key] = BudgetFigures(
            original=obj.original_budget,
            approved_changes=sums[ChangeStatus.approved],
            current=current,
            pending_changes=sums[ChangeStatus.pending],
            proposed=current + sums[ChangeStatus.pending],
            distributed=distributed_amount,
            undistributed=current - distributed_amount,
            planned_cost=planned,
            actual_cost=actual,
        )
    return result


def _label(obj) -> Phrase:
    if isinstance(obj, EpsNode):
        return Phrase("EPS node {code}", code=obj.code)
    return Phrase("project {code}", code=obj.code)


# A change's status as messages name it.
_STATUS_WORDS = {ChangeStatus.pending: Phrase("pending"), ChangeStatus.approved: Phrase("approved"),
                 ChangeStatus.rejected: Phrase("rejected")}


def _shift_current(session: Session, *, obj, delta: Decimal) -> None:
    """Add ``delta`` to the current budget of ``obj`` if the tree's invariants allow it."""
    parent = _parent_of(session, obj)
    _lock(session, [obj, parent] if parent is not None else [obj])
    new_current = obj.current_budget + delta
    if new_current < ZERO:
        raise Conflict("the current budget of {target} would become negative ({new_current})",
                       target=_label(obj), new_current=new_current,
                       errors={"amount": [f"current budget is {obj.current_budget}"]})
    if delta < ZERO:
        given = distributed(session, obj=obj)
        if new_current < given:
            raise Conflict(
                "{target} has distributed {given} to its children; its current budget "
                "cannot go down to {new_current}", target=_label(obj), given=given, new_current=new_current,
                errors={"amount": [f"at most {obj.current_budget - given} can be taken away"]})
    if delta > ZERO and parent is not None:
        available = parent.current_budget - distributed(session, obj=parent)
        if delta > available:
            raise Conflict(
                "parent {parent} has {available} undistributed; {delta} was asked for {target}",
                parent=_label(parent), available=available, delta=delta, target=_label(obj),
                errors={"amount": [f"parent {parent.code} has {available} available, {delta} asked"]})
    obj.current_budget = new_current
    session.flush()


def check_room_for_move(session: Session, *, obj, new_parent: EpsNode) -> None:
    """Refuse a move that would take more budget into ``new_parent`` than it has undistributed."""
    _lock(session, [new_parent, obj])
    if obj.current_budget <= ZERO:
        return
    available = new_parent.current_budget - distributed(session, obj=new_parent)
    if obj.current_budget > available:
        raise Conflict(
            "parent {parent} has {available} undistributed; moving {target} brings {current_budget}",
            parent=_label(new_parent), available=available, target=_label(obj), current_budget=obj.current_budget,
            errors={"parent_id": [f"{new_parent.code} has {available} available, {obj.current_budget} needed"]})


def set_original(session: Session, *, actor: User, obj, amount: Decimal) -> BudgetFigures:
    """Set the original budget (budget rights); the current budget moves with it."""
    authorize(session, user=actor, obj=obj, permission=Permission.budget)
    if amount < ZERO:
        raise Invalid("a budget cannot be negative", errors={"original_budget": ["must not be negative"]})
    before = {"original_budget": obj.original_budget, "current_budget": obj.current_budget}
    _shift_current(session, obj=obj, delta=amount - obj.original_budget)
    obj.original_budget = amount
    session.flush()
    audit.record(session, actor=actor, action="set_budget", entity=obj, before=before,
                 after={"original_budget": obj.original_budget, "current_budget": obj.current_budget})
    return figures(session, obj=obj)


def request_change(session: Session, *, actor: User, obj, amount: Decimal, reason: str) -> BudgetChange:
    """Log a pending budget change (budget or manage rights)."""
    access = authorize(session, user=actor, obj=obj, permission=Permission.read)
    if not (access.can(Permission.budget) or access.can(Permission.manage)):
        raise Forbidden("budget or manage rights on {target} are needed to request a budget change",
                        target=_label(obj))
    if amount == ZERO:
        raise Invalid("a budget change of zero changes nothing", errors={"amount": ["must not be zero"]})
    change = BudgetChange(amount=amount, reason=reason, status=ChangeStatus.pending, requested_by_id=actor.id,
                          eps_node_id=obj.id if isinstance(obj, EpsNode) else None,
                          project_id=obj.id if isinstance(obj, Project) else None)
    session.add(change)
    session.flush()
    audit.record(session, actor=actor, action="request", entity=change, after=change.audit_state())
    events.record(session, "budget.change_requested", change,
                  {"eps_node_id": change.eps_node_id, "project_id": change.project_id, "amount": change.amount},
                  actor=actor)
    return change


def get_change_or_raise(session: Session, *, user: User, change_id: int, obj=None) -> BudgetChange:
    """The change, if ``user`` may read its node or project (and it belongs to ``obj`` when given)."""
    change = session.get(BudgetChange, change_id)
    if change is None or (obj is not None and change.target is not obj):
        raise NotFound("budget change {change_id} not found", change_id=change_id)
    try:
        authorize(session, user=user, obj=change.target, permission=Permission.read)
    except NotFound:
        raise NotFound("budget change {change_id} not found", change_id=change_id) from None
    return change


def _decide(session: Session, *, actor: User, change: BudgetChange, status: ChangeStatus, note: str,
            four_eyes: bool) -> BudgetChange:
    obj = change.target
    authorize(session, user=actor, obj=obj, permission=Permission.budget)
    if four_eyes and change.requested_by_id == actor.id and not actor.is_admin:
        raise Forbidden("a budget change must be decided by someone other than its requester")
    # The change row is locked first, so two approvals of one change cannot both pass.
    session.scalars(select(BudgetChange).where(BudgetChange.id == change.id).with_for_update()
                    .execution_options(populate_existing=True)).one()
    if change.status is not ChangeStatus.pending:
        raise Conflict("budget change {change_id} is already {status}",
                       change_id=change.id, status=_STATUS_WORDS[change.status])
    before = change.audit_state()
    if status is ChangeStatus.approved:
        _shift_current(session, obj=obj, delta=change.amount)
    change.status = status
    change.decided_by_id = actor.id
    change.decided_at = utcnow()
    change.decision_note = note
    session.flush()
    action = "approve" if status is ChangeStatus.approved else "reject"
    audit.record(session, actor=actor, action=action, entity=change, before=before, after=change.audit_state())
    events.record(session, "budget.change_decided", change,
                  {"decision": status.value, "amount": change.amount, "eps_node_id": change.eps_node_id,
                   "project_id": change.project_id, "requested_by_id": change.requested_by_id}, actor=actor)
    return change


def approve_change(session: Session, *, actor: User, change: BudgetChange, note: str = "",
                   four_eyes: bool = True) -> BudgetChange:
    """Approve a pending change (budget rights); the current budget moves by its amount."""
    return _decide(session, actor=actor, change=change, status=ChangeStatus.approved, note=note,
                   four_eyes=four_eyes)


def reject_change(session: Session, *, actor: User, change: BudgetChange, note: str = "",
                  four_eyes: bool = True) -> BudgetChange:
    """Reject a pending change (budget rights)."""
    return _decide(session, actor=actor, change=change, status=ChangeStatus.rejected, note=note,
                   four_eyes=four_eyes)


def list_changes(session: Session, *, user: User, obj=None, status: ChangeStatus | None = None):
    """A select of budget changes, newest first: of one node or project, or all ``user`` may read."""
    query = select(BudgetChange).order_by(BudgetChange.id.desc())
    if obj is not None:
        query = query.where(_owner_filter(BudgetChange, obj))
    elif not user.is_admin:
        node, project = aliased(EpsNode), aliased(Project)
        query = (
            query.outerjoin(node, BudgetChange.eps_node_id == node.id)
            .outerjoin(project, BudgetChange.project_id == project.id)
            .where(or_(
                and_(BudgetChange.eps_node_id.is_not(None), visible(session, user=user, model=node)),
                and_(BudgetChange.project_id.is_not(None), visible(session, user=user, model=project)),
            ))
        )
    if status is not None:
        query = query.where(BudgetChange.status == status)
    return query


# Spending plans


@dataclass(frozen=True)
class PlanMonth:
    """One month of a spending plan, beside the tally of the children's plans."""

    month: date
    amount: Decimal
    tally: Decimal


@dataclass(frozen=True)
class SpendingPlan:
    """A node's or project's monthly spending plan with its children's tally."""

    months: list[PlanMonth]
    total: Decimal
    tally_total: Decimal
    unscheduled: Decimal  # current budget not yet spread over months


def spending_plan(session: Session, *, obj) -> SpendingPlan:
    """The monthly plan of ``obj`` and, per month, the sum of its direct children's plans."""
    own = dict(session.execute(
        select(SpendingPlanEntry.month, SpendingPlanEntry.amount).where(_owner_filter(SpendingPlanEntry, obj))
    ).all())
    tally: dict[date, Decimal] = defaultdict(lambda: ZERO)
    if isinstance(obj, EpsNode):
        child_nodes = select(EpsNode.id).where(EpsNode.parent_id == obj.id)
        child_projects = select(Project.id).where(Project.eps_node_id == obj.id)
        rows = session.execute(
            select(SpendingPlanEntry.month, func.sum(SpendingPlanEntry.amount))
            .where(or_(SpendingPlanEntry.eps_node_id.in_(child_nodes),
                       SpendingPlanEntry.project_id.in_(child_projects)))
            .group_by(SpendingPlanEntry.month)
        ).all()
        for month, amount in rows:
            tally[month] = Decimal(amount)
    months = sorted(set(own) | set(tally))
    lines = [PlanMonth(month=m, amount=own.get(m, ZERO), tally=tally.get(m, ZERO)) for m in months]
    total = sum((line.amount for line in lines), ZERO)
    return SpendingPlan(months=lines, total=total, tally_total=sum((line.tally for line in lines), ZERO),
                        unscheduled=obj.current_budget - total)


def set_spending_plan(session: Session, *, actor: User, obj, entries: dict[date, Decimal]) -> SpendingPlan:
    """Replace the monthly plan of ``obj`` (budget rights); months are first days, amounts not negative."""
    authorize(session, user=actor, obj=obj, permission=Permission.budget)
    for month, amount in entries.items():
        if month.day != 1:
            raise Invalid("plan month {month} is not the first day of a month",
                          month=month, errors={"months": [str(month)]})
        if amount < ZERO:
            raise Invalid("plan amount for {month:%Y-%m} is negative",
                          month=month, errors={"months": [f"{month:%Y-%m}"]})
    old = session.scalars(select(SpendingPlanEntry).where(_owner_filter(SpendingPlanEntry, obj))).all()
    before = {f"{entry.month:%Y-%m}": entry.amount for entry in old}
    for entry in old:
        session.delete(entry)
    session.flush()
    for month, amount in sorted(entries.items()):
        session.add(SpendingPlanEntry(month=month, amount=amount,
                                      eps_node_id=obj.id if isinstance(obj, EpsNode) else None,
                                      project_id=obj.id if isinstance(obj, Project) else None))
    session.flush()
    audit.record(session, actor=actor, action="set_spending_plan", entity=obj, before=before,
                 after={f"{month:%Y-%m}": amount for month, amount in sorted(entries.items())})
    return spending_plan(session, obj=obj)


def set_project_costs(session: Session, *, project: Project, planned: Decimal, actual: Decimal) -> None:
    """Store the planned and actual cost a project's WBS rolls up to (derived figures, not audited)."""
    project.planned_cost = planned
    project.actual_cost = actual
    session.flush()

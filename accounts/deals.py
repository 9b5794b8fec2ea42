"""Deals: the sales side of EPS projects. Opening, changing, moving through the pipeline, winning.

Each deal is created together with its project (``eps.services.create_project``
under the account's node), so whoever may see the project sees the deal. Every
stage move is kept in ``deal_stage_changes`` with its time; a won deal hands
over to execution through ``on_deal_won``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, select, text, type_coerce
from sqlalchemy.orm import Session, aliased, selectinload

from crmpm import audit
from crmpm.database import Money, bulk_insert, utcnow
from crmpm.errors import Conflict, CrmpmError, Invalid, NotFound
from crmpm.search import contains
from crmpm.users.models import User
from eps import budgets
from eps import services as eps_services
from eps.models import Project
from eps.permissions import Permission, access_to
from wbs import templates

from accounts.models import (
    Account, Contact, Deal, DealLine, DealStageChange, Pipeline, PipelineStage, StageKind, effective_probability,
)
from accounts.permissions import authorize_on, deal_visible
from accounts.pipelines import first_open_stage

ZERO = Decimal("0.00")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
DEAL_FIELDS = ("amount", "currency", "probability", "expected_close", "product", "next_step", "lost_reason")


def get_deal_or_raise(session: Session, *, user: User, deal_id: int, permission: Permission = Permission.read,
                      field: str | None = None) -> Deal:
    """The deal, if ``user`` has ``permission`` on its project; NotFound (naming ``field``) when absent or unreadable."""
    deal = session.get(Deal, deal_id)
    if deal is None:
        raise NotFound("deal {deal_id} not found", deal_id=deal_id, errors={field: ["not found"]} if field else None)
    try:
        authorize_on(session, user=user, obj=deal, governed_by=deal.project, label="deal", permission=permission)
    except NotFound:
        raise NotFound("deal {deal_id} not found",
                       deal_id=deal_id, errors={field: ["not found"]} if field else None) from None
    return deal


def list_deals(session: Session, *, user: User, pipeline_id: int | None = None, stage_id: int | None = None,
               account_id: int | None = None, owner_id: int | None = None, status: StageKind | None = None,
               search: str | None = None, missing_next_step: bool = False, sort: str | None = None) -> Select:
    """A select of the deals ``user`` may read, newest first (or by ``sort``, one of ``DEAL_SORTS``), filtered."""
    query = select(Deal).order_by(*_deal_order(sort))
    readable = deal_visible(session, user=user)
    if readable is not None:
        query = query.where(readable)
    if pipeline_id is not None:
        query = query.where(Deal.pipeline_id == pipeline_id)
    if stage_id is not None:
        query = query.where(Deal.stage_id == stage_id)
    if account_id is not None:
        query = query.where(Deal.account_id == account_id)
    if owner_id is not None:
        query = query.where(Deal.owner_id == owner_id)
    if status is not None or missing_next_step:
        query = query.join(PipelineStage, PipelineStage.id == Deal.stage_id)
        if status is not None:
            query = query.where(PipelineStage.kind == status)
    if missing_next_step:
        from accounts.models import Task, TaskStatus

        open_task = select(Task.id).where(Task.deal_id == Deal.id, Task.status == TaskStatus.open).exists()
        query = query.where(PipelineStage.kind == StageKind.open, Deal.next_step == "", ~open_task)
    if search and search.strip():
        # An alias, so the visibility test's own reference to projects stays correlated to the deal.
        named = aliased(Project)
        query = query.join(named, named.id == Deal.project_id).where(contains([named.name, named.code], search))
    return query


# Sort keys of the deal list; a leading "-" reverses; ties fall back to the newest first.
DEAL_SORTS = ("created", "amount", "expected_close", "name", "stage")


def _deal_order(sort: str | None) -> list:
    key = (sort or "").lstrip("-")
    if key not in DEAL_SORTS:
        return [Deal.id.desc()]
    descending = (sort or "").startswith("-")
    column = {
        "created": Deal.created_at,
        "amount": Deal.amount,
        "expected_close": Deal.expected_close,
        "name": select(Project.name).where(Project.id == Deal.project_id).scalar_subquery(),
        "stage": select(PipelineStage.position).where(PipelineStage.id == Deal.stage_id).scalar_subquery(),
    }[key]
    ordered = column.desc().nulls_last() if descending else column.asc().nulls_last()
    return [ordered, Deal.id.desc()]


def _check_values(*, amount: Decimal | None = None, currency: str | None = None, probability: int | None = None,
                  owner: User | None = None, contact: Contact | None = None, account: Account | None = None) -> None:
    if amount is not None and amount < ZERO:
        raise Invalid("a deal amount cannot be negative", errors={"amount": ["must not be negative"]})
    if currency is not None and not CURRENCY_RE.match(currency):
        raise Invalid("{currency!r} is not an ISO 4217 currency code",
                      currency=currency, errors={"currency": ["three capital letters"]})
    if probability is not None and not 0 <= probability <= 100:
        raise Invalid("probability is a percent", errors={"probability": ["between 0 and 100"]})
    if owner is not None and not owner.is_active:
        raise Invalid("user {email} is inactive", email=owner.email, errors={"owner_id": ["inactive user"]})
    if contact is not None and account is not None and contact.account_id != account.id:
        raise Invalid("contact {contact_id} is not at account {name}",
                      contact_id=contact.id, name=account.name,
                      errors={"contact_id": ["belongs to another account"]})


def _lines(lines: list[dict]) -> list[DealLine]:
    made = []
    for index, line in enumerate(lines):
        quantity, price = Decimal(line.get("quantity", 1)), Decimal(line["unit_price"])
        if quantity <= 0 or price < ZERO:
            raise Invalid("line {number}: quantity must be positive and price not negative", number=index + 1,
                          errors={"lines": {index: ["positive quantity, price not negative"]}})
        made.append(DealLine(product=str(line["product"]).strip()[:100], quantity=quantity, unit_price=price))
    return made


def _lines_total(lines: list[DealLine]) -> Decimal:
    return sum((line.quantity * line.unit_price for line in lines), ZERO).quantize(Decimal("0.01"))


def create_deal(session: Session, *, actor: User, account: Account, name: str, pipeline: Pipeline,
                stage: PipelineStage | None = None, amount: Decimal | None = None, currency: str = "RUB",
                probability: int | None = None, expected_close: date | None = None, owner: User | None = None,
                contact: Contact | None = None, product: str = "", next_step: str = "",
                lines: list[dict] | None = None, code: str | None = None, project: Project | None = None,
                external_id: str | None = None, created_at: datetime | None = None,
                closed_at: datetime | None = None, lost_reason: str = "") -> Deal:
    """Open a deal at ``account``: its project is created under the account's node (edit rights there).

    An existing ``project`` under the account's node may be given instead (the
    sales record of a project that began in the EPS). ``created_at`` and
    ``closed_at`` let an importer keep the history of closed deals.
    """
    authorize_on(session, user=actor, obj=account, governed_by=account.eps_node, label="account",
                 permission=Permission.edit)
    if not pipeline.is_active:
        raise Invalid("pipeline {name} is inactive",
                      name=pipeline.name, errors={"pipeline_id": ["inactive pipeline"]})
    stage = stage if stage is not None else first_open_stage(pipeline)
    if stage.pipeline_id != pipeline.id:
        raise Invalid("stage {stage_name} is not a stage of pipeline {pipeline_name}",
                      stage_name=stage.name, pipeline_name=pipeline.name,
                      errors={"stage_id": [f"not a stage of pipeline {pipeline.name}"]})
    made_lines = _lines(lines or [])
    if amount is None:
        amount = _lines_total(made_lines)
    _check_values(amount=amount, currency=currency, probability=probability, owner=owner, contact=contact,
                  account=account)
    if stage.kind is StageKind.lost and not lost_reason.strip():
        raise Invalid("a lost deal needs a reason", errors={"lost_reason": ["required for the lost stage"]})
    if external_id is not None and session.scalar(select(Deal.id).where(Deal.external_id == external_id)):
        raise Conflict("a deal with external id {external_id!r} exists",
                       external_id=external_id, errors={"external_id": ["already in use"]})
    if project is None:
        project = eps_services.create_project(session, actor=actor, code=code or f"D-{secrets.token_hex(5).upper()}",
                                              name=name.strip(), eps_node=account.eps_node)
    else:
        authorize_on(session, user=actor, obj=project, governed_by=project, label="project",
                     permission=Permission.edit)
        if project.eps_node_id != account.eps_node_id:
            raise Invalid("project {code} is not under the node of account {name}",
                          code=project.code, name=account.name,
                          errors={"project_id": ["not under the account's node"]})
        if session.scalar(select(Deal.id).where(Deal.project_id == project.id)) is not None:
            raise Conflict("project {code} already has a deal",
                           code=project.code, errors={"project_id": ["already a deal"]})
    opened = created_at or utcnow()
    deal = Deal(project_id=project.id, account_id=account.id, contact_id=contact.id if contact else None,
                pipeline_id=pipeline.id, stage_id=stage.id, amount=amount, currency=currency,
                probability=probability, expected_close=expected_close, owner_id=owner.id if owner else None,
                product=product.strip(), next_step=next_step.strip(), lost_reason=lost_reason.strip(),
                external_id=external_id, created_at=opened, stage_entered_at=closed_at or opened,
                closed_at=(closed_at or opened) if stage.kind is not StageKind.open else None)
    deal.lines = made_lines
    session.add(deal)
    session.flush()
    history = [(None, stage, opened)]
    if stage.kind is not StageKind.open and closed_at is not None and closed_at > opened:
        # An imported closed deal: it opened in the first stage and closed later, so cycle lengths stay right.
        first = first_open_stage(pipeline)
        history = [(None, first, opened), (first, stage, closed_at)]
    reached = [to_stage for _from, to_stage, _at in history if to_stage.kind is not StageKind.lost]
    deal.reached_stage_id = max(reached, key=lambda s: s.position).id if reached else first_open_stage(pipeline).id
    for from_stage, to_stage, at in history:
        session.add(DealStageChange(deal_id=deal.id, from_stage_id=from_stage.id if from_stage else None,
                                    to_stage_id=to_stage.id, at=at, actor_id=actor.id))
    session.flush()
    audit.record(session, actor=actor, action="create", entity=deal, after=deal.audit_state())
    return deal


def update_deal(session: Session, *, actor: User, deal: Deal, **changes) -> Deal:
    """Change a deal's sales fields, owner, contact, name or lines (edit rights on its project)."""
    authorize_on(session, user=actor, obj=deal, governed_by=deal.project, label="deal", permission=Permission.edit)
    before = deal.audit_state()
    if "name" in changes:
        name = changes.pop("name").strip()
        if name != deal.project.name:
            eps_services.update_project(session, actor=actor, project=deal.project, name=name)
    if "owner" in changes:
        owner = changes.pop("owner")
        _check_values(owner=owner)
        deal.owner_id = owner.id if owner else None
    if "contact" in changes:
        contact = changes.pop("contact")
        _check_values(contact=contact, account=deal.account)
        deal.contact_id = contact.id if contact else None
    if "lines" in changes:
        deal.lines = _lines(changes.pop("lines") or [])
        if "amount" not in changes:
            deal.amount = _lines_total(deal.lines)
    unknown = set(changes) - set(DEAL_FIELDS)
    if unknown:
        raise Invalid("unknown deal fields {fields}",
                      fields=sorted(unknown), errors={key: ["unknown field"] for key in unknown})
    _check_values(amount=changes.get("amount"), currency=changes.get("currency"),
                  probability=changes.get("probability"))
    for key, value in changes.items():
        setattr(deal, key, value.strip() if isinstance(value, str) and key != "currency" else value)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=deal, before=before, after=deal.audit_state())
    return deal


def upsert_deal(session: Session, *, actor: User, external_id: str, account: Account, name: str,
                pipeline: Pipeline, stage: PipelineStage | None = None, **fields) -> tuple[Deal, bool]:
    """The deal with ``external_id``, updated (and moved to ``stage``), or a new one; True when created."""
    deal = session.scalar(select(Deal).where(Deal.external_id == external_id))
    if deal is None:
        return create_deal(session, actor=actor, account=account, name=name, pipeline=pipeline, stage=stage,
                           external_id=external_id, **fields), True
    fields.pop("created_at", None)
    closed_at = fields.pop("closed_at", None)
    lost_reason = fields.get("lost_reason", "")
    changed = {key: value for key, value in fields.items()
               if key in DEAL_FIELDS and getattr(deal, key) != value}
    if name.strip() != deal.project.name:
        changed["name"] = name
    if changed:
        update_deal(session, actor=actor, deal=deal, **changed)
    if stage is not None and stage.id != deal.stage_id:
        move_stage(session, actor=actor, deal=deal, stage=stage, lost_reason=lost_reason or None, at=closed_at)
    return deal, False


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
    if stage.kind is StageKind.lost and not (lost_reason or deal.lost_reason).strip():
        raise Invalid("a lost deal needs a reason", errors={"lost_reason": ["required for the lost stage"]})
    when = at or utcnow()
    before = deal.audit_state()
    session.add(DealStageChange(deal_id=deal.id, from_stage_id=deal.stage_id, to_stage_id=stage.id, at=when,
                                actor_id=actor.id, note=note.strip()[:500]))
    deal.stage_id = stage.id
    deal.stage = stage
    deal.stage_entered_at = when
    reached = session.get(PipelineStage, deal.reached_stage_id) if deal.reached_stage_id else None
    if stage.kind is not StageKind.lost and (reached is None or stage.position > reached.position):
        deal.reached_stage_id = stage.id
    if stage.kind is StageKind.open:
        deal.closed_at = None
    else:
        deal.closed_at = when
    if stage.kind is StageKind.lost:
        deal.lost_reason = (lost_reason or deal.lost_reason).strip()[:500]
    session.flush()
    audit.record(session, actor=actor, action="move_stage", entity=deal, before=before, after=deal.audit_state())
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
            savepoint.rollback()
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
    return result


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


@dataclass(frozen=True)
class BoardColumn:
    """One stage of the pipeline board: how many deals, their value and weighted value, and the first of them."""

    stage: PipelineStage
    count: int
    value: Decimal
    deals: list[Deal]
    weighted: Decimal = ZERO  # sum of amount × probability (the deal's own, else the stage's)


def _board_where(session: Session, *, user: User, pipeline: Pipeline, owner_id: int | None,
                 search: str | None) -> list:
    where = [Deal.pipeline_id == pipeline.id]
    readable = deal_visible(session, user=user)
    if readable is not None:
        where.append(readable)
    if owner_id is not None:
        where.append(Deal.owner_id == owner_id)
    if search and search.strip():
        named = aliased(Project)
        where.append(select(named.id).where(named.id == Deal.project_id,
                                            contains([named.name, named.code], search)).exists())
    return where


def _column_query(stage: PipelineStage, where: list, since: datetime) -> Select:
    # A card shows the deal's name, account and owner: loaded with the column, not one query per card.
    query = (select(Deal).where(*where, Deal.stage_id == stage.id)
             .options(selectinload(Deal.project), selectinload(Deal.account), selectinload(Deal.owner)))
    if stage.kind is StageKind.open:
        return query.order_by(Deal.expected_close.asc().nulls_last(), Deal.id)
    return query.where(Deal.closed_at >= since).order_by(Deal.closed_at.desc(), Deal.id)


def board(session: Session, *, user: User, pipeline: Pipeline, per_stage: int = 20, owner_id: int | None = None,
          closed_days: int = 30, now: datetime | None = None, search: str | None = None) -> list[BoardColumn]:
    """The pipeline board: every open deal by stage (closing soonest first) and those won or lost lately.

    Open columns count all their deals; the won and lost columns only the deals
    closed in the last ``closed_days`` (most recent first), as on a sales board
    the closed ones are news for a while, then history (the funnel has them all).
    ``search`` keeps the deals whose name or code holds it.
    """
    where = _board_where(session, user=user, pipeline=pipeline, owner_id=owner_id, search=search)
    since = (now or utcnow()) - timedelta(days=closed_days)
    open_ids = [stage.id for stage in pipeline.stages if stage.kind is StageKind.open]
    closed_ids = [stage.id for stage in pipeline.stages if stage.kind is not StageKind.open]
    probability = effective_probability()
    count_columns = (Deal.stage_id, func.count(), func.coalesce(func.sum(Deal.amount), ZERO),
                     type_coerce(func.coalesce(func.sum(Deal.amount * probability), 0), Money()))
    grouped = select(*count_columns).join(PipelineStage, PipelineStage.id == Deal.stage_id)
    totals = {stage_id: (count, value, weighted) for stage_id, count, value, weighted in session.execute(
        grouped.where(*where, Deal.stage_id.in_(open_ids)).group_by(Deal.stage_id))}
    totals.update({stage_id: (count, value, weighted) for stage_id, count, value, weighted in session.execute(
        grouped.where(*where, Deal.closed_at >= since, Deal.stage_id.in_(closed_ids)).group_by(Deal.stage_id))})
    columns = []
    for stage in pipeline.stages:
        count, value, weighted = totals.get(stage.id, (0, ZERO, ZERO))
        top = []
        if count and per_stage:
            # One short query per column walks an index in order and stops after ``per_stage`` rows.
            top = list(session.scalars(_column_query(stage, where, since).limit(per_stage)))
        columns.append(BoardColumn(stage=stage, count=count, value=Decimal(value), deals=top,
                                   weighted=(Decimal(weighted) / 100).quantize(Decimal("0.01"))))
    return columns


def board_column(session: Session, *, user: User, stage: PipelineStage, offset: int = 0, limit: int = 20,
                 owner_id: int | None = None, closed_days: int = 30, now: datetime | None = None,
                 search: str | None = None) -> list[Deal]:
    """The next ``limit`` deals of one board column after the first ``offset`` (in the board's order)."""
    where = _board_where(session, user=user, pipeline=stage.pipeline, owner_id=owner_id, search=search)
    since = (now or utcnow()) - timedelta(days=closed_days)
    return list(session.scalars(_column_query(stage, where, since).limit(limit).offset(offset)))


# Bulk creation, for imports: the checks of create_deal per deal, then a few statements per batch.


@dataclass(frozen=True)
class NewDeal:
    """A deal checked by ``check_new_deal``, ready for ``create_deals``."""

    account: Account
    name: str
    stage: PipelineStage
    amount: Decimal
    currency: str
    expected_close: date | None
    owner: User | None
    contact: Contact | None
    product: str
    lost_reason: str
    external_id: str | None
    created_at: datetime | None
    closed_at: datetime | None


def check_new_deal(session: Session, *, actor: User, account: Account, name: str, pipeline: Pipeline,
                   stage: PipelineStage | None = None, amount: Decimal | None = None, currency: str = "RUB",
                   expected_close: date | None = None, owner: User | None = None, contact: Contact | None = None,
                   product: str = "", lost_reason: str = "", external_id: str | None = None,
                   created_at: datetime | None = None, closed_at: datetime | None = None,
                   rights: dict | None = None) -> NewDeal:
    """Check a new deal as ``create_deal`` does, without writing; raises the same errors.

    ``rights`` caches the edit check per account across a batch. The caller makes
    sure ``external_id`` is not taken (an import preloads them).
    """
    rights = {} if rights is None else rights
    if account.id not in rights:
        try:
            authorize_on(session, user=actor, obj=account, governed_by=account.eps_node, label="account",
                         permission=Permission.edit)
            rights[account.id] = None
        except CrmpmError as exc:
            rights[account.id] = exc
    if rights[account.id] is not None:
        refused = rights[account.id]
        raise type(refused)(refused.template, errors=refused.errors, **refused.params)
    if not pipeline.is_active:
        raise Invalid("pipeline {name} is inactive",
                      name=pipeline.name, errors={"pipeline_id": ["inactive pipeline"]})
    stage = stage if stage is not None else first_open_stage(pipeline)
    if stage.pipeline_id != pipeline.id:
        raise Invalid("stage {stage_name} is not a stage of pipeline {pipeline_name}",
                      stage_name=stage.name, pipeline_name=pipeline.name,
                      errors={"stage_id": [f"not a stage of pipeline {pipeline.name}"]})
    amount = ZERO if amount is None else amount
    _check_values(amount=amount, currency=currency, owner=owner, contact=contact, account=account)
    if stage.kind is StageKind.lost and not lost_reason.strip():
        raise Invalid("a lost deal needs a reason", errors={"lost_reason": ["required for the lost stage"]})
    return NewDeal(account=account, name=name.strip(), stage=stage, amount=amount, currency=currency,
                   expected_close=expected_close, owner=owner, contact=contact, product=product.strip(),
                   lost_reason=lost_reason.strip(), external_id=external_id, created_at=created_at,
                   closed_at=closed_at)


def create_deals(session: Session, *, actor: User, pipeline: Pipeline, new: list[NewDeal]) -> list[int]:
    """Insert checked deals with their projects, stage histories and audit entries; returns the deal ids.

    The same rows ``create_deal`` writes, one deal at a time, but as a handful of
    multi-row statements: an import of 100,000 deals would otherwise spend minutes
    in round trips. The deals' account nodes should be loaded beforehand.
    """
    if not new:
        return []
    first = first_open_stage(pipeline)
    now = utcnow()
    nodes = [deal.account.eps_node for deal in new]
    codes = [f"D-{secrets.token_hex(5).upper()}" for _deal in new]
    # Ids taken up front, so a project's path is written with it and plain multi-row INSERTs suffice.
    project_ids = _allocate_ids(session, Project, len(new))
    bulk_insert(session, Project.__table__, [
        {"id": project_id, "code": code, "name": deal.name, "eps_node_id": node.id,
         "path": f"{node.path}p{project_id}/", "depth": node.depth + 1, "protected": False,
         "protect_path": node.protect_path, "description": ""}
        for deal, node, code, project_id in zip(new, nodes, codes, project_ids)])
    rows, histories = [], []
    for deal, project_id in zip(new, project_ids):
        opened = deal.created_at or now
        history = [(None, deal.stage, opened)]
        if deal.stage.kind is not StageKind.open and deal.closed_at is not None and deal.closed_at > opened:
            history = [(None, first, opened), (first, deal.stage, deal.closed_at)]
        reached = [to_stage for _from, to_stage, _at in history if to_stage.kind is not StageKind.lost]
        rows.append({
            "project_id": project_id, "account_id": deal.account.id,
            "contact_id": deal.contact.id if deal.contact else None, "pipeline_id": pipeline.id,
            "stage_id": deal.stage.id, "amount": deal.amount, "currency": deal.currency, "probability": None,
            "expected_close": deal.expected_close, "owner_id": deal.owner.id if deal.owner else None,
            "product": deal.product, "next_step": "", "lost_reason": deal.lost_reason,
            "external_id": deal.external_id, "created_at": opened,
            "stage_entered_at": deal.closed_at or opened,
            "closed_at": (deal.closed_at or opened) if deal.stage.kind is not StageKind.open else None,
            "reached_stage_id": (max(reached, key=lambda s: s.position) if reached else first).id,
        })
        histories.append(history)
    deal_ids = _allocate_ids(session, Deal, len(rows))
    for row, deal_id in zip(rows, deal_ids):
        row["id"] = deal_id
    bulk_insert(session, Deal.__table__, rows)
    bulk_insert(session, DealStageChange.__table__, [
        {"deal_id": deal_id, "from_stage_id": from_stage.id if from_stage else None, "to_stage_id": to_stage.id,
         "at": at, "actor_id": actor.id, "note": ""}
        for deal_id, history in zip(deal_ids, histories) for from_stage, to_stage, at in history])
    # One entry per deal, naming its project (project_id, and the code below): the project is part of the deal.
    audit.record_many(session, actor=actor, action="create", entity_type="deals", entries=[
        (row["id"], None, {key: value for key, value in row.items()
                           if key not in ("id", "created_at", "stage_entered_at", "closed_at", "reached_stage_id")}
         | {"project_code": code})
        for row, code in zip(rows, codes)])
    return list(deal_ids)


def _allocate_ids(session: Session, model, count: int) -> list[int]:
    """``count`` fresh primary keys of ``model``: from its sequence on PostgreSQL, after the largest on SQLite.

    SQLite transactions hold the write lock from their start (BEGIN IMMEDIATE), so
    nobody else can take the ids between this read and the insert.
    """
    table = model.__tablename__
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                                         "FROM generate_series(1, :count)"), {"count": count}))
    start = (session.scalar(select(func.max(model.id))) or 0) + 1
    return list(range(start, start + count))

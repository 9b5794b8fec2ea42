"""Opening deals: one at a time (``create_deal``) or a batch at a time (``create_deals``, for imports).

Both take the same road: ``check_new_deal`` checks a deal against the rules
(``accounts.deals.rules``), ``_opening`` turns it into the deal's row and its
opening stage history, and the project comes from ``eps.services`` (its path
built there, with the fixed-width segment of every project). ``create_deal``
writes the result through the ORM; ``create_deals`` writes a batch as a handful
of multi-row statements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from crmpm import audit, events
from crmpm.database import bulk_insert, utcnow
from crmpm.errors import Conflict, CrmpmError, Invalid
from crmpm.users.models import User
from eps import services as eps_services
from eps.models import Project
from eps.permissions import Permission

from accounts.deals import rules
from accounts.models import Account, Contact, Deal, DealLine, DealStageChange, Pipeline, PipelineStage
from accounts.permissions import authorize_on
from accounts.pipelines import first_open_stage


@dataclass(frozen=True)
class NewDeal:
    """A deal checked by ``check_new_deal``, ready for ``create_deal`` or ``create_deals``."""

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
    probability: int | None = None
    next_step: str = ""
    lines: list[DealLine] = field(default_factory=list)


def check_new_deal(session: Session, *, actor: User, account: Account, name: str, pipeline: Pipeline,
                   stage: PipelineStage | None = None, amount: Decimal | None = None, currency: str = "RUB",
                   probability: int | None = None, expected_close: date | None = None, owner: User | None = None,
                   contact: Contact | None = None, product: str = "", next_step: str = "",
                   lines: list[dict] | None = None, lost_reason: str = "", external_id: str | None = None,
                   created_at: datetime | None = None, closed_at: datetime | None = None,
                   rights: dict | None = None) -> NewDeal:
    """Check a new deal against the rules without writing it (edit rights on the account's node needed).

    ``rights`` caches the edit check per account across a batch. The caller makes
    sure ``external_id`` is not taken (``create_deal`` looks; an import preloads them).
    """
    _authorize(session, actor=actor, account=account, rights=rights)
    stage = stage if stage is not None else first_open_stage(pipeline)
    rules.check_stage_of(stage, pipeline)
    made_lines = rules.make_lines(lines or [])
    amount = rules.lines_total(made_lines) if amount is None else amount
    rules.check_values(amount=amount, currency=currency, probability=probability, owner=owner, contact=contact,
                       account=account)
    rules.check_lost_reason(stage, lost_reason)
    return NewDeal(account=account, name=name.strip(), stage=stage, amount=amount, currency=currency,
                   expected_close=expected_close, owner=owner, contact=contact, product=product.strip(),
                   lost_reason=lost_reason.strip(), external_id=external_id, created_at=created_at,
                   closed_at=closed_at, probability=probability, next_step=next_step.strip(), lines=made_lines)


def _authorize(session: Session, *, actor: User, account: Account, rights: dict | None) -> None:
    if rights is None:
        authorize_on(session, user=actor, obj=account, governed_by=account.eps_node, label="account",
                     permission=Permission.edit)
        return
    if account.id not in rights:
        try:
            _authorize(session, actor=actor, account=account, rights=None)
            rights[account.id] = None
        except CrmpmError as exc:
            rights[account.id] = exc
    if rights[account.id] is not None:
        refused = rights[account.id]
        raise type(refused)(refused.template, errors=refused.errors, **refused.params)


def _opening(new: NewDeal, *, pipeline: Pipeline, first: PipelineStage, now: datetime) -> tuple[dict, rules.History]:
    """The ``deals`` row of a new deal (without ids) and the stage history it opens with."""
    opened = new.created_at or now
    history = rules.opening_history(stage=new.stage, opened=opened, closed=new.closed_at)
    entered = new.closed_at or opened
    row = {
        "account_id": new.account.id, "contact_id": new.contact.id if new.contact else None,
        "pipeline_id": pipeline.id, "stage_id": new.stage.id, "amount": new.amount, "currency": new.currency,
        "probability": new.probability, "expected_close": new.expected_close,
        "owner_id": new.owner.id if new.owner else None, "product": new.product, "next_step": new.next_step,
        "lost_reason": new.lost_reason, "external_id": new.external_id, "created_at": opened,
        "stage_entered_at": entered, "closed_at": rules.closed_at(new.stage, entered),
        "reached_stage_id": rules.reached_at_opening(history, first=first).id,
        "opened_stage_id": new.stage.id,
    }
    return row, history


def _history_rows(deal_id: int, history: rules.History, actor: User) -> list[dict]:
    return [{"deal_id": deal_id, "from_stage_id": from_stage.id if from_stage else None, "to_stage_id": to_stage.id,
             "at": at, "actor_id": actor.id, "note": ""} for from_stage, to_stage, at in history]


def _new_code(session: Session, name: str) -> str:
    """The code of a deal's new project, made from the deal's name (``crmpm.codes``)."""
    return eps_services.unused_code(session, model=Project, name=name, fallback="D")


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
    new = check_new_deal(session, actor=actor, account=account, name=name, pipeline=pipeline, stage=stage,
                         amount=amount, currency=currency, probability=probability, expected_close=expected_close,
                         owner=owner, contact=contact, product=product, next_step=next_step, lines=lines,
                         lost_reason=lost_reason, external_id=external_id, created_at=created_at,
                         closed_at=closed_at)
    if external_id is not None and session.scalar(select(Deal.id).where(Deal.external_id == external_id)):
        raise Conflict("a deal with external id {external_id!r} exists",
                       external_id=external_id, errors={"external_id": ["already in use"]})
    project = _project_of(session, actor=actor, new=new, code=code, project=project)
    project.is_deal = True
    row, history = _opening(new, pipeline=pipeline, first=first_open_stage(pipeline), now=utcnow())
    deal = Deal(project=project, **row)  # the deal holds its project (see accounts.services.create_account)
    deal.lines = new.lines
    session.add(deal)
    session.flush()
    session.add_all(DealStageChange(**change) for change in _history_rows(deal.id, history, actor))
    session.flush()
    audit.record(session, actor=actor, action="create", entity=deal, after=deal.audit_state())
    events.record(session, "deal.created", deal, _created_facts({"project_id": project.id, **row}, new.stage),
                  actor=actor)
    return deal


def _created_facts(row: dict, stage: PipelineStage) -> dict:
    """The payload of ``deal.created`` from the deal's row (``_opening``, with its project id)."""
    return {"account_id": row["account_id"], "project_id": row["project_id"], "pipeline_id": row["pipeline_id"],
            "stage_id": row["stage_id"], "status": stage.kind.value, "owner_id": row["owner_id"],
            "contact_id": row["contact_id"], "amount": row["amount"], "currency": row["currency"]}


def _project_of(session: Session, *, actor: User, new: NewDeal, code: str | None,
                project: Project | None) -> Project:
    """A new project for the deal under its account's node, or the given one once it may carry the deal."""
    account = new.account
    if project is None:
        return eps_services.create_project(session, actor=actor, code=code or _new_code(session, new.name),
                                           name=new.name,
                                           eps_node=account.eps_node)
    authorize_on(session, user=actor, obj=project, governed_by=project, label="project", permission=Permission.edit)
    if project.eps_node_id != account.eps_node_id:
        raise Invalid("project {code} is not under the node of account {name}",
                      code=project.code, name=account.name, errors={"project_id": ["not under the account's node"]})
    if session.scalar(select(Deal.id).where(Deal.project_id == project.id)) is not None:
        raise Conflict("project {code} already has a deal",
                       code=project.code, errors={"project_id": ["already a deal"]})
    return project


def create_deals(session: Session, *, actor: User, pipeline: Pipeline, new: list[NewDeal]) -> list[int]:
    """Insert checked deals with their projects, stage histories and audit entries; returns the deal ids.

    The same rows ``create_deal`` writes, one deal at a time, but as a handful of
    multi-row statements: an import of 100,000 deals would otherwise spend minutes
    in round trips. The deals' account nodes should be loaded beforehand.
    """
    if not new:
        return []
    first, now = first_open_stage(pipeline), utcnow()
    codes = eps_services.unused_codes(session, model=Project, names=[deal.name for deal in new], fallback="D")
    # Ids taken up front, so a project's path is written with it and plain multi-row INSERTs suffice.
    project_ids = _allocate_ids(session, Project, len(new))
    bulk_insert(session, Project.__table__, [
        eps_services.new_project_row(project_id=project_id, code=code, name=deal.name,
                                     eps_node=deal.account.eps_node) | {"is_deal": True}
        for deal, code, project_id in zip(new, codes, project_ids)])
    openings = [_opening(deal, pipeline=pipeline, first=first, now=now) for deal in new]
    deal_ids = _allocate_ids(session, Deal, len(new))
    rows = [{"id": deal_id, "project_id": project_id, **row}
            for deal_id, project_id, (row, _history) in zip(deal_ids, project_ids, openings)]
    bulk_insert(session, Deal.__table__, rows)
    bulk_insert(session, DealStageChange.__table__, [
        change for deal_id, (_row, history) in zip(deal_ids, openings)
        for change in _history_rows(deal_id, history, actor)])
    bulk_insert(session, DealLine.__table__, [
        {"deal_id": deal_id, "product": line.product, "quantity": line.quantity, "unit_price": line.unit_price}
        for deal_id, deal in zip(deal_ids, new) for line in deal.lines])
    # One entry per deal, naming its project (project_id, and the code below): the project is part of the deal.
    audit.record_many(session, actor=actor, action="create", entity_type="deals", entries=[
        (row["id"], None, {key: value for key, value in row.items()
                           if key not in ("id", "created_at", "stage_entered_at", "closed_at", "reached_stage_id")}
         | {"project_code": code})
        for row, code in zip(rows, codes)])
    events.record_many(session, "deal.created", [(("deals", row["id"]), _created_facts(row, deal.stage))
                                                 for row, deal in zip(rows, new)], actor=actor)
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

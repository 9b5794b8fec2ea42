"""Finding deals: one by id with its access check, and the filtered, sorted list of those a user may read."""

from __future__ import annotations

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.util import ClauseAdapter

from crmpm.errors import NotFound
from crmpm.search import contains
from crmpm.rows import fetch_all
from crmpm.statements import PAGE_PARAMETERS, built_once, derived_once
from crmpm.users.models import User
from eps.models import Project
from eps.permissions import Permission

from accounts.models import Deal, DealLine, PipelineStage, StageKind, Task, TaskStatus, effective_probability
from accounts.permissions import authorize_on, deal_visible

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
    filters = (deal_visible(session, user=user), pipeline_id, stage_id, account_id, owner_id, status,
               missing_next_step, sort if (sort or "").lstrip("-") in DEAL_SORTS else None)
    if search and search.strip():
        return _deals_select.__wrapped__(*filters, search)
    return _deals_select(*filters, None)


@built_once
def _deals_select(readable, pipeline_id: int | None, stage_id: int | None, account_id: int | None,
                  owner_id: int | None, status: StageKind | None, missing_next_step: bool, sort: str | None,
                  search: str | None) -> Select:
    query = select(Deal).order_by(*_deal_order(sort))
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



# A page of deals as lists show them, read as rows: a deal's own columns, its project's code and name and
# what its stage tells of it (under the names ``Deal``'s properties give them), then its product lines, one
# row per line (a deal without lines on one row of its own). One statement, as the ORM's joined loading
# would send, without building a deal, its project, stage and lines as objects (which cost a list more
# than its statement).
_LINE_COLUMNS = (DealLine.id, DealLine.product, DealLine.quantity, DealLine.unit_price)


def deal_page(session: Session, query: Select, window: dict, *, sort: str | None = None) -> list[dict]:
    """One page of ``query`` (deals as ``list_deals`` selects them, sorted by ``sort``), ``window`` giving
    ``crmpm.statements.PAGE_PARAMETERS``, as dicts of what ``DealReadSchema`` dumps, lines under ``lines``."""
    statement = _deal_page_statement(query, sort)
    width = len(statement.selected_columns) - len(_LINE_COLUMNS)
    keys = [column.key for column in statement.selected_columns]
    deals: list[dict] = []
    for row in fetch_all(session, statement, window):
        if not deals or deals[-1]["id"] != row[0]:
            deals.append({**dict(zip(keys[:width], row[:width])), "lines": []})
        if row[width] is not None:
            deals[-1]["lines"].append({column.key: value for column, value in zip(_LINE_COLUMNS, row[width:])})
    return deals


@derived_once
def _deal_page_statement(query: Select, sort: str | None) -> Select:
    project, stage = aliased(Project), aliased(PipelineStage)
    page = (query.join(project, project.id == Deal.project_id).join(stage, stage.id == Deal.stage_id)
            .with_only_columns(*Deal.__table__.columns, project.code.label("code"), project.name.label("name"),
                               stage.name.label("stage_name"), stage.kind.label("status"),
                               effective_probability(stage).label("effective_probability"))
            .limit(bindparam(PAGE_PARAMETERS[0])).offset(bindparam(PAGE_PARAMETERS[1])).subquery("page"))
    # The page's order again outside it, on its rows: the sort's references to the deal read the page's columns.
    on_page = ClauseAdapter(page, include_fn=lambda element: getattr(element, "table", None) is Deal.__table__)
    lines = aliased(DealLine)
    return (select(*page.c, *(getattr(lines, column.key) for column in _LINE_COLUMNS))
            .outerjoin(lines, lines.deal_id == page.c.id)
            .order_by(*(on_page.traverse(clause) for clause in _deal_order(sort)), lines.id))

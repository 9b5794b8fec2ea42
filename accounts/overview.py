"""The account manager's work lists: accounts with their figures, the lead inbox, satisfaction and counts.

Read models only: each returns a select (or a few numbers) filtered in SQL by
the same visibility rules as ``services.list_accounts``, ``leads.list_leads``
and ``deals.list_deals``, so a page built on them shows what the API would.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Float, Select, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from crmpm.database import utcnow
from crmpm.search import contains
from crmpm.users.models import User, team_members
from eps.models import EpsNode, Project

from accounts.automation.models import AutomationRun
from accounts.models import (
    Account, AccountKind, Contact, Deal, Interaction, Lead, LeadAssignment, LeadStatus, PipelineStage, RoutingRule,
    StageKind, SurveyAnswer, SurveyKind, Task, TaskStatus,
)
from accounts.permissions import deal_visible, readable_account_ids
from accounts.leads import list_leads
from accounts.activities import list_tasks

__all__ = ["ACCOUNT_SORTS", "LEAD_SCOPES", "LEAD_SLA", "account_rows", "lead_age", "lead_inbox", "lead_sources",
           "open_lead_count", "overdue_task_count", "satisfaction_totals", "subaccounts", "task_worklist",
           "timeline_objects", "upcoming_tasks"]

ACCOUNT_SORTS = ("name", "open_amount", "open_deals", "last_touch")
LEAD_SCOPES = ("mine", "team", "queue", "all")
OPEN_LEAD = (LeadStatus.new, LeadStatus.assigned)


def account_rows(session: Session, *, user: User, search: str | None = None, kind: AccountKind | None = None,
                 owner_id: int | None = None, sort: str = "name", descending: bool = False) -> Select:
    """A select of the readable accounts as rows ``(Account, owner name, branch name, branch code, open deals,
    open amount, last interaction at)``; the deal figures count only the deals ``user`` may read.

    ``search`` matches the name, the tax id (INN) or the code of the account's EPS node.
    The figures are correlated subqueries, computed for the rows of a page only
    unless the list is sorted by them.
    """
    owner = aliased(User)
    region = aliased(EpsNode)
    own_node = aliased(EpsNode)
    def open_deals(figure):
        query = (select(figure).select_from(Deal).join(PipelineStage, PipelineStage.id == Deal.stage_id)
                 .where(Deal.account_id == Account.id, PipelineStage.kind == StageKind.open))
        readable_deal = deal_visible(session, user=user)
        return query if readable_deal is None else query.where(readable_deal)

    open_count = open_deals(func.count(Deal.id)).scalar_subquery().label("open_deals")
    open_amount = open_deals(func.coalesce(func.sum(Deal.amount), 0)).scalar_subquery().label("open_amount")
    last_touch = (select(func.max(Interaction.occurred_at)).where(Interaction.account_id == Account.id)
                  .scalar_subquery().label("last_touch"))
    query = (select(Account, owner.name.label("owner_name"), region.name.label("branch_name"),
                    region.code.label("branch_code"), open_count, open_amount, last_touch)
             .outerjoin(owner, owner.id == Account.owner_id)
             .join(region, region.id == Account.region_node_id)
             .where(Account.merged_into_id.is_(None)))
    readable = readable_account_ids(session, user=user)
    if readable is not None:
        query = query.where(Account.id.in_(readable))
    if search and search.strip():
        text = search.strip()
        # Codes are kept as typed (mostly upper case); equality keeps the unique index on them usable.
        codes = select(own_node.id).where(own_node.code.in_({text, text.upper()}))
        query = query.where(or_(contains([Account.name], text), Account.tax_id == text,
                                Account.eps_node_id.in_(codes)))
    if kind is not None:
        query = query.where(Account.kind == kind)
    if owner_id is not None:
        query = query.where(Account.owner_id == owner_id)
    column = {"open_amount": open_amount, "open_deals": open_count, "last_touch": last_touch}.get(sort)
    if column is None:
        order = [func.lower(Account.name).desc() if descending else func.lower(Account.name)]
    else:
        order = [column.desc().nulls_last() if descending else column.asc().nulls_first()]
    return query.order_by(*order, Account.id)


def subaccounts(session: Session, *, user: User, account: Account) -> Select:
    """A select of the readable, unmerged accounts whose parent is ``account``, by name."""
    query = select(Account).where(Account.parent_id == account.id, Account.merged_into_id.is_(None))
    readable = readable_account_ids(session, user=user)
    if readable is not None:
        query = query.where(Account.id.in_(readable))
    return query.order_by(Account.name, Account.id)


def satisfaction_totals(session: Session, *, account_ids: list[int]) -> dict:
    """CSAT (mean 1-5) and NPS (% promoters minus % detractors) over all answers about these accounts.

    The caller has been authorized on the accounts.
    """
    rows = session.execute(
        select(SurveyAnswer.kind, func.count(), cast(func.avg(SurveyAnswer.score), Float),
               func.sum(case((SurveyAnswer.score >= 9, 1), else_=0)),
               func.sum(case((SurveyAnswer.score <= 6, 1), else_=0)))
        .where(SurveyAnswer.account_id.in_(account_ids)).group_by(SurveyAnswer.kind)).all()
    totals = {"csat": None, "csat_answers": 0, "nps": None, "nps_answers": 0}
    for kind, count, average, promoters, detractors in rows:
        if kind is SurveyKind.csat:
            totals["csat"], totals["csat_answers"] = round(average, 2), count
        else:
            totals["nps"], totals["nps_answers"] = round(100 * (promoters - detractors) / count, 1), count
    return totals


def _team_mates(user: User) -> Select:
    mine = select(team_members.c.team_id).where(team_members.c.user_id == user.id)
    return select(team_members.c.user_id).where(team_members.c.team_id.in_(mine))


def lead_inbox(session: Session, *, user: User, scope: str = "mine", status: LeadStatus | None = None,
               source: str | None = None, open_only: bool = False, search: str | None = None) -> Select:
    """The lead inbox as rows ``(Lead, owner name, last assignment, its rule's name, branch name)``.

    ``scope``: ``mine`` (routed to ``user``), ``team`` (to anyone in ``user``'s
    teams, or to nobody yet), ``queue`` (new leads nobody has yet: routing found
    no one, ``Lead.routing_reason`` says why) or ``all`` (every lead ``user`` may
    read). ``search``: as ``list_leads``'s. Open leads first, newest first.
    """
    last = aliased(LeadAssignment)
    newest = (select(func.max(LeadAssignment.id)).where(LeadAssignment.lead_id == Lead.id)
              .correlate(Lead).scalar_subquery())
    owner = aliased(User)
    region = aliased(EpsNode)
    query = list_leads(session, user=user, status=status, source=source or None, search=search).order_by(None)
    query = (query.add_columns(owner.name.label("owner_name"), last, RoutingRule.name.label("rule_name"),
                               region.name.label("branch_name"))
             .outerjoin(owner, owner.id == Lead.owner_id)
             .outerjoin(last, last.id == newest)
             .outerjoin(RoutingRule, RoutingRule.id == last.rule_id)
             .join(region, region.id == Lead.region_node_id))
    if scope == "mine":
        query = query.where(Lead.owner_id == user.id)
    elif scope == "team":
        query = query.where(or_(Lead.owner_id.in_(_team_mates(user)), Lead.owner_id == user.id,
                                and_(Lead.owner_id.is_(None), Lead.status == LeadStatus.new)))
    elif scope == "queue":
        query = query.where(Lead.owner_id.is_(None), Lead.status == LeadStatus.new)
    if open_only:
        query = query.where(Lead.status.in_(OPEN_LEAD))
    waiting = case((Lead.status.in_(OPEN_LEAD), 0), else_=1)
    return query.order_by(waiting, Lead.created_at.desc(), Lead.id.desc())


def open_lead_count(session: Session, *, user: User) -> int:
    """How many open leads (new or assigned, not yet qualified or dropped) are routed to ``user``."""
    query = list_leads(session, user=user, owner_id=user.id).where(Lead.status.in_(OPEN_LEAD)).order_by(None)
    return session.scalar(select(func.count()).select_from(query.subquery()))


def overdue_task_count(session: Session, *, user: User, now: datetime | None = None) -> int:
    """How many of ``user``'s open tasks are past due."""
    query = list_tasks(session, user=user, assignee_id=user.id, overdue=True, now=now or utcnow()).order_by(None)
    return session.scalar(select(func.count()).select_from(query.subquery()))


def task_worklist(session: Session, *, user: User, done: bool = False) -> Select:
    """``user``'s own tasks as rows ``(Task, account name, deal id, deal name)``: open ones soonest due first
    (so the overdue come first), or done ones latest first. A deal ``user`` may not read stays unnamed.
    """
    status = TaskStatus.done if done else TaskStatus.open
    query = list_tasks(session, user=user, assignee_id=user.id, status=status)
    deal_on = [Deal.id == Task.deal_id]
    readable_deal = deal_visible(session, user=user)
    if readable_deal is not None:
        deal_on.append(readable_deal)
    # An alias, so the visibility test's own reference to projects stays correlated to the deal.
    named = aliased(Project)
    query = (query.add_columns(Account.name.label("account_name"), Deal.id.label("deal_id"),
                               named.name.label("deal_name"))
             .outerjoin(Account, Account.id == Task.account_id)
             .outerjoin(Deal, and_(*deal_on))
             .outerjoin(named, named.id == Deal.project_id))
    if done:
        query = query.order_by(None).order_by(Task.completed_at.desc(), Task.id.desc())
    return query


def timeline_objects(session: Session, *, rows) -> dict[str, dict[int, tuple]]:
    """The records behind one page of ``activities.timeline`` rows, loaded in one query per type.

    ``{"interaction": {id: (Interaction, contact name or None, author name or None)},
    "task": {id: (Task, assignee name or None)}, "survey": {id: (SurveyAnswer,)},
    "deal": {id: (deal name,)}, "automation": {id: (AutomationRun,)}}``; the caller has read the
    rows through the timeline, which decided what may be seen.
    """
    ids: dict[str, list[int]] = {}
    for row in rows:
        ids.setdefault(row.type, []).append(row.id)
    found: dict[str, dict[int, tuple]] = {"interaction": {}, "task": {}, "survey": {}, "deal": {}, "automation": {}}
    deal_ids = {row.deal_id for row in rows if row.deal_id is not None}
    if deal_ids:
        for deal_id, name in session.execute(select(Deal.id, Project.name).join(Project, Project.id == Deal.project_id)
                                             .where(Deal.id.in_(deal_ids))):
            found["deal"][deal_id] = (name,)
    if ids.get("interaction"):
        contact, author = aliased(Contact), aliased(User)
        for interaction, first, last, name in session.execute(
                select(Interaction, contact.first_name, contact.last_name, author.name)
                .outerjoin(contact, contact.id == Interaction.contact_id)
                .outerjoin(author, author.id == Interaction.user_id)
                .where(Interaction.id.in_(ids["interaction"]))):
            who = " ".join(part for part in (first, last) if part) or None
            found["interaction"][interaction.id] = (interaction, who, name)
    if ids.get("task"):
        assignee = aliased(User)
        for task, name in session.execute(select(Task, assignee.name)
                                          .outerjoin(assignee, assignee.id == Task.assignee_id)
                                          .where(Task.id.in_(ids["task"]))):
            found["task"][task.id] = (task, name)
    if ids.get("automation"):
        for run in session.scalars(select(AutomationRun).where(AutomationRun.id.in_(ids["automation"]))):
            found["automation"][run.id] = (run,)
    if ids.get("survey"):
        for answer in session.scalars(select(SurveyAnswer).where(SurveyAnswer.id.in_(ids["survey"]))):
            found["survey"][answer.id] = (answer,)
    return found


# A new lead should hear from us within a working day; half of it gone is a warning.
LEAD_SLA = timedelta(hours=24)


def lead_age(lead: Lead, *, now: datetime | None = None) -> tuple[timedelta, str]:
    """How long ``lead`` has waited and where that stands against ``LEAD_SLA``: ``fresh``, ``due``, ``late``,
    or ``closed`` for a lead already qualified or dropped."""
    waited = (now or utcnow()) - lead.created_at
    if lead.status not in OPEN_LEAD:
        return waited, "closed"
    if waited >= LEAD_SLA:
        return waited, "late"
    return waited, "due" if waited >= LEAD_SLA / 2 else "fresh"


def lead_sources(session: Session, *, user: User, limit: int = 50) -> list[str]:
    """The sources of the leads ``user`` may read, for a filter (at most ``limit``)."""
    query = list_leads(session, user=user).order_by(None).with_only_columns(Lead.source).where(Lead.source != "")
    return list(session.scalars(query.distinct().order_by(Lead.source).limit(limit)))


def upcoming_tasks(session: Session, *, user: User, account: Account, now: datetime | None = None) -> Select:
    """A select of ``account``'s open tasks not yet due, soonest first (the timeline holds the rest)."""
    return list_tasks(session, user=user, account_id=account.id, status=TaskStatus.open).where(
        Task.due_at > (now or utcnow()))

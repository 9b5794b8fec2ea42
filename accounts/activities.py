"""The journal of client touches, tasks and reminders, satisfaction answers, and an account's timeline.

Interactions and tasks belong to an account (or, before qualification, to a
lead) and are governed by its EPS node; optional links to a contact and a deal
must point inside the same account.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, String, cast, func, literal, or_, select, true, union_all
from sqlalchemy.orm import Session, aliased

from crmpm import audit, events
from crmpm.database import utcnow
from crmpm.errors import Conflict, Invalid, NotFound
from crmpm.users.models import User
from eps.models import Project
from eps.permissions import Permission, reader_ids

from accounts.automation.models import AutomationRule, AutomationRun
from accounts.models import (
    Account, Contact, Deal, DealStageChange, Direction, Interaction, InteractionKind, Lead, PipelineStage,
    SurveyAnswer, SurveyKind, Task, TaskStatus,
)
from accounts.permissions import account_or_lead_visible, authorize_on, deal_visible, readable_account_ids
from accounts.portal.access import client_of

# A touch logged with a time this far ahead is a typo, not a plan (plans are tasks).
FUTURE_SLACK = timedelta(days=1)
# Tasks whose ``task.due`` one run of ``record_due_tasks`` records at most.
DUE_BATCH = 2000
SCORE_RANGES = {SurveyKind.csat: (1, 5), SurveyKind.nps: (0, 10)}


def _links(*, account: Account | None, lead: Lead | None, contact: Contact | None,
           deal: Deal | None) -> Account | None:
    """The account the links imply, after checking they agree with each other."""
    if account is None and deal is not None:
        account = deal.account
    if account is None and contact is not None:
        account = contact.account
    if account is None and lead is None:
        raise Invalid("link an account, a contact, a deal or a lead", errors={"account_id": ["required"]})
    if contact is not None and contact.account_id != account.id:
        raise Invalid("contact {contact_id} is not at account {name}",
                      contact_id=contact.id, name=account.name,
                      errors={"contact_id": ["belongs to another account"]})
    if deal is not None and deal.account_id != account.id:
        raise Invalid("deal {deal_id} is not at account {name}", deal_id=deal.id, name=account.name,
                      errors={"deal_id": ["belongs to another account"]})
    return account


def _authorize(session: Session, *, user: User, account: Account | None, lead: Lead | None, obj,
               label: str, permission: Permission) -> None:
    if account is not None:
        authorize_on(session, user=user, obj=obj, governed_by=account.eps_node, label=label, permission=permission)
    else:
        authorize_on(session, user=user, obj=obj, governed_by=lead.region_node, label=label, permission=permission)


def _authorize_new(session: Session, *, user: User, account: Account | None, lead: Lead | None, obj,
                   label: str) -> None:
    """Edit rights to add a record about ``account`` or ``lead``; a client user (the portal) adds records only
    about their own account (their question, its task, their satisfaction answer; ``accounts.portal.access``),
    never about a lead or another account, and reads or changes nothing here."""
    if user.is_client:
        client = client_of(session, user)
        if client is None or account is None or client.account_id != account.id:
            raise NotFound("{target} not found", target=f"{label} {obj.id}")
        return
    _authorize(session, user=user, account=account, lead=lead, obj=obj, label=label, permission=Permission.edit)


def _active(user: User | None, field: str) -> None:
    if user is not None and not user.is_active:
        raise Invalid("user {email} is inactive", email=user.email, errors={field: ["inactive user"]})


# Interactions


def create_interaction(session: Session, *, actor: User, kind: InteractionKind, direction: Direction,
                       occurred_at: datetime, account: Account | None = None, lead: Lead | None = None,
                       contact: Contact | None = None, deal: Deal | None = None, user: User | None = None,
                       subject: str = "", summary: str = "", duration_minutes: int | None = None,
                       external_id: str | None = None) -> Interaction:
    """Log a touch of a client (edit rights on its account or lead; a client user: their own account)."""
    account = _links(account=account, lead=lead, contact=contact, deal=deal)
    _authorize_new(session, user=actor, account=account, lead=lead, obj=account or lead,
                   label="account" if account else "lead")
    if occurred_at > utcnow() + FUTURE_SLACK:
        raise Invalid("an interaction cannot lie in the future; plan it as a task",
                      errors={"occurred_at": ["in the future"]})
    if duration_minutes is not None and not 0 <= duration_minutes <= 24 * 60:
        raise Invalid("a duration is 0 to 1440 minutes", errors={"duration_minutes": ["0 to 1440"]})
    _active(user, "user_id")
    if external_id is not None and session.scalar(select(Interaction.id).where(Interaction.external_id == external_id)):
        raise Conflict("an interaction with external id {external_id!r} exists", external_id=external_id,
                       errors={"external_id": ["already in use"]})
    interaction = Interaction(
        account_id=account.id if account else None, lead_id=lead.id if lead else None,
        contact_id=contact.id if contact else None, deal_id=deal.id if deal else None, kind=InteractionKind(kind),
        direction=Direction(direction), occurred_at=occurred_at, user_id=(user or actor).id,
        subject=subject.strip()[:500], summary=summary.strip(), duration_minutes=duration_minutes,
        external_id=external_id)
    session.add(interaction)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=interaction, after=interaction.audit_state())
    events.record(session, "interaction.recorded", interaction,
                  {"account_id": interaction.account_id, "lead_id": interaction.lead_id,
                   "contact_id": interaction.contact_id, "deal_id": interaction.deal_id,
                   "kind": interaction.kind.value, "direction": interaction.direction.value,
                   "at": interaction.occurred_at, "user_id": interaction.user_id}, actor=actor)
    return interaction


def record_interaction_once(session: Session, *, actor: User, external_id: str,
                            **fields) -> tuple[Interaction, bool]:
    """The interaction with ``external_id`` as it is (the journal is append-only), or a new one; True when created."""
    existing = session.scalar(select(Interaction).where(Interaction.external_id == external_id))
    if existing is not None:
        return existing, False
    return create_interaction(session, actor=actor, external_id=external_id, **fields), True


def get_interaction_or_raise(session: Session, *, user: User, interaction_id: int,
                             permission: Permission = Permission.read) -> Interaction:
    """The interaction, if ``user`` has ``permission`` on its account or lead."""
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound("interaction {interaction_id} not found", interaction_id=interaction_id)
    account = session.get(Account, interaction.account_id) if interaction.account_id else None
    lead = session.get(Lead, interaction.lead_id) if interaction.lead_id else None
    _authorize(session, user=user, account=account, lead=lead, obj=interaction, label="interaction",
               permission=permission)
    return interaction


def list_interactions(session: Session, *, user: User, account_id: int | None = None,
                      contact_id: int | None = None, deal_id: int | None = None, lead_id: int | None = None,
                      kind: InteractionKind | None = None, since: datetime | None = None,
                      until: datetime | None = None) -> Select:
    """A select of the interactions ``user`` may read, newest first."""
    query = select(Interaction).order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
    condition = account_or_lead_visible(session, user=user, model=Interaction)
    if condition is not None:
        query = query.where(condition)
    for column, value in ((Interaction.account_id, account_id), (Interaction.contact_id, contact_id),
                          (Interaction.deal_id, deal_id), (Interaction.lead_id, lead_id),
                          (Interaction.kind, kind)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(Interaction.occurred_at >= since)
    if until is not None:
        query = query.where(Interaction.occurred_at < until)
    return query


# Tasks


def create_task(session: Session, *, actor: User, title: str, due_at: datetime, assignee: User | None = None,
                account: Account | None = None, deal: Deal | None = None, contact: Contact | None = None,
                lead: Lead | None = None, remind_at: datetime | None = None,
                external_id: str | None = None) -> Task:
    """A task for an account, deal, contact or lead (edit rights there), assigned to an active user."""
    account = _links(account=account, lead=lead, contact=contact, deal=deal)
    _authorize_new(session, user=actor, account=account, lead=lead, obj=account or lead,
                   label="account" if account else "lead")
    title = title.strip()
    if not title or len(title) > 500:
        raise Invalid("a task needs a title of at most 500 characters", errors={"title": ["1 to 500 characters"]})
    _active(assignee, "assignee_id")
    if remind_at is not None and remind_at > due_at:
        raise Invalid("a reminder comes before the due time", errors={"remind_at": ["after due_at"]})
    task = Task(title=title, due_at=due_at, remind_at=remind_at, assignee_id=(assignee or actor).id,
                account_id=account.id if account else None, deal_id=deal.id if deal else None,
                contact_id=contact.id if contact else None, lead_id=lead.id if lead else None,
                created_by_id=actor.id, external_id=external_id, status=TaskStatus.open)
    session.add(task)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=task, after=task.audit_state())
    events.record(session, "task.created", task,
                  {"assignee_id": task.assignee_id, "due_at": task.due_at, "remind_at": task.remind_at,
                   "account_id": task.account_id, "deal_id": task.deal_id, "lead_id": task.lead_id,
                   "contact_id": task.contact_id}, actor=actor)
    return task


def assignable_users(session: Session, *, account: Account, limit: int = 500) -> list[User]:
    """The active users a task about ``account`` can be given to: those who may read it (admins included),
    by name; a task handed to someone who cannot open its account would be a dead letter."""
    return list(session.scalars(select(User).where(User.is_active.is_(True), User.is_client.is_(False),
                                                   or_(User.is_admin.is_(True),
                                                       User.id.in_(reader_ids(account.eps_node))))
                                .order_by(User.name, User.id).limit(limit)))


def get_task_or_raise(session: Session, *, user: User, task_id: int,
                      permission: Permission = Permission.read) -> Task:
    """The task, if ``user`` has ``permission`` on its account or lead."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("task {task_id} not found", task_id=task_id)
    account = session.get(Account, task.account_id) if task.account_id else None
    lead = session.get(Lead, task.lead_id) if task.lead_id else None
    _authorize(session, user=user, account=account, lead=lead, obj=task, label="task", permission=permission)
    return task


def update_task(session: Session, *, actor: User, task: Task, **changes) -> Task:
    """Change a task's title, due time, reminder, assignee or status (edit rights); done stamps completion."""
    account = session.get(Account, task.account_id) if task.account_id else None
    lead = session.get(Lead, task.lead_id) if task.lead_id else None
    _authorize(session, user=actor, account=account, lead=lead, obj=task, label="task", permission=Permission.edit)
    before = task.audit_state()
    if "assignee" in changes:
        assignee = changes.pop("assignee")
        _active(assignee, "assignee_id")
        task.assignee_id = assignee.id if assignee else None
    if "title" in changes:
        title = changes.pop("title").strip()
        if not title:
            raise Invalid("a task needs a title", errors={"title": ["must not be empty"]})
        task.title = title
    if "status" in changes:
        status = TaskStatus(changes.pop("status"))
        task.completed_at = utcnow() if status is TaskStatus.done else None
        task.status = status
    for key in ("due_at", "remind_at"):
        if key in changes:
            setattr(task, key, changes.pop(key))
    if changes:
        raise Invalid("unknown task fields {fields}",
                      fields=sorted(changes), errors={key: ["unknown field"] for key in changes})
    if task.remind_at is not None and task.remind_at > task.due_at:
        raise Invalid("a reminder comes before the due time", errors={"remind_at": ["after due_at"]})
    session.flush()
    audit.record(session, actor=actor, action="update", entity=task, before=before, after=task.audit_state())
    if task.status is TaskStatus.done and before["status"] != TaskStatus.done.value:
        events.record(session, "task.done", task, {"assignee_id": task.assignee_id, "completed_at": task.completed_at},
                      actor=actor)
    return task


def list_tasks(session: Session, *, user: User, assignee_id: int | None = None, status: TaskStatus | None = None,
               overdue: bool = False, reminders_due: bool = False, account_id: int | None = None,
               deal_id: int | None = None, contact_id: int | None = None, now: datetime | None = None) -> Select:
    """A select of the tasks ``user`` may read, soonest due first; ``overdue``: open and past due."""
    now = now or utcnow()
    query = select(Task).order_by(Task.due_at, Task.id)
    condition = account_or_lead_visible(session, user=user, model=Task)
    if condition is not None:
        query = query.where(condition)
    for column, value in ((Task.assignee_id, assignee_id), (Task.status, status), (Task.account_id, account_id),
                          (Task.deal_id, deal_id), (Task.contact_id, contact_id)):
        if value is not None:
            query = query.where(column == value)
    if overdue:
        query = query.where(Task.status == TaskStatus.open, Task.due_at < now)
    if reminders_due:
        query = query.where(Task.status == TaskStatus.open, Task.remind_at.is_not(None), Task.remind_at <= now)
    return query


def tasks_passed(session: Session, *, at, done_for, now: datetime, limit: int) -> list[Task]:
    """Open tasks whose time ``at`` (a column) has passed and that ``done_for`` (the column keeping the time
    last acted on) does not hold yet, earliest first, up to ``limit``; on PostgreSQL locked, skipping rows
    another transaction holds (left for the next run)."""
    query = (select(Task).where(Task.status == TaskStatus.open, at.is_not(None), at <= now,
                                or_(done_for.is_(None), done_for != at))
             .order_by(at, Task.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def record_due_tasks(session: Session, *, now: datetime | None = None, limit: int = DUE_BATCH) -> int:
    """Record ``task.due`` for each open task whose due time has passed and is not recorded yet; how many.

    ``due_event_at`` keeps the due time recorded, so running again records nothing twice and a
    task whose due date moves is recorded again when the new one passes. Up to ``limit`` tasks a
    run (the earliest due first; the rest on the next run); on PostgreSQL the rows are locked and
    those another transaction holds are left for the next run.
    """
    tasks = tasks_passed(session, at=Task.due_at, done_for=Task.due_event_at, now=now or utcnow(), limit=limit)
    for task in tasks:
        task.due_event_at = task.due_at
    events.record_many(session, "task.due", [(("tasks", task.id), {"assignee_id": task.assignee_id,
                                                                   "due_at": task.due_at}) for task in tasks])
    return len(tasks)


# Satisfaction


def record_answer(session: Session, *, actor: User, account: Account, kind: SurveyKind, score: int,
                  deal: Deal | None = None, contact: Contact | None = None, comment: str = "",
                  answered_at: datetime | None = None) -> SurveyAnswer:
    """Record a CSAT (1-5) or NPS (0-10) answer about an account and optionally one deal (edit rights; a client
    user answering on the portal: their own account)."""
    _links(account=account, lead=None, contact=contact, deal=deal)
    _authorize_new(session, user=actor, account=account, lead=None, obj=account, label="account")
    kind = SurveyKind(kind)
    low, high = SCORE_RANGES[kind]
    if not low <= score <= high:
        raise Invalid("a {kind} score is {low} to {high}",
                      kind=kind.value, low=low, high=high, errors={"score": [f"{low} to {high}"]})
    answer = SurveyAnswer(account_id=account.id, deal_id=deal.id if deal else None,
                          contact_id=contact.id if contact else None, kind=kind, score=score,
                          comment=comment.strip(), answered_at=answered_at or utcnow())
    session.add(answer)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=answer, after=answer.audit_state())
    return answer


def list_answers(session: Session, *, user: User, account_id: int | None = None, deal_id: int | None = None,
                 kind: SurveyKind | None = None) -> Select:
    """A select of the satisfaction answers ``user`` may read, newest first."""
    query = select(SurveyAnswer).order_by(SurveyAnswer.answered_at.desc(), SurveyAnswer.id.desc())
    readable = readable_account_ids(session, user=user)
    if readable is not None:
        query = query.where(SurveyAnswer.account_id.in_(readable))
    for column, value in ((SurveyAnswer.account_id, account_id), (SurveyAnswer.deal_id, deal_id),
                          (SurveyAnswer.kind, kind)):
        if value is not None:
            query = query.where(column == value)
    return query


# Timeline


TIMELINE_TYPES = ("interaction", "stage_change", "task", "deal", "survey", "automation")
# What the timeline showed first (and the API still shows): the journal, the stage moves and the tasks.
CORE_TIMELINE_TYPES = ("interaction", "stage_change", "task")


def timeline(session: Session, *, account: Account, user: User | None = None,
             types: tuple[str, ...] | list[str] = CORE_TIMELINE_TYPES, with_subaccounts: bool = False,
             until: datetime | None = None, contact: Contact | None = None) -> Select:
    """A select of an account's history, newest first: interactions, deal stage moves and tasks, one row each;
    with ``types`` also the deals opened (``deal``), the satisfaction answers (``survey``) and the runs of
    automation rules on its deals (``automation``: the rule's name, the run's status; what it did, why it did
    nothing or how it failed are on the run, ``accounts.overview.timeline_objects``).

    Rows are ``(type, id, at, deal_id, title, detail)``; the caller has already
    been authorized on the account. Given ``user``, rows about a deal the user
    may not read are left out, and ``with_subaccounts`` adds the history of the
    account's subsidiaries that ``user`` may read. ``until`` leaves out what lies
    after it (tasks due later: the plans, not the history). Given ``contact``, only the rows about that
    person: the touches, tasks and answers linked to them and the deals naming them (at any account
    ``user`` may read: a merged person's history may come from another one).
    """
    unknown = set(types) - set(TIMELINE_TYPES)
    if unknown:
        raise Invalid("unknown timeline types {types}", types=", ".join(sorted(unknown)),
                      errors={"type": sorted(unknown)})
    readable_deal = None
    account_ids = None
    if user is not None:
        readable_deal = deal_visible(session, user=user)
        if with_subaccounts:
            children = select(Account.id).where(Account.parent_id == account.id, Account.merged_into_id.is_(None))
            readable = readable_account_ids(session, user=user)
            if readable is not None:
                children = children.where(Account.id.in_(readable))
            # Read now: a list of ids lets every part use its account index (an OR with a subquery
            # made PostgreSQL scan the whole interactions table).
            account_ids = [account.id, *session.scalars(children)]

    readable_accounts = None
    if contact is not None and user is not None:
        readable_accounts = readable_account_ids(session, user=user)

    def of_account(column, contact_column=None):
        if contact is not None:
            mine = contact_column == contact.id
            if user is None:
                return mine & (column == account.id)
            return mine if readable_accounts is None else mine & column.in_(readable_accounts)
        if account_ids is None:
            return column == account.id
        return column.in_(account_ids)

    def of_deal():
        return true() if contact is None else Deal.contact_id == contact.id

    def deal_allowed(column):
        """No deal, or one ``user`` may read (for the parts whose FROM has no deals of its own)."""
        if readable_deal is None:
            return true()
        return or_(column.is_(None), column.in_(select(Deal.id).where(readable_deal)))

    def row(kind: str, id_, at, deal_id, title, detail):
        return select(literal(kind).label("type"), id_.label("id"), at.label("at"), deal_id.label("deal_id"),
                      title.label("title"), detail.label("detail"))

    parts = []
    if "interaction" in types:
        parts.append(row("interaction", Interaction.id, Interaction.occurred_at, Interaction.deal_id,
                         Interaction.subject, Interaction.kind + literal(" ") + Interaction.direction)
                     .where(of_account(Interaction.account_id, Interaction.contact_id),
                            deal_allowed(Interaction.deal_id)))
    if "stage_change" in types:
        parts.append(row("stage_change", DealStageChange.id, DealStageChange.at, DealStageChange.deal_id,
                         PipelineStage.name, DealStageChange.note)
                     .join(PipelineStage, PipelineStage.id == DealStageChange.to_stage_id)
                     .join(Deal, Deal.id == DealStageChange.deal_id)
                     .where(of_account(Deal.account_id) if contact is None else of_deal(),
                            true() if readable_deal is None else readable_deal))
    if "task" in types:
        parts.append(row("task", Task.id, Task.due_at, Task.deal_id, Task.title, Task.status)
                     .where(of_account(Task.account_id, Task.contact_id), deal_allowed(Task.deal_id)))
    if "deal" in types:
        # An alias, so the visibility test's own reference to projects stays correlated to the deal.
        named = aliased(Project)
        parts.append(row("deal", Deal.id, Deal.created_at, Deal.id, named.name, Deal.product)
                     .join(named, named.id == Deal.project_id)
                     .where(of_account(Deal.account_id) if contact is None else of_deal(),
                            true() if readable_deal is None else readable_deal))
    if "survey" in types:
        parts.append(row("survey", SurveyAnswer.id, SurveyAnswer.answered_at, SurveyAnswer.deal_id,
                         SurveyAnswer.kind, cast(SurveyAnswer.score, String))
                     .where(of_account(SurveyAnswer.account_id, SurveyAnswer.contact_id),
                            deal_allowed(SurveyAnswer.deal_id)))
    if "automation" in types:
        parts.append(row("automation", AutomationRun.id, func.coalesce(AutomationRun.finished_at,
                                                                       AutomationRun.created_at),
                         AutomationRun.deal_id, AutomationRule.name, AutomationRun.status)
                     .join(AutomationRule, AutomationRule.id == AutomationRun.rule_id)
                     .join(Deal, Deal.id == AutomationRun.deal_id)
                     .where(of_account(Deal.account_id) if contact is None else of_deal(),
                            true() if readable_deal is None else readable_deal))
    if not parts:
        raise Invalid("choose at least one kind of timeline entry", errors={"type": ["empty"]})
    merged = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    query = select(merged)
    if until is not None:
        query = query.where(merged.c.at <= until)
    return query.order_by(merged.c.at.desc(), merged.c.type, merged.c.id.desc())

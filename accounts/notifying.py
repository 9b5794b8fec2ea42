"""Who is told about which domain event: the CRM's rules for notifications (``crmpm.notifications``).

An event consumer (``crmpm.event_consumers`` entry point ``notifications``): each rule names the
users an event concerns and the facts its text needs; ``notify`` sends through each user's channels,
once per user and event however often the event is delivered. Nobody is told about a subject they
may not read (the event's readers, ``accounts.events.visible_events``), nor about their own doing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm import notifications
from crmpm.database import utcnow
from crmpm.emails import email_key
from crmpm.errors import Forbidden, NotFound
from crmpm.events import DomainEvent, Event
from crmpm.notifications import NotificationDigest
from crmpm.users.models import User
from eps.models import BudgetChange, Project
from eps.permissions import Permission, holder_ids
from wbs.resources.models import Resource
from wbs.resources.timesheet_models import TimesheetDecision

from accounts import activities
from accounts.events import visible_events
from accounts.models import Deal, Interaction, Lead, Task, TaskStatus

# (user id, kind, params); the subject is the event's own.
Recipient = tuple[int, str, dict]


def handle(session: Session, event: DomainEvent) -> None:
    """Notify the users ``event`` concerns (a consumer of domain events)."""
    rule = RULES.get(event.type)
    if rule is None:
        return
    for user_id, kind, params in rule(session, event):
        if user_id is None or (user_id == event.actor_id and kind not in OWN_DOING):
            continue
        if event.type not in OWN_SUBJECTS and not _may_read(session, user_id=user_id, event=event):
            continue
        notifications.notify(session, user_id=user_id, kind=kind, subject=(event.subject_type, event.subject_id),
                             params=params, event_id=event.id)


def _may_read(session: Session, *, user_id: int, event: DomainEvent) -> bool:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return False
    condition = visible_events(session, user=user)
    if condition is None:
        return True
    return session.scalar(select(Event.row_id).where(Event.id == event.id, condition)) is not None


def _actor_name(session: Session, event: DomainEvent) -> str | None:
    actor = session.get(User, event.actor_id) if event.actor_id else None
    return actor.name if actor else None


def task_facts(task: Task) -> dict:
    """What a notification about ``task`` says and links to."""
    return {"title": task.title, "due_at": task.due_at.isoformat(), "account_id": task.account_id,
            "lead_id": task.lead_id}


def _task_created(session: Session, event: DomainEvent) -> Iterator[Recipient]:
    task = session.get(Task, event.subject_id)
    if task is not None:
        by = _actor_name(session, event)
        yield event.payload.get("assignee_id"), "task_assigned", {**task_facts(task), "by": by}
        for user_id in mentioned(session, task.title):  # the assignee is told once, of the task given
            yield user_id, "mention", {"by": by, "what": "task", **_excerpt(task.title),
                                       "account_id": task.account_id, "lead_id": task.lead_id}


def _interaction_recorded(session: Session, event: DomainEvent) -> Iterator[Recipient]:
    interaction = session.get(Interaction, event.subject_id)
    if interaction is None:
        return
    text = "\n".join(part for part in (interaction.subject, interaction.summary) if part)
    for user_id in mentioned(session, text):
        yield user_id, "mention", {"by": _actor_name(session, event), "what": "interaction", **_excerpt(text),
                                   "account_id": interaction.account_id, "lead_id": interaction.lead_id}


# "@ivan@firm.ru", or "@ivan" when one active user's address begins "ivan@"; not inside a word or an address.
MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9._%+-]{1,64}(?:@[A-Za-z0-9.-]{1,200}\.[A-Za-z]{2,63})?)")
MENTIONS_READ = 20  # of one text, the first this many mentions
EXCERPT = 200


def _excerpt(text: str) -> dict:
    """What a mention's notification quotes: its first line (the subject, one line) and the text's beginning."""
    return {"headline": (text.strip().splitlines() or [""])[0][:EXCERPT], "excerpt": text.strip()[:EXCERPT]}


def mentioned(session: Session, text: str) -> list[int]:
    """The ids of the active users ``text`` mentions (``@`` and their e-mail address, or its unique local part)."""
    found: list[int] = []
    for token in dict.fromkeys(match.group(1).rstrip(".") for match in MENTION.finditer(text or "")):
        if len(found) >= MENTIONS_READ:
            break
        if "@" in token:
            ids = session.scalars(select(User.id).where(User.email == email_key(token), User.is_active.is_(True)))
        else:
            ids = session.scalars(select(User.id).where(User.email.startswith(f"{token.lower()}@", autoescape=True),
                                                        User.is_active.is_(True)).limit(2))
        ids = list(ids)
        if len(ids) == 1 and ids[0] not in found:
            found.append(ids[0])
    return found


def _task_due(session: Session, event: DomainEvent) -> Iterator[Recipient]:
    task = session.get(Task, event.subject_id)
    if task is not None and task.status is TaskStatus.open:  # done before its due event was delivered: nothing to say
        yield event.payload.get("assignee_id"), "task_due", {**task_facts(task), "due_at": event.payload["due_at"]}


def _lead_assigned(session: Session, event: DomainEvent) -> Iterator[Recipient]:
    lead = session.get(Lead, event.subject_id)
    if lead is not None:
        yield event.payload.get("owner_id"), "lead_assigned", {"name": lead.company or lead.contact_name,
                                                                "reason": event.payload.get("reason")}


def _deal_owner_changed(session: Session, event: DomainEvent) -> Iterator[Recipient]:
    deal = session.get(Deal, event.subject_id)
    if deal is None:
        return
    previous = session.get(User, event.payload["previous_owner_id"]) if event.payload.get("previous_owner_id") else None
    yield event.payload.get("owner_id"), "deal_handed_over", {"name": deal.project.name,
                                                               "previous": previous.name if previous else None,
                                                               "reason": event.payload.get("reason")}


def _budget_facts(change: BudgetChange) -> dict:
    target = change.target
    return {"amount": str(change.amount), "target": f"{target.code} {target.name}",
            "eps_node_id": change.eps_node_id, "project_id": change.project_id}


def _budget_change_requested(session: Session, event: DomainEvent) -> Iterator[Recipient]:
    change = session.get(BudgetChange, event.subject_id)
    if change is None:
        return
    params = {**_budget_facts(change), "by": _actor_name(session, event)}
    # Who may decide it: budget rights there (the requester aside: a change is decided by another person);
    # administrators only when nobody holds them.
    deciders = set(session.scalars(select(User.id).where(User.is_active.is_(True),
                                                         User.id.in_(holder_ids(change.target, Permission.budget)))))
    if not deciders - {change.requested_by_id}:
        deciders = set(session.scalars(select(User.id).where(User.is_active.is_(True), User.is_admin.is_(True))))
    for user_id in sorted(deciders - {change.requested_by_id}):
        yield user_id, "budget_change_awaiting", params


def _budget_change_decided(session: Session, event: DomainEvent) -> Iterator[Recipient]:
    change = session.get(BudgetChange, event.subject_id)
    if change is not None:
        yield event.payload.get("requested_by_id"), "budget_change_decided", {
            **_budget_facts(change), "decision": event.payload["decision"]}


def _timesheet_submitted(session: Session, event: DomainEvent) -> Iterator[Recipient]:
    # The approvers: whoever holds edit rights on a project asked (each told once, of the projects they
    # approve); ``handle`` keeps only those who read the sheet's events, the approval queue's own rule.
    resource = session.get(Resource, event.payload.get("resource_id"))
    projects = session.scalars(select(Project).where(Project.id.in_(event.payload.get("project_ids") or []))
                               .order_by(Project.code)).all()
    if resource is None:
        return
    approves: dict[int, list[str]] = {}
    for project in projects:
        for user_id in session.scalars(select(User.id).where(User.is_active.is_(True),
                                                             User.id.in_(holder_ids(project, Permission.edit)))):
            approves.setdefault(user_id, []).append(f"{project.code} {project.name}")
    for user_id in sorted(approves):
        yield user_id, "timesheet_submitted", {"resource": resource.name, "week": event.payload["week"],
                                               "projects": ", ".join(approves[user_id]),
                                               "by": _actor_name(session, event)}


def _timesheet_decided(session: Session, event: DomainEvent) -> Iterator[Recipient]:
    decision = session.get(TimesheetDecision, event.subject_id)
    resource = session.get(Resource, event.payload.get("resource_id"))
    project = session.get(Project, event.payload.get("project_id"))
    if decision is None or resource is None or project is None:
        return
    yield resource.user_id, "timesheet_decided", {
        "project": f"{project.code} {project.name}", "week": event.payload["week"],
        "decision": event.payload["decision"], "reason": event.payload.get("reason") or "",
        "by": _actor_name(session, event)}


def _portal_approval_decided(session: Session, event: DomainEvent) -> Iterator[Recipient]:
    # A client's decision on the portal: the project's PMs (its editors) and the deal's owner, each once.
    project = session.get(Project, event.subject_id)
    if project is None:
        return
    payload = event.payload
    deal = session.get(Deal, payload["deal_id"]) if payload.get("deal_id") else None
    told = list(session.scalars(select(User.id).where(User.is_active.is_(True),
                                                      User.id.in_(holder_ids(project, Permission.edit)))
                                .order_by(User.id)))
    if deal is not None and deal.owner_id is not None and deal.owner_id not in told:
        told.append(deal.owner_id)
    params = {"project": f"{project.code} {project.name}", "project_id": project.id,
              "what": payload.get("subject"), "name": payload.get("name"), "decision": payload.get("decision"),
              "reason": payload.get("comment") or "", "by": _actor_name(session, event)}
    for user_id in told:
        yield user_id, "portal_approval", params


def _import_finished(session: Session, event: DomainEvent) -> Iterator[Recipient]:
    if event.payload.get("dry_run"):
        return
    params = {key: event.payload.get(key, 0) for key in ("created", "updated", "failed")}
    yield event.actor_id, "import_finished", {**params, "kind": event.payload.get("kind")}


def _webhook_disabled(session: Session, event: DomainEvent) -> Iterator[Recipient]:
    payload = event.payload
    yield payload.get("owner_id"), "webhook_disabled", {"url_target": payload.get("url"),
                                                         "failures": payload.get("failures"),
                                                         "last_status": payload.get("last_status")}


RULES: dict[str, Callable[[Session, DomainEvent], Iterator[Recipient]]] = {
    "task.created": _task_created,
    "interaction.recorded": _interaction_recorded,
    "task.due": _task_due,
    "lead.assigned": _lead_assigned,
    "deal.owner_changed": _deal_owner_changed,
    "budget.change_requested": _budget_change_requested,
    "budget.change_decided": _budget_change_decided,
    "timesheet.submitted": _timesheet_submitted,
    "timesheet.decided": _timesheet_decided,
    "import.finished": _import_finished,
    "portal.approval_decided": _portal_approval_decided,
    # Recorded by the webhooks' delivery (the type lives with it): the owner reads their own webhook.
    "webhook.disabled": _webhook_disabled,
}
# Kinds told to the event's actor too: the end of their own long-running work.
OWN_DOING = frozenset({"import_finished"})
# Events whose recipient owns the subject outright (no rights in the tree to check).
OWN_SUBJECTS = frozenset({"webhook.disabled"})


# Reminders and the daily digest: told by the CRM's periodic jobs (``accounts.jobs``), not by events.

# Tasks one run reminds at most; users one run of the digest serves at most (the rest on the next runs).
REMIND_BATCH = 2000
DIGEST_BATCH = 500
DIGEST_HOUR = 8  # the digest comes after 08:00 in the user's zone
DIGEST_TASKS = 50  # of each list, the first this many (the digest says how many there are in all)


def remind_tasks(session: Session, *, now: datetime | None = None, limit: int = REMIND_BATCH) -> int:
    """Remind each open task's assignee once its reminder time has passed, once per reminder time; how many.

    ``Task.reminded_for`` keeps the reminder time reminded, written in the transaction of the
    notification, so a run repeated (jobs run at least once) reminds nothing twice and a reminder
    moved reminds again. On PostgreSQL rows another transaction holds are left for the next run.
    """
    tasks = activities.tasks_passed(session, at=Task.remind_at, done_for=Task.reminded_for, now=now or utcnow(),
                                    limit=limit)
    for task in tasks:
        task.reminded_for = task.remind_at
        assignee = session.get(User, task.assignee_id) if task.assignee_id else None
        if assignee is not None and assignee.is_active and _reads_task(session, user=assignee, task=task):
            notifications.notify(session, user_id=assignee.id, kind="task_reminder", subject=("tasks", task.id),
                                 params=task_facts(task))
    return len(tasks)


def _reads_task(session: Session, *, user: User, task: Task) -> bool:
    try:
        activities.get_task_or_raise(session, user=user, task_id=task.id)
    except (NotFound, Forbidden):
        return False
    return True


def send_digests(session: Session, *, now: datetime | None = None, limit: int = DIGEST_BATCH) -> int:
    """Each active user whose local time has passed 08:00 and who has not had today's digest gets one, if they
    have overdue or today's open tasks; how many were sent. Once per user per local day (``NotificationDigest``,
    written in the same transaction, also when there was nothing to say)."""
    now = now or utcnow()
    done = {row.user_id: row for row in session.scalars(select(NotificationDigest))}
    sent = served = 0
    for user in session.scalars(select(User).where(User.is_active.is_(True), User.is_client.is_(False))
                                .order_by(User.id)):
        local = now.astimezone(ZoneInfo(user.time_zone))
        row = done.get(user.id)
        if local.hour < DIGEST_HOUR or (row is not None and row.last_day >= local.date()):
            continue
        if served >= limit:
            break
        served += 1
        if row is None:
            session.add(NotificationDigest(user_id=user.id, last_day=local.date(), at=now))
        else:
            row.last_day, row.at = local.date(), now
        params = digest_of(session, user=user, day=local.date())
        if params["overdue"] or params["today"]:
            notifications.notify(session, user_id=user.id, kind="daily_digest", params=params)
            sent += 1
    session.flush()
    return sent


def digest_of(session: Session, *, user: User, day: date) -> dict:
    """``user``'s open tasks overdue before ``day`` and due on ``day`` (their local day), as digest facts."""
    zone = ZoneInfo(user.time_zone)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    mine = activities.list_tasks(session, user=user, assignee_id=user.id, status=TaskStatus.open)
    overdue = session.scalars(mine.where(Task.due_at < start).limit(DIGEST_TASKS)).all()
    today = session.scalars(mine.where(Task.due_at >= start, Task.due_at < end).limit(DIGEST_TASKS)).all()
    return {"day": day.isoformat(), "overdue": [task_facts(task) for task in overdue],
            "today": [task_facts(task) for task in today]}

"""Running automation rules: the event consumer, the ``automation.run`` job, the idle check and the actions.

1. ``handle`` (an ``crmpm.event_consumers`` consumer) reads ``deal.stage_changed`` (as
   ``deal.entered_stage``), ``deal.created``, ``deal.won``, ``deal.lost`` and ``lead.created``; for each
   active rule with that trigger (and stage) it records a run, once per (rule, event): ``skipped`` with
   the reason when the conditions do not hold, else ``pending`` with an ``automation.run`` job. The
   change that caused the event is committed already: a rule never rolls it back.
2. ``run`` (the job) does the rule's actions in the job's transaction and records what each did
   (``done``; an action that could not apply, say a recipient who may not read the deal, is
   ``skipped`` with its reason). An action that fails rolls back all of the run's actions, the run shows
   ``retrying`` with the error and the job engine tries again (10 s, 40 s …); after the last attempt,
   or at once for a refusal that would repeat (``crmpm.errors``), the run is ``failed``.
3. ``check_idle`` (periodic) starts a run for each deal that has sat in an idle rule's stage for its
   days with no interaction and no task created or done, once per (rule, deal, stage entry).

Rights: a rule acts with the rights of the administrator who last saved it; a rule whose author
may no longer manage rules (deactivated, no longer an administrator) does nothing, with that reason.
A task is given, and a mail or notification sent, only to people who may read the deal (or lead);
anyone else is skipped with the reason (a webhook's owner too: the webhook module delivers only what
they may read). Due dates count Monday to Friday in the deal owner's time zone (``User.time_zone``):
crmpm has no working calendar for the CRM (the WBS's calendars are projects' schedules), and the
task is due at 18:00 that day.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from crmpm import events, jobs, notifications
from crmpm.database import db, utcnow
from crmpm.errors import CrmpmError
from crmpm.events import DomainEvent, subject_of
from crmpm.jobs import JobContext, periodic
from crmpm.mail import Message, render_user_template, send_later
from crmpm.users.models import DEFAULT_TIME_ZONE, Team, User
from crmpm.webhooks.models import Webhook
from eps.models import EpsNode, Grant, Role, node_segment
from eps.permissions import Permission, access_to

from accounts import activities, routing
from accounts.automation import rules
from accounts.marketing import consent
from accounts.automation.models import AutomationRule, AutomationRun
from accounts.automation.services import may_manage
from accounts.deals import move_stage, update_deal
from accounts.models import Contact, Deal, Interaction, Lead, PipelineStage, Task

log = logging.getLogger(__name__)

KIND = "automation.run"
MAX_ATTEMPTS = 4
IDLE_BATCH = 500
TRIGGER_OF = {"deal.stage_changed": "deal.entered_stage", "deal.created": "deal.created", "deal.won": "deal.won",
              "deal.lost": "deal.lost", "lead.created": "lead.created"}


# The consumer


def handle(session: Session, event: DomainEvent) -> None:
    """Record a run of every active rule the event triggers (``crmpm.event_consumers``: ``automation``)."""
    trigger = TRIGGER_OF.get(event.type)
    if trigger is None or event.subject_id is None:
        return
    query = select(AutomationRule).where(AutomationRule.active.is_(True), AutomationRule.trigger == trigger)
    if trigger == "deal.entered_stage":
        query = query.where(AutomationRule.stage_id == event.payload.get("to_stage_id"))
    found = session.scalars(query.order_by(AutomationRule.id)).all()
    if not found:
        return
    if trigger == "lead.created":
        subject = session.get(Lead, event.subject_id)
    else:
        subject = session.get(Deal, event.subject_id)
        found = [rule for rule in found if subject is not None and rule.pipeline_id == subject.pipeline_id]
    if subject is None:
        return
    for rule in found:
        start_run(session, rule=rule, subject=subject, key=f"event:{event.id}", event_id=event.id,
                  at=event.occurred_at, previous_stage_id=event.payload.get("from_stage_id"))


def start_run(session: Session, *, rule: AutomationRule, subject: Deal | Lead, key: str, at: datetime,
              event_id: int | None = None, previous_stage_id: int | None = None) -> AutomationRun | None:
    """Record a run of ``rule`` for ``subject`` once per ``key`` (None when it exists): skipped with the reason
    when the conditions do not hold, else pending with its job."""
    if session.scalar(select(AutomationRun.id).where(AutomationRun.rule_id == rule.id,
                                                     AutomationRun.run_key == key)) is not None:
        return None  # a redelivered event, an idle deal seen again
    is_lead = isinstance(subject, Lead)
    reason = unmet(session, rule=rule, subject=subject)
    run = AutomationRun(rule_id=rule.id, run_key=key, event_id=event_id, deal_id=None if is_lead else subject.id,
                        lead_id=subject.id if is_lead else None, status="skipped" if reason else "pending",
                        reason=reason or "", results=[], error="", attempts=0,
                        finished_at=utcnow() if reason else None)
    session.add(run)
    session.flush()
    if not reason:
        job = jobs.start(session, kind=KIND, params={"run_id": run.id, "at": at.isoformat(),
                                                     "previous_stage_id": previous_stage_id},
                         max_attempts=MAX_ATTEMPTS)
        run.job_id = job.id
    return run


def unmet(session: Session, *, rule: AutomationRule, subject: Deal | Lead) -> str | None:
    """Why ``subject`` does not meet the rule's conditions, or None when it does."""
    conditions = rule.conditions or {}
    is_lead = isinstance(subject, Lead)
    if conditions.get("min_amount") is not None and not is_lead:
        if subject.amount < Decimal(conditions["min_amount"]):
            return f"amount {subject.amount} is below {conditions['min_amount']}"
    if conditions.get("products"):
        products = {subject.product} if is_lead else {subject.product, *(line.product for line in subject.lines)}
        if not products & set(conditions["products"]):
            return "the product is not one of " + ", ".join(conditions["products"])
    if conditions.get("node_id") is not None:
        path = subject.region_node.path if is_lead else subject.project.path
        if f"/{node_segment(conditions['node_id'])}/" not in path:
            node = session.get(EpsNode, conditions["node_id"])
            return f"not in branch {node.code if node else conditions['node_id']}"
    return None


# The job


def run(ctx: JobContext) -> dict:
    """Do a rule's actions for one deal or lead and record what they did (``automation.run``)."""
    session = ctx.session
    found = session.get(AutomationRun, ctx.params["run_id"])
    if found is None or found.status in ("done", "skipped", "failed"):
        return {"run_id": ctx.params["run_id"], "status": getattr(found, "status", None)}
    rule = session.get(AutomationRule, found.rule_id)
    author = session.get(User, rule.created_by_id) if rule.created_by_id else None
    subject = session.get(Lead, found.lead_id) if found.lead_id else session.get(Deal, found.deal_id)
    at = datetime.fromisoformat(ctx.params["at"])
    found.attempts += 1
    if author is None or not author.is_active or not may_manage(author):
        return _finish(found, "skipped", reason="the rule's author may no longer manage rules")
    attempt = session.scalar(select(jobs.Job.attempt).where(jobs.Job.id == ctx.job_id)) or 1
    max_attempts = session.scalar(select(jobs.Job.max_attempts).where(jobs.Job.id == ctx.job_id)) or 1
    try:
        context = Acting(session=session, rule=rule, author=author, subject=subject, at=at, run_id=found.id,
                         previous_stage_id=ctx.params.get("previous_stage_id"))
        results = [context.act(action) for action in rule.actions]
    except Exception as exc:
        _record_failure(session, found.id, exc, last=isinstance(exc, CrmpmError) or attempt >= max_attempts)
        raise
    done = [result for result in results if result["status"] == "done"]
    if not done:
        return _finish(found, "skipped", results=results,
                       reason="; ".join(result["reason"] for result in results)[:500])
    return _finish(found, "done", results=results)


def _finish(found: AutomationRun, status: str, *, results: list | None = None, reason: str = "") -> dict:
    found.status, found.results, found.reason, found.error = status, results or [], reason, ""
    found.finished_at = utcnow()
    return {"run_id": found.id, "status": status}


def _record_failure(session: Session, run_id: int, exc: Exception, *, last: bool) -> None:
    """Keep the failure on the run, outside the job's transaction (which the engine rolls back)."""
    error = exc.message if isinstance(exc, CrmpmError) else f"{exc.__class__.__name__}: {exc}"
    session.rollback()  # the actions done so far go; SQLite's write lock is let go for the run's row
    with db.transaction() as other:
        failed = other.get(AutomationRun, run_id)
        failed.attempts += 1
        failed.status, failed.error = ("failed" if last else "retrying"), error[:4000]
        if last:
            failed.finished_at = utcnow()


class Acting:
    """One run's actions, done with the author's rights for one deal or lead."""

    def __init__(self, *, session: Session, rule: AutomationRule, author: User, subject: Deal | Lead,
                 at: datetime, run_id: int, previous_stage_id: int | None) -> None:
        self.session, self.rule, self.author, self.subject, self.at = session, rule, author, subject, at
        self.run_id = run_id
        self.is_lead = isinstance(subject, Lead)
        self.fields = (lead_fields(session, subject) if self.is_lead
                       else deal_fields(session, subject, previous_stage_id=previous_stage_id))

    def act(self, action: dict) -> dict:
        return getattr(self, f"_{action['type']}")(action)

    def render(self, source: str, what: str) -> str:
        return render_user_template(source, self.fields, what=what)

    @property
    def place(self):
        """The EPS object whose readers may be told about the subject."""
        return self.subject.region_node if self.is_lead else self.subject.project

    def reads(self, user: User | None) -> bool:
        return (user is not None and user.is_active
                and access_to(self.session, user=user, obj=self.place).can(Permission.read))

    def person(self, target: str) -> tuple[User | None, str]:
        """The user ``target`` names for this subject, or None with the reason."""
        kind, number = rules.target_of(target)
        owner_id = self.subject.owner_id
        if kind == "owner":
            user = self.session.get(User, owner_id) if owner_id else None
            return user, "" if user else "it has no owner"
        if kind == "owner_manager":
            user = manager_of(self.session, user_id=owner_id, place=self.place)
            return user, "" if user else "nobody manages its owner's branch"
        if kind == "user":
            return self.session.get(User, number), f"user {number} not found"
        team = self.session.get(Team, number)
        if team is None:
            return None, f"team {number} not found"
        eligible = {user.id for user in team.members if self.reads(user)}
        user = routing.team_member_for(self.session, team=team, eligible_ids=eligible, now=self.at)
        return user, "" if user else f"nobody in team {team.name} can take it now"

    def _recipient(self, target: str) -> tuple[User | None, dict | None]:
        user, reason = self.person(target)
        if user is None:
            return None, _skipped(reason)
        if not self.reads(user):
            return None, _skipped(f"{user.name} may not read it")
        return user, None

    def _create_task(self, action: dict) -> dict:
        assignee, skipped = self._recipient(action["assignee"])
        if skipped:
            return skipped | {"type": "create_task"}
        owner = self.session.get(User, self.subject.owner_id) if self.subject.owner_id else None
        zone = ZoneInfo(owner.time_zone if owner is not None else DEFAULT_TIME_ZONE)
        due = rules.due_at(self.at, action["due_in_working_days"], zone)
        link = {"lead": self.subject} if self.is_lead else {"deal": self.subject}
        task = activities.create_task(self.session, actor=self.author, title=self.render(action["title"], "title"),
                                      due_at=due, assignee=assignee, **link)
        return {"type": "create_task", "status": "done", "task_id": task.id, "assignee_id": assignee.id,
                "due_at": due.isoformat(), "title": task.title}

    def _send_email(self, action: dict) -> dict:
        if action["to"] == "contact":
            contact = (self.session.get(Contact, self.subject.contact_id)
                       if not self.is_lead and self.subject.contact_id else None)
            address = contact.email if contact else (self.subject.email if self.is_lead else None)
            if not address:
                return {"type": "send_email", **_skipped("no contact e-mail")}
            if contact is not None and consent.opted_out(self.session, contact_id=contact.id, channel="email"):
                return {"type": "send_email", **_skipped("the contact opted out of e-mail")}
        else:
            user, skipped = self._recipient(action["to"])
            if skipped:
                return skipped | {"type": "send_email"}
            address = user.email
        subject = " ".join(self.render(action["subject"], "subject").split())
        # Mail to the client is filed in its journal once sent (``accounts.mail_journal``); mail to staff is not.
        about = self.subject if action["to"] == "contact" else None
        job = send_later(self.session, Message(to=[address], subject=subject, text=self.render(action["body"], "body")),
                         actor=self.author, about=about)
        return {"type": "send_email", "status": "done", "to": address, "subject": subject, "mail_job_id": job.id}

    def _notify(self, action: dict) -> dict:
        user, skipped = self._recipient(action["to"])
        if skipped:
            return skipped | {"type": "notify"}
        text = " ".join(self.render(action["text"], "text").split())[:1000]
        notifications.notify(self.session, user_id=user.id, kind="automation", subject=subject_of(self.subject),
                             params={"text": text, "rule": self.rule.name})
        return {"type": "notify", "status": "done", "user_id": user.id, "name": user.name, "text": text}

    def _call_webhook(self, action: dict) -> dict:
        """An ``automation.webhook`` event addressed to the webhook: its consumer (``accounts.webhooks``) delivers
        it, signed, with the webhook module's guard, retries and log, if the webhook's owner may read the deal."""
        webhook = self.session.get(Webhook, action["webhook_id"])
        if webhook is None or not webhook.active:
            return {"type": "call_webhook", **_skipped(f"webhook {action['webhook_id']} is gone or disabled")}
        facts = {"webhook_id": webhook.id, "rule_id": self.rule.id, "rule": self.rule.name, "run_id": self.run_id}
        if not self.is_lead:
            facts |= {"stage_id": self.subject.stage_id, "amount": self.subject.amount,
                      "currency": self.subject.currency, "owner_id": self.subject.owner_id}
        events.record(self.session, "automation.webhook", self.subject, facts, actor=self.author)
        # Its address is not kept on the run: the deal's readers see the run, and the URL is its owner's.
        return {"type": "call_webhook", "status": "done", "webhook_id": webhook.id}

    def _set_field(self, action: dict) -> dict:
        value = action["value"]
        if action["field"] == "next_step":
            value = self.render(value, "value")[:500]
        update_deal(self.session, actor=self.author, deal=self.subject, **{action["field"]: value})
        return {"type": "set_field", "status": "done", "field": action["field"], "value": value}

    def _move_stage(self, action: dict) -> dict:
        stage = self.session.get(PipelineStage, action["to_stage_id"])
        if self.subject.stage_id != self.rule.stage_id:
            return {"type": "move_stage", **_skipped("the deal has left the stage")}
        move_stage(self.session, actor=self.author, deal=self.subject, stage=stage,
                   note=f"automation: {self.rule.name}"[:500])
        return {"type": "move_stage", "status": "done", "to_stage_id": stage.id, "stage": stage.name}


def _skipped(reason: str) -> dict:
    return {"status": "skipped", "reason": reason}


def manager_of(session: Session, *, user_id: int | None, place) -> User | None:
    """The manager of a deal's (or lead's) owner: the active user, other than the owner, holding a manager grant
    on the nearest EPS node above ``place`` that has one (the lowest grant id there); None when none does."""
    node_ids = [int(part) for part in place.path.strip("/").split("/") if not part.startswith("p")]
    grants = session.execute(
        select(Grant.eps_node_id, User).join(User, User.id == Grant.user_id)
        .where(Grant.eps_node_id.in_(node_ids), Grant.role == Role.manager, User.is_active.is_(True),
               User.id != (user_id or 0)).order_by(Grant.id)).all()
    by_node = {}
    for node_id, user in grants:
        by_node.setdefault(node_id, user)
    return next((by_node[node_id] for node_id in reversed(node_ids) if node_id in by_node), None)


def deal_fields(session: Session, deal: Deal, *, previous_stage_id: int | None = None) -> dict:
    """The values of ``rules.DEAL_FIELDS`` for ``deal``."""
    owner = session.get(User, deal.owner_id) if deal.owner_id else None
    contact = session.get(Contact, deal.contact_id) if deal.contact_id else None
    previous = session.get(PipelineStage, previous_stage_id) if previous_stage_id else None
    return {"deal_id": deal.id, "deal_name": deal.project.name, "amount": deal.amount, "currency": deal.currency,
            "stage": deal.stage.name, "previous_stage": previous.name if previous else "",
            "pipeline": deal.pipeline.name, "probability": deal.effective_probability, "product": deal.product,
            "next_step": deal.next_step, "expected_close": deal.expected_close.isoformat() if deal.expected_close else "",
            "owner_name": owner.name if owner else "", "owner_email": owner.email if owner else "",
            "account_name": deal.account.name,
            "contact_name": " ".join(p for p in (contact.first_name, contact.last_name) if p) if contact else "",
            "contact_email": (contact.email or "") if contact else ""}


def lead_fields(session: Session, lead: Lead) -> dict:
    """The values of ``rules.LEAD_FIELDS`` for ``lead``."""
    owner = session.get(User, lead.owner_id) if lead.owner_id else None
    return {"lead_id": lead.id, "company": lead.company, "contact_name": lead.contact_name, "email": lead.email or "",
            "phone": lead.phone or "", "source": lead.source, "product": lead.product, "message": lead.message,
            "owner_name": owner.name if owner else "", "owner_email": owner.email if owner else ""}


# Idle deals


@periodic(minute="*/15")
def check_idle(ctx: JobContext) -> dict:
    """Every quarter of an hour: a run of each idle rule for the deals idle in its stage (``automation.idle``)."""
    return {"started": start_idle_runs(ctx.session)}


def start_idle_runs(session: Session, *, now: datetime | None = None) -> int:
    """Start a run of every active idle rule for each deal in its stage since ``idle_days`` days or more with
    no interaction and no task created or done in those days; once per (rule, deal, stage entry)."""
    now = now or utcnow()
    started = 0
    for rule in session.scalars(select(AutomationRule).where(AutomationRule.active.is_(True),
                                                             AutomationRule.trigger == "deal.idle")):
        since = now - timedelta(days=rule.idle_days)
        touched = or_(
            exists().where(Interaction.deal_id == Deal.id, Interaction.occurred_at >= since),
            exists().where(Task.deal_id == Deal.id, or_(Task.created_at >= since, Task.completed_at >= since)))
        deals = session.scalars(select(Deal).where(Deal.stage_id == rule.stage_id, Deal.stage_entered_at <= since,
                                                   ~touched).order_by(Deal.id).limit(IDLE_BATCH)).all()
        for deal in deals:
            key = f"idle:{deal.id}:{deal.stage_entered_at.isoformat()}"[:80]
            if start_run(session, rule=rule, subject=deal, key=key, at=now) is not None:
                started += 1
    return started


__all__ = ["KIND", "check_idle", "deal_fields", "handle", "lead_fields", "manager_of", "run", "start_idle_runs",
           "start_run", "unmet"]

"""Lead routing, absences and handovers.

For each active routing rule (one per sales team, lowest priority first) a new
lead goes, in this order:

1. to the owner of the existing client it comes from, if the rule prefers that and the owner is available;
2. otherwise to the rule's members who are eligible (the lead's branch lies in
   their territory, its product among their products or skills), available (not
   absent, inside working hours) and under capacity for the period;
3. among those, by fairness: the least recently assigned (round robin) or the
   one with the fewest open leads and deals (least load).

Every assignment is recorded with the rule and the step that chose it. A new
lead nobody can take now is not lost: it stays unassigned in the queue with
the reason (``route_or_queue``) until someone routes or assigns it. An
absence with a deputy hands the absent person's open deals and tasks to the
deputy and gives them back when it ends; the records themselves (and their
history with the client) stay where they are. For the time of the absence the
deputy holds editor grants where they need them for that work (recorded in
``handover_grants``, revoked on the return).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from crmpm import audit, events
from crmpm.database import utcnow
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound, Phrase
from crmpm.search import equals
from crmpm.users import services as users
from crmpm.users.models import Team, User
from eps import grants
from eps.models import EpsNode, Grant, Project, Role, node_segment
from eps.permissions import Permission, access_to

from accounts.models import (
    Absence, Account, CapacityPeriod, ChannelType, Contact, ContactChannel, Deal, Fairness, HandoverGrant,
    HandoverItem, Lead, LeadAssignment, LeadStatus, PipelineStage, RoutingMember, RoutingRule, StageKind, Task,
    TaskStatus,
)
from accounts import resource_absences
from accounts.models import LEAD_STATUS_WORDS
from accounts.permissions import authorize_on

OPEN_LEAD = (LeadStatus.new, LeadStatus.assigned)


# Rules


def get_rule_or_raise(session: Session, *, rule_id: int) -> RoutingRule:
    """The routing rule with this id, or NotFound."""
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound("routing rule {rule_id} not found", rule_id=rule_id)
    return rule


def list_rules(session: Session):
    """A select of routing rules in the order they are tried."""
    return select(RoutingRule).order_by(RoutingRule.priority, RoutingRule.id)


def _members(session: Session, *, team: Team, members: list[dict]) -> list[RoutingMember]:
    made, seen = [], set()
    team_ids = {member.id for member in team.members}
    for index, data in enumerate(members):
        field = f"members.{index}"
        user = users.get_or_raise(session, user_id=data["user_id"], field=f"{field}.user_id")
        if not user.is_active:
            raise Invalid("user {email} is inactive",
                          email=user.email, errors={f"{field}.user_id": ["inactive user"]})
        if user.id not in team_ids:
            raise Invalid("user {email} is not in team {name}", email=user.email, name=team.name,
                          errors={f"{field}.user_id": ["not a member of the team"]})
        if user.id in seen:
            raise Invalid("user {email} is listed twice",
                          email=user.email, errors={f"{field}.user_id": ["listed twice"]})
        seen.add(user.id)
        territories = list(dict.fromkeys(data.get("territories") or []))
        known = set(session.scalars(select(EpsNode.id).where(EpsNode.id.in_(territories)))) if territories else set()
        if set(territories) - known:
            raise Invalid("unknown EPS nodes {node_ids}",
                          node_ids=sorted(set(territories) - known),
                          errors={f"{field}.territories": ["unknown EPS node ids"]})
        start, end = data.get("work_start_hour", 0), data.get("work_end_hour", 24)
        if not 0 <= start < end <= 24:
            raise Invalid("working hours run from a start hour to a later end hour, 0 to 24",
                          errors={f"{field}.work_start_hour": ["0 <= start < end <= 24"]})
        days = sorted(set(data.get("work_days") or [1, 2, 3, 4, 5, 6, 7]))
        if not set(days) <= set(range(1, 8)):
            raise Invalid("working days are ISO weekdays 1 (Monday) to 7", errors={f"{field}.work_days": ["1 to 7"]})
        zone = data.get("timezone") or "UTC"
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid("unknown time zone {zone!r}",
                          zone=zone, errors={f"{field}.timezone": ["unknown time zone"]}) from None
        capacity = data.get("capacity")
        if capacity is not None and capacity < 0:
            raise Invalid("capacity cannot be negative", errors={f"{field}.capacity": ["must not be negative"]})
        made.append(RoutingMember(user_id=user.id, territories=territories,
                                  products=[str(p).strip().lower() for p in data.get("products") or []],
                                  capacity=capacity, work_start_hour=start, work_end_hour=end, work_days=days,
                                  timezone=zone))
    return made


def create_rule(session: Session, *, actor: User, name: str, team: Team, members: list[dict], priority: int = 100,
                fairness: Fairness = Fairness.round_robin, capacity: int | None = None,
                capacity_period: CapacityPeriod = CapacityPeriod.day, prefer_account_owner: bool = True,
                is_active: bool = True) -> RoutingRule:
    """A routing rule for a sales team with its members' territories, skills, hours and capacity (administrators)."""
    if not actor.is_admin:
        raise Forbidden("only administrators configure lead routing")
    name = name.strip()
    if session.scalar(select(RoutingRule.id).where(RoutingRule.name == name)) is not None:
        raise Conflict("a routing rule named {name!r} exists", name=name, errors={"name": ["already in use"]})
    if capacity is not None and capacity < 0:
        raise Invalid("capacity cannot be negative", errors={"capacity": ["must not be negative"]})
    rule = RoutingRule(name=name, team_id=team.id, priority=priority, fairness=Fairness(fairness), capacity=capacity,
                       capacity_period=CapacityPeriod(capacity_period), prefer_account_owner=prefer_account_owner,
                       is_active=is_active)
    rule.members = _members(session, team=team, members=members)
    session.add(rule)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=rule, after=rule.audit_state())
    return rule


def update_rule(session: Session, *, actor: User, rule: RoutingRule, **changes) -> RoutingRule:
    """Change a routing rule; ``members`` replaces the member list (administrators)."""
    if not actor.is_admin:
        raise Forbidden("only administrators configure lead routing")
    before = rule.audit_state()
    if "name" in changes and changes["name"].strip() != rule.name:
        name = changes.pop("name").strip()
        if session.scalar(select(RoutingRule.id).where(RoutingRule.name == name)) is not None:
            raise Conflict("a routing rule named {name!r} exists", name=name, errors={"name": ["already in use"]})
        rule.name = name
    changes.pop("name", None)
    if "team" in changes:
        rule.team_id = changes.pop("team").id
        session.flush()
        session.refresh(rule, ["team"])
    if "members" in changes:
        members = _members(session, team=rule.team, members=changes.pop("members"))
        rule.members = []
        session.flush()
        rule.members = members
    if changes.get("capacity") is not None and changes["capacity"] < 0:
        raise Invalid("capacity cannot be negative", errors={"capacity": ["must not be negative"]})
    for key, value in changes.items():
        if key == "fairness":
            value = Fairness(value)
        elif key == "capacity_period":
            value = CapacityPeriod(value)
        setattr(rule, key, value)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=rule, before=before, after=rule.audit_state())
    return rule


def delete_rule(session: Session, *, actor: User, rule: RoutingRule) -> None:
    """Delete a routing rule; past assignments keep their record (administrators)."""
    if not actor.is_admin:
        raise Forbidden("only administrators configure lead routing")
    audit.record(session, actor=actor, action="delete", entity=rule, before=rule.audit_state())
    session.delete(rule)
    session.flush()


# Absences and availability


def create_absence(session: Session, *, actor: User, user: User, starts_at: datetime, ends_at: datetime,
                   deputy: User | None = None, reason: str = "") -> Absence:
    """An absence period for ``user`` (themselves or an administrator), optionally with a deputy."""
    if not actor.is_admin and actor.id != user.id:
        raise Forbidden("only administrators record other people's absences")
    if ends_at <= starts_at:
        raise Invalid("an absence ends after it starts", errors={"ends_at": ["not after starts_at"]})
    if deputy is not None:
        if not deputy.is_active:
            raise Invalid("user {email} is inactive",
                          email=deputy.email, errors={"deputy_id": ["inactive user"]})
        if deputy.id == user.id:
            raise Invalid("nobody deputizes for themselves", errors={"deputy_id": ["same as the absent user"]})
    absence = Absence(user_id=user.id, starts_at=starts_at, ends_at=ends_at,
                      deputy_id=deputy.id if deputy else None, reason=reason.strip()[:200])
    session.add(absence)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=absence, after=absence.audit_state())
    resource_absences.absence_taken(session, actor=actor, absence=absence)
    return absence


def get_absence_or_raise(session: Session, *, user: User, absence_id: int) -> Absence:
    """The absence, if ``user`` is an administrator, the absent person or the deputy."""
    absence = session.get(Absence, absence_id)
    if absence is None or not (user.is_admin or user.id in (absence.user_id, absence.deputy_id)):
        raise NotFound("absence {absence_id} not found", absence_id=absence_id)
    return absence


def list_absences(session: Session, *, user: User, user_id: int | None = None, at: datetime | None = None):
    """A select of absences (administrators: all; others: their own and those they deputize for)."""
    query = select(Absence).order_by(Absence.starts_at.desc(), Absence.id.desc())
    if not user.is_admin:
        query = query.where(or_(Absence.user_id == user.id, Absence.deputy_id == user.id))
    if user_id is not None:
        query = query.where(Absence.user_id == user_id)
    if at is not None:
        query = query.where(Absence.starts_at <= at, Absence.ends_at > at)
    return query


def delete_absence(session: Session, *, actor: User, absence: Absence) -> None:
    """Cancel an absence; anything handed over comes back first."""
    if not actor.is_admin and actor.id != absence.user_id:
        raise Forbidden("only the absent person or an administrator cancels an absence")
    if absence.handed_over_at is not None and absence.returned_at is None:
        give_back(session, actor=actor, absence=absence)
    resource_absences.absence_given_back(session, actor=actor, absence=absence)
    audit.record(session, actor=actor, action="delete", entity=absence, before=absence.audit_state())
    session.delete(absence)
    session.flush()


def end_absence(session: Session, *, actor: User, absence: Absence, ends_at: datetime) -> Absence:
    """End an absence early (the absent person or an administrator): the days after it are working days again
    on their resource's calendar."""
    if not actor.is_admin and actor.id != absence.user_id:
        raise Forbidden("only the absent person or an administrator changes an absence")
    if not absence.starts_at < ends_at <= absence.ends_at:
        raise Invalid("an absence ended early ends after it starts and before it was to end",
                      errors={"ends_at": ["between the start and the end"]})
    before, old_ends_at = absence.audit_state(), absence.ends_at
    absence.ends_at = ends_at
    session.flush()
    audit.record(session, actor=actor, action="update", entity=absence, before=before, after=absence.audit_state())
    resource_absences.absence_shortened(session, actor=actor, absence=absence, old_ends_at=old_ends_at)
    return absence


def is_absent(session: Session, *, user_id: int, at: datetime) -> bool:
    """Whether an absence of the user covers ``at``."""
    return session.scalar(select(Absence.id).where(Absence.user_id == user_id, Absence.starts_at <= at,
                                                   Absence.ends_at > at).limit(1)) is not None


def in_working_hours(member: RoutingMember, at: datetime) -> bool:
    """Whether ``at`` falls on one of the member's working days and hours, in their time zone."""
    local = at.astimezone(ZoneInfo(member.timezone))
    return local.isoweekday() in member.work_days and member.work_start_hour <= local.hour < member.work_end_hour


def _period_start(period: CapacityPeriod, at: datetime, zone: str) -> datetime:
    local = at.astimezone(ZoneInfo(zone)).replace(hour=0, minute=0, second=0, microsecond=0)
    if period is CapacityPeriod.week:
        local -= timedelta(days=local.weekday())
    elif period is CapacityPeriod.month:
        local = local.replace(day=1)
    return local


# Routing


def existing_client(session: Session, *, lead: Lead) -> Account | None:
    """The unmerged account a lead comes from: by tax id, then a contact's email or phone, then the exact name."""
    if lead.tax_id:
        account = session.scalars(select(Account).where(Account.tax_id == lead.tax_id,
                                                        Account.merged_into_id.is_(None)).order_by(Account.id)).first()
        if account is not None:
            return account
    keys = [Contact.id.in_(ContactChannel.holders(channel_type, value))
            for channel_type, value in ((ChannelType.email, lead.email), (ChannelType.phone, lead.phone)) if value]
    if keys:
        account = session.scalars(select(Account).join(Contact, Contact.account_id == Account.id)
                                  .where(or_(*keys), Account.merged_into_id.is_(None)).order_by(Account.id)).first()
        if account is not None:
            return account
    if lead.company:
        return session.scalars(select(Account).where(equals(Account.name, lead.company),
                                                     Account.merged_into_id.is_(None)).order_by(Account.id)).first()
    return None


def _record(session: Session, *, actor: User | None, lead: Lead, user: User, rule: RoutingRule | None, reason: str,
            details: dict, at: datetime) -> LeadAssignment:
    before = lead.audit_state()
    previous_owner_id = lead.owner_id
    lead.owner_id = user.id
    lead.status = LeadStatus.assigned
    lead.routing_reason = None
    assignment = LeadAssignment(lead_id=lead.id, user_id=user.id, rule_id=rule.id if rule else None, reason=reason,
                                details=details, at=at, actor_id=actor.id if actor else None)
    session.add(assignment)
    session.flush()
    audit.record(session, actor=actor, action="assign", entity=lead, before=before,
                 after={**lead.audit_state(), "rule_id": assignment.rule_id, "reason": reason})
    events.record(session, "lead.assigned", lead,
                  {"owner_id": user.id, "previous_owner_id": previous_owner_id, "reason": reason,
                   "rule_id": assignment.rule_id}, actor=actor)
    return assignment


def assign_lead(session: Session, *, actor: User, lead: Lead, user: User) -> LeadAssignment:
    """Give a lead to a user by hand (edit rights on its branch); recorded as a manual assignment."""
    authorize_on(session, user=actor, obj=lead, governed_by=lead.region_node, label="lead",
                 permission=Permission.edit)
    if not user.is_active:
        raise Invalid("user {email} is inactive", email=user.email, errors={"owner_id": ["inactive user"]})
    if lead.status not in OPEN_LEAD:
        raise Conflict("lead {lead_id} is {status}",
                       lead_id=lead.id, status=LEAD_STATUS_WORDS[lead.status], errors={"status": [lead.status.value]})
    return _record(session, actor=actor, lead=lead, user=user, rule=None, reason="manual", details={}, at=utcnow())


def _open_load(session: Session, user_ids: list[int]) -> dict[int, int]:
    leads = dict(session.execute(select(Lead.owner_id, func.count()).where(
        Lead.owner_id.in_(user_ids), Lead.status == LeadStatus.assigned).group_by(Lead.owner_id)).all())
    deals = dict(session.execute(select(Deal.owner_id, func.count()).join(
        PipelineStage, PipelineStage.id == Deal.stage_id).where(
        Deal.owner_id.in_(user_ids), PipelineStage.kind == StageKind.open).group_by(Deal.owner_id)).all())
    return {user_id: leads.get(user_id, 0) + deals.get(user_id, 0) for user_id in user_ids}


def team_member_for(session: Session, *, team: Team, eligible_ids: set[int],
                    now: datetime | None = None) -> User | None:
    """The member of ``team`` a piece of work goes to: among the active members in ``eligible_ids`` who are not
    absent now, the one with the least load (open leads and deals, as ``least_load`` routing counts it), then
    the lowest id; None when nobody can take it. (Automation rules giving a task "to a team".)"""
    now = now or utcnow()
    members = [user for user in team.members if user.is_active and user.id in eligible_ids
               and not is_absent(session, user_id=user.id, at=now)]
    if not members:
        return None
    load = _open_load(session, [user.id for user in members])
    return min(members, key=lambda user: (load[user.id], user.id))


def _last_assigned(session: Session, user_ids: list[int]) -> dict[int, datetime]:
    return dict(session.execute(select(LeadAssignment.user_id, func.max(LeadAssignment.at))
                                .where(LeadAssignment.user_id.in_(user_ids))
                                .group_by(LeadAssignment.user_id)).all())


def _assigned_since(session: Session, *, user_id: int, since: datetime) -> int:
    return session.scalar(select(func.count()).select_from(LeadAssignment).where(
        LeadAssignment.user_id == user_id, LeadAssignment.at >= since))


def _eligible(member: RoutingMember, lead: Lead) -> bool:
    in_territory = not member.territories or any(f"/{node_segment(node_id)}/" in lead.region_node.path
                                                 for node_id in member.territories)
    has_product = not member.products or not lead.product or lead.product.strip().lower() in member.products
    return in_territory and has_product


def route_lead(session: Session, *, actor: User | None, lead: Lead, now: datetime | None = None) -> LeadAssignment:
    """Assign a new lead by the routing rules (see the module docstring); Conflict when nobody can take it now."""
    chosen = _route(session, actor=actor, lead=lead, now=now or utcnow())
    if isinstance(chosen, LeadAssignment):
        return chosen
    raise Conflict("no routing rule has a member who can take this lead now",
                   errors={"owner_id": [str(reason) for reason in chosen]})


def route_or_queue(session: Session, *, actor: User | None, lead: Lead,
                   now: datetime | None = None) -> LeadAssignment | None:
    """Route a new lead; when nobody can take it now it stays unassigned in the queue with the reason (None).

    An inbound lead is never dropped for want of someone available: it waits
    in the lead inbox ("unassigned") for whoever may see its branch.
    """
    now = now or utcnow()
    chosen = _route(session, actor=actor, lead=lead, now=now)
    if isinstance(chosen, LeadAssignment):
        return chosen
    before = lead.audit_state()
    lead.routing_reason = {"at": now.isoformat(),
                           "reasons": [{"template": reason.template, "params": reason.params} for reason in chosen]}
    session.flush()
    audit.record(session, actor=actor, action="queue", entity=lead, before=before,
                 after={**lead.audit_state(), "reason": "; ".join(str(reason) for reason in chosen)})
    return None


def queue_reasons(lead: Lead) -> list[Phrase]:
    """Why routing left ``lead`` unassigned, as phrases (empty once someone has it)."""
    if not lead.routing_reason or lead.owner_id is not None:
        return []
    return [Phrase(reason["template"], **reason.get("params", {})) for reason in lead.routing_reason["reasons"]]


def _route(session: Session, *, actor: User | None, lead: Lead, now: datetime) -> LeadAssignment | list[Phrase]:
    """The assignment the routing rules make, or the reasons nobody can take the lead now."""
    if actor is not None:
        authorize_on(session, user=actor, obj=lead, governed_by=lead.region_node, label="lead",
                     permission=Permission.edit)
    if lead.status not in OPEN_LEAD:
        raise Conflict("lead {lead_id} is {status}",
                       lead_id=lead.id, status=LEAD_STATUS_WORDS[lead.status], errors={"status": [lead.status.value]})
    rules = session.scalars(select(RoutingRule).where(RoutingRule.is_active.is_(True))
                            .order_by(RoutingRule.priority, RoutingRule.id)).all()
    client = existing_client(session, lead=lead)
    reasons = []
    for rule in rules:
        if rule.prefer_account_owner and client is not None and client.owner_id is not None:
            owner = session.get(User, client.owner_id)
            if owner.is_active and not is_absent(session, user_id=owner.id, at=now):
                return _record(session, actor=actor, lead=lead, user=owner, rule=rule, reason="existing_client",
                               details={"account_id": client.id}, at=now)
            reasons.append(Phrase("{rule}: the owner of the existing client is unavailable", rule=rule.name))
        members = [m for m in rule.members if m.user.is_active]
        eligible = [m for m in members if _eligible(m, lead)]
        available = [m for m in eligible
                     if not is_absent(session, user_id=m.user_id, at=now) and in_working_hours(m, now)]
        under = []
        for member in available:
            cap = member.capacity if member.capacity is not None else rule.capacity
            if cap is None or _assigned_since(
                    session, user_id=member.user_id,
                    since=_period_start(rule.capacity_period, now, member.timezone)) < cap:
                under.append(member)
        if not under:
            reasons.append(Phrase("{rule}: {eligible} eligible, {available} available, none under capacity",
                                  rule=rule.name, eligible=len(eligible), available=len(available)))
            continue
        ids = [member.user_id for member in under]
        last = _last_assigned(session, ids)
        never = datetime.min.replace(tzinfo=now.tzinfo)
        if rule.fairness is Fairness.least_load:
            load = _open_load(session, ids)
            chosen = min(under, key=lambda m: (load[m.user_id], last.get(m.user_id) or never, m.user_id))
        else:
            chosen = min(under, key=lambda m: (last.get(m.user_id) or never, m.user_id))
        return _record(session, actor=actor, lead=lead, user=chosen.user, rule=rule, reason=rule.fairness.value,
                       details={"eligible": [m.user_id for m in eligible], "available": [m.user_id for m in available],
                                "under_capacity": ids}, at=now)
    return reasons or [Phrase("no active routing rules")]


def list_assignments(session: Session, *, lead: Lead) -> list[LeadAssignment]:
    """The assignments of a lead, oldest first."""
    return list(session.scalars(select(LeadAssignment).where(LeadAssignment.lead_id == lead.id)
                                .order_by(LeadAssignment.at, LeadAssignment.id)))


# Handover


def hand_over(session: Session, *, actor: User, absence: Absence) -> int:
    """Give the absent person's open deals and tasks to the deputy for the absence; returns how many moved.

    The deputy also gets editor rights where they lack them to work what they
    received (each deal's project; each task's account, or its lead's branch):
    grants recorded with the absence and taken back when the work is given back.
    """
    if not actor.is_admin and actor.id != absence.user_id:
        raise Forbidden("only the absent person or an administrator hands work over")
    if absence.deputy_id is None:
        raise Invalid("this absence has no deputy", errors={"deputy_id": ["required for a handover"]})
    if absence.handed_over_at is not None and absence.returned_at is None:
        raise Conflict("absence {absence_id} is already handed over", absence_id=absence.id)
    deals = session.scalars(select(Deal).join(PipelineStage, PipelineStage.id == Deal.stage_id).where(
        Deal.owner_id == absence.user_id, PipelineStage.kind == StageKind.open)).all()
    tasks = session.scalars(select(Task).where(Task.assignee_id == absence.user_id,
                                               Task.status == TaskStatus.open)).all()
    for deal in deals:
        deal.owner_id = absence.deputy_id
        session.add(HandoverItem(absence_id=absence.id, deal_id=deal.id))
    for task in tasks:
        task.assignee_id = absence.deputy_id
        session.add(HandoverItem(absence_id=absence.id, task_id=task.id))
    absence.handed_over_at = utcnow()
    absence.returned_at = None
    granted = _grant_deputy(session, actor=actor, absence=absence, targets=_work_places(session, deals, tasks))
    session.flush()
    audit.record(session, actor=actor, action="hand_over", entity=absence,
                 after={"deputy_id": absence.deputy_id, "deal_ids": [d.id for d in deals],
                        "task_ids": [t.id for t in tasks], "grant_ids": [g.id for g in granted]})
    _owners_changed(session, actor=actor, deal_ids=[deal.id for deal in deals], owner_id=absence.deputy_id,
                    previous_owner_id=absence.user_id, reason="handover")
    return len(deals) + len(tasks)


def _work_places(session: Session, deals: list[Deal], tasks: list[Task]) -> list[EpsNode | Project]:
    """Where the rights to work these deals and tasks are granted: each deal's project, each task's account or lead."""
    places: dict[tuple[str, int], EpsNode | Project] = {}
    for deal in deals:
        places[("project", deal.project_id)] = deal.project
    for task in tasks:
        node = (session.get(Account, task.account_id).eps_node if task.account_id
                else session.get(Lead, task.lead_id).region_node)
        places[("node", node.id)] = node
    return list(places.values())


def _grant_deputy(session: Session, *, actor: User | None, absence: Absence,
                  targets: list[EpsNode | Project]) -> list[Grant]:
    """Give the deputy editor rights where they lack them for the handed-over work, recorded for the return."""
    deputy = session.get(User, absence.deputy_id)
    made = []
    for target in targets:
        if access_to(session, user=deputy, obj=target).can(Permission.edit):
            continue
        grant = grants.delegate(session, actor=actor, role=Role.editor, target=target, user=deputy,
                                reason=f"deputy during absence {absence.id}")
        session.add(HandoverGrant(absence_id=absence.id, grant_id=grant.id, role=Role.editor.value,
                                  eps_node_id=grant.eps_node_id, project_id=grant.project_id))
        made.append(grant)
    return made


def _revoke_deputy_grants(session: Session, *, actor: User | None, absence: Absence) -> list[int]:
    """Take back the grants the deputy received for the absence; the ids of those still there."""
    revoked = []
    for record in session.scalars(select(HandoverGrant).where(HandoverGrant.absence_id == absence.id,
                                                              HandoverGrant.revoked_at.is_(None))):
        grant = session.get(Grant, record.grant_id) if record.grant_id is not None else None
        if grant is not None:  # a manager may have taken it away already
            revoked.append(grant.id)
            grants.end_delegation(session, actor=actor, grant=grant, reason=f"absence {absence.id} over")
        record.grant_id = None
        record.revoked_at = utcnow()
    return revoked


def _regrant_other_absences(session: Session, *, actor: User | None, absence: Absence) -> None:
    """After a return, give the deputy again what their other running absences need.

    The grants just revoked may have been all that let the deputy work another
    absence's handed-over deals or tasks (that one needed no grant of its own at
    hand-over time), so each running absence of the same deputy is checked again.
    """
    others = session.scalars(select(Absence).where(
        Absence.deputy_id == absence.deputy_id, Absence.id != absence.id,
        Absence.handed_over_at.is_not(None), Absence.returned_at.is_(None))).all()
    for other in others:
        items = session.scalars(select(HandoverItem).where(HandoverItem.absence_id == other.id,
                                                           HandoverItem.returned.is_(False))).all()
        deals = [session.get(Deal, item.deal_id) for item in items if item.deal_id]
        tasks = [session.get(Task, item.task_id) for item in items if item.task_id]
        _grant_deputy(session, actor=actor, absence=other, targets=_work_places(session, deals, tasks))


def give_back(session: Session, *, actor: User | None, absence: Absence) -> int:
    """Return what was handed over and is still with the deputy, and revoke the deputy's grants; how many came back."""
    if actor is not None and not actor.is_admin and actor.id not in (absence.user_id, absence.deputy_id):
        raise Forbidden("only the absent person, the deputy or an administrator gives work back")
    items = session.scalars(select(HandoverItem).where(HandoverItem.absence_id == absence.id,
                                                       HandoverItem.returned.is_(False))).all()
    back, deals_back = [], []
    for item in items:
        record = session.get(Deal, item.deal_id) if item.deal_id else session.get(Task, item.task_id)
        attribute = "owner_id" if item.deal_id else "assignee_id"
        # Something the deputy passed on meanwhile stays where it went.
        if getattr(record, attribute) == absence.deputy_id:
            setattr(record, attribute, absence.user_id)
            back.append(f"{'deal' if item.deal_id else 'task'} {record.id}")
            if item.deal_id:
                deals_back.append(record.id)
        item.returned = True
    revoked = _revoke_deputy_grants(session, actor=actor, absence=absence)
    absence.returned_at = utcnow()
    session.flush()
    _regrant_other_absences(session, actor=actor, absence=absence)
    audit.record(session, actor=actor, action="give_back", entity=absence,
                 after={"returned": back, "revoked_grant_ids": revoked})
    _owners_changed(session, actor=actor, deal_ids=deals_back, owner_id=absence.user_id,
                    previous_owner_id=absence.deputy_id, reason="returned")
    return len(back)


def _owners_changed(session: Session, *, actor: User | None, deal_ids: list[int], owner_id: int,
                    previous_owner_id: int, reason: str) -> None:
    events.record_many(session, "deal.owner_changed", [
        (("deals", deal_id), {"owner_id": owner_id, "previous_owner_id": previous_owner_id, "reason": reason})
        for deal_id in deal_ids], actor=actor)


def process_handovers(session: Session, *, now: datetime | None = None) -> tuple[int, int]:
    """Hand over for absences that have begun and give back for those that have ended (a periodic job)."""
    now = now or utcnow()
    started = session.scalars(select(Absence).where(Absence.deputy_id.is_not(None), Absence.handed_over_at.is_(None),
                                                    Absence.starts_at <= now, Absence.ends_at > now)).all()
    ended = session.scalars(select(Absence).where(Absence.handed_over_at.is_not(None), Absence.returned_at.is_(None),
                                                  Absence.ends_at <= now)).all()
    for absence in started:
        hand_over(session, actor=session.get(User, absence.user_id), absence=absence)
    for absence in ended:
        give_back(session, actor=None, absence=absence)
    return len(started), len(ended)


def members_keeping(rule: RoutingRule | None, user_ids: list[int]) -> list[dict]:
    """The member list for ``user_ids``: members already under ``rule`` keep their territories, skills, hours
    and capacity; new ones serve everywhere, all hours, without a capacity of their own (change those by API)."""
    existing = {member.user_id: member for member in (rule.members if rule is not None else [])}
    made = []
    for user_id in dict.fromkeys(user_ids):
        member = existing.get(user_id)
        made.append({"user_id": user_id} if member is None else {
            "user_id": user_id, "territories": list(member.territories), "products": list(member.products),
            "capacity": member.capacity, "work_start_hour": member.work_start_hour,
            "work_end_hour": member.work_end_hour, "work_days": list(member.work_days), "timezone": member.timezone})
    return made


def shift_rule(session: Session, *, actor: User, rule: RoutingRule, by: int) -> RoutingRule:
    """Move a rule ``by`` places in the order rules are tried (-1 earlier); priorities are renumbered 10, 20, …
    (administrators)."""
    if not actor.is_admin:
        raise Forbidden("only administrators configure lead routing")
    rules = list(session.scalars(list_rules(session)))
    index = rules.index(rule)
    target = index + by
    if 0 <= target < len(rules):
        rules[index], rules[target] = rules[target], rules[index]
    for position, item in enumerate(rules, start=1):
        if item.priority != position * 10:
            update_rule(session, actor=actor, rule=item, priority=position * 10)
    return rule

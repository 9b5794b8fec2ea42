"""Timesheets: booking, submitting, approving per project, and period locks (no Flask).

The rules, each in one place here:

* **Who books.** Only the user linked to a resource (``Resource.user_id``) books its hours, and only on
  activities the resource is assigned to. The owner sees the whole of their own sheet (their assignments are
  what they book on); anyone else who may read the resource's sheet (an administrator, or someone who reads a
  project the resource is assigned to) sees only the lines of projects they may read, and the rest as one
  anonymous total (``hidden_hours``).
* **A week at a time.** ``save_week`` replaces the sheet's lines in one go and checks the whole week first:
  days inside the week, hours in quarter hours from 0 to 24, at most 24 hours a day in total, each activity
  an assignment of the resource, no line of a project already approved changed, no locked day touched. One
  error names every bad field (``lines.<n>.day``, ``.hours``, ``.activity_id``); nothing is written then.
* **Approval per project.** ``submit`` asks each project with hours on the sheet for a decision; a PM with
  edit rights on the project approves or rejects it (a reason is required to reject). The sheet is
  ``approved`` when every project approved, ``rejected`` when every project decided and one rejected; the
  owner corrects it (the approved projects' lines stay fixed) and submits again, which asks again only the
  projects that rejected or are new.
* **Actuals.** On approval, for each activity of the project on the sheet, the resource's assignment (its
  first, by id, when it has several on the activity) gets ``actual_units`` = the sum of all its approved hours
  on the activity (every week); its remaining units fall by the hours newly approved, never below zero
  (``remaining = max(remaining − Δactual, 0)``: that is ``max(budgeted − actual, 0)`` while remaining follows
  the budget, and it keeps an estimate set by hand as the work still left after the newly booked hours). The
  assignment's and the activity's actual start become the first approved day (00:00, project-local) when not
  set. Then ``costs.price_assignment``, ``costs.activity_costs_from_assignments`` and
  ``wbs.services.roll_up_costs`` carry the cost up to the project and the EPS.
* **Locks.** ``set_lock`` closes timesheets through a day, company-wide (administrators) or below an EPS node
  (budget rights on it: finance, administrators). A line on a locked day of its project can be neither
  changed, nor submitted, nor approved or rejected.

Every step is audited (``timesheet.save``, ``timesheet.submit``, ``approve``/``reject`` on the decision,
``timesheet.actuals`` on the assignment, ``create`` on the lock). Submitting records the event
``timesheet.submitted`` (about the sheet), each decision ``timesheet.decided`` (about the decision); their
readers are the resource's linked user and the editors of the projects concerned (``readable_sheet_ids``,
``readable_decision_ids``), and administrators.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from crmpm import audit, events
from crmpm.database import utcnow
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound
from crmpm.statements import built_once
from crmpm.users.models import User
from eps.models import EpsNode, Project
from eps.permissions import (
    ROLE_PERMISSIONS, Permission, access_to, accesses, authorize, keeps_books, principal_grant_paths, visible,
)
from wbs import services as wbs_services
from wbs.models import Activity
from wbs.resources import costs
from wbs.resources.models import Assignment, Resource
from wbs.resources.timesheet_models import (NOTE_LENGTH, REASON_LENGTH, Timesheet, TimesheetDecision, TimesheetLine,
                                            TimesheetLock)

__all__ = ["MAX_DAY_HOURS", "MAX_LINES", "QUARTER", "SheetView", "apply_actuals", "approval_queue", "approve",
           "editable_projects", "readable_decision_ids", "readable_sheet_ids",
           "authorize_lock", "get_decision_or_raise", "get_timesheet_or_raise", "resource_of_sheets_or_raise",
           "lines_of_decisions", "list_locks", "locked_through", "may_approve", "may_lock", "parse_week", "reject",
           "resource_of", "save_week", "set_lock", "sheet_view", "submit", "week_of"]

MAX_DAY_HOURS = Decimal("24")
QUARTER = Decimal("0.25")
MAX_LINES = 7 * 100  # a week of 100 activities
_ZERO = Decimal("0.00")
FIRST_YEAR, LAST_YEAR = 1900, 2999  # weeks outside are typing errors (and the calendar's ends are near)
_EDIT_ROLES = tuple(role for role, allowed in ROLE_PERMISSIONS.items() if Permission.edit in allowed)


# Weeks


def week_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def parse_week(text: str) -> date:
    """A week named by its Monday (``YYYY-MM-DD``); Invalid naming ``week`` otherwise."""
    try:
        day = date.fromisoformat(text) if isinstance(text, str) and len(text) == 10 else None
    except ValueError:
        day = None
    if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise Invalid("week must be a date (YYYY-MM-DD)", errors={"week": ["not a date (YYYY-MM-DD)"]})
    if day.weekday() != 0:
        raise Invalid("week must start on a Monday", errors={"week": ["not a Monday"]})
    return day


# Loading, with rights


def _reads_some_assignment(session: Session, user: User, resource: Resource) -> bool:
    return session.scalar(
        select(Assignment.id).join(Project, Project.id == Assignment.project_id)
        .where(Assignment.resource_id == resource.id, visible(session, user=user, model=Project)).limit(1)) is not None


def resource_of_sheets_or_raise(session: Session, *, user: User, resource_id: int) -> Resource:
    """A resource whose timesheets ``user`` may read: their own, or one assigned on a project they read (any for
    an administrator); NotFound otherwise."""
    resource = session.get(Resource, resource_id)
    if resource is not None and (user.is_admin or resource.user_id == user.id
                                 or _reads_some_assignment(session, user, resource)):
        return resource
    raise NotFound("resource {resource_id} not found", resource_id=resource_id)


def get_timesheet_or_raise(session: Session, *, user: User, timesheet_id: int) -> Timesheet:
    """A timesheet whose resource ``user`` may read (``resource_of_sheets_or_raise``); NotFound otherwise."""
    sheet = session.get(Timesheet, timesheet_id)
    if sheet is not None:
        try:
            resource_of_sheets_or_raise(session, user=user, resource_id=sheet.resource_id)
            return sheet
        except NotFound:
            pass
    raise NotFound("timesheet {timesheet_id} not found", timesheet_id=timesheet_id)


def _sheet(session: Session, resource: Resource, week: date) -> Timesheet | None:
    return session.scalar(select(Timesheet).where(Timesheet.resource_id == resource.id,
                                                  Timesheet.week_start == week))


def _own(user: User, resource: Resource) -> None:
    if resource.user_id != user.id:
        raise Forbidden("only the person linked to resource {code} books its timesheets", code=resource.code)


# Locks


def _lock_scopes(session: Session) -> dict[int | None, date]:
    """The lock in force per scope (None: company-wide): each scope's latest row."""
    latest: dict[int | None, tuple[int, date]] = {}
    for lock_id, node_id, through in session.execute(
            select(TimesheetLock.id, TimesheetLock.eps_node_id, TimesheetLock.locked_through)):
        if node_id not in latest or lock_id > latest[node_id][0]:
            latest[node_id] = (lock_id, through)
    return {scope: through for scope, (_id, through) in latest.items()}


def _node_ids_of(path: str) -> list[int]:
    return [int(segment) for segment in path.strip("/").split("/") if segment and not segment.startswith("p")]


def locked_through(session: Session, project_ids) -> dict[int, date | None]:
    """Each project's last locked day (the latest of the company's lock and its ancestors' locks), or None."""
    scopes = _lock_scopes(session)
    ids = set(project_ids)
    if not ids:
        return {}
    result: dict[int, date | None] = {}
    paths = dict(session.execute(select(Project.id, Project.path).where(Project.id.in_(ids))).all())
    for project_id in ids:
        days = [scopes[None]] if None in scopes else []
        days += [scopes[node_id] for node_id in _node_ids_of(paths.get(project_id, "")) if node_id in scopes]
        result[project_id] = max(days) if days else None
    return result


def _is_locked(locks: dict[int, date | None], project_id: int, day: date) -> bool:
    through = locks.get(project_id)
    return through is not None and day <= through


def authorize_lock(session: Session, *, actor: User, eps_node: EpsNode | None) -> None:
    """Raise unless ``actor`` may lock timesheets company-wide (administrators) or below ``eps_node`` (budget
    rights on it; NotFound when they cannot read it)."""
    if eps_node is None:
        if not actor.is_admin:
            raise Forbidden("only administrators lock timesheets for the whole company")
    else:
        authorize(session, user=actor, obj=eps_node, permission=Permission.budget)


def may_lock(session: Session, *, user: User) -> bool:
    """Whether ``user`` may lock timesheets anywhere (an administrator, or budget rights somewhere)."""
    return keeps_books(session, user=user)


def may_approve(session: Session, *, user: User) -> bool:
    """Whether ``user`` may approve timesheets anywhere (an administrator, or edit rights somewhere)."""
    return user.is_admin or bool(principal_grant_paths(session, user=user, roles=_EDIT_ROLES))


def resource_of(session: Session, *, user: User) -> Resource | None:
    """The resource ``user`` is linked to, if any."""
    return session.scalar(select(Resource).where(Resource.user_id == user.id))


def set_lock(session: Session, *, actor: User, eps_node: EpsNode | None, locked_through: date) -> TimesheetLock:
    """Close timesheets through ``locked_through``: company-wide (administrators) or below ``eps_node`` (budget
    rights on it). The latest lock of a scope is the one in force, so an earlier day opens a period again."""
    authorize_lock(session, actor=actor, eps_node=eps_node)
    lock = TimesheetLock(eps_node_id=eps_node.id if eps_node else None, locked_through=locked_through,
                         created_by_id=actor.id)
    session.add(lock)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=lock, after=lock.audit_state())
    return lock


def list_locks(session: Session, *, user: User):
    """A select of the locks ``user`` may see, newest first: company-wide ones and those of nodes they read."""
    node_visible = select(EpsNode.id).where(visible(session, user=user, model=EpsNode))
    return (select(TimesheetLock)
            .where(TimesheetLock.eps_node_id.is_(None) | TimesheetLock.eps_node_id.in_(node_visible))
            .order_by(TimesheetLock.id.desc()))


# Reading a week


@dataclass
class SheetView:
    """What ``user`` may see of a resource's week."""

    resource: Resource
    week_start: date
    timesheet: Timesheet | None
    lines: list[TimesheetLine]
    decisions: list[TimesheetDecision]
    activities: list[dict]
    hidden_hours: Decimal
    mine: bool
    days: list[date] = field(default_factory=list)

    @property
    def id(self):
        return self.timesheet.id if self.timesheet else None

    @property
    def status(self):
        return self.timesheet.status if self.timesheet else "draft"

    @property
    def resource_id(self):
        return self.resource.id

    @property
    def editable(self) -> bool:
        return self.mine and self.status in ("draft", "rejected")


def _readable_projects(session: Session, user: User, project_ids) -> set[int]:
    ids = sorted(set(project_ids))
    if user.is_admin:
        return set(ids)
    projects = session.scalars(select(Project).where(Project.id.in_(ids))).all() if ids else []
    return {project.id for project, access in zip(projects, accesses(session, user=user, objects=list(projects)))
            if access.can(Permission.read)}


def sheet_view(session: Session, *, user: User, resource: Resource, week: date) -> SheetView:
    """The resource's week as ``user`` may see it (the resource already loaded with
    ``resource_of_sheets_or_raise``)."""
    sheet = _sheet(session, resource, week)
    lines = list(sheet.lines) if sheet else []
    decisions = list(sheet.decisions) if sheet else []
    mine = resource.user_id == user.id
    rows = session.execute(
        select(Activity.id, Activity.code, Activity.name, Activity.project_id, Project.code, Project.name)
        .join(Assignment, Assignment.activity_id == Activity.id).join(Project, Project.id == Activity.project_id)
        .where(Assignment.resource_id == resource.id).distinct().order_by(Project.code, Activity.code)).all()
    booked = {line.activity_id for line in lines}
    extra = booked - {row[0] for row in rows}
    if extra:  # booked once, no longer assigned: still shown with its hours
        rows += session.execute(
            select(Activity.id, Activity.code, Activity.name, Activity.project_id, Project.code, Project.name)
            .join(Project, Project.id == Activity.project_id).where(Activity.id.in_(extra))).all()
    project_ids = {row[3] for row in rows} | {line.project_id for line in lines}
    readable = set(project_ids) if mine else _readable_projects(session, user, project_ids)
    locks = locked_through(session, project_ids)
    activities = [{"activity_id": a_id, "code": code, "name": name, "project_id": p_id, "project_code": p_code,
                   "project_name": p_name, "locked_through": locks.get(p_id)}
                  for a_id, code, name, p_id, p_code, p_name in rows if p_id in readable]
    hidden = sum((line.hours for line in lines if line.project_id not in readable), _ZERO)
    return SheetView(resource=resource, week_start=week, timesheet=sheet,
                     lines=[line for line in lines if line.project_id in readable],
                     decisions=[d for d in decisions if d.project_id in readable], activities=activities,
                     hidden_hours=hidden, mine=mine, days=[week + timedelta(days=n) for n in range(7)])


# Saving a week


def _hours(value) -> Decimal | None:
    try:
        hours = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return hours if hours.is_finite() else None


def save_week(session: Session, *, actor: User, resource: Resource, week: date, lines: list[dict]) -> Timesheet:
    """Replace the resource's lines of ``week`` with ``lines`` (``activity_id``, ``day``, ``hours``, ``note``),
    checked whole first; a line of 0 hours books nothing. Only the resource's own user; only a draft or a
    rejected sheet."""
    _own(actor, resource)
    if len(lines) > MAX_LINES:
        raise Invalid("at most {limit} lines a week", limit=MAX_LINES, errors={"lines": [f"at most {MAX_LINES}"]})
    sheet = _sheet(session, resource, week)
    if sheet is not None:
        _lock(session, sheet)
    if sheet is not None and sheet.status not in ("draft", "rejected"):
        raise Conflict("a {status} timesheet cannot be changed", status=sheet.status)
    days = {week + timedelta(days=n) for n in range(7)}
    assigned = dict(session.execute(
        select(Assignment.activity_id, Assignment.project_id).where(Assignment.resource_id == resource.id)).all())
    errors: dict[str, list[str]] = {}
    wanted: dict[tuple[int, date], tuple[int, Decimal, str]] = {}
    per_day: dict[date, Decimal] = defaultdict(lambda: _ZERO)
    first_of_day: dict[date, int] = {}
    for n, line in enumerate(lines):
        day, hours, activity_id = line.get("day"), _hours(line.get("hours")), line.get("activity_id")
        note = line.get("note") or ""
        if not isinstance(day, date) or day not in days:
            errors[f"lines.{n}.day"] = ["not a day of the week"]
        if hours is None or hours < 0 or hours > MAX_DAY_HOURS:
            errors[f"lines.{n}.hours"] = ["from 0 to 24"]
        elif hours % QUARTER:
            errors[f"lines.{n}.hours"] = ["in quarter hours (0.25)"]
        if activity_id not in assigned:
            errors[f"lines.{n}.activity_id"] = ["not an activity the resource is assigned to"]
        if len(note) > NOTE_LENGTH:
            errors[f"lines.{n}.note"] = [f"at most {NOTE_LENGTH} characters"]
        if any(key.startswith(f"lines.{n}.") for key in errors):
            continue
        if (activity_id, day) in wanted:
            errors[f"lines.{n}.day"] = ["the activity has another line on this day"]
            continue
        if hours:
            wanted[(activity_id, day)] = (assigned[activity_id], hours.quantize(_ZERO), note)
            per_day[day] += hours
            first_of_day.setdefault(day, n)
    for day, total in per_day.items():
        if total > MAX_DAY_HOURS:
            errors[f"lines.{first_of_day[day]}.day"] = [f"more than 24 hours on {day.isoformat()} ({total})"]
    if errors:
        raise Invalid("the week was not saved: {fields}", fields=", ".join(sorted(errors)), errors=errors)

    # Read as plain rows: the ORM's objects of 70 lines cost more than the rest of the save.
    old = {(activity_id, day): (project_id, hours, note) for activity_id, day, project_id, hours, note in
           session.execute(select(TimesheetLine.activity_id, TimesheetLine.day, TimesheetLine.project_id,
                                  TimesheetLine.hours, TimesheetLine.note)
                           .where(TimesheetLine.timesheet_id == sheet.id))} if sheet else {}
    changed = {key for key in old.keys() | wanted.keys() if old.get(key) != wanted.get(key)}
    approved = set(session.scalars(select(TimesheetDecision.project_id).where(
        TimesheetDecision.timesheet_id == sheet.id, TimesheetDecision.status == "approved"))) if sheet else set()
    locks = locked_through(session, {(old.get(key) or wanted.get(key))[0] for key in changed})
    index = {(line.get("activity_id"), line.get("day")): n for n, line in enumerate(lines)}
    for key in sorted(changed, key=lambda k: (k[1], k[0])):
        project_id = (old.get(key) or wanted.get(key))[0]
        where = f"lines.{index[key]}" if key in index else "lines"
        if project_id in approved:
            errors.setdefault(f"{where}.activity_id", []).append("its project approved this week already")
        if _is_locked(locks, project_id, key[1]):
            errors.setdefault(f"{where}.day", []).append(f"{key[1].isoformat()} is locked")
    if errors:
        raise Invalid("the week was not saved: {fields}", fields=", ".join(sorted(errors)), errors=errors)

    before = _state(sheet, old) if sheet else None
    if sheet is None:
        sheet = Timesheet(resource_id=resource.id, week_start=week, status="draft")
        session.add(sheet)
        session.flush()
    if changed:
        session.execute(delete(TimesheetLine).where(TimesheetLine.timesheet_id == sheet.id))
        if wanted:
            session.execute(insert(TimesheetLine.__table__), [
                {"timesheet_id": sheet.id, "activity_id": activity_id, "day": day, "project_id": project_id,
                 "hours": hours, "note": note}
                for (activity_id, day), (project_id, hours, note) in sorted(wanted.items(), key=lambda kv: kv[0])])
        session.expire(sheet, ["lines"])
    sheet.status = "draft"
    sheet.updated_at = utcnow()
    session.flush()
    audit.record(session, actor=actor, action="timesheet.save", entity=sheet, before=before,
                 after=_state(sheet, wanted))
    return sheet


def _state(sheet: Timesheet, lines: dict) -> dict:
    # ``Timesheet.audit_state`` from lines already at hand ((activity, day) → (project, hours, note)).
    return {"resource_id": sheet.resource_id, "week_start": sheet.week_start, "status": sheet.status,
            "lines": [[activity_id, day.isoformat(), str(hours), note]
                      for (activity_id, day), (_project, hours, note) in sorted(lines.items())]}


# Submitting and deciding


def _refresh_status(sheet: Timesheet) -> None:
    statuses = {d.status for d in sheet.decisions}
    if "pending" in statuses:
        sheet.status = "submitted"
    elif "rejected" in statuses:
        sheet.status = "rejected"
    elif statuses:
        sheet.status = "approved"


def submit(session: Session, *, actor: User, resource: Resource, week: date) -> Timesheet:
    """Submit the week for approval: each project with hours not yet approved is asked for a decision."""
    _own(actor, resource)
    sheet = _sheet(session, resource, week)
    if sheet is not None:
        _lock(session, sheet)
    if sheet is None or not sheet.lines:
        raise Invalid("the week has no hours to submit", errors={"lines": ["no hours"]})
    if sheet.status not in ("draft", "rejected"):
        raise Conflict("a {status} timesheet cannot be submitted", status=sheet.status)
    decisions = {d.project_id: d for d in sheet.decisions}
    asked = {line.project_id for line in sheet.lines} - {p for p, d in decisions.items() if d.status == "approved"}
    locks = locked_through(session, asked)
    locked = sorted({line.day for line in sheet.lines if line.project_id in asked
                     and _is_locked(locks, line.project_id, line.day)})
    if locked:
        raise Invalid("the week touches locked days: {days}", days=", ".join(d.isoformat() for d in locked),
                      errors={"day": [d.isoformat() for d in locked]})
    before = sheet.audit_state()
    for project_id, decision in list(decisions.items()):
        if decision.status != "approved" and project_id not in asked:
            sheet.decisions.remove(decision)
    for project_id in asked:
        decision = decisions.get(project_id)
        if decision is None:
            sheet.decisions.append(TimesheetDecision(project_id=project_id, status="pending", reason=""))
        else:
            decision.status, decision.decided_by_id, decision.decided_at, decision.reason = "pending", None, None, ""
    sheet.submitted_at, sheet.submitted_by_id = utcnow(), actor.id
    _refresh_status(sheet)
    session.flush()
    audit.record(session, actor=actor, action="timesheet.submit", entity=sheet, before=before,
                 after=sheet.audit_state() | {"asked": sorted(asked)})
    events.record(session, "timesheet.submitted", sheet, {"resource_id": sheet.resource_id,
                                                           "week": sheet.week_start.isoformat(),
                                                           "project_ids": sorted(asked)}, actor=actor)
    return sheet


def _lock(session: Session, sheet: Timesheet) -> None:
    # One change of a sheet at a time (two PMs deciding their projects, the owner saving): the row is locked
    # and the sheet read again under the lock.
    session.execute(select(Timesheet.id).where(Timesheet.id == sheet.id).with_for_update())
    session.refresh(sheet)


def _decision_for(session: Session, actor: User, sheet: Timesheet, project_id: int) -> TimesheetDecision:
    decision = next((d for d in sheet.decisions if d.project_id == project_id), None)
    project = session.get(Project, project_id) if decision is not None else None
    if project is None or not access_to(session, user=actor, obj=project).can(Permission.read):
        raise NotFound("project {project_id} has no hours on timesheet {timesheet_id}", project_id=project_id,
                       timesheet_id=sheet.id, errors={"project_id": ["not found"]})
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    _lock(session, sheet)
    decision = next(d for d in sheet.decisions if d.project_id == project_id)
    if decision.status != "pending":
        raise Conflict("project {project_id} has decided on timesheet {timesheet_id} already ({status})",
                       project_id=project_id, timesheet_id=sheet.id, status=decision.status)
    locks = locked_through(session, [project_id])
    locked = sorted({line.day for line in sheet.lines
                     if line.project_id == project_id and _is_locked(locks, project_id, line.day)})
    if locked:
        raise Invalid("the week touches locked days: {days}", days=", ".join(d.isoformat() for d in locked),
                      errors={"day": [d.isoformat() for d in locked]})
    return decision


def approve(session: Session, *, actor: User, sheet: Timesheet, project_id: int) -> TimesheetDecision:
    """Approve the sheet's hours on one project (edit rights on it); they become the assignments' actuals."""
    decision = _decision_for(session, actor, sheet, project_id)
    before = decision.audit_state()
    decision.status, decision.decided_by_id, decision.decided_at, decision.reason = "approved", actor.id, utcnow(), ""
    _refresh_status(sheet)
    session.flush()
    audit.record(session, actor=actor, action="approve", entity=decision, before=before,
                 after=decision.audit_state())
    _record_decided(session, actor, sheet, decision)
    apply_actuals(session, actor=actor, resource_id=sheet.resource_id,
                  activity_ids={line.activity_id for line in sheet.lines if line.project_id == project_id})
    return decision


def reject(session: Session, *, actor: User, sheet: Timesheet, project_id: int, reason: str) -> TimesheetDecision:
    """Reject the sheet's hours on one project (edit rights on it), with a reason the owner reads."""
    decision = _decision_for(session, actor, sheet, project_id)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("a reason is needed to reject a timesheet", errors={"reason": ["required"]})
    if len(reason) > REASON_LENGTH:
        raise Invalid("the reason is too long", errors={"reason": [f"at most {REASON_LENGTH} characters"]})
    before = decision.audit_state()
    decision.status, decision.decided_by_id, decision.decided_at = "rejected", actor.id, utcnow()
    decision.reason = reason
    _refresh_status(sheet)
    session.flush()
    audit.record(session, actor=actor, action="reject", entity=decision, before=before,
                 after=decision.audit_state())
    _record_decided(session, actor, sheet, decision)
    return decision


def _record_decided(session: Session, actor: User, sheet: Timesheet, decision: TimesheetDecision) -> None:
    events.record(session, "timesheet.decided", decision, {
        "timesheet_id": sheet.id, "resource_id": sheet.resource_id, "week": sheet.week_start.isoformat(),
        "project_id": decision.project_id, "decision": decision.status, "reason": decision.reason}, actor=actor)


def apply_actuals(session: Session, *, actor: User | None, resource_id: int, activity_ids) -> None:
    """Make the resource's approved hours on ``activity_ids`` its assignments' actual units, then price them and
    carry the costs up (the rules: module docstring)."""
    ids = sorted(set(activity_ids))
    if not ids:
        return
    approved = (select(TimesheetLine.activity_id, func.sum(TimesheetLine.hours), func.min(TimesheetLine.day))
                .join(Timesheet, Timesheet.id == TimesheetLine.timesheet_id)
                .join(TimesheetDecision, (TimesheetDecision.timesheet_id == Timesheet.id)
                      & (TimesheetDecision.project_id == TimesheetLine.project_id))
                .where(Timesheet.resource_id == resource_id, TimesheetDecision.status == "approved",
                       TimesheetLine.activity_id.in_(ids))
                .group_by(TimesheetLine.activity_id))
    # The assignments are locked before the hours are summed: two approvals of other weeks on the same
    # assignment queue here, and the second sums the first's hours once it has committed.
    firsts = {}
    for assignment in session.scalars(select(Assignment).where(
            Assignment.resource_id == resource_id, Assignment.activity_id.in_(ids)).order_by(Assignment.id)
            .with_for_update().execution_options(populate_existing=True)):
        if assignment.activity_id in firsts:
            continue
        firsts[assignment.activity_id] = assignment
    sums = {activity_id: (Decimal(total), first) for activity_id, total, first in session.execute(approved)}
    for activity_id, assignment in firsts.items():
        total, first_day = sums.get(activity_id, (_ZERO, None))
        before = assignment.audit_state()
        actual = float(total)
        assignment.remaining_units = max(assignment.remaining_units - (actual - assignment.actual_units), 0.0)
        assignment.actual_units = actual
        start = datetime.combine(first_day, time()) if first_day else None
        if assignment.actual_start is None and start is not None:
            assignment.actual_start = start
        costs.price_assignment(assignment)
        activity = session.get(Activity, activity_id)
        if activity.actual_start is None and start is not None:
            activity.actual_start = start
        audit.record(session, actor=actor, action="timesheet.actuals", entity=assignment, before=before,
                     after=assignment.audit_state())
    session.flush()
    projects = costs.activity_costs_from_assignments(session, firsts)
    projects |= {a.project_id for a in firsts.values()}
    for project_id in sorted(projects):
        wbs_services.roll_up_costs(session, project=session.get(Project, project_id))


# The approval queue


def approval_queue(session: Session, *, user: User):
    """A select of the pending decisions on projects ``user`` may edit, oldest submission first: rows of
    (decision id, timesheet id, resource id, resource name, week start, project id, project code, project name,
    hours on the project, submitted at)."""
    return _approval_queue(editable_projects(session, user=user))


def editable_projects(session: Session, *, user: User):
    """A condition on ``Project``: the projects whose timesheets ``user`` may approve (edit rights on them)."""
    paths = None if user.is_admin else principal_grant_paths(session, user=user, roles=_EDIT_ROLES)
    return visible(session, user=user, model=Project, paths=paths)


def readable_sheet_ids(session: Session, *, user: User):
    """A select of the ids of the timesheets whose events ``user`` reads: their own, and those asking a decision
    of a project they may approve (``editable_projects``)."""
    return (select(Timesheet.id).join(Resource, Resource.id == Timesheet.resource_id)
            .where(Resource.user_id == user.id)
            .union(select(TimesheetDecision.timesheet_id).join(Project, Project.id == TimesheetDecision.project_id)
                   .where(editable_projects(session, user=user))))


def readable_decision_ids(session: Session, *, user: User):
    """A select of the ids of the decisions whose events ``user`` reads: those on their own sheets, and those of
    projects they may approve (``editable_projects``)."""
    own = select(Timesheet.id).join(Resource, Resource.id == Timesheet.resource_id).where(Resource.user_id == user.id)
    return (select(TimesheetDecision.id).where(TimesheetDecision.timesheet_id.in_(own))
            .union(select(TimesheetDecision.id).join(Project, Project.id == TimesheetDecision.project_id)
                   .where(editable_projects(session, user=user))))


@built_once
def _approval_queue(editable):
    hours = (select(func.coalesce(func.sum(TimesheetLine.hours), _ZERO))
             .where(TimesheetLine.timesheet_id == TimesheetDecision.timesheet_id,
                    TimesheetLine.project_id == TimesheetDecision.project_id).scalar_subquery())
    return (select(TimesheetDecision.id.label("decision_id"), Timesheet.id.label("timesheet_id"),
                   Resource.id.label("resource_id"), Resource.name.label("resource_name"),
                   Timesheet.week_start, Project.id.label("project_id"), Project.code.label("project_code"),
                   Project.name.label("project_name"), hours.label("hours"), Timesheet.submitted_at)
            .join(Timesheet, Timesheet.id == TimesheetDecision.timesheet_id)
            .join(Resource, Resource.id == Timesheet.resource_id)
            .join(Project, Project.id == TimesheetDecision.project_id)
            .where(TimesheetDecision.status == "pending", editable)
            .order_by(Timesheet.submitted_at, TimesheetDecision.id))


def get_decision_or_raise(session: Session, *, user: User, decision_id: int) -> TimesheetDecision:
    """A decision whose sheet and project ``user`` may read; NotFound otherwise."""
    decision = session.get(TimesheetDecision, decision_id)
    if decision is not None:
        project = session.get(Project, decision.project_id)
        if access_to(session, user=user, obj=project).can(Permission.read):
            try:
                get_timesheet_or_raise(session, user=user, timesheet_id=decision.timesheet_id)
                return decision
            except NotFound:
                pass
    raise NotFound("timesheet decision {decision_id} not found", decision_id=decision_id)


def lines_of_decisions(session: Session, decision_ids) -> dict[int, list[TimesheetLine]]:
    """The lines each decision is about (its sheet's lines on its project), in day order."""
    ids = list(decision_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(TimesheetDecision.id, TimesheetLine).join(
            TimesheetLine, (TimesheetLine.timesheet_id == TimesheetDecision.timesheet_id)
            & (TimesheetLine.project_id == TimesheetDecision.project_id))
        .where(TimesheetDecision.id.in_(ids)).order_by(TimesheetLine.day, TimesheetLine.activity_id)).all()
    result: dict[int, list[TimesheetLine]] = defaultdict(list)
    for decision_id, line in rows:
        result[decision_id].append(line)
    return result

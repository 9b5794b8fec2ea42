"""Plans, calendars, WBS elements, activities and relationships of a project; scheduling it.

Reading needs read rights on the project; changing anything needs edit rights.
Costs of activities roll up through the WBS into the project, and from there up the EPS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import networkx as nx
from sqlalchemy import Row, Select, and_, false, func, or_, select, union
from sqlalchemy.orm import Session, selectinload

from crmpm import audit
from crmpm.database import utcnow
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound, Phrase
from crmpm.users.models import User
from eps import budgets as eps_budgets
from eps import services as eps_services
from eps.models import Project
from eps.permissions import Permission, access_to, authorize
from wbs import calendar_files
from wbs.expenses.queries import expenses_total
from wbs.models import Activity, Calendar, CalendarException, ProjectPlan, Relationship, WbsElement
from wbs.scheduling import model as sched

ACTIVITY_TYPES = {t.value for t in sched.ActivityType}
CONSTRAINT_TYPES = {t.value for t in sched.ConstraintType}
RELATIONSHIP_TYPES = {t.value for t in sched.RelationshipType}
PLAN_CHOICES = {
    "progress_mode": {m.value for m in sched.ProgressMode},
    "lag_calendar": {m.value for m in sched.LagCalendar},
    "float_type": {m.value for m in sched.FloatType},
    "critical_definition": {m.value for m in sched.CriticalDefinition},
}
MAX_HOURS = 1_000_000.0
ZERO = Decimal("0.00")


# The project's page: where a job's result sends its reader (a job has no request to build URLs from;
# tests/web check that this is the path of the page ``pm.project``).
PROJECT_PAGE = "/projects/{id}"


def page_of(project: Project) -> str:
    """The local path of the project's page."""
    return PROJECT_PAGE.format(id=project.id)


# Plans


def get_plan(session: Session, *, project: Project) -> ProjectPlan:
    """The project's scheduling settings, created with P6's defaults on first use."""
    plan = session.get(ProjectPlan, project.id)
    if plan is None:
        plan = ProjectPlan(project_id=project.id)
        session.add(plan)
        session.flush()
    return plan


def update_plan(session: Session, *, actor: User, project: Project, **changes) -> ProjectPlan:
    """Change the project's data date, dates, default calendar, zone or scheduling options (edit rights)."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    plan = get_plan(session, project=project)
    before = plan.audit_state()
    for key, allowed in PLAN_CHOICES.items():
        if key in changes and changes[key] not in allowed:
            raise Invalid("unknown {key} {value!r}",
                          key=key, value=changes[key], errors={key: [f"one of {sorted(allowed)}"]})
    if "time_zone" in changes:
        try:
            ZoneInfo(changes["time_zone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid("unknown time zone {zone!r}", zone=changes["time_zone"],
                          errors={"time_zone": ["not an IANA time zone"]}) from None
    if changes.get("default_calendar_id") is not None:
        _calendar_for_project(session, project=project, calendar_id=changes["default_calendar_id"],
                              field="default_calendar_id")
    for key, value in changes.items():
        setattr(plan, key, value)
    session.flush()
    audit.record(session, actor=actor, action="update_plan", entity=project, before=before, after=plan.audit_state())
    return plan



def create_blank_project(session: Session, *, actor: User, name: str, eps_node, code: str | None = None,
                         planned_start: datetime | None = None, data_date: datetime | None = None,
                         default_calendar_id: int | None = None):
    """A new empty project under ``eps_node`` (edit rights there) with its plan: P6's defaults, and the start,
    data date (the start when not given) and default calendar given. Without ``code``, one is made from
    ``name`` (``eps.services.unused_code``)."""
    if code is None:
        code = eps_services.unused_code(session, model=Project, name=name, fallback="P")
    project = eps_services.create_project(session, actor=actor, code=code, name=name, eps_node=eps_node)
    changes = {key: value for key, value in (("planned_start", planned_start),
                                             ("data_date", data_date or planned_start),
                                             ("default_calendar_id", default_calendar_id)) if value is not None}
    if changes:
        update_plan(session, actor=actor, project=project, **changes)
    else:
        get_plan(session, project=project)
    return project

# Calendars


def list_calendars(session: Session, *, user: User, project: Project | None = None,
                   resources: bool = False) -> Select:
    """A select of the global calendars, plus ``project``'s own when given; resources' own calendars (kind
    ``resource``: a person's working time and absences) only with ``resources``, as activities never use them."""
    query = select(Calendar).order_by(Calendar.project_id.is_not(None), Calendar.name, Calendar.id)
    if not resources:
        query = query.where(Calendar.kind != "resource")
    if project is None:
        return query.where(Calendar.project_id.is_(None))
    return query.where(or_(Calendar.project_id.is_(None), Calendar.project_id == project.id))


def get_calendar_or_raise(session: Session, *, user: User, calendar_id: int, field: str | None = None) -> Calendar:
    """A global calendar, or a project calendar whose project ``user`` may read."""
    calendar = session.get(Calendar, calendar_id)
    if calendar is not None and calendar.project_id is not None:
        project = session.get(Project, calendar.project_id)
        if not access_to(session, user=user, obj=project).can(Permission.read):
            calendar = None
    if calendar is None:
        raise NotFound("calendar {calendar_id} not found",
                       calendar_id=calendar_id, errors={field: ["not found"]} if field else None)
    return calendar


def _calendar_for_project(session: Session, *, project: Project, calendar_id: int, field: str) -> Calendar:
    calendar = session.get(Calendar, calendar_id)
    if calendar is None or calendar.project_id not in (None, project.id):
        raise NotFound("calendar {calendar_id} not found for project {code}",
                       calendar_id=calendar_id, code=project.code,
                       errors={field: ["not found"]})
    return calendar


def _check_periods(periods, where: Phrase) -> list[list[int]]:
    checked = []
    for period in periods:
        if (not isinstance(period, (list, tuple)) or len(period) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in period)):
            raise Invalid("{where}: a period is [start, end] in minutes after midnight",
                          where=where, errors={"week": [str(where)]})
        start, end = period
        if not 0 <= start < end <= 1440:
            raise Invalid("{where}: period {start}-{end} is not within one day",
                          where=where, start=start, end=end, errors={"week": [str(where)]})
        checked.append([start, end])
    checked.sort()
    for (_s1, e1), (s2, _e2) in zip(checked, checked[1:]):
        if s2 < e1:
            raise Invalid("{where}: periods overlap", where=where, errors={"week": [str(where)]})
    return checked


def _apply_calendar(calendar: Calendar, *, name, week, exceptions, hours_per_day) -> None:
    if name is not None:
        calendar.name = name
    if hours_per_day is not None:
        if not 0 < hours_per_day <= 24:
            raise Invalid("hours per day must be in (0, 24]", errors={"hours_per_day": ["between 0 and 24"]})
        calendar.hours_per_day = hours_per_day
    if week is not None:
        if len(week) != 7:
            raise Invalid("a week has seven days, Monday first", errors={"week": ["seven lists of periods"]})
        week = [_check_periods(day, Phrase("weekday {number}", number=index + 1)) for index, day in enumerate(week)]
        if not any(week) and not exceptions:
            raise Invalid("a calendar needs some working time", errors={"week": ["no working periods"]})
        calendar.week = week
    if exceptions is not None:
        # A day kept keeps its row (a new row for the same day would clash with the old one before it is deleted).
        kept = {e.day: e for e in calendar.exceptions}
        rows = []
        for day, periods in sorted(exceptions.items()):
            periods = _check_periods(periods, Phrase("exception {day}", day=day))
            row = kept.get(day) or CalendarException(day=day)
            row.periods = periods
            rows.append(row)
        calendar.exceptions = rows


def create_calendar(session: Session, *, actor: User, name: str, week: list, exceptions: dict[date, list] | None = None,
                    hours_per_day: float = 8.0, project: Project | None = None,
                    external_id: str | None = None) -> Calendar:
    """A new calendar: global (administrators) or a project's own (edit rights on it)."""
    if project is None:
        if not actor.is_admin:
            raise Forbidden("only administrators create global calendars")
    else:
        authorize(session, user=actor, obj=project, permission=Permission.edit)
    calendar = Calendar(project_id=project.id if project else None, name=name, external_id=external_id, week=[])
    _apply_calendar(calendar, name=name, week=week, exceptions=exceptions or {}, hours_per_day=hours_per_day)
    session.add(calendar)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=calendar, after=calendar.audit_state())
    return calendar


def _authorize_calendar_change(session: Session, *, actor: User, calendar: Calendar) -> None:
    if calendar.project_id is None:
        if not actor.is_admin:
            raise Forbidden("only administrators change global calendars")
    else:
        authorize(session, user=actor, obj=session.get(Project, calendar.project_id), permission=Permission.edit)


def authorize_calendar_change(session: Session, *, actor: User, calendar: Calendar | None = None,
                              project: Project | None = None) -> None:
    """Forbidden unless ``actor`` may change ``calendar`` (or create one of ``project``, or a global one when both
    are None): for a page to check before it reads a long form."""
    target = calendar or Calendar(project_id=project.id if project else None)
    _authorize_calendar_change(session, actor=actor, calendar=target)


def may_change_calendar(session: Session, *, user: User, calendar: Calendar | None = None,
                        project: Project | None = None) -> bool:
    """Whether ``user`` may change ``calendar`` (or create one of ``project``, or a global one when both are None)."""
    try:
        authorize_calendar_change(session, actor=user, calendar=calendar, project=project)
    except Forbidden:
        return False
    return True


def update_calendar(session: Session, *, actor: User, calendar: Calendar, name: str | None = None,
                    week: list | None = None, exceptions: dict[date, list] | None = None,
                    hours_per_day: float | None = None) -> Calendar:
    """Change a calendar's name, week, exceptions or hours per day."""
    _authorize_calendar_change(session, actor=actor, calendar=calendar)
    before = calendar.audit_state()
    _apply_calendar(calendar, name=name, week=week, exceptions=exceptions, hours_per_day=hours_per_day)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=calendar, before=before, after=calendar.audit_state())
    return calendar


def add_calendar_exceptions(session: Session, *, actor: User, calendar: Calendar,
                            exceptions: dict[date, list]) -> Calendar:
    """Add dated exceptions to a calendar (a day already there takes the new periods); the rest stay."""
    if not exceptions:
        raise Invalid("no days to add to calendar {name!r}", name=calendar.name, errors={"exceptions": ["empty"]})
    merged = {e.day: e.periods for e in calendar.exceptions} | dict(exceptions)
    return update_calendar(session, actor=actor, calendar=calendar, exceptions=merged)


def import_calendar_file(session: Session, *, actor: User, calendar: Calendar, data: bytes,
                         filename: str) -> dict[date, list]:
    """Add the days off and shortened days of a production calendar file (``wbs.calendar_files``) to a calendar;
    the days read are returned."""
    _authorize_calendar_change(session, actor=actor, calendar=calendar)
    days = calendar_files.read_days(data, filename, calendar.week)
    add_calendar_exceptions(session, actor=actor, calendar=calendar, exceptions=days)
    return days


def delete_calendar(session: Session, *, actor: User, calendar: Calendar) -> None:
    """Delete a calendar no activity or plan uses."""
    _authorize_calendar_change(session, actor=actor, calendar=calendar)
    users = session.scalar(select(func.count()).select_from(Activity).where(Activity.calendar_id == calendar.id))
    plans = session.scalar(select(func.count()).select_from(ProjectPlan)
                           .where(ProjectPlan.default_calendar_id == calendar.id))
    if users or plans:
        raise Conflict("calendar {name!r} is used by {users} activity(ies) and {plans} project(s)",
                       name=calendar.name, users=users, plans=plans)
    audit.record(session, actor=actor, action="delete", entity=calendar, before=calendar.audit_state())
    session.delete(calendar)
    session.flush()


# WBS


def list_elements(session: Session, *, project: Project) -> list[WbsElement]:
    """The project's WBS elements in tree order (``tree_order``: each followed by its branch, siblings in order)."""
    return tree_order(session.scalars(select(WbsElement).where(WbsElement.project_id == project.id)
                                      .order_by(WbsElement.seq, WbsElement.id)).all())


class ElementRow(NamedTuple):
    """A WBS element as a page that only shows it needs it."""

    id: int
    parent_id: int | None
    code: str
    name: str
    seq: int = 0


def element_outline(session: Session, *, project: Project) -> list[ElementRow]:
    """The project's WBS elements as plain rows in tree order: each element followed by its branch, siblings in
    ``list_elements``' order. For pages that show a big WBS and change nothing in it (thousands of elements read
    as tuples cost a tenth of the mapped objects and their graph)."""
    rows = session.execute(select(WbsElement.id, WbsElement.parent_id, WbsElement.code, WbsElement.name,
                                  WbsElement.seq).where(WbsElement.project_id == project.id).order_by(WbsElement.seq, WbsElement.id))
    return tree_order([ElementRow(*row) for row in rows])


def get_element_or_raise(session: Session, *, project: Project, element_id: int, field: str | None = None) -> WbsElement:
    """A WBS element of ``project``."""
    element = session.get(WbsElement, element_id)
    if element is None or element.project_id != project.id:
        raise NotFound("WBS element {element_id} not found in project {code}",
                       element_id=element_id, code=project.code,
                       errors={field: ["not found"]} if field else None)
    return element


def _check_code_free(session: Session, model, project: Project, code: str, exclude: int | None = None) -> None:
    """Codes of WBS elements, and of activities, are unique within a project."""
    query = select(model.id).where(model.project_id == project.id, model.code == code)
    if exclude is not None:
        query = query.where(model.id != exclude)
    if session.scalar(query) is not None:
        what = Phrase("WBS code") if model is WbsElement else Phrase("activity code")
        raise Conflict("{what} {code!r} is already used in project {project_code}",
                       what=what, code=code, project_code=project.code, errors={"code": ["already in use"]})


def branch_ids(elements: list, element_id: int) -> set[int]:
    """The ids of ``element_id`` and of every element below it among ``elements`` (elements or outline rows)."""
    children: dict[int | None, list[int]] = {}
    for element in elements:
        children.setdefault(element.parent_id, []).append(element.id)
    found, stack = {element_id}, [element_id]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def tree_order(elements: list) -> list:
    """``elements`` depth first: each element followed by its whole branch, siblings in their given order.

    Elements (or rows) with ``id`` and ``parent_id``; one whose parent is not among them is at the top.
    """
    children: dict[int | None, list] = {}
    known = {e.id for e in elements}
    for element in elements:
        children.setdefault(element.parent_id if element.parent_id in known else None, []).append(element)
    ordered: list[WbsElement] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        element = stack.pop()
        ordered.append(element)
        stack.extend(reversed(children.get(element.id, [])))
    return ordered


def create_element(session: Session, *, actor: User, project: Project, code: str, name: str,
                   parent: WbsElement | None = None, seq: int | None = None,
                   external_id: str | None = None) -> WbsElement:
    """A new WBS element under ``parent`` (or at the top of the project's WBS)."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    _check_code_free(session, WbsElement, project, code)
    if seq is None:
        seq = (session.scalar(select(func.max(WbsElement.seq)).where(WbsElement.project_id == project.id)) or 0) + 10
    element = WbsElement(project_id=project.id, parent_id=parent.id if parent else None, code=code, name=name,
                         seq=seq, external_id=external_id)
    session.add(element)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=element, after=element.audit_state())
    return element


def update_element(session: Session, *, actor: User, project: Project, element: WbsElement,
                   parent: WbsElement | None | type(...) = ..., **changes) -> WbsElement:
    """Rename, renumber or re-parent a WBS element (never under itself or its own descendant)."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    before = element.audit_state()
    if "code" in changes and changes["code"] != element.code:
        _check_code_free(session, WbsElement, project, changes["code"], exclude=element.id)
    if parent is not ...:
        if parent is not None:
            below = _subtree_ids(session, project=project, element=element)
            if parent.id in below:
                raise Conflict("cannot move WBS element {element_code} under {parent_code}, which is inside it",
                               element_code=element.code, parent_code=parent.code,
                               errors={"parent_id": [f"{parent.code} is inside {element.code}"]})
        new_parent_id = parent.id if parent else None
        if new_parent_id != element.parent_id:
            element.parent_id = new_parent_id
            if "seq" not in changes:  # last among its new siblings
                _renumber([e for e in _siblings(session, project=project, parent_id=new_parent_id)
                           if e.id != element.id] + [element])
    for key, value in changes.items():
        setattr(element, key, value)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=element, before=before, after=element.audit_state())
    return element


MOVES = ("indent", "outdent", "up", "down")


def _siblings(session: Session, *, project: Project, parent_id: int | None) -> list[WbsElement]:
    """The elements under ``parent_id`` (the top level for None) in their order."""
    query = select(WbsElement).where(WbsElement.project_id == project.id)
    query = query.where(WbsElement.parent_id.is_(None) if parent_id is None else WbsElement.parent_id == parent_id)
    return list(session.scalars(query.order_by(WbsElement.seq, WbsElement.id)))


def _renumber(elements: list[WbsElement]) -> None:
    """Give ``elements`` the order they are listed in (seq 10, 20, ...)."""
    for index, element in enumerate(elements):
        element.seq = (index + 1) * 10


def move_element(session: Session, *, actor: User, project: Project, element: WbsElement, how: str) -> WbsElement:
    """Move a WBS element within the tree, as P6's WBS buttons do (edit rights).

    ``indent``: under its previous sibling, as that sibling's last child; ``outdent``: up a level, right after
    its former parent; ``up`` / ``down``: swap places with the previous / next sibling. The element keeps its
    branch and its activities; a move with nowhere to go is refused.
    """
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    if how not in MOVES:
        raise Invalid("unknown move {how!r}", how=how, errors={"how": [f"one of {list(MOVES)}"]})
    before = element.audit_state()
    siblings = _siblings(session, project=project, parent_id=element.parent_id)
    index = next(i for i, e in enumerate(siblings) if e.id == element.id)
    if how == "indent":
        if index == 0:
            raise Conflict("WBS element {code} has no element before it to go under", code=element.code,
                           errors={"how": ["no previous sibling"]})
        new_parent = siblings[index - 1]
        children = _siblings(session, project=project, parent_id=new_parent.id)
        element.parent_id = new_parent.id
        _renumber(children + [element])
        _renumber([e for e in siblings if e.id != element.id])
    elif how == "outdent":
        if element.parent_id is None:
            raise Conflict("WBS element {code} is already at the top level", code=element.code,
                           errors={"how": ["top level"]})
        parent = session.get(WbsElement, element.parent_id)
        uncles = _siblings(session, project=project, parent_id=parent.parent_id)
        at = next(i for i, e in enumerate(uncles) if e.id == parent.id)
        element.parent_id = parent.parent_id
        _renumber(uncles[:at + 1] + [element] + uncles[at + 1:])
        _renumber([e for e in siblings if e.id != element.id])
    else:
        other = index - 1 if how == "up" else index + 1
        if other < 0:
            raise Conflict("WBS element {code} is already the first of its level", code=element.code,
                           errors={"how": ["no sibling there"]})
        if other >= len(siblings):
            raise Conflict("WBS element {code} is already the last of its level", code=element.code,
                           errors={"how": ["no sibling there"]})
        siblings[index], siblings[other] = siblings[other], siblings[index]
        _renumber(siblings)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=element, before=before, after=element.audit_state())
    return element


def _subtree_ids(session: Session, *, project: Project, element: WbsElement) -> set[int]:
    return branch_ids(element_outline(session, project=project), element.id)


def delete_element(session: Session, *, actor: User, project: Project, element: WbsElement) -> None:
    """Delete a WBS element that holds no elements and no activities."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    children = session.scalar(select(func.count()).select_from(WbsElement).where(WbsElement.parent_id == element.id))
    activities = session.scalar(select(func.count()).select_from(Activity)
                                .where(Activity.wbs_element_id == element.id))
    if children or activities:
        raise Conflict("WBS element {code} still holds {children} element(s) and {activities} activity(ies)",
                       code=element.code, children=children, activities=activities)
    audit.record(session, actor=actor, action="delete", entity=element, before=element.audit_state())
    session.delete(element)
    session.flush()


@dataclass
class WbsNode:
    """One element of the WBS tree with its activities' costs rolled up from below."""

    id: int
    code: str
    name: str
    parent_id: int | None
    seq: int
    budgeted_cost: Decimal = ZERO
    actual_cost: Decimal = ZERO
    activities: int = 0
    children: list[WbsNode] = field(default_factory=list)


def wbs_tree(session: Session, *, project: Project, elements: list[ElementRow] | None = None,
             sums: dict[int | None, PlanSums] | None = None) -> dict:
    """The project's WBS as a tree, costs and activity counts rolled up bottom-up. ``elements``
    (``element_outline``) and ``sums`` (``plan_sums``): when the caller has them already (read otherwise)."""
    if elements is None:
        elements = element_outline(session, project=project)
    if sums is None:
        sums = plan_sums(session, project=project)
    nodes = {e.id: WbsNode(id=e.id, code=e.code, name=e.name, parent_id=e.parent_id, seq=e.seq) for e in elements}
    unassigned = 0
    for element_id, part in sums.items():
        if element_id is None:
            unassigned = part.activities
            continue
        node = nodes[element_id]
        node.activities, node.budgeted_cost, node.actual_cost = part.activities, part.budgeted, part.actual
    roots = []
    for element in reversed(elements):  # children before parents, so sums climb the tree
        node = nodes[element.id]
        if element.parent_id is None:
            roots.append(node)
        else:
            parent = nodes[element.parent_id]
            parent.children.insert(0, node)
            parent.budgeted_cost += node.budgeted_cost
            parent.actual_cost += node.actual_cost
            parent.activities += node.activities
    roots.reverse()
    return {"project_id": project.id, "items": roots, "unassigned_activities": unassigned}


@dataclass
class PlanSums:
    """What a set of activities adds up to: every figure of the project page (the WBS tree's sums, the schedule
    figures, earned value, the baseline), so that one pass over a plan gives them all, per WBS element, and a
    branch or the whole plan is the sum of its elements' (``total``).

    Money is exact (Decimal); the earned value's budget is kept per percent complete, so that EV is computed
    from it exactly as before. ``planned_done`` and ``cut`` are relative to the data date the sums were read at.
    """

    activities: int = 0
    critical: int = 0
    budgeted: Decimal = ZERO
    actual: Decimal = ZERO
    weighted_percent: float = 0.0  # Σ percent complete × original duration
    hours: float = 0.0  # Σ original duration
    percent: float = 0.0  # Σ percent complete
    start: datetime | None = None  # first actual start, else early start
    finish: datetime | None = None  # last early finish
    started: int = 0
    finished: int = 0
    baseline_start: datetime | None = None
    baseline_finish: datetime | None = None
    baselined: int = 0
    planned_done: Decimal = ZERO  # budget of the activities the baseline has finished by the data date
    cut: int = 0  # activities the baseline has partly done at the data date (prorated one by one)
    budget_by_percent: dict[float, Decimal] = field(default_factory=dict)

    def add(self, other: PlanSums) -> None:
        """Add ``other``'s activities to these."""
        self.activities += other.activities
        self.critical += other.critical
        self.budgeted += other.budgeted
        self.actual += other.actual
        self.weighted_percent += other.weighted_percent
        self.hours += other.hours
        self.percent += other.percent
        self.started += other.started
        self.finished += other.finished
        self.baselined += other.baselined
        self.planned_done += other.planned_done
        self.cut += other.cut
        self.start = _earliest(self.start, other.start)
        self.finish = _latest(self.finish, other.finish)
        self.baseline_start = _earliest(self.baseline_start, other.baseline_start)
        self.baseline_finish = _latest(self.baseline_finish, other.baseline_finish)
        mine = self.budget_by_percent
        for done, budget in other.budget_by_percent.items():
            mine[done] = mine[done] + budget if done in mine else budget

    @classmethod
    def total(cls, parts) -> PlanSums:
        """The sums of all of ``parts``."""
        result = cls()
        for part in parts:
            result.add(part)
        return result


def _earliest(first: datetime | None, second: datetime | None) -> datetime | None:
    return second if first is None or (second is not None and second < first) else first


def _latest(first: datetime | None, second: datetime | None) -> datetime | None:
    return second if first is None or (second is not None and second > first) else first


def as_datetime(value) -> datetime | None:
    """SQLite returns aggregates of dates as text (the column type does not reach MIN/MAX of an expression)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def plan_sums(session: Session, *, project: Project,
              data_date: datetime | None | type(...) = ...) -> dict[int | None, PlanSums]:
    """The :class:`PlanSums` of each WBS element's own activities (``None``: those under none), in one pass over
    the plan; ``data_date``: the plan's (read when not given) for the baseline's figures."""
    if data_date is ...:
        data_date = session.scalar(select(ProjectPlan.data_date).where(ProjectPlan.project_id == project.id))
    start, finish = Activity.baseline_start, Activity.baseline_finish
    if data_date is not None:
        baselined = and_(start.is_not(None), finish.is_not(None), start < data_date)
        done, cut = and_(baselined, or_(finish <= data_date, finish <= start)), and_(baselined, finish > data_date,
                                                                                     finish > start)
    else:
        done = cut = false()
    # Grouped by percent complete too: earned value multiplies each percentage's budget exactly (a plan has few).
    rows = session.execute(
        select(Activity.wbs_element_id, Activity.percent_complete, func.count(),
               func.count().filter(Activity.critical.is_(True)),
               func.sum(Activity.budgeted_cost), func.sum(Activity.actual_cost),
               func.sum(Activity.percent_complete * Activity.original_duration_hours),
               func.sum(Activity.original_duration_hours), func.sum(Activity.percent_complete),
               func.min(func.coalesce(Activity.actual_start, Activity.early_start)), func.max(Activity.early_finish),
               func.count(Activity.actual_start), func.count(Activity.actual_finish),
               func.min(start), func.max(finish), func.count(start),
               func.sum(Activity.budgeted_cost).filter(done), func.count().filter(cut))
        .where(Activity.project_id == project.id)
        .group_by(Activity.wbs_element_id, Activity.percent_complete)).all()
    result: dict[int | None, PlanSums] = {}
    for (element_id, percent_complete, count, critical, budgeted, actual, weighted, hours, percent, first, last,
         started, finished, first_baseline, last_baseline, baselined_count, planned_done, cut_count) in rows:
        part = PlanSums(activities=count, critical=critical, budgeted=budgeted, actual=actual,
                        weighted_percent=weighted or 0.0, hours=hours or 0.0, percent=percent or 0.0,
                        start=as_datetime(first), finish=as_datetime(last), started=started, finished=finished,
                        baseline_start=as_datetime(first_baseline), baseline_finish=as_datetime(last_baseline),
                        baselined=baselined_count, planned_done=planned_done or ZERO, cut=cut_count,
                        budget_by_percent={percent_complete: budgeted})
        if element_id in result:
            result[element_id].add(part)
        else:
            result[element_id] = part
    return result


# Activities


# Schedule order: early start, the unscheduled last, then code (unique in a project). The order of the index
# ix_activities_project_early_start, so that a plan's first rows are read from it rather than sorted
# (NULLS LAST rather than ``early_start IS NULL`` first: an index cannot serve an expression's order).
SCHEDULE_ORDER = (Activity.early_start.asc().nulls_last(), Activity.code)


def list_activities(session: Session, *, project: Project, wbs_element: WbsElement | None = None,
                    critical_only: bool = False) -> Select:
    """A select of the project's activities in schedule order (``SCHEDULE_ORDER``)."""
    query = select(Activity).where(Activity.project_id == project.id)
    if wbs_element is not None:
        ids = sorted(_subtree_ids(session, project=project, element=wbs_element))
        query = query.where(Activity.wbs_element_id.in_(ids))
    if critical_only:
        query = query.where(Activity.critical.is_(True))
    return query.order_by(*SCHEDULE_ORDER)


def get_activity_or_raise(session: Session, *, project: Project, activity_id: int,
                          field: str | None = None) -> Activity:
    """An activity of ``project``."""
    activity = session.get(Activity, activity_id)
    if activity is None or activity.project_id != project.id:
        raise NotFound("activity {activity_id} not found in project {code}",
                       activity_id=activity_id, code=project.code,
                       errors={field: ["not found"]} if field else None)
    return activity


def _validate_activity(session: Session, project: Project, activity: Activity) -> None:
    code = activity.code
    if activity.type not in ACTIVITY_TYPES:
        raise Invalid("activity {code}: unknown type {type!r}",
                      code=code, type=activity.type, errors={"type": [f"one of {sorted(ACTIVITY_TYPES)}"]})
    for field in ("original_duration_hours", "remaining_duration_hours"):
        value = getattr(activity, field)
        if value is not None and not (0 <= value <= MAX_HOURS):
            raise Invalid("activity {code}: {field} must be between 0 and {max_hours:g}",
                          code=code, field=field, max_hours=MAX_HOURS, errors={field: ["out of range"]})
    if activity.type in ("start_milestone", "finish_milestone") and activity.original_duration_hours:
        raise Invalid("activity {code}: a milestone has no duration",
                      code=code, errors={"original_duration_hours": ["must be 0"]})
    if not 0 <= activity.percent_complete <= 100:
        raise Invalid("activity {code}: percent complete must be 0 to 100",
                      code=code, errors={"percent_complete": ["0 to 100"]})
    for kind, when in (("constraint_type", "constraint_date"), ("secondary_constraint_type", "secondary_constraint_date")):
        value = getattr(activity, kind)
        if value is None:
            continue
        if value not in CONSTRAINT_TYPES:
            raise Invalid("activity {code}: unknown constraint {value!r}",
                          code=code, value=value, errors={kind: [f"one of {sorted(CONSTRAINT_TYPES)}"]})
        if value != "as_late_as_possible" and getattr(activity, when) is None:
            raise Invalid("activity {code}: constraint {value} needs a date",
                          code=code, value=value, errors={when: ["required with the constraint"]})
    if activity.actual_finish is not None:
        if activity.actual_start is None:
            raise Invalid("activity {code}: an actual finish needs an actual start",
                          code=code, errors={"actual_start": ["required"]})
        if activity.actual_finish < activity.actual_start:
            raise Invalid("activity {code}: actual finish before actual start",
                          code=code, errors={"actual_finish": ["before start"]})
    for money in ("budgeted_cost", "actual_cost"):
        if getattr(activity, money) < ZERO:
            raise Invalid("activity {code}: {money} must not be negative",
                          code=code, money=money, errors={money: ["must not be negative"]})
    if activity.wbs_element_id is not None:
        get_element_or_raise(session, project=project, element_id=activity.wbs_element_id, field="wbs_element_id")
    if activity.calendar_id is not None:
        _calendar_for_project(session, project=project, calendar_id=activity.calendar_id, field="calendar_id")


def create_activity(session: Session, *, actor: User, project: Project, code: str, name: str, **fields) -> Activity:
    """A new activity of ``project`` (edit rights)."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    _check_code_free(session, Activity, project, code)
    activity = Activity(project_id=project.id, code=code, name=name, type="task", original_duration_hours=0.0,
                        percent_complete=0.0, budgeted_cost=ZERO, actual_cost=ZERO, notes="")
    for key, value in fields.items():
        setattr(activity, key, value)
    _validate_activity(session, project, activity)
    session.add(activity)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=activity, after=activity.audit_state())
    roll_up_costs(session, project=project)
    return activity


ActivityListener = Callable[..., None]
"""``listener(session, *, actor, project, activity, old)``: runs in :func:`update_activity`'s transaction after the
activity is changed, validated, flushed and audited; ``old`` maps each field whose value changed to its value
before. It may write (and audit) in ``session`` and raise a domain error to refuse the change (the caller's
transaction then rolls back). Upper layers (the resource assignments) react this way to an activity's edits
without the WBS importing them, as with ``eps.services.on_move``."""

_activity_listeners: list[ActivityListener] = []


def on_activity_change(listener: ActivityListener) -> ActivityListener:
    """Tell ``listener`` of every change through :func:`update_activity` from now on (registering twice is once)."""
    if listener not in _activity_listeners:
        _activity_listeners.append(listener)
    return listener


def activity_listeners() -> tuple[ActivityListener, ...]:
    """The listeners an activity's change tells, in the order they were registered."""
    return tuple(_activity_listeners)


def update_activity(session: Session, *, actor: User, project: Project, activity: Activity, **changes) -> Activity:
    """Change an activity's plan or progress (edit rights); the listeners of :func:`on_activity_change` are told
    of the fields whose value changed."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    before = activity.audit_state()
    if "code" in changes and changes["code"] != activity.code:
        _check_code_free(session, Activity, project, changes["code"], exclude=activity.id)
    old = {key: getattr(activity, key, None) for key in changes}
    for key, value in changes.items():
        setattr(activity, key, value)
    _validate_activity(session, project, activity)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=activity, before=before, after=activity.audit_state())
    old = {key: value for key, value in old.items() if getattr(activity, key) != value}
    if old:
        for listener in tuple(_activity_listeners):
            listener(session, actor=actor, project=project, activity=activity, old=old)
    if {"budgeted_cost", "actual_cost"} & changes.keys():
        roll_up_costs(session, project=project)
    return activity


def delete_activity(session: Session, *, actor: User, project: Project, activity: Activity) -> None:
    """Delete an activity and its relationships (edit rights)."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    for relationship in session.scalars(select(Relationship).where(
            or_(Relationship.predecessor_id == activity.id, Relationship.successor_id == activity.id))):
        audit.record(session, actor=actor, action="delete", entity=relationship, before=relationship.audit_state())
        session.delete(relationship)
    audit.record(session, actor=actor, action="delete", entity=activity, before=activity.audit_state())
    session.delete(activity)
    session.flush()
    roll_up_costs(session, project=project)


# Relationships


def _touching(project_ids: list[int]):
    """The ids of the relationships with an end in one of ``project_ids``.

    A union of two index look-ups: ``predecessor_id IN (…) OR successor_id IN (…)`` makes
    PostgreSQL rescan the project's activities for every relationship once they no longer fit
    in memory (minutes at 100,000 activities).
    """
    return union(*(select(Relationship.id).join(Activity, Activity.id == end)
                   .where(Activity.project_id.in_(project_ids))
                   for end in (Relationship.predecessor_id, Relationship.successor_id)))


def list_relationships(session: Session, *, project: Project) -> Select:
    """A select of relationships with an end in ``project``."""
    return select(Relationship).where(Relationship.id.in_(_touching([project.id]))).order_by(Relationship.id)


def relationships_of(session: Session, *, activity: Activity) -> Select:
    """A select of the relationships with ``activity`` at one end (the other end loaded with it), by id.

    Two index look-ups (a bitmap OR): ``list_relationships`` filtered to the activity would first gather every
    relationship of the project (300,000 ids for a 100,000-activity plan).
    """
    return (select(Relationship)
            .where(or_(Relationship.predecessor_id == activity.id, Relationship.successor_id == activity.id))
            .options(selectinload(Relationship.predecessor), selectinload(Relationship.successor))
            .order_by(Relationship.id))


def get_relationship_or_raise(session: Session, *, project: Project, relationship_id: int) -> Relationship:
    """A relationship with an end in ``project``."""
    relationship = session.get(Relationship, relationship_id)
    if relationship is None or project.id not in (relationship.predecessor.project_id,
                                                  relationship.successor.project_id):
        raise NotFound("relationship {relationship_id} not found in project {code}",
                       relationship_id=relationship_id, code=project.code)
    return relationship


def _check_relationship(type_: str, lag_hours: float) -> None:
    if type_ not in RELATIONSHIP_TYPES:
        raise Invalid("unknown relationship type {type!r}",
                      type=type_, errors={"type": [f"one of {sorted(RELATIONSHIP_TYPES)}"]})
    if not -MAX_HOURS <= lag_hours <= MAX_HOURS:
        raise Invalid("lag out of range", errors={"lag_hours": [f"between -{MAX_HOURS:g} and {MAX_HOURS:g}"]})


def _loop_through(session: Session, predecessor: Activity, successor: Activity) -> list[str] | None:
    """The activity codes of the loop a new link predecessor → successor would close, if any."""
    projects = sorted({predecessor.project_id, successor.project_id})
    edges = session.execute(select(Relationship.predecessor_id, Relationship.successor_id)
                            .where(Relationship.id.in_(_touching(projects)))).all()
    graph = nx.DiGraph(list(edges))
    graph.add_edge(predecessor.id, successor.id)
    try:
        cycle = nx.find_cycle(graph, source=successor.id)
    except nx.NetworkXNoCycle:
        return None
    ids_on_loop = [edge[0] for edge in cycle]
    codes = dict(session.execute(select(Activity.id, Activity.code).where(Activity.id.in_(ids_on_loop))).all())
    return [codes[i] for i in ids_on_loop]


def _refuse_same_type_twice(session: Session, *, predecessor_id: int, successor_id: int, type_: str,
                            other_than: int | None = None) -> None:
    """Two activities may be linked once per type (an FS and an FF link between one pair, as P6 allows)."""
    query = select(Relationship.id).where(Relationship.predecessor_id == predecessor_id,
                                          Relationship.successor_id == successor_id, Relationship.type == type_)
    if other_than is not None:
        query = query.where(Relationship.id != other_than)
    existing = session.scalar(query)
    if existing is not None:
        codes = dict(session.execute(select(Activity.id, Activity.code)
                                     .where(Activity.id.in_((predecessor_id, successor_id)))).all())
        raise Conflict("{predecessor_code} → {successor_code} is already linked {type}",
                       predecessor_code=codes[predecessor_id], successor_code=codes[successor_id], type=type_,
                       errors={"successor_id": [f"already linked {type_}"]})


def create_relationship(session: Session, *, actor: User, project: Project, predecessor: Activity,
                        successor: Activity, type: str = "FS", lag_hours: float = 0.0) -> Relationship:
    """Link two activities (edit rights on both projects); a link that closes a loop is refused."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    for end in (predecessor, successor):
        if end.project_id != project.id:
            authorize(session, user=actor, obj=session.get(Project, end.project_id), permission=Permission.edit)
    if project.id not in (predecessor.project_id, successor.project_id):
        raise Invalid("a relationship of this project needs one end in it", errors={"predecessor_id": ["not in project"]})
    if predecessor.id == successor.id:
        raise Conflict("activity {code} cannot depend on itself", code=predecessor.code,
                       errors={"successor_id": ["same as predecessor"]})
    _check_relationship(type, lag_hours)
    _refuse_same_type_twice(session, predecessor_id=predecessor.id, successor_id=successor.id, type_=type)
    loop = _loop_through(session, predecessor, successor)
    if loop:
        raise Conflict("the link would close a dependency loop: {loop}", loop=" → ".join(loop + loop[:1]),
                       errors={"successor_id": [" → ".join(loop + loop[:1])]})
    relationship = Relationship(predecessor_id=predecessor.id, successor_id=successor.id, type=type,
                                lag_hours=lag_hours)
    session.add(relationship)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=relationship, after=relationship.audit_state())
    return relationship


def update_relationship(session: Session, *, actor: User, project: Project, relationship: Relationship,
                        type: str | None = None, lag_hours: float | None = None) -> Relationship:
    """Change a relationship's type or lag (edit rights)."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    before = relationship.audit_state()
    _check_relationship(type or relationship.type, relationship.lag_hours if lag_hours is None else lag_hours)
    if type is not None and type != relationship.type:
        _refuse_same_type_twice(session, predecessor_id=relationship.predecessor_id,
                                successor_id=relationship.successor_id, type_=type, other_than=relationship.id)
    if type is not None:
        relationship.type = type
    if lag_hours is not None:
        relationship.lag_hours = lag_hours
    session.flush()
    audit.record(session, actor=actor, action="update", entity=relationship, before=before,
                 after=relationship.audit_state())
    return relationship


def delete_relationship(session: Session, *, actor: User, project: Project, relationship: Relationship) -> None:
    """Remove a relationship (edit rights)."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    audit.record(session, actor=actor, action="delete", entity=relationship, before=relationship.audit_state())
    session.delete(relationship)
    session.flush()


# Costs


def roll_up_costs(session: Session, *, project: Project) -> tuple[Decimal, Decimal]:
    """Sum the activities' budgeted and actual costs into the project (and so up the EPS).

    The one home of a project's actual cost: its activities' actual costs plus the expenses booked to it
    from accounting (``wbs.expenses``); every change of either calls this."""
    planned, actual = session.execute(
        select(func.coalesce(func.sum(Activity.budgeted_cost), ZERO), func.coalesce(func.sum(Activity.actual_cost), ZERO))
        .where(Activity.project_id == project.id)).one()
    actual = Decimal(actual) + expenses_total(session, project_id=project.id)
    eps_budgets.set_project_costs(session, project=project, planned=Decimal(planned), actual=actual)
    return Decimal(planned), actual


def project_local_now(plan: ProjectPlan) -> datetime:
    """The current wall-clock minute in the project's time zone."""
    return utcnow().astimezone(ZoneInfo(plan.time_zone)).replace(tzinfo=None, second=0, microsecond=0)


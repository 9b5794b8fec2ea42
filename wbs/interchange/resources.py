"""A read file's resources, roles and assignments into the database, and a stored project's back out.

The pool is the company's (``wbs.resources``): a file's resources and roles are matched by code
(``Resource.code``, ``ResourceRole.code``: P6's ``rsrc_short_name`` / ``role_short_name``, MS Project's
resource name) and created only when the pool lacks them, so importing a file twice creates no duplicates and a
resource keeps what the pool says of it (its calendar, rates, roles) once it is there. A created resource gets
its hierarchy, rates, roles and a calendar of its own (kind ``resource``, global: the resource is not the
project's) copied from the file's.

Assignments are written in bulk with the project's activities, with the costs the file gives; the activities'
budgeted and actual costs then become their assignments' sums through ``wbs.resources.costs``
(``activity_costs_from_assignments``, the one home of that rule). Everything happens in the caller's
transaction: a later failure of the import takes the created resources with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from crmpm import audit
from crmpm.users.models import User
from eps.models import Project
from wbs.interchange.model import (ExchangeAssignment, ExchangeRate, ExchangeResource, ExchangeResources,
                                   ExchangeRole)
from wbs.models import Activity, Calendar, CalendarException
from wbs.resources.costs import activity_costs_from_assignments
from wbs.resources.models import (CODE_LENGTH, NAME_LENGTH, Assignment, Resource, ResourceRate, ResourceRole,
                                  ResourceRoleLink, RoleRate)
from wbs.scheduling import service as scheduling_service

CENT = Decimal("0.01")

__all__ = ["PoolKeys", "store_pool", "store_assignments", "resources_of", "exchange_assignment"]


@dataclass
class PoolKeys:
    """The pool's ids of a file's resources and roles, by the file's keys; what the import created."""

    resources: dict[str, int] = field(default_factory=dict)
    roles: dict[str, int] = field(default_factory=dict)
    created_resources: list[int] = field(default_factory=list)
    created_roles: list[int] = field(default_factory=list)


def _parents_first(items):
    """``items`` (with ``id`` and ``parent_id``) ordered so that a parent comes before its children; a loop's
    members keep the file's order, the first of them without its parent."""
    by_id = {item.id: item for item in items}
    done, ordered = set(), []

    def visit(item, path):
        if item.id in done:
            return
        parent = by_id.get(item.parent_id)
        if parent is not None and parent.id not in done and parent.id not in path:
            visit(parent, path | {item.id})
        done.add(item.id)
        ordered.append(item)

    for item in items:
        visit(item, frozenset())
    return ordered


def store_pool(session: Session, *, actor: User, source: ExchangeResources) -> PoolKeys:
    """Match the file's roles and resources to the pool's by code and create the missing ones (with their
    rates, roles, hierarchy and calendar); the pool's ids by the file's keys."""
    keys = PoolKeys()
    if not source.resources and not source.roles:
        return keys
    role_codes = {role.code[:CODE_LENGTH] for role in source.roles}
    existing_roles = {role.code: role.id for role in session.scalars(
        select(ResourceRole).where(ResourceRole.code.in_(sorted(role_codes))))} if role_codes else {}
    for role in _parents_first(source.roles):
        code = role.code[:CODE_LENGTH]
        if code in existing_roles:
            keys.roles[role.id] = existing_roles[code]
            continue
        stored = ResourceRole(code=code, name=role.name[:NAME_LENGTH] or code, parent_id=keys.roles.get(role.parent_id),
                              seq=role.seq, external_id=str(role.id)[:CODE_LENGTH],
                              rates=[RoleRate(**_rate(rate)) for rate in role.rates])
        session.add(stored)
        session.flush()
        existing_roles[code] = keys.roles[role.id] = stored.id
        keys.created_roles.append(stored.id)
        audit.record(session, actor=actor, action="create", entity=stored, after=stored.audit_state())

    codes = {resource.code[:CODE_LENGTH] for resource in source.resources}
    existing = {resource.code: resource.id for resource in session.scalars(
        select(Resource).where(Resource.code.in_(sorted(codes))))} if codes else {}
    calendars: dict[str, int] = {}
    for resource in _parents_first(source.resources):
        code = resource.code[:CODE_LENGTH]
        if code in existing:
            keys.resources[resource.id] = existing[code]
            continue
        stored = Resource(
            code=code, name=resource.name[:NAME_LENGTH] or code, type=resource.type,
            parent_id=keys.resources.get(resource.parent_id), seq=resource.seq,
            calendar_id=_resource_calendar(session, source, resource.calendar_id, calendars),
            max_units_per_hour=resource.max_units_per_hour, default_units_per_hour=resource.default_units_per_hour,
            unit_of_measure=resource.unit_of_measure[:30], active=resource.active,
            external_id=str(resource.id)[:CODE_LENGTH], rates=[ResourceRate(**_rate(rate)) for rate in resource.rates],
            role_links=[ResourceRoleLink(role_id=keys.roles[role_id], proficiency=level)
                        for role_id, level in dict(resource.roles).items() if role_id in keys.roles])
        session.add(stored)
        session.flush()
        existing[code] = keys.resources[resource.id] = stored.id
        keys.created_resources.append(stored.id)
        audit.record(session, actor=actor, action="create", entity=stored, after=stored.audit_state())
    return keys


def _rate(rate: ExchangeRate) -> dict:
    # In cents, as the column keeps it (so the new rows read the same before and after they are reloaded).
    return {"effective_from": rate.effective_from, "price_per_unit": rate.price_per_unit.quantize(CENT),
            "max_units_per_hour": rate.max_units_per_hour}


def _resource_calendar(session: Session, source: ExchangeResources, key: str | None,
                       made: dict[str, int]) -> int | None:
    """The id of a resource calendar copied from the file's calendar ``key`` (one per key and import)."""
    if key is None or key not in source.calendars:
        return None
    if key not in made:
        calendar = source.calendars[key]
        stored = Calendar(project_id=None, kind="resource", name=(calendar.name or f"Calendar {key}")[:NAME_LENGTH],
                          hours_per_day=calendar.hours_per_day, external_id=str(key)[:CODE_LENGTH],
                          week=[[list(p) for p in day] for day in calendar.week])
        stored.exceptions = [CalendarException(day=day, periods=[list(p) for p in periods])
                             for day, periods in sorted(calendar.exceptions.items())]
        session.add(stored)
        session.flush()
        made[key] = stored.id
    return made[key]


def store_assignments(session: Session, *, project: Project, assignments: Iterable[ExchangeAssignment],
                      activity_ids: dict[str, int], keys: PoolKeys) -> set[int]:
    """Insert the file's assignments of ``project`` (one multi-row INSERT) and make their activities' costs
    their sums; the ids of the activities that have assignments."""
    rows = []
    for a in assignments:
        resource_id, role_id = keys.resources.get(a.resource_id), keys.roles.get(a.role_id)
        if a.activity_id not in activity_ids or (resource_id is None and role_id is None):
            continue
        rows.append(dict(
            project_id=project.id, activity_id=activity_ids[a.activity_id], resource_id=resource_id, role_id=role_id,
            budgeted_units=a.budgeted_units, actual_units=a.actual_units, remaining_units=a.remaining_units,
            units_per_hour=a.units_per_hour, budgeted_cost=a.budgeted_cost, actual_cost=a.actual_cost,
            remaining_cost=a.remaining_cost, rate_source=a.rate_source, price_per_unit=a.price_per_unit,
            start=a.start, finish=a.finish, actual_start=a.actual_start, actual_finish=a.actual_finish,
            curve=a.curve, external_id=str(a.id)[:CODE_LENGTH]))
    if not rows:
        return set()
    session.execute(insert(Assignment), rows)
    assigned = {row["activity_id"] for row in rows}
    # The activities in the session's identity map first (a query per thousand), so the rule's look-ups by id
    # find them there instead of asking one by one.
    ids = sorted(assigned)
    loaded = [activity for start in range(0, len(ids), 1000) for activity in session.scalars(
        select(Activity).where(Activity.id.in_(ids[start:start + 1000])))]
    activity_costs_from_assignments(session, assigned)
    del loaded
    return assigned


def resources_of(session: Session, *, project: Project) -> tuple[ExchangeResources, dict[int, str]]:
    """The project's assignments, and the resources (with their parents), roles and resource calendars they and
    its activities' primary resources name, as the neutral resources keyed by the pool's ids; and the primary
    resource key of each activity that has one."""
    assignments = session.scalars(select(Assignment).where(Assignment.project_id == project.id)
                                  .order_by(Assignment.id)).all()
    primaries = dict(session.execute(select(Activity.id, Activity.primary_resource_id).where(
        Activity.project_id == project.id, Activity.primary_resource_id.is_not(None))).all())
    wanted = {a.resource_id for a in assignments if a.resource_id} | set(primaries.values())
    resources = _with_parents(session, Resource, wanted,
                              lambda q: q.options(selectinload(Resource.rates), selectinload(Resource.role_links)))
    role_ids = {a.role_id for a in assignments if a.role_id}
    role_ids |= {link.role_id for resource in resources.values() for link in resource.role_links}
    roles = _with_parents(session, ResourceRole, role_ids, lambda q: q.options(selectinload(ResourceRole.rates)))
    calendar_ids = sorted({r.calendar_id for r in resources.values() if r.calendar_id})
    calendars = {}
    if calendar_ids:
        for calendar in session.scalars(select(Calendar).where(Calendar.id.in_(calendar_ids))
                                        .options(selectinload(Calendar.exceptions))):
            calendars[str(calendar.id)] = scheduling_service.calendar_to_model(calendar)
    neutral = ExchangeResources(
        resources=[_resource(r) for r in sorted(resources.values(), key=lambda r: r.id)],
        roles=[_role(r) for r in sorted(roles.values(), key=lambda r: r.id)],
        assignments=[exchange_assignment(a) for a in assignments], calendars=calendars)
    return neutral, {activity_id: str(resource_id) for activity_id, resource_id in primaries.items()}


def _with_parents(session: Session, model, ids: set[int], load) -> dict:
    """Rows of ``model`` with ``ids`` and all their ancestors, by id."""
    found: dict = {}
    wanted = set(ids)
    while wanted:
        rows = session.scalars(load(select(model).where(model.id.in_(sorted(wanted))))).all()
        found.update((row.id, row) for row in rows)
        wanted = {row.parent_id for row in rows if row.parent_id and row.parent_id not in found}
    return found


def _key(value: int | None) -> str | None:
    return str(value) if value is not None else None


def _rates(rates) -> tuple[ExchangeRate, ...]:
    return tuple(ExchangeRate(effective_from=r.effective_from, price_per_unit=r.price_per_unit,
                              max_units_per_hour=r.max_units_per_hour)
                 for r in sorted(rates, key=lambda r: r.effective_from))


def _resource(r: Resource) -> ExchangeResource:
    return ExchangeResource(
        id=str(r.id), code=r.code, name=r.name, type=r.type, parent_id=_key(r.parent_id), seq=r.seq,
        calendar_id=_key(r.calendar_id), max_units_per_hour=r.max_units_per_hour,
        default_units_per_hour=r.default_units_per_hour, unit_of_measure=r.unit_of_measure or "", active=r.active,
        rates=_rates(r.rates), roles=tuple(sorted((str(link.role_id), link.proficiency) for link in r.role_links)))


def _role(r: ResourceRole) -> ExchangeRole:
    return ExchangeRole(id=str(r.id), code=r.code, name=r.name, parent_id=_key(r.parent_id), seq=r.seq,
                        rates=_rates(r.rates))


def exchange_assignment(a: Assignment) -> ExchangeAssignment:
    """A stored assignment as the neutral one, keyed by the pool's and the project's ids."""
    return ExchangeAssignment(
        id=str(a.id), activity_id=str(a.activity_id), resource_id=_key(a.resource_id), role_id=_key(a.role_id),
        budgeted_units=a.budgeted_units, actual_units=a.actual_units, remaining_units=a.remaining_units,
        units_per_hour=a.units_per_hour, budgeted_cost=a.budgeted_cost, actual_cost=a.actual_cost,
        remaining_cost=a.remaining_cost, rate_source=a.rate_source, price_per_unit=a.price_per_unit, start=a.start,
        finish=a.finish, actual_start=a.actual_start, actual_finish=a.actual_finish, curve=a.curve)

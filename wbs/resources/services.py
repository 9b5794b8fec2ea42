"""The resource pool (resources, roles, their rates) and the assignments of resources and roles to activities.

Rights: the pool is enterprise-wide settings, read by everyone signed in and changed by administrators only
(like the pipelines); a resource's bookings follow the projects: assignments are read with read rights on
their project and changed with edit rights (``eps.permissions.authorize``).

Every change to an assignment prices it (``costs.price_assignment``), sets its activity's costs from its
assignments (``costs.activity_costs_from_assignments``) and rolls the project up the EPS
(``wbs.services.roll_up_costs``). Units, units per hour and duration keep ``units = units/h × duration`` by
the activity's duration type (``wbs.resources.duration``).
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from crmpm import audit, search
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound, Phrase
from crmpm.users.models import User
from eps.models import EpsNode, Project
from eps.permissions import Permission, authorize
from wbs import services as wbs_services
from wbs.models import Activity, Calendar
from wbs.resources import costs
from wbs.resources.duration import Work, recompute
from wbs.resources.models import (
    CURVES, RATE_SOURCES, RESOURCE_TYPES, Assignment, Resource, ResourceRate, ResourceRole, ResourceRoleLink,
    RoleRate,
)

MAX_UNITS = 1_000_000.0  # hours of effort on one assignment
MAX_UNITS_PER_HOUR = 1000.0  # a crew of a thousand, or a material's units per hour
MAX_RATES = 200
MAX_ROLES = 100
MONEY_LIMIT = Decimal("1e15")


def may_change_pool(user: User) -> bool:
    """Whether ``user`` may change resources and roles: administrators only."""
    return bool(user.is_admin)


def _authorize_pool(actor: User) -> None:
    if not may_change_pool(actor):
        raise Forbidden("only administrators change the resource pool")


# Resources


def list_resources(session: Session, *, user: User, search_text: str | None = None, type_: str | None = None,
                   parent_id: int | None = None, role_id: int | None = None, active: bool | None = None,
                   eps_node_id: int | None = None) -> Select:
    """A select of the pool's resources by code (everyone signed in reads the pool), with their rates and roles."""
    query = (select(Resource).options(selectinload(Resource.rates), selectinload(Resource.role_links))
             .order_by(Resource.code, Resource.id))
    condition = search.contains([Resource.code, Resource.name], search_text)
    if condition is not None:
        query = query.where(condition)
    if type_ is not None:
        query = query.where(Resource.type == type_)
    if parent_id is not None:
        query = query.where(Resource.parent_id == parent_id)
    if active is not None:
        query = query.where(Resource.active.is_(active))
    if eps_node_id is not None:
        query = query.where(Resource.eps_node_id == eps_node_id)
    if role_id is not None:
        query = query.where(Resource.id.in_(select(ResourceRoleLink.resource_id)
                                            .where(ResourceRoleLink.role_id == role_id)))
    return query


def get_resource_or_raise(session: Session, *, resource_id: int, field: str | None = None) -> Resource:
    """The resource with this id, or NotFound (naming ``field``)."""
    resource = session.get(Resource, resource_id) if resource_id is not None else None
    if resource is None:
        raise NotFound("resource {resource_id} not found",
                       resource_id=resource_id, errors={field: ["not found"]} if field else None)
    return resource


def resource_tree(resources: list[Resource]) -> list[tuple[Resource, int]]:
    """``resources`` in tree order, each with its depth (a resource whose parent is not among them is a root)."""
    by_parent: dict[int | None, list[Resource]] = {}
    ids = {r.id for r in resources}
    for resource in resources:
        by_parent.setdefault(resource.parent_id if resource.parent_id in ids else None, []).append(resource)
    ordered: list[tuple[Resource, int]] = []

    def walk(parent_id, depth):
        for child in sorted(by_parent.get(parent_id, []), key=lambda r: (r.seq, r.code)):
            ordered.append((child, depth))
            walk(child.id, depth + 1)

    walk(None, 0)
    return ordered


def _check_units(value, field: str, *, positive: bool = False, limit: float = MAX_UNITS_PER_HOUR) -> float:
    if value is None or not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
        raise Invalid("{field} must be a number", field=field, errors={field: ["not a number"]})
    if value < 0 or value > limit or (positive and value == 0):
        raise Invalid("{field} must be between 0 and {limit:g}", field=field, limit=limit,
                      errors={field: ["out of range"]})
    return float(value)


def _check_price(value, field: str) -> Decimal:
    price = Decimal(value) if not isinstance(value, Decimal) else value
    if not price.is_finite() or price < 0 or price >= MONEY_LIMIT:
        raise Invalid("{field} must be a price of 0 or more", field=field, errors={field: ["out of range"]})
    return price.quantize(Decimal("0.01"))


def _rates(rows, model, field: str = "rates") -> list:
    """Rate rows from ``[{effective_from, price_per_unit, max_units_per_hour?}]``: one per day, prices ≥ 0."""
    if len(rows) > MAX_RATES:
        raise Invalid("at most {limit} rates", limit=MAX_RATES, errors={field: ["too many"]})
    made, seen = [], set()
    for row in rows:
        day = row.get("effective_from")
        if not isinstance(day, date) or isinstance(day, datetime):
            raise Invalid("a rate needs the date it takes effect", errors={field: ["effective_from is a date"]})
        if day in seen:
            raise Invalid("two rates from {day}", day=day.isoformat(), errors={field: ["one rate per date"]})
        seen.add(day)
        limit = row.get("max_units_per_hour")
        made.append(model(effective_from=day, price_per_unit=_check_price(row.get("price_per_unit", 0), field),
                          max_units_per_hour=None if limit is None else _check_units(limit, field)))
    return sorted(made, key=lambda rate: rate.effective_from)


def _replace_rates(owner, rows, model) -> None:
    # A date kept keeps its row (a new row for the same date would clash with the old one before it is deleted).
    kept = {rate.effective_from: rate for rate in owner.rates}
    new = []
    for rate in _rates(rows, model):
        old = kept.get(rate.effective_from)
        if old is not None:
            old.price_per_unit, old.max_units_per_hour = rate.price_per_unit, rate.max_units_per_hour
            rate = old
        new.append(rate)
    owner.rates = new


def _replace_roles(session: Session, resource: Resource, rows) -> None:
    if len(rows) > MAX_ROLES:
        raise Invalid("at most {limit} roles", limit=MAX_ROLES, errors={"roles": ["too many"]})
    kept = {link.role_id: link for link in resource.role_links}
    links, seen = [], set()
    for row in rows:
        role = get_role_or_raise(session, role_id=row.get("role_id"), field="roles")
        if role.id in seen:
            raise Invalid("role {code} given twice", code=role.code, errors={"roles": ["a role once"]})
        seen.add(role.id)
        proficiency = row.get("proficiency", 3)
        if not isinstance(proficiency, int) or isinstance(proficiency, bool) or not 1 <= proficiency <= 5:
            raise Invalid("proficiency is 1 (best) to 5", errors={"roles": ["proficiency 1 to 5"]})
        link = kept.get(role.id) or ResourceRoleLink(role_id=role.id, role=role)
        link.proficiency = proficiency
        links.append(link)
    resource.role_links = links


def _check_parent(session: Session, model, obj, parent_id: int | None, label: Phrase) -> None:
    if parent_id is None:
        return
    parent = session.get(model, parent_id)
    if parent is None:
        raise NotFound("{label} {parent_id} not found", label=label, parent_id=parent_id,
                       errors={"parent_id": ["not found"]})
    seen = set()
    while parent is not None and parent.id not in seen:
        if obj.id is not None and parent.id == obj.id:
            raise Invalid("a {label} cannot be below itself", label=label, errors={"parent_id": ["a loop"]})
        seen.add(parent.id)
        parent = session.get(model, parent.parent_id) if parent.parent_id is not None else None


def _apply_resource(session: Session, resource: Resource, fields: dict) -> None:
    if "code" in fields:
        code = (fields["code"] or "").strip()
        if not code:
            raise Invalid("a resource needs a code", errors={"code": ["required"]})
        taken = session.scalar(select(Resource.id).where(Resource.code == code))
        if taken is not None and taken != resource.id:
            raise Conflict("resource code {code} is taken", code=code, errors={"code": ["taken"]})
        resource.code = code
    if "name" in fields:
        name = (fields["name"] or "").strip()
        if not name:
            raise Invalid("a resource needs a name", errors={"name": ["required"]})
        resource.name = name
    if "type" in fields:
        if fields["type"] not in RESOURCE_TYPES:
            raise Invalid("unknown resource type {type!r}", type=fields["type"],
                          errors={"type": [f"one of {list(RESOURCE_TYPES)}"]})
        resource.type = fields["type"]
    if "parent_id" in fields:
        _check_parent(session, Resource, resource, fields["parent_id"], Phrase("resource"))
        resource.parent_id = fields["parent_id"]
    if fields.get("calendar_id") is not None:
        calendar = session.get(Calendar, fields["calendar_id"])
        if calendar is None or calendar.project_id is not None:
            raise NotFound("calendar {calendar_id} not found", calendar_id=fields["calendar_id"],
                           errors={"calendar_id": ["not a global or resource calendar"]})
    if "calendar_id" in fields:
        resource.calendar_id = fields["calendar_id"]
    for key in ("max_units_per_hour", "default_units_per_hour"):
        if key in fields:
            setattr(resource, key, _check_units(fields[key], key, positive=key == "max_units_per_hour"))
    if "unit_of_measure" in fields:
        unit = (fields["unit_of_measure"] or "").strip()
        if len(unit) > 30:
            raise Invalid("a unit of measure has at most 30 characters", errors={"unit_of_measure": ["too long"]})
        resource.unit_of_measure = unit
    if "user_id" in fields:
        user_id = fields["user_id"]
        if user_id is not None:
            person = session.get(User, user_id)
            if person is None:
                raise NotFound("user {user_id} not found", user_id=user_id, errors={"user_id": ["not found"]})
            other = session.scalar(select(Resource).where(Resource.user_id == user_id, Resource.id != resource.id)
                                   if resource.id is not None else select(Resource).where(Resource.user_id == user_id))
            if other is not None:
                raise Conflict("user {email} is resource {code} already", email=person.email, code=other.code,
                               errors={"user_id": ["linked to another resource"]})
        resource.user_id = user_id
    if "eps_node_id" in fields:
        if fields["eps_node_id"] is not None and session.get(EpsNode, fields["eps_node_id"]) is None:
            raise NotFound("EPS node {node_id} not found", node_id=fields["eps_node_id"],
                           errors={"eps_node_id": ["not found"]})
        resource.eps_node_id = fields["eps_node_id"]
    if "active" in fields:
        resource.active = bool(fields["active"])
    if "external_id" in fields:
        resource.external_id = fields["external_id"]
    if fields.get("rates") is not None:
        _replace_rates(resource, fields["rates"], ResourceRate)
    if fields.get("roles") is not None:
        _replace_roles(session, resource, fields["roles"])


RESOURCE_FIELDS = frozenset({"code", "name", "type", "parent_id", "calendar_id", "max_units_per_hour",
                             "default_units_per_hour", "unit_of_measure", "user_id", "eps_node_id", "active",
                             "external_id", "rates", "roles"})


def create_resource(session: Session, *, actor: User, code: str, name: str, **fields) -> Resource:
    """A new resource of the pool (administrators): ``fields`` as ``RESOURCE_FIELDS``; ``rates`` a list of
    ``{effective_from, price_per_unit, max_units_per_hour}``, ``roles`` a list of ``{role_id, proficiency}``."""
    _authorize_pool(actor)
    unknown = set(fields) - RESOURCE_FIELDS
    if unknown:
        raise TypeError(f"unknown resource fields {sorted(unknown)}")
    resource = Resource(type="labor", max_units_per_hour=1.0, default_units_per_hour=1.0, unit_of_measure="",
                        active=True, seq=0)
    _apply_resource(session, resource, {"code": code, "name": name, **fields})
    session.add(resource)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=resource, after=resource.audit_state())
    return resource


def update_resource(session: Session, *, actor: User, resource: Resource, **changes) -> Resource:
    """Change a resource (administrators); ``rates`` and ``roles``, when given, replace the lists."""
    _authorize_pool(actor)
    unknown = set(changes) - RESOURCE_FIELDS
    if unknown:
        raise TypeError(f"unknown resource fields {sorted(unknown)}")
    before = resource.audit_state()
    _apply_resource(session, resource, changes)
    session.flush()
    after = resource.audit_state()
    if after != before:
        audit.record(session, actor=actor, action="update", entity=resource, before=before, after=after)
    if after["rates"] != before["rates"]:
        reprice_assignments(session, Assignment.resource_id == resource.id)
    return resource


def reprice_assignments(session: Session, condition) -> int:
    """Price again the assignments matching ``condition`` (their rates changed), set their activities' costs and
    roll the projects changed up; how many assignments were priced."""
    assignments = session.scalars(select(Assignment).where(condition)).all()
    for assignment in assignments:
        costs.price_assignment(assignment)
    session.flush()
    for project_id in sorted(costs.activity_costs_from_assignments(session, {a.activity_id for a in assignments})):
        wbs_services.roll_up_costs(session, project=session.get(Project, project_id))
    return len(assignments)


def _assignment_count(session: Session, condition) -> int:
    return session.scalar(select(func.count()).select_from(Assignment).where(condition))


def delete_resource(session: Session, *, actor: User, resource: Resource) -> None:
    """Delete a resource without assignments (administrators); one with assignments is a Conflict (deactivate it
    instead). Its children move up to its parent; its own calendar goes with it."""
    _authorize_pool(actor)
    used = _assignment_count(session, Assignment.resource_id == resource.id)
    if used:
        raise Conflict("resource {code} has {count} assignment(s): deactivate it instead",
                       code=resource.code, count=used)
    for child in session.scalars(select(Resource).where(Resource.parent_id == resource.id)):
        child.parent_id = resource.parent_id
    calendar = session.get(Calendar, resource.calendar_id) if resource.calendar_id is not None else None
    audit.record(session, actor=actor, action="delete", entity=resource, before=resource.audit_state())
    session.delete(resource)
    session.flush()
    if calendar is not None and calendar.kind == "resource":
        still_used = session.scalar(select(func.count()).select_from(Resource)
                                    .where(Resource.calendar_id == calendar.id))
        if not still_used:
            audit.record(session, actor=actor, action="delete", entity=calendar, before=calendar.audit_state())
            session.delete(calendar)
            session.flush()


# Roles


def list_roles(session: Session, *, user: User, search_text: str | None = None,
               parent_id: int | None = None) -> Select:
    """A select of the roles by code, with their rates (everyone signed in)."""
    query = select(ResourceRole).options(selectinload(ResourceRole.rates)).order_by(ResourceRole.code,
                                                                                  ResourceRole.id)
    condition = search.contains([ResourceRole.code, ResourceRole.name], search_text)
    if condition is not None:
        query = query.where(condition)
    if parent_id is not None:
        query = query.where(ResourceRole.parent_id == parent_id)
    return query


def get_role_or_raise(session: Session, *, role_id: int, field: str | None = None) -> ResourceRole:
    """The role with this id, or NotFound (naming ``field``)."""
    role = session.get(ResourceRole, role_id) if isinstance(role_id, int) and not isinstance(role_id, bool) else None
    if role is None:
        raise NotFound("role {role_id} not found", role_id=role_id, errors={field: ["not found"]} if field else None)
    return role


ROLE_FIELDS = frozenset({"code", "name", "parent_id", "rates", "external_id"})


def _apply_role(session: Session, role: ResourceRole, fields: dict) -> None:
    if "code" in fields:
        code = (fields["code"] or "").strip()
        if not code:
            raise Invalid("a role needs a code", errors={"code": ["required"]})
        taken = session.scalar(select(ResourceRole.id).where(ResourceRole.code == code))
        if taken is not None and taken != role.id:
            raise Conflict("role code {code} is taken", code=code, errors={"code": ["taken"]})
        role.code = code
    if "name" in fields:
        name = (fields["name"] or "").strip()
        if not name:
            raise Invalid("a role needs a name", errors={"name": ["required"]})
        role.name = name
    if "parent_id" in fields:
        _check_parent(session, ResourceRole, role, fields["parent_id"], Phrase("role"))
        role.parent_id = fields["parent_id"]
    if "external_id" in fields:
        role.external_id = fields["external_id"]
    if fields.get("rates") is not None:
        _replace_rates(role, fields["rates"], RoleRate)


def create_role(session: Session, *, actor: User, code: str, name: str, **fields) -> ResourceRole:
    """A new role (administrators): ``parent_id``, ``rates`` (``{effective_from, price_per_unit}``)."""
    _authorize_pool(actor)
    unknown = set(fields) - ROLE_FIELDS
    if unknown:
        raise TypeError(f"unknown role fields {sorted(unknown)}")
    role = ResourceRole(seq=0)
    _apply_role(session, role, {"code": code, "name": name, **fields})
    session.add(role)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=role, after=role.audit_state())
    return role


def update_role(session: Session, *, actor: User, role: ResourceRole, **changes) -> ResourceRole:
    """Change a role (administrators); ``rates``, when given, replace its rates."""
    _authorize_pool(actor)
    unknown = set(changes) - ROLE_FIELDS
    if unknown:
        raise TypeError(f"unknown role fields {sorted(unknown)}")
    before = role.audit_state()
    _apply_role(session, role, changes)
    session.flush()
    after = role.audit_state()
    if after != before:
        audit.record(session, actor=actor, action="update", entity=role, before=before, after=after)
    if after["rates"] != before["rates"]:
        reprice_assignments(session, Assignment.role_id == role.id)
    return role


def delete_role(session: Session, *, actor: User, role: ResourceRole) -> None:
    """Delete a role no assignment uses (administrators; a Conflict otherwise); roles below move up, resources
    lose it."""
    _authorize_pool(actor)
    used = _assignment_count(session, Assignment.role_id == role.id)
    if used:
        raise Conflict("role {code} has {count} assignment(s)", code=role.code, count=used)
    for child in session.scalars(select(ResourceRole).where(ResourceRole.parent_id == role.id)):
        child.parent_id = role.parent_id
    for link in session.scalars(select(ResourceRoleLink).where(ResourceRoleLink.role_id == role.id)):
        session.delete(link)
    audit.record(session, actor=actor, action="delete", entity=role, before=role.audit_state())
    session.delete(role)
    session.flush()


# Assignments


def list_assignments(session: Session, *, user: User, project: Project, activity: Activity | None = None,
                     resource_id: int | None = None, role_id: int | None = None) -> Select:
    """A select of the project's assignments (read rights), by activity and id; of one activity when given."""
    authorize(session, user=user, obj=project, permission=Permission.read)
    query = select(Assignment).where(Assignment.project_id == project.id)
    if activity is not None:
        query = query.where(Assignment.activity_id == activity.id)
    if resource_id is not None:
        query = query.where(Assignment.resource_id == resource_id)
    if role_id is not None:
        query = query.where(Assignment.role_id == role_id)
    return query.order_by(Assignment.activity_id, Assignment.id)


def get_assignment_or_raise(session: Session, *, user: User, project: Project, assignment_id: int) -> Assignment:
    """An assignment of ``project`` (read rights on it)."""
    authorize(session, user=user, obj=project, permission=Permission.read)
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.project_id != project.id:
        raise NotFound("assignment {assignment_id} not found in project {code}",
                       assignment_id=assignment_id, code=project.code)
    return assignment


def authorize_assignment_change(session: Session, *, actor: User, project: Project) -> None:
    """NotFound unless ``actor`` reads ``project``, Forbidden unless they may change its assignments."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)


def may_change_assignments(session: Session, *, user: User, project: Project) -> bool:
    """Whether ``user`` may add, change and remove the assignments of ``project``."""
    try:
        authorize_assignment_change(session, actor=user, project=project)
    except (Forbidden, NotFound):
        return False
    return True


def activity_dates(activity: Activity) -> tuple[datetime | None, datetime | None]:
    """The dates an assignment of ``activity`` takes by default: its remaining early dates once scheduled, else
    its early dates, else its baseline's."""
    for start, finish in ((activity.remaining_early_start, activity.remaining_early_finish),
                          (activity.early_start, activity.early_finish),
                          (activity.baseline_start, activity.baseline_finish)):
        if start is not None or finish is not None:
            return start, finish
    return None, None


def activity_duration(activity: Activity) -> float:
    """The working hours an assignment of ``activity`` runs: its original duration."""
    return float(activity.original_duration_hours or 0.0)


def _resource_for(session: Session, resource_id, *, current: int | None) -> Resource | None:
    if resource_id is None:
        return None
    resource = get_resource_or_raise(session, resource_id=resource_id, field="resource_id")
    if not resource.active and resource.id != current:
        raise Invalid("resource {code} is inactive", code=resource.code, errors={"resource_id": ["inactive"]})
    return resource


def _check_assignment(assignment: Assignment) -> None:
    if assignment.resource_id is None and assignment.role_id is None:
        raise Invalid("an assignment needs a resource or a role", errors={"resource_id": ["resource or role"]})
    if assignment.rate_source not in RATE_SOURCES:
        raise Invalid("unknown rate source {value!r}", value=assignment.rate_source,
                      errors={"rate_source": [f"one of {list(RATE_SOURCES)}"]})
    if assignment.rate_source == "override" and assignment.price_per_unit is None:
        raise Invalid("an overridden rate needs a price per unit", errors={"price_per_unit": ["required"]})
    if assignment.rate_source == "role" and assignment.role_id is None:
        raise Invalid("the role's rate needs a role", errors={"role_id": ["required with rate source role"]})
    if assignment.rate_source == "resource" and assignment.resource_id is None:
        raise Invalid("the resource's rate needs a resource",
                      errors={"resource_id": ["required with rate source resource"]})
    if assignment.curve not in CURVES:
        raise Invalid("unknown curve {value!r}", value=assignment.curve, errors={"curve": [f"one of {list(CURVES)}"]})
    for field in ("budgeted_units", "actual_units", "remaining_units"):
        _check_units(getattr(assignment, field), field, limit=MAX_UNITS)
    _check_units(assignment.units_per_hour, "units_per_hour")
    for first, last in (("start", "finish"), ("actual_start", "actual_finish")):
        start, finish = getattr(assignment, first), getattr(assignment, last)
        if start is not None and finish is not None and finish < start:
            raise Invalid("{last} before {first}", first=first, last=last, errors={last: [f"before {first}"]})


def _priced(session: Session, *, assignment: Assignment, project: Project, activity_ids: set[int]) -> None:
    costs.price_assignment(assignment)
    session.flush()
    costs.activity_costs_from_assignments(session, activity_ids)
    wbs_services.roll_up_costs(session, project=project)


ASSIGNMENT_FIELDS = frozenset({"resource_id", "role_id", "budgeted_units", "actual_units", "remaining_units",
                               "units_per_hour", "rate_source", "price_per_unit", "curve", "start", "finish",
                               "actual_start", "actual_finish", "external_id"})


def create_assignment(session: Session, *, actor: User, project: Project, activity: Activity,
                      **fields) -> Assignment:
    """Assign a resource or a role (or both) to ``activity`` (edit rights on ``project``).

    Defaults: units per hour the resource's default units (1.0 for a role), budgeted units units/h × the
    activity's duration, remaining units budgeted − actual, the rate source the resource's (the role's for a
    role alone; ``override`` when a price is given), dates the activity's (``activity_dates``).
    """
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    unknown = set(fields) - ASSIGNMENT_FIELDS
    if unknown:
        raise TypeError(f"unknown assignment fields {sorted(unknown)}")
    if activity.project_id != project.id:
        raise NotFound("activity {activity_id} not found in project {code}", activity_id=activity.id,
                       code=project.code, errors={"activity_id": ["not found"]})
    resource = _resource_for(session, fields.get("resource_id"), current=None)
    role = (get_role_or_raise(session, role_id=fields["role_id"], field="role_id")
            if fields.get("role_id") is not None else None)
    rate = fields.get("units_per_hour")
    if rate is None:
        rate = resource.default_units_per_hour if resource is not None else 1.0
    budgeted = fields.get("budgeted_units")
    if budgeted is None:
        budgeted = rate * activity_duration(activity)
    actual = fields.get("actual_units") or 0.0
    remaining = fields.get("remaining_units")
    if remaining is None:
        remaining = max(budgeted - actual, 0.0)
    source = fields.get("rate_source")
    if source is None:
        source = "override" if fields.get("price_per_unit") is not None else ("resource" if resource else "role")
    start, finish = activity_dates(activity)
    assignment = Assignment(
        project_id=project.id, activity_id=activity.id, resource=resource, role=role,
        resource_id=resource.id if resource else None, role_id=role.id if role else None,
        budgeted_units=budgeted, actual_units=actual, remaining_units=remaining, units_per_hour=rate,
        rate_source=source, price_per_unit=fields.get("price_per_unit"), curve=fields.get("curve") or "uniform",
        start=fields.get("start", start), finish=fields.get("finish", finish),
        actual_start=fields.get("actual_start"), actual_finish=fields.get("actual_finish"),
        external_id=fields.get("external_id"), budgeted_cost=costs.ZERO, actual_cost=costs.ZERO,
        remaining_cost=costs.ZERO)
    if assignment.price_per_unit is not None:
        assignment.price_per_unit = _check_price(assignment.price_per_unit, "price_per_unit")
    _check_assignment(assignment)
    session.add(assignment)
    session.flush()
    _priced(session, assignment=assignment, project=project, activity_ids={activity.id})
    audit.record(session, actor=actor, action="create", entity=assignment, after=assignment.audit_state())
    return assignment


def _retime(session: Session, *, actor: User, project: Project, activity: Activity, assignment: Assignment,
            changed: str, value: float) -> None:
    """Apply the activity's duration type to a change of units, units per hour or duration; a new duration goes
    to the activity (and to its other assignments, by the same rule)."""
    before = Work(assignment.budgeted_units, assignment.units_per_hour, activity_duration(activity))
    after = recompute(activity.duration_type, before, changed, value)
    spent = assignment.budgeted_units - assignment.remaining_units
    assignment.budgeted_units, assignment.units_per_hour = after.units, after.units_per_hour
    assignment.remaining_units = max(after.units - spent, 0.0)
    if after.duration != before.duration:
        _check_units(after.duration, "duration_hours", limit=wbs_services.MAX_HOURS)
        duration_changes = {"original_duration_hours": after.duration}
        if activity.actual_start is None and activity.remaining_duration_hours is not None:
            duration_changes["remaining_duration_hours"] = after.duration
        # The other assignments follow the new duration through follow_activity_duration.
        _update_activity_keeping(session, assignment, actor=actor, project=project, activity=activity,
                                 **duration_changes)


_kept: ContextVar[frozenset[int]] = ContextVar("assignments_set_by_hand", default=frozenset())


def _update_activity_keeping(session: Session, assignment: Assignment, **changes) -> None:
    """``wbs.services.update_activity`` for a duration ``assignment``'s own change decided: the activity's other
    assignments follow it (``follow_activity_duration``), ``assignment`` keeps the work set on it."""
    token = _kept.set(_kept.get() | {assignment.id})
    try:
        wbs_services.update_activity(session, **changes)
    finally:
        _kept.reset(token)


@wbs_services.on_activity_change
def follow_activity_duration(session: Session, *, actor: User, project: Project, activity: Activity,
                             old: dict) -> None:
    """Apply the activity's duration type to its assignments when its ``original_duration_hours`` changed
    (``wbs.services.on_activity_change``; registered when this module is imported, which the app does through its
    API and pages): units or units per hour give way as ``wbs.resources.duration.recompute`` says; remaining
    units keep the work already done (budgeted − remaining before); then the assignments are priced, the
    activity's costs set from them and the project rolled up (``reprice_assignments``)."""
    if "original_duration_hours" not in old:
        return
    was = float(old["original_duration_hours"] or 0.0)
    now = activity_duration(activity)
    kept = _kept.get()
    befores: dict[int, tuple[Assignment, dict]] = {}
    for assignment in session.scalars(select(Assignment).where(Assignment.activity_id == activity.id)
                                      .order_by(Assignment.id)):
        if assignment.id in kept:
            continue
        befores[assignment.id] = (assignment, assignment.audit_state())
        moved = recompute(activity.duration_type, Work(assignment.budgeted_units, assignment.units_per_hour, was),
                          "duration", now)
        done = assignment.budgeted_units - assignment.remaining_units
        assignment.budgeted_units, assignment.units_per_hour = moved.units, moved.units_per_hour
        assignment.remaining_units = max(moved.units - done, 0.0)
        _check_assignment(assignment)
    if not befores:
        return
    session.flush()
    reprice_assignments(session, Assignment.id.in_(befores))
    for assignment, before in befores.values():
        if assignment.audit_state() != before:
            audit.record(session, actor=actor, action="update", entity=assignment, before=before,
                         after=assignment.audit_state())


def update_assignment(session: Session, *, actor: User, project: Project, assignment: Assignment,
                      duration_hours: float | None = None, **changes) -> Assignment:
    """Change an assignment (edit rights). A change of ``budgeted_units``, ``units_per_hour`` or
    ``duration_hours`` (the activity's duration) recomputes the others by the activity's duration type
    (``wbs.resources.duration``; give one of them at a time for that rule, or several to set them as given).
    Giving a role-only assignment a resource (staffing it) keeps its role."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    unknown = set(changes) - ASSIGNMENT_FIELDS
    if unknown:
        raise TypeError(f"unknown assignment fields {sorted(unknown)}")
    activity = session.get(Activity, assignment.activity_id)
    before = assignment.audit_state()
    if "resource_id" in changes:
        resource = _resource_for(session, changes.pop("resource_id"), current=assignment.resource_id)
        assignment.resource, assignment.resource_id = resource, resource.id if resource else None
    if "role_id" in changes:
        role_id = changes.pop("role_id")
        role = get_role_or_raise(session, role_id=role_id, field="role_id") if role_id is not None else None
        assignment.role, assignment.role_id = role, role.id if role else None
    if changes.get("price_per_unit") is not None:
        changes["price_per_unit"] = _check_price(changes["price_per_unit"], "price_per_unit")
        changes.setdefault("rate_source", "override")
    work = {key: changes.pop(key) for key in ("budgeted_units", "units_per_hour") if key in changes}
    if duration_hours is not None:
        work["duration"] = duration_hours
    for key in ("budgeted_units", "units_per_hour", "duration"):
        if key in work:
            _check_units(work[key], "duration_hours" if key == "duration" else key,
                         limit=MAX_UNITS_PER_HOUR if key == "units_per_hour" else MAX_UNITS)
    for key, value in changes.items():
        setattr(assignment, key, value)
    if len(work) == 1:
        (key, value), = work.items()
        _retime(session, actor=actor, project=project, activity=activity, assignment=assignment,
                changed="units" if key == "budgeted_units" else key, value=float(value))
        if "remaining_units" in changes:
            assignment.remaining_units = changes["remaining_units"]
    else:
        if "duration" in work:
            _update_activity_keeping(session, assignment, actor=actor, project=project, activity=activity,
                                     original_duration_hours=float(work.pop("duration")))
        old_budget = assignment.budgeted_units
        for key, value in work.items():
            setattr(assignment, key, float(value))
        if "budgeted_units" in work and "remaining_units" not in changes:
            spent = old_budget - assignment.remaining_units
            assignment.remaining_units = max(assignment.budgeted_units - spent, 0.0)
    _check_assignment(assignment)
    session.flush()
    _priced(session, assignment=assignment, project=project, activity_ids={assignment.activity_id})
    after = assignment.audit_state()
    if after != before:
        audit.record(session, actor=actor, action="update", entity=assignment, before=before, after=after)
    return assignment


def delete_assignment(session: Session, *, actor: User, project: Project, assignment: Assignment) -> None:
    """Remove an assignment (edit rights); its activity's costs become its remaining assignments' (none: zero)."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    activity_id = assignment.activity_id
    audit.record(session, actor=actor, action="delete", entity=assignment, before=assignment.audit_state())
    session.delete(assignment)
    session.flush()
    costs.activity_costs_from_assignments(session, {activity_id})
    costs.clear_costs_of_unassigned(session, {activity_id})
    wbs_services.roll_up_costs(session, project=project)

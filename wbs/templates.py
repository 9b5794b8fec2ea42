"""WBS templates: any project's WBS, activities, calendars and relationships copied into another project.

A won deal gets its execution plan this way: the template is a stored project
(typically kept under a templates EPS node), and its structure, durations and
budgeted costs are copied; progress, actuals and computed dates are not.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.errors import Conflict
from crmpm.users.models import User
from eps import services as eps_services
from eps.models import Project
from eps.permissions import Permission, authorize
from wbs import services
from wbs.models import Activity, Calendar, CalendarException, Relationship, WbsElement

COPIED_ACTIVITY_FIELDS = ("code", "name", "type", "original_duration_hours", "constraint_type", "constraint_date",
                          "secondary_constraint_type", "secondary_constraint_date", "budgeted_cost", "notes")


def candidates(session: Session, *, user: User, exclude: Project | None = None, limit: int = 100) -> list[Project]:
    """Projects ``user`` may read that hold a plan to copy (at least one activity), by code; at most ``limit``."""
    query = eps_services.list_projects(session, user=user).where(
        select(Activity.id).where(Activity.project_id == Project.id).exists())
    if exclude is not None:
        query = query.where(Project.id != exclude.id)
    return list(session.scalars(query.order_by(None).order_by(Project.code).limit(limit)))


def apply_template(session: Session, *, actor: User, template: Project, project: Project) -> dict[str, int]:
    """Copy ``template``'s plan structure into an empty ``project`` (read rights on one, edit on the other)."""
    authorize(session, user=actor, obj=template, permission=Permission.read)
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    if template.id == project.id:
        raise Conflict("a project cannot be its own template", errors={"template_project_id": ["same project"]})
    existing = session.scalar(select(func.count()).select_from(Activity).where(Activity.project_id == project.id))
    existing += session.scalar(select(func.count()).select_from(WbsElement).where(WbsElement.project_id == project.id))
    if existing:
        raise Conflict("project {code} already has a WBS or activities; a template goes into an empty one",
                       code=project.code,
                       errors={"template_project_id": ["target not empty"]})

    calendars = {}
    for source in session.scalars(select(Calendar).where(Calendar.project_id == template.id)):
        copy = Calendar(project_id=project.id, name=source.name, hours_per_day=source.hours_per_day,
                        week=[list(map(list, day)) for day in source.week])
        copy.exceptions = [CalendarException(day=e.day, periods=[list(p) for p in e.periods]) for e in source.exceptions]
        session.add(copy)
        session.flush()
        calendars[source.id] = copy.id

    elements = {}
    for source in services.list_elements(session, project=template):  # parents first
        copy = WbsElement(project_id=project.id, parent_id=elements.get(source.parent_id), code=source.code,
                          name=source.name, seq=source.seq)
        session.add(copy)
        session.flush()
        elements[source.id] = copy.id

    activities = {}
    sources = session.scalars(select(Activity).where(Activity.project_id == template.id).order_by(Activity.id)).all()
    for source in sources:
        copy = Activity(project_id=project.id, wbs_element_id=elements.get(source.wbs_element_id),
                        calendar_id=calendars.get(source.calendar_id, source.calendar_id),
                        remaining_duration_hours=source.original_duration_hours, percent_complete=0.0,
                        **{field: getattr(source, field) for field in COPIED_ACTIVITY_FIELDS})
        session.add(copy)
        activities[source.id] = copy
    session.flush()
    links = session.scalars(select(Relationship).where(Relationship.predecessor_id.in_(activities),
                                                       Relationship.successor_id.in_(activities))).all()
    for link in links:
        session.add(Relationship(predecessor_id=activities[link.predecessor_id].id,
                                 successor_id=activities[link.successor_id].id, type=link.type,
                                 lag_hours=link.lag_hours))

    template_plan = services.get_plan(session, project=template)
    plan = services.get_plan(session, project=project)
    for option in ("progress_mode", "lag_calendar", "float_type", "critical_definition", "critical_float_hours",
                   "open_ended_critical", "use_expected_finish", "time_zone"):
        setattr(plan, option, getattr(template_plan, option))
    if template_plan.default_calendar_id is not None:
        plan.default_calendar_id = calendars.get(template_plan.default_calendar_id, template_plan.default_calendar_id)
    session.flush()
    services.roll_up_costs(session, project=project)
    counts = {"wbs_elements": len(elements), "activities": len(activities), "relationships": len(links),
              "calendars": len(calendars)}
    audit.record(session, actor=actor, action="apply_template", entity=project,
                 after={"template_project_id": template.id, **counts})
    return counts

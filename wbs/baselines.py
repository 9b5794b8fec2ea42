"""Named baselines of a project: snapshots of its plan, and which of them it compares against.

A baseline keeps, per activity, the start and finish (actual where the activity had them, else early),
the planned duration and the budgeted cost at the moment it was taken. A project has any number of them;
one at a time may be its primary, secondary or tertiary baseline (``BASELINE_ROLES``, as P6 names them).
The primary is what earned value and the Gantt measure against: its dates are copied into the activities'
own ``baseline_start``/``baseline_finish`` whenever it changes (one home: ``_apply_primary``), and an
activity added after it was taken has the dates of its first schedule there, as before.

A baseline that comes in a P6 or MS Project file holds the file's values rather than the current plan
(:func:`add_baseline`); files are written from :func:`baselines_in_order` and :func:`kept_values`.

Rights: reading a project's baselines needs read rights on it; taking, renaming, choosing and deleting
them, edit rights. Every change is audited.
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.errors import Conflict, Invalid, NotFound
from crmpm.users.models import User
from eps.models import Project
from eps.permissions import Permission, authorize
from eps.services import get_project_or_raise
from wbs import services
from wbs.models import BASELINE_ROLES, NAME_LENGTH, Activity, Baseline, BaselineActivity

__all__ = ["BASELINE_ROLES", "BaselineValues", "add_baseline", "assign_role", "baselines_in_order",
           "baselines_with_values", "create_baseline", "delete_baseline", "first_schedule_baseline",
           "get_baseline_or_raise", "get_project_baseline_or_raise", "kept_of", "kept_of_many", "kept_span",
           "kept_values", "list_baselines", "baselines_with_authors", "rename_baseline", "set_primary_from_schedule"]

# One activity as a baseline holds it: (start, finish, duration hours, budgeted cost).
BaselineValues = tuple


def list_baselines(session: Session, *, project: Project):
    """A select of the project's baselines, oldest first (the caller has read the project)."""
    return select(Baseline).where(Baseline.project_id == project.id).order_by(Baseline.created_at, Baseline.id)


def baselines_with_authors(session: Session, *, project: Project) -> list[tuple[Baseline, str | None]]:
    """The project's baselines, oldest first, each with the name of who took it (None: taken by the system or by
    a user since deleted)."""
    query = list_baselines(session, project=project).add_columns(User.name).outerjoin(
        User, User.id == Baseline.created_by_id)
    return [(baseline, author) for baseline, author in session.execute(query)]


def kept_of(session: Session, *, baseline: Baseline, activity_ids) -> dict:
    """What ``baseline`` kept of each of ``activity_ids``, by activity id: a row of :func:`kept_values` (``start``,
    ``finish``, ``duration_hours``, ``budgeted_cost``); an activity it does not hold is missing."""
    return kept_of_many(session, baselines=[baseline], activity_ids=activity_ids)[baseline.id]


def kept_of_many(session: Session, *, baselines, activity_ids) -> dict[int, dict]:
    """:func:`kept_of` for each of ``baselines`` (by baseline id), in one query whatever their number: a page
    compared with the primary, secondary and tertiary baselines at once."""
    ids = list(activity_ids)
    found: dict[int, dict] = {baseline.id: {} for baseline in baselines}
    if ids and found:
        for kept in session.execute(kept_values(list(found), ids)):
            found[kept.baseline_id][kept.activity_id] = kept
    return found


def kept_span(session: Session, *, baseline: Baseline):
    """The earliest start and the latest finish ``baseline`` kept (None, None when it holds no dates)."""
    return session.execute(select(func.min(BaselineActivity.start), func.max(BaselineActivity.finish))
                           .where(BaselineActivity.baseline_id == baseline.id)).one()


def get_project_baseline_or_raise(session: Session, *, project: Project, baseline_id: int) -> Baseline:
    """A baseline of ``project`` (which the caller has read); NotFound for any other id."""
    baseline = session.get(Baseline, baseline_id) if 0 < baseline_id < 2**31 else None
    if baseline is None or baseline.project_id != project.id:
        raise NotFound("baseline {baseline_id} not found", baseline_id=baseline_id)
    return baseline


def get_baseline_or_raise(session: Session, *, user: User, baseline_id: int) -> Baseline:
    """The baseline, if ``user`` may read its project (NotFound otherwise, naming only the baseline)."""
    baseline = session.get(Baseline, baseline_id)
    if baseline is None:
        raise NotFound("baseline {baseline_id} not found", baseline_id=baseline_id)
    try:
        get_project_or_raise(session, user=user, project_id=baseline.project_id)
    except NotFound:
        raise NotFound("baseline {baseline_id} not found", baseline_id=baseline_id) from None
    return baseline


def create_baseline(session: Session, *, actor: User | None, project: Project, name: str,
                    role: str | None = None, _dates_already_there: bool = False) -> Baseline:
    """Take a baseline of the project's current plan under ``name`` (unique in the project), holding ``role``
    if given (edit rights). The project's first baseline becomes its primary unless another role is given."""
    baseline, role = _new_baseline(session, actor=actor, project=project, name=name, role=role)
    session.execute(insert(BaselineActivity).from_select(
        ["baseline_id", "activity_id", "start", "finish", "duration_hours", "budgeted_cost"],
        select(baseline.id, Activity.id, func.coalesce(Activity.actual_start, Activity.early_start),
               func.coalesce(Activity.actual_finish, Activity.early_finish), Activity.original_duration_hours,
               Activity.budgeted_cost).where(Activity.project_id == project.id)))
    _kept(session, baseline=baseline, actor=actor, role=role, apply=not _dates_already_there)
    return baseline


def add_baseline(session: Session, *, actor: User | None, project: Project, name: str, role: str | None,
                 values: dict[int, BaselineValues]) -> Baseline:
    """A baseline of the project holding the given ``values`` (per activity id of the project: start, finish,
    duration hours, budgeted cost) rather than its current plan, as a file brought it (edit rights when an
    ``actor`` is given); otherwise as :func:`create_baseline`, except that it holds exactly the ``role`` given
    (a file's baselines keep theirs, none included)."""
    baseline, role = _new_baseline(session, actor=actor, project=project, name=name, role=role,
                                   first_is_primary=False)
    rows = [{"baseline_id": baseline.id, "activity_id": activity_id, "start": start, "finish": finish,
             "duration_hours": duration, "budgeted_cost": cost}
            for activity_id, (start, finish, duration, cost) in values.items()]
    if rows:
        session.execute(insert(BaselineActivity), rows)
    _kept(session, baseline=baseline, actor=actor, role=role)
    return baseline


def baselines_in_order(session: Session, *, project: Project) -> list[Baseline]:
    """The project's baselines, primary first, then the others oldest first (the caller has read the
    project): the order files write them in."""
    found = session.scalars(list_baselines(session, project=project)).all()
    found.sort(key=lambda b: b.role != "primary")  # stable: the others stay oldest first
    return found


def kept_values(baseline_ids, activity_ids=None):
    """A select of ``(baseline_id, activity_id, start, finish, duration_hours, budgeted_cost)`` the baselines
    keep (for the given activities only, when given), by baseline then activity: the one question of what
    baselines kept (:func:`kept_of` for one baseline's, by activity; the files' exports for all of them)."""
    query = (select(BaselineActivity.baseline_id, BaselineActivity.activity_id, BaselineActivity.start,
                    BaselineActivity.finish, BaselineActivity.duration_hours, BaselineActivity.budgeted_cost)
             .where(BaselineActivity.baseline_id.in_(list(baseline_ids))))
    if activity_ids is not None:
        query = query.where(BaselineActivity.activity_id.in_(list(activity_ids)))
    return query.order_by(BaselineActivity.baseline_id, BaselineActivity.activity_id)


def baselines_with_values(session: Session, *, project: Project) -> list[tuple[Baseline, dict[int, BaselineValues]]]:
    """:func:`baselines_in_order`, each with its values per activity id; two queries whatever their number."""
    found = baselines_in_order(session, project=project)
    values: dict[int, dict[int, BaselineValues]] = {b.id: {} for b in found}
    if found:
        for baseline_id, activity_id, start, finish, duration, cost in session.execute(kept_values(values)):
            values[baseline_id][activity_id] = (start, finish, duration, cost)
    return [(b, values[b.id]) for b in found]


def _new_baseline(session: Session, *, actor: User | None, project: Project, name: str, role: str | None,
                  first_is_primary: bool = True) -> tuple[Baseline, str | None]:
    """The new, still empty baseline row and the role it is to take (the project's first is its primary)."""
    if actor is not None:
        authorize(session, user=actor, obj=project, permission=Permission.edit)
    name = _checked_name(session, project=project, name=name)
    _check_role(role)
    if first_is_primary and role is None and not session.scalar(
            select(func.count()).where(Baseline.project_id == project.id)):
        role = "primary"
    baseline = Baseline(project_id=project.id, name=name, data_date=services.get_plan(session, project=project).data_date,
                        created_by_id=actor.id if actor is not None else None)
    session.add(baseline)
    session.flush()
    return baseline, role


def _kept(session: Session, *, baseline: Baseline, actor: User | None, role: str | None, apply: bool = True) -> None:
    """A filled baseline counted, audited, and given its role."""
    baseline.activity_count = session.scalar(
        select(func.count()).where(BaselineActivity.baseline_id == baseline.id))
    session.flush()
    audit.record(session, actor=actor, action="create", entity=baseline, after=baseline.audit_state())
    if role is not None:
        _take_role(session, baseline=baseline, role=role, apply=apply)


def set_primary_from_schedule(session: Session, *, actor: User, project: Project) -> Baseline:
    """Make the current schedule the baseline earned value measures against: a new baseline, primary (edit
    rights), named "Baseline N" after the project's count."""
    return create_baseline(session, actor=actor, project=project, name=_next_name(session, project),
                           role="primary")


def first_schedule_baseline(session: Session, *, actor: User | None, project: Project) -> Baseline | None:
    """After a project's first schedule wrote its activities' baseline dates: that plan as its first baseline,
    primary (none if the project already has baselines)."""
    if session.scalar(select(func.count()).where(Baseline.project_id == project.id)):
        return None
    return create_baseline(session, actor=actor, project=project, name=_next_name(session, project),
                           role="primary", _dates_already_there=True)


def rename_baseline(session: Session, *, actor: User, baseline: Baseline, name: str) -> Baseline:
    """Rename a baseline (edit rights on its project)."""
    project = _project_of(session, baseline)
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    before = baseline.audit_state()
    if name.strip() != baseline.name:
        baseline.name = _checked_name(session, project=project, name=name)
        session.flush()
        audit.record(session, actor=actor, action="update", entity=baseline, before=before,
                     after=baseline.audit_state())
    return baseline


def assign_role(session: Session, *, actor: User, baseline: Baseline, role: str | None) -> Baseline:
    """Make ``baseline`` the project's primary, secondary or tertiary baseline, or none (edit rights); the
    baseline that held the role gives it up. A new primary's dates become the activities' baseline dates; with
    no primary left, the activities keep no baseline dates."""
    authorize(session, user=actor, obj=_project_of(session, baseline), permission=Permission.edit)
    _check_role(role)
    if role == baseline.role:
        return baseline
    before = baseline.audit_state()
    if role is None:
        was_primary = baseline.role == "primary"
        baseline.role = None
        session.flush()
        if was_primary:
            _apply_primary(session, project_id=baseline.project_id, baseline_id=None)
    else:
        _take_role(session, baseline=baseline, role=role)
    audit.record(session, actor=actor, action="update", entity=baseline, before=before, after=baseline.audit_state())
    return baseline


def delete_baseline(session: Session, *, actor: User, baseline: Baseline) -> None:
    """Delete a baseline and what it kept (edit rights; audited with its name, role and size). Deleting the
    primary leaves the project without one: its activities keep no baseline dates until another is chosen."""
    authorize(session, user=actor, obj=_project_of(session, baseline), permission=Permission.edit)
    before, project_id, was_primary = baseline.audit_state(), baseline.project_id, baseline.role == "primary"
    audit.record(session, actor=actor, action="delete", entity=baseline, before=before)
    session.execute(delete(BaselineActivity).where(BaselineActivity.baseline_id == baseline.id))
    session.delete(baseline)
    session.flush()
    if was_primary:
        _apply_primary(session, project_id=project_id, baseline_id=None)


def _take_role(session: Session, *, baseline: Baseline, role: str, apply: bool = True) -> None:
    holder = session.scalar(select(Baseline).where(Baseline.project_id == baseline.project_id,
                                                   Baseline.role == role, Baseline.id != baseline.id))
    if holder is not None:
        holder.role = None
        session.flush()
    baseline.role = role
    session.flush()
    if role == "primary" and apply:
        _apply_primary(session, project_id=baseline.project_id, baseline_id=baseline.id)


def _apply_primary(session: Session, *, project_id: int, baseline_id: int | None) -> None:
    """The activities' baseline dates from the primary baseline (none without one); an activity the baseline
    does not hold keeps none."""
    kept = select(BaselineActivity).where(BaselineActivity.baseline_id == baseline_id,
                                          BaselineActivity.activity_id == Activity.id).correlate(Activity)
    start = kept.with_only_columns(BaselineActivity.start).scalar_subquery()
    finish = kept.with_only_columns(BaselineActivity.finish).scalar_subquery()
    values = ({"baseline_start": None, "baseline_finish": None} if baseline_id is None
              else {"baseline_start": start, "baseline_finish": finish})
    session.execute(update(Activity).where(Activity.project_id == project_id).values(**values),
                    execution_options={"synchronize_session": False})
    session.expire_all()  # the activities' objects read their new dates on next use


def _checked_name(session: Session, *, project: Project, name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_LENGTH:
        raise Invalid("a baseline's name is 1 to {limit} characters", limit=NAME_LENGTH,
                      errors={"name": [f"1 to {NAME_LENGTH} characters"]})
    taken = session.scalar(select(func.count()).where(Baseline.project_id == project.id, Baseline.name == name))
    if taken:
        raise Conflict("the project already has a baseline named {name!r}", name=name,
                       errors={"name": ["already in use in this project"]})
    return name


def _check_role(role: str | None) -> None:
    if role is not None and role not in BASELINE_ROLES:
        raise Invalid("a baseline's role is one of {roles}", roles=", ".join(BASELINE_ROLES),
                      errors={"role": [f"one of {', '.join(BASELINE_ROLES)}"]})


def _next_name(session: Session, project: Project) -> str:
    taken = set(session.scalars(select(Baseline.name).where(Baseline.project_id == project.id)))
    number = len(taken) + 1
    while f"Baseline {number}" in taken:
        number += 1
    return f"Baseline {number}"


def _project_of(session: Session, baseline: Baseline) -> Project:
    return session.get(Project, baseline.project_id)


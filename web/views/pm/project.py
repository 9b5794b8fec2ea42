"""The project page: header, earned value, the WBS tree, the activity table, editing, scheduling.

Every change goes through :mod:`wbs.services` / :mod:`wbs.scheduling.service`, which check the
edit rights again and refuse loops or bad values with a message; the page only hides what the
user could not do anyway.
"""

from __future__ import annotations

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crmpm.database import db
from crmpm.errors import Invalid, NotFound
from crmpm.search import contains
from eps import services as eps_services
from wbs import baselines, portfolio, services, udfs
from wbs.scheduling import jobs as scheduling_jobs
from wbs.scheduling import service as scheduling_service
from wbs.scheduling import variance
from wbs.models import CODE_LENGTH, NAME_LENGTH, Activity, WbsElement
from wbs.services import ACTIVITY_TYPES, CONSTRAINT_TYPES
from web.i18n import date_
from web.pagination import paginate
from web.pages import safe_next
from web.views.pm import assignments as assignment_pages
from web.views.pm import codes as code_pages
from web.views.pm.blueprint import bp
from web.views.pm.common import (asked_baseline, deal_id, hours_per_day, load_project, may_edit,
                                 parse_nonnegative_days, parse_days, parse_percent, parse_when, project_baselines,
                                 runs_as_job, shown_baselines)

ACTIVITY_PAGE = 50
WBS_OPEN_LIMIT = 200
ELEMENT_CHOICES = 300
RELATIONSHIP_TYPES = ("FS", "SS", "FF", "SF")
PICKER_LIMIT = 20
# The choices in the order the forms offer them (the services' sets say what is allowed).
ACTIVITY_ORDER = ("task", "resource_dependent", "start_milestone", "finish_milestone", "level_of_effort", "wbs_summary")
CONSTRAINT_ORDER = ("start_on", "start_on_or_after", "start_on_or_before", "finish_on", "finish_on_or_after",
                    "finish_on_or_before", "mandatory_start", "mandatory_finish", "as_late_as_possible")


def _element_arg(project):
    element_id = request.values.get("wbs", type=int)
    if element_id is None or not 0 < element_id < 2**31:
        return None
    return services.get_element_or_raise(db.session, project=project, element_id=element_id)


@bp.route("/<int:project_id>")
def project(project_id: int):
    """One project: header, earned value, WBS, activities."""
    session = db.session
    project = load_project(project_id)
    plan = services.get_plan(session, project=project)
    element = _element_arg(project)
    critical_only = request.args.get("critical") == "1"
    # The variance columns: against ?compare=<id>, else the primary.
    asked = asked_baseline(project)
    choices = project_baselines(project)
    primary = next((b for b in choices if b.role == "primary"), None)
    compared = asked or primary
    # ?baselines=2|3: the secondary (and tertiary) baselines' dates and variances beside it.
    baselines_arg, added = shown_baselines(compared, choices)
    args = {key: value for key, value in (("wbs", element.id if element else None),
                                          ("critical", "1" if critical_only else None),
                                          ("compare", asked.id if asked else None),
                                          ("baselines", baselines_arg)) if value}
    # One pass over the plan gives the tree's sums, the schedule figures, earned value and the baseline; the WBS
    # is read as plain rows (a big plan's thousands of elements as mapped objects cost more than the sums).
    outline = services.element_outline(session, project=project)
    sums = services.plan_sums(session, project=project, data_date=plan.data_date)
    whole = services.PlanSums.total(sums.values())
    branch = services.branch_ids(outline, element.id) if element is not None else None
    shown = whole if branch is None else services.PlanSums.total(
        part for element_id, part in sums.items() if element_id in branch)
    query, codes_shown = code_pages.code_view(project, services.list_activities(
        session, project=project, wbs_element=element, critical_only=critical_only))
    args.update(codes_shown.args)
    filtered = codes_shown.code and not codes_shown.error
    activities = paginate(session, query, args=args, default_per_page=ACTIVITY_PAGE,
                          total=None if filtered else shown.critical if critical_only else shown.activities)
    elements = {e.id: e for e in outline}
    # Each baseline shown, with its values and variances by activity id: the page's activities only, what they
    # kept read in one query for all of them.
    shown = ([compared] if compared is not None else []) + added
    kept = baselines.kept_of_many(session, baselines=shown, activity_ids=[a.id for a in activities.items])
    compared_rows = [(b, {row["activity_id"]: row for row in variance.variance_rows(
        session, project=project, pairs=[(a, kept[b.id].get(a.id)) for a in activities.items])}) for b in shown]
    variances = compared_rows[0][1] if compared is not None else {}
    return render_template(
        "projects/project.html", project=project, plan=plan, element=element, critical_only=critical_only,
        activities=activities, tree=services.wbs_tree(session, project=project, elements=outline, sums=sums),
        elements=elements, figures=portfolio.project_figures(plan, whole),
        evm=scheduling_service.earned_value(session, project=project, wbs_element=element, sums=sums,
                                            elements=outline),
        baseline=portfolio.baseline(session, project=project, sums=whole),
        crumbs=eps_services.breadcrumbs(session, user=g.user, obj=project), deal_id=deal_id(project),
        can_edit=may_edit(project), hpd=hours_per_day(plan), large_plan=runs_as_job(project, whole.activities),
        # A small WBS opens two levels deep; a big one shows its top level and opens on demand.
        expand_below=1 if len(elements) <= WBS_OPEN_LIMIT else 0,
        element_choices=_choices(outline, element), calendars=_calendars(project),
        activity_types=ACTIVITY_ORDER, compared=compared, variances=variances, baseline_choices=choices,
        primary=primary, compare_arg=asked.id if asked else None, codes_shown=codes_shown,
        baselines_arg=baselines_arg, compared_rows=compared_rows if added else [],
        role_holders={b.role: b for b in choices if b.role},
        rows=code_pages.group_rows(codes_shown, activities.items),
        element_udfs=code_pages.udf_rows(project, element, "wbs") if element is not None else [],
        indicators=udfs.UDF_INDICATORS)


def _choices(elements, current):
    """WBS elements (or their outline's rows) to offer in a form: the first ones in tree order, and the one shown."""
    chosen = elements[:ELEMENT_CHOICES]
    if current is not None and current.id not in {e.id for e in chosen}:
        chosen.append(current)
    return chosen


def _find(nodes, element_id):
    for node in nodes:
        if node.id == element_id:
            return node
        found = _find(node.children, element_id)
        if found is not None:
            return found
    return None


@bp.route("/<int:project_id>/wbs/<int:element_id>/rows")
def wbs_rows(project_id: int, element_id: int):
    """The children of one WBS element as tree rows (fetched when it is expanded)."""
    project = load_project(project_id)
    node = _find(services.wbs_tree(db.session, project=project)["items"], element_id)
    if node is None:
        raise NotFound(f"WBS element {element_id} not found")
    level = max(min(request.args.get("level", 1, type=int), 64), 0)
    return render_template("projects/_wbs_rows.html", project=project, nodes=node.children, level=level,
                           expand_below=level, current=None)


@bp.route("/<int:project_id>/activities/<int:activity_id>")
def activity(project_id: int, activity_id: int):
    """One activity: its dates, progress, predecessors and successors."""
    session = db.session
    project = load_project(project_id)
    item = services.get_activity_or_raise(session, project=project, activity_id=activity_id)
    plan = services.get_plan(session, project=project)
    links = list(session.scalars(services.relationships_of(session, activity=item)))
    return render_template("projects/activity.html", project=project, activity=item, plan=plan,
                           predecessors=[r for r in links if r.successor_id == item.id],
                           successors=[r for r in links if r.predecessor_id == item.id],
                           can_edit=may_edit(project), hpd=hours_per_day(plan), types=RELATIONSHIP_TYPES,
                           element_choices=_choices(services.element_outline(session, project=project),
                                                    item.wbs_element),
                           calendars=_calendars(project), activity_types=ACTIVITY_ORDER,
                           constraint_types=CONSTRAINT_ORDER, **code_pages.activity_codes_context(project, item),
                           **assignment_pages.activity_context(project, item))


def _calendars(project):
    """The calendars an activity of ``project`` may use: the global ones and the project's own."""
    return db.session.scalars(services.list_calendars(db.session, user=g.user, project=project)).all()


def _back(project) -> str:
    return safe_next() if request.values.get("next") else url_for("pm.project", project_id=project.id)


MILESTONES = ("start_milestone", "finish_milestone")
FINISH_CONSTRAINTS = {"finish_on", "finish_on_or_after", "finish_on_or_before", "mandatory_finish"}


def _id_choice(text: str | None, field: str, message: str) -> int | None:
    """An id chosen in a select (None for the empty choice); Invalid naming ``field`` for anything else."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise Invalid(message, errors={field: ["choice"]})
    return int(text)


def _plan_changes(project, form, hpd: float) -> dict:
    """The activity fields the form sent, read and checked for form (values are the service's to judge)."""
    session = db.session
    changes = {}
    if "code" in form:
        code = form["code"].strip()
        if not code:
            raise Invalid(_("Please fill in: %(fields)s.", fields=_("Code")), errors={"code": ["required"]})
        if len(code) > CODE_LENGTH:
            raise Invalid(_("The code may have at most %(count)s characters.", count=CODE_LENGTH),
                          errors={"code": ["length"]})
        changes["code"] = code
    if "name" in form:
        name = form["name"].strip()
        if not name:
            raise Invalid(_("Please fill in: %(fields)s.", fields=_("Name")), errors={"name": ["required"]})
        if len(name) > NAME_LENGTH:
            raise Invalid(_("The name may have at most %(count)s characters.", count=NAME_LENGTH),
                          errors={"name": ["length"]})
        changes["name"] = name
    if "type" in form:
        if form["type"] not in ACTIVITY_TYPES:
            raise Invalid(_("Choose the kind of activity."), errors={"type": ["choice"]})
        changes["type"] = form["type"]
    if "wbs" in form:
        message = _("Choose the WBS element from the list.")
        element_id = _id_choice(form["wbs"], "wbs", message)
        element = None if element_id is None else session.get(WbsElement, element_id)
        if element_id is not None and (element is None or element.project_id != project.id):
            raise Invalid(message, errors={"wbs": ["choice"]})
        changes["wbs_element_id"] = element_id
    if "calendar" in form:
        message = _("Choose the calendar from the list.")
        calendar_id = _id_choice(form["calendar"], "calendar", message)
        if calendar_id is not None and calendar_id not in {c.id for c in _calendars(project)}:
            raise Invalid(message, errors={"calendar": ["choice"]})
        changes["calendar_id"] = calendar_id
    if "original_duration" in form:
        days = parse_nonnegative_days(form["original_duration"], _("Duration"), "original_duration")
        if days is None:
            raise Invalid(_("Enter the duration in days."), errors={"original_duration": ["required"]})
        changes["original_duration_hours"] = float(days) * hpd
    if changes.get("type") in MILESTONES:
        changes["original_duration_hours"] = 0.0  # a milestone takes no time; its form asks for none
    for kind, when, what in (("constraint_type", "constraint_date", _("Constraint date")),
                             ("secondary_constraint_type", "secondary_constraint_date", _("Secondary constraint date"))):
        if kind not in form:
            continue
        value = form[kind].strip() or None
        if value is not None and value not in CONSTRAINT_TYPES:
            raise Invalid(_("Choose the constraint from the list."), errors={kind: ["choice"]})
        moment = parse_when(form.get(when), what, when, hour=17 if value in FINISH_CONSTRAINTS else 8)
        if value is None and moment is not None:
            raise Invalid(_("%(what)s needs a constraint type.", what=what), errors={kind: ["required"]})
        if value is not None and value != "as_late_as_possible" and moment is None:
            raise Invalid(_("Enter the %(what)s.", what=what.lower()), errors={when: ["required"]})
        changes[kind], changes[when] = value, moment
    return changes


@bp.route("/<int:project_id>/activities/<int:activity_id>", methods=["POST"])
def update_activity(project_id: int, activity_id: int):
    """Change an activity's plan (code, name, type, WBS element, calendar, duration, constraints) or progress
    (only the fields the form sent)."""
    session = db.session
    project = load_project(project_id)
    item = services.get_activity_or_raise(session, project=project, activity_id=activity_id)
    hpd = hours_per_day(services.get_plan(session, project=project))
    form = request.form
    if "name" in form and not form["name"].strip():
        form = {key: value for key, value in form.items() if key != "name"}  # the table's row form sends no name
    changes = _plan_changes(project, form, hpd)
    if "remaining_duration" in form:
        days = parse_nonnegative_days(form["remaining_duration"], _("Remaining duration"), "remaining_duration")
        changes["remaining_duration_hours"] = None if days is None else float(days) * hpd
    if "percent_complete" in form:
        percent = parse_percent(form["percent_complete"])
        if percent is not None:
            changes["percent_complete"] = percent
    if "actual_start" in form:
        changes["actual_start"] = parse_when(form["actual_start"], _("Actual start"), "actual_start")
    if "actual_finish" in form:
        changes["actual_finish"] = parse_when(form["actual_finish"], _("Actual finish"), "actual_finish", hour=17)
    services.update_activity(session, actor=g.user, project=project, activity=item, **changes)
    flash(_("Activity %(code)s saved. Schedule the project to update the dates.", code=item.code), "info")
    return redirect(_back(project), code=303)


@bp.route("/<int:project_id>/activities", methods=["POST"])
def create_activity(project_id: int):
    """Add an activity (under a WBS element, with a type, calendar, duration and constraint if given)."""
    session = db.session
    project = load_project(project_id)
    form = request.form
    code, name = form.get("code", "").strip(), form.get("name", "").strip()
    missing = [label for label, value in ((_("Code"), code), (_("Name"), name)) if not value]
    if missing:
        raise Invalid(_("Please fill in: %(fields)s.", fields=", ".join(missing)),
                      errors={"code" if not code else "name": ["required"]})
    hpd = hours_per_day(services.get_plan(session, project=project))
    fields = {"type": "task", "original_duration": "0", **{key: value for key, value in form.items()}}
    if not fields["original_duration"].strip():
        fields["original_duration"] = "0"
    changes = _plan_changes(project, fields, hpd)
    changes.pop("code"), changes.pop("name")
    created = services.create_activity(session, actor=g.user, project=project, code=code, name=name, **changes)
    flash(_("Activity %(code)s added.", code=created.code), "info")
    return redirect(url_for("pm.activity", project_id=project.id, activity_id=created.id), code=303)


@bp.route("/<int:project_id>/activities/<int:activity_id>/delete", methods=["POST"])
def delete_activity(project_id: int, activity_id: int):
    """Delete an activity and its relationships."""
    session = db.session
    project = load_project(project_id)
    item = services.get_activity_or_raise(session, project=project, activity_id=activity_id)
    code, element_id = item.code, item.wbs_element_id
    services.delete_activity(session, actor=g.user, project=project, activity=item)
    flash(_("Activity %(code)s deleted.", code=code), "info")
    return redirect(url_for("pm.project", project_id=project.id, wbs=element_id, _anchor="activities"), code=303)


@bp.route("/<int:project_id>/activities/find")
def find_activities(project_id: int):
    """Activities of the project whose code or name holds ``q`` (the relationship picker's suggestions), as JSON."""
    project = load_project(project_id)
    text = request.args.get("q", "").strip()[:100]
    query = services.list_activities(db.session, project=project)
    if text:
        query = query.where(contains([Activity.code, Activity.name], text))
    found = db.session.scalars(query.limit(PICKER_LIMIT)).all()
    return jsonify({"items": [{"id": a.id, "code": a.code, "name": a.name} for a in found]})


@bp.route("/<int:project_id>/activities/<int:activity_id>/relationships", methods=["POST"])
def add_relationship(project_id: int, activity_id: int):
    """Link this activity to another one of the project, named by its code, as predecessor or successor."""
    session = db.session
    project = load_project(project_id)
    item = services.get_activity_or_raise(session, project=project, activity_id=activity_id)
    form = request.form
    other_code = form.get("other", "").strip()
    if not other_code:
        raise Invalid(_("Enter the code of the other activity."), errors={"other": ["required"]})
    other = _other_activity(project, other_code)
    kind = form.get("type", "FS")
    if kind not in RELATIONSHIP_TYPES:
        raise Invalid(_("Choose a relationship type: FS, SS, FF or SF."), errors={"type": ["choice"]})
    lag = parse_days(form.get("lag"), _("Lag"), "lag")
    hpd = hours_per_day(services.get_plan(session, project=project))
    predecessor, successor = (other, item) if form.get("direction", "predecessor") == "predecessor" else (item, other)
    services.create_relationship(session, actor=g.user, project=project, predecessor=predecessor,
                                 successor=successor, type=kind, lag_hours=float(lag or 0) * hpd)
    flash(_("%(pred)s → %(succ)s (%(type)s) linked.", pred=predecessor.code, succ=successor.code, type=kind), "info")
    return redirect(url_for("pm.activity", project_id=project.id, activity_id=item.id), code=303)


def _other_activity(project, text: str) -> Activity:
    """The activity named in the picker: by its code, by "code · name" as the suggestions show it, or by a name
    that only one activity of the project has."""
    activities = services.list_activities(db.session, project=project)
    for code in dict.fromkeys((text, text.split(" · ", 1)[0].strip())):
        found = db.session.scalar(activities.where(Activity.code == code))
        if found is not None:
            return found
    named = db.session.scalars(activities.where(Activity.name == text).limit(2)).all()
    if len(named) == 1:
        return named[0]
    raise Invalid(_("There is no activity %(code)s in this project.", code=text), errors={"other": ["unknown"]})


@bp.route("/<int:project_id>/relationships/<int:relationship_id>", methods=["POST"])
def update_relationship(project_id: int, relationship_id: int):
    """Change a relationship's type or lag."""
    session = db.session
    project = load_project(project_id)
    link = services.get_relationship_or_raise(session, project=project, relationship_id=relationship_id)
    kind = request.form.get("type", link.type)
    if kind not in RELATIONSHIP_TYPES:
        raise Invalid(_("Choose a relationship type: FS, SS, FF or SF."), errors={"type": ["choice"]})
    lag = parse_days(request.form.get("lag"), _("Lag"), "lag")
    hpd = hours_per_day(services.get_plan(session, project=project))
    services.update_relationship(session, actor=g.user, project=project, relationship=link, type=kind,
                                 lag_hours=float(lag or 0) * hpd)
    flash(_("%(pred)s → %(succ)s (%(type)s) saved.", pred=link.predecessor.code, succ=link.successor.code,
            type=kind), "info")
    return redirect(_back(project), code=303)


@bp.route("/<int:project_id>/relationships/<int:relationship_id>/delete", methods=["POST"])
def delete_relationship(project_id: int, relationship_id: int):
    """Remove a relationship."""
    session = db.session
    project = load_project(project_id)
    link = services.get_relationship_or_raise(session, project=project, relationship_id=relationship_id)
    codes = (link.predecessor.code, link.successor.code)
    services.delete_relationship(session, actor=g.user, project=project, relationship=link)
    flash(_("%(pred)s → %(succ)s removed.", pred=codes[0], succ=codes[1]), "info")
    return redirect(_back(project), code=303)


@bp.route("/<int:project_id>/schedule", methods=["POST"])
def schedule(project_id: int):
    """Schedule the project by CPM (a loop is refused naming the activities) and say what changed; a big plan
    is scheduled by a job, whose page follows it."""
    project = load_project(project_id)
    if runs_as_job(project):
        job = scheduling_jobs.start_schedule(db.session, actor=g.user, project=project)
        flash(_("%(code)s is being scheduled in the background; this page follows it and links back to the project "
                "when it is done.", code=project.code), "info")
        return redirect(url_for("jobs.show", job_id=job.id), code=303)
    summary = scheduling_service.schedule_project(db.session, actor=g.user, project=project)
    flash(_("Scheduled at the data date %(data_date)s: the project finishes on %(finish)s; %(critical)s critical "
            "activities; dates changed on %(changed)s of %(total)s activities.",
            data_date=date_(summary.data_date), finish=date_(summary.finish) if summary.finish else "—",
            critical=summary.critical, changed=summary.changed, total=summary.activities), "info")
    return redirect(_back(project), code=303)


@bp.route("/<int:project_id>/data-date", methods=["POST"])
def set_data_date(project_id: int):
    """Move the data date (progress is reported up to it; the next schedule starts the remaining work there)."""
    project = load_project(project_id)
    when = parse_when(request.form.get("data_date"), _("Data date"), "data_date")
    if when is None:
        raise Invalid(_("Enter the data date."), errors={"data_date": ["required"]})
    services.update_plan(db.session, actor=g.user, project=project, data_date=when)
    flash(_("The data date is now %(when)s. Schedule the project to plan the remaining work from it.",
            when=date_(when)), "info")
    return redirect(url_for("pm.project", project_id=project.id), code=303)


@bp.route("/<int:project_id>/baseline", methods=["POST"])
def set_baseline(project_id: int):
    """Make the current schedule the baseline earned value is measured against."""
    project = load_project(project_id)
    count = scheduling_service.set_baseline(db.session, actor=g.user, project=project)
    flash(_("The current schedule is now the baseline (%(count)s activities).", count=count), "info")
    return redirect(url_for("pm.project", project_id=project.id), code=303)

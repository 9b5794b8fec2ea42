"""A project's resource levelling: the options form, the run button (a ``wbs.level`` job), the last run's report
and the activities' levelled dates beside their CPM dates (``wbs.resources.levelling_service``)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from crmpm.database import db
from crmpm.errors import Invalid
from wbs.models import Activity
from wbs.resources import levelling_service
from web.views.pm.blueprint import bp
from web.views.pm.common import load_project, may_edit

ROWS_SHOWN = 200  # activities in the table of levelled dates (those moved most first)
PRIORITY_SLOTS = 3


def _number(name: str, default: float) -> float:
    text = (request.form.get(name) or "").strip().replace(",", ".")
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise Invalid("{field} must be a number", field=name, errors={name: ["a number"]}) from None


def _options_from_form() -> dict:
    """The options as the form sent them (checked by the service, which names a bad field)."""
    priorities = []
    for slot in range(1, PRIORITY_SLOTS + 1):
        field = request.form.get(f"priority_{slot}") or ""
        if field:
            priorities.append([field, request.form.get(f"order_{slot}") or "asc"])
    return {"priorities": priorities or levelling_service.DEFAULT_OPTIONS["priorities"],
            "within_float": request.form.get("within_float") == "on",
            "minimum_float_hours": _number("minimum_float_hours", 0.0),
            "threshold_percent": _number("threshold_percent", 100.0)}


@bp.route("/<int:project_id>/levelling", endpoint="levelling")
def levelling_page(project_id: int):
    """The last levelling run that included the project, and the form to run another (editors)."""
    project = load_project(project_id)
    run = levelling_service.last_run(db.session, user=g.user, project=project)
    report = levelling_service.report_for(db.session, user=g.user, run=run) if run is not None else None
    rows = db.session.execute(
        select(Activity.id, Activity.code, Activity.name, Activity.early_start, Activity.early_finish,
               Activity.levelled_start, Activity.levelled_finish)
        .where(Activity.project_id == project.id, Activity.levelled_start.is_not(None),
               Activity.levelled_start != Activity.early_start)
        .order_by(Activity.levelled_start, Activity.code).limit(ROWS_SHOWN)).all()
    options = report["options"] if report else levelling_service.DEFAULT_OPTIONS
    return render_template("projects/levelling.html", project=project, report=report, rows=rows,
                           options=options, fields=levelling_service.PRIORITY_FIELDS, slots=PRIORITY_SLOTS,
                           can_edit=may_edit(project), rows_shown=ROWS_SHOWN)


@bp.route("/<int:project_id>/levelling", methods=["POST"])
def start_levelling(project_id: int):
    """Start a levelling job for the project, or for every project of its EPS node (``scope=node``)."""
    project = load_project(project_id)
    options = _options_from_form()
    whole_node = request.form.get("scope") == "node"
    job = levelling_service.start_levelling(db.session, actor=g.user, project=project, options=options,
                                            eps_node=project.eps_node if whole_node else None)
    flash(_("Levelling of %(code)s has started; this page follows it and links back to the report when it is "
            "done.", code=project.code), "info")
    return redirect(url_for("jobs.show", job_id=job.id), code=303)

"""A project's named baselines: the list, taking one from the current schedule, renaming, choosing the primary,
secondary and tertiary, deleting (``wbs.baselines``, which checks the edit rights and the names)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crmpm.database import db
from wbs import baselines
from wbs.models import NAME_LENGTH
from web.views.pm.blueprint import bp
from web.views.pm.common import load_project, may_edit


def _baseline(project, baseline_id: int):
    return baselines.get_project_baseline_or_raise(db.session, project=project, baseline_id=baseline_id)


def _to_list(project):
    return redirect(url_for("pm.baselines", project_id=project.id), code=303)


@bp.route("/<int:project_id>/baselines", endpoint="baselines")
def baselines_page(project_id: int):
    """The project's baselines, oldest first: name, when and by whom taken, role; the forms for editors."""
    project = load_project(project_id)
    return render_template("projects/baselines.html", project=project,
                           rows=baselines.baselines_with_authors(db.session, project=project),
                           roles=baselines.BASELINE_ROLES, can_edit=may_edit(project), name_length=NAME_LENGTH)


@bp.route("/<int:project_id>/baselines", methods=["POST"])
def create_baseline(project_id: int):
    """Take a baseline of the current schedule under the name typed in."""
    project = load_project(project_id)
    taken = baselines.create_baseline(db.session, actor=g.user, project=project, name=request.form.get("name", ""))
    flash(_("Baseline %(name)s taken (%(count)s activities).", name=taken.name, count=taken.activity_count), "info")
    return _to_list(project)


@bp.route("/<int:project_id>/baselines/<int:baseline_id>/rename", methods=["POST"])
def rename_baseline(project_id: int, baseline_id: int):
    """Rename a baseline."""
    project = load_project(project_id)
    baseline = _baseline(project, baseline_id)
    baselines.rename_baseline(db.session, actor=g.user, baseline=baseline, name=request.form.get("name", ""))
    flash(_("The baseline is now named %(name)s.", name=baseline.name), "info")
    return _to_list(project)


@bp.route("/<int:project_id>/baselines/<int:baseline_id>/role", methods=["POST"])
def set_baseline_role(project_id: int, baseline_id: int):
    """Make a baseline the primary, secondary or tertiary one, or none (``role`` empty)."""
    project = load_project(project_id)
    baseline = _baseline(project, baseline_id)
    baselines.assign_role(db.session, actor=g.user, baseline=baseline, role=request.form.get("role") or None)
    flash(_("Baseline %(name)s saved.", name=baseline.name), "info")
    return _to_list(project)


@bp.route("/<int:project_id>/baselines/<int:baseline_id>/delete", methods=["POST"])
def delete_baseline(project_id: int, baseline_id: int):
    """Delete a baseline (the page asks first)."""
    project = load_project(project_id)
    baseline = _baseline(project, baseline_id)
    name = baseline.name
    baselines.delete_baseline(db.session, actor=g.user, baseline=baseline)
    flash(_("Baseline %(name)s deleted.", name=name), "info")
    return _to_list(project)

"""The user's background jobs: a list, one job's live progress and outcome, its file, a retry."""

from __future__ import annotations

from flask import abort, g, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from crmpm import jobs
from crmpm.database import db
from crmpm.downloads import send_download
from web.pages import page_blueprint
from web.queries import count

bp = page_blueprint("jobs", __name__, url_prefix="/jobs")

JOBS_SHOWN = 50
# What each job kind is called on the pages.
KIND_LABELS = {
    "crm.import": _l("CSV import"),
    "wbs.import_xer": _l("XER import"),
    "wbs.import_mspdi": _l("MSPDI import"),
    "wbs.export_xer": _l("XER export"),
    "wbs.schedule": _l("Scheduling"),
    "wbs.level": _l("Resource levelling"),
    "crm.handovers": _l("Deputy handovers"),
    "crm.tasks_due": _l("Due tasks"),
    "crm.task_reminders": _l("Task reminders"),
    "crm.daily_digest": _l("Daily digest of tasks"),
    "accounting.export": _l("Export to 1C"),
    "accounting.import_costs": _l("Import of actual costs"),
    "jobs.noop": _l("Check of the workers"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def _result_file(job):
    """The file a succeeded job produced, while it is kept (an import's upload is not offered back)."""
    if job.status != "succeeded":
        return None
    return jobs.job_file(db.session, job_id=job.id, with_data=False)


def _status(job, *, with_file: bool = True) -> dict:
    view = jobs.snapshot(db.session, job)
    result = view["result"] if isinstance(view["result"], dict) else {}
    url = result.get("url")
    done = view["status"] in ("succeeded", "failed")
    return {
        "id": view["id"], "status": view["status"], "status_label": _status_label(view["status"]),
        "progress": view["progress"], "percent": round(view["progress"] * 100),
        # Progress messages of the job kinds are in the catalogue; others show as written.
        "message": _(view["message"]) if view["message"] else None, "error": view["error"] if view["status"] == "failed" else None,
        "done": done,
        # Only a path on this site: a result never sends the user elsewhere.
        "url": url if isinstance(url, str) and url.startswith("/") and not url.startswith("//") else None,
        "file_url": url_for("jobs.file", job_id=job.id) if with_file and _result_file(job) else None,
    }


def _status_label(status: str) -> str:
    return {"queued": _("Queued"), "running": _("Running"), "succeeded": _("Done"), "failed": _("Failed")}[status]


@bp.route("/")
def index():
    query = jobs.list_(user=g.user)
    rows = db.session.scalars(query.limit(JOBS_SHOWN)).all()
    return render_template("jobs/index.html", jobs=[(job, _status(job, with_file=False)) for job in rows],
                           total=count(db.session, query), kind_label=kind_label)


@bp.route("/<int:job_id>")
def show(job_id: int):
    job = jobs.readable(db.session, user=g.user, job_id=job_id)
    return render_template("jobs/show.html", job=job, status=_status(job), kind_label=kind_label,
                           file=_result_file(job))


@bp.route("/<int:job_id>/status.json")
def status(job_id: int):
    """The job's state for the progress bar (read by web/static/jobs.js every second while it runs)."""
    job = jobs.readable(db.session, user=g.user, job_id=job_id)
    response = jsonify(_status(job))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:job_id>/file")
def file(job_id: int):
    """The file the job produced (an export), while it is kept."""
    job = jobs.readable(db.session, user=g.user, job_id=job_id)
    stored = jobs.job_file(db.session, job_id=job.id) if job.status == "succeeded" else None
    if stored is None:
        abort(404)
    return send_download(stored.data, filename=stored.name, mimetype=stored.content_type)


@bp.route("/<int:job_id>/retry", methods=["POST"])
def retry(job_id: int):
    jobs.retry(db.session, user=g.user, job_id=job_id)
    return redirect(url_for("jobs.show", job_id=job_id), 303)

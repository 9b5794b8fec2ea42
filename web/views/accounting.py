"""The exchange with accounting (1C) for finance: export invoices and acts, import actual costs, the runs.

Administrators and holders of a finance grant use it (``wbs.expenses.services.may_keep_books``); anyone else
gets 403. The export is what the user may read (``accounts.accounting.export``); each cost row needs budget
rights on its project, else it is reported as matching no project (``accounts.accounting.costs``).
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.accounting import costs, export, jobs as accounting_jobs, runs
from crmpm.database import db
from crmpm.downloads import send_download
from crmpm.errors import Invalid
from crmpm.limits import accepts_upload
from crmpm.ratelimit import throttle
from eps.models import EpsNode
from eps.permissions import visible
from web.pagination import paginate
from web.pages import page_blueprint
from wbs.expenses import services as expenses

bp = page_blueprint("accounting_exchange", __name__, url_prefix="/finance/accounting")

LARGE_FILE = 2 * 1024 * 1024  # a cost file over this is booked by a job
NODE_CHOICES = 300


def _allowed() -> None:
    if not expenses.may_keep_books(db.session, user=g.user):
        abort(403)


def _node_choices() -> list[EpsNode]:
    condition = visible(db.session, user=g.user, model=EpsNode)
    return list(db.session.scalars(select(EpsNode).where(condition).order_by(EpsNode.path).limit(NODE_CHOICES)))


def _day(name: str, label: str) -> date:
    text = request.form.get(name, "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(_("%(field)s: a date is needed (YYYY-MM-DD).", field=label),
                      errors={name: ["not a date"]}) from None


@bp.route("/")
def index():
    """Export to 1C, import actual costs, and the runs (the user's own; an administrator's: all)."""
    _allowed()
    page = paginate(db.session, runs.runs_query(user=g.user), default_per_page=20)
    today = date.today()
    return render_template("finance/accounting.html", page=page, nodes=_node_choices(),
                           default_from=today.replace(day=1).isoformat(), default_to=today.isoformat(),
                           limit_mb=LARGE_FILE // (1024 * 1024))


@bp.route("/export", methods=["POST"])
def export_file():
    """The CommerceML file of the period (and node) chosen, or a job writing it when it is large."""
    _allowed()
    node_text = request.form.get("eps_node_id", "").strip()
    if node_text and not node_text.isdigit():
        raise Invalid(_("Choose an EPS node from the list."), errors={"eps_node_id": ["not a number"]})
    scope = export.check_scope(_day("date_from", _("From")), _day("date_to", _("To")),
                               int(node_text) if node_text else None)
    throttle().attempt("accounting-export", g.user.id)
    if export.count_documents(db.session, actor=g.user, scope=scope) > export.LARGE:
        job = accounting_jobs.start_export(db.session, actor=g.user, scope=scope)
        flash(_("The file is being written; download it from the job's page when it is ready."), "info")
        return redirect(url_for("jobs.show", job_id=job.id), code=303)
    data, run = export.export_commerceml(db.session, actor=g.user, scope=scope)
    return send_download(data, filename=run.file_name, mimetype="application/xml")


@bp.route("/import", methods=["POST"])
@accepts_upload("MAX_CSV_UPLOAD_LENGTH")
def import_file():
    """Book a cost file; its run's page shows what was booked and what matched no project."""
    _allowed()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid(_("Choose a file to upload."), errors={"file": ["required"]})
    data = upload.read()
    throttle().attempt("accounting-import", g.user.id)
    if len(data) > LARGE_FILE:
        job = accounting_jobs.start_import(db.session, actor=g.user, data=data, file_name=upload.filename)
        flash(_("The file is being booked; its run appears here when it is done."), "info")
        return redirect(url_for("jobs.show", job_id=job.id), code=303)
    run = costs.import_costs(db.session, actor=g.user, data=data, file_name=upload.filename)
    flash(_("%(applied)s of %(rows)s rows booked; %(duplicates)s booked before; %(unmatched)s match no project.",
            applied=run.applied, rows=run.rows, duplicates=run.duplicates, unmatched=run.unmatched),
          "success" if not run.unmatched else "warning")
    return redirect(url_for("accounting_exchange.run", run_id=run.id), code=303)


@bp.route("/runs/<int:run_id>")
def run(run_id: int):
    """One run: its counts and its report."""
    _allowed()
    found = runs.get_run_or_raise(db.session, user=g.user, run_id=run_id)
    return render_template("finance/accounting_run.html", run=found, report=found.report or {})

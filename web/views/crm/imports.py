"""Importing a CSV file (or an .xlsx workbook, ``sheet`` naming its sheet): upload it with a mapping, see its
first rows as they will be read, check it with a dry run, then import it (routes on ``web.views.crm.bp``).

Every check and every import is a ``crm.import`` job (``accounts.imports.jobs``): the upload is kept
in the database with the job, a dry run with another mapping or the real import is a new job on
the same file, and the job's page follows its progress (``static/imports.js`` polls ``import_status``)
and shows its report. Only users who may change something in the CRM (``may_import``) see these
pages; each job is its creator's (and administrators') alone.
"""

from __future__ import annotations

from flask import current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from accounts import imports
from accounts.csvio import CsvImportError, mapping_sets
from accounts.imports import jobs as import_jobs
from accounts.imports.owners import parse_owners_text
from accounts.imports.report import owners_csv
from accounts.imports.preview import Preview
from crmpm import jobs
from crmpm.database import db
from crmpm.errors import Forbidden, Invalid, NotFound
from crmpm.limits import accepts_upload
from crmpm.uploads import upload_folder
from web.i18n import translate_error
from web.views.crm import bp

SHOWN_ERRORS = 200  # row errors listed on the page (the job's result keeps up to 1000, and their count)
STATUS_LABELS = {"queued": _l("waiting for a worker"), "running": _l("running"), "succeeded": _l("finished"),
                 "failed": _l("failed")}


def _allowed() -> None:
    if not import_jobs.may_import(db.session, user=g.user):
        raise Forbidden(_("Importing needs edit rights on a branch of the CRM."))


def _kinds() -> list[str]:
    return [kind for kind in imports.IMPORT_ORDER if kind != "users" or g.user.is_admin]


def _limit_mb() -> int:
    return max(current_app.config["MAX_CSV_UPLOAD_LENGTH"] // (1024 * 1024), 1)


def _load(import_id: int):
    """Import job ``import_id`` of the user (404 for another kind of job, or one the user may not read)."""
    job = jobs.readable(db.session, user=g.user, job_id=import_id)
    if job.kind != import_jobs.KIND:
        raise NotFound("no job {id}", id=import_id)
    return job


def report_url(import_id: int) -> str:
    """The page of import job ``import_id`` (put in its result, for the jobs pages to link to)."""
    return url_for("crm.import_job", import_id=import_id)


@bp.route("/import")
def import_form():
    """Upload a CSV file of one kind with a shipped mapping or one of the user's own."""
    _allowed()
    kinds = _kinds()
    sets = {name: [kind for kind in found if kind in kinds] for name, found in mapping_sets().items()}
    return render_template("crm/import.html", kinds=kinds, saved={name: found for name, found in sets.items() if found},
                           limit_mb=_limit_mb())


@bp.route("/import", methods=["POST"])
@accepts_upload("MAX_CSV_UPLOAD_LENGTH")
def import_upload():
    """Keep the file with a dry-run job of it and go to that job's page."""
    _allowed()
    kind = request.form.get("kind", "")
    if kind not in _kinds():
        raise Invalid(_("Choose what the file holds."), errors={"kind": ["unknown"]})
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid(_("Choose a file to upload."), errors={"file": ["required"]})
    name, text = request.form.get("saved", "").strip(), request.form.get("mapping", "").strip()
    if not name and not text:
        raise Invalid(_("Choose a saved mapping or write one."), errors={"mapping": ["required"]})
    try:
        owners = parse_owners_text(request.form.get("owners", ""))
    except CsvImportError as exc:
        raise imports.file_error(exc) from None
    with upload_folder(current_app.config["UPLOAD_DIR"]) as folder:
        path = folder / "upload.csv"
        upload.save(path)  # the body is capped at MAX_CSV_UPLOAD_LENGTH (accepts_upload)
        job = import_jobs.start_import(db.session, actor=g.user, kind=kind, path=path, file_name=upload.filename,
                                       mapping=name or text, saved=bool(name), dry_run=True, url=report_url,
                                       sheet=request.form.get("sheet", "").strip()[:100] or None,
                                       owners=owners, create_owners=request.form.get("create_owners") == "on")
    flash(_("The file is being checked: nothing is written by a dry run."), "info")
    return redirect(url_for("crm.import_job", import_id=job.id), code=303)


@bp.route("/imports/<int:import_id>")
def import_job(import_id: int):
    """An import job: its file's first rows as read, its progress, then its report and what can follow."""
    _allowed()
    job = _load(import_id)
    snapshot = jobs.snapshot(db.session, job)
    result = job.result or {}
    try:
        preview = import_jobs.preview_job(db.session, job=job)
    except Invalid as exc:  # the file is no longer kept: the report still shows
        preview = Preview(problem=translate_error(exc))
    return render_template("crm/import_job.html", job=job, snapshot=snapshot, result=result,
                           errors=(result.get("errors") or [])[:SHOWN_ERRORS],
                           warnings=(result.get("warnings") or [])[:SHOWN_ERRORS], preview=preview,
                           mapping=import_jobs.mapping_json(job), status_label=STATUS_LABELS[snapshot["status"]],
                           owners_table=owners_csv(result.get("unmatched_owners") or []))


@bp.route("/imports/<int:import_id>/status")
def import_status(import_id: int):
    """The job's state for the page's script: status, progress (0–1) and whether it is over."""
    _allowed()
    snapshot = jobs.snapshot(db.session, _load(import_id))
    return jsonify(status=snapshot["status"], label=str(STATUS_LABELS[snapshot["status"]]),
                   progress=snapshot["progress"], finished=snapshot["status"] in ("succeeded", "failed"))


@bp.route("/imports/<int:import_id>/check", methods=["POST"])
def import_check(import_id: int):
    """A new dry run of the job's file with the mapping as edited on the page."""
    _allowed()
    job = _load(import_id)
    text = request.form.get("mapping", "").strip()
    if not text:
        raise Invalid(_("Choose a saved mapping or write one."), errors={"mapping": ["required"]})
    mapping = import_jobs.decoded_mapping(text)
    started = import_jobs.again(db.session, actor=g.user, job=job, mapping=mapping, dry_run=True, url=report_url)
    flash(_("The file is being checked: nothing is written by a dry run."), "info")
    return redirect(url_for("crm.import_job", import_id=started.id), code=303)


@bp.route("/imports/<int:import_id>/run", methods=["POST"])
def import_run(import_id: int):
    """Import the job's file for real, with the mapping of the job (a dry run the user has seen)."""
    _allowed()
    job = _load(import_id)
    started = import_jobs.again(db.session, actor=g.user, job=job, dry_run=False,
                                partial=request.form.get("partial") == "on", url=report_url)
    flash(_("The import has started."), "info")
    return redirect(url_for("crm.import_job", import_id=started.id), code=303)

"""Primavera P6 XER and MS Project XML (MSPDI) files: download a project, upload one as a new project."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crmpm.database import db
from crmpm.errors import Invalid, NotFound
from crmpm.limits import accepts_upload
from crmpm.streaming import streamed_response
from eps import services as eps_services
from eps.models import Project
from wbs import interchange, portfolio
from wbs.interchange import jobs as interchange_jobs
from wbs.interchange.limits import FileLimits, check_file
from web.views.pm.blueprint import bp
from web.views.pm.common import load_project

FORMATS = {"xer": (".xer",), "mspdi": (".xml",)}


@bp.route("/<int:project_id>/export.xer")
def export_xer(project_id: int):
    """The project as a Primavera P6 XER file."""
    project = load_project(project_id)
    # Plan, calendars and WBS are read now (a refusal is an error page); the activities as the
    # file is sent, from the stream's own session, so a big project never sits in memory whole and
    # nothing stays open after the download.
    return streamed_response(lambda stream: interchange.xer_chunks(stream, project=stream.get(Project, project.id)),
                             mimetype="application/octet-stream",
                             download_name=f"{project.code}.xer")


@bp.route("/<int:project_id>/export.xer", methods=["POST"])
def export_xer_job(project_id: int):
    """A big plan's XER file, written by a job: its page follows the writing, then offers the download (a day)."""
    project = load_project(project_id)
    job = interchange_jobs.start_export(db.session, actor=g.user, project=project)
    flash(_("The XER file of %(code)s is being written in the background; download it here when it is ready "
            "(it is kept for a day).", code=project.code), "info")
    return redirect(url_for("jobs.show", job_id=job.id), code=303)


@bp.route("/<int:project_id>/export.xml")
def export_mspdi(project_id: int):
    """The project as a Microsoft Project XML (MSPDI) file."""
    project = load_project(project_id)
    # As the XER download: the head now, the tasks as they are sent, from the stream's own session.
    return streamed_response(lambda stream: interchange.mspdi_chunks(stream, project=stream.get(Project, project.id)),
                             mimetype="application/xml",
                             download_name=f"{project.code}.xml")


def _limit_mb() -> int:
    return current_app.config["MAX_UPLOAD_LENGTH"] // (1024 * 1024)


@bp.route("/import")
def import_form():
    """Upload an XER or MSPDI file as a new project under an EPS node the user may create projects in."""
    nodes = portfolio.nodes_for_new_projects(db.session, user=g.user)
    return render_template("projects/import.html", nodes=nodes, limit_mb=_limit_mb(),
                           async_mb=round(current_app.config["IMPORT_ASYNC_BYTES"] / (1024 * 1024), 1),
                           chosen=request.args.get("node", type=int))


@bp.route("/import", methods=["POST"])
@accepts_upload()
def import_file():
    """Read the file completely, check it, then create the project and schedule it (nothing written on a fault)."""
    node_id = request.form.get("node", type=int)
    if node_id is None or not 0 < node_id < 2**31:
        raise Invalid(_("Choose the EPS node the project goes under."), errors={"node": ["required"]})
    try:
        node = eps_services.get_node_or_raise(db.session, user=g.user, node_id=node_id)
    except NotFound:
        raise Invalid(_("Choose the EPS node the project goes under."), errors={"node": ["unknown"]}) from None
    kind, data, filename = _upload()
    code = request.form.get("code", "").strip()[:40] or None
    if len(data) > current_app.config["IMPORT_ASYNC_BYTES"]:
        return _import_as_job(kind, data, filename, node, code)
    warnings: list[str] = []
    if kind == "xer":
        created = interchange.import_xer(db.session, actor=g.user, data=data, eps_node=node, code=code,
                                         warnings=warnings)
    else:
        created = interchange.import_mspdi(db.session, actor=g.user, data=data, eps_node=node, code=code,
                                           warnings=warnings)
    flash(_("%(file)s was imported as project %(code)s and scheduled.", file=filename, code=created.code),
          "info")
    _flash_warnings(warnings)
    return redirect(url_for("pm.project", project_id=created.id), code=303)


def _import_as_job(kind: str, data: bytes, filename: str, node, code: str | None):
    """A big file: imported by a job, whose page shows the progress and then links to the new project."""
    job = interchange_jobs.start_import(db.session, actor=g.user, file_format=kind, data=data, filename=filename,
                                        eps_node=node, limits=FileLimits.from_config(current_app.config), code=code)
    flash(_("%(file)s is being imported in the background; this page follows the import and links to the new "
            "project when it is done.", file=filename), "info")
    return redirect(url_for("jobs.show", job_id=job.id), code=303)


def _upload() -> tuple[str, bytes, str]:
    """The uploaded file's format, content and name; Invalid naming what is missing or wrong."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid(_("Choose a file to upload."), errors={"file": ["required"]})
    kind = request.form.get("format", "auto")
    if kind not in FORMATS:
        name = upload.filename.lower()
        kind = next((key for key, endings in FORMATS.items() if name.endswith(endings)), None)
        if kind is None:
            raise Invalid(_("Cannot tell the format of %(name)s: upload a .xer (Primavera P6) or .xml (MS Project) "
                            "file, or choose the format.", name=upload.filename), errors={"file": ["format"]})
    data = upload.read()  # the request body is capped at MAX_UPLOAD_LENGTH (accepts_upload)
    if not data:
        raise Invalid(_("The file %(name)s is empty.", name=upload.filename), errors={"file": ["empty"]})
    check_file(kind, data, FileLimits.from_config(current_app.config))
    return kind, data, upload.filename


@bp.route("/<int:project_id>/import", methods=["POST"])
@accepts_upload()
def replace_plan(project_id: int):
    """Replace the project's plan with an XER or MSPDI file's (edit rights); the file is checked before anything
    is removed, and a refusal keeps the old plan."""
    project = load_project(project_id)
    kind, data, filename = _upload()
    source = (interchange.read_xer_project(data) if kind == "xer" else interchange.read_mspdi_project(data))
    interchange.replace_plan(db.session, actor=g.user, project=project, source=source)
    flash(_("The plan of %(code)s was replaced with %(file)s and scheduled.", code=project.code, file=filename),
          "info")
    _flash_warnings(source.warnings)
    return redirect(url_for("pm.project", project_id=project.id), code=303)


SHOWN_WARNINGS = 10  # flashed messages travel in the session cookie (4 KB)


def _flash_warnings(warnings: list[str]) -> None:
    """An import's warnings on the next page (the file's own terms, as the API gives them): the first ten
    and how many more (the audit record of the import keeps them all)."""
    for warning in warnings[:SHOWN_WARNINGS]:
        flash(_("Import warning: %(warning)s", warning=warning[:300]), "warning")
    if len(warnings) > SHOWN_WARNINGS:
        flash(_("%(count)s more import warnings are not shown.",
                count=len(warnings) - SHOWN_WARNINGS), "warning")

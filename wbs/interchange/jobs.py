"""XER and MSPDI files as jobs: a big file imported, a big plan exported, by a worker.

The jobs do what the synchronous paths do, through the same functions (``import_xer``,
``import_mspdi``, ``export_xer``): the same checks, limits, rights and results. The rights are
checked when the job is asked for and again in the job, for the one who asked (rights may change
while a job waits). Files travel in the database (``JobFile`` rows), since the web server that
took an upload and the worker that reads it may be different machines: the upload is attached to
the job when it is asked for and removed with the import's success (in the same transaction);
an export's file is kept for a day for its download.
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmpm import jobs
from crmpm.errors import Invalid, Phrase
from crmpm.jobs import Job, JobContext, JobFile
from crmpm.users.models import User
from eps import services as eps_services
from eps.models import EpsNode, Project
from eps.permissions import Permission, authorize
from wbs import services
from wbs.interchange.limits import FileLimits, check_file
from wbs.interchange.mspdi.project import import_mspdi as import_mspdi_file
from wbs.interchange.xer.export import export_xer as export_xer_file
from wbs.interchange.xer.project import import_xer as import_xer_file
from wbs.models import Activity, Calendar, Relationship, WbsElement
from wbs.scheduling.jobs import actor_of

__all__ = ["IMPORT_KINDS", "EXPORT_KIND", "CONTENT_TYPES", "start_import", "start_export", "import_xer",
           "import_mspdi", "export_xer"]

IMPORT_KINDS = {"xer": "wbs.import_xer", "mspdi": "wbs.import_mspdi"}
EXPORT_KIND = "wbs.export_xer"
CONTENT_TYPES = {"xer": "application/octet-stream", "mspdi": "application/xml"}
SHOWN_WARNINGS = 1000  # the result is a JSON column read on every poll; the audit record of the import keeps all
# What the jobs say they are doing (translated where it is shown).
READING, WRITING = Phrase("reading the file"), Phrase("writing the file")


def start_import(session: Session, *, actor: User, file_format: str, data: bytes, filename: str, eps_node: EpsNode,
                 limits: FileLimits, proj: str | None = None, code: str | None = None,
                 name: str | None = None) -> Job:
    """Ask for ``data`` (an ``"xer"`` or ``"mspdi"`` file) to be imported under ``eps_node`` by a worker.

    Refused now, before any job exists, as the import itself would refuse: without edit rights on
    the node, or with a file over ``limits``. The file goes with the job into the database.
    """
    authorize(session, user=actor, obj=eps_node, permission=Permission.edit)
    check_file(file_format, data, limits, proj=proj)
    params = {"eps_node_id": eps_node.id, "file": filename[:255], "limits": asdict(limits),
              **{key: value for key, value in (("project", proj), ("code", code), ("name", name)) if value}}
    job = jobs.start(session, kind=IMPORT_KINDS[file_format], params=params, actor=actor)
    jobs.attach_file(session, job_id=job.id, name=filename or f"upload.{file_format}",
                     content_type=CONTENT_TYPES[file_format], data=data, purpose="upload")
    return job


def start_export(session: Session, *, actor: User, project: Project) -> Job:
    """Ask for the project's XER file to be written by a worker, then kept a day for download (read rights)."""
    authorize(session, user=actor, obj=project, permission=Permission.read)
    return jobs.start(session, kind=EXPORT_KIND, params={"project_id": project.id}, actor=actor)


def import_xer(ctx: JobContext) -> dict:
    """Job ``wbs.import_xer``: the uploaded XER file as a new project, as ``POST …/import/xer`` makes it."""
    return _import(ctx, "xer")


def import_mspdi(ctx: JobContext) -> dict:
    """Job ``wbs.import_mspdi``: the uploaded MS Project XML file as a new project."""
    return _import(ctx, "mspdi")


def _import(ctx: JobContext, file_format: str) -> dict:
    session, params = ctx.session, ctx.params
    actor = actor_of(ctx)
    node = eps_services.get_node_or_raise(session, user=actor, node_id=int(params["eps_node_id"]))
    upload = _upload(session, ctx.job_id)
    ctx.progress(0.05, str(READING))
    check_file(file_format, upload.data, FileLimits(**params.get("limits", {})), proj=params.get("project"))
    warnings: list[str] = []
    if file_format == "xer":
        project = import_xer_file(session, actor=actor, data=upload.data, eps_node=node, proj=params.get("project"),
                                  code=params.get("code"), name=params.get("name"), warnings=warnings)
    else:
        project = import_mspdi_file(session, actor=actor, data=upload.data, eps_node=node, code=params.get("code"),
                                    name=params.get("name"), warnings=warnings)
    # Imported: the upload has served (a failed import keeps it, for a retry within its day).
    session.delete(upload)
    session.flush()
    return {"project_id": project.id, "project_code": project.code, "project_name": project.name,
            "file": params.get("file"), "counts": _counts(session, project), "warnings": warnings[:SHOWN_WARNINGS],
            "warnings_total": len(warnings), "url": services.page_of(project)}


def _upload(session: Session, job_id: int) -> JobFile:
    """The file the job was asked with (its first); Invalid once it has expired and was removed."""
    upload = jobs.job_file(session, job_id=job_id, purpose="upload")
    if upload is None:
        raise Invalid("the uploaded file of this job is no longer kept; upload it again",
                      errors={"file": ["expired"]})
    return upload


def _counts(session: Session, project: Project) -> dict:
    """How many of each kind of row the project holds."""
    def count(model, condition):
        return session.scalar(select(func.count()).select_from(model).where(condition))

    inside = select(Activity.id).where(Activity.project_id == project.id)
    return {"activities": count(Activity, Activity.project_id == project.id),
            "relationships": count(Relationship, Relationship.successor_id.in_(inside)),
            "wbs_elements": count(WbsElement, WbsElement.project_id == project.id),
            "calendars": count(Calendar, Calendar.project_id == project.id)}


def export_xer(ctx: JobContext) -> dict:
    """Job ``wbs.export_xer``: the project's XER file (the bytes the download sends), kept a day with the job."""
    actor = actor_of(ctx)
    project = eps_services.get_project_or_raise(ctx.session, user=actor, project_id=int(ctx.params["project_id"]))
    ctx.progress(0.05, str(WRITING))
    data = export_xer_file(ctx.session, project=project)
    stored = jobs.attach_file(ctx.session, job_id=ctx.job_id, name=f"{project.code}.xer",
                              content_type=CONTENT_TYPES["xer"], data=data)
    return {"file": stored.name, "size": stored.size, "project_id": project.id, "project_code": project.code}

"""The exchange's jobs: a large export written by a worker (``accounting.export``), a large cost file booked
by one (``accounting.import_costs``). Both act with the rights of who asked; files travel in the database
(``JobFile``): the upload with the job, the export as its result, kept a day for download."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from crmpm import jobs
from crmpm.jobs import Job, JobContext
from crmpm.errors import Invalid
from crmpm.users.models import User
from wbs.scheduling.jobs import actor_of

from accounts.accounting import costs as cost_import
from accounts.accounting import export as accounting_export

EXPORT_KIND, IMPORT_KIND = "accounting.export", "accounting.import_costs"
XML = "application/xml"


def start_export(session: Session, *, actor: User, scope: accounting_export.Scope) -> Job:
    """Ask a worker to write the export of ``scope`` (its node's rights checked now, and again by the job)."""
    accounting_export.count_documents(session, actor=actor, scope=scope)
    return jobs.start(session, kind=EXPORT_KIND, params=scope.params(), actor=actor)


def export(ctx: JobContext) -> dict:
    """Job ``accounting.export``: the CommerceML file, kept with the job; the run's id and counts."""
    params = ctx.params
    scope = accounting_export.check_scope(
        date.fromisoformat(params["from"]), date.fromisoformat(params["to"]), params.get("eps_node_id"),
        datetime.fromisoformat(params["since"]) if params.get("since") else None)
    ctx.progress(0.05, "writing the file")
    data, run = accounting_export.export_commerceml(ctx.session, actor=actor_of(ctx), scope=scope, job_id=ctx.job_id)
    stored = jobs.attach_file(ctx.session, job_id=ctx.job_id, name=run.file_name, content_type=XML, data=data)
    return {"run_id": run.id, "file": stored.name, "size": stored.size, **run.report}


def start_import(session: Session, *, actor: User, data: bytes, file_name: str) -> Job:
    """Ask a worker to book a large cost file: its rights and header are checked now (refused before any job),
    its rows by the job (a file with bad rows fails the job, naming the first; nothing is booked)."""
    cost_import.check_may_import(session, actor=actor)
    cost_import.check_file_start(data)
    job = jobs.start(session, kind=IMPORT_KIND, params={"file": file_name[:255]}, actor=actor)
    jobs.attach_file(session, job_id=job.id, name=file_name[:255] or "costs.csv", content_type="text/csv",
                     data=data, purpose="upload")
    return job


def import_costs(ctx: JobContext) -> dict:
    """Job ``accounting.import_costs``: the uploaded cost file booked; the run's counts (its report by id)."""
    upload = jobs.job_file(ctx.session, job_id=ctx.job_id, purpose="upload")
    if upload is None:
        raise Invalid("the uploaded file of this job is no longer kept; upload it again", errors={"file": ["expired"]})
    ctx.progress(0.05, "reading the file")
    run = cost_import.import_costs(ctx.session, actor=actor_of(ctx), data=upload.data,
                                   file_name=ctx.params.get("file") or upload.name, job_id=ctx.job_id)
    ctx.session.delete(upload)
    ctx.session.flush()
    return run_counts(run)


def run_counts(run) -> dict:
    """What a cost import answers: the run's id and counts."""
    return {"run_id": run.id, "rows": run.rows, "applied": run.applied, "unmatched": run.unmatched,
            "duplicates": run.duplicates, "status": run.status}

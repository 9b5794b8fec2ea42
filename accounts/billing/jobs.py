"""A large bank statement imported by a worker (job ``finance.import_statement``).

A statement of more than :data:`LARGE_DOCUMENTS` documents (or :data:`LARGE_BYTES`) is imported as a job: the
edge checks the rights and starts it, the file travels with it in the database (a ``JobFile``: the worker may run
on another machine), and the job calls the same ``payments.import_statement`` as the synchronous path, with the
asker's rights, checked again when it runs. The import and the job's success commit together, so a worker killed
mid-way leaves nothing and the job runs again; the upload is removed with the import's success.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from accounts.billing import payments
from crmpm import jobs
from crmpm.errors import Forbidden, Invalid
from crmpm.jobs import Job, JobContext
from crmpm.users.models import User

KIND = "finance.import_statement"
LARGE_DOCUMENTS = 5000
LARGE_BYTES = 4 * 1024 * 1024
_SECTION = "СекцияДокумент"


def document_count(data: bytes) -> int:
    """How many documents a statement holds, counted in its bytes (cp1251, UTF-8 or cp866) without reading it."""
    return max(data.count(_SECTION.encode(codec)) for codec in ("cp1251", "utf-8", "cp866"))


def is_large(data: bytes) -> bool:
    """Whether a statement is imported by a job rather than within the request."""
    return len(data) > LARGE_BYTES or document_count(data) > LARGE_DOCUMENTS


def start_import(session: Session, *, actor: User, data: bytes, file_name: str) -> Job:
    """Ask a worker to import ``data``; refused now, before any job exists, to whoever may not import."""
    if not payments.handles_payments(session, user=actor):
        raise Forbidden("finance rights are needed to handle bank statements and unmatched payments")
    job = jobs.start(session, kind=KIND, params={"file": file_name[:255]}, actor=actor)
    jobs.attach_file(session, job_id=job.id, name=file_name or "statement.txt", content_type="text/plain",
                     data=data, purpose="upload")
    return job


def import_statement(ctx: JobContext) -> dict:
    """Job ``finance.import_statement``: the uploaded statement imported; its result is the import's counts."""
    if ctx.actor is None:
        raise Forbidden("the user who asked for this job no longer exists")
    upload = jobs.job_file(ctx.session, job_id=ctx.job_id, purpose="upload")
    if upload is None:
        raise Invalid("the uploaded file of this job is no longer kept; upload it again", errors={"file": ["expired"]})
    ctx.progress(0.05, "reading the statement")
    statement = payments.import_statement(ctx.session, actor=ctx.actor, data=upload.data,
                                          file_name=ctx.params.get("file") or upload.name, job_id=ctx.job_id,
                                          progress=ctx.progress)
    ctx.session.delete(upload)
    ctx.session.flush()
    return payments.report_of(statement)

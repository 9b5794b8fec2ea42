"""Jobs: what a caller asked to run in the background, its progress and its outcome."""

from __future__ import annotations

from flask import jsonify
from marshmallow import Schema, fields

from api.common import Blueprint, PageArgs, current_user, page_schema, paginate, session
from crmpm import jobs
from crmpm.downloads import send_download
from crmpm.errors import NotFound

blp = Blueprint("background-jobs", __name__, url_prefix="/jobs", description="Background jobs: progress, result, retry")


class JobSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String(metadata={"enum": list(jobs.STATUSES)})
    progress = fields.Float(metadata={"description": "0.0–1.0"})
    message = fields.String(allow_none=True)
    result = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    created_by = fields.Integer(allow_none=True, metadata={"description": "The id of the user who asked for it."})
    attempt = fields.Integer()
    max_attempts = fields.Integer()
    run_after = fields.DateTime(metadata={"description": "A queued job does not start before this time."})


class JobListArgs(PageArgs):
    everyone = fields.Boolean(load_default=None, metadata={
        "description": "Administrators see every user's jobs unless false; for anyone else only their own."})


JobPageSchema = page_schema(JobSchema)
_job_schema = JobSchema()


def async_flag(description: str | None = None) -> fields.Boolean:
    """``?async=true``: do the work as a job; the endpoint then answers with ``accepted``."""
    return fields.Boolean(data_key="async", load_default=False, metadata={"description": description or (
        "true: do the work as a background job and answer 202 with the job at once "
        "(follow it at the Location given, GET /api/v1/jobs/{id})")})


def accepted_doc(blueprint, what: str):
    """Document the 202 an endpoint with ``async_flag`` answers: the job and its ``Location``."""
    return blueprint.alt_response(202, schema=JobSchema, description=f"With async=true: the job {what}",
                                  headers={"Location": {"description": "/api/v1/jobs/{id}: the job to follow",
                                                        "schema": {"type": "string"}}})


def accepted(job):
    """The answer of an endpoint that started ``job`` (``?async=true``): 202, the job, and where to follow it."""
    response = jsonify(_job_schema.dump(jobs.snapshot(session(), job)))
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return response


@blp.route("", methods=["GET"])
@blp.arguments(JobListArgs, location="query")
@blp.response(200, JobPageSchema)
def list_jobs(args):
    """The caller's jobs, newest first; an administrator's list holds every user's (``everyone=false``: their own)."""
    result = paginate(jobs.list_(user=current_user(), everyone=args["everyone"] is not False), args)
    result["items"] = [jobs.snapshot(session(), job) for job in result["items"]]
    return result


@blp.route("/<int:job_id>", methods=["GET"])
@blp.response(200, JobSchema)
def get_job(job_id):
    """One job: its status, progress while it runs, result or error. Its creator and administrators only."""
    return jobs.snapshot(session(), jobs.readable(session(), user=current_user(), job_id=job_id))


@blp.route("/<int:job_id>/file", methods=["GET"])
@blp.response(200, description="The file, as an attachment.", content_type="application/octet-stream")
def get_job_file(job_id):
    """The file a job produced (an XER export), kept for a day after the job ends. Its creator and administrators."""
    jobs.readable(session(), user=current_user(), job_id=job_id)
    stored = jobs.job_file(session(), job_id=job_id)
    if stored is None:
        raise NotFound("job {id} has no file", id=job_id)
    return send_download(stored.data, filename=stored.name, mimetype=stored.content_type)


@blp.route("/<int:job_id>/retry", methods=["POST"])
@blp.response(202, JobSchema)
def retry_job(job_id):
    """Queue a failed job again (409 for a job that has not failed)."""
    return jobs.snapshot(session(), jobs.retry(session(), user=current_user(), job_id=job_id))

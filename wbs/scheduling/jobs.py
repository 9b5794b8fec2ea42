"""Scheduling as a job: a big plan scheduled by a worker instead of inside the request that asked.

The job does what the synchronous path does, through the same service
(:func:`wbs.scheduling.service.schedule_project`): the same rights (checked when the job is asked
for, and again in the job for the one who asked, whose rights may have changed meanwhile), the
same stored dates, audit record and ``project.scheduled`` event (with the job's id).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmpm import jobs
from crmpm.errors import Forbidden
from crmpm.jobs import Job, JobContext
from crmpm.users.models import User
from eps import services as eps_services
from eps.models import Project
from eps.permissions import Permission, authorize
from wbs import services
from wbs.models import Activity
from wbs.scheduling import service
from wbs.scheduling.service import ScheduleSummary

__all__ = ["KIND", "is_large", "schedule_plan", "start_schedule", "summary_figures", "actor_of"]

KIND = "wbs.schedule"
LOCAL = "%Y-%m-%dT%H:%M"  # project-local wall-clock times, as the API writes them


def is_large(session: Session, *, project: Project, limit: int) -> bool:
    """Whether the project has more than ``limit`` activities: a plan the pages schedule and export as a job."""
    count = session.scalar(select(func.count()).select_from(Activity).where(Activity.project_id == project.id))
    return count > limit


def start_schedule(session: Session, *, actor: User, project: Project) -> Job:
    """Ask for the project to be scheduled by a worker (edit rights, as scheduling now needs)."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    return jobs.start(session, kind=KIND, params={"project_id": project.id}, actor=actor)


def schedule_plan(ctx: JobContext) -> dict:
    """Job ``wbs.schedule``: schedule project ``params["project_id"]`` for the one who asked; its figures."""
    actor = actor_of(ctx)
    project = eps_services.get_project_or_raise(ctx.session, user=actor, project_id=int(ctx.params["project_id"]))
    summary = service.schedule_project(ctx.session, actor=actor, project=project, job_id=ctx.job_id,
                                       progress=ctx.progress)
    return {**summary_figures(summary), "project_code": project.code, "url": services.page_of(project)}


def summary_figures(summary: ScheduleSummary) -> dict:
    """A schedule's outcome as JSON (dates project-local, as the API writes them)."""
    def local(value):
        return value.strftime(LOCAL) if value is not None else None

    return {"project_id": summary.project_id, "data_date": local(summary.data_date), "start": local(summary.start),
            "finish": local(summary.finish), "late_finish": local(summary.late_finish),
            "activities": summary.activities, "relationships": summary.relationships, "critical": summary.critical,
            "changed": summary.changed, "milliseconds": summary.milliseconds}


def actor_of(ctx: JobContext) -> User:
    """Who asked for the job, whose rights the job acts with; Forbidden when that user is gone."""
    if ctx.actor is None:
        raise Forbidden("the user who asked for this job no longer exists")
    return ctx.actor

"""Levelling as a job (``wbs.level``): a portfolio levelled by a worker, with its asker's rights."""

from __future__ import annotations

from crmpm.jobs import JobContext
from eps import services as eps_services
from wbs import services
from wbs.resources import levelling_service
from wbs.scheduling.jobs import actor_of

__all__ = ["level_plans"]


def level_plans(ctx: JobContext) -> dict:
    """Job ``wbs.level``: level ``params["project_ids"]`` and/or the projects under ``params["eps_node_id"]``.

    The rights are checked again for the asker (edit rights on every project); the result is the run's id
    and counts.
    """
    actor = actor_of(ctx)
    params = ctx.params or {}
    session = ctx.session
    projects = levelling_service.scope_projects(session, actor=actor, project_ids=params.get("project_ids") or [],
                                                eps_node_id=params.get("eps_node_id"))
    project = (eps_services.get_project_or_raise(session, user=actor, project_id=int(params["project_id"]))
               if params.get("project_id") else None)
    node = (eps_services.get_node_or_raise(session, user=actor, node_id=int(params["eps_node_id"]))
            if params.get("eps_node_id") else None)
    run = levelling_service.level_projects(session, actor=actor, projects=projects, options=params.get("options"),
                                           project=project, eps_node=node, job_id=ctx.job_id,
                                           progress=ctx.progress)
    return {"run_id": run.id, "projects": [p.id for p in projects], "activities": run.activities,
            "moved": run.moved, "unresolved": run.unresolved, "overallocations": run.overallocations,
            "milliseconds": run.milliseconds,
            **({"url": services.page_of(project) + "/levelling"} if project is not None else {})}

"""The CRM's periodic jobs: deputies' handovers and returns, and tasks coming due.

Plain functions over the CRM's services, registered as job kinds (``crmpm.jobs`` entry points
``crm.handovers`` and ``crm.tasks_due``); the workers run them on their schedule, each in one
transaction the runner commits.
"""

from __future__ import annotations

from crmpm.jobs import JobContext, periodic

from accounts import activities, routing


@periodic(minute="0")
def process_handovers(ctx: JobContext) -> dict:
    """Hourly: hand work to deputies for absences that have begun, give it back for those that have ended."""
    started, ended = routing.process_handovers(ctx.session)
    return {"handed_over": started, "given_back": ended}


@periodic(minute="*")
def record_due_tasks(ctx: JobContext) -> dict:
    """Every minute: a ``task.due`` event for each open task whose due time has passed, once per due time."""
    return {"recorded": activities.record_due_tasks(ctx.session)}

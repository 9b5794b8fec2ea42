"""The CRM's periodic jobs: deputies' handovers and returns, tasks coming due, reminders and the daily digest.

Plain functions over the CRM's services, registered as job kinds (``crmpm.jobs`` entry points
``crm.handovers``, ``crm.tasks_due``, ``crm.task_reminders``, ``crm.daily_digest``); the workers run them on their schedule, each in one
transaction the runner commits.
"""

from __future__ import annotations

from crmpm.jobs import JobContext, periodic

from accounts import activities, notifying, routing


@periodic(minute="0")
def process_handovers(ctx: JobContext) -> dict:
    """Hourly: hand work to deputies for absences that have begun, give it back for those that have ended."""
    started, ended = routing.process_handovers(ctx.session)
    return {"handed_over": started, "given_back": ended}


@periodic(minute="*")
def record_due_tasks(ctx: JobContext) -> dict:
    """Every minute: a ``task.due`` event for each open task whose due time has passed, once per due time."""
    return {"recorded": activities.record_due_tasks(ctx.session)}


@periodic(minute="*")
def remind_tasks(ctx: JobContext) -> dict:
    """Every minute: remind each open task's assignee when its reminder time has passed, once per reminder time."""
    return {"reminded": notifying.remind_tasks(ctx.session)}


@periodic(minute="*/15")
def send_digests(ctx: JobContext) -> dict:
    """Every 15 minutes: the daily digest of overdue and today's tasks to users whose 08:00 has passed today."""
    return {"sent": notifying.send_digests(ctx.session)}

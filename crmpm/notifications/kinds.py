"""The kinds of notification, their default channels, their texts and the page each one links to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from crmpm.mail import Rendered, Templates


@dataclass(frozen=True)
class Channels:
    """Where a kind of notification goes: into the application (the bell), by e-mail, or both."""

    in_app: bool
    email: bool


# Every kind, with the channels a user has until they choose (``notification_preferences``).
KINDS: dict[str, Channels] = {
    "task_assigned": Channels(in_app=True, email=True),
    "task_due": Channels(in_app=True, email=False),
    "task_reminder": Channels(in_app=True, email=True),
    "daily_digest": Channels(in_app=False, email=True),
    "lead_assigned": Channels(in_app=True, email=True),
    "deal_handed_over": Channels(in_app=True, email=True),
    "budget_change_awaiting": Channels(in_app=True, email=True),
    "budget_change_decided": Channels(in_app=True, email=False),
    "timesheet_submitted": Channels(in_app=True, email=True),
    "timesheet_decided": Channels(in_app=True, email=True),
    "import_finished": Channels(in_app=True, email=False),
    "webhook_disabled": Channels(in_app=True, email=True),
    "automation": Channels(in_app=True, email=False),  # an automation rule's "notify" (accounts.automation)
    "mention": Channels(in_app=True, email=True),
    "portal_approval": Channels(in_app=True, email=True),  # a client approved or rejected on the portal
}

TEMPLATES = Templates(Path(__file__).parent / "templates")


def local_time(value: str | None, zone: str) -> str:
    """An ISO time of a notification's params as the reader's wall clock (``YYYY-MM-DD HH:MM``)."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def render(kind: str, language: str, params: dict, *, time_zone: str = "UTC") -> Rendered:
    """The texts of ``kind`` in ``language`` (English when it has none) from ``params``, times in ``time_zone``.

    Mail templates (``crmpm.mail.Templates``) ``templates/<kind>.<language>.txt``: the subject line is
    also the in-app text; the template writes a time as ``when(due_at)``.
    """
    return TEMPLATES.render(kind, language, {**params, "when": partial(local_time, zone=time_zone)})


def page_of(subject_type: str | None, subject_id: int | None, params: dict) -> str | None:
    """The path of the page a notification about this subject links to, if there is one."""
    if subject_id is None:
        return None
    if subject_type == "deals":
        return f"/crm/deals/{subject_id}"
    if subject_type == "leads":
        return f"/crm/leads/{subject_id}"
    if subject_type in ("tasks", "interactions"):
        if params.get("account_id"):
            return f"/crm/accounts/{params['account_id']}"
        if params.get("lead_id"):
            return f"/crm/leads/{params['lead_id']}"
        return "/crm/tasks" if subject_type == "tasks" else None
    if subject_type == "budget_changes":
        if params.get("project_id"):
            return f"/finance/projects/{params['project_id']}"
        if params.get("eps_node_id"):
            return f"/finance/nodes/{params['eps_node_id']}"
    if subject_type == "timesheets":  # asks for decisions: the approval queue
        return "/timesheets/approvals"
    if subject_type == "timesheet_decisions" and params.get("week"):  # the person's own week
        return f"/timesheets/?week={params['week']}"
    if subject_type == "projects":
        return f"/eps/projects/{subject_id}"
    if subject_type == "jobs":
        return f"/jobs/{subject_id}"
    return None

"""Domain events: a transactional outbox, read by integrators and delivered to consumers.

``record`` writes an event in the transaction of the change it describes (nothing for a change
rolled back, always one for a change committed); ``dispatch`` delivers committed events to the
consumers the installed packages register (``crmpm.event_consumers``), at least once and in
order; ``page`` reads them for the API and the CLI.

Event types (``<subject>.<what happened>``) are listed in ``TYPES`` with what their payload holds.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from crmpm.events.delivery import committed_after, deliver, dispatch, installed_consumers, pending
from crmpm.events.models import Event, EventCounter, EventCursor, EventFailure
from crmpm.events.recording import VERSION, DomainEvent, record, record_many, subject_of

# Every type recorded, with the facts its payload carries besides the subject (``subject_type: facts``).
# Money is an exact decimal string, times ISO 8601 with their zone, ids plain integers (None when absent).
TYPES = {
    "deal.created": "deals: account_id, project_id, pipeline_id, stage_id, status (open|won|lost), owner_id, "
                    "contact_id, amount, currency",
    "deal.stage_changed": "deals: from_stage_id, to_stage_id, status (of the new stage: open|won|lost)",
    "deal.won": "deals: stage_id, amount, project_id, first_win (false when won again after a reopening), "
                "budget_set (the project's budget set from the amount)",
    "deal.lost": "deals: stage_id, reason",
    "deal.owner_changed": "deals: owner_id, previous_owner_id, reason (manual|handover|returned: a deputy's "
                          "handover for an absence and its return)",
    "lead.created": "leads: owner_id, source, region_node_id",
    "lead.assigned": "leads: owner_id, previous_owner_id, reason (manual|existing_client|round_robin|least_load), "
                     "rule_id",
    "lead.qualified": "leads: account_id, contact_id, deal_id",
    "task.created": "tasks: assignee_id, due_at, remind_at, account_id, deal_id, lead_id, contact_id",
    "task.due": "tasks: assignee_id, due_at (recorded once per due time, again when it moves)",
    "task.done": "tasks: assignee_id, completed_at",
    "interaction.recorded": "interactions: account_id, lead_id, contact_id, deal_id, kind, direction, at, user_id",
    "budget.change_requested": "budget_changes: eps_node_id, project_id, amount",
    "budget.change_decided": "budget_changes: decision (approved|rejected), amount, eps_node_id, project_id, "
                             "requested_by_id",
    "timesheet.submitted": "timesheets: resource_id, week (its Monday, ISO), project_ids (the projects asked for a "
                           "decision)",
    "timesheet.decided": "timesheet_decisions: timesheet_id, resource_id, week (its Monday, ISO), project_id, "
                         "decision (approved|rejected), reason (empty when approved)",
    "project.scheduled": "projects: activities, finish, data_date, critical, job_id (the job that scheduled it; None "
                         "when asked directly)",
    "import.finished": "kind, created, updated, failed, job_id, dry_run (a CSV import: about its job, or "
                       "(imports, none)); an XER or MSPDI file: about the new project, kind xer|mspdi, project_id, "
                       "activities, relationships, warnings",
    "mail.sent": "what the message was about (deals, contacts, leads or accounts): to, cc, refused (recipients the "
                 "server refused), subject, text (its first 10,000 characters), message_id, job_id; recorded when the "
                 "SMTP server took the message, never for one kept in the outbox",
    "user.access_changed": "users: user_id, what (activated|deactivated|admin_granted|admin_revoked|team_joined|"
                           "team_left: team_id|granted|revoked: grant_id, role, eps_node_id, project_id, team_id)",
    "automation.webhook": "deals or leads: an automation rule calls one webhook: webhook_id (delivered to that webhook "
                          "only, if its owner may read the subject), rule_id, rule, run_id, stage_id, amount, "
                          "currency, owner_id (deals)",
    "invoice.issued": "invoices: number, year, issue_date, due_date, project_id, deal_id, account_id, currency, "
                      "subtotal, vat_rate, vat_amount, total",
    "invoice.cancelled": "invoices: number, year, project_id, deal_id, account_id, total, reason",
    "invoice.paid": "invoices: number, year, project_id, deal_id, account_id, currency, total, paid_amount, paid_at "
                    "(recorded each time its matched payments come to cover the total)",
    "webhook.disabled": "webhooks: owner_id, url, failures (failed attempts in a row), last_status (the last HTTP "
                        "status, None when no answer)",
    "campaign.message": "contacts: an SMS or messenger message of a campaign, for the campaign's webhook: webhook_id "
                        "(delivered to that webhook only, if its owner may read the contact), campaign_id, "
                        "campaign_code, channel (sms|messenger), to (the phone), text, token (its tracking token)",
    "portal.approval_decided": "projects: a client's decision on the portal: approval_id, subject (milestone|act), "
                               "subject_id (billing milestone or invoice id), name, decision (approved|rejected), "
                               "comment, user_id, contact_id, account_id, deal_id",
    "payment.recorded": "payments: amount, currency, paid_on, source (manual|statement), statement_id, invoice_id (None while unmatched), matched_how (number|inn_amount|manual|None), payer_inn, document_number; read by finance (unmatched) or the invoice's project's readers (matched)",
    # Marketing: web-to-lead forms (accounts/marketing/forms.py).
    "web_form.spam": "web_forms: fields (the names a bot sent; the honeypot caught it and nothing else was stored)",
}

__all__ = ["TYPES", "VERSION", "DomainEvent", "Event", "EventCounter", "EventCursor", "EventFailure", "deliver", "dispatch",
           "installed_consumers", "page", "pending", "record", "record_many", "subject_of"]


def page(session: Session, *, after: int = 0, types: list[str] | None = None, limit: int = 100,
         visible=None) -> list[DomainEvent]:
    """Committed events after id ``after``, in commit order, of ``types`` if given, where ``visible`` holds.

    Ids follow commits (``crmpm.events.recording``): a reader who stores the last id it saw never
    misses an event committed later.
    """
    query = committed_after(after, limit)
    if types:
        query = query.where(Event.type.in_(types))
    if visible is not None:
        query = query.where(visible)
    return [DomainEvent.of(row) for row in session.scalars(query)]

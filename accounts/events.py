"""Who may read which domain events: the rights on an event's subject, as on the subject itself."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from crmpm.events import Event
from crmpm.users.models import User
from crmpm.webhooks.models import Webhook
from eps.models import BudgetChange, EpsNode, Project
from eps.permissions import principal_grant_paths, reads_everything, visible
from wbs.resources.timesheets import readable_decision_ids, readable_sheet_ids

from accounts.billing.models import Invoice
from accounts.billing.payments import readable_payment_ids
from accounts.models import Contact, Deal, Interaction, Task
from accounts.permissions import account_or_lead_visible, deal_visible, readable_account_ids, readable_lead_ids

# Subjects that live in the EPS: their events are read by whoever may read the subject now.
SUBJECT_TYPES = ("deals", "accounts", "contacts", "leads", "tasks", "interactions", "projects", "eps_nodes",
                 "budget_changes", "timesheets", "timesheet_decisions", "payments", "invoices")
# Subjects read by narrower rights than reading the project: not given by ``reads_everything``.
NARROW_SUBJECT_TYPES = ("timesheets", "timesheet_decisions", "payments")


def visible_events(session: Session, *, user: User):
    """A condition true for the events ``user`` may read, or None for all (administrators).

    An event about a deal, lead, account, contact, task, interaction, project, EPS node, budget change or invoice
    is readable by whoever may read that subject now (someone who lost the rights no longer
    reads what they did there; a subject deleted since is read by administrators only); any
    other event (a user's access, an import, a job) by administrators and by the user who caused it;
    an event about a webhook (``webhook.disabled``) also by the webhook's owner. An event about a timesheet or
    a timesheet decision is read by the resource's linked user and by those who may approve the project
    concerned (``wbs.resources.timesheets.readable_sheet_ids`` / ``readable_decision_ids``), whatever else
    they read.
    """
    if user.is_admin:
        return None
    own = or_(and_(Event.subject_type.not_in(SUBJECT_TYPES), Event.actor_id == user.id),
              _about("webhooks", select(Webhook.id).where(Webhook.owner_id == user.id)))
    timesheet_rules = [_about("timesheets", readable_sheet_ids(session, user=user)),
                       _about("timesheet_decisions", readable_decision_ids(session, user=user)),
                       # A payment: unmatched, by finance; matched, by its invoice's project's readers.
                       _about("payments", readable_payment_ids(session, user=user))]
    paths = principal_grant_paths(session, user=user)
    if reads_everything(session, user=user, paths=paths):
        broad = [subject_type for subject_type in SUBJECT_TYPES if subject_type not in NARROW_SUBJECT_TYPES]
        return or_(Event.subject_type.in_(broad), *timesheet_rules, own)
    deals = deal_visible(session, user=user, paths=paths)
    nodes = select(EpsNode.id).where(visible(session, user=user, model=EpsNode, paths=paths))
    projects = select(Project.id).where(visible(session, user=user, model=Project, paths=paths))
    rules = [
        _about("deals", select(Deal.id).where(deals)),
        _about("accounts", readable_account_ids(session, user=user, paths=paths)),
        _about("contacts", select(Contact.id).where(
            Contact.account_id.in_(readable_account_ids(session, user=user, paths=paths)))),
        _about("leads", readable_lead_ids(session, user=user, paths=paths)),
        _about("tasks", select(Task.id).where(account_or_lead_visible(session, user=user, model=Task))),
        _about("interactions", select(Interaction.id).where(
            account_or_lead_visible(session, user=user, model=Interaction))),
        _about("projects", projects),
        _about("eps_nodes", nodes),
        # A budget change is read with its node or project (``eps.budgets.get_change_or_raise``).
        _about("budget_changes", select(BudgetChange.id).where(
            or_(BudgetChange.eps_node_id.in_(nodes), BudgetChange.project_id.in_(projects)))),
        # An invoice is read with its project (``accounts.billing.invoices.get_invoice_or_raise``).
        _about("invoices", select(Invoice.id).where(Invoice.project_id.in_(projects))),
        *timesheet_rules,
    ]
    return or_(*rules, own)


def _about(subject_type: str, readable_ids):
    return and_(Event.subject_type == subject_type, Event.subject_id.in_(readable_ids))

"""The menu: every section the product will have, each shown once its page exists and the user may use it.

Entries name an endpoint; an entry whose endpoint is not registered yet (the
CRM's pipeline board, the PM's Gantt chart, still being built) stays hidden,
so the menu never holds a dead link. Registering the blueprint that serves the
endpoint is all it takes to show it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, g, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BuildError

from accounts.billing import payments
from accounts.imports.jobs import may_import
from crmpm.database import db
from crmpm.users.models import User
from wbs.expenses import services as expenses
from wbs.resources import timesheets


@dataclass(frozen=True)
class Entry:
    """One menu entry: where it leads, its label, and who sees it."""

    endpoint: str
    label: object  # a lazy translation
    section: str
    allowed: Callable[[User], bool] = lambda user: True
    also: tuple[str, ...] = ()  # other endpoints under this entry, shown as the current section

    def available(self) -> bool:
        return self.endpoint in current_app.view_functions


def _admin(user: User) -> bool:
    return user.is_admin


def _may_import(user: User) -> bool:
    return may_import(db.session, user=user)


def _keeps_books(user: User) -> bool:
    return expenses.may_keep_books(db.session, user=user)
def _handles_payments(user: User) -> bool:
    return payments.handles_payments(db.session, user=user)


def _books_time(user: User) -> bool:
    # Administrators see every entry (the page tells one without a resource that there is nothing to fill).
    return user.is_admin or timesheets.resource_of(db.session, user=user) is not None


def _approves_time(user: User) -> bool:
    return timesheets.may_approve(db.session, user=user)


def _locks_time(user: User) -> bool:
    return timesheets.may_lock(db.session, user=user)


ENTRIES: tuple[Entry, ...] = (
    Entry("home.index", _l("Home"), "main"),
    # Sales (accounts/): pipeline board, accounts and deals.
    Entry("crm.pipeline", _l("Pipeline"), "sales"),
    Entry("crm.accounts", _l("Accounts"), "sales", also=("crm.account", "crm.contact", "crm.contact_new",
                                                         "crm.new_account", "crm.create_account", "crm.edit_account",
                                                         "crm.update_account")),
    Entry("crm.leads", _l("Leads"), "sales", also=("crm.lead", "crm.new_lead", "crm.create_lead")),
    Entry("crm.tasks", _l("Tasks"), "sales"),
    Entry("crm.deals", _l("Deals"), "sales", also=("crm.new_deal", "crm.create_deal")),
    Entry("crm.import_form", _l("Import"), "sales", _may_import, also=("crm.import_job",)),
    Entry("dashboards.index", _l("Dashboards"), "sales", also=("dashboards.retention_page",)),
    # Documents on accounts, contacts, deals, projects and activities: the search across them.
    Entry("document_pages.index", _l("Documents"), "sales"),
    # Marketing (accounts/marketing/): segments; campaigns and web forms next to them.
    Entry("marketing_segments.index", _l("Segments"), "marketing",
          also=("marketing_segments.new", "marketing_segments.show", "marketing_segments.edit",
                "marketing_segments.preview")),
    # Marketing: campaigns (accounts/marketing/campaigns.py).
    Entry("campaign_pages.index", _l("Campaigns"), "marketing", also=("campaign_pages.show", "campaign_pages.new", "campaign_pages.edit")),
    # Marketing: web-to-lead forms (read by all staff; changed by those who may change a form's branch).
    Entry("marketing_forms.index", _l("Web forms"), "marketing",
          also=("marketing_forms.new", "marketing_forms.create", "marketing_forms.show", "marketing_forms.edit",
                "marketing_forms.update")),
    # Projects (wbs/): the project list and the Gantt chart.
    Entry("pm.index", _l("Projects"), "projects", also=("pm.project", "pm.activity", "pm.import_form")),
    Entry("pm.gantt", _l("Gantt"), "projects"),
    Entry("structure.index", _l("EPS"), "projects"),
    # Timesheets (wbs/resources/): one's own week, the PMs' approvals, the locks of administrators and finance.
    Entry("hours.mine", _l("My timesheet"), "projects", _books_time),
    Entry("hours.approvals", _l("Timesheet approvals"), "projects", _approves_time),
    Entry("hours.locks", _l("Timesheet locks"), "finance", _locks_time),
    Entry("resource_capacity.index", _l("Capacity"), "projects"),
    # Finance (eps/): the budget tree and the change requests.
    Entry("finance.tree", _l("Budgets"), "finance", also=("finance.detail",)),
    Entry("finance.changes", _l("Budget changes"), "finance"),
    # Invoices (accounts/billing/): the list and an invoice's page; the company's details.
    Entry("billing.index", _l("Invoices"), "finance", also=("billing.show", "billing.milestones_page",
                                                          "billing.company_page")),
    # Money received (accounts/billing/payments.py): the queue to match and the bank statements.
    Entry("finance_payments.queue", _l("Payments to match"), "finance", _handles_payments),
    Entry("finance_payments.statements", _l("Bank statements"), "finance", _handles_payments,
          also=("finance_payments.statement",)),
    # The exchange with accounting (accounts/accounting/): administrators and the finance role.
    Entry("accounting_exchange.index", _l("Accounting exchange (1C)"), "finance", _keeps_books, also=("accounting_exchange.run",)),
    # Administration.
    Entry("admin.users", _l("Users"), "admin", _admin, also=("admin.user",)),
    Entry("admin.teams", _l("Teams"), "admin", _admin, also=("admin.team",)),
    Entry("admin.grants", _l("Access"), "admin", _admin, also=("admin.node_grants",)),
    Entry("admin.preview", _l("Access preview"), "admin", _admin),
    # The resource pool: read by everyone signed in, changed by administrators.
    Entry("pool.resources", _l("Resources"), "admin", _admin, also=("pool.resource",)),
    Entry("pool.roles", _l("Roles"), "admin", _admin, also=("pool.role",)),
    # Settings: pipelines and routing are read by everyone, changed by administrators; absences are everyone's.
    Entry("settings.pipelines", _l("Pipelines and stages"), "settings", _admin,
          also=("settings.pipeline", "pipeline_automation.rules", "pipeline_automation.rule")),
    Entry("settings.rules", _l("Lead routing"), "settings", _admin, also=("settings.rule",)),
    Entry("settings.absences", _l("Absences"), "settings"),
    Entry("papers.templates", _l("Document templates"), "settings", _admin),
    # The user's own background work (imports, exports, scheduling).
    Entry("jobs.index", _l("Background jobs"), "me", also=("jobs.show",)),
)


def menu() -> list[dict]:
    """The entries the current user sees, with their URLs and whether they are the current page."""
    user = g.get("user")
    if user is None:
        return []
    items = []
    for entry in ENTRIES:
        if not entry.available() or not entry.allowed(user):
            continue
        try:
            url = url_for(entry.endpoint)
        except BuildError:
            continue
        active = request.endpoint == entry.endpoint or request.endpoint in entry.also
        items.append({"url": url, "label": entry.label, "section": entry.section, "active": active})
    return items


def is_available(endpoint: str) -> bool:
    """Whether a page exists (for links inside pages to sections built later)."""
    return endpoint in current_app.view_functions


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(menu=menu, page_exists=is_available)

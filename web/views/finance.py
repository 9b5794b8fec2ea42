"""Finance pages: the budget tree, a node's or project's budget, change requests and the spending plan.

Every object is loaded through ``eps.services.get_*_or_raise`` (404 when the
user may not read it) and every change goes through ``eps.budgets`` (which
checks the rights again and keeps the tree's invariants); the page only hides
the controls the user could not use anyway.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from accounts.billing import figures as billing_figures
from crmpm.database import db
from crmpm.errors import Invalid
from eps import budgets, services
from eps.models import BudgetChange, ChangeStatus, EpsNode, Project
from eps.permissions import Access, Permission, access_to
from wbs.expenses import services as expense_services
from wbs.expenses.queries import expenses_total
from web import charts, queries, xlsx
from web.forms import MONEY_LIMIT, ActionForm, ChangeRequestForm, DecisionForm, OriginalBudgetForm, check, parse_amount
from web.i18n import amount, month
from web.pagination import page_args, paginate
from web.pages import page_blueprint, safe_next

bp = page_blueprint("finance", __name__, url_prefix="/finance")

KINDS = ("nodes", "projects")
NO_FIGURE = "—"  # what the tree shows where a figure does not apply
TREE_PAGE_SIZE = 50


def _load(kind: str, obj_id: int) -> EpsNode | Project:
    if kind == "nodes":
        return services.get_node_or_raise(db.session, user=g.user, node_id=obj_id)
    if kind == "projects":
        return services.get_project_or_raise(db.session, user=g.user, project_id=obj_id)
    abort(404)


def _kind_of(obj) -> str:
    return "nodes" if isinstance(obj, EpsNode) else "projects"


def _four_eyes() -> bool:
    return current_app.config["BUDGET_FOUR_EYES"]


def may_request(access: Access) -> bool:
    """Whether the budget service would take a change request from this access (budget or manage)."""
    return access.can(Permission.budget) or access.can(Permission.manage)


def may_decide(access: Access, change: BudgetChange) -> bool:
    """Whether the budget service would let this user approve or reject ``change``."""
    if change.status is not ChangeStatus.pending or not access.can(Permission.budget):
        return False
    return not (_four_eyes() and change.requested_by_id == g.user.id and not g.user.is_admin)


# The tree


@bp.route("/")
def tree():
    """The budget tree from where the user's rights start; deeper levels load when expanded."""
    rows = queries.entry_rows(db.session, user=g.user)
    return render_template("finance/tree.html", rows=rows)


@bp.route("/nodes/<int:node_id>/rows")
def rows(node_id: int):
    """One page of a node's children as table rows (fetched when the node is expanded)."""
    node = _load("nodes", node_id)
    page, per_page = page_args(TREE_PAGE_SIZE)
    level = max(min(request.args.get("level", 1, type=int), 64), 0)
    result = queries.child_rows(db.session, user=g.user, node=node, page=page, per_page=per_page, level=level)
    return render_template("finance/_rows.html", rows=result.rows, more=result, parent=node, level=level)


@bp.route("/tree.xlsx")
def tree_export():
    """The tree as on screen: the first levels and the children of the nodes the user expanded."""
    open_ids = {int(part) for part in request.args.get("open", "").split(",") if part.strip().isdigit()}
    rows = queries.visible_tree_rows(db.session, user=g.user, open_ids=open_ids)
    headings = [_("Code"), _("Name"), _("Kind"), _("Current budget"), _("Distributed"), _("Undistributed"),
                _("Planned cost"), _("Actual cost"), _("Variance"), _("Billed"), _("Received"), _("Margin")]
    # A project hands no budget down: the screen shows a dash there, not a zero, and so does the workbook.
    data = [[row.obj.code, row.obj.name, _("EPS node") if row.kind == "node" else _("Project"),
             row.figures.current, *((row.figures.distributed, row.figures.undistributed) if row.kind == "node"
                                    else (NO_FIGURE, NO_FIGURE)),
             row.figures.planned_cost, row.figures.actual_cost, row.figures.variance,
             row.billing.billed, row.billing.received, row.billing.margin] for row in rows]
    content = xlsx.workbook(_("Budgets"), headings, data, money_columns=range(3, 12), indent_column=1,
                            levels=[row.level for row in rows])
    return xlsx.download(content, "budget-tree.xlsx")


# One node or project


@bp.route("/<any(nodes, projects):kind>/<int:obj_id>")
def detail(kind: str, obj_id: int):
    """Budget figures, children, change log and spending plan of one node or project."""
    obj = _load(kind, obj_id)
    session = db.session
    access = access_to(session, user=g.user, obj=obj)
    figures = budgets.figures(session, obj=obj)
    billing = billing_figures.figures(session, obj=obj)
    plan = budgets.spending_plan(session, obj=obj)
    changes = paginate(session, budgets.list_changes(session, user=g.user, obj=obj), default_per_page=20)
    children = None
    expenses = _expenses(session, obj) if isinstance(obj, Project) else None
    if isinstance(obj, EpsNode):
        children = queries.child_rows(session, user=g.user, node=obj, page=1, per_page=TREE_PAGE_SIZE, level=0)
    return render_template(
        "finance/detail.html",
        obj=obj, kind=kind, access=access, figures=figures, billing=billing, plan=plan, changes=changes, children=children,
        crumbs=services.breadcrumbs(session, user=g.user, obj=obj),
        can_request=may_request(access), can_budget=access.can(Permission.budget),
        can_manage=access.can(Permission.manage),
        decidable={change.id for change in changes.items if may_decide(access, change)},
        request_form=ChangeRequestForm(), decision_form=DecisionForm(),
        budget_form=OriginalBudgetForm(data={"original_budget": obj.original_budget}),
        plan_chart=_plan_chart(plan), budget_bar=_budget_bar(figures), cost_bar=_cost_bar(figures),
        plan_year=(year := _plan_year(plan)), plan_edit=_plan_edit_rows(plan, year), action_form=ActionForm(),
        expenses=expenses,
    )


EXPENSES_SHOWN = 20


def _expenses(session, project: Project) -> dict:
    """The project's latest expenses from accounting, how many there are and their sum."""
    query = expense_services.project_expenses(session, user=g.user, project=project)
    return {"items": list(session.scalars(query.limit(EXPENSES_SHOWN))),
            "count": session.scalar(select(func.count()).select_from(query.order_by(None).subquery())),
            "total": expenses_total(session, project_id=project.id)}


def _plan_year(plan: budgets.SpendingPlan) -> int:
    """The year the plan editor shows: asked for, else the plan's first, else this one."""
    asked = request.args.get("year", type=int)
    if asked and 1900 <= asked <= 2999:
        return asked
    return plan.months[0].month.year if plan.months else date.today().year


def _plan_edit_rows(plan: budgets.SpendingPlan, year: int) -> list[tuple[date, Decimal | None]]:
    own = {line.month: line.amount for line in plan.months if line.amount}
    return [(date(year, m, 1), own.get(date(year, m, 1))) for m in range(1, 13)]


def _plan_chart(plan: budgets.SpendingPlan):
    if not plan.months:
        return None
    labels = [month(line.month, "LLL yy") for line in plan.months]
    series = [charts.Series(_("Plan"), [line.amount for line in plan.months], "bar-plan")]
    titles = [[f"{month(line.month)} · {_('Plan')}: {amount(line.amount)}" for line in plan.months]]
    if any(line.tally for line in plan.months):
        series.append(charts.Series(_("Children's tally"), [line.tally for line in plan.months], "bar-tally"))
        titles.append([f"{month(line.month)} · {_('Children')}: {amount(line.tally)}" for line in plan.months])
    return charts.bar_chart(labels, series, titles=titles)


def _budget_bar(figures: budgets.BudgetFigures):
    return charts.stacked_bar([
        (_("Distributed"), figures.distributed, "seg-distributed"),
        (_("Undistributed"), figures.undistributed, "seg-undistributed"),
    ], total=max(figures.current, figures.distributed))


def _cost_bar(figures: budgets.BudgetFigures):
    scale = max(figures.current, figures.planned_cost, figures.actual_cost)
    return {
        "actual": charts.stacked_bar([(_("Actual cost"), figures.actual_cost, "seg-actual")], total=scale),
        "planned": charts.stacked_bar([(_("Planned cost"), figures.planned_cost, "seg-planned")], total=scale),
        "current": charts.stacked_bar([(_("Current budget"), figures.current, "seg-current")], total=scale),
    }


@bp.route("/<any(nodes, projects):kind>/<int:obj_id>/plan.xlsx")
def plan_export(kind: str, obj_id: int):
    """The monthly spending plan beside the children's tally, as on the page."""
    obj = _load(kind, obj_id)
    plan = budgets.spending_plan(db.session, obj=obj)
    rows = [[line.month, line.amount, line.tally, line.amount - line.tally] for line in plan.months]
    rows.append([_("Total"), plan.total, plan.tally_total, plan.total - plan.tally_total])
    content = xlsx.workbook(_("Spending plan"), [_("Month"), _("Plan"), _("Children's tally"), _("Difference")],
                            rows, money_columns=(1, 2, 3))
    return xlsx.download(content, f"spending-plan-{obj.code}.xlsx")


@bp.route("/<any(nodes, projects):kind>/<int:obj_id>/budget", methods=["POST"])
def set_original(kind: str, obj_id: int):
    """Set the original budget (budget rights; the service checks the rights and the parent's room)."""
    obj = _load(kind, obj_id)
    form = check(OriginalBudgetForm())
    budgets.set_original(db.session, actor=g.user, obj=obj, amount=form.original_budget.data)
    flash(_("The original budget was set."), "info")
    return redirect(url_for("finance.detail", kind=kind, obj_id=obj.id), code=303)


@bp.route("/<any(nodes, projects):kind>/<int:obj_id>/plan", methods=["POST"])
def set_plan(kind: str, obj_id: int):
    """Replace one year of the monthly plan (budget rights; the service checks); other years stay as they are."""
    obj = _load(kind, obj_id)
    check(ActionForm())
    year = request.form.get("year", type=int)
    if year is None or not 1900 <= year <= 2999:
        raise Invalid(_("Choose a year."), errors={"year": ["required"]})
    entries = {line.month: line.amount for line in budgets.spending_plan(db.session, obj=obj).months
               if line.amount and line.month.year != year}
    wrong = []
    for m in range(1, 13):
        text = request.form.get(f"m{m}", "").strip()
        if not text:
            continue
        value = parse_amount(text)
        if value is None or value < 0 or value >= MONEY_LIMIT or value != value.quantize(Decimal("0.01")):
            wrong.append(month(date(year, m, 1), "LLLL"))
        elif value:
            entries[date(year, m, 1)] = value.quantize(Decimal("0.01"))
    if wrong:
        raise Invalid(_("Not valid amounts for: %(months)s.", months=", ".join(wrong)), errors={"months": wrong})
    budgets.set_spending_plan(db.session, actor=g.user, obj=obj, entries=entries)
    flash(_("The spending plan for %(year)s was saved.", year=year), "info")
    return redirect(url_for("finance.detail", kind=kind, obj_id=obj.id, year=year, _anchor="plan"), code=303)


# Budget change requests


@bp.route("/<any(nodes, projects):kind>/<int:obj_id>/changes", methods=["POST"])
def request_change(kind: str, obj_id: int):
    """Log a pending budget change (budget or manage rights; the service checks)."""
    obj = _load(kind, obj_id)
    form = check(ChangeRequestForm())
    budgets.request_change(db.session, actor=g.user, obj=obj, amount=form.amount.data,
                           reason=form.reason.data.strip())
    flash(_("The budget change was requested; it waits for a decision."), "info")
    return redirect(url_for("finance.detail", kind=kind, obj_id=obj.id), code=303)


@bp.route("/changes/<int:change_id>/<any(approve, reject):decision>", methods=["POST"])
def decide(change_id: int, decision: str):
    """Approve or reject a pending change (budget rights; never one's own request under the four-eyes rule)."""
    change = budgets.get_change_or_raise(db.session, user=g.user, change_id=change_id)
    form = check(DecisionForm())
    note = (form.note.data or "").strip()
    if decision == "approve":
        budgets.approve_change(db.session, actor=g.user, change=change, note=note, four_eyes=_four_eyes())
        message = _("Budget change %(id)s approved.", id=change.id)
    else:
        budgets.reject_change(db.session, actor=g.user, change=change, note=note, four_eyes=_four_eyes())
        message = _("Budget change %(id)s rejected.", id=change.id)
    flash(message, "info")
    target = change.target
    return redirect(safe_next() if request.values.get("next") else
                    url_for("finance.detail", kind=_kind_of(target), obj_id=target.id), code=303)


def _changes_query(status_name: str):
    status = ChangeStatus(status_name) if status_name in ChangeStatus.__members__ else None
    return budgets.list_changes(db.session, user=g.user, status=status)


EXPORT_LIMIT = 10_000


@bp.route("/changes.xlsx")
def changes_export():
    """The budget changes of the list on screen (same status filter), every page of it."""
    status_name = request.args.get("status", "pending")
    changes_ = db.session.scalars(_changes_query(status_name).limit(EXPORT_LIMIT)).all()
    statuses = {"pending": _("pending"), "approved": _("approved"), "rejected": _("rejected")}
    headings = [_("Code"), _("Name"), _("Requested"), _("Amount"), _("Reason"), _("Requested by"), _("Status"),
                _("Decision"), _("Note")]
    rows = [[change.target.code, change.target.name, change.requested_at, change.amount, change.reason,
             change.requested_by.name if change.requested_by else "", statuses[change.status.value],
             change.decided_by.name if change.decided_by else "", change.decision_note] for change in changes_]
    content = xlsx.workbook(_("Budget changes"), headings, rows, money_columns=(3,))
    return xlsx.download(content, f"budget-changes-{status_name}.xlsx")


@bp.route("/changes")
def changes():
    """Budget changes on everything the user may read; pending ones first by default (the finance inbox)."""
    status_name = request.args.get("status", "pending")
    session = db.session
    page = paginate(session, _changes_query(status_name), args={"status": status_name})
    accesses = {}
    decidable = set()
    for change in page.items:
        target = change.target
        key = (target.kind, target.id)
        if key not in accesses:
            accesses[key] = access_to(session, user=g.user, obj=target)
        if may_decide(accesses[key], change):
            decidable.add(change.id)
    return render_template("finance/changes.html", page=page, status=status_name, decidable=decidable,
                           decision_form=DecisionForm(), statuses=[s.value for s in ChangeStatus],
                           kind_of=_kind_of, action_form=ActionForm())

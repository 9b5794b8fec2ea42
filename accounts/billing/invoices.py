"""Invoices for payment (счёт на оплату): drafts, lines and totals, numbering, issue, cancel, the act date.

Rules kept here, and only here:

* **Amounts.** Prices and line amounts are *without* VAT (VAT is charged on top, as 1C and Russian invoices
  print it: "Итого", "В том числе НДС" / "Сумма НДС", "Всего к оплате"). A line's amount is quantity × unit price
  rounded to the kopeck; its VAT is the line amount × rate / 100 rounded to the kopeck; both ROUND_HALF_UP.
  The invoice's subtotal is the sum of the line amounts, its VAT the sum of the lines' VAT, its total the two
  added. The rate is the one in force on the issue date (``accounts.billing.vat.rate_on``; a draft carries the
  rate of the day it was last changed and takes the issue date's rate when issued).
* **Currency.** The installation's base currency; an invoice in another currency is refused for now.
* **Numbers.** Given at issue, per year of the issue date, from ``invoice_counters``: an UPDATE … RETURNING of the
  year's row, which holds that row's lock until the transaction ends (PostgreSQL queues concurrent issues on
  it; SQLite's single writer serialises them), so a number is used only if its invoice's issue commits: no
  gaps, no duplicates. The year's first issue inserts the row in a savepoint; a concurrent first insert loses
  on the primary key and takes the UPDATE path.
* **Statuses.** draft → issued → partly_paid → paid (the paid amount and the status follow payments:
  ``accounts.billing.settle``), or cancelled. A draft may be changed or deleted; an issued invoice is cancelled
  with a reason, never deleted. An invoice with payments matched to it cannot be cancelled: unmatch the
  payments first (they return to the queue of unmatched payments, to be matched to a corrected invoice or
  refunded), then cancel. Cancelling or deleting frees the milestones the invoice billed.
* **Rights.** An invoice follows its project: read it if you may read the project; create, change, issue,
  cancel or set the act date with budget rights on it (the finance role; administrators).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import insert, select
from sqlalchemy import update as _update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crmpm import events
from crmpm.audit import services as audit
from crmpm.database import utcnow
from crmpm.errors import Conflict, Invalid, NotFound, Phrase
from crmpm.users.models import User
from eps.models import EpsNode, Project
from eps.permissions import Permission, authorize, visible

from accounts.billing.models import BillingMilestone, Invoice, InvoiceCounter, InvoiceLine, Payment
from accounts.billing.vat import rate_on
from accounts.models import Account, Deal
from accounts.services import get_account_or_raise

__all__ = [
    "LineInput", "cancel", "compute", "create_from_deal", "create_from_milestones", "create_manual", "delete",
    "get_invoice_or_raise", "issue", "line_amounts", "list_", "next_number", "set_act_date", "update",
]

KOPECK = Decimal("0.01")
QUANTITY = Decimal("0.001")
MONEY_LIMIT = Decimal("1e13")  # keeps every sum inside the Money column's digits
MAX_LINES = 500
BILLED = ("issued", "partly_paid", "paid")


@dataclass(frozen=True)
class LineInput:
    """A line as given: what, how many, at what price (without VAT)."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    unit: str = ""
    milestone_id: int | None = None


def line_amounts(quantity: Decimal, unit_price: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """A line's amount without VAT and its VAT, each rounded to the kopeck half up (the one rounding rule)."""
    amount = (Decimal(quantity) * Decimal(unit_price)).quantize(KOPECK, rounding=ROUND_HALF_UP)
    vat = (amount * Decimal(rate) / 100).quantize(KOPECK, rounding=ROUND_HALF_UP)
    return amount, vat


def compute(invoice: Invoice, rate: Decimal) -> Invoice:
    """Set ``rate`` on the invoice and recompute every line's amount and VAT and the invoice's totals."""
    invoice.vat_rate = rate
    subtotal = vat = Decimal("0.00")
    for line in invoice.lines:
        line.amount, line.vat_amount = line_amounts(line.quantity, line.unit_price, rate)
        subtotal += line.amount
        vat += line.vat_amount
    invoice.subtotal, invoice.vat_amount, invoice.total = subtotal, vat, subtotal + vat
    if invoice.total >= MONEY_LIMIT:
        raise Invalid("the invoice's total is too large", errors={"lines": ["total too large"]})
    return invoice


# Reading


def get_invoice_or_raise(session: Session, *, user: User, invoice_id: int,
                         permission: Permission = Permission.read) -> Invoice:
    """The invoice, if ``user`` has ``permission`` on its project; NotFound when absent or unreadable."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound("invoice {invoice_id} not found", invoice_id=invoice_id)
    project = session.get(Project, invoice.project_id)
    try:
        authorize(session, user=user, obj=project, permission=Permission.read)
    except NotFound:
        raise NotFound("invoice {invoice_id} not found", invoice_id=invoice_id) from None
    if permission is not Permission.read:
        _authorize_budget(session, user=user, project=project)
    return invoice


def list_(session: Session, *, user: User, status: str | None = None, project_id: int | None = None,
          deal_id: int | None = None, account_id: int | None = None, eps_node_id: int | None = None):
    """A select of the invoices ``user`` may read (through their projects), newest first, filtered.

    A filter naming a project, deal, account or node the user may not read finds nothing (never says it exists).
    """
    query = select(Invoice).join(Project, Project.id == Invoice.project_id)
    condition = visible(session, user=user, model=Project)
    if condition is not None:
        query = query.where(condition)
    if status:
        query = query.where(Invoice.status == status)
    if project_id is not None:
        query = query.where(Invoice.project_id == project_id)
    if deal_id is not None:
        query = query.where(Invoice.deal_id == deal_id)
    if account_id is not None:
        query = query.where(Invoice.account_id == account_id)
    if eps_node_id is not None:
        node = session.get(EpsNode, eps_node_id)
        query = query.where(Project.path.like(f"{node.path}%") if node is not None else Invoice.id.is_(None))
    return query.order_by(Invoice.id.desc())


# Creating drafts


def _authorize_budget(session: Session, *, user: User, project: Project) -> None:
    authorize(session, user=user, obj=project, permission=Permission.budget)


def _check_currency(currency: str, base_currency: str) -> None:
    if currency != base_currency:
        raise Invalid("invoices are in the base currency {currency} only", currency=base_currency,
                      errors={"currency": [f"must be {base_currency}"]})


def _check_due(due_date: date | None, today: date) -> None:
    if due_date is not None and not date(1900, 1, 1) <= due_date <= date(2999, 12, 31):
        raise Invalid("the due date is out of range", errors={"due_date": ["out of range"]})


def _new_draft(session: Session, *, actor: User, project: Project, account: Account, deal: Deal | None,
               source: str, lines: list[LineInput], base_currency: str, currency: str | None,
               due_date: date | None, note: str, today: date) -> Invoice:
    _check_currency(currency or base_currency, base_currency)
    _check_due(due_date, today)
    if not lines:
        raise Invalid("an invoice needs at least one line", errors={"lines": ["at least one line"]})
    if len(lines) > MAX_LINES:
        raise Invalid("an invoice has at most {limit} lines", limit=MAX_LINES, errors={"lines": ["too many"]})
    invoice = Invoice(status="draft", source=source, project_id=project.id, deal_id=deal.id if deal else None,
                      account_id=account.id, currency=base_currency, due_date=due_date, note=note or "",
                      created_by_id=actor.id)
    invoice.lines = [_line(position, line) for position, line in enumerate(lines, start=1)]
    compute(invoice, rate_on(session, today))
    session.add(invoice)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=invoice, after=invoice.audit_state())
    return invoice


def _line(position: int, line: LineInput) -> InvoiceLine:
    field = f"lines.{position - 1}"
    quantity = Decimal(line.quantity)
    price = Decimal(line.unit_price)
    if (not quantity.is_finite() or quantity <= 0 or quantity >= Decimal("1e9")
            or quantity != quantity.quantize(QUANTITY)):
        raise Invalid("line {position}: the quantity must be positive, at most three decimals",
                      position=position, errors={field: ["quantity"]})
    if not price.is_finite() or price < 0 or price >= MONEY_LIMIT or price != price.quantize(KOPECK):
        raise Invalid("line {position}: the price must be a non-negative amount in kopecks",
                      position=position, errors={field: ["unit_price"]})
    description = (line.description or "").strip()
    if not description or len(description) > 500:
        raise Invalid("line {position}: a description of 1 to 500 characters is needed",
                      position=position, errors={field: ["description"]})
    return InvoiceLine(position=position, description=description, unit=(line.unit or "").strip()[:20],
                       quantity=quantity, unit_price=price, amount=Decimal("0"), vat_amount=Decimal("0"),
                       milestone_id=line.milestone_id)


def create_from_deal(session: Session, *, actor: User, deal: Deal, base_currency: str, due_date: date | None = None,
                     note: str = "", today: date | None = None) -> Invoice:
    """A draft billing the deal's product lines to its account, on its project."""
    today = today or date.today()
    _authorize_budget(session, user=actor, project=deal.project)
    if deal.currency != base_currency:
        _check_currency(deal.currency, base_currency)
    lines = [LineInput(description=line.product, quantity=line.quantity, unit_price=line.unit_price)
             for line in deal.lines]
    if not lines:
        raise Invalid("the deal has no product lines to bill", errors={"deal_id": ["no product lines"]})
    return _new_draft(session, actor=actor, project=deal.project, account=deal.account, deal=deal, source="deal",
                      lines=lines, base_currency=base_currency, currency=None, due_date=due_date, note=note,
                      today=today)


def _account_of(session: Session, *, actor: User, project: Project,
                account_id: int | None) -> tuple[Account, Deal | None]:
    deal = session.scalar(select(Deal).where(Deal.project_id == project.id))
    if account_id is not None:
        return get_account_or_raise(session, user=actor, account_id=account_id, field="account_id"), deal
    if deal is None:
        raise Invalid("name the account to bill: the project has no deal", errors={"account_id": ["required"]})
    return deal.account, deal


def create_from_milestones(session: Session, *, actor: User, project: Project, milestone_ids: list[int],
                           base_currency: str, account_id: int | None = None, due_date: date | None = None,
                           note: str = "", today: date | None = None) -> Invoice:
    """A draft billing the project's chosen milestones (not yet billed), one line each, to the project's client."""
    today = today or date.today()
    _authorize_budget(session, user=actor, project=project)
    ids = list(dict.fromkeys(milestone_ids))
    if not ids:
        raise Invalid("choose the milestones to bill", errors={"milestone_ids": ["at least one"]})
    found = {m.id: m for m in session.scalars(
        select(BillingMilestone).where(BillingMilestone.id.in_(ids), BillingMilestone.project_id == project.id)
        .with_for_update())}
    missing = [i for i in ids if i not in found]
    if missing:
        raise Invalid("milestones {ids} are not the project's", ids=", ".join(map(str, missing)),
                      errors={"milestone_ids": [f"not found: {missing}"]})
    billed = [i for i in ids if found[i].invoice_id is not None]
    if billed:
        raise Conflict("milestones {ids} are billed already", ids=", ".join(map(str, billed)),
                       errors={"milestone_ids": [f"billed already: {billed}"]})
    account, deal = _account_of(session, actor=actor, project=project, account_id=account_id)
    lines = [LineInput(description=found[i].name, quantity=Decimal("1"), unit_price=found[i].amount,
                       milestone_id=i) for i in ids]
    invoice = _new_draft(session, actor=actor, project=project, account=account, deal=deal, source="milestones",
                         lines=lines, base_currency=base_currency, currency=None, due_date=due_date, note=note,
                         today=today)
    for i in ids:
        found[i].invoice_id = invoice.id
    session.flush()
    return invoice


def create_manual(session: Session, *, actor: User, project: Project, lines: list[LineInput], base_currency: str,
                  currency: str | None = None, account_id: int | None = None, due_date: date | None = None,
                  note: str = "", today: date | None = None) -> Invoice:
    """A draft with lines typed by hand, for the project's client (or the account named)."""
    today = today or date.today()
    _authorize_budget(session, user=actor, project=project)
    account, deal = _account_of(session, actor=actor, project=project, account_id=account_id)
    lines = [LineInput(description=line.description, quantity=line.quantity, unit_price=line.unit_price,
                       unit=line.unit) for line in lines]  # milestones are billed through their own path
    return _new_draft(session, actor=actor, project=project, account=account, deal=deal, source="manual",
                      lines=lines, base_currency=base_currency, currency=currency, due_date=due_date, note=note,
                      today=today)


# Changing a draft


def _require_status(invoice: Invoice, *allowed: str, refusal: Phrase) -> None:
    if invoice.status not in allowed:
        raise Conflict(refusal.template, invoice_id=invoice.id)


def update(session: Session, *, actor: User, invoice: Invoice, today: date | None = None, **changes) -> Invoice:
    """Change a draft's due date, note or (a manual draft's) lines; the totals are recomputed."""
    _authorize_budget(session, user=actor, project=session.get(Project, invoice.project_id))
    _require_status(invoice, "draft",
                    refusal=Phrase("invoice {invoice_id} is not a draft: only a draft is changed"))
    today = today or date.today()
    before = invoice.audit_state()
    if "due_date" in changes:
        _check_due(changes["due_date"], today)
        invoice.due_date = changes["due_date"]
    if "note" in changes:
        invoice.note = changes["note"] or ""
    if "lines" in changes:
        if invoice.source != "manual":
            raise Conflict("the lines of an invoice from a deal or milestones are not changed by hand",
                           errors={"lines": ["not a manual invoice"]})
        lines = changes["lines"]
        if not lines or len(lines) > MAX_LINES:
            raise Invalid("an invoice needs at least one line", errors={"lines": ["1 to 500 lines"]})
        invoice.lines = [_line(position, LineInput(description=line.description, quantity=line.quantity,
                                                   unit_price=line.unit_price, unit=line.unit))
                         for position, line in enumerate(lines, start=1)]
    compute(invoice, rate_on(session, today))
    session.flush()
    audit.record(session, actor=actor, action="update", entity=invoice, before=before, after=invoice.audit_state())
    return invoice


def _free_milestones(session: Session, invoice: Invoice) -> None:
    session.execute(_update(BillingMilestone).where(BillingMilestone.invoice_id == invoice.id)
                    .values(invoice_id=None).execution_options(synchronize_session="fetch"))


def delete(session: Session, *, actor: User, invoice: Invoice) -> None:
    """Delete a draft (an issued invoice is cancelled instead); its milestones are free to bill again."""
    _authorize_budget(session, user=actor, project=session.get(Project, invoice.project_id))
    _require_status(invoice, "draft",
                    refusal=Phrase("invoice {invoice_id} is not a draft: an issued invoice is cancelled, not deleted"))
    audit.record(session, actor=actor, action="delete", entity=invoice, before=invoice.audit_state())
    _free_milestones(session, invoice)
    session.delete(invoice)
    session.flush()


# Issuing, cancelling, the act


def next_number(session: Session, year: int) -> int:
    """The next number of ``year``, taken under the year's counter row lock (held until the transaction ends)."""
    bump = (_update(InvoiceCounter).where(InvoiceCounter.year == year)
            .values(last_number=InvoiceCounter.last_number + 1).returning(InvoiceCounter.last_number))
    for _attempt in range(3):
        number = session.scalar(bump)
        if number is not None:
            return number
        try:
            with session.begin_nested():
                session.execute(insert(InvoiceCounter).values(year=year, last_number=1))
            return 1
        except IntegrityError:
            continue  # another transaction made the year's row first: take the next number from it
    raise Conflict("the invoice counter of {year} is busy; try again", year=year)


def issue(session: Session, *, actor: User, invoice: Invoice, issue_date: date | None = None,
          due_date: date | None = None) -> Invoice:
    """Issue a draft: the issue date's VAT rate, the next number of its year; records ``invoice.issued``."""
    _authorize_budget(session, user=actor, project=session.get(Project, invoice.project_id))
    _require_status(invoice, "draft",
                    refusal=Phrase("invoice {invoice_id} is not a draft: it is issued once"))
    issue_date = issue_date or date.today()
    if not date(1900, 1, 1) <= issue_date <= date(2999, 12, 31):
        raise Invalid("the issue date is out of range", errors={"issue_date": ["out of range"]})
    if due_date is not None:
        invoice.due_date = due_date
    if invoice.due_date is not None and invoice.due_date < issue_date:
        raise Invalid("the due date is before the issue date", errors={"due_date": ["before the issue date"]})
    before = invoice.audit_state()
    compute(invoice, rate_on(session, issue_date))
    invoice.year = issue_date.year
    invoice.number = next_number(session, issue_date.year)
    invoice.issue_date = issue_date
    invoice.status = "issued"
    invoice.issued_at = utcnow()
    session.flush()
    audit.record(session, actor=actor, action="issue", entity=invoice, before=before, after=invoice.audit_state())
    events.record(session, "invoice.issued", invoice, {
        "number": invoice.number, "year": invoice.year, "issue_date": invoice.issue_date,
        "due_date": invoice.due_date, "project_id": invoice.project_id, "deal_id": invoice.deal_id,
        "account_id": invoice.account_id, "currency": invoice.currency, "subtotal": invoice.subtotal,
        "vat_rate": invoice.vat_rate, "vat_amount": invoice.vat_amount, "total": invoice.total}, actor=actor)
    return invoice


def cancel(session: Session, *, actor: User, invoice: Invoice, reason: str) -> Invoice:
    """Cancel an issued invoice with a reason; refused while payments are matched to it."""
    _authorize_budget(session, user=actor, project=session.get(Project, invoice.project_id))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("give the reason for cancelling", errors={"reason": ["required"]})
    if invoice.status == "draft":
        raise Conflict("a draft is deleted, not cancelled")
    _require_status(invoice, "issued", "partly_paid", "paid",
                    refusal=Phrase("invoice {invoice_id} is not issued: it cannot be cancelled"))
    matched = session.scalar(select(Payment.id).where(Payment.invoice_id == invoice.id).limit(1))
    if matched is not None:
        raise Conflict("invoice {invoice_id} has payments matched to it: unmatch them first (they return to the "
                       "unmatched payments), then cancel", invoice_id=invoice.id)
    before = invoice.audit_state()
    invoice.status = "cancelled"
    invoice.cancel_reason = reason[:2000]
    invoice.cancelled_at = utcnow()
    _free_milestones(session, invoice)
    session.flush()
    audit.record(session, actor=actor, action="cancel", entity=invoice, before=before, after=invoice.audit_state())
    events.record(session, "invoice.cancelled", invoice, {
        "number": invoice.number, "year": invoice.year, "project_id": invoice.project_id, "deal_id": invoice.deal_id,
        "account_id": invoice.account_id, "total": invoice.total, "reason": invoice.cancel_reason}, actor=actor)
    return invoice


def set_act_date(session: Session, *, actor: User, invoice: Invoice, act_date: date | None) -> Invoice:
    """Date the act of completed work for an issued invoice (None takes it back)."""
    _authorize_budget(session, user=actor, project=session.get(Project, invoice.project_id))
    _require_status(invoice, *BILLED,
                    refusal=Phrase("invoice {invoice_id} is not issued: an act is dated for an issued invoice only"))
    if act_date is not None and not date(1900, 1, 1) <= act_date <= date(2999, 12, 31):
        raise Invalid("the act date is out of range", errors={"act_date": ["out of range"]})
    before = invoice.audit_state()
    invoice.act_date = act_date
    session.flush()
    audit.record(session, actor=actor, action="act", entity=invoice, before=before, after=invoice.audit_state())
    return invoice

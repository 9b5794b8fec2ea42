"""What goes to accounting: the invoices and acts in a period (and an EPS node), as the caller may read them.

* For administrators and holders of a finance grant (Forbidden otherwise), with what they may read.
* Invoices issued in the period (``issue_date`` from..to inclusive), not drafts, not cancelled; acts dated in
  the period (``act_date``). Within ``eps_node`` when given (read rights on it, else NotFound) and only
  projects the caller may read (``eps.permissions.visible``).
* ``since``: only what changed since then (issued, paid, a payment recorded, the act dated, or the
  counterparty's details changed), for an incremental exchange; ids are stable, so 1C updates what it has.
* Every export is recorded (``AccountingRun``, direction "out", what "commerceml") with its counts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from crmpm.database import utcnow
from crmpm.errors import Forbidden, Invalid, NotFound
from crmpm.users.models import User
from eps.models import EpsNode, Project
from eps.permissions import Permission, authorize, visible
from wbs.expenses import services as expenses

from accounts.accounting import commerceml
from accounts.accounting.models import AccountingRun
from accounts.billing.models import Invoice, Payment
from accounts.models import Account

EXPORTED_STATUSES = ("issued", "partly_paid", "paid")
MAX_DAYS = 3 * 366
# An export of more documents than this is written by a job (``accounting.export``) when asked through the API.
LARGE = 2000


@dataclass(frozen=True)
class Scope:
    date_from: date
    date_to: date
    eps_node_id: int | None = None
    since: datetime | None = None

    def params(self) -> dict:
        return {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(), "eps_node_id": self.eps_node_id,
                "since": self.since.isoformat() if self.since else None}


def check_scope(date_from: date | None, date_to: date | None, eps_node_id: int | None = None,
                since: datetime | None = None) -> Scope:
    """The period checked: both ends, in order, at most three years."""
    errors = {}
    if date_from is None:
        errors["from"] = ["required"]
    if date_to is None:
        errors["to"] = ["required"]
    if errors:
        raise Invalid("a period is needed: from and to", errors=errors)
    if date_to < date_from:
        raise Invalid("to: the period ends before it begins", errors={"to": ["before from"]})
    if (date_to - date_from).days > MAX_DAYS:
        raise Invalid("to: a period of at most three years is exported at once", errors={"to": ["period too long"]})
    if since is not None and since.tzinfo is None:
        raise Invalid("since: a time with its zone is needed", errors={"since": ["no time zone"]})
    return Scope(date_from, date_to, eps_node_id, since)


def _selection(session: Session, *, actor: User, scope: Scope):
    condition = [visible(session, user=actor, model=Project), Invoice.status.in_(EXPORTED_STATUSES)]
    if scope.eps_node_id is not None:
        node = session.get(EpsNode, scope.eps_node_id)
        try:
            if node is None:
                raise NotFound("no such EPS node")
            authorize(session, user=actor, obj=node, permission=Permission.read)
        except NotFound:
            raise NotFound("EPS node {id} not found", id=scope.eps_node_id,
                           errors={"eps_node_id": ["not found"]}) from None
        condition.append(Project.path.like(f"{node.path}%"))
    if not expenses.may_keep_books(session, user=actor):
        raise Forbidden("the exchange with accounting is for administrators and the finance role")
    base = select(Invoice).join(Project, Project.id == Invoice.project_id).where(*condition)
    invoices = base.where(Invoice.issue_date >= scope.date_from, Invoice.issue_date <= scope.date_to)
    acts = base.where(Invoice.act_date.is_not(None), Invoice.act_date >= scope.date_from,
                      Invoice.act_date <= scope.date_to)
    if scope.since is not None:
        since = scope.since
        paid_since = exists().where(Payment.invoice_id == Invoice.id,
                                    or_(Payment.created_at >= since, Payment.matched_at >= since))
        account_since = exists().where(Account.id == Invoice.account_id, Account.updated_at >= since)
        invoices = invoices.where(or_(Invoice.issued_at >= since, Invoice.paid_at >= since, paid_since,
                                      account_since))
        acts = acts.where(or_(Invoice.act_date >= since.date(), account_since))
    return invoices, acts


def count_documents(session: Session, *, actor: User, scope: Scope) -> int:
    """How many documents an export of ``scope`` would hold (to decide whether a job writes it)."""
    invoices, acts = _selection(session, actor=actor, scope=scope)
    return sum(session.scalar(select(func.count()).select_from(query.subquery())) for query in (invoices, acts))


def _bills(session: Session, query) -> list[commerceml.Bill]:
    rows = session.scalars(query.options(selectinload(Invoice.lines)).order_by(Invoice.id)).all()
    accounts = {account.id: account for account in session.scalars(
        select(Account).where(Account.id.in_({invoice.account_id for invoice in rows})))} if rows else {}
    codes = dict(session.execute(select(Project.id, Project.code).where(
        Project.id.in_({invoice.project_id for invoice in rows}))).all()) if rows else {}
    result = []
    for invoice in rows:
        account = accounts[invoice.account_id]
        party = commerceml.Party(id=account.id, name=account.name, inn=account.tax_id or "", kpp=account.kpp,
                                 legal_address=account.legal_address, bank_name=account.bank_name,
                                 bank_bik=account.bank_bik, bank_account=account.bank_account,
                                 bank_corr_account=account.bank_corr_account)
        lines = tuple(commerceml.Line(id=line.id, description=line.description, unit=line.unit,
                                      quantity=line.quantity, unit_price=line.unit_price, amount=line.amount,
                                      vat_amount=line.vat_amount) for line in invoice.lines)
        result.append(commerceml.Bill(
            id=invoice.id, number=invoice.number_text, issue_date=invoice.issue_date, act_date=invoice.act_date,
            due_date=invoice.due_date, status=invoice.status, currency=invoice.currency, vat_rate=invoice.vat_rate,
            subtotal=invoice.subtotal, vat_amount=invoice.vat_amount, total=invoice.total,
            paid_amount=invoice.paid_amount, project_code=codes[invoice.project_id], note=invoice.note,
            party=party, lines=lines))
    return result


def export_commerceml(session: Session, *, actor: User, scope: Scope,
                      job_id: int | None = None) -> tuple[bytes, AccountingRun]:
    """The CommerceML file of ``scope`` as ``actor`` may read it, and the run recording it."""
    invoices_query, acts_query = _selection(session, actor=actor, scope=scope)
    invoices, acts = _bills(session, invoices_query), _bills(session, acts_query)
    made_at = utcnow()
    data = commerceml.write(invoices, acts=acts, made_at=made_at)
    parties = {bill.party.id for bill in (*invoices, *acts)}
    run = AccountingRun(direction="out", what="commerceml", file_name=file_name(scope),
                        sha256=hashlib.sha256(data).hexdigest(), status="succeeded", rows=len(invoices) + len(acts),
                        applied=len(invoices) + len(acts), actor_id=actor.id, job_id=job_id, finished_at=made_at,
                        report={**scope.params(), "invoices": len(invoices), "acts": len(acts),
                                "counterparties": len(parties), "size": len(data)})
    session.add(run)
    session.flush()
    return data, run


def file_name(scope: Scope) -> str:
    return f"crmpm-1c-{scope.date_from:%Y%m%d}-{scope.date_to:%Y%m%d}.xml"

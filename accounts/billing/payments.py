"""Payments: recorded by hand or imported from a bank statement, matched to invoices automatically or by a person.

The rules (decision 0016):

* **Rights.** Importing a statement, reading statements and the queue of unmatched payments: administrators and
  whoever holds a finance grant (``Permission.budget``) anywhere (:func:`handles_payments`). A matched payment is
  read with its invoice's project. Matching, unmatching, and recording a payment against an invoice:
  ``Permission.budget`` on the invoice's project.
* **Which documents are payments.** A statement's documents whose payee account is ours (the company's
  ``CompanyDetails.bank_account`` and every account the statement itself is of, its ``РасчСчет``) are incoming
  payments; the others (outgoing, or between accounts not ours) are counted as ``skipped``, never dropped silently.
* **Once only.** A statement payment's ``dedup_key`` (``statement_format.dedup_key``: number, date, amount,
  payer's account, purpose) is unique in the table; payments are written with ``INSERT … ON CONFLICT DO NOTHING``,
  so a payment already there — from an earlier import, earlier in the same file, or from an import running at the
  same moment — is counted as a duplicate and recorded once.
* **Automatic matching** (:class:`Matcher`), in file order, only to RUB invoices that are issued or partly paid:
  1. *by number*: the purpose names an invoice ("Оплата по счету № 17 от 05.12.2026", "сч.17", "счёт №17"; the
     year is the one of the date written after it, else the payment's year or the year before), the payer's INN is
     that invoice's account's ``tax_id``, and the amount is at most what is still owed. A smaller amount is a
     partial payment (the invoice becomes partly paid); a larger one (an overpayment) is never matched
     automatically: it waits for a person, who may match it (the invoice becomes paid, its paid amount above its
     total).
  2. otherwise *by INN and amount*: the payer's INN and exactly what is still owed, when exactly one invoice fits.
  3. otherwise unmatched, for a person (:func:`match_payment`).
* After every match and unmatch, ``accounts.billing.settle`` sets the invoice's paid amount and status.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Column, MetaData, Table, and_, false, or_, select, true
from sqlalchemy.orm import Session

from accounts.billing import invoices as invoicing
from accounts.billing import settle as settling
from accounts.billing.models import BankStatement, CompanyDetails, Invoice, Payment
from accounts.billing.statement_format import INCOMING, StatementError, dedup_key, direction, read_statement
from accounts.models import Account
from crmpm import audit, events
from crmpm.database import bulk_insert, utcnow
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound, Phrase
from crmpm.users.models import User
from eps.models import Project
from eps.permissions import Permission, keeps_books, visible

__all__ = ["STATEMENT_CURRENCY", "handles_payments", "record_payment", "import_statement", "match_payment",
           "unmatch_payment", "suggest_invoice", "get_payment_or_raise", "get_statement_or_raise",
           "list_payments", "list_statements", "invoice_numbered", "readable_payment_ids", "invoice_refs", "Matcher", "report_of"]

STATEMENT_CURRENCY = "RUB"  # 1CClientBankExchange carries rouble accounts
CHUNK = 500  # ids or keys per IN (…) and rows per INSERT: within SQLite's bound variables
OPEN_STATUSES = ("issued", "partly_paid")  # what automatic matching pays; a person may also add to a paid one
# "счет", "счёт", "счету", "сч.", "сч", "invoice", then an optional "на оплату", "№"/"N"/"#", the number and
# an optional "от dd.mm.yyyy". A bank account (20 digits, "р/сч 40702…") is never taken for an invoice number.
_INVOICE_REF = re.compile(
    r"(?<![0-9a-zа-яё])(?:сч[её]т[а-яё]*|сч\.?|invoice|inv\.?)\s*(?:на\s+оплату\s*)?(?:№|n|no\.?|#)?\s*"
    r"(\d{1,9})(?![\d.,]\d)(?!\d)(?:\s*(?:от|of|dd)?\s*(\d{2})[./-](\d{2})[./-](\d{4}|\d{2})(?!\d))?",
    re.IGNORECASE)


# -- rights -----------------------------------------------------------------------------------------------------

def handles_payments(session: Session, *, user: User) -> bool:
    """Whether ``user`` imports statements and sees the unmatched payments: an administrator or a finance grant."""
    return keeps_books(session, user=user)


def _require_handler(session: Session, user: User) -> None:
    if not handles_payments(session, user=user):
        raise Forbidden("finance rights are needed to handle bank statements and unmatched payments")


def readable_payment_ids(session: Session, *, user: User):
    """A SELECT of the ids of the payments ``user`` may read (unmatched: handlers; matched: the invoice's readers)."""
    return select(Payment.id).outerjoin(Invoice, Invoice.id == Payment.invoice_id).outerjoin(
        Project, Project.id == Invoice.project_id).where(_payment_visible(session, user))


def _payment_visible(session: Session, user: User):
    if user.is_admin:
        return true()
    unmatched = Payment.invoice_id.is_(None) if handles_payments(session, user=user) else false()
    return or_(unmatched, and_(Payment.invoice_id.is_not(None), visible(session, user=user, model=Project)))


def _invoice_or_raise(session: Session, *, user: User, invoice_id: int, permission: Permission,
                      field: str = "invoice_id") -> Invoice:
    """``accounts.billing.invoices.get_invoice_or_raise``, its refusal naming the request's field."""
    try:
        return invoicing.get_invoice_or_raise(session, user=user, invoice_id=invoice_id, permission=permission)
    except NotFound:
        raise NotFound("invoice {id} not found", id=invoice_id, errors={field: ["not found"]}) from None


def invoice_numbered(session: Session, *, user: User, year: int, number: int) -> Invoice:
    """The invoice numbered ``number`` in ``year`` (how people name one), if ``user`` may read it; else NotFound."""
    invoice_id = session.scalar(select(Invoice.id).where(Invoice.year == year, Invoice.number == number))
    if invoice_id is None:
        raise NotFound("invoice {number} of {year} not found", number=number, year=year,
                       errors={"number": ["not found"]})
    try:
        return _invoice_or_raise(session, user=user, invoice_id=invoice_id, permission=Permission.read,
                                 field="number")
    except NotFound:
        raise NotFound("invoice {number} of {year} not found", number=number, year=year,
                       errors={"number": ["not found"]}) from None


def get_payment_or_raise(session: Session, *, user: User, payment_id: int) -> Payment:
    """The payment, if ``user`` may read it; NotFound otherwise."""
    payment = session.scalar(select(Payment).where(Payment.id == payment_id,
                                                   Payment.id.in_(readable_payment_ids(session, user=user))))
    if payment is None:
        raise NotFound("payment {id} not found", id=payment_id)
    return payment


def get_statement_or_raise(session: Session, *, user: User, statement_id: int) -> BankStatement:
    """An imported statement (handlers only; NotFound for anyone else)."""
    statement = session.get(BankStatement, statement_id)
    if statement is None or not handles_payments(session, user=user):
        raise NotFound("bank statement {id} not found", id=statement_id)
    return statement


def list_payments(session: Session, *, user: User, matched: bool | None = None, statement_id: int | None = None):
    """A SELECT of the payments ``user`` may read, newest first; ``matched`` False: the queue to match."""
    query = select(Payment).outerjoin(Invoice, Invoice.id == Payment.invoice_id).outerjoin(
        Project, Project.id == Invoice.project_id).where(_payment_visible(session, user))
    if matched is True:
        query = query.where(Payment.invoice_id.is_not(None))
    elif matched is False:
        query = query.where(Payment.invoice_id.is_(None))
    if statement_id is not None:
        query = query.where(Payment.statement_id == statement_id)
    return query.order_by(Payment.paid_on.desc(), Payment.id.desc())


def list_statements(session: Session, *, user: User):
    """A SELECT of the imported statements, newest first (handlers only: an empty list for anyone else)."""
    query = select(BankStatement).order_by(BankStatement.id.desc())
    return query if handles_payments(session, user=user) else query.where(false())


# -- matching ---------------------------------------------------------------------------------------------------

def invoice_refs(purpose: str, paid_on: date) -> list[tuple[int, tuple[int, ...]]]:
    """The invoices a payment's purpose names: ``(number, years it may be of)`` in the order written."""
    refs = []
    for found in _INVOICE_REF.finditer(purpose or ""):
        number, year = int(found.group(1)), found.group(4)
        if number <= 0:
            continue
        if year:
            years = (int(year) + 2000 if len(year) == 2 else int(year),)
        else:
            years = (paid_on.year, paid_on.year - 1)
        refs.append((number, years))
    return refs


@dataclass
class _Candidate:
    id: int
    year: int | None
    number: int | None
    inn: str
    total: Decimal
    owed: Decimal  # what is still owed, lowered as this run matches payments to it


@dataclass
class Matcher:
    """The open RUB invoices of the payers' INNs, held in memory so a whole statement is matched in a few queries."""

    by_number: dict[tuple[int, int], list[_Candidate]] = field(default_factory=dict)
    by_inn: dict[str, list[_Candidate]] = field(default_factory=dict)

    @classmethod
    def for_inns(cls, session: Session, inns: set[str]) -> Matcher:
        matcher = cls()
        wanted = sorted(inn for inn in inns if inn)
        for start in range(0, len(wanted), CHUNK):
            rows = session.execute(
                select(Invoice.id, Invoice.year, Invoice.number, Account.tax_id, Invoice.total, Invoice.paid_amount)
                .join(Account, Account.id == Invoice.account_id)
                .where(Account.tax_id.in_(wanted[start:start + CHUNK]), Invoice.status.in_(OPEN_STATUSES),
                       Invoice.currency == STATEMENT_CURRENCY)
                .order_by(Invoice.id))
            for invoice_id, year, number, inn, total, paid in rows:
                candidate = _Candidate(invoice_id, year, number, inn.strip(), total, total - paid)
                matcher.by_inn.setdefault(candidate.inn, []).append(candidate)
                if number is not None and year is not None:
                    matcher.by_number.setdefault((year, number), []).append(candidate)
        return matcher

    def match(self, *, payer_inn: str, amount: Decimal, purpose: str, paid_on: date) -> tuple[int, str] | None:
        """``(invoice id, how)`` for a payment by the rules of the module's docstring, or None; counts it as paid."""
        inn = (payer_inn or "").strip()
        if not inn:
            return None
        found: dict[int, _Candidate] = {}
        for number, years in invoice_refs(purpose, paid_on):
            for year in years:
                for candidate in self.by_number.get((year, number), ()):
                    if candidate.inn == inn and Decimal(0) < amount <= candidate.owed:
                        found[candidate.id] = candidate
        how = "number"
        if len(found) != 1:
            exact = [candidate for candidate in self.by_inn.get(inn, ()) if candidate.owed == amount]
            found, how = ({exact[0].id: exact[0]}, "inn_amount") if len(exact) == 1 and not found else ({}, "")
        if len(found) != 1:
            return None
        candidate = next(iter(found.values()))
        candidate.owed -= amount
        return candidate.id, how


def suggest_invoice(session: Session, *, user: User, payment: Payment) -> Invoice | None:
    """The invoice the automatic rules would give ``payment`` now, if ``user`` may match to it (for the queue)."""
    matcher = Matcher.for_inns(session, {payment.payer_inn})
    found = matcher.match(payer_inn=payment.payer_inn, amount=payment.amount, purpose=payment.purpose,
                          paid_on=payment.paid_on)
    if found is None:
        return None
    try:
        return _invoice_or_raise(session, user=user, invoice_id=found[0], permission=Permission.budget)
    except (NotFound, Forbidden):
        return None


# -- by hand ----------------------------------------------------------------------------------------------------

def _payable(invoice: Invoice) -> None:
    if invoice.status not in settling.PAYABLE:
        raise Invalid("invoice {id} is {status}: only an issued invoice takes payments", id=invoice.id,
                      status=invoice.status, errors={"invoice_id": [f"is {invoice.status}"]})


def _same_currency(payment_currency: str, invoice: Invoice) -> None:
    if payment_currency != invoice.currency:
        raise Invalid("the payment is in {currency} and the invoice in {invoice_currency}",
                      currency=payment_currency, invoice_currency=invoice.currency,
                      errors={"invoice_id": [f"in {invoice.currency}, not {payment_currency}"]})


def _event_payload(payment: Payment) -> dict:
    return {"amount": payment.amount, "currency": payment.currency, "paid_on": payment.paid_on,
            "source": payment.source, "statement_id": payment.statement_id, "invoice_id": payment.invoice_id,
            "matched_how": payment.matched_how, "payer_inn": payment.payer_inn,
            "document_number": payment.document_number}


def record_payment(session: Session, *, actor: User, amount: Decimal, paid_on: date, currency: str | None = None,
                   invoice_id: int | None = None, payer_name: str = "", payer_inn: str = "", payer_account: str = "",
                   document_number: str = "", purpose: str = "") -> Payment:
    """Record money received by hand: to an invoice (budget rights on its project), else into the unmatched queue."""
    invoice = None
    if invoice_id is not None:
        invoice = _invoice_or_raise(session, user=actor, invoice_id=invoice_id, permission=Permission.budget)
        _payable(invoice)
        currency = currency or invoice.currency
        _same_currency(currency, invoice)
    else:
        _require_handler(session, actor)
        currency = currency or STATEMENT_CURRENCY
    if amount is None or amount <= 0:
        raise Invalid("the amount must be positive", errors={"amount": ["must be greater than 0"]})
    now = utcnow()
    payment = Payment(source="manual", amount=amount, currency=currency, paid_on=paid_on,
                      document_number=document_number, payer_name=payer_name, payer_inn=payer_inn.strip(),
                      payer_account=payer_account, purpose=purpose, created_by_id=actor.id,
                      invoice_id=invoice.id if invoice else None, matched_how="manual" if invoice else None,
                      matched_by_id=actor.id if invoice else None, matched_at=now if invoice else None)
    session.add(payment)
    session.flush()
    if invoice is not None:
        settling.settle(session, invoice)
    audit.record(session, actor=actor, action="create", entity=payment, after=payment.audit_state())
    events.record(session, "payment.recorded", payment, _event_payload(payment), actor=actor)
    return payment


def match_payment(session: Session, *, actor: User, payment: Payment, invoice_id: int) -> Payment:
    """Match an unmatched payment to an invoice (budget rights on the invoice's project); the invoice settles."""
    invoice = _invoice_or_raise(session, user=actor, invoice_id=invoice_id, permission=Permission.budget)
    if payment.invoice_id is not None:
        raise Conflict("payment {id} is matched already: unmatch it first", id=payment.id,
                       errors={"invoice_id": ["the payment is matched already"]})
    _payable(invoice)
    _same_currency(payment.currency, invoice)
    before = payment.audit_state()
    payment.invoice_id, payment.matched_how = invoice.id, "manual"
    payment.matched_by_id, payment.matched_at = actor.id, utcnow()
    settling.settle(session, invoice)
    audit.record(session, actor=actor, action="match", entity=payment, before=before, after=payment.audit_state())
    return payment


def unmatch_payment(session: Session, *, actor: User, payment: Payment) -> Payment:
    """Take a payment off its invoice (budget rights on the invoice's project): back in the unmatched queue."""
    if payment.invoice_id is None:
        raise Conflict("payment {id} is not matched", id=payment.id)
    invoice = _invoice_or_raise(session, user=actor, invoice_id=payment.invoice_id, permission=Permission.budget)
    before = payment.audit_state()
    payment.invoice_id = payment.matched_how = payment.matched_by_id = payment.matched_at = None
    settling.settle(session, invoice)
    audit.record(session, actor=actor, action="unmatch", entity=payment, before=before, after=payment.audit_state())
    return payment


# -- statements -------------------------------------------------------------------------------------------------

def _our_accounts(session: Session, statement_accounts: list[str]) -> set[str]:
    details = session.scalar(select(CompanyDetails).order_by(CompanyDetails.id).limit(1))
    ours = {account for account in statement_accounts if account}
    if details is not None and details.bank_account:
        ours.add(details.bank_account.strip())
    return ours


def _insert_new(session: Session, rows: list[dict]) -> dict[str, int]:
    """Insert the payments whose ``dedup_key`` is not taken; ``{key: id}`` of those written (the rest raced in).

    ``INSERT … ON CONFLICT (dedup_key) DO NOTHING RETURNING``: the unique index decides, so a payment another
    import wrote first (committed, or waited for while its transaction ends) is simply not returned. PostgreSQL
    gets the rows by COPY into a temporary table first (``crmpm.database.bulk_insert``), then one INSERT … SELECT:
    sending 50,000 rows as parameters costs many times more. SQLite takes one executemany (batched by SQLAlchemy
    into multi-row INSERTs, compiled once).
    """
    written: dict[str, int] = {}
    if not rows:
        return written
    payments_table = Payment.__table__
    returning = (payments_table.c.dedup_key, payments_table.c.id)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        names = list(rows[0])
        staging = Table(f"payments_incoming_{uuid.uuid4().hex[:12]}", MetaData(),
                        *(Column(name, payments_table.c[name].type) for name in names), prefixes=["TEMPORARY"])
        staging.create(connection)
        try:
            bulk_insert(session, staging, rows)
            statement = (insert(payments_table).from_select(names, select(*staging.c))
                         .on_conflict_do_nothing(index_elements=["dedup_key"]).returning(*returning))
            written.update((key, payment_id) for key, payment_id in connection.execute(statement))
        finally:
            staging.drop(connection)
        return written
    from sqlalchemy.dialects.sqlite import insert

    statement = insert(payments_table).on_conflict_do_nothing(index_elements=["dedup_key"]).returning(*returning)
    for start in range(0, len(rows), 5000):
        written.update((key, payment_id) for key, payment_id in connection.execute(statement, rows[start:start + 5000]))
    return written


def import_statement(session: Session, *, actor: User, data: bytes, file_name: str, job_id: int | None = None,
                     progress: Callable[[float, str], None] | None = None) -> BankStatement:
    """Read a 1CClientBankExchange file and record its incoming payments once each, matched where the rules find
    their invoice; the statement row holds the counts. A file that cannot be read raises Invalid naming the line
    and records nothing."""
    _require_handler(session, actor)
    try:
        parsed = read_statement(data)
    except StatementError as exc:
        raise Invalid("the bank statement cannot be read: {reason}", reason=str(exc),
                      errors={"file": [str(exc)]}) from None
    ours = _our_accounts(session, parsed.accounts)
    if not ours:
        raise Invalid("the statement names no account of ours (РасчСчет) and the company's bank account is not set",
                      errors={"file": ["no РасчСчет"]})
    statement = BankStatement(file_name=(file_name or "statement.txt")[:255],
                              sha256=hashlib.sha256(data).hexdigest(),
                              bank_account=(parsed.accounts[0] if parsed.accounts else next(iter(ours)))[:20],
                              date_from=parsed.date_from, date_to=parsed.date_to, uploaded_by_id=actor.id,
                              job_id=job_id)
    session.add(statement)
    session.flush()
    incoming, seen = [], set()
    duplicates = skipped = 0
    for document in parsed.documents:
        if direction(document, ours) != INCOMING:
            skipped += 1
            continue
        key = dedup_key(document)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        incoming.append((key, document))
    if progress:
        progress(0.2, str(Phrase("matching payments")))
    keys = [key for key, _document in incoming]
    known: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        known.update(session.scalars(select(Payment.dedup_key).where(Payment.dedup_key.in_(keys[start:start + CHUNK]))))
    fresh = [(key, document) for key, document in incoming if key not in known]
    duplicates += len(incoming) - len(fresh)
    matcher = Matcher.for_inns(session, {document.payer_inn for _key, document in fresh})
    now = utcnow()
    rows = []
    for key, document in fresh:
        found = matcher.match(payer_inn=document.payer_inn, amount=document.amount, purpose=document.purpose,
                              paid_on=document.paid_on)
        rows.append({
            "source": "statement", "statement_id": statement.id, "dedup_key": key, "amount": document.amount,
            "currency": STATEMENT_CURRENCY, "paid_on": document.paid_on, "document_number": document.number[:40],
            "payer_name": document.payer_name[:300], "payer_inn": document.payer_inn[:12],
            "payer_account": document.payer_account[:20], "purpose": document.purpose[:2000],
            "invoice_id": found[0] if found else None, "matched_how": found[1] if found else None,
            "matched_by_id": None, "matched_at": now if found else None, "created_by_id": actor.id,
            "created_at": now})
    if progress:
        progress(0.5, str(Phrase("writing payments")))
    written = _insert_new(session, rows)
    duplicates += len(rows) - len(written)
    recorded = [row for row in rows if row["dedup_key"] in written]
    for row in recorded:
        row["id"] = written[row["dedup_key"]]
    touched = sorted({row["invoice_id"] for row in recorded if row["invoice_id"] is not None})
    invoices = []
    for start in range(0, len(touched), CHUNK):
        invoices.extend(session.scalars(select(Invoice).where(Invoice.id.in_(touched[start:start + CHUNK]))))
    settling.settle_many(session, invoices)
    statement.payments = len(parsed.documents) - skipped  # every incoming document, duplicates included
    statement.matched = sum(1 for row in recorded if row["invoice_id"] is not None)
    statement.unmatched = len(recorded) - statement.matched
    statement.duplicates = duplicates
    statement.skipped = skipped
    session.flush()
    audit.record(session, actor=actor, action="import", entity=statement, after=report_of(statement))
    audit.record_many(session, actor=actor, action="create", entity_type="payments", entries=[
        (row["id"], None, {"source": "statement", "amount": row["amount"], "paid_on": row["paid_on"],
                           "statement_id": statement.id, "invoice_id": row["invoice_id"],
                           "matched_how": row["matched_how"]}) for row in recorded])
    events.record_many(session, "payment.recorded", [
        (("payments", row["id"]), {"amount": row["amount"], "currency": row["currency"], "paid_on": row["paid_on"],
                                   "source": "statement", "statement_id": statement.id,
                                   "invoice_id": row["invoice_id"], "matched_how": row["matched_how"],
                                   "payer_inn": row["payer_inn"], "document_number": row["document_number"]})
        for row in recorded], actor=actor)
    return statement


def report_of(statement: BankStatement) -> dict:
    """The counts an import answers with (the API's, the command's and the page's)."""
    return {"statement_id": statement.id, "payments": statement.payments, "matched": statement.matched,
            "unmatched": statement.unmatched, "duplicates": statement.duplicates, "skipped": statement.skipped}

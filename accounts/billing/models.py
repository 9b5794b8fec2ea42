"""The seller's details, invoices with their lines, billing milestones, payments and bank statements.

* An invoice is billed to an account for a project (a deal's project, or a project's milestones); the
  project is its rights anchor. Statuses: ``draft`` → ``issued`` → ``partly_paid`` → ``paid``, or
  ``cancelled`` (an issued invoice is cancelled, never deleted; a draft may be deleted). A draft has no
  number: the number is given when the invoice is issued, from ``invoice_counters`` (one row per year,
  locked), so the numbers of a year have no gaps and no duplicates.
* Amounts are Decimal; ``subtotal`` (without VAT) + ``vat_amount`` = ``total``; ``paid_amount`` is the sum
  of the payments matched to it.
* A payment is money received: entered by hand or read from a bank statement; matched to one invoice, or
  not yet (``invoice_id`` null: listed for a person to match). ``dedup_key`` makes a statement's payment
  recorded once, however many times the statement is imported.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crmpm.database import Base, utcnow

INVOICE_STATUSES = ("draft", "issued", "partly_paid", "paid", "cancelled")
INVOICE_SOURCES = ("deal", "milestones", "manual")
PAYMENT_SOURCES = ("manual", "statement")
# How a payment found its invoice: by the invoice number in its purpose, by the payer's INN and the amount,
# or by a person.
MATCH_WAYS = ("number", "inn_amount", "manual")
NAME_LENGTH = 300
TEXT_LENGTH = 2000


class CompanyDetails(Base):
    """The seller's own details, printed on invoices and acts and used to read bank statements (one row)."""

    __tablename__ = "company_details"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    inn: Mapped[str] = mapped_column(String(12), default="")
    kpp: Mapped[str] = mapped_column(String(9), default="")
    ogrn: Mapped[str] = mapped_column(String(15), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    bank_name: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    bank_bik: Mapped[str] = mapped_column(String(9), default="")
    bank_account: Mapped[str] = mapped_column(String(20), default="")
    bank_corr_account: Mapped[str] = mapped_column(String(20), default="")
    director: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    accountant: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    # None: the VAT rate in force in Russia on the document's date (``accounts.billing.vat``).
    vat_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def audit_state(self) -> dict:
        return {"name": self.name, "inn": self.inn, "kpp": self.kpp, "ogrn": self.ogrn, "address": self.address,
                "bank_name": self.bank_name, "bank_bik": self.bank_bik, "bank_account": self.bank_account,
                "bank_corr_account": self.bank_corr_account, "director": self.director,
                "accountant": self.accountant, "vat_rate": self.vat_rate}


class InvoiceCounter(Base):
    """The last invoice number given in a year (locked while the next is given)."""

    __tablename__ = "invoice_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base):
    """An invoice for payment (счёт на оплату) to an account for a project's work or a deal's products."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("year", "number"),
        Index("ix_invoices_status", "status"),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int | None] = mapped_column(Integer)  # of the issue date; set with the number
    number: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    source: Mapped[str] = mapped_column(String(20), default="manual")
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    issue_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    subtotal: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    vat_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    paid_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    note: Mapped[str] = mapped_column(String(TEXT_LENGTH), default="")
    cancel_reason: Mapped[str] = mapped_column(String(TEXT_LENGTH), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # The act of completed work (акт выполненных работ) for the invoice's lines: its date once the work was
    # accepted; the act carries the invoice's number.
    act_date: Mapped[date | None] = mapped_column(Date)

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position")

    @property
    def number_text(self) -> str:
        """The number as printed ("17"), or "" for a draft."""
        return "" if self.number is None else str(self.number)

    def audit_state(self) -> dict:
        return {"year": self.year, "number": self.number, "status": self.status, "project_id": self.project_id,
                "deal_id": self.deal_id, "account_id": self.account_id, "currency": self.currency,
                "issue_date": self.issue_date, "due_date": self.due_date, "vat_rate": self.vat_rate,
                "subtotal": self.subtotal, "vat_amount": self.vat_amount, "total": self.total,
                "paid_amount": self.paid_amount, "note": self.note, "cancel_reason": self.cancel_reason,
                "act_date": self.act_date}


class InvoiceLine(Base):
    """A line of an invoice: a product of the deal, a milestone of the project, or typed by hand."""

    __tablename__ = "invoice_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    unit: Mapped[str] = mapped_column(String(20), default="")
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_price: Mapped[Decimal]
    amount: Mapped[Decimal]  # quantity × unit price, without VAT
    vat_amount: Mapped[Decimal]
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("billing_milestones.id", ondelete="SET NULL"))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class BillingMilestone(Base):
    """An amount of a project billed when a point of its plan is reached (milestone billing)."""

    __tablename__ = "billing_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    # The plan's milestone it follows (its dates and completion); None: billed on a date alone.
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    amount: Mapped[Decimal]  # without VAT
    planned_date: Mapped[date | None] = mapped_column(Date)
    # The invoice that bills it (not a cancelled one); None: not billed yet.
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def audit_state(self) -> dict:
        return {"project_id": self.project_id, "activity_id": self.activity_id, "name": self.name,
                "amount": self.amount, "planned_date": self.planned_date, "invoice_id": self.invoice_id}


class BankStatement(Base):
    """One imported bank statement file and what its import found."""

    __tablename__ = "bank_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    bank_account: Mapped[str] = mapped_column(String(20), default="")
    date_from: Mapped[date | None] = mapped_column(Date)
    date_to: Mapped[date | None] = mapped_column(Date)
    payments: Mapped[int] = mapped_column(Integer, default=0)  # incoming payments read
    matched: Mapped[int] = mapped_column(Integer, default=0)
    unmatched: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # outgoing and other documents, not payments to us
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    job_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(Base):
    """Money received from a payer: matched to an invoice, or waiting for a person to match it."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      Index("ix_payments_unmatched", "invoice_id", "paid_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20), default="manual")
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("bank_statements.id", ondelete="SET NULL"),
                                                     index=True)
    # A statement payment's identity (its document number, date, amount, payer's account and purpose,
    # hashed): the same payment in a second import is a duplicate, never a second payment.
    dedup_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    paid_on: Mapped[date] = mapped_column(Date)
    document_number: Mapped[str] = mapped_column(String(40), default="")
    payer_name: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    payer_inn: Mapped[str] = mapped_column(String(12), default="", index=True)
    payer_account: Mapped[str] = mapped_column(String(20), default="")
    purpose: Mapped[str] = mapped_column(String(TEXT_LENGTH), default="")
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    matched_how: Mapped[str | None] = mapped_column(String(20))
    matched_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    matched_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    invoice: Mapped[Invoice | None] = relationship()

    def audit_state(self) -> dict:
        return {"source": self.source, "amount": self.amount, "currency": self.currency, "paid_on": self.paid_on,
                "document_number": self.document_number, "payer_name": self.payer_name,
                "payer_inn": self.payer_inn, "invoice_id": self.invoice_id, "matched_how": self.matched_how}

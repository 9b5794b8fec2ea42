"""What a paperwork template is filled with: the one home of every placeholder's value.

The context is plain dictionaries of text (figures already formatted for the document's language), so a
template written by an administrator sees only these values, never the ORM objects:

* ``doc``: ``kind``, ``language``, ``title``, ``number`` (the invoice's number, else the deal's code),
  ``date`` (long, in the document's language), ``date_short``.
* ``seller`` (``CompanyDetails``) and ``buyer`` (the account: ``inn`` is ``Account.tax_id``): ``name``,
  ``inn``, ``kpp``, ``ogrn``, ``address``, ``bank_name``, ``bank_bik``, ``bank_account``,
  ``bank_corr_account``; the seller also ``director``, ``accountant``.
* ``deal``: ``name``, ``code``, ``amount``, ``currency``, ``expected_close``; ``project``: ``name``, ``code``.
* ``invoice``: ``number``, ``date``, ``due_date``, ``act_date`` (empty without an invoice).
* ``lines`` (a list): ``n``, ``name``, ``unit``, ``quantity``, ``price``, ``amount`` (without VAT), ``vat``.
* ``totals``: ``subtotal``, ``vat_rate`` ("22"), ``vat_label`` ("НДС 22 %" / "Без НДС"), ``vat``, ``total``,
  ``count``, ``currency`` ("руб."), ``words`` (the total in words, in the document's language).
* ``billing_milestones`` (``n``, ``name``, ``amount``, ``date``) and ``schedule_milestones`` (``n``,
  ``name``, ``date``): the project's.

The lines: an invoice's own lines, VAT and totals; otherwise the deal's products, or the project's billing
milestones when the deal has no products, or one line of the deal's amount; VAT at the rate in force on the
document's date (``vat_rate_on``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.billing import company
from accounts.billing.models import BillingMilestone, CompanyDetails, Invoice
from accounts.billing.vat import rate_on
from accounts.models import Account, Deal
from accounts.paperwork.render import Fields
from accounts.paperwork.words import amount_in_words, currency_short, long_date, money, quantity, short_date
from eps.models import Project
from wbs.models import Activity

KINDS = ("offer", "contract", "invoice", "act")
LANGUAGES = ("ru", "en")
CENT = Decimal("0.01")
MILESTONE_TYPES = ("start_milestone", "finish_milestone")

TITLES = {
    "ru": {"offer": "Коммерческое предложение", "contract": "Договор", "invoice": "Счёт на оплату",
           "act": "Акт выполненных работ"},
    "en": {"offer": "Commercial offer", "contract": "Contract", "invoice": "Invoice",
           "act": "Certificate of completed work"},
}
UNIT = {"ru": "шт.", "en": "pcs"}


def vat_rate_on(session: Session, day: date) -> Decimal:
    """The VAT rate (percent) on a day: ``accounts.billing.vat.rate_on``."""
    return rate_on(session, day)


@dataclass
class Sources:
    """The records a document is made from (the deal, project, invoice and account it names)."""

    deal: Deal | None
    project: Project
    invoice: Invoice | None
    account: Account | None


def sources(session: Session, *, deal: Deal | None = None, project: Project | None = None,
            invoice: Invoice | None = None) -> Sources:
    """Complete what was given: an invoice gives its deal, project and account; a deal its project and
    account; a project the deal it is, if it is one."""
    if invoice is not None:
        project = session.get(Project, invoice.project_id)
        deal = session.get(Deal, invoice.deal_id) if invoice.deal_id else None
        if deal is None:
            deal = session.scalars(select(Deal).where(Deal.project_id == invoice.project_id)).first()
        return Sources(deal, project, invoice, session.get(Account, invoice.account_id))
    if deal is not None:
        return Sources(deal, deal.project, None, deal.account)
    if project is None:
        raise ValueError("a deal, a project or an invoice is needed")
    deal = session.scalars(select(Deal).where(Deal.project_id == project.id)).first()
    return Sources(deal, project, None, deal.account if deal is not None else None)


def _party(values: dict, label: str) -> Fields:
    return Fields(label, {key: value or "" for key, value in values.items()})


def seller_fields(details: CompanyDetails | None) -> Fields:
    d = details or CompanyDetails()
    return _party({"name": d.name, "inn": d.inn, "kpp": d.kpp, "ogrn": d.ogrn, "address": d.address,
                   "bank_name": d.bank_name, "bank_bik": d.bank_bik, "bank_account": d.bank_account,
                   "bank_corr_account": d.bank_corr_account, "director": d.director,
                   "accountant": d.accountant}, "seller")


def buyer_fields(account: Account | None) -> Fields:
    a = account or Account(name="")
    return _party({"name": a.name, "inn": a.tax_id, "kpp": a.kpp, "ogrn": a.ogrn, "address": a.legal_address,
                   "bank_name": a.bank_name, "bank_bik": a.bank_bik, "bank_account": a.bank_account,
                   "bank_corr_account": a.bank_corr_account}, "buyer")


def _vat_of(amount: Decimal, rate: Decimal) -> Decimal:
    return (Decimal(amount) * Decimal(rate) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Line:
    name: str
    unit: str
    quantity: Decimal
    price: Decimal
    amount: Decimal
    vat: Decimal


def _lines(session: Session, src: Sources, rate: Decimal, language: str,
           billing: list[BillingMilestone]) -> tuple[list[Line], Decimal, Decimal, Decimal]:
    if src.invoice is not None:
        lines = [Line(line.description, line.unit, line.quantity, line.unit_price, line.amount, line.vat_amount)
                 for line in src.invoice.lines]
        return lines, src.invoice.subtotal, src.invoice.vat_amount, src.invoice.total
    if src.deal is not None and src.deal.lines:
        raw = [(line.product, UNIT[language], Decimal(line.quantity), Decimal(line.unit_price),
                (Decimal(line.quantity) * Decimal(line.unit_price)).quantize(CENT, rounding=ROUND_HALF_UP))
               for line in src.deal.lines]
    elif billing:
        raw = [(m.name, "", Decimal(1), Decimal(m.amount), Decimal(m.amount)) for m in billing]
    elif src.deal is not None:
        raw = [(src.deal.name, "", Decimal(1), Decimal(src.deal.amount), Decimal(src.deal.amount))]
    else:
        raw = []
    lines = [Line(name, unit, qty, price, amount, _vat_of(amount, rate)) for name, unit, qty, price, amount in raw]
    subtotal = sum((line.amount for line in lines), Decimal("0.00"))
    vat = sum((line.vat for line in lines), Decimal("0.00"))
    return lines, subtotal, vat, subtotal + vat


def _activity_day(activity: Activity) -> date | None:
    if activity.type == "start_milestone":
        moment = activity.actual_start or activity.early_start
    else:
        moment = activity.actual_finish or activity.early_finish
    return moment.date() if moment is not None else None


def _rate_text(rate: Decimal, language: str) -> str:
    text = format(Decimal(rate).normalize(), "f")
    return text.replace(".", ",") if language == "ru" else text


def build(session: Session, *, kind: str, language: str, deal: Deal | None = None, project: Project | None = None,
          invoice: Invoice | None = None, today: date) -> dict:
    """The context of one document (see the module's docstring for every name)."""
    src = sources(session, deal=deal, project=project, invoice=invoice)
    details = company.get(session)
    doc_day = today
    if src.invoice is not None:
        doc_day = (src.invoice.act_date if kind == "act" else src.invoice.issue_date) or today
    rate = Decimal(src.invoice.vat_rate) if src.invoice is not None else vat_rate_on(session, doc_day)
    currency = (src.invoice.currency if src.invoice is not None else src.deal.currency if src.deal is not None
                else "RUB")
    billing = list(session.scalars(select(BillingMilestone).where(BillingMilestone.project_id == src.project.id)
                                   .order_by(BillingMilestone.planned_date, BillingMilestone.id)))
    schedule = list(session.scalars(select(Activity).where(Activity.project_id == src.project.id,
                                                           Activity.type.in_(MILESTONE_TYPES))
                                    .order_by(Activity.early_finish, Activity.code)))
    lines, subtotal, vat, total = _lines(session, src, rate, language, billing)
    ru_zero = Decimal(rate) == 0
    vat_label = ("Без НДС" if language == "ru" else "No VAT") if ru_zero else (
        f"НДС {_rate_text(rate, language)} %" if language == "ru" else f"VAT {_rate_text(rate, language)}%")
    number = src.invoice.number_text if src.invoice is not None else ""
    return {
        "doc": Fields("doc", {"kind": kind, "language": language, "title": TITLES[language][kind],
                              "number": number or src.project.code, "date": long_date(doc_day, language),
                              "date_short": short_date(doc_day, language)}),
        "seller": seller_fields(details),
        "buyer": buyer_fields(src.account),
        "deal": Fields("deal", {
            "name": src.deal.name if src.deal is not None else src.project.name,
            "code": src.deal.code if src.deal is not None else src.project.code,
            "amount": money(src.deal.amount, language) if src.deal is not None else "",
            "currency": currency_short(currency, language),
            "expected_close": long_date(src.deal.expected_close if src.deal is not None else None, language)}),
        "project": Fields("project", {"name": src.project.name, "code": src.project.code}),
        "invoice": Fields("invoice", {
            "number": number,
            "date": long_date(src.invoice.issue_date if src.invoice is not None else None, language),
            "due_date": long_date(src.invoice.due_date if src.invoice is not None else None, language),
            "act_date": long_date((src.invoice.act_date or today) if src.invoice is not None else None, language)}),
        "lines": [Fields("line", {"n": index, "name": line.name, "unit": line.unit,
                                  "quantity": quantity(line.quantity, language), "price": money(line.price, language),
                                  "amount": money(line.amount, language), "vat": money(line.vat, language)})
                  for index, line in enumerate(lines, start=1)],
        "totals": Fields("totals", {
            "subtotal": money(subtotal, language), "vat_rate": _rate_text(rate, language), "vat_label": vat_label,
            "vat": money(vat, language), "total": money(total, language), "count": len(lines),
            "currency": currency_short(currency, language),
            "words": amount_in_words(total, currency, language)}),
        "billing_milestones": [Fields("m", {"n": index, "name": m.name, "amount": money(m.amount, language),
                                            "date": long_date(m.planned_date, language)})
                               for index, m in enumerate(billing, start=1)],
        "schedule_milestones": [Fields("m", {"n": index, "name": a.name,
                                             "date": long_date(_activity_day(a), language)})
                                for index, a in enumerate(schedule, start=1)],
    }


def sample(kind: str, language: str) -> dict:
    """A context with every name filled, to check an uploaded template with (no database)."""
    ru = language == "ru"
    day = date(2026, 3, 2)
    party = {"inn": "7707083893", "kpp": "773601001", "ogrn": "1027700132195", "address": "Москва, ул. Ленина, 1",
             "bank_name": "ПАО Сбербанк", "bank_bik": "044525225", "bank_account": "40702810938000000001",
             "bank_corr_account": "30101810400000000225"}
    line = {"n": 1, "name": "Работы" if ru else "Work", "unit": UNIT[language], "quantity": "1",
            "price": money(Decimal("1000"), language), "amount": money(Decimal("1000"), language),
            "vat": money(Decimal("220"), language)}
    return {
        "doc": Fields("doc", {"kind": kind, "language": language, "title": TITLES[language][kind], "number": "1",
                              "date": long_date(day, language), "date_short": short_date(day, language)}),
        "seller": Fields("seller", {"name": "ООО «Пример»", **party, "director": "Иванов И. И.",
                                    "accountant": "Петрова П. П."}),
        "buyer": Fields("buyer", {"name": "АО «Заказчик»", **party}),
        "deal": Fields("deal", {"name": "Сделка", "code": "DEAL-1", "amount": money(Decimal("1000"), language),
                                "currency": currency_short("RUB", language), "expected_close": long_date(day, language)}),
        "project": Fields("project", {"name": "Проект", "code": "DEAL-1"}),
        "invoice": Fields("invoice", {"number": "1", "date": long_date(day, language),
                                      "due_date": long_date(day, language), "act_date": long_date(day, language)}),
        "lines": [Fields("line", line)],
        "totals": Fields("totals", {"subtotal": money(Decimal("1000"), language), "vat_rate": "22",
                                    "vat_label": "НДС 22 %" if ru else "VAT 22%", "vat": money(Decimal("220"), language),
                                    "total": money(Decimal("1220"), language), "count": 1,
                                    "currency": currency_short("RUB", language),
                                    "words": amount_in_words(Decimal("1220"), "RUB", language)}),
        "billing_milestones": [Fields("m", {"n": 1, "name": "Аванс", "amount": money(Decimal("500"), language),
                                            "date": long_date(day, language)})],
        "schedule_milestones": [Fields("m", {"n": 1, "name": "Сдача", "date": long_date(day, language)})],
    }

"""CommerceML 2.10: invoices and acts with their counterparties, written as 1C loads them; the schema check.

The format's element names appear only in this module (and its schema, ``schema/``). What goes out:

* an issued (partly paid, paid) invoice is a ``Документ`` with ``ХозОперация`` "Счет на оплату";
* its act of completed work (an invoice with ``act_date``) is a ``Документ`` with ``ХозОперация``
  "Отпуск товара" (1C's sale of goods and services), carrying the invoice's number, dated on the act;
* each document's counterparty (the account billed) with its details: name, INN, KPP, legal address, bank
  account; ``Роль`` "Покупатель". 1C finds a counterparty again by ``Ид`` and by INN + KPP.

Ids are stable (UUIDs derived from crmpm's ids: ``stable_id``), so 1C matches an object sent again instead of
making a second one.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from lxml import etree

NAMESPACE = "urn:1C.ru:commerceml_2"
VERSION = "2.10"
SCHEMA_PATH = Path(__file__).parent / "schema" / "commerceml-2.10-subset.xsd"
# Fixed forever: changing it changes every id 1C knows.
ID_NAMESPACE = uuid.UUID("5a1d0b3e-2f4c-4c1e-9b8e-0c7d3f2a6e15")
INVOICE, ACT = "Счет на оплату", "Отпуск товара"
STATUS_WORDS = {"issued": "Выставлен", "partly_paid": "Оплачен частично", "paid": "Оплачен"}


def stable_id(kind: str, crmpm_id: int) -> str:
    """The id 1C keeps for a crmpm object: the same every export (``kind`` is "account", "invoice", …)."""
    return str(uuid.uuid5(ID_NAMESPACE, f"crmpm:{kind}:{crmpm_id}"))


@dataclass(frozen=True)
class Party:
    id: int
    name: str
    inn: str
    kpp: str
    legal_address: str
    bank_name: str
    bank_bik: str
    bank_account: str
    bank_corr_account: str


@dataclass(frozen=True)
class Line:
    id: int
    description: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    vat_amount: Decimal


@dataclass(frozen=True)
class Bill:
    """An invoice as the exchange sees it."""

    id: int
    number: str
    issue_date: date
    act_date: date | None
    due_date: date | None
    status: str
    currency: str
    vat_rate: Decimal
    subtotal: Decimal
    vat_amount: Decimal
    total: Decimal
    paid_amount: Decimal
    project_code: str
    note: str
    party: Party
    lines: tuple[Line, ...]


def _sub(parent, name: str, text=None):
    element = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
    if text is not None:
        element.text = text
    return element


def _money(value: Decimal) -> str:
    return f"{Decimal(value):.2f}"


def _quantity(value: Decimal) -> str:
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _currency(code: str) -> str:
    # 1C's CommerceML exchange names the rouble "руб" (its currency catalogue's short name); others by ISO code.
    return "руб" if code.upper() == "RUB" else code.upper()


def _party(parent, party: Party) -> None:
    element = _sub(parent, "Контрагент")
    _sub(element, "Ид", stable_id("account", party.id))
    _sub(element, "Наименование", party.name)
    _sub(element, "ОфициальноеНаименование", party.name)
    if party.legal_address:
        _sub(_sub(element, "ЮридическийАдрес"), "Представление", party.legal_address)
    inn = (party.inn or "").strip()
    if inn.isdigit() and len(inn) in (10, 12):
        _sub(element, "ИНН", inn)
    if party.kpp and len(party.kpp) == 9:
        _sub(element, "КПП", party.kpp)
    if party.bank_account and party.bank_bik:
        account = _sub(_sub(element, "РасчетныеСчета"), "РасчетныйСчет")
        _sub(account, "НомерСчета", party.bank_account)
        bank = _sub(account, "Банк")
        if party.bank_corr_account:
            _sub(bank, "СчетКорреспондентский", party.bank_corr_account)
        _sub(bank, "Наименование", party.bank_name or party.bank_bik)
        _sub(bank, "БИК", party.bank_bik)
    _sub(element, "Роль", "Покупатель")


def _taxes(parent, amount: Decimal, rate: Decimal | None) -> None:
    tax = _sub(_sub(parent, "Налоги"), "Налог")
    _sub(tax, "Наименование", "НДС")
    _sub(tax, "УчтеноВСумме", "false")
    _sub(tax, "Сумма", _money(amount))
    if rate is not None:
        _sub(tax, "Ставка", _quantity(rate))


def _document(root, bill: Bill, *, operation: str) -> None:
    act = operation == ACT
    document = _sub(root, "Документ")
    _sub(document, "Ид", stable_id("act" if act else "invoice", bill.id))
    _sub(document, "Номер", bill.number)
    _sub(document, "Дата", (bill.act_date if act else bill.issue_date).isoformat())
    _sub(document, "ХозОперация", operation)
    _sub(document, "Роль", "Продавец")
    _sub(document, "Валюта", _currency(bill.currency))
    _sub(document, "Курс", "1")
    _sub(document, "Сумма", _money(bill.total))
    _party(_sub(document, "Контрагенты"), bill.party)
    if bill.due_date and not act:
        _sub(document, "СрокПлатежа", bill.due_date.isoformat())
    if bill.note:
        _sub(document, "Комментарий", bill.note)
    _taxes(document, bill.vat_amount, bill.vat_rate)
    goods = _sub(document, "Товары")
    for line in bill.lines:
        item = _sub(goods, "Товар")
        _sub(item, "Ид", stable_id("invoice-line", line.id))
        _sub(item, "Наименование", line.description)
        _sub(item, "БазоваяЕдиница", line.unit or "шт")
        _sub(item, "ЦенаЗаЕдиницу", _money(line.unit_price))
        _sub(item, "Количество", _quantity(line.quantity))
        _sub(item, "Сумма", _money(line.amount))
        _taxes(item, line.vat_amount, bill.vat_rate)
    values = _sub(document, "ЗначенияРеквизитов")
    facts = [("Проект", bill.project_code)]
    if act:
        facts.append(("Номер счета", bill.number))
        facts.append(("Дата счета", bill.issue_date.isoformat()))
    else:
        facts.append(("Статус", STATUS_WORDS.get(bill.status, bill.status)))
        facts.append(("Сумма оплаты", _money(bill.paid_amount)))
    for name, value in facts:
        pair = _sub(values, "ЗначениеРеквизита")
        _sub(pair, "Наименование", name)
        _sub(pair, "Значение", value)


def write(bills: list[Bill], *, acts: list[Bill], made_at: datetime) -> bytes:
    """The CommerceML package (UTF-8 bytes) of these invoices and acts."""
    root = etree.Element(f"{{{NAMESPACE}}}КоммерческаяИнформация", nsmap={None: NAMESPACE})
    root.set("ВерсияСхемы", VERSION)
    root.set("ДатаФормирования", made_at.replace(microsecond=0).isoformat())
    for bill in bills:
        _document(root, bill, operation=INVOICE)
    for bill in acts:
        _document(root, bill, operation=ACT)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@functools.cache
def schema() -> etree.XMLSchema:
    """The schema the exports are checked against (``schema/README.md`` says what it is)."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def validate(data: bytes) -> list[str]:
    """The schema's complaints about ``data`` (none: valid)."""
    checker = schema()
    document = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    if checker.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in checker.error_log]

"""Invoices and acts out to 1C in CommerceML 2.10: checked against the schema, and read back here (with lxml
and the element names of the published description) against the rows the test wrote."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from lxml import etree

from accounts.accounting import commerceml, export
from accounts.accounting.models import AccountingRun
from crmpm.errors import Forbidden, Invalid, NotFound
from tests import factories
from tests.accounts.accounting import world as worlds

D = Decimal
NS = {"c": "urn:1C.ru:commerceml_2"}


@pytest.fixture
def world(session):
    made = worlds.build(session)
    admin = made["admin"]
    buyer = factories.account(session, actor=admin, region=made["east"], name="ООО «Ладога»", tax_id="7707083893")
    buyer.kpp, buyer.legal_address = "770101001", "Москва, ул. Тверская, 1"
    buyer.bank_name, buyer.bank_bik = "ПАО Сбербанк", "044525225"
    buyer.bank_account, buyer.bank_corr_account = "40702810900000000001", "30101810400000000225"
    other = factories.account(session, actor=admin, region=made["west"], name="West buyer", tax_id="500100732259")
    made.update(buyer=buyer, other=other)
    made["i1"] = worlds.invoice(session, project=made["p1"], account=buyer, number=17, issue_date=date(2026, 11, 3),
                                lines=(("Проектирование", "2", "1500.00"), ("Надзор", "1.5", "1000.00")),
                                act_date=date(2026, 11, 20), status="partly_paid", paid="1000.00",
                                due_date=date(2026, 11, 13))
    made["i2"] = worlds.invoice(session, project=made["p3"], account=other, number=18, issue_date=date(2026, 11, 5))
    made["draft"] = worlds.invoice(session, project=made["p1"], account=buyer, number=None, issue_date=None,
                                   status="draft")
    made["cancelled"] = worlds.invoice(session, project=made["p1"], account=buyer, number=19,
                                       issue_date=date(2026, 11, 6), status="cancelled")
    made["december"] = worlds.invoice(session, project=made["p2"], account=buyer, number=20,
                                      issue_date=date(2026, 12, 2))
    session.flush()
    return made


def scope(**kwargs):
    return export.check_scope(kwargs.pop("date_from", date(2026, 11, 1)), kwargs.pop("date_to", date(2026, 11, 30)),
                              **kwargs)


def documents(data: bytes):
    root = etree.fromstring(data)
    return root, root.findall("c:Документ", NS)


def text(element, path):
    return element.findtext(path, namespaces=NS)


def test_the_export_is_valid_against_the_schema(session, world):
    data, _run = export.export_commerceml(session, actor=world["admin"], scope=scope())
    assert commerceml.validate(data) == []
    schema = etree.XMLSchema(etree.parse(str(commerceml.SCHEMA_PATH)))
    assert schema.validate(etree.fromstring(data))


def test_the_schema_refuses_what_the_format_does_not_allow(session, world):
    data, _run = export.export_commerceml(session, actor=world["admin"], scope=scope())
    broken = data.replace("<ИНН>7707083893</ИНН>".encode(), "<ИНН>77012</ИНН>".encode())
    assert broken != data and commerceml.validate(broken)
    unknown = data.replace("Счет на оплату".encode(), "Что-то".encode(), 1)
    assert commerceml.validate(unknown)


def test_invoices_and_acts_of_the_period_with_their_counterparty(session, world):
    data, run = export.export_commerceml(session, actor=world["admin"], scope=scope())
    root, docs = documents(data)
    assert root.get("ВерсияСхемы") == "2.10"
    kinds = [(text(doc, "c:ХозОперация"), text(doc, "c:Номер"), text(doc, "c:Дата")) for doc in docs]
    # Issued in November: 17 and 18 (not the draft, not the cancelled 19, not December's 20); 17's act.
    assert kinds == [("Счет на оплату", "17", "2026-11-03"), ("Счет на оплату", "18", "2026-11-05"),
                     ("Отпуск товара", "17", "2026-11-20")]
    invoice = docs[0]
    # 2 × 1500 + 1.5 × 1000 = 4500 without VAT; 20 % VAT = 900; 5400 in all.
    assert text(invoice, "c:Сумма") == "5400.00"
    assert text(invoice, "c:Налоги/c:Налог/c:Сумма") == "900.00"
    assert text(invoice, "c:Валюта") == "руб" and text(invoice, "c:СрокПлатежа") == "2026-11-13"
    lines = [(text(item, "c:Наименование"), text(item, "c:Количество"), text(item, "c:ЦенаЗаЕдиницу"),
              text(item, "c:Сумма")) for item in invoice.findall("c:Товары/c:Товар", NS)]
    assert lines == [("Проектирование", "2", "1500.00", "3000.00"), ("Надзор", "1.5", "1000.00", "1500.00")]
    party = invoice.find("c:Контрагенты/c:Контрагент", NS)
    assert (text(party, "c:Наименование"), text(party, "c:ИНН"), text(party, "c:КПП")) == (
        "ООО «Ладога»", "7707083893", "770101001")
    assert text(party, "c:ЮридическийАдрес/c:Представление") == "Москва, ул. Тверская, 1"
    bank = party.find("c:РасчетныеСчета/c:РасчетныйСчет", NS)
    assert (text(bank, "c:НомерСчета"), text(bank, "c:Банк/c:БИК"), text(bank, "c:Банк/c:СчетКорреспондентский")) == (
        "40702810900000000001", "044525225", "30101810400000000225")
    values = {text(pair, "c:Наименование"): text(pair, "c:Значение")
              for pair in invoice.findall("c:ЗначенияРеквизитов/c:ЗначениеРеквизита", NS)}
    assert values == {"Проект": "PRJ-1", "Статус": "Оплачен частично", "Сумма оплаты": "1000.00"}
    assert run.direction == "out" and run.report["invoices"] == 2 and run.report["acts"] == 1
    assert run.report["counterparties"] == 2


def test_ids_are_stable_and_distinct(session, world):
    first, _ = export.export_commerceml(session, actor=world["admin"], scope=scope())
    second, _ = export.export_commerceml(session, actor=world["admin"], scope=scope())
    ids = lambda data: [text(doc, "c:Ид") for doc in documents(data)[1]]  # noqa: E731
    assert ids(first) == ids(second) and len(set(ids(first))) == 3
    assert all(uuid.UUID(value) for value in ids(first))
    party_ids = {text(doc, "c:Контрагенты/c:Контрагент/c:Ид") for doc in documents(first)[1]}
    assert len(party_ids) == 2


def test_only_what_the_caller_may_read(session, world):
    data, _ = export.export_commerceml(session, actor=world["finance"], scope=scope())
    numbers = [text(doc, "c:Номер") for doc in documents(data)[1]]
    assert numbers == ["17", "17"]  # invoice 18 is in the west, out of the finance user's grant
    west_finance = factories.user(session)
    factories.grant(session, actor=world["admin"], role="finance", target=world["west"], user=west_finance)
    west, _ = export.export_commerceml(session, actor=west_finance, scope=scope())
    assert [text(doc, "c:Номер") for doc in documents(west)[1]] == ["18"]


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_the_exchange_is_for_finance_and_administrators(session, world, who):
    with pytest.raises(Forbidden):
        export.export_commerceml(session, actor=world[who], scope=scope())


def test_an_eps_node_narrows_the_export_and_an_unreadable_one_is_not_found(session, world):
    data, _ = export.export_commerceml(session, actor=world["admin"], scope=scope(eps_node_id=world["west"].id))
    assert [text(doc, "c:Номер") for doc in documents(data)[1]] == ["18"]
    with pytest.raises(NotFound):
        export.export_commerceml(session, actor=world["finance"], scope=scope(eps_node_id=world["west"].id))


def test_since_sends_only_what_changed(session, world):
    later = datetime(2026, 11, 4, tzinfo=timezone.utc)
    world["i1"].issued_at = datetime(2026, 11, 3, 9, tzinfo=timezone.utc)
    world["buyer"].updated_at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    world["other"].updated_at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    session.flush()
    data, _ = export.export_commerceml(session, actor=world["admin"], scope=scope(since=later))
    # 18 was issued on the 5th (after); 17 was issued before, but its act is dated the 20th (after).
    assert [(text(doc, "c:ХозОперация"), text(doc, "c:Номер")) for doc in documents(data)[1]] == [
        ("Счет на оплату", "18"), ("Отпуск товара", "17")]


def test_bad_periods_are_refused():
    with pytest.raises(Invalid) as caught:
        export.check_scope(date(2026, 11, 30), date(2026, 11, 1))
    assert "to" in caught.value.errors
    with pytest.raises(Invalid):
        export.check_scope(None, date(2026, 11, 1))
    with pytest.raises(Invalid):
        export.check_scope(date(2020, 1, 1), date(2026, 1, 1))


def test_every_export_is_a_run(session, world):
    export.export_commerceml(session, actor=world["finance"], scope=scope())
    run = session.query(AccountingRun).one()
    assert (run.direction, run.what, run.actor_id, run.rows) == ("out", "commerceml", world["finance"].id, 2)

"""Payments: statements imported once, matched by the rules of accounts.billing.payments, matched by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from accounts.billing import payments
from accounts.billing.models import BankStatement, CompanyDetails, Payment
from crmpm.audit.models import AuditEntry
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound
from crmpm.events import Event
from tests import factories
from tests.accounts.billing.factories import issued_invoice
from tests.accounts.billing.statements import cp1251, incoming, outgoing, statement

PAYER_INN = "7707083893"


@pytest.fixture
def world(session):
    admin = factories.admin(session)
    region = factories.node(session, actor=admin, code="NW")
    other_region = factories.node(session, actor=admin, code="SOUTH")
    project = factories.project(session, actor=admin, node=region, code="LADOGA")
    other_project = factories.project(session, actor=admin, node=other_region, code="SOCHI")
    client = factories.account(session, actor=admin, region=region, name="Ладога", tax_id=PAYER_INN)
    finance = factories.user(session)
    factories.grant(session, actor=admin, role="finance", target=region, user=finance)
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role="viewer", target=region, user=viewer)
    return {"admin": admin, "project": project, "other_project": other_project, "client": client,
            "finance": finance, "viewer": viewer, "region": region}


def _import(session, actor, *docs, name="statement.txt"):
    return payments.import_statement(session, actor=actor, data=cp1251(statement(*docs)), file_name=name)


def _counts(statement_row):
    return {key: value for key, value in payments.report_of(statement_row).items() if key != "statement_id"}


def test_a_payment_naming_its_invoice_is_matched_and_the_invoice_paid(session, world):
    invoice = issued_invoice(session, project=world["project"], account=world["client"], total="12000.00", number=17)
    row = _import(session, world["finance"], incoming(amount="12000.00"), outgoing())
    assert _counts(row) == {"payments": 1, "matched": 1, "unmatched": 0, "duplicates": 0, "skipped": 1}
    payment = session.scalar(select(Payment).where(Payment.statement_id == row.id))
    assert payment.invoice_id == invoice.id and payment.matched_how == "number"
    assert payment.paid_on == date(2026, 12, 4) and payment.payer_inn == PAYER_INN
    session.refresh(invoice)
    assert invoice.status == "paid" and invoice.paid_amount == Decimal("12000.00")


def test_the_same_statement_twice_records_each_payment_once(session, world):
    issued_invoice(session, project=world["project"], account=world["client"], total="12000.00", number=17)
    docs = (incoming(), incoming(number="600", amount="10.00", purpose="Аванс"), outgoing())
    first = _import(session, world["finance"], *docs)
    second = _import(session, world["finance"], *docs)
    assert _counts(first) == {"payments": 2, "matched": 1, "unmatched": 1, "duplicates": 0, "skipped": 1}
    assert _counts(second) == {"payments": 2, "matched": 0, "unmatched": 0, "duplicates": 2, "skipped": 1}
    assert session.scalar(select(func.count()).select_from(Payment)) == 2


def test_a_payment_repeated_within_one_file_is_a_duplicate(session, world):
    row = _import(session, world["finance"], incoming(purpose="x"), incoming(purpose="x"))
    assert _counts(row) == {"payments": 2, "matched": 0, "unmatched": 1, "duplicates": 1, "skipped": 0}


@pytest.mark.parametrize("purpose", ["Оплата по счету № 17 от 05.12.2026", "Оплата сч.17 за работы",
                                     "по счёт №17", "Оплата по счету на оплату N17 без НДС", "Invoice #17"])
def test_the_invoice_number_is_found_in_the_ways_payers_write_it(session, world, purpose):
    invoice = issued_invoice(session, project=world["project"], account=world["client"], total="500.00", number=17)
    issued_invoice(session, project=world["project"], account=world["client"], total="500.00", number=18)
    _import(session, world["finance"], incoming(amount="500.00", purpose=purpose))
    payment = session.scalar(select(Payment))
    assert (payment.invoice_id, payment.matched_how) == (invoice.id, "number")


def test_the_year_comes_from_the_date_written_after_the_number(session, world):
    issued_invoice(session, project=world["project"], account=world["client"], total="700.00", number=5, year=2026)
    older = issued_invoice(session, project=world["project"], account=world["client"], total="300.00", number=5,
                           year=2025)
    _import(session, world["finance"], incoming(amount="300.00", purpose="Оплата по счету № 5 от 20.12.2025"))
    assert session.scalar(select(Payment)).invoice_id == older.id


def test_a_bank_account_in_the_purpose_is_not_an_invoice_number(session, world):
    assert payments.invoice_refs("Перевод на р/сч 40702810900000000001", date(2026, 12, 1)) == []
    assert payments.invoice_refs("Оплата по сч.17 и сч. № 18 от 01.12.26", date(2026, 12, 1)) == [
        (17, (2026, 2025)), (18, (2026,))]


def test_a_partial_payment_leaves_the_invoice_partly_paid_and_the_rest_matches_later(session, world):
    invoice = issued_invoice(session, project=world["project"], account=world["client"], total="1000.00", number=17)
    _import(session, world["finance"], incoming(amount="400.00"), incoming(number="513", amount="600.00"))
    session.refresh(invoice)
    assert invoice.status == "paid" and invoice.paid_amount == Decimal("1000.00")
    invoice2 = issued_invoice(session, project=world["project"], account=world["client"], total="1000.00",
                              number=30)
    _import(session, world["finance"], incoming(number="700", amount="250.00", purpose="сч 30"))
    session.refresh(invoice2)
    assert invoice2.status == "partly_paid" and invoice2.paid_amount == Decimal("250.00")


def test_an_overpayment_is_left_for_a_person(session, world):
    invoice = issued_invoice(session, project=world["project"], account=world["client"], total="1000.00", number=17)
    row = _import(session, world["finance"], incoming(amount="1000.01"))
    assert (row.matched, row.unmatched) == (0, 1)
    session.refresh(invoice)
    assert invoice.status == "issued"


def test_another_payers_inn_does_not_match_by_number(session, world):
    issued_invoice(session, project=world["project"], account=world["client"], total="100.00", number=17)
    row = _import(session, world["finance"], incoming(amount="100.00", payer_inn="7800000000"))
    assert (row.matched, row.unmatched) == (0, 1)


def test_inn_and_exact_amount_match_when_one_invoice_fits(session, world):
    invoice = issued_invoice(session, project=world["project"], account=world["client"], total="333.00", number=40)
    issued_invoice(session, project=world["project"], account=world["client"], total="444.00", number=41)
    _import(session, world["finance"], incoming(amount="333.00", purpose="Оплата за работы"))
    payment = session.scalar(select(Payment))
    assert (payment.invoice_id, payment.matched_how) == (invoice.id, "inn_amount")


def test_inn_and_amount_do_not_match_when_two_invoices_fit(session, world):
    for number in (40, 41):
        issued_invoice(session, project=world["project"], account=world["client"], total="333.00", number=number)
    row = _import(session, world["finance"], incoming(amount="333.00", purpose="Оплата за работы"))
    assert (row.matched, row.unmatched) == (0, 1)


def test_drafts_cancelled_and_foreign_currency_invoices_are_not_matched(session, world):
    for number, status, currency in ((17, "draft", "RUB"), (18, "cancelled", "RUB"), (19, "issued", "EUR")):
        issued_invoice(session, project=world["project"], account=world["client"], total="100.00", number=number,
                       status=status, currency=currency)
    row = _import(session, world["finance"], *(incoming(number=str(n), amount="100.00", purpose=f"счет {n}")
                                                 for n in (17, 18, 19)))
    assert (row.matched, row.unmatched) == (0, 3)


def test_the_company_account_counts_as_ours_besides_the_statements(session, world):
    session.add(CompanyDetails(bank_account="40702810000000000999"))
    session.flush()
    row = _import(session, world["finance"], incoming(account="40702810000000000999"), incoming(
        number="2", account="40702810000000000123"))
    assert (row.payments, row.skipped) == (1, 1)


def test_a_bad_file_records_nothing_and_names_the_line(session, world):
    text = statement(incoming()).replace("Сумма=12000.00", "Сумма=двенадцать")
    with pytest.raises(Invalid) as caught:
        payments.import_statement(session, actor=world["finance"], data=cp1251(text), file_name="bad.txt")
    line = text.split("\r\n").index("Сумма=двенадцать") + 1
    assert caught.value.errors["file"][0].startswith(f"line {line}: Сумма")
    assert session.scalar(select(func.count()).select_from(BankStatement)) == 0
    assert session.scalar(select(func.count()).select_from(Payment)) == 0


def test_only_finance_and_administrators_import(session, world):
    with pytest.raises(Forbidden):
        _import(session, world["viewer"], incoming())


def test_the_import_is_audited_and_each_payment_recorded_as_an_event(session, world):
    row = _import(session, world["finance"], incoming(), incoming(number="2", purpose="y"))
    recorded = session.scalars(select(Event).where(Event.type == "payment.recorded")).all()
    ids = set(session.scalars(select(Payment.id).where(Payment.statement_id == row.id)))
    assert {event.subject_id for event in recorded} == ids and len(recorded) == 2
    assert recorded[0].payload["amount"] == "12000.00"
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_type == "bank_statements", AuditEntry.action == "import")) == 1


def test_a_person_matches_and_unmatches_with_budget_rights_on_the_invoices_project(session, world):
    invoice = issued_invoice(session, project=world["project"], account=world["client"], total="900.00", number=50)
    elsewhere = issued_invoice(session, project=world["other_project"], account=world["client"], total="900.00",
                               number=51)
    _import(session, world["finance"], incoming(amount="50.00", purpose="непонятно", payer_inn=""))
    payment = session.scalar(select(Payment))
    assert payment.invoice_id is None
    finance = world["finance"]
    with pytest.raises(NotFound):
        payments.match_payment(session, actor=finance, payment=payment, invoice_id=elsewhere.id)
    with pytest.raises(NotFound):
        payments.match_payment(session, actor=world["viewer"], payment=payment, invoice_id=elsewhere.id)
    with pytest.raises(Forbidden):
        payments.match_payment(session, actor=world["viewer"], payment=payment, invoice_id=invoice.id)
    payments.match_payment(session, actor=finance, payment=payment, invoice_id=invoice.id)
    assert (payment.invoice_id, payment.matched_how, payment.matched_by_id) == (invoice.id, "manual", finance.id)
    assert invoice.status == "partly_paid" and invoice.paid_amount == Decimal("50.00")
    with pytest.raises(Conflict):
        payments.match_payment(session, actor=finance, payment=payment, invoice_id=invoice.id)
    payments.unmatch_payment(session, actor=finance, payment=payment)
    assert payment.invoice_id is None and invoice.status == "issued" and invoice.paid_amount == Decimal("0.00")


def test_a_payment_recorded_by_hand_pays_its_invoice(session, world):
    invoice = issued_invoice(session, project=world["project"], account=world["client"], total="900.00", number=50)
    payment = payments.record_payment(session, actor=world["finance"], amount=Decimal("900.00"),
                                      paid_on=date(2026, 12, 5), invoice_id=invoice.id, purpose="наличными")
    assert payment.source == "manual" and payment.currency == "RUB" and invoice.status == "paid"
    with pytest.raises(Forbidden):
        payments.record_payment(session, actor=world["viewer"], amount=Decimal("1"), paid_on=date(2026, 12, 5),
                                invoice_id=invoice.id)
    with pytest.raises(Forbidden):
        payments.record_payment(session, actor=world["viewer"], amount=Decimal("1"), paid_on=date(2026, 12, 5))
    with pytest.raises(Invalid):
        payments.record_payment(session, actor=world["finance"], amount=Decimal("1"), paid_on=date(2026, 12, 5),
                                invoice_id=invoice.id, currency="EUR")


def test_the_queue_and_lists_show_each_user_what_they_may_read(session, world):
    invoice = issued_invoice(session, project=world["project"], account=world["client"], total="100.00", number=17)
    _import(session, world["admin"], incoming(amount="100.00"), incoming(number="2", purpose="?", amount="1.00"))
    listed = {user: session.scalars(payments.list_payments(session, user=world[user])).all()
              for user in ("admin", "finance", "viewer")}
    assert len(listed["admin"]) == 2 and len(listed["finance"]) == 2
    # The viewer reads the project, so the matched payment; the unmatched queue is finance's.
    assert [payment.invoice_id for payment in listed["viewer"]] == [invoice.id]
    outsider = factories.user(session)
    assert session.scalars(payments.list_payments(session, user=outsider)).all() == []
    assert session.scalars(payments.list_statements(session, user=outsider)).all() == []
    assert len(session.scalars(payments.list_payments(session, user=world["finance"], matched=False)).all()) == 1


def test_the_suggestion_is_the_invoice_the_rules_find(session, world):
    invoice = issued_invoice(session, project=world["project"], account=world["client"], total="100.00", number=17)
    payment = payments.record_payment(session, actor=world["finance"], amount=Decimal("100.00"),
                                      paid_on=date(2026, 12, 5), payer_inn=PAYER_INN, purpose="оплата сч. 17")
    assert payments.suggest_invoice(session, user=world["finance"], payment=payment) is invoice
    assert payments.suggest_invoice(session, user=world["viewer"], payment=payment) is None


def test_payment_events_are_read_like_the_payments(session, world):
    from accounts.events import visible_events

    invoice = issued_invoice(session, project=world["project"], account=world["client"], total="100.00", number=17)
    _import(session, world["admin"], incoming(amount="100.00"), incoming(number="2", purpose="?", amount="1.00"))
    matched = session.scalar(select(Payment.id).where(Payment.invoice_id == invoice.id))
    queued = session.scalar(select(Payment.id).where(Payment.invoice_id.is_(None)))
    outsider = factories.user(session)

    def seen(user):
        return set(session.scalars(select(Event.subject_id).where(Event.type == "payment.recorded",
                                                                  visible_events(session, user=user))))

    assert seen(world["finance"]) == {matched, queued}
    assert seen(world["viewer"]) == {matched}  # reads the project; the queue is finance's
    assert seen(outsider) == set()

"""Invoices: VAT by date, lines and totals, numbering, statuses, milestones, rights, events, the rollup."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from accounts.billing import company, figures, invoices, milestones
from accounts.billing.models import Invoice, Payment
from accounts.billing.settle import settle
from accounts.billing.vat import law_rate_on, rate_on
from crmpm.audit.models import AuditEntry
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound
from crmpm.events import Event
from eps.models import Role
from tests import factories

D = Decimal
RUB = "RUB"


@pytest.fixture
def world(session):
    admin = factories.admin(session)
    root = factories.node(session, actor=admin, code="ROOT")
    region = factories.node(session, actor=admin, parent=root, code="REG")
    other_region = factories.node(session, actor=admin, parent=root, code="OTH")
    account = factories.account(session, actor=admin, region=region, name="ООО Ромашка")
    pipeline = factories.pipeline(session)
    deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline, lines=[
        {"product": "Консультация", "quantity": "3", "unit_price": "33.33"},
        {"product": "Лицензия", "quantity": "0.5", "unit_price": "0.05"},
    ])
    project = factories.project(session, actor=admin, node=region, code="PRJ", actual="50.00")
    other = factories.project(session, actor=admin, node=other_region, code="OTHP", actual="7.00")
    return {"admin": admin, "root": root, "region": region, "other_region": other_region, "account": account,
            "deal": deal, "project": project, "other": other}


def _manual(session, world, lines, **kwargs):
    return invoices.create_manual(session, actor=world["admin"], project=world["project"],
                                  account_id=world["account"].id, base_currency=RUB,
                                  lines=[invoices.LineInput(*line) for line in lines], **kwargs)


# VAT by date


@pytest.mark.parametrize(("day", "rate"), [
    (date(2003, 12, 31), "20.00"), (date(2004, 1, 1), "18.00"), (date(2018, 12, 31), "18.00"),
    (date(2019, 1, 1), "20.00"), (date(2025, 12, 31), "20.00"), (date(2026, 1, 1), "22.00"),
    (date(2030, 6, 1), "22.00"),
])
def test_the_law_rate_follows_the_tax_code_dates(day, rate):
    assert law_rate_on(day) == D(rate)


def test_the_company_rate_overrides_the_law_and_zero_is_allowed(session, world):
    assert rate_on(session, date(2026, 3, 1)) == D("22.00")
    company.update(session, actor=world["admin"], vat_rate=D("0"))
    assert rate_on(session, date(2026, 3, 1)) == D("0.00")
    company.update(session, actor=world["admin"], vat_rate=None)
    assert rate_on(session, date(2018, 3, 1)) == D("18.00")


# Lines and totals


def test_a_deal_draft_bills_its_products_with_vat_on_each_line_rounded_half_up(session, world):
    invoice = invoices.create_from_deal(session, actor=world["admin"], deal=world["deal"], base_currency=RUB,
                                        today=date(2026, 2, 1))
    # 3 × 33.33 = 99.99; VAT 22 % = 21.9978 → 22.00. 0.5 × 0.05 = 0.025 → 0.03 (half up); VAT 0.0066 → 0.01.
    assert [(line.description, line.amount, line.vat_amount) for line in invoice.lines] == [
        ("Консультация", D("99.99"), D("22.00")), ("Лицензия", D("0.03"), D("0.01"))]
    assert (invoice.subtotal, invoice.vat_amount, invoice.total) == (D("100.02"), D("22.01"), D("122.03"))
    assert (invoice.status, invoice.number, invoice.source) == ("draft", None, "deal")
    assert invoice.account_id == world["account"].id and invoice.project_id == world["deal"].project_id
    assert invoice.currency == RUB and invoice.vat_rate == D("22.00")


def test_issuing_takes_the_vat_rate_of_the_issue_date(session, world):
    invoice = _manual(session, world, [("Работы", D("1"), D("1000.00"))], today=date(2026, 2, 1))
    invoices.issue(session, actor=world["admin"], invoice=invoice, issue_date=date(2025, 12, 31))
    assert (invoice.vat_rate, invoice.vat_amount, invoice.total) == (D("20.00"), D("200.00"), D("1200.00"))
    assert (invoice.year, invoice.number, invoice.status) == (2025, 1, "issued")


def test_another_currency_is_refused_with_the_field_named(session, world):
    with pytest.raises(Invalid) as caught:
        _manual(session, world, [("Работы", D("1"), D("10.00"))], currency="EUR")
    assert "currency" in caught.value.errors


@pytest.mark.parametrize("line", [("", D("1"), D("1")), ("x", D("0"), D("1")), ("x", D("1"), D("-1")),
                                  ("x", D("1"), D("0.001")), ("x", D("0.0001"), D("1"))])
def test_bad_lines_are_refused_and_nothing_is_written(session, world, line):
    before = session.scalar(select(Invoice.id).limit(1))
    with pytest.raises(Invalid):
        _manual(session, world, [line])
    assert session.scalar(select(Invoice.id).limit(1)) == before


# Numbering and statuses


def test_numbers_run_per_year_without_gaps_and_a_deleted_draft_takes_none(session, world):
    made = [_manual(session, world, [("Работы", D("1"), D("10.00"))]) for _ in range(4)]
    invoices.delete(session, actor=world["admin"], invoice=made[1])
    for invoice, day in zip((made[0], made[2], made[3]), (date(2026, 1, 5), date(2026, 2, 5), date(2027, 1, 2))):
        invoices.issue(session, actor=world["admin"], invoice=invoice, issue_date=day)
    assert [(i.year, i.number) for i in (made[0], made[2], made[3])] == [(2026, 1), (2026, 2), (2027, 1)]


def test_an_issued_invoice_is_cancelled_never_deleted_and_only_with_a_reason(session, world):
    invoice = _manual(session, world, [("Работы", D("1"), D("10.00"))])
    invoices.issue(session, actor=world["admin"], invoice=invoice)
    with pytest.raises(Conflict):
        invoices.delete(session, actor=world["admin"], invoice=invoice)
    with pytest.raises(Invalid):
        invoices.cancel(session, actor=world["admin"], invoice=invoice, reason="  ")
    invoices.cancel(session, actor=world["admin"], invoice=invoice, reason="ошибка в реквизитах")
    assert (invoice.status, invoice.cancel_reason) == ("cancelled", "ошибка в реквизитах")
    assert session.get(Invoice, invoice.id) is not None
    with pytest.raises(Conflict):
        invoices.issue(session, actor=world["admin"], invoice=invoice)


def test_an_invoice_with_matched_payments_is_not_cancelled(session, world):
    invoice = _manual(session, world, [("Работы", D("1"), D("100.00"))], today=date(2026, 1, 10))
    invoices.issue(session, actor=world["admin"], invoice=invoice, issue_date=date(2026, 1, 10))
    session.add(Payment(amount=D("50.00"), currency=RUB, paid_on=date(2026, 1, 12), invoice_id=invoice.id))
    settle(session, invoice)
    assert invoice.status == "partly_paid"
    with pytest.raises(Conflict):
        invoices.cancel(session, actor=world["admin"], invoice=invoice, reason="r")


def test_paid_in_full_records_invoice_paid_once(session, world):
    invoice = _manual(session, world, [("Работы", D("1"), D("100.00"))], today=date(2026, 1, 10))
    invoices.issue(session, actor=world["admin"], invoice=invoice, issue_date=date(2026, 1, 10))
    for amount in ("60.00", "62.00"):  # 100 + 22 % VAT = 122.00
        session.add(Payment(amount=D(amount), currency=RUB, paid_on=date(2026, 1, 12), invoice_id=invoice.id))
        settle(session, invoice)
    settle(session, invoice)
    assert invoice.status == "paid"
    kinds = session.scalars(select(Event.type).where(Event.subject_type == "invoices",
                                                     Event.subject_id == invoice.id).order_by(Event.row_id)).all()
    assert kinds == ["invoice.issued", "invoice.paid"]


def test_the_act_date_is_set_on_an_issued_invoice_only(session, world):
    invoice = _manual(session, world, [("Работы", D("1"), D("10.00"))])
    with pytest.raises(Conflict):
        invoices.set_act_date(session, actor=world["admin"], invoice=invoice, act_date=date(2026, 3, 1))
    invoices.issue(session, actor=world["admin"], invoice=invoice)
    invoices.set_act_date(session, actor=world["admin"], invoice=invoice, act_date=date(2026, 3, 1))
    assert invoice.act_date == date(2026, 3, 1)


# Milestones


def test_milestones_are_billed_once_and_freed_by_cancelling(session, world):
    admin, project = world["admin"], world["project"]
    first = milestones.create(session, actor=admin, project=project, name="Этап 1", amount=D("1000.00"))
    second = milestones.create(session, actor=admin, project=project, name="Этап 2", amount=D("500.00"))
    invoice = invoices.create_from_milestones(session, actor=admin, project=project, milestone_ids=[first.id],
                                              account_id=world["account"].id, base_currency=RUB,
                                              today=date(2026, 5, 1))
    assert invoice.total == D("1220.00") and invoice.lines[0].milestone_id == first.id
    assert first.invoice_id == invoice.id and second.invoice_id is None
    with pytest.raises(Conflict):
        invoices.create_from_milestones(session, actor=admin, project=project, milestone_ids=[first.id],
                                        account_id=world["account"].id, base_currency=RUB)
    with pytest.raises(Conflict):
        milestones.delete(session, actor=admin, project=project, milestone=first)
    invoices.issue(session, actor=admin, invoice=invoice)
    invoices.cancel(session, actor=admin, invoice=invoice, reason="перевыставить")
    session.refresh(first)
    assert first.invoice_id is None


def test_a_milestone_of_another_project_is_not_billed(session, world):
    admin = world["admin"]
    foreign = milestones.create(session, actor=admin, project=world["other"], name="Чужой", amount=D("1.00"))
    with pytest.raises(Invalid):
        invoices.create_from_milestones(session, actor=admin, project=world["project"], milestone_ids=[foreign.id],
                                        account_id=world["account"].id, base_currency=RUB)


# Rights


@pytest.mark.parametrize(("role", "reads", "bills"), [
    (None, False, False), (Role.viewer, True, False), (Role.editor, True, False), (Role.manager, True, False),
    (Role.finance, True, True)])
def test_reading_follows_the_project_and_billing_needs_budget_rights(session, world, role, reads, bills):
    user = factories.user(session)
    if role is not None:
        factories.grant(session, actor=world["admin"], role=role, target=world["region"], user=user)
    invoice = _manual(session, world, [("Работы", D("1"), D("10.00"))])
    hidden = invoices.create_manual(session, actor=world["admin"], project=world["other"],
                                    account_id=world["account"].id, base_currency=RUB,
                                    lines=[invoices.LineInput("x", D("1"), D("1.00"))])
    if reads:
        assert invoices.get_invoice_or_raise(session, user=user, invoice_id=invoice.id) is invoice
    else:
        with pytest.raises(NotFound):
            invoices.get_invoice_or_raise(session, user=user, invoice_id=invoice.id)
    with pytest.raises(NotFound):
        invoices.get_invoice_or_raise(session, user=user, invoice_id=hidden.id)
    listed = session.scalars(invoices.list_(session, user=user)).all()
    assert [i.id for i in listed] == ([invoice.id] if reads else [])
    if bills:
        invoices.issue(session, actor=user, invoice=invoice)
        assert invoice.number == 1
    else:
        with pytest.raises(NotFound if not reads else Forbidden):
            invoices.issue(session, actor=user, invoice=invoice)


def test_every_change_is_audited(session, world):
    invoice = _manual(session, world, [("Работы", D("1"), D("10.00"))])
    invoices.update(session, actor=world["admin"], invoice=invoice, note="срочно")
    invoices.issue(session, actor=world["admin"], invoice=invoice)
    invoices.set_act_date(session, actor=world["admin"], invoice=invoice, act_date=date(2026, 3, 1))
    invoices.cancel(session, actor=world["admin"], invoice=invoice, reason="r")
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "invoices",
                                                              AuditEntry.entity_id == invoice.id)
                              .order_by(AuditEntry.id)).all()
    assert actions == ["create", "update", "issue", "act", "cancel"]


# The rollup


def test_figures_match_an_independent_sum_per_project_and_node(session, world):
    admin = world["admin"]
    today = date(2026, 6, 1)
    plan = [  # (project, net price, issue date or None for a draft, due date, paid, cancel)
        ("project", "100.00", date(2026, 1, 10), date(2026, 2, 10), "122.00", False),  # paid
        ("project", "200.00", date(2026, 3, 1), date(2026, 5, 1), "44.00", False),  # partly paid, overdue
        ("project", "300.00", date(2026, 5, 20), date(2026, 7, 1), None, False),  # issued, not yet due
        ("project", "400.00", None, None, None, False),  # draft: not billed
        ("project", "500.00", date(2026, 2, 1), None, None, True),  # cancelled: not billed
        ("other", "1000.00", date(2026, 4, 1), date(2026, 4, 30), None, False),  # overdue, other branch
    ]
    for where, price, issued, due, paid, cancel in plan:
        invoice = invoices.create_manual(session, actor=admin, project=world[where], account_id=world["account"].id,
                                         base_currency=RUB, lines=[invoices.LineInput("x", D("1"), D(price))],
                                         today=issued or today)
        if issued:
            invoices.issue(session, actor=admin, invoice=invoice, issue_date=issued, due_date=due)
        if paid:
            session.add(Payment(amount=D(paid), currency=RUB, paid_on=today, invoice_id=invoice.id))
            settle(session, invoice)
        if cancel:
            invoices.cancel(session, actor=admin, invoice=invoice, reason="r")
    # All issued in 2026 at 22 %: totals 122, 244, 366 (project) and 1220 (other).
    project = figures.figures(session, obj=world["project"], today=today)
    assert (project.billed, project.billed_net, project.received) == (D("732.00"), D("600.00"), D("166.00"))
    assert (project.outstanding, project.overdue) == (D("566.00"), D("200.00"))
    assert (project.actual_cost, project.margin, project.cash_margin) == (D("50.00"), D("550.00"), D("116.00"))
    root = figures.figures(session, obj=world["root"], today=today)
    assert (root.billed, root.received, root.outstanding, root.overdue) == (
        D("1952.00"), D("166.00"), D("1786.00"), D("1420.00"))
    assert root.actual_cost == D("57.00") and root.margin == D("1543.00")
    many = figures.figures_of_many(session, [world["root"], world["region"], world["other_region"], world["other"]],
                                   today=today)
    assert many[("node", world["region"].id)].billed == D("732.00")
    assert many[("node", world["other_region"].id)].billed == many[("project", world["other"].id)].billed == D("1220.00")


def test_figures_of_a_deal_are_its_invoices(session, world):
    invoice = invoices.create_from_deal(session, actor=world["admin"], deal=world["deal"], base_currency=RUB,
                                        today=date(2026, 2, 1))
    invoices.issue(session, actor=world["admin"], invoice=invoice, issue_date=date(2026, 2, 1))
    assert figures.figures(session, obj=world["deal"]).billed == D("122.03")

"""Two imports of the same statement at once, on a real PostgreSQL: each payment recorded once (the unique key)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from accounts.billing import payments
from accounts.billing.models import Invoice, Payment
from crmpm import migrate
from crmpm.database import Base, make_engine
from crmpm.users.models import User
from tests import factories
from tests.accounts.billing.factories import issued_invoice
from tests.accounts.billing.statements import cp1251, incoming, outgoing, statement


@pytest.fixture
def engine(postgresql_url):
    migrate.upgrade(url=postgresql_url)
    engine = make_engine(postgresql_url)
    yield engine
    with engine.begin() as connection:
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def test_two_imports_at_once_record_each_payment_once(engine, monkeypatch):
    with Session(engine, expire_on_commit=False) as session:
        admin = factories.admin(session)
        node = factories.node(session, actor=admin, code="NW")
        project = factories.project(session, actor=admin, node=node, code="LADOGA")
        client = factories.account(session, actor=admin, region=node, tax_id="7707083893")
        invoice = issued_invoice(session, project=project, account=client, total="12000.00", number=17)
        session.commit()
    data = cp1251(statement(incoming(), incoming(number="2", amount="5.00", purpose="?"), outgoing()))
    # Both imports have read which keys exist (none) before either writes: the unique key alone must decide.
    both_checked = threading.Barrier(2, timeout=30)
    original = payments._insert_new

    def insert_after_both_checked(session, rows):
        both_checked.wait()
        return original(session, rows)

    monkeypatch.setattr(payments, "_insert_new", insert_after_both_checked)
    reports, errors = [], []

    def import_once():
        try:
            with Session(engine) as session, session.begin():
                actor = session.get(User, admin.id)
                reports.append(payments.report_of(payments.import_statement(session, actor=actor, data=data,
                                                                            file_name="s.txt")))
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=import_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(reports) == 2
    assert sorted(report["duplicates"] for report in reports) == [0, 2]
    assert sum(report["matched"] for report in reports) == 1
    assert all(report["payments"] == 2 and report["skipped"] == 1 for report in reports)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 2
        paid = session.get(Invoice, invoice.id)
        assert paid.paid_amount == Decimal("12000.00") and paid.status == "paid"

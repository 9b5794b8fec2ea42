"""Invoice numbers under concurrent issues on a real PostgreSQL: 1..N, no gaps, no duplicates.

The invoices are issued from many threads at once, each in its own committed transaction, as concurrent requests
would; the year's first issue also races to create the counter row. Tables are emptied afterwards.
"""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from accounts.billing import invoices
from accounts.billing.models import Invoice
from crmpm.database import Base, make_engine
from crmpm.users.models import User
from tests import factories

THREADS = 12
PER_THREAD = 3


@pytest.fixture
def pg_engine(postgresql_url):
    from crmpm import migrate

    migrate.upgrade(url=postgresql_url)
    engine = make_engine(postgresql_url, pool_size=THREADS + 2)
    yield engine
    with engine.begin() as connection:
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def test_concurrent_issues_number_one_to_n_without_gaps_or_duplicates(pg_engine):
    with Session(pg_engine, expire_on_commit=False) as session:
        admin = factories.admin(session)
        region = factories.node(session, actor=admin, code="R")
        account = factories.account(session, actor=admin, region=region)
        project = factories.project(session, actor=admin, node=region, code="P")
        drafts = [invoices.create_manual(session, actor=admin, project=project, account_id=account.id,
                                         base_currency="RUB", lines=[invoices.LineInput("x", Decimal("1"),
                                                                                        Decimal("10.00"))]).id
                  for _ in range(THREADS * PER_THREAD)]
        session.commit()
        admin_id = admin.id
    barrier = threading.Barrier(THREADS)
    errors = []

    def work(ids):
        barrier.wait()
        for invoice_id in ids:
            try:
                with Session(pg_engine) as session:
                    actor = session.get(User, admin_id)
                    invoice = session.get(Invoice, invoice_id)
                    invoices.issue(session, actor=actor, invoice=invoice, issue_date=date(2031, 3, 1))
                    session.commit()
            except Exception as error:  # noqa: BLE001 - collected and asserted on below
                errors.append(error)

    threads = [threading.Thread(target=work, args=(drafts[i::THREADS],)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with Session(pg_engine) as session:
        numbers = session.scalars(select(Invoice.number).where(Invoice.year == 2031)).all()
    assert sorted(numbers) == list(range(1, THREADS * PER_THREAD + 1))


def test_a_rolled_back_issue_leaves_no_gap(pg_engine):
    with Session(pg_engine, expire_on_commit=False) as session:
        admin = factories.admin(session)
        region = factories.node(session, actor=admin, code="R")
        account = factories.account(session, actor=admin, region=region)
        project = factories.project(session, actor=admin, node=region, code="P")
        drafts = [invoices.create_manual(session, actor=admin, project=project, account_id=account.id,
                                         base_currency="RUB", lines=[invoices.LineInput("x", Decimal("1"),
                                                                                        Decimal("10.00"))])
                  for _ in range(2)]
        session.commit()
        invoices.issue(session, actor=admin, invoice=drafts[0], issue_date=date(2032, 1, 1))
        session.rollback()
        invoices.issue(session, actor=admin, invoice=session.get(Invoice, drafts[1].id), issue_date=date(2032, 1, 1))
        session.commit()
        assert session.get(Invoice, drafts[1].id).number == 1

"""Accounting exchange benchmark: a 50,000-row cost file booked to 500 projects, and 2,000 invoices exported.

Timed once each, on SQLite (a temporary file) or PostgreSQL (a throwaway database next to ``--url``):

* ``read_s``: ``accounts.accounting.costs.read_cost_file`` alone (decoding, columns, every date and amount
  checked, row keys): the ceiling of any import of the file;
* ``import_s``: ``import_costs`` as the API runs it (rights per project, duplicates, cost accounts, the
  expenses inserted, each project's actual cost rolled up), and ``again_s`` the same file a second time
  (every row a duplicate);
* ``export_s``: ``export_commerceml`` of 2,000 invoices with 3 lines each, half with an act, and
  ``validate_s`` the schema check of the file;
* ``python_loop_ms``: a fixed loop of 3 million additions: how fast the machine was during this run.

    PYTHONPATH=. .venv/bin/python bench/bench_accounting.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from crmpm import migrate
from crmpm.database import make_engine

ROWS, PROJECTS, INVOICES = 50_000, 500, 2_000
SEED = 20261205


def python_loop_ms() -> float:
    start, total = time.perf_counter(), 0
    for i in range(3_000_000):
        total += i
    return (time.perf_counter() - start) * 1000


def cost_file(rng: random.Random) -> bytes:
    lines = ["project;cost_account;date;amount;description;document"]
    for n in range(ROWS):
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(330))
        lines.append(f"P{rng.randrange(PROJECTS):04d};20.{rng.randrange(1, 9):02d};{day:%d.%m.%Y};"
                     f"{rng.randrange(100, 10_000_000) / 100:.2f};Материалы {n};Поступление {n // 3}")
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


def build(session: Session, rng: random.Random):
    from accounts.billing.models import Invoice, InvoiceLine
    from accounts.models import Account
    from accounts import services as crm
    from crmpm.users.models import User
    from eps import services as eps

    admin = User(email="bench@crmpm.local", name="Bench", password_hash="x", is_admin=True)
    session.add(admin)
    session.flush()
    root = eps.create_node(session, actor=admin, code="ROOT", name="Root", parent=None)
    projects = [eps.create_project(session, actor=admin, code=f"P{n:04d}", name=f"P{n}", eps_node=root)
                for n in range(PROJECTS)]
    account = crm.create_account(session, actor=admin, name="Buyer", region=root, code="BUYER",
                                 tax_id="7707083893")
    assert isinstance(account, Account)
    for n in range(INVOICES):
        issued = date(2026, 11, 1) + timedelta(days=n % 28)
        invoice = Invoice(project_id=projects[n % PROJECTS].id, account_id=account.id, currency="RUB",
                          status="issued", year=2026, number=n + 1, issue_date=issued, vat_rate=Decimal("20.00"),
                          act_date=issued if n % 2 else None)
        for position in range(3):
            invoice.lines.append(InvoiceLine(position=position, description=f"Work {position}", unit="усл",
                                             quantity=Decimal("1"), unit_price=Decimal("100.00"),
                                             amount=Decimal("100.00"), vat_amount=Decimal("20.00")))
        invoice.subtotal, invoice.vat_amount, invoice.total = Decimal("300.00"), Decimal("60.00"), Decimal("360.00")
        session.add(invoice)
    session.flush()
    return admin


def run(url: str) -> dict:
    from accounts.accounting import commerceml, costs, export

    migrate.upgrade(url=url)
    engine = make_engine(url)
    rng = random.Random(SEED)
    data = cost_file(rng)
    results: dict = {"rows": ROWS, "projects": PROJECTS, "invoices": INVOICES, "file_mb": round(len(data) / 2**20, 1)}
    with Session(engine) as session:
        admin = build(session, rng)
        session.commit()
        start = time.perf_counter()
        costs.read_cost_file(data)
        results["read_s"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        run_in = costs.import_costs(session, actor=admin, data=data, file_name="bench.csv")
        session.commit()
        results["import_s"] = round(time.perf_counter() - start, 2)
        assert run_in.applied == ROWS, run_in.applied
        start = time.perf_counter()
        again = costs.import_costs(session, actor=admin, data=data, file_name="bench.csv")
        session.commit()
        results["again_s"] = round(time.perf_counter() - start, 2)
        assert again.duplicates == ROWS
        scope = export.check_scope(date(2026, 11, 1), date(2026, 11, 30))
        start = time.perf_counter()
        xml, _run = export.export_commerceml(session, actor=admin, scope=scope)
        results["export_s"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        assert commerceml.validate(xml) == []
        results["validate_s"] = round(time.perf_counter() - start, 2)
        results["export_mb"] = round(len(xml) / 2**20, 1)
    engine.dispose()
    results["python_loop_ms"] = round(python_loop_ms())
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a PostgreSQL server's URL: bench on a throwaway database there")
    args = parser.parse_args()
    if args.url:
        name = f"bench_accounting_{uuid.uuid4().hex[:8]}"
        admin_engine = make_engine(args.url, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            print(run(make_url(args.url).set(database=name).render_as_string(hide_password=False)))
        finally:
            with admin_engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    else:
        with tempfile.TemporaryDirectory() as folder:
            print(run(f"sqlite:///{Path(folder) / 'bench.db'}"))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

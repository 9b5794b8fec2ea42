"""A 50,000-document bank statement (1CClientBankExchange, cp1251) imported and matched, against peers in the same run.

The database (SQLite in a temporary folder, and/or a throwaway PostgreSQL database beside ``--postgres``) holds
``--accounts`` client accounts (made by ``accounts.services.create_account``, each with a valid INN) and
``--invoices`` issued RUB invoices spread over them (inserted directly: numbering is not what is measured).
The statement is written here, as 1C's description lays documents out: 60 % name their invoice ("Оплата по
счету № N от dd.mm.yyyy"), 20 % pay an invoice's exact amount without naming it (INN + amount), 18 % come from
unknown payers (unmatched), 2 % are outgoing (skipped).

Timed, each in its own transaction:

1. ``parse``: ``statement_format.read_statement`` alone (the floor: reading the file);
2. ``import``: ``payments.import_statement`` — read, dedup, match, insert, settle, audit, events — committed;
3. ``again``: the same file imported again: every payment a duplicate;
4. ``bulk insert`` (the peer): the same number of payment rows written by ``crmpm.database.bulk_insert`` alone
   (no reading, matching, settling, audit or events), rolled back.

    .venv/bin/python bench/bench_statement.py --documents 50000 --only sqlite,postgresql

Target: ``import`` under 30 s. Figures and notes: BENCHMARKS.md, "A 50,000-document bank statement".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

RESULTS = ROOT / "bench" / "results"
OURS = "40702810900000000001"


def inn(n: int) -> str:
    """A valid 10-digit INN (its check digit computed by the published weights)."""
    body = f"77{n:07d}"
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(int(d) * w for d, w in zip(body, weights)) % 11 % 10
    return body + str(check)


def statement_text(documents: int, invoices: list[tuple[int, str, Decimal]]) -> bytes:
    lines = ["1CClientBankExchange", "ВерсияФормата=1.03", "Кодировка=Windows", "Отправитель=Бенчмарк",
             "ДатаНачала=01.12.2026", "ДатаКонца=31.12.2026", f"РасчСчет={OURS}", "СекцияРасчСчет",
             f"РасчСчет={OURS}", "КонецРасчСчет"]
    for i in range(documents):
        number, payer_inn, amount = invoices[i % len(invoices)]
        share = i % 50
        outgoing = share == 49
        if share < 30:
            purpose = f"Оплата по счету № {number} от 01.12.2026, в т.ч. НДС"
        elif share < 40:
            purpose = "Оплата за работы по договору"
        else:
            payer_inn, amount, purpose = "7799999999", Decimal("1234.56"), f"Перевод {i}"
        payer, payee = (OURS, "40702810000000000555") if outgoing else (f"40702810{i:012d}", OURS)
        lines += ["СекцияДокумент=Платежное поручение", f"Номер={i + 1}", "Дата=03.12.2026", f"Сумма={amount}",
                  f"ПлательщикСчет={payer}", "ДатаСписано=03.12.2026", f"Плательщик1=ООО Клиент {i}",
                  f"ПлательщикИНН={payer_inn}", f"ПолучательСчет={payee}", "ДатаПоступило=04.12.2026",
                  "ПолучательИНН=7701234567", f"НазначениеПлатежа={purpose}", "КонецДокумента"]
    lines.append("КонецФайла")
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


def prepare(app, n_accounts: int, n_invoices: int) -> tuple[int, list[tuple[int, str, Decimal]]]:
    from accounts import services as crm
    from accounts.billing.models import Invoice
    from crmpm.database import db
    from crmpm.users import services as users
    from eps import services as eps

    with app.app_context(), db.transaction() as session:
        admin = users.create(session, actor=None, email="bench@example.test", name="Bench", password=None,
                             is_admin=True)
        node = eps.create_node(session, actor=admin, code="BENCH", name="Bench", parent=None)
        project = eps.create_project(session, actor=admin, code="BENCHP", name="Bench project", eps_node=node)
        accounts = [crm.create_account(session, actor=admin, name=f"Клиент {n}", region=node, code=f"C{n}",
                                       tax_id=inn(n)) for n in range(n_accounts)]
        rows, invoices = [], []
        for number in range(1, n_invoices + 1):
            account = accounts[number % n_accounts]
            total = Decimal(1000 + number) + Decimal("0.50")  # unique: INN + amount finds one invoice
            rows.append({"year": 2026, "number": number, "status": "issued", "source": "manual",
                         "project_id": project.id, "account_id": account.id, "currency": "RUB",
                         "issue_date": date(2026, 12, 1), "vat_rate": Decimal("22.00"), "subtotal": total,
                         "vat_amount": Decimal(0), "total": total, "paid_amount": Decimal(0)})
            invoices.append((number, account.tax_id, total))
        for start in range(0, len(rows), 1000):
            session.execute(insert(Invoice), rows[start:start + 1000])
        return admin.id, invoices


def timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def run(url: str, folder: str, args) -> dict:
    from accounts.billing import payments
    from accounts.billing.models import Payment
    from accounts.billing.statement_format import read_statement
    from crmpm import create_app, migrate
    from crmpm.database import bulk_insert, db
    from crmpm.users.models import User

    migrate.upgrade(url=url)
    app = create_app({"DATABASE_URL": url, "JOBS_URL": "memory://", "INSTANCE_PATH": folder,
                      "SECRET_KEY": os.urandom(24).hex(), "RATELIMIT_ENABLED": False})
    admin_id, invoices = prepare(app, args.accounts, args.invoices)
    data = statement_text(args.documents, invoices)
    figures: dict = {"documents": args.documents, "bytes": len(data), "invoices": args.invoices}
    figures["parse_s"], parsed = timed(lambda: read_statement(data))

    def import_once():
        with app.app_context(), db.transaction() as session:
            return payments.report_of(payments.import_statement(session, actor=session.get(User, admin_id),
                                                                data=data, file_name="bench.txt"))

    figures["import_s"], figures["import"] = timed(import_once)
    figures["again_s"], figures["again"] = timed(import_once)
    rows = [{"source": "statement", "dedup_key": uuid.uuid4().hex, "amount": doc.amount, "currency": "RUB",
             "paid_on": doc.paid_on, "document_number": doc.number, "payer_name": doc.payer_name,
             "payer_inn": doc.payer_inn, "payer_account": doc.payer_account, "purpose": doc.purpose}
            for doc in parsed.documents]

    def bulk():
        with app.app_context():
            session = db.session
            try:
                bulk_insert(session, Payment.__table__, rows)
            finally:
                session.rollback()

    figures["bulk_insert_s"], _ = timed(bulk)
    figures["import_over_bulk_insert"] = figures["import_s"] / figures["bulk_insert_s"]
    figures["import_over_parse"] = figures["import_s"] / figures["parse_s"]
    app.extensions["crmpm.database"].engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=50_000)
    parser.add_argument("--invoices", type=int, default=50_000)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--only", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=os.environ.get("CRMPM_BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    from crmpm.database import make_engine

    figures: dict = {}
    only = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as folder:
        if "sqlite" in only:
            figures["sqlite"] = run(f"sqlite:///{folder}/bench.db", folder, args)
        if "postgresql" in only:
            admin_engine = make_engine(args.postgres, isolation_level="AUTOCOMMIT")
            name = f"crmpm_bench_{uuid.uuid4().hex[:8]}"
            with admin_engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
                figures["postgresql"] = run(url, folder, args)
            finally:
                with admin_engine.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin_engine.dispose()
    for backend, f in figures.items():
        print(f"{backend}: {f['documents']:,} documents ({f['bytes'] / 1e6:.1f} MB), {f['invoices']:,} invoices")
        print(f"  parse        {f['parse_s']:7.2f} s")
        print(f"  import       {f['import_s']:7.2f} s  {f['import']}")
        print(f"  again        {f['again_s']:7.2f} s  {f['again']}")
        print(f"  bulk insert  {f['bulk_insert_s']:7.2f} s  (import / bulk insert {f['import_over_bulk_insert']:.1f}×,"
              f" import / parse {f['import_over_parse']:.1f}×)")
    try:
        figures["load_average"] = os.getloadavg()
        print("load average {:.1f} {:.1f} {:.1f}".format(*figures["load_average"]))
    except OSError:
        pass
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"statement-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()

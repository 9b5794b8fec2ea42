"""Benchmark of the CSV import on PostgreSQL: 100,000 generated deals into pre-created accounts.

Creates a throwaway database, migrates it, creates an administrator, ten branches,
the accounts (through the services) and the pipeline, writes a CSV of deals in the
Zoho style ("$22,700.00", "15 Apr, 2021 00:02:00"), then times
``accounts.imports.import_csv`` exactly as ``crmpm import deals`` calls it (one
transaction, committed at the end), and once more for the idempotent second run.

    .venv/bin/python bench/bench_crm_import.py --deals 100000 --accounts 1000

Target: the first import of 100,000 deals under 30 s.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from accounts import pipelines, services  # noqa: E402
from accounts.imports import import_csv  # noqa: E402
from accounts.models import Deal  # noqa: E402
from crmpm import migrate  # noqa: E402
from crmpm.database import make_engine  # noqa: E402
from crmpm.users import services as users  # noqa: E402
from eps import services as eps_services  # noqa: E402

STAGES = ["Qualification", "Needs analysis", "Proposal", "Negotiation"]
MAPPING = {
    "columns": {"Deal Id": "external_id", "Deal Name": "title", "Account Id": "account", "Owner": "owner",
                "Stage": "stage", "Amount": "amount", "Created Time": "engaged_at", "Closing Date": "expected_close"},
    "values": {"stage": {**{name: name for name in STAGES}, "Closed Won": "won", "Closed Lost": "lost"}},
    "defaults": {"lost_reason": "lost (generated)"},
    "pipeline": "Bench",
}


def prepare(engine, *, n_accounts: int, n_sellers: int = 20) -> list[str]:
    """Users, branches, accounts and the pipeline; returns the sellers' emails."""
    with Session(engine) as session:
        admin = users.create(session, actor=None, email="bench-admin@example.test", name="Admin", password=None,
                             is_admin=True)
        root = eps_services.create_node(session, actor=admin, code="ENT", name="Enterprise", parent=None)
        branches = [eps_services.create_node(session, actor=admin, code=f"BR{i}", name=f"Branch {i}", parent=root)
                    for i in range(10)]
        sellers = [users.create(session, actor=admin, email=f"seller{i}@example.test", name=f"Seller {i}",
                                password=None).email for i in range(n_sellers)]
        for i in range(n_accounts):
            services.create_account(session, actor=admin, name=f"Client {i}", region=branches[i % 10],
                                    code=f"ACC{i}", external_id=f"A{i}")
        pipelines.create_pipeline(session, actor=admin, name="Bench", stages=[
            *({"name": name, "probability": 10 + 20 * index} for index, name in enumerate(STAGES)),
            {"name": "Won", "probability": 100, "kind": "won"}, {"name": "Lost", "probability": 0, "kind": "lost"}])
        session.commit()
    return sellers


def write_csv(path: Path, *, n_deals: int, n_accounts: int, sellers: list[str], seed: int = 11) -> None:
    rng = random.Random(seed)
    start = datetime(2016, 1, 1)
    stages = STAGES + ["Closed Won"] * 2 + ["Closed Lost"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(MAPPING["columns"]))
        for i in range(n_deals):
            created = start + timedelta(minutes=rng.randrange(5_000_000))
            close = created + timedelta(days=rng.randrange(1, 200))
            writer.writerow([f"DEAL-{i}", f"Deal {i}: {rng.choice(['pumps', 'valves', 'ERP', 'sensors'])}",
                             f"A{rng.randrange(n_accounts)}", rng.choice(sellers), rng.choice(stages),
                             f"${rng.randrange(100, 50_000_000) / 100:,.2f}", created.strftime("%d %b, %Y %H:%M:%S"),
                             close.strftime("%d %b, %Y %H:%M:%S")])


def timed_import(engine, *, csv_path: Path, mapping_path: Path) -> tuple[float, object]:
    with Session(engine) as session:
        admin = users.get_by_email(session, email="bench-admin@example.test")
        started = time.perf_counter()
        report = import_csv(session, actor=admin, kind="deals", path=csv_path, mapping=mapping_path)
        session.commit()
        return time.perf_counter() - started, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--postgres", default=os.environ.get("CRMPM_BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    admin_engine = make_engine(args.postgres, isolation_level="AUTOCOMMIT")
    name = f"crmpm_bench_{uuid.uuid4().hex[:8]}"
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        migrate.upgrade(url=url)
        started = time.perf_counter()
        sellers = prepare(engine, n_accounts=args.accounts)
        with tempfile.TemporaryDirectory() as folder:
            csv_path, mapping_path = Path(folder) / "deals.csv", Path(folder) / "deals.json"
            write_csv(csv_path, n_deals=args.deals, n_accounts=args.accounts, sellers=sellers)
            mapping_path.write_text(json.dumps(MAPPING), encoding="utf-8")
            print(f"prepared {args.accounts} accounts and a {csv_path.stat().st_size / 1e6:.1f} MB CSV of "
                  f"{args.deals} deals in {time.perf_counter() - started:.0f} s")
            first, report = timed_import(engine, csv_path=csv_path, mapping_path=mapping_path)
            print(f"first import:  {first:6.1f} s  {args.deals / first:8.0f} rows/s  "
                  f"created {report.created}, errors {len(report.errors)}")
            second, again = timed_import(engine, csv_path=csv_path, mapping_path=mapping_path)
            print(f"second import: {second:6.1f} s  {args.deals / second:8.0f} rows/s  "
                  f"unchanged {again.unchanged}, created {again.created}, updated {again.updated}")
        with Session(engine) as session:
            print(f"deals in the database: {session.scalar(select(func.count()).select_from(Deal))}")
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        engine.dispose()
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


if __name__ == "__main__":
    main()

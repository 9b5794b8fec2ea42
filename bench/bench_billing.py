"""Billed-and-received rollup on PostgreSQL: 10,000 invoices under a 1,000-node EPS, summed at the root.

Builds 341 EPS nodes four levels deep, 2,000 projects and 10,000 invoices (issued, partly paid and paid, a few
drafts and cancelled ones that must not count), then times ``accounts.billing.figures.figures`` at the root
against the bare SQL aggregate (one SUM over the invoices with no join, no path filter, no CASE: the ceiling
any rollup of these rows can reach) in the same run, and checks both give the same billed total.

    .venv/bin/python bench/bench_billing.py [--url postgresql://postgres@127.0.0.1:5432/postgres] [--repeat 20]

A throwaway database is created next to the given one and dropped afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from accounts.billing import figures
from accounts.billing.models import Invoice
from accounts.models import Account, AccountKind
from crmpm import migrate
from crmpm.database import make_engine, utcnow
from eps.models import EpsNode, Project, node_segment, project_segment

SEED = 20261205
LEVELS = [1, 4, 16, 64, 256]
PROJECTS = 2_000
INVOICES = 10_000
TARGET_MS = 100.0


def build(session: Session, rng: random.Random) -> None:
    now = utcnow()
    rows, levels, next_id = [], [], 1
    for depth, size in enumerate(LEVELS):
        level = []
        for n in range(size):
            parent_id, parent_path = (None, "/") if depth == 0 else levels[depth - 1][n % len(levels[depth - 1])]
            path = f"{parent_path}{node_segment(next_id)}/"
            rows.append({"id": next_id, "code": f"E{next_id:05d}", "name": f"EPS {next_id}", "parent_id": parent_id,
                         "path": path, "depth": depth, "protected": False, "protect_path": "",
                         "original_budget": Decimal("0.00"), "current_budget": Decimal("0.00"),
                         "created_at": now, "updated_at": now})
            level.append((next_id, path))
            next_id += 1
        levels.append(level)
    session.execute(insert(EpsNode), rows)
    leaves = levels[-1]
    projects = []
    for pid in range(1, PROJECTS + 1):
        node_id, node_path = rng.choice(leaves)
        projects.append({"id": pid, "code": f"P{pid:05d}", "name": f"Project {pid}", "eps_node_id": node_id,
                         "path": f"{node_path}{project_segment(pid)}/", "depth": node_path.count("/") - 1,
                         "protected": False, "protect_path": "", "description": "",
                         "planned_cost": Decimal("0.00"), "actual_cost": Decimal(rng.randint(0, 10**7)) / 100,
                         "original_budget": Decimal("0.00"), "current_budget": Decimal("0.00"),
                         "created_at": now, "updated_at": now})
    session.execute(insert(Project), projects)
    session.execute(insert(Account), [{"id": 1, "name": "Client", "eps_node_id": 2, "region_node_id": 1,
                                       "kind": AccountKind.client, "is_person": False}])
    invoices = []
    for iid in range(1, INVOICES + 1):
        subtotal = Decimal(rng.randint(1_000, 10_000_000)) / 100
        vat = (subtotal * Decimal("0.22")).quantize(Decimal("0.01"))
        total = subtotal + vat
        status = rng.choices(["issued", "partly_paid", "paid", "draft", "cancelled"], [30, 20, 40, 5, 5])[0]
        paid = {"paid": total, "partly_paid": (total / 2).quantize(Decimal("0.01"))}.get(status, Decimal("0.00"))
        issued = date(2026, 1, 1) + timedelta(days=rng.randint(0, 330))
        invoices.append({"id": iid, "year": None if status == "draft" else 2026,
                         "number": None if status == "draft" else iid, "status": status, "source": "manual",
                         "project_id": rng.randint(1, PROJECTS), "account_id": 1, "currency": "RUB",
                         "issue_date": None if status == "draft" else issued, "due_date": issued + timedelta(days=30),
                         "vat_rate": Decimal("22.00"), "subtotal": subtotal, "vat_amount": vat, "total": total,
                         "paid_amount": paid, "note": "", "cancel_reason": "", "created_at": now})
    session.execute(insert(Invoice), invoices)
    session.commit()


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    admin_url = args.url.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"crmpm_bench_{uuid.uuid4().hex[:10]}"
    admin_engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url=url)
        engine = make_engine(url)
        with Session(engine) as session:
            start = time.perf_counter()
            build(session, random.Random(SEED))
            print(f"built {INVOICES:,} invoices on {PROJECTS:,} projects in {time.perf_counter() - start:.1f} s")
            session.execute(text("ANALYZE"))
            session.commit()
        with Session(engine) as session:
            root = session.get(EpsNode, 1)
            leaves = session.scalars(select(EpsNode).where(EpsNode.depth == len(LEVELS) - 1).limit(50)).all()
            bare = (select(func.sum(Invoice.total)).where(Invoice.status.in_(("issued", "partly_paid", "paid"))))
            rollup = figures.figures(session, obj=root)
            ceiling = session.scalar(bare)
            assert rollup.billed == ceiling, (rollup.billed, ceiling)
            root_ms = timed(lambda: figures.figures(session, obj=root), args.repeat)
            bare_ms = timed(lambda: session.scalar(bare), args.repeat)
            page_ms = timed(lambda: figures.figures_of_many(session, leaves), args.repeat)
        results = {"root rollup (billed, received, outstanding, overdue, cost) ms": statistics.median(root_ms),
                   "bare SUM(total) of the billed invoices ms": statistics.median(bare_ms),
                   "a tree page of 50 nodes (one statement) ms": statistics.median(page_ms)}
        for key, value in results.items():
            print(f"{key:<60} {value:8.2f}")
        ratio = results["root rollup (billed, received, outstanding, overdue, cost) ms"] / \
            results["bare SUM(total) of the billed invoices ms"]
        print(f"{'rollup / bare aggregate':<60} {ratio:8.2f}x")
        print(f"billed at the root: {rollup.billed} (= the bare aggregate); received {rollup.received}")
        ok = statistics.median(root_ms) < TARGET_MS
        print(f"target: root rollup under {TARGET_MS:.0f} ms: {'met' if ok else 'MISSED'}")
        engine.dispose()
        return 0 if ok else 1
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of account search in every script: the accounts page's query at 100,000 accounts.

Loads N accounts (one in ten named in Cyrillic) into a throwaway PostgreSQL
database and a SQLite file, then times the accounts page's search (the first page
of ``accounts.overview.account_rows`` plus its count, as the page runs them) as an
administrator and as a seller with a viewer grant at the top, with the search rule
of ``crmpm.search`` ("now") and with the ASCII-only ``lower(name) LIKE`` it
replaced ("before"), in the same process.

    .venv/bin/python bench/bench_search.py [--accounts 100000 --repeat 15]

The search across the product (``/search``: every kind, with and without the
trigram indexes) is ``bench_search_across.py``, also run as

    .venv/bin/python bench/bench_search.py --across [--accounts 100000 --deals 200000 --repeat 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, or_, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from accounts import overview  # noqa: E402
from accounts.models import Account  # noqa: E402
from crmpm import migrate  # noqa: E402
from crmpm.database import bulk_insert, make_engine  # noqa: E402
from crmpm.users import services as users  # noqa: E402
from crmpm.users.models import User  # noqa: E402
from eps import grants  # noqa: E402
from eps import services as eps_services  # noqa: E402
from eps.models import EpsNode, Role, node_segment  # noqa: E402

BRANCHES = 10
SEARCHES = ["ЛАДОГА 4242", "ладога 4242", "account 4242", "straße"]
_NOW_RULE = overview.contains


def _before(columns, text_: str | None):
    """The rule search had before crmpm.search: lower() of the column (ASCII-only on SQLite), not escaped."""
    text_ = (text_ or "").strip()
    return or_(*(func.lower(column).like(f"%{text_.lower()}%") for column in columns)) if text_ else None


def load(engine, n_accounts: int) -> dict:
    with Session(engine) as session:
        admin = users.create(session, actor=None, email="bench-admin@example.test", name="Admin", password=None,
                             is_admin=True)
        seller = users.create(session, actor=None, email="seller@example.test", name="Seller", password=None)
        root = eps_services.create_node(session, actor=admin, code="ENT", name="Enterprise", parent=None)
        branches = [eps_services.create_node(session, actor=admin, code=f"BR{i}", name=f"Branch {i}", parent=root)
                    for i in range(BRANCHES)]
        grants.create(session, actor=admin, role=Role.viewer, target=root, user=seller)
        session.commit()
        ids = {"admin": admin.id, "seller": seller.id}
        branch_rows = [(b.id, b.path) for b in branches]
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with Session(engine) as session:
        base = session.scalar(select(func.max(EpsNode.id))) + 1
        nodes, accounts = [], []
        for i in range(n_accounts):
            branch_id, branch_path = branch_rows[i % BRANCHES]
            name = f"ООО Ладога {i}" if i % 10 == 0 else f"Account {i}"
            nodes.append({"id": base + i, "code": f"ACC{i}", "name": name, "parent_id": branch_id,
                          "path": f"{branch_path}{node_segment(base + i)}/", "depth": 2, "protected": False,
                          "protect_path": "", "created_at": created, "updated_at": created,
                          "original_budget": Decimal("0.00"), "current_budget": Decimal("0.00")})
            accounts.append({"id": i + 1, "name": name, "kind": "client", "sector": "", "segment": "",
                             "region_node_id": branch_id, "eps_node_id": base + i, "owner_id": ids["seller"],
                             "created_at": created, "updated_at": created})
        bulk_insert(session, EpsNode.__table__, nodes)
        bulk_insert(session, Account.__table__, accounts)
        session.commit()
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table in ("eps_nodes", "accounts"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT MAX(id) FROM {table}))"))
            connection.execute(text("ANALYZE"))
    return ids


def measure(engine, ids: dict, repeat: int) -> list[dict]:
    results = []
    with Session(engine) as session:
        for rule_name, rule in (("now", overview.contains), ("before", _before)):
            overview.contains = rule
            try:
                for who in ("admin", "seller"):
                    user = session.get(User, ids[who])
                    for search in SEARCHES:
                        def page():
                            query = overview.account_rows(session, user=user, search=search)
                            rows = session.execute(query.limit(50)).all()
                            total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
                            return len(rows), total

                        found = page()
                        times = []
                        for _ in range(repeat):
                            started = time.perf_counter()
                            page()
                            times.append((time.perf_counter() - started) * 1000)
                        times.sort()
                        results.append({"backend": engine.dialect.name, "rule": rule_name, "who": who,
                                        "search": search, "found": found[1], "median": statistics.median(times),
                                        "p95": times[int(0.95 * (len(times) - 1))]})
            finally:
                overview.contains = _NOW_RULE
    return results


def main() -> int:
    if "--across" in sys.argv:
        sys.argv.remove("--across")
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import bench_search_across

        return bench_search_across.main()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--postgres", default=os.environ.get("CRMPM_BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        migrate.upgrade(url=url)
        engine = make_engine(url)
        rows += measure(engine, load(engine, args.accounts), args.repeat)
        engine.dispose()
    admin_engine = make_engine(args.postgres, isolation_level="AUTOCOMMIT")
    name = f"crmpm_bench_{uuid.uuid4().hex[:8]}"
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
        migrate.upgrade(url=url)
        engine = make_engine(url)
        rows += measure(engine, load(engine, args.accounts), args.repeat)
        engine.dispose()
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()
    print(f"{'backend':<11}{'rule':<8}{'who':<8}{'search':<15}{'found':>7}{'median ms':>11}{'p95 ms':>9}")
    for row in rows:
        print(f"{row['backend']:<11}{row['rule']:<8}{row['who']:<8}{row['search']:<15}{row['found']:>7}"
              f"{row['median']:>11.1f}{row['p95']:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

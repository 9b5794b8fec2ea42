"""Benchmark of a segment's live count over 100,000 accounts, on SQLite and PostgreSQL, beside a ceiling.

Creates a throwaway database of each kind, migrates it, loads generated accounts (each under one of ten
branches), their contacts, won and open deals, interactions, CSAT answers, tags and consents, then times
``accounts.marketing.segments.count`` for a few segments, as an administrator (no visibility filter) and as a
sales user whose rights come from a viewer grant at the top of the EPS (every row passes the filter: the
realistic worst case). The ceiling is a bare ``SELECT count(*)`` of the same table (contacts or accounts) in the
same run: what counting that many rows costs at all.

    .venv/bin/python bench/bench_segments.py --accounts 100000            # SQLite and PostgreSQL
    .venv/bin/python bench/bench_segments.py --accounts 100000 --only sqlite

Target (issue 17): a segment over 100,000 accounts counts in under 200 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from accounts import pipelines  # noqa: E402
from accounts.marketing import segments  # noqa: E402
from accounts.marketing.models import Segment  # noqa: E402
from accounts.models import Account, Contact  # noqa: E402
from crmpm import migrate  # noqa: E402
from crmpm.database import Base, make_engine  # noqa: E402
from crmpm.users import services as users  # noqa: E402
from crmpm.users.models import User  # noqa: E402
from eps import grants  # noqa: E402
from eps import services as eps_services  # noqa: E402
from eps.models import Role, node_segment, project_segment  # noqa: E402

BRANCHES = 10
SECTORS = ["retail", "energy", "it", "construction", "logistics", "finance"]
PRODUCTS = ["ERP", "WMS", "BI", "SCADA"]
TARGET_MS = 200
BATCH = 5000


def _insert(connection, table: str, rows) -> None:
    table = Base.metadata.tables[table]
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            connection.execute(table.insert(), batch)
            batch = []
    if batch:
        connection.execute(table.insert(), batch)


def generate(engine, *, n_accounts: int, seed: int = 17) -> dict:
    """Load the generated data; returns the ids the measurements need."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    with Session(engine) as session:
        admin = users.create(session, actor=None, email="bench-admin@example.test", name="Admin", password=None,
                             is_admin=True)
        sellers = [users.create(session, actor=None, email=f"seller{i}@example.test", name=f"Seller {i}",
                                password=None) for i in range(20)]
        root = eps_services.create_node(session, actor=admin, code="ENT", name="Enterprise", parent=None)
        branches = [eps_services.create_node(session, actor=admin, code=f"BR{i}", name=f"Branch {i}", parent=root)
                    for i in range(BRANCHES)]
        grants.create(session, actor=admin, role=Role.viewer, target=root, user=sellers[0])
        pipeline = pipelines.create_pipeline(session, actor=admin, name="B2B", stages=[
            {"name": "Qualification", "probability": 10}, {"name": "Proposal", "probability": 50},
            {"name": "Won", "probability": 100, "kind": "won"}, {"name": "Lost", "probability": 0, "kind": "lost"}])
        stage = {s.name: s.id for s in pipeline.stages}
        session.commit()
        ids = {"admin": admin.id, "seller": sellers[0].id, "branches": [b.id for b in branches[:3]],
               "proposal": stage["Proposal"]}
        seller_ids = [s.id for s in sellers]
        branch_rows = [(b.id, b.path) for b in branches]
        pipeline_id = pipeline.id

    with engine.begin() as connection:
        base_node = connection.scalar(text("SELECT MAX(id) FROM eps_nodes")) + 1
        nodes, accounts = [], []
        for i in range(n_accounts):
            node_id = base_node + i
            branch_id, branch_path = branch_rows[i % BRANCHES]
            created = now - timedelta(days=rng.randrange(30, 900))
            nodes.append({"id": node_id, "code": f"ACC{i}", "name": f"Account {i}", "parent_id": branch_id,
                          "path": f"{branch_path}{node_segment(node_id)}/", "depth": 2, "protected": False,
                          "protect_path": "", "created_at": created, "updated_at": created,
                          "original_budget": Decimal("0.00"), "current_budget": Decimal("0.00")})
            accounts.append({"id": i + 1, "name": f"Account {i}", "kind": "client" if i % 3 else "prospect",
                             "sector": rng.choice(SECTORS), "segment": "", "region_node_id": branch_id,
                             "eps_node_id": node_id, "owner_id": rng.choice(seller_ids), "created_at": created,
                             "updated_at": created})
        _insert(connection, "eps_nodes", nodes)
        _insert(connection, "accounts", accounts)

        def contacts():
            contact_id = 0
            for account in accounts:
                for _ in range(rng.choice((1, 1, 2, 2, 3))):
                    contact_id += 1
                    yield {"id": contact_id, "account_id": account["id"], "first_name": "P", "last_name": f"C{contact_id}",
                           "email": f"c{contact_id}@example.test" if rng.random() < 0.8 else None,
                           "created_at": account["created_at"]}

        contact_rows = list(contacts())
        _insert(connection, "contacts", contact_rows)
        _insert(connection, "contact_consents", (
            {"contact_id": c["id"], "channel": "email", "consent_source": "form", "opt_out_source": "",
             "consented_at": now if rng.random() < 0.7 else None,
             "opted_out_at": now if rng.random() < 0.1 else None, "updated_at": now}
            for c in contact_rows if rng.random() < 0.5))
        _insert(connection, "account_tags", ({"account_id": a["id"], "tag": tag} for a in accounts
                                             for tag in rng.sample(["vip", "export", "b2g", "smb"], rng.randrange(0, 3))))

        projects, deals, lines = [], [], []
        for d in range(int(n_accounts * 1.5)):
            account = accounts[rng.randrange(n_accounts)]
            node = nodes[account["id"] - 1]
            project_id = d + 1
            opened = now - timedelta(days=rng.randrange(10, 800))
            won = rng.random() < 0.6
            closed = opened + timedelta(days=rng.randrange(1, 9)) if won else None
            projects.append({"id": project_id, "code": f"D{project_id}", "name": f"Deal {project_id}",
                             "eps_node_id": node["id"], "path": f"{node['path']}{project_segment(project_id)}/",
                             "depth": 3, "protected": False, "protect_path": "", "description": "",
                             "planned_cost": Decimal("0.00"), "actual_cost": Decimal("0.00"), "created_at": opened,
                             "updated_at": opened, "original_budget": Decimal("0.00"),
                             "current_budget": Decimal("0.00"), "is_deal": True})
            deals.append({"id": project_id, "project_id": project_id, "account_id": account["id"],
                          "pipeline_id": pipeline_id, "stage_id": stage["Won"] if won else rng.choice(
                              [stage["Qualification"], stage["Proposal"], stage["Lost"]]),
                          "amount": Decimal(rng.randrange(10_000, 2_000_000)), "currency": "RUB",
                          "owner_id": account["owner_id"], "product": rng.choice(PRODUCTS), "next_step": "",
                          "lost_reason": "", "created_at": opened, "stage_entered_at": closed or opened,
                          "closed_at": closed})
            if won:
                lines.append({"deal_id": project_id, "product": rng.choice(PRODUCTS), "quantity": Decimal("1"),
                              "unit_price": Decimal("100.00")})
        _insert(connection, "projects", projects)
        _insert(connection, "deals", deals)
        _insert(connection, "deal_lines", lines)
        _insert(connection, "interactions", (
            {"account_id": rng.randrange(1, n_accounts + 1), "kind": "call", "direction": "outbound",
             "occurred_at": now - timedelta(days=rng.randrange(0, 700)), "reason": "manual", "details": {},
             "at": now} for _ in range(n_accounts * 3)))
        _insert(connection, "survey_answers", (
            {"account_id": rng.randrange(1, n_accounts + 1), "kind": "csat", "score": rng.randint(1, 5),
             "comment": "", "answered_at": now - timedelta(days=rng.randrange(0, 400))} for _ in range(n_accounts // 2)))
        ids["contacts"] = len(contact_rows)
        if engine.dialect.name == "postgresql":
            for table in ("eps_nodes", "projects", "accounts", "deals", "contacts"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    return ids


FILTERS = {
    # name: (subject, filter)
    "campaign contacts": ("contacts", {"branch_ids": "{branches}", "account_kinds": ["client"],
                                       "lifetime_value_min": "500000", "no_contact_days": 90, "has_email": True,
                                       "not_opted_out_channel": "email"}),
    "rfm champions+loyal": ("accounts", {"rfm_segments": ["champions", "loyal"]}),
    "sector+tag+csat": ("accounts", {"sectors": ["retail", "it"], "tags": ["vip"], "satisfaction_min": 4}),
    "open deal+product": ("contacts", {"open_deal_stage_ids": "{proposal}", "products": ["ERP"],
                                       "consent_channel": "email"}),
    "every contact": ("contacts", {}),
}


def measure(fn, repeat: int) -> dict:
    fn()  # warm the caches and the plan
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"median_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))]}


def run(engine, ids: dict, repeat: int) -> list[dict]:
    rows = []
    with Session(engine) as session:
        admin = session.get(User, ids["admin"])
        made = {}
        for name, (subject, flt) in FILTERS.items():
            flt = {key: ids["branches"] if value == "{branches}" else [ids["proposal"]] if value == "{proposal}"
                   else value for key, value in flt.items()}
            made[name] = segments.create_segment(session, actor=admin, name=name, subject=subject, flt=flt)
        session.commit()
        ceilings = {}
        for model in (Contact, Account):
            ceilings[model] = measure(lambda: session.scalar(select(func.count()).select_from(model)), repeat)
        for who in ("admin", "seller"):
            user = session.get(User, ids[who])
            for name, segment in made.items():
                count = segments.count(session, segment, user=user)
                figures = measure(lambda: segments.count(session, segment, user=user), repeat)
                ceiling = ceilings[Account if segment.subject == "accounts" else Contact]
                rows.append({"segment": name, "who": who, "members": count, **figures,
                             "ceiling_ms": ceiling["median_ms"]})
        session.query(Segment).delete()
        session.commit()
    return rows


def report(backend: str, rows: list[dict]) -> None:
    print(f"\n{backend}")
    print(f"{'segment':<22}{'who':<8}{'members':>9}{'median ms':>11}{'p95 ms':>9}{'ceiling ms':>12}{'ratio':>7}  target")
    for row in rows:
        verdict = "ok" if row["p95_ms"] < TARGET_MS else "OVER"
        ratio = row["median_ms"] / row["ceiling_ms"] if row["ceiling_ms"] else float("nan")
        print(f"{row['segment']:<22}{row['who']:<8}{row['members']:>9}{row['median_ms']:>11.1f}{row['p95_ms']:>9.1f}"
              f"{row['ceiling_ms']:>12.1f}{ratio:>7.1f}  < {TARGET_MS} {verdict}")


def bench(url: str, n_accounts: int, repeat: int) -> None:
    migrate.upgrade(url=url)
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        ids = generate(engine, n_accounts=n_accounts)
        print(f"{engine.dialect.name}: generated {n_accounts} accounts, {ids['contacts']} contacts, "
              f"{int(n_accounts * 1.5)} deals, {n_accounts * 3} interactions in {time.perf_counter() - started:.0f} s")
        report(engine.dialect.name, run(engine, ids, repeat))
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--postgres", default=os.environ.get("CRMPM_BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as folder:
            bench(f"sqlite:///{Path(folder) / 'bench.db'}", args.accounts, args.repeat)
    if args.only != "sqlite":
        admin_engine = make_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"crmpm_bench_{uuid.uuid4().hex[:8]}"
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            bench(make_url(args.postgres).set(database=name).render_as_string(hide_password=False), args.accounts,
                  args.repeat)
        finally:
            with admin_engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin_engine.dispose()


if __name__ == "__main__":
    main()

"""Benchmark of the CRM's hot reads on PostgreSQL: pipeline board, funnel, account timeline.

Creates a throwaway database, migrates it, bulk-loads generated accounts, deals
(with stage histories) and interactions with COPY, then times the service calls
the API makes, as a sales user whose rights come from a viewer grant at the top
of the EPS (the realistic worst case: every row passes the visibility filter)
and as an administrator (no filter).

    .venv/bin/python bench/bench_crm.py --accounts 100000 --deals 200000 --interactions 1000000

Targets at that scale: board < 100 ms, funnel < 500 ms, timeline < 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from accounts import activities, analytics, deals, pipelines, services  # noqa: E402
from crmpm import migrate  # noqa: E402
from crmpm.database import make_engine  # noqa: E402
from crmpm.users import services as users  # noqa: E402
from eps import grants  # noqa: E402
from eps import services as eps_services  # noqa: E402
from eps.models import Role, node_segment, project_segment  # noqa: E402

BRANCHES = 10
STAGES = [("Qualification", 10), ("Needs analysis", 25), ("Proposal", 50), ("Negotiation", 75)]
KINDS = ["call", "email", "meeting", "messenger", "web_form", "chat", "letter"]
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _copy(connection, table: str, columns: list[str], rows) -> None:
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _reset_sequence(connection, table: str) -> None:
    connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))


def generate(engine, *, n_accounts: int, n_deals: int, n_interactions: int, seed: int = 7) -> dict:
    """Load the generated data; returns the ids the measurements need."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    with Session(engine) as session:
        admin = users.create(session, actor=None, email="bench-admin@example.test", name="Admin", password=None,
                             is_admin=True)
        sellers = [users.create(session, actor=None, email=f"seller{i}@example.test", name=f"Seller {i}",
                                password=None) for i in range(20)]
        sales = users.create_team(session, actor=None, name="Sales", member_ids=[s.id for s in sellers])
        root = eps_services.create_node(session, actor=admin, code="ENT", name="Enterprise", parent=None)
        branches = [eps_services.create_node(session, actor=admin, code=f"BR{i}", name=f"Branch {i}", parent=root)
                    for i in range(BRANCHES)]
        grants.create(session, actor=admin, role=Role.viewer, target=root, team=sales)
        grants.create(session, actor=admin, role=Role.editor, target=branches[0], user=sellers[0])
        pipeline = pipelines.create_pipeline(session, actor=admin, name="B2B", stages=[
            *({"name": name, "probability": p} for name, p in STAGES),
            {"name": "Won", "probability": 100, "kind": "won"}, {"name": "Lost", "probability": 0, "kind": "lost"}])
        stage_ids = [stage.id for stage in pipeline.stages]
        session.commit()
        ids = {"admin": admin.id, "seller": sellers[0].id, "pipeline": pipeline.id}
        seller_ids = [s.id for s in sellers]
        branch_rows = [(b.id, b.path) for b in branches]

    with engine.begin() as connection:
        base_node = connection.scalar(text("SELECT MAX(id) FROM eps_nodes")) + 1
        accounts = []
        node_rows, account_rows = [], []
        for i in range(n_accounts):
            node_id = base_node + i
            branch_id, branch_path = branch_rows[i % BRANCHES]
            path = f"{branch_path}{node_segment(node_id)}/"
            created = START + timedelta(days=rng.randrange(0, 700))
            node_rows.append((node_id, f"ACC{i}", f"Account {i}", branch_id, path, 2, False, "", created, created,
                              Decimal("0.00"), Decimal("0.00")))
            kind = "client" if i % 3 else "prospect"
            account_rows.append((i + 1, f"Account {i}", kind, "", "", branch_id, node_id,
                                 rng.choice(seller_ids), created, created))
            accounts.append((i + 1, node_id, path, created))
        _copy(connection, "eps_nodes", ["id", "code", "name", "parent_id", "path", "depth", "protected",
                                        "protect_path", "created_at", "updated_at", "original_budget",
                                        "current_budget"], node_rows)
        _copy(connection, "accounts", ["id", "name", "kind", "sector", "segment", "region_node_id", "eps_node_id",
                                       "owner_id", "created_at", "updated_at"], account_rows)
        del node_rows, account_rows

        project_rows, deal_rows, change_rows = [], [], []
        change_id = 0
        deal_accounts = []
        for d in range(n_deals):
            account_id, node_id, node_path, account_created = accounts[rng.randrange(n_accounts)]
            project_id = d + 1
            opened = min(account_created + timedelta(days=rng.randrange(0, 400)), now - timedelta(days=1))
            outcome = rng.random()
            if outcome < 0.30:
                path = list(range(len(STAGES))) + [4]
            elif outcome < 0.55:
                path = list(range(rng.randrange(1, len(STAGES) + 1))) + [5]
            else:
                path = list(range(rng.randrange(1, len(STAGES) + 1)))
            at = opened
            previous = None
            for step in path:
                change_id += 1
                change_rows.append((change_id, project_id, previous, stage_ids[step], at, ""))
                previous = stage_ids[step]
                at = min(at + timedelta(days=rng.randrange(1, 30), hours=rng.randrange(24)), now)
            last_at = change_rows[-1][4]
            final = path[-1]
            closed = last_at if final >= 4 else None
            amount = Decimal(rng.randrange(10_000, 5_000_000)).quantize(Decimal("0.01"))
            expected = (opened + timedelta(days=rng.randrange(30, 240))).date() if final < 4 else None
            project_rows.append((project_id, f"D{project_id}", f"Deal {project_id}", node_id,
                                 f"{node_path}{project_segment(project_id)}/", 3, False, "", "", Decimal("0.00"), Decimal("0.00"),
                                 opened, opened, Decimal("0.00"), Decimal("0.00"), True))
            reached = stage_ids[max(step for step in path if step != 5)]
            deal_rows.append((project_id, project_id, account_id, None, ids["pipeline"],
                              stage_ids[final], reached, amount, "RUB", None, expected, rng.choice(seller_ids),
                              rng.choice(["ERP", "WMS", "BI", "SCADA", ""]), "", "lost" if final == 5 else "",
                              opened, last_at, closed))
            deal_accounts.append((project_id, account_id))
        _copy(connection, "projects", ["id", "code", "name", "eps_node_id", "path", "depth", "protected",
                                       "protect_path", "description", "planned_cost", "actual_cost", "created_at",
                                       "updated_at", "original_budget", "current_budget", "is_deal"], project_rows)
        _copy(connection, "deals", ["id", "project_id", "account_id", "contact_id", "pipeline_id", "stage_id",
                                    "reached_stage_id", "amount", "currency", "probability", "expected_close", "owner_id", "product",
                                    "next_step", "lost_reason", "created_at", "stage_entered_at", "closed_at"],
              deal_rows)
        _copy(connection, "deal_stage_changes", ["id", "deal_id", "from_stage_id", "to_stage_id", "at", "note"],
              change_rows)
        n_changes = len(change_rows)
        del project_rows, deal_rows, change_rows

        def interactions():
            for i in range(n_interactions):
                if i % 4 == 0 and deal_accounts:
                    deal_id, account_id = deal_accounts[rng.randrange(len(deal_accounts))]
                else:
                    deal_id, account_id = None, rng.randrange(1, n_accounts + 1)
                at = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 1000))
                yield (i + 1, account_id, deal_id, rng.choice(KINDS), rng.choice(("inbound", "outbound")),
                       min(at, now), rng.choice(seller_ids), f"Touch {i}", "", None, at)

        _copy(connection, "interactions", ["id", "account_id", "deal_id", "kind", "direction", "occurred_at",
                                           "user_id", "subject", "summary", "duration_minutes", "created_at"],
              interactions())

        def tasks():
            for i in range(n_deals // 2):
                deal_id, account_id = deal_accounts[i * 2]
                due = START + timedelta(days=rng.randrange(0, 1000))
                yield (i + 1, f"Follow up {i}", account_id, deal_id, rng.choice(seller_ids), due, "open", due)

        _copy(connection, "tasks", ["id", "title", "account_id", "deal_id", "assignee_id", "due_at", "status",
                                    "created_at"], tasks())
        for table in ("eps_nodes", "projects", "accounts", "deals", "deal_stage_changes", "interactions", "tasks"):
            _reset_sequence(connection, table)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    # The busiest account: the timeline's worst case among a sample.
    with engine.connect() as connection:
        ids["busy_account"] = connection.scalar(text(
            "SELECT account_id FROM interactions GROUP BY account_id ORDER BY COUNT(*) DESC LIMIT 1"))
        ids["changes"] = n_changes
    return ids


def measure(label: str, fn, repeat: int) -> dict:
    fn()  # warm the caches and the plan
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"label": label, "median_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))],
            "max_ms": times[-1]}


def run(engine, ids: dict, repeat: int) -> list[dict]:
    from crmpm.users.models import User

    results = []
    with Session(engine) as session:
        pipeline = pipelines.get_pipeline_or_raise(session, pipeline_id=ids["pipeline"])
        for who in ("seller", "admin"):
            user = session.get(User, ids[who])

            def board():
                columns = deals.board(session, user=user, pipeline=pipeline, per_stage=20)
                assert sum(column.count for column in columns) > 0

            def funnel():
                assert analytics.funnel(session, user=user, pipeline=pipeline)["total"] > 0

            def timeline():
                account = services.get_account_or_raise(session, user=user, account_id=ids["busy_account"])
                query = activities.timeline(session, account=account)
                session.execute(query.limit(50)).all()
                from sqlalchemy import func, select

                session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))

            for label, fn in (("board", board), ("funnel", funnel), ("timeline", timeline)):
                results.append({**measure(f"{label} ({who})", fn, repeat), "who": who})
                session.expire_all()
    return results


TARGETS_MS = {"board": 100, "funnel": 500, "timeline": 50}


def report(rows: list[dict]) -> None:
    print(f"{'measurement':<22}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}  target")
    for row in rows:
        target = TARGETS_MS[row["label"].split()[0]]
        verdict = "ok" if row["p95_ms"] < target else "OVER"
        print(f"{row['label']:<22}{row['median_ms']:>11.1f}{row['p95_ms']:>9.1f}{row['max_ms']:>9.1f}"
              f"  < {target} {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres", default=os.environ.get("CRMPM_BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards (its URL is printed).")
    parser.add_argument("--reuse", metavar="URL", help="Measure a database kept by an earlier --keep run.")
    args = parser.parse_args()
    if args.reuse:
        engine = make_engine(args.reuse)
        with engine.connect() as connection:
            ids = {
                "admin": connection.scalar(text("SELECT id FROM users WHERE email = 'bench-admin@example.test'")),
                "seller": connection.scalar(text("SELECT id FROM users WHERE email = 'seller0@example.test'")),
                "pipeline": connection.scalar(text("SELECT id FROM pipelines WHERE name = 'B2B'")),
                "busy_account": connection.scalar(text(
                    "SELECT account_id FROM interactions GROUP BY account_id ORDER BY COUNT(*) DESC LIMIT 1")),
            }
        report(run(engine, ids, args.repeat))
        engine.dispose()
        return

    admin_engine = make_engine(args.postgres, isolation_level="AUTOCOMMIT")
    name = f"crmpm_bench_{uuid.uuid4().hex[:8]}"
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        migrate.upgrade(url=url)
        started = time.perf_counter()
        ids = generate(engine, n_accounts=args.accounts, n_deals=args.deals, n_interactions=args.interactions)
        print(f"generated {args.accounts} accounts, {args.deals} deals ({ids['changes']} stage changes), "
              f"{args.interactions} interactions in {time.perf_counter() - started:.0f} s")
        report(run(engine, ids, args.repeat))
    finally:
        engine.dispose()
        if args.keep:
            print(f"kept {url}")
        else:
            with admin_engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


if __name__ == "__main__":
    main()

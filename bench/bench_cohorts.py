"""Cohort benchmark: 200,000 deals of 50,000 accounts, on SQLite and PostgreSQL.

The data: 10 branches under a root, 50,000 accounts spread over them (sectors, 20 owners), 200,000 deals opened
from January 2023 to November 2026 (45 % won, 25 % lost, the rest open; amounts 10,000 to 5,000,000), and
300,000 interactions in the last two years. Bulk-inserted (fixture data: no audit, no events).

Timed, median of ``--repeat`` interleaved rounds on a warm session, as of 2026-11-30:

* ``cohorts_admin_ms``: ``accounts.retention.cohorts`` for an administrator, monthly, every cohort, 12 periods
  each, churn after 6 months (the whole answer the API and the page build);
* ``cohorts_reader_ms``: the same for a user who reads 5 of the 10 branches (the rights filter on accounts and
  deals);
* ``cohorts_quarter_ms``: the administrator's by quarter, 8 periods;
* ``cohorts_branch_ms``: the administrator's for one branch and one sector;
* ``ceiling_sql_ms``: the ceiling beside them, a bare aggregate over the same deals — won value per account and
  month (``SELECT account_id, month, sum(amount) … WHERE won GROUP BY``, its 88,000 rows fetched), no rights, no
  cohorts, no churn: what a cohort answer built outside the database would at least cost;
* ``scan_sql_ms``: the floor, reading the won deals once (``SELECT count(*), sum(amount) … WHERE won``);
* ``python_loop_ms``: a fixed loop of 3 million additions (how fast the machine was during the run).

    PYTHONPATH=. .venv/bin/python bench/bench_cohorts.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--repeat 5] [--backend postgresql|sqlite|both] [--deals 200000] [--keep FOLDER | --reuse URL]

Throwaway databases (a PostgreSQL database next to the given one, a temporary SQLite file) are made and dropped.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text, type_coerce  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from accounts import retention  # noqa: E402
from accounts.analytics import AccountScope, _month  # noqa: E402
from accounts.models import (  # noqa: E402
    Account, AccountKind, Deal, Direction, Interaction, InteractionKind, Pipeline, PipelineStage, StageKind,
)
from crmpm import migrate  # noqa: E402
from crmpm.database import Money, make_engine, utcnow  # noqa: E402
from crmpm.users.models import User  # noqa: E402
from eps.models import EpsNode, Grant, Project, Role, node_segment, project_segment  # noqa: E402

SEED = 20261205
BRANCHES, OWNERS, SECTORS = 10, 20, ("Retail", "Energy", "Logistics", "Banking")
TARGET_MS = 1000.0
AS_OF = date(2026, 11, 30)
FIRST = datetime(2023, 1, 1, tzinfo=timezone.utc)
LAST = datetime(2026, 11, 30, tzinfo=timezone.utc)
CHUNK = 10_000


def _moment(rng: random.Random, start: datetime = FIRST, end: datetime = LAST) -> datetime:
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def _insert(session: Session, model, rows: list[dict]) -> None:
    for chunk in range(0, len(rows), CHUNK):
        session.execute(insert(model), rows[chunk:chunk + CHUNK])


def build(session: Session, rng: random.Random, *, n_accounts: int, n_deals: int, n_interactions: int) -> dict:
    """Bulk-insert the data (fixture data: no audit, no listener work)."""
    now = utcnow()
    zero = Decimal("0.00")
    owners = [User(email=f"owner{i}@bench.test", name=f"Owner {i}", password_hash="x") for i in range(OWNERS)]
    admin = User(email="admin@bench.test", name="Admin", is_admin=True, password_hash="x")
    reader = User(email="reader@bench.test", name="Reader", password_hash="x")
    session.add_all([*owners, admin, reader])
    pipeline = Pipeline(name="B2B")
    session.add(pipeline)
    session.flush()
    stages = {}
    for position, (name, probability, kind) in enumerate(
            [("Qualification", 10, StageKind.open), ("Proposal", 50, StageKind.open),
             ("Won", 100, StageKind.won), ("Lost", 0, StageKind.lost)]):
        stage = PipelineStage(pipeline_id=pipeline.id, name=name, position=position, probability=probability,
                              kind=kind)
        session.add(stage)
        stages[name] = stage
    session.flush()
    nodes = [{"id": 1, "code": "ROOT", "name": "Company", "parent_id": None, "path": f"/{node_segment(1)}/",
              "depth": 0, "protected": False, "protect_path": "", "original_budget": zero, "current_budget": zero,
              "created_at": now, "updated_at": now}]
    for i in range(2, BRANCHES + 2):
        nodes.append({**nodes[0], "id": i, "code": f"BR{i:02d}", "name": f"Branch {i}", "parent_id": 1,
                      "path": f"/{node_segment(1)}/{node_segment(i)}/", "depth": 1})
    branches = nodes[1:]
    accounts, account_places = [], []
    for a in range(1, n_accounts + 1):
        branch = branches[a % BRANCHES]
        node_id = BRANCHES + 1 + a
        path = f"{branch['path']}{node_segment(node_id)}/"
        nodes.append({**nodes[0], "id": node_id, "code": f"ACC{a}", "name": f"Account {a}",
                      "parent_id": branch["id"], "path": path, "depth": 2})
        accounts.append({"id": a, "name": f"Account {a}", "kind": AccountKind.client if a % 3 else AccountKind.prospect,
                         "sector": SECTORS[a % len(SECTORS)], "segment": "", "region_node_id": branch["id"],
                         "eps_node_id": node_id, "owner_id": owners[a % OWNERS].id, "created_at": now,
                         "updated_at": now})
        account_places.append((node_id, path))
    _insert(session, EpsNode, nodes)
    _insert(session, Account, accounts)
    projects, deals = [], []
    for d in range(1, n_deals + 1):
        account = rng.randrange(1, n_accounts + 1)
        node_id, path = account_places[account - 1]
        opened = _moment(rng)
        outcome = rng.random()
        stage = "Won" if outcome < 0.45 else "Lost" if outcome < 0.70 else rng.choice(["Qualification", "Proposal"])
        closed = min(opened + timedelta(days=rng.randrange(1, 120)), LAST) if stage in ("Won", "Lost") else None
        projects.append({"id": d, "code": f"D{d}", "name": f"Deal {d}", "eps_node_id": node_id,
                         "path": f"{path}{project_segment(d)}/", "depth": 3, "protected": False, "protect_path": "",
                         "description": "", "planned_cost": zero, "actual_cost": zero, "original_budget": zero,
                         "current_budget": zero, "created_at": opened, "updated_at": opened, "is_deal": True})
        deals.append({"id": d, "project_id": d, "account_id": account, "pipeline_id": pipeline.id,
                      "stage_id": stages[stage].id, "reached_stage_id": stages[stage if stage != "Lost" else "Proposal"].id,
                      "amount": Decimal(rng.randrange(10_000, 5_000_000)), "currency": "RUB",
                      "owner_id": owners[rng.randrange(OWNERS)].id, "product": "", "next_step": "",
                      "lost_reason": "Price" if stage == "Lost" else "", "created_at": opened,
                      "stage_entered_at": closed or opened, "closed_at": closed})
    _insert(session, Project, projects)
    _insert(session, Deal, deals)
    del projects, deals
    kinds = list(InteractionKind)
    interactions = [{"id": i, "account_id": rng.randrange(1, n_accounts + 1), "kind": rng.choice(kinds),
                     "direction": Direction.outbound, "occurred_at": _moment(rng, LAST - timedelta(days=730)),
                     "user_id": owners[rng.randrange(OWNERS)].id, "subject": "", "summary": "", "created_at": now}
                    for i in range(1, n_interactions + 1)]
    _insert(session, Interaction, interactions)
    for branch in branches[:5]:
        session.execute(insert(Grant).values(user_id=reader.id, eps_node_id=branch["id"], role=Role.viewer,
                                             created_at=now))
    return {"admin_id": admin.id, "reader_id": reader.id, "branch_id": branches[0]["id"]}


def _loop() -> int:
    total = 0
    for i in range(3_000_000):
        total += i
    return total


def run(url: str, repeat: int, *, n_deals: int, reuse: bool = False) -> dict:
    engine = make_engine(url)
    results: dict = {}
    try:
        if reuse:
            with Session(engine) as session:
                ids = {"admin_id": session.scalar(select(User.id).where(User.email == "admin@bench.test")),
                       "reader_id": session.scalar(select(User.id).where(User.email == "reader@bench.test")),
                       "branch_id": 2}
                n_deals = session.scalar(select(func.count()).select_from(Deal))
        else:
            migrate.upgrade(url=url)
            with Session(engine) as session:
                start = time.perf_counter()
                ids = build(session, random.Random(SEED), n_accounts=n_deals // 4, n_deals=n_deals,
                            n_interactions=n_deals * 3 // 2)
                session.commit()
                results["build_s"] = time.perf_counter() - start
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
        with Session(engine) as session:
            admin, reader = session.get(User, ids["admin_id"]), session.get(User, ids["reader_id"])
            branch = session.get(EpsNode, ids["branch_id"])
            check = retention.cohorts(session, user=admin, as_of=AS_OF)
            results["deals"] = n_deals
            results["cohorts"] = len(check["cohorts"])
            results["cohort_accounts"] = sum(cohort["size"] for cohort in check["cohorts"])
            results["churned_accounts"] = sum(cohort["churned"] for cohort in check["cohorts"])
            results["reader_cohort_accounts"] = sum(
                cohort["size"] for cohort in retention.cohorts(session, user=reader, as_of=AS_OF)["cohorts"])
            month = _month(session, Deal.closed_at)
            # On SQLite "+ 0" keeps the planner off the account index (one probe per row), as the service does:
            # the ceiling is the cheapest form of the bare aggregate.
            account = Deal.account_id + 0 if engine.dialect.name == "sqlite" else Deal.account_id
            ceiling = (select(account, month, type_coerce(func.sum(Deal.amount), Money()))
                       .join(PipelineStage, PipelineStage.id == Deal.stage_id)
                       .where(PipelineStage.kind == StageKind.won, Deal.closed_at.is_not(None))
                       .group_by(account, month))
            scan = (select(func.count(), type_coerce(func.sum(Deal.amount), Money()))
                    .join(PipelineStage, PipelineStage.id == Deal.stage_id)
                    .where(PipelineStage.kind == StageKind.won, Deal.closed_at.is_not(None)))
            connection = session.connection()
            results["ceiling_rows"] = len(connection.execute(ceiling).fetchall())
            measured = {
                "cohorts_admin_ms": lambda: retention.cohorts(session, user=admin, as_of=AS_OF),
                "cohorts_reader_ms": lambda: retention.cohorts(session, user=reader, as_of=AS_OF),
                "cohorts_quarter_ms": lambda: retention.cohorts(session, user=admin, period="quarter", periods=8,
                                                                as_of=AS_OF),
                "cohorts_branch_ms": lambda: retention.cohorts(
                    session, user=admin, scope=AccountScope(branch=branch, sector="Retail"), as_of=AS_OF),
                "ceiling_sql_ms": lambda: connection.execute(ceiling).fetchall(),
                "scan_sql_ms": lambda: connection.execute(scan).fetchall(),
                "python_loop_ms": _loop,
            }
            samples: dict[str, list[float]] = {key: [] for key in measured}
            for fn in measured.values():
                fn()  # warm-up
            for _round in range(repeat):
                for key, fn in measured.items():
                    begin = time.perf_counter()
                    fn()
                    samples[key].append((time.perf_counter() - begin) * 1000)
            results.update({key: statistics.median(values) for key, values in samples.items()})
            results["ratio_admin_to_ceiling"] = results["cohorts_admin_ms"] / results["ceiling_sql_ms"]
            results["ratio_reader_to_ceiling"] = results["cohorts_reader_ms"] / results["ceiling_sql_ms"]
            results["ratio_admin_to_scan"] = results["cohorts_admin_ms"] / results["scan_sql_ms"]
    finally:
        engine.dispose()
    return results


def report(backend: str, results: dict) -> bool:
    print(f"\n{backend}:")
    for key, value in results.items():
        print(f"  {key:26s} {value:12.2f}" if isinstance(value, float) else f"  {key:26s} {value:12d}")
    slow = [key for key in results if key.startswith("cohorts_") and results[key] > TARGET_MS]
    if slow:
        print(f"  over the {TARGET_MS:.0f} ms target: {', '.join(slow)}")
    return bool(slow)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--keep", metavar="FOLDER", help="Keep the SQLite file and the PostgreSQL database, "
                        "their URLs printed, for --reuse.")
    parser.add_argument("--reuse", metavar="URL", help="Measure a database kept by an earlier --keep run.")
    args = parser.parse_args()
    if args.reuse:
        url = args.reuse.replace("postgresql://", "postgresql+psycopg://", 1)
        return 1 if report(make_url(url).get_backend_name(), run(url, args.repeat, n_deals=0, reuse=True)) else 0
    failed = False
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(args.keep or folder) / f"bench_cohorts_{uuid.uuid4().hex[:8]}.db"
            failed |= report("sqlite", run(f"sqlite:///{path}", args.repeat, n_deals=args.deals))
            if args.keep:
                print(f"kept sqlite:///{path}")
    if args.backend in ("postgresql", "both"):
        admin_url = args.url.replace("postgresql://", "postgresql+psycopg://", 1)
        name = f"crmpm_bench_{uuid.uuid4().hex[:10]}"
        admin_engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            failed |= report("postgresql", run(url, args.repeat, n_deals=args.deals))
        finally:
            if args.keep:
                print(f"kept {url}")
            else:
                with admin_engine.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin_engine.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

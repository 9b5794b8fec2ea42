"""EPS benchmark on PostgreSQL: an enterprise-sized portfolio, timed from the service layer.

1,000 EPS nodes six levels deep, 10,000 projects, 500 users in 20 teams with
grants at various levels. Reports effective-access checks (p50/p99), the first
page of a user's visible projects, the budget rollup at the root, and moving a
1,000-node subtree (with every project under it).

    .venv/bin/python bench/bench_eps.py [--url postgresql://postgres@127.0.0.1:5432/postgres] [--repeat 5]

A throwaway database is created next to the given one and dropped afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from decimal import Decimal

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from crmpm import migrate
from crmpm.database import make_engine, utcnow
from crmpm.users.models import Team, User, team_members
from eps import budgets, services
from eps.models import EpsNode, Grant, Project, Role, node_segment, project_segment
from eps.permissions import access_to

SEED = 20261127
LEVEL_SIZES = [1, 1, 4, 16, 64, 256, 659]  # the root, then a 1,000-node branch six levels deep
TARGETS = {"access_p99_ms": 2.0, "visible_page_ms": 50.0, "root_rollup_ms": 100.0, "subtree_move_ms": 500.0}


def build(session: Session, rng: random.Random) -> dict:
    """Bulk-insert the portfolio (set-based, bypassing audit: this is fixture data, not user actions)."""
    now = utcnow()
    levels: list[list[tuple[int, str]]] = []
    next_id = 1
    rows = []
    for depth, size in enumerate(LEVEL_SIZES):
        level = []
        for n in range(size):
            if depth == 0:
                parent_id, parent_path = None, "/"
            else:
                parent_id, parent_path = levels[depth - 1][n % len(levels[depth - 1])] if depth > 1 else levels[0][0]
            path = f"{parent_path}{node_segment(next_id)}/"
            rows.append({"id": next_id, "code": f"E{next_id:05d}", "name": f"EPS {next_id}", "parent_id": parent_id,
                         "path": path, "depth": depth, "protected": False, "protect_path": "",
                         "original_budget": Decimal("0.00"), "current_budget": Decimal("0.00"),
                         "created_at": now, "updated_at": now})
            level.append((next_id, path))
            next_id += 1
        levels.append(level)
    # A second branch under the root, target of the subtree move.
    rows.append({"id": next_id, "code": "TARGET", "name": "Move target", "parent_id": 1, "path": f"/{node_segment(1)}/{node_segment(next_id)}/",
                 "depth": 1, "protected": False, "protect_path": "", "original_budget": Decimal("0.00"),
                 "current_budget": Decimal("0.00"), "created_at": now, "updated_at": now})
    target_id = next_id
    session.execute(insert(EpsNode), rows)
    session.execute(text("SELECT setval(pg_get_serial_sequence('eps_nodes', 'id'), :v)"), {"v": next_id})

    holders = [node for level in levels[3:] for node in level]
    projects = []
    for pid in range(1, 10_001):
        node_id, node_path = rng.choice(holders)
        planned = Decimal(rng.randint(10_000, 5_000_000)) / 100
        projects.append({"id": pid, "code": f"P{pid:05d}", "name": f"Project {pid}", "eps_node_id": node_id,
                         "path": f"{node_path}{project_segment(pid)}/", "depth": node_path.count("/") - 1, "protected": False,
                         "protect_path": "", "description": "", "planned_cost": planned,
                         "actual_cost": (planned * Decimal(rng.randint(0, 100)) / 100).quantize(Decimal("0.01")),
                         "original_budget": Decimal("0.00"), "current_budget": Decimal("0.00"),
                         "created_at": now, "updated_at": now})
    session.execute(insert(Project), projects)
    session.execute(text("SELECT setval(pg_get_serial_sequence('projects', 'id'), 10000)"))

    users = [{"id": uid, "email": f"user{uid}@bench.test", "name": f"User {uid}", "password_hash": None,
              "is_admin": uid == 1, "is_active": True, "locale": "en", "created_at": now} for uid in range(1, 501)]
    session.execute(insert(User), users)
    session.execute(insert(Team), [{"id": tid, "name": f"Team {tid}", "created_at": now} for tid in range(1, 21)])
    session.execute(insert(team_members), [{"team_id": 1 + uid % 20, "user_id": uid} for uid in range(2, 501)])
    all_nodes = [node for level in levels[1:] for node in level]
    grants = []
    for uid in range(2, 501):
        for _ in range(rng.randint(1, 3)):
            depth = rng.choice([2, 3, 4, 5])
            node_id, _path = rng.choice(levels[depth])
            grants.append({"user_id": uid, "eps_node_id": node_id, "role": rng.choice(list(Role)),
                           "created_at": now})
    for tid in range(1, 21):
        node_id, _path = rng.choice(levels[3])
        grants.append({"team_id": tid, "eps_node_id": node_id, "role": Role.viewer, "created_at": now})
    session.execute(insert(Grant), grants)
    session.commit()
    return {"levels": levels, "target_id": target_id, "big_id": levels[1][0][0], "all_nodes": all_nodes}


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    admin_url = args.url.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"crmpm_bench_{uuid.uuid4().hex[:10]}"
    admin_engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    rng = random.Random(SEED)
    results = {}
    try:
        migrate.upgrade(url=url)
        engine = make_engine(url)
        with Session(engine) as session:
            start = time.perf_counter()
            world = build(session, rng)
            print(f"built portfolio in {time.perf_counter() - start:.1f} s")
            session.execute(text("ANALYZE"))
        with Session(engine) as session:
            users = session.scalars(select(User).where(User.id > 1)).all()
            nodes = session.scalars(select(EpsNode)).all()
            projects = session.scalars(select(Project)).all()
            objects = nodes + projects
            pairs = [(rng.choice(users), rng.choice(objects)) for _ in range(3000)]
            for user, obj in pairs[:200]:  # warm-up
                access_to(session, user=user, obj=obj)
            samples = []
            for user, obj in pairs:
                start = time.perf_counter()
                access_to(session, user=user, obj=obj)
                samples.append((time.perf_counter() - start) * 1000)
            results["access_p50_ms"] = percentile(samples, 50)
            results["access_p99_ms"] = percentile(samples, 99)

            page_users = rng.sample(users, 50)

            def first_page():
                for user in page_users:
                    query = services.list_projects(session, user=user)
                    session.scalars(query.limit(50)).all()
                    session.scalar(select(func.count()).select_from(
                        query.order_by(None).subquery()))

            page_samples = [s / len(page_users) for s in timed(first_page, args.repeat)]
            results["visible_page_ms"] = statistics.median(page_samples)

            root = session.get(EpsNode, 1)
            results["root_rollup_ms"] = statistics.median(timed(lambda: budgets.figures(session, obj=root),
                                                                args.repeat * 4))
            session.rollback()

        admin_user_id = 1
        move_samples = []
        for attempt in range(args.repeat):
            with Session(engine) as session:
                admin = session.get(User, admin_user_id)
                big = session.get(EpsNode, world["big_id"])
                target = session.get(EpsNode, world["target_id"])
                start = time.perf_counter()
                services.move_node(session, actor=admin, node=big, new_parent=target)
                session.flush()
                move_samples.append((time.perf_counter() - start) * 1000)
                moved = session.scalar(select(func.count()).select_from(EpsNode)
                                       .where(EpsNode.path.like(f"/{node_segment(1)}/{node_segment(world['target_id'])}/%"),
                                              EpsNode.id != world["target_id"]))
                session.rollback()
        results["subtree_move_ms"] = statistics.median(move_samples)
        results["subtree_nodes"] = moved
        engine.dispose()
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()

    print(f"{'measure':<24}{'result':>12}{'target':>12}")
    for key in ("access_p50_ms", "access_p99_ms", "visible_page_ms", "root_rollup_ms", "subtree_move_ms"):
        target = TARGETS.get(key)
        flag = "" if target is None else ("  ok" if results[key] < target else "  MISSED")
        print(f"{key:<24}{results[key]:>12.2f}{(f'< {target:g}' if target else ''):>12}{flag}")
    print(f"subtree moved: {results['subtree_nodes']} nodes (plus the projects below them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

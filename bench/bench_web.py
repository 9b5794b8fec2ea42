"""Benchmark of the web pages at the sizes of the other benchmarks, rendered through the whole app.

Creates a throwaway PostgreSQL database, loads the CRM data of ``bench_crm.py``
(100,000 accounts, 200,000 deals, 1,000,000 interactions by default) and one
project of ``bench_wbs_db.py``'s generator (100,000 activities by default,
scheduled once), then requests each main page with Flask's test client, logged
in with a session cookie like a browser: as the sales user (a viewer grant at
the top, an editor grant on one branch) and as an administrator. Each page is
requested ``--repeat`` times after a warm-up; the table gives the median and
p95 in milliseconds and the size of the HTML. Pages whose endpoint does not
exist are left out of the table (and named).

    .venv/bin/python bench/bench_web.py [--accounts 100000 --deals 200000 --interactions 1000000]
        [--activities 100000] [--repeat 10] [--postgres URL] [--keep | --reuse URL]

Target: every page answers in under 500 ms (p95) and under 1 MB of HTML at full
scale: the pages paginate and load subtrees on demand, so their cost should not
grow with the data.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import bench_crm  # noqa: E402
import bench_wbs_db  # noqa: E402
from crmpm import create_app  # noqa: E402
from crmpm.database import make_engine  # noqa: E402
from crmpm.users.models import User  # noqa: E402
from eps.models import EpsNode  # noqa: E402

TARGET_MS = 500.0
TARGET_BYTES = 1_000_000

# (label, endpoint, arguments from the ids); endpoints not registered are skipped and named.
PAGES = [
    ("home", "home.index", {}),
    ("budget tree", "finance.tree", {}),
    ("budget tree: children of the root", "finance.rows", {"node_id": "root"}),
    ("budget of the root", "finance.detail", {"kind": "nodes", "obj_id": "root"}),
    ("pipeline board", "crm.pipeline", {}),
    ("deals list", "crm.deals", {}),
    ("deal page", "crm.deal", {"deal_id": "deal"}),
    ("accounts list", "crm.accounts", {}),
    ("busiest account's page", "crm.account", {"account_id": "busy_account"}),
    ("lead inbox", "crm.leads", {}),
    ("tasks", "crm.tasks", {}),
    ("dashboards", "dashboards.index", {}),
    ("projects list", "pm.index", {}),
    ("project page (big plan)", "pm.project", {"project_id": "big_project"}),
    ("Gantt chart (big plan)", "pm.gantt", {"project_id": "big_project"}),
]


def load(url: str, args) -> dict:
    """The CRM data, a big scheduled plan under the root; returns the ids the pages need."""
    engine = make_engine(url)
    started = time.perf_counter()
    ids = bench_crm.generate(engine, n_accounts=args.accounts, n_deals=args.deals, n_interactions=args.interactions)
    print(f"CRM data loaded in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    with Session(engine) as session:
        admin = session.get(User, ids["admin"])
        root = session.scalar(select(EpsNode).where(EpsNode.code == "ENT"))
        ids["root"] = root.id
        if args.activities:
            project_id = bench_wbs_db.build_project(session, admin=admin, node=root, n=args.activities, feeder=None)
            bench_wbs_db.reset_sequences(session)
            session.commit()
            from eps.models import Project
            from wbs.scheduling import service as scheduling_service

            scheduling_service.schedule_project(session, actor=admin, project=session.get(Project, project_id))
            session.commit()
            ids["big_project"] = project_id
        ids["deal"] = session.scalar(text("SELECT id FROM deals ORDER BY id LIMIT 1"))
    print(f"plan of {args.activities:,} activities built and scheduled in {time.perf_counter() - started:.0f} s",
          flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return ids


def _ids_of(url: str) -> dict:
    engine = make_engine(url)
    with engine.connect() as connection:
        ids = {
            "admin": connection.scalar(text("SELECT id FROM users WHERE email = 'bench-admin@example.test'")),
            "seller": connection.scalar(text("SELECT id FROM users WHERE email = 'seller0@example.test'")),
            "root": connection.scalar(text("SELECT id FROM eps_nodes WHERE code = 'ENT'")),
            "deal": connection.scalar(text("SELECT id FROM deals ORDER BY id LIMIT 1")),
            "busy_account": connection.scalar(text(
                "SELECT account_id FROM interactions GROUP BY account_id ORDER BY COUNT(*) DESC LIMIT 1")),
            "big_project": connection.scalar(text(
                "SELECT project_id FROM activities GROUP BY project_id ORDER BY COUNT(*) DESC LIMIT 1")),
        }
    engine.dispose()
    return ids


def measure(url: str, ids: dict, repeat: int) -> tuple[list[dict], list[str]]:
    from crmpm.users import services as users

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    rows, missing = [], []
    with app.app_context():
        with Session(make_engine(url)) as session:
            people = {who: session.get(User, ids[who]) for who in ("seller", "admin")}
            for user in people.values():
                # Only a user with a password holds a session; the bench's users are made without one.
                user.password_hash = user.password_hash or users.hash_password("bench-password-not-for-use")
            session.commit()
            stamps = {who: user.session_stamp for who, user in people.items()}
    for who in ("seller", "admin"):
        client = app.test_client()
        with client.session_transaction() as cookie:
            cookie["user_id"], cookie["stamp"] = ids[who], stamps[who]
        for label, endpoint, arguments in PAGES:
            if endpoint not in app.view_functions:
                if who == "seller":
                    missing.append(endpoint)
                continue
            values = {key: ids.get(value, value) for key, value in arguments.items()}
            if any(value is None for value in values.values()):
                continue
            with app.test_request_context():
                from flask import url_for

                path = url_for(endpoint, **values)
            response = client.get(path)  # warm-up
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            rows.append({"who": who, "page": label, "path": path, "status": response.status_code,
                         "bytes": len(response.get_data()), "median_ms": statistics.median(times),
                         "p95_ms": times[int(0.95 * (len(times) - 1))]})
    return rows, missing


def report(rows: list[dict], missing: list[str]) -> int:
    over = 0
    print(f"\n{'who':<7}{'page':<36}{'status':>7}{'KB':>8}{'median ms':>11}{'p95 ms':>9}  verdict")
    for row in rows:
        ok = row["status"] == 200 and row["p95_ms"] < TARGET_MS and row["bytes"] < TARGET_BYTES
        over += not ok
        print(f"{row['who']:<7}{row['page']:<36}{row['status']:>7}{row['bytes'] / 1024:>8.0f}"
              f"{row['median_ms']:>11.1f}{row['p95_ms']:>9.1f}  {'ok' if ok else 'OVER'}")
    if missing:
        print(f"\nnot measured (no such page): {', '.join(missing)}")
    print(f"\ntargets: p95 < {TARGET_MS:.0f} ms, HTML < {TARGET_BYTES / 1e6:.0f} MB; load average at the end: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 1 if over else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--postgres", default=os.environ.get("CRMPM_BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards (its URL is printed).")
    parser.add_argument("--reuse", metavar="URL", help="Measure a database kept by an earlier --keep run.")
    args = parser.parse_args()
    if args.reuse:
        rows, missing = measure(args.reuse, _ids_of(args.reuse), args.repeat)
        return report(rows, missing)
    with bench_wbs_db.Database("postgresql", args.postgres, keep=args.keep) as url:
        ids = load(url, args)
        rows, missing = measure(url, ids, args.repeat)
        return report(rows, missing)

if __name__ == "__main__":
    sys.exit(main())

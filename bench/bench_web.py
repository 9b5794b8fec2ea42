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
from datetime import datetime, timedelta, timezone
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
LEADS = 20_000

# (label, endpoint, arguments from the ids); endpoints not registered are skipped and named.
PAGES = [
    # The ceiling: about the smallest page through the same app and client (the user's profile: the session's
    # user, their tokens' first rows and count, the layout). The machine is shared, so each page is also given
    # in ceilings (its median over the ceiling's median).
    ("ceiling: own profile page", "profile.index", {}),
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
    # Issue 12's pages. A fourth item names the only users who may open the page (the others get a 403).
    ("new lead", "crm.new_lead", {}),
    ("new account", "crm.new_account", {}),
    ("account's edit page", "crm.edit_account", {"account_id": "own_account"}),
    ("new deal in a stage", "crm.new_deal", {"stage_id": "first_stage"}),
    ("new contact", "crm.contact_new", {}),
    ("contact card (channels, long timeline)", "crm.contact", {"contact_id": "busy_contact"}),
    ("EPS tree (where the rights start)", "structure.index", {}),
    ("EPS: a branch's children (10,000), rows", "structure.rows", {"node_id": "branch", "level": "=1"}),
    ("EPS: a branch's rows, 200th page", "structure.rows", {"node_id": "branch", "level": "=1", "page": "=200"}),
    ("EPS: a branch's own page", "structure.node", {"node_id": "branch"}),
    ("EPS: a branch's forms (dialog)", "structure.forms", {"kind": "=nodes", "obj_id": "branch"}),
    ("EPS: a project's own page", "structure.project", {"project_id": "deal_project"}),
    ("new project", "pm.new_project", {}),
    ("project settings (big plan)", "pm.settings", {"project_id": "big_project"}),
    ("project calendars (big plan)", "pm.project_calendars", {"project_id": "big_project"}),
    ("activity with relationships", "pm.activity", {"project_id": "big_project", "activity_id": "linked_activity"}),
    ("activity picker JSON (no text)", "pm.find_activities", {"project_id": "big_project", "q": "="}),
    ("activity picker JSON (q=A10)", "pm.find_activities", {"project_id": "big_project", "q": "=A10"}),
    ("pipelines settings", "settings.pipelines", {}, ("admin",)),
    ("a pipeline's settings", "settings.pipeline", {"pipeline_id": "pipeline"}, ("admin",)),
    ("lead routing", "settings.rules", {}, ("admin",)),
    ("absences", "settings.absences", {}),
    ("admin: a user's page", "admin.user", {"user_id": "seller"}, ("admin",)),
    ("search: a common word", "search.index", {"q": "=account"}),
    ("search: a phone", "search.index", {"q": "=8 812 000-42-83"}),
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
    extend(engine, ids)
    print(f"plan of {args.activities:,} activities built and scheduled in {time.perf_counter() - started:.0f} s",
          flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return ids


def extend(engine, ids: dict) -> None:
    """What issue 12's pages show beyond the CRM data and the plan.

    One contact per account (e-mail and phone, also as channels), the busiest account's contact with six channels
    and 2,000 interactions of its own (a long timeline), 20,000 leads, five routing rules of the 20 sellers
    (territories: every branch) and an absence per seller with a deputy.
    """
    started = time.perf_counter()
    with engine.connect() as connection:
        if connection.scalar(text("SELECT COUNT(*) FROM contacts")):
            return
        n_accounts = connection.scalar(text("SELECT COUNT(*) FROM accounts"))
        busy = ids.get("busy_account") or connection.scalar(text(
            "SELECT account_id FROM interactions GROUP BY account_id ORDER BY COUNT(*) DESC LIMIT 1")) or 1
        branches = connection.execute(text(
            "SELECT id FROM eps_nodes WHERE code LIKE 'BR%' ORDER BY id")).scalars().all()
        seller_ids = connection.execute(text(
            "SELECT id FROM users WHERE email LIKE 'seller%@example.test' ORDER BY id")).scalars().all()
    created = bench_crm.START
    first_names = ["Анна", "Иван", "Maria", "John"]
    with engine.begin() as connection:
        # Contact i + 1 is at account i + 1 (the accounts' ids run from 1).
        bench_crm._copy(connection, "contacts", ["id", "account_id", "first_name", "last_name", "title", "email",
                                                 "phone", "created_at"],
                        ((i + 1, i + 1, first_names[i % 4], f"Петров {i}" if i % 2 else f"Smith {i}", "",
                          f"user{i}@client{i % 1000}.example", f"+7812{i:07d}", created) for i in range(n_accounts)))

        def channels():
            for i in range(n_accounts):
                yield 2 * i + 1, i + 1, "phone", "work", f"+7812{i:07d}", 0
                yield 2 * i + 2, i + 1, "email", "work", f"user{i}@client{i % 1000}.example", 0
            more = [("phone", "mobile", "+79210000001"), ("phone", "home", "+78120000002"),
                    ("email", "home", "busy.home@example.test"), ("email", "other", "busy.other@example.test")]
            for k, (kind, where, value) in enumerate(more):
                yield 2 * n_accounts + k + 1, busy, kind, where, value, k + 1

        bench_crm._copy(connection, "contact_channels", ["id", "contact_id", "type", "kind", "value", "position"],
                        channels())
        base = connection.scalar(text("SELECT COALESCE(MAX(id), 0) FROM interactions")) + 1
        bench_crm._copy(connection, "interactions", ["id", "account_id", "contact_id", "deal_id", "kind", "direction",
                                                     "occurred_at", "user_id", "subject", "summary",
                                                     "duration_minutes", "created_at"],
                        ((base + k, busy, busy, None, bench_crm.KINDS[k % len(bench_crm.KINDS)],
                          ("inbound", "outbound")[k % 2], created + timedelta(hours=7 * k), seller_ids[k % 20],
                          f"Contact touch {k}", "", None, created) for k in range(2000)))
        bench_crm._copy(connection, "leads", ["id", "region_node_id", "company", "contact_name", "email", "phone",
                                              "source", "channel", "product", "message", "status", "created_at"],
                        ((i + 1, branches[i % len(branches)], f"Lead company {i}", f"Сергей {i}",
                          f"lead{i}@prospect.example", f"+7495{i:07d}", "", "", "", "", "new", created)
                         for i in range(LEADS)))
        for table in ("contacts", "contact_channels", "interactions", "leads"):
            bench_crm._reset_sequence(connection, table)
    from accounts import routing
    from crmpm.users.models import Team

    with Session(engine) as session:
        admin = session.scalar(select(User).where(User.email == "bench-admin@example.test"))
        team = session.scalar(select(Team).where(Team.name == "Sales"))
        for r in range(5):
            routing.create_rule(session, actor=admin, name=f"Rule {r}", team=team, priority=10 * r, capacity=50,
                                members=[{"user_id": user_id, "territories": branches, "products": ["erp", "wms"],
                                          "work_start_hour": 9, "work_end_hour": 18, "timezone": "Europe/Moscow"}
                                         for user_id in seller_ids])
        sellers = [session.get(User, user_id) for user_id in seller_ids]
        now = datetime.now(timezone.utc)
        for k, seller in enumerate(sellers):
            routing.create_absence(session, actor=admin, user=seller, starts_at=now + timedelta(days=k + 1),
                                   ends_at=now + timedelta(days=k + 8), deputy=sellers[(k + 1) % len(sellers)],
                                   reason="Vacation")
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    print(f"contacts, leads, routing rules and absences added in {time.perf_counter() - started:.0f} s", flush=True)


def _more_ids(url: str, ids: dict) -> dict:
    """The ids of issue 12's pages (after ``extend``)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        ids["busy_contact"] = connection.scalar(text(
            "SELECT contact_id FROM interactions WHERE contact_id IS NOT NULL "
            "GROUP BY contact_id ORDER BY COUNT(*) DESC LIMIT 1"))
        ids["pipeline"] = connection.scalar(text("SELECT id FROM pipelines ORDER BY id LIMIT 1"))
        # The EPS page's biggest level: branch BR0's 10,000 account nodes (the sales user edits there).
        ids["branch"] = connection.scalar(text("SELECT id FROM eps_nodes WHERE code = 'BR0'"))
        ids["deal_project"] = connection.scalar(text(
            "SELECT p.id FROM projects p JOIN eps_nodes n ON n.id = p.eps_node_id "
            "WHERE n.path LIKE (SELECT path FROM eps_nodes WHERE code = 'BR0') || '%' ORDER BY p.id LIMIT 1"))
        # The busiest account among those the sales user may edit (their editor grant is on branch BR0).
        ids["own_account"] = connection.scalar(text(
            "SELECT i.account_id FROM interactions i JOIN accounts a ON a.id = i.account_id "
            "JOIN eps_nodes n ON n.id = a.region_node_id WHERE n.code = 'BR0' "
            "GROUP BY i.account_id ORDER BY COUNT(*) DESC LIMIT 1"))
        ids["first_stage"] = connection.scalar(text(
            "SELECT id FROM pipeline_stages WHERE pipeline_id = :p ORDER BY position, id LIMIT 1"),
            {"p": ids["pipeline"]})
        if ids.get("big_project"):
            # The big plan's activity with the most relationships (the relationship panel's worst case).
            ids["linked_activity"] = connection.scalar(text(
                "SELECT a FROM (SELECT predecessor_id AS a FROM activity_relationships UNION ALL "
                "SELECT successor_id FROM activity_relationships) links GROUP BY a ORDER BY COUNT(*) DESC LIMIT 1"))
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


def measure(url: str, ids: dict, repeat: int, only_pages: list[str] | None = None) -> tuple[list[dict], list[str]]:
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
        for label, endpoint, arguments, *only in PAGES:
            if endpoint not in app.view_functions:
                if who == "seller":
                    missing.append(endpoint)
                continue
            if only and who not in only[0]:
                continue
            if only_pages and not label.startswith("ceiling") and not any(text in label for text in only_pages):
                continue
            # "=text" is the text itself (a query argument); anything else names one of the ids.
            values = {key: value[1:] if value.startswith("=") else ids.get(value)
                      for key, value in arguments.items()}
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
    ceilings = {row["who"]: row["median_ms"] for row in rows if row["page"].startswith("ceiling")}
    print(f"\n{'who':<7}{'page':<42}{'status':>7}{'KB':>8}{'median ms':>11}{'p95 ms':>9}{'ceilings':>10}  verdict")
    for row in rows:
        ok = row["status"] == 200 and row["p95_ms"] < TARGET_MS and row["bytes"] < TARGET_BYTES
        over += not ok
        ceiling = ceilings.get(row["who"])
        print(f"{row['who']:<7}{row['page']:<42}{row['status']:>7}{row['bytes'] / 1024:>8.0f}"
              f"{row['median_ms']:>11.1f}{row['p95_ms']:>9.1f}"
              f"{row['median_ms'] / ceiling if ceiling else 0:>10.1f}  {'ok' if ok else 'OVER'}")
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
    parser.add_argument("--pages", nargs="+", metavar="TEXT",
                        help="Only the pages whose label holds one of these texts (and the ceiling).")
    args = parser.parse_args()
    if args.reuse:
        engine = make_engine(args.reuse)
        extend(engine, {})  # a database kept before issue 12's pages: add their data once
        engine.dispose()
        rows, missing = measure(args.reuse, _more_ids(args.reuse, _ids_of(args.reuse)), args.repeat, args.pages)
        return report(rows, missing)
    with bench_wbs_db.Database("postgresql", args.postgres, keep=args.keep) as url:
        ids = _more_ids(url, load(url, args))
        rows, missing = measure(url, ids, args.repeat, args.pages)
        return report(rows, missing)

if __name__ == "__main__":
    sys.exit(main())

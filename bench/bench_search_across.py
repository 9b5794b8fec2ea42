"""The search across the product (``/search``) at benchmark size on PostgreSQL, with and without its trigram indexes.

Loads ``bench_crm``'s 100,000 accounts and 200,000 deals (each a project) into a
throwaway PostgreSQL database, then adds one contact per account (name, e-mail,
E.164 phone; in contact_channels those and a second phone and e-mail), 20,000
leads, 10,000 plain projects with 10 activities each, and renames one account in ten to Cyrillic. It then times what the search page asks
of the domain — every kind of ``accounts.search.KINDS``, six hits each — for an
administrator, a seller with a viewer grant at the top (every row readable) and a
seller with a viewer grant on one branch of ten (the rights filter at work), for
a rare Cyrillic name typed in capitals, a name, a code, an e-mail, a phone typed
three ways, a second phone and e-mail, and four frequent words (in every account
name, half the contact names, every e-mail, every deal name: the unselective
worst cases). Each search is
timed with the migration's trigram indexes ("indexed") and, in the same run and
database, with them dropped inside a transaction that is rolled back ("no index"),
beside a ceiling: one account read by primary key (a round trip and nothing more).
A search asks the database a few questions per kind (the user's grants, then the
kind's hits), so on a busy machine its time follows the round trip's.

Each search is timed as a request runs it: the transaction's memo (the user's grant paths, the count of the
nodes they may read) is emptied before every search, so each one pays for them. Beside the whole search,
each kind's own median is printed (the first kind, accounts, also pays for the rights read once per request).
The ceiling is measured before and after the searches.

Loading takes minutes: ``--keep`` keeps the database (its URL is printed) and ``--reuse URL`` measures a kept
one again (drop it afterwards with ``DROP DATABASE``); ``--who`` and ``--search`` pick some of the searches.

    .venv/bin/python bench/bench_search.py --across [--accounts 100000 --deals 200000 --repeat 10]
    .venv/bin/python bench/bench_search.py --across --indexed-only --keep --repeat 7
    .venv/bin/python bench/bench_search.py --across --indexed-only --reuse postgresql+psycopg://…/crmpm_bench_… \
        --who branch_seller --search account
    make bench-search   # the same; BENCH_SEARCH_ARGS passes options
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import bench_crm  # noqa: E402
from accounts import search  # noqa: E402
from accounts.models import Account  # noqa: E402
from crmpm import migrate  # noqa: E402
from crmpm.database import forget_transaction_memo, make_engine  # noqa: E402
from crmpm.users import services as users  # noqa: E402
from crmpm.users.models import User  # noqa: E402
from eps import grants  # noqa: E402
from eps.models import EpsNode, Role, project_segment  # noqa: E402

PER_KIND = 5  # the page's: PER_KIND + 1 asked, to know whether there are more
LEADS, PLAIN_PROJECTS, ACTIVITIES_EACH = 20_000, 10_000, 10
CREATED = datetime(2026, 1, 1, tzinfo=timezone.utc)
# Records of branch BR3 (every tenth account, contact, lead and project), so the branch seller finds them too.
SEARCHES = [
    ("Cyrillic name, capitals", "ЛАДОГА 4243"),
    ("account name", "Account 4253"),
    ("contact e-mail", "user4263@"),
    ("deal code", "D1234"),
    ("activity name", "Монтаж 773-3"),
    ("phone, E.164", "+78120004273"),
    ("phone, 8 …", "8 812 000-42-83"),
    ("phone, last digits", "0004293"),
    ("second phone (channels)", "+74950004303"),
    ("second e-mail (channels)", "home4313@"),
    ("a word in every name", "account"),
    ("a name in half the contacts", "smith"),
    ("a word in every e-mail", "example"),
    ("a word in every deal", "deal"),
]


def load(engine, *, n_accounts: int, n_deals: int) -> dict:
    ids = bench_crm.generate(engine, n_accounts=n_accounts, n_deals=n_deals, n_interactions=0)
    with Session(engine) as session:
        admin = session.get(User, ids["admin"])
        branch = session.scalars(select(EpsNode).where(EpsNode.code == "BR3")).one()
        one_branch = users.create(session, actor=None, email="branch-seller@example.test", name="Branch seller",
                                  password=None)
        grants.create(session, actor=admin, role=Role.viewer, target=branch, user=one_branch)
        session.commit()
        ids["branch_seller"] = one_branch.id
        branches = session.execute(select(EpsNode.id, EpsNode.path).where(EpsNode.code.like("BR%"))
                                   .order_by(EpsNode.id)).all()
    with engine.begin() as connection:
        connection.execute(text("UPDATE accounts SET name = 'ООО Ладога ' || (id - 1) WHERE (id - 1) % 10 = 3"))
        first_names = ["Анна", "Иван", "Maria", "John"]
        bench_crm._copy(connection, "contacts", ["id", "account_id", "first_name", "last_name", "title", "email",
                                                 "phone", "created_at"],
                        ((i + 1, i + 1, first_names[i % 4], f"Петров {i}" if i % 2 else f"Smith {i}", "",
                          f"user{i}@client{i % 1000}.example", f"+7812{i:07d}", CREATED) for i in range(n_accounts)))
        bench_crm._copy(connection, "leads", ["id", "region_node_id", "company", "contact_name", "email", "phone",
                                              "source", "channel", "product", "message", "status", "created_at"],
                        ((i + 1, branches[i % len(branches)][0], f"Lead company {i}", f"Сергей {i}",
                          f"lead{i}@prospect.example", f"+7495{i:07d}", "", "", "", "", "new", CREATED)
                         for i in range(LEADS)))
        base = connection.scalar(text("SELECT MAX(id) FROM projects")) + 1
        projects, activities = [], []
        for i in range(PLAIN_PROJECTS):
            project_id = base + i
            node_id, node_path = branches[i % len(branches)]
            projects.append((project_id, f"PRJ{i}", f"Проект {i}" if i % 2 else f"Project {i}", node_id,
                             f"{node_path}{project_segment(project_id)}/", 2, False, "", "", Decimal("0.00"),
                             Decimal("0.00"), CREATED, CREATED, Decimal("0.00"), Decimal("0.00")))
            for k in range(ACTIVITIES_EACH):
                activities.append((len(activities) + 1, project_id, f"A{i}-{k}", f"Монтаж {i}-{k}", "task", 8.0, 0.0,
                                   Decimal("0.00"), Decimal("0.00"), "", False, False))
        bench_crm._copy(connection, "projects", ["id", "code", "name", "eps_node_id", "path", "depth", "protected",
                                                 "protect_path", "description", "planned_cost", "actual_cost",
                                                 "created_at", "updated_at", "original_budget", "current_budget"],
                        projects)
        bench_crm._copy(connection, "activities", ["id", "project_id", "code", "name", "type",
                                                   "original_duration_hours", "percent_complete", "budgeted_cost",
                                                   "actual_cost", "notes", "critical", "longest_path"], activities)
        # Every contact's phones and e-mails (migration 0012's table): the first ones as on the contact, and a
        # second phone and e-mail only there.
        connection.execute(text(
            "INSERT INTO contact_channels (contact_id, type, kind, value, position) "
            "SELECT id, 'email', 'work', email, 0 FROM contacts UNION ALL "
            "SELECT id, 'phone', 'work', phone, 0 FROM contacts UNION ALL "
            "SELECT id, 'email', 'home', 'home' || (id - 1) || '@mail.example', 1 FROM contacts UNION ALL "
            "SELECT id, 'phone', 'mobile', '+7495' || lpad((id - 1)::text, 7, '0'), 1 FROM contacts"))
        for table in ("contacts", "contact_channels", "leads", "projects", "activities"):
            bench_crm._reset_sequence(connection, table)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return ids


def timed(fn, repeat: int) -> tuple[float, float, object]:
    answer = fn()  # warm the caches and the plan
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], answer


def existing_ids(engine) -> dict:
    """The users ``load`` made, in a kept database."""
    emails = {"admin": "bench-admin@example.test", "seller": "seller0@example.test",
              "branch_seller": "branch-seller@example.test"}
    with Session(engine) as session:
        return {who: session.scalars(select(User.id).where(User.email == email)).one()
                for who, email in emails.items()}


def measure(engine, ids: dict, repeat: int, *, indexed_only: bool = False, who_only: str = "",
            search_only: str = "") -> tuple[list[dict], dict]:
    from crmpm.search import SEARCH_INDEX_SUFFIX

    rows = []
    with Session(engine) as session:
        def pk_lookup():
            return session.execute(select(Account.id, Account.name).where(Account.id == 4242)).one()

        ceiling = dict(zip(("median", "p95"), timed(pk_lookup, repeat * 4)[:2]))
        indexes = session.scalars(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE :suffix"),
                                  {"suffix": f"%{SEARCH_INDEX_SUFFIX}"}).all()
        for variant in ("indexed",) if indexed_only else ("indexed", "no index"):
            if variant == "no index":
                for name in indexes:
                    session.execute(text(f"DROP INDEX {name}"))
            for who in ("admin", "seller", "branch_seller"):
                if who_only and who_only != who:
                    continue
                user = session.get(User, ids[who])
                for label, typed in SEARCHES:
                    if search_only and search_only not in label and search_only != typed:
                        continue
                    per_kind: dict[str, list[float]] = {kind.name: [] for kind in search.KINDS}

                    def everything():
                        # As a request: the grant paths and the readable count are read again (the indexes
                        # dropped for "no index" stay dropped: the transaction goes on).
                        forget_transaction_memo(session)
                        found = {}
                        for kind in search.KINDS:
                            started = time.perf_counter()
                            found[kind.name] = len(kind.find(session, user=user, text=typed, limit=PER_KIND + 1))
                            per_kind[kind.name].append((time.perf_counter() - started) * 1000)
                        return found

                    # Without the indexes a search takes seconds: fewer runs of those.
                    median, p95, found = timed(everything, repeat if variant == "indexed" else max(3, repeat // 5))
                    kinds = {name: statistics.median(times[1:]) for name, times in per_kind.items()}  # the first warms
                    rows.append({"variant": variant, "who": who, "label": label, "typed": typed, "median": median,
                                 "p95": p95, "found": found, "kinds": kinds})
                    print(f"{variant:<9} {who:<14} {label:<26} {median:>8.1f} {p95:>8.1f}  {found}  "
                          + " ".join(f"{name[:3]} {ms:.1f}" for name, ms in kinds.items()), flush=True)
        session.rollback()  # the dropped indexes come back
        ceiling_after = timed(pk_lookup, repeat * 4)[:2]
        ceiling["median after"], ceiling["p95 after"] = ceiling_after
    return rows, ceiling


def report(rows: list[dict], ceiling: dict, repeat: int) -> None:
    print(f"\nceiling (one account by primary key): median {ceiling['median']:.2f} ms, p95 {ceiling['p95']:.2f} ms "
          f"before the searches; {ceiling['median after']:.2f} / {ceiling['p95 after']:.2f} ms after; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"every kind, {PER_KIND + 1} hits each, {repeat} runs; median / p95 ms; target < 100 ms (indexed, p95)")
    names = [kind.name for kind in search.KINDS]
    print(f"{'who':<14}{'search':<26}{'indexed':>16}{'no index':>18}  found (indexed); "
          f"median ms per kind: {', '.join(names)}")
    by = {(row["variant"], row["who"], row["label"]): row for row in rows}
    for row in rows:
        if row["variant"] != "indexed":
            continue
        other = by.get(("no index", row["who"], row["label"]))
        plain = f"{other['median']:>8.1f} /{other['p95']:>7.1f}" if other else ""
        verdict = "ok" if row["p95"] < 100 else "OVER"
        found = ",".join(f"{k[:3]}{v}" for k, v in row["found"].items() if v)
        kinds = " ".join(f"{row['kinds'][name]:.1f}" for name in names)
        print(f"{row['who']:<14}{row['label']:<26}{row['median']:>8.1f} /{row['p95']:>6.1f}{plain:>18}  "
              f"{verdict} {found}; {kinds}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--postgres", default=os.environ.get("CRMPM_BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards (its URL is printed), "
                                                               "to EXPLAIN the searches in it or --reuse it.")
    parser.add_argument("--reuse", metavar="URL", help="Measure a database kept by --keep instead of loading one "
                                                       "(it is kept; drop it yourself).")
    parser.add_argument("--indexed-only", action="store_true", help="Only with the indexes (a quicker run).")
    parser.add_argument("--who", choices=("admin", "seller", "branch_seller"), help="Only this user's searches.")
    parser.add_argument("--search", default="", help="Only the searches whose label holds this (or typed so).")
    args = parser.parse_args()
    options = {"indexed_only": args.indexed_only, "who_only": args.who or "", "search_only": args.search}
    if args.reuse:
        engine = make_engine(args.reuse)
        rows, ceiling = measure(engine, existing_ids(engine), args.repeat, **options)
        engine.dispose()
        report(rows, ceiling, args.repeat)
        return 0
    admin_engine = make_engine(args.postgres, isolation_level="AUTOCOMMIT")
    name = f"crmpm_bench_{uuid.uuid4().hex[:8]}"
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url=url)
        engine = make_engine(url)
        started = time.perf_counter()
        ids = load(engine, n_accounts=args.accounts, n_deals=args.deals)
        print(f"loaded {args.accounts} accounts, {args.deals} deals, {args.accounts} contacts, {LEADS} leads, "
              f"{PLAIN_PROJECTS} projects, {PLAIN_PROJECTS * ACTIVITIES_EACH} activities "
              f"in {time.perf_counter() - started:.0f} s", flush=True)
        rows, ceiling = measure(engine, ids, args.repeat, **options)
        engine.dispose()
    finally:
        if args.keep:
            print(f"kept database {name}: --reuse {make_url(url).render_as_string(hide_password=True)}")
        else:
            with admin_engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()
    report(rows, ceiling, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())

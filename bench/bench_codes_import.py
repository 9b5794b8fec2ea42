"""Benchmark storing a file's activity codes on import: 20,000 activities with 5 code types.

Usage (from the repository root)::

    .venv/bin/python bench/bench_codes_import.py                         # SQLite and PostgreSQL, best of 3
    .venv/bin/python bench/bench_codes_import.py --code /path/to/checkout # the same bench over another checkout

The file is the MSPDI benchmark's synthetic network (:func:`bench_mspdi.synthetic_file`'s project, 20,000
activities in a two-level WBS) with 5 activity code types, each a tree of 20 top values with 10 children
(1,100 values), and every activity holding a leaf value of every type (100,000 assignments); crmpm writes it
(:func:`wbs.interchange.mspdi.write_mspdi`) and each run imports it with :func:`wbs.interchange.import_mspdi`
into a fresh, migrated database (a SQLite file, or a throwaway PostgreSQL database), committing as
``crmpm mspdi import`` does. Reported, best of ``--repeat``: the whole import, and the share spent storing the
codes (:func:`wbs.interchange.codes.store_codes`, timed around its call). ``--code`` imports crmpm from another
checkout (the one before a change, say), so both are measured with the same file in the same minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _paths(code: Path) -> None:
    """The checkout measured imported: its top-level packages first, so that every module below them comes from
    it too, whatever bench_mspdi then puts on the path."""
    import importlib

    sys.path.insert(0, str(code))
    for package in ("crmpm", "eps", "wbs", "accounts", "api", "web"):
        importlib.import_module(package)
    sys.path.insert(1, str(ROOT / "bench"))


def synthetic_file(n: int, types: int) -> bytes:
    from bench_mspdi import synthetic_file as plain

    from wbs.interchange.model import ExchangeCodes, ExchangeCodeType, ExchangeCodeValue
    from wbs.interchange.mspdi import read_mspdi, write_mspdi

    project = read_mspdi(plain(n))
    codes = ExchangeCodes()
    for t in range(types):
        codes.types.append(ExchangeCodeType(id=f"t{t}", name=f"Code {t}", max_length=8))
        for top in range(20):
            codes.values.append(ExchangeCodeValue(id=f"t{t}.{top}", type_id=f"t{t}", value=f"T{top}",
                                                  description=f"Top {top}"))
            for leaf in range(10):
                codes.values.append(ExchangeCodeValue(id=f"t{t}.{top}.{leaf}", type_id=f"t{t}", value=f"L{leaf}",
                                                      description=f"Leaf {top}.{leaf}", parent_id=f"t{t}.{top}"))
    for i, activity in enumerate(project.activities):
        for t in range(types):
            codes.assignments.append((activity.id, f"t{t}", f"t{t}.{(i + t) % 20}.{i % 10}"))
    project.codes = codes
    return write_mspdi(project)


def import_once(data: bytes, url: str) -> dict:
    from sqlalchemy import select

    from crmpm import create_app, migrate
    from crmpm.database import db
    from crmpm.users import services as users
    from eps import services as eps_services
    from eps.models import EpsNode
    from wbs import interchange
    from wbs.interchange import store

    migrate.upgrade(url=url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-only-" + "x" * 32})
    spent = []
    original = store.store_codes

    def timed_store_codes(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    store.store_codes = timed_store_codes
    try:
        with app.app_context():
            with db.transaction() as session:
                admin = users.create(session, actor=None, email="bench@example.test", name="Bench", password=None,
                                     is_admin=True)
                eps_services.create_node(session, actor=admin, code="BENCH", name="Bench", parent=None)
            wall = time.perf_counter()
            with db.transaction() as session:
                admin = users.get_by_email(session, email="bench@example.test")
                node = session.scalar(select(EpsNode).where(EpsNode.code == "BENCH"))
                interchange.import_mspdi(session, actor=admin, data=data, eps_node=node)
            figures = {"import_s": time.perf_counter() - wall, "store_codes_s": sum(spent)}
            db.engine.dispose()  # before the throwaway database is dropped
            return figures
    finally:
        store.store_codes = original


def postgres_database(admin_url: str):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"crmpm_bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--types", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose crmpm is measured")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    _paths(args.code.resolve())
    data = synthetic_file(args.n, args.types)
    from wbs.interchange import codes as measured

    results = {"code": measured.__file__, "activities": args.n, "code_types": args.types, "file_mb": len(data) / 1e6}
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        runs = []
        for _ in range(args.repeat):
            if backend == "sqlite":
                with tempfile.TemporaryDirectory() as tmp:
                    runs.append(import_once(data, f"sqlite:///{tmp}/bench.db"))
            else:
                url, drop = postgres_database(args.url)
                try:
                    runs.append(import_once(data, url))
                finally:
                    drop()
        results[backend] = min(runs, key=lambda run: run["import_s"])
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

"""An automation rule firing on 10,000 deals moved by an import: how long the rule's runs take, and whether the
imports slow down because of them. Same run, same database, one process (PostgreSQL).

A throwaway database next to ``--postgres`` is created and migrated; ``bench_crm_import.prepare`` makes the
administrator, ten branches, sellers, ``--accounts`` accounts and the pipeline. The deals CSVs are written
here (one stage for every row, the other values fixed per deal id) and imported by
``accounts.imports.import_csv`` as ``crmpm import deals`` and the import job call it (one transaction). Then:

1. ``move, no rule``: the N deals moved from Qualification to "Needs analysis" by an import, no rule exists;
2. ``new deals, nothing running``: N new deals imported while nothing else runs;
3. a rule is created on the Proposal stage (a task for the owner, due in 2 working days, titled from the
   deal's fields, and the next step set);
4. ``move, rule active``: the N deals moved to Proposal by an import: the import only records the events;
5. the rule's work, in a process of its own as a ``crmpm worker`` does it: the ``automation`` consumer delivers the events in
   batches (``crmpm.events.deliver``: a run row and an ``automation.run`` job per deal) and the jobs run one
   after another (``crmpm.jobs.runner.run_due``, one worker); timed from the end of the import to the last
   run done;
6. ``new deals, rules running``: meanwhile N other new deals are imported, to compare with 2;
7. ``move, rule gone``: the rule deleted, the N deals moved to Negotiation with nothing running: the control
   for 4 on the database as it has grown.

Printed: each import's time, the consumer's and the jobs' times, runs per second; and the counts (N runs
done, N tasks). Raw figures: ``bench/results/automation-*.json`` (git-ignored).

    .venv/bin/python bench/bench_automation.py --deals 10000 --accounts 200

Figures and notes: BENCHMARKS.md, "Automation rules on 10,000 deals moved by an import".
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import multiprocessing
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench_crm_import import MAPPING, prepare  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def write_stage_csv(path: Path, *, first: int, count: int, n_accounts: int, sellers: list[str], stage: str) -> None:
    """Deals ``DEAL-first`` … in ``stage``; every other value depends on the deal's number only."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(MAPPING["columns"]))
        for i in range(first, first + count):
            writer.writerow([f"DEAL-{i}", f"Deal {i}: pumps", f"A{i % n_accounts}", sellers[i % len(sellers)], stage,
                             f"${1000 + i % 5000:,.2f}", "15 Apr, 2021 00:02:00", "15 Apr, 2027 00:02:00"])


def deliver_all(app) -> float:
    """Deliver every pending event to the automation consumer, batch by batch, as a worker does."""
    from accounts.automation import engine as automation_engine
    from crmpm.database import db
    from crmpm.events import deliver

    started = time.perf_counter()
    with app.app_context():
        while True:
            with db.transaction() as session:
                if not deliver(session, "automation", automation_engine.handle):
                    break
    return time.perf_counter() - started


def work(url: str, secret: str, instance: str, done_at) -> None:
    """The worker's part: the events to the consumer, then every job (one at a time), timed."""
    from crmpm import create_app
    from crmpm.jobs.runner import run_due

    app = create_app({"DATABASE_URL": url, "JOBS_URL": "memory://", "INSTANCE_PATH": instance, "SECRET_KEY": secret})
    started = time.perf_counter()
    done_at["consumer_s"] = deliver_all(app)
    jobs_started = time.perf_counter()
    while run_due(app, limit=500):
        pass
    done_at["jobs_s"] = time.perf_counter() - jobs_started
    done_at["total_s"] = time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("CRMPM_BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()

    from accounts.automation import services as automation
    from accounts.automation.models import AutomationRule, AutomationRun
    from accounts.imports import import_csv
    from accounts.models import Pipeline, Task
    from crmpm import create_app, migrate
    from crmpm.database import db, make_engine
    from crmpm.users import services as users
    from eps import grants
    from eps.models import EpsNode, Role

    n = args.deals
    admin_engine = make_engine(args.postgres, isolation_level="AUTOCOMMIT")
    name = f"crmpm_bench_{uuid.uuid4().hex[:8]}"
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
    figures: dict = {"deals": n, "accounts": args.accounts}
    folder = tempfile.TemporaryDirectory()
    try:
        migrate.upgrade(url=url)
        app = create_app({"DATABASE_URL": url, "JOBS_URL": "memory://", "INSTANCE_PATH": folder.name,
                          "SECRET_KEY": os.urandom(24).hex(),
                          "JOBS_NAMESPACE": f"bench-{uuid.uuid4().hex[:8]}"})
        engine = app.extensions["crmpm.database"].engine
        sellers = prepare(engine, n_accounts=args.accounts)
        with app.app_context():
            with db.transaction() as session:  # the sellers work the whole enterprise: a task for the owner is theirs
                admin = users.get_by_email(session, email="bench-admin@example.test")
                root = session.scalar(select(EpsNode).where(EpsNode.code == "ENT"))
                for email in sellers:
                    grants.create(session, actor=admin, role=Role.editor, target=root,
                                  user=users.get_by_email(session, email=email))
        mapping = Path(folder.name) / "deals.json"
        mapping.write_text(json.dumps(MAPPING), encoding="utf-8")

        def imported(first: int, stage: str) -> float:
            path = Path(folder.name) / f"deals-{first}-{stage}.csv"
            write_stage_csv(path, first=first, count=n, n_accounts=args.accounts, sellers=sellers, stage=stage)
            with app.app_context():
                session = db.new_session()
                try:
                    admin = users.get_by_email(session, email="bench-admin@example.test")
                    started = time.perf_counter()
                    report = import_csv(session, actor=admin, kind="deals", path=path, mapping=mapping)
                    session.commit()
                    took = time.perf_counter() - started
                finally:
                    session.close()
            assert not report.errors, report.errors[:3]
            return took

        def drain() -> float:
            return deliver_all(app)

        imported(0, "Qualification")
        figures["drain_created_s"] = drain()
        figures["move_no_rule_s"] = imported(0, "Needs analysis")
        figures["drain_no_rule_s"] = drain()
        figures["new_nothing_running_s"] = imported(n, "Qualification")
        figures["drain_new_s"] = drain()
        print(f"move {n} deals, no rule:           {figures['move_no_rule_s']:6.1f} s  "
              f"(consumer then {figures['drain_no_rule_s']:.1f} s)")
        print(f"import {n} new deals, idle:        {figures['new_nothing_running_s']:6.1f} s")

        with app.app_context():
            with db.transaction() as session:
                admin = users.get_by_email(session, email="bench-admin@example.test")
                pipeline = session.scalar(select(Pipeline).where(Pipeline.name == "Bench"))
                stage = next(stage for stage in pipeline.stages if stage.name == "Proposal")
                automation.create_rule(session, actor=admin, pipeline=pipeline, name="Proposal follow-up",
                                       trigger="deal.entered_stage", stage_id=stage.id, actions=[
                                           {"type": "create_task", "title": "Send {{ deal_name }} ({{ amount }}) "
                                            "the offer", "due_in_working_days": 2, "assignee": "owner"},
                                           {"type": "set_field", "field": "next_step", "value": "Offer sent"}])

        figures["move_rule_active_s"] = imported(0, "Proposal")
        # The rule's work in a process of its own, as a ``crmpm worker`` does it beside the web server.
        context = multiprocessing.get_context("spawn")
        done_at = context.Manager().dict()
        worker = context.Process(target=work, args=(url, app.config["SECRET_KEY"], folder.name, done_at),
                                 name="automation-worker")
        worker.start()
        figures["new_rules_running_s"] = imported(2 * n, "Qualification")
        worker.join()
        assert worker.exitcode == 0, worker.exitcode
        done_at = dict(done_at)
        with app.app_context():
            with db.transaction() as session:
                figures["runs_done"] = session.scalar(select(func.count()).select_from(AutomationRun)
                                                      .where(AutomationRun.status == "done"))
                figures["runs_other"] = session.scalar(select(func.count()).select_from(AutomationRun)
                                                       .where(AutomationRun.status != "done"))
                figures["tasks"] = session.scalar(select(func.count()).select_from(Task))
        # The control: the same kind of move once more, the rule gone and nothing running, on the database as it
        # has grown (what the rule costs the import is the difference with the move before, not with the first).
        with app.app_context():
            with db.transaction() as session:
                for rule in session.scalars(select(AutomationRule)):
                    session.delete(rule)
        figures["move_after_s"] = imported(0, "Negotiation")
        figures |= {f"rules_{key}": value for key, value in done_at.items()}
        print(f"move {n} deals, rule active:       {figures['move_rule_active_s']:6.1f} s")
        print(f"import {n} new deals, rules running: {figures['new_rules_running_s']:6.1f} s")
        print(f"move {n} deals, rule gone (control): {figures['move_after_s']:6.1f} s")
        print(f"the rule's work: consumer {figures['rules_consumer_s']:.1f} s, jobs {figures['rules_jobs_s']:.1f} s, "
              f"all {figures['rules_total_s']:.1f} s ({n / figures['rules_total_s']:.0f} runs/s, one worker)")
        print(f"runs done {figures['runs_done']}, other {figures['runs_other']}, tasks {figures['tasks']}")
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"automation-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps(figures, indent=2))
        engine.dispose()
    finally:
        folder.cleanup()
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


if __name__ == "__main__":
    main()

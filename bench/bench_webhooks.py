"""Webhooks: domain events turned into signed HTTP deliveries per second, by 2 worker processes, against a ceiling.

On the embedded set-up (SQLite database, SQLite job store) and on the one for several machines
(PostgreSQL database, Redis job store), each on a throwaway database (``bench_jobs.Site``):

- ceiling: the same HTTP client crmpm delivers with (``crmpm.webhooks.sending.post``, a signed body
  per request, a new connection each, as a delivery makes) POSTing ``--events`` bodies straight to the
  receiver from 4 threads (2 workers × 2 jobs at once): requests per second with no database and no jobs;
- deliveries: ``--events`` events recorded in one committed transaction for an administrator's webhook
  (every event readable), with 2 ``crmpm worker`` processes running (``--concurrency 2`` each, events
  dispatched every 0.2 s): from the commit to the receiver's last request, deliveries per second; the run
  checks every event arrived exactly once and every delivery row is ``succeeded``.

The receiver is the tests' HTTP server on 127.0.0.1 (``tests.receivers``) in this process, answering 200 ``ok``;
traffic goes nowhere else.

    PYTHONPATH=$PWD .venv/bin/python bench/bench_webhooks.py [--events 2000] [--only sqlite,postgresql]
        [--postgres URL] [--redis URL]

Figures: BENCHMARKS.md, "Outbound webhooks".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bench_jobs import DEFAULT_POSTGRES, DEFAULT_REDIS, _reachable, _site  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from crmpm import events  # noqa: E402
from crmpm.database import db  # noqa: E402
from crmpm.webhooks import WebhookDelivery, sending, signing, targets  # noqa: E402
from crmpm.webhooks import services as webhooks  # noqa: E402
from tests.receivers import Receiver  # noqa: E402

PATIENCE = 600.0


def ceiling(receiver: Receiver, count: int) -> float:
    """Requests per second through crmpm's HTTP client straight to the receiver, 4 at once."""
    target = targets.resolve(receiver.url, allow={"127.0.0.1"})
    secret = "bench-secret-0123456789"

    def one(n: int) -> None:
        body = json.dumps({"id": n, "type": "deal.won", "data": {"amount": "10.00"}}).encode()
        outcome = sending.post(target, body, signing.headers(secret, int(time.time()), body))
        assert outcome.succeeded, outcome

    receiver.reset()
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(1, count + 1)))
    return count / (time.perf_counter() - started)


def deliveries(site, receiver: Receiver, count: int) -> dict:
    from crmpm.users import services as users

    with site.app.app_context(), db.transaction() as session:
        admin = users.create(session, actor=None, email="bench@example.test", name="Bench", password=None)
        admin.is_admin = True
        session.flush()
        os.environ["CRMPM_WEBHOOK_ALLOW_HOSTS"] = "127.0.0.1"
        webhooks.create(session, actor=admin, url=receiver.url, events=["deal.won"], secret="bench-secret-0123456789")
    env = site.env() | {"CRMPM_WEBHOOK_ALLOW_HOSTS": "127.0.0.1"}
    for n in range(2):
        log = open(site.folder / f"webhook-worker-{n}.log", "wb")  # noqa: SIM115 - with the process
        site.processes.append(subprocess.Popen(
            [sys.executable, "-m", "crmpm", "worker", "--concurrency", "2", "--dispatch-interval", "0.2"],
            env=env, stdout=log, stderr=subprocess.STDOUT))
    time.sleep(8)  # the workers are up and idle
    receiver.reset()
    with site.app.app_context(), db.transaction() as session:
        events.record_many(session, "deal.won", [
            (("deals", n), {"stage_id": 4, "amount": "1250.50", "project_id": n, "first_win": True,
                            "budget_set": False}) for n in range(1, count + 1)])
    committed = time.perf_counter()
    receiver.wait_for(count, PATIENCE)
    ids = receiver.event_ids()
    elapsed = receiver.last_at - committed
    with site.app.app_context():
        session = db.read_session()
        try:
            succeeded = session.scalar(select(func.count(WebhookDelivery.id))
                                       .where(WebhookDelivery.status == "succeeded"))
        finally:
            session.close()
    site.stop_workers()
    return {"delivered": len(ids), "distinct": len(set(ids)), "succeeded_rows": succeeded,
            "seconds": round(elapsed, 2), "per_second": round(len(ids) / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--only", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    args = parser.parse_args()
    reasons = _reachable(args)
    receiver = Receiver().start()
    print(f"load average {os.getloadavg()[0]:.1f}; {args.events} events")
    top = ceiling(receiver, args.events)
    print(f"ceiling (crmpm's HTTP client straight to the receiver, 4 at once): {top:.0f} requests/s")
    for database, store in (("sqlite", "sqlite"), ("postgresql", "redis")):
        if database not in args.only:
            continue
        reason = reasons.get("postgresql") or reasons.get("redis") if database == "postgresql" else None
        if reason:
            print(f"{database}: left out ({reason})")
            continue
        with _site(database, store, args) as site:
            result = deliveries(site, receiver, args.events)
        print(f"{site.name}: {result} — {result['per_second'] / top:.1%} of the ceiling; "
              f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

"""The outbox on a database the tests commit to: nothing recorded for a rollback, nothing lost after a commit,
each subject's events in order, failures retried then kept, and (PostgreSQL) nothing read past an open transaction.

Events are recorded and delivered by real sessions, connections and processes against a database of this
module's own (``tests.databases.module_database``), because what is settled is a matter of committed transactions.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import Deal
from crmpm import events
from crmpm.audit.models import AuditEntry
from crmpm.database import make_engine
from crmpm.events import Event, EventCursor, EventFailure, dispatch
from crmpm.events.delivery import MAX_ATTEMPTS
from crmpm.users.models import User
from tests import factories
from tests.databases import module_database

ROOT = Path(__file__).resolve().parents[2]
_subjects = itertools.count(1_000_000)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def own_url(request, tmp_path_factory):
    yield from module_database(request, tmp_path_factory, "events")


@pytest.fixture(scope="module")
def engine(own_url):
    engine = make_engine(own_url)
    yield engine
    engine.dispose()


@pytest.fixture
def new_session(engine):
    return sessionmaker(bind=engine, expire_on_commit=False)


def subject() -> tuple[str, int]:
    """A subject no other test of the module records events about."""
    return "deals", next(_subjects)


def delivered_to(new_session, name: str, handle=None) -> list:
    """Run one dispatch to the consumer ``name``; what it was given (``handle`` also called, if given)."""
    seen = []

    def consume(session, event):
        if handle is not None:
            handle(session, event)
        seen.append(event)

    dispatch(new_session, {name: consume})
    return seen


def about(found, subject_) -> list:
    return [e for e in found if (e.subject_type, e.subject_id) == subject_]


def test_a_rolled_back_transaction_records_nothing(new_session):
    about_ = subject()
    with new_session() as session:
        events.record(session, "deal.created", about_, {"amount": "1.00"})
        events.record_many(session, "deal.stage_changed", [(about_, {"to_stage_id": 1})])
        assert session.scalar(select(func.count()).select_from(Event).where(Event.subject_id == about_[1])) == 2
        session.rollback()
    with new_session() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.subject_id == about_[1])) == 0


KILLED_AFTER_COMMIT = """
import os, signal, sys
from sqlalchemy.orm import Session
from accounts.models import Deal
from crmpm import events
from crmpm.database import make_engine

engine = make_engine(sys.argv[1])
session = Session(engine)
events.record(session, "deal.created", ("deals", int(sys.argv[2])), {"amount": "12.30"})
session.commit()
print("committed", flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # dead before anything could be dispatched
"""


def test_an_event_committed_by_a_process_killed_right_after_is_delivered_by_the_next_dispatch(own_url, new_session):
    name = "killed-consumer"
    delivered_to(new_session, name)  # the consumer is up to date before the process runs
    about_ = subject()
    process = subprocess.run([sys.executable, "-c", KILLED_AFTER_COMMIT, own_url, str(about_[1])],
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert process.returncode == -signal.SIGKILL, process.stderr
    assert process.stdout.strip() == "committed"
    got = about(delivered_to(new_session, name), about_)
    assert [(e.type, e.payload) for e in got] == [("deal.created", {"amount": "12.30"})]
    assert about(delivered_to(new_session, name), about_) == []  # and only once to a consumer that succeeded


def test_the_events_of_one_deal_reach_a_consumer_in_the_order_of_its_changes(new_session):
    with new_session() as session:
        admin = factories.admin(session)
        root = factories.node(session, actor=admin, code="ORDER", budget="1000.00")
        account = factories.account(session, actor=admin, region=root)
        pipeline = factories.pipeline(session)
        deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline)
        session.commit()
        deal_id, admin_id = deal.id, admin.id
    for stage in ("Proposal", "Negotiation", "Qualification", "Proposal", "Lost"):
        with new_session() as session:  # one committed transaction per move, as one request each
            factories.move(session, actor=session.get(User, admin_id), deal=session.get(Deal, deal_id),
                           stage=stage, lost_reason="price")
            session.commit()
    got = about(delivered_to(new_session, "order-consumer"), ("deals", deal_id))
    assert [e.type for e in got] == ["deal.created"] + ["deal.stage_changed"] * 5 + ["deal.lost"]
    assert [e.id for e in got] == sorted(e.id for e in got)
    moves = [e.payload for e in got if e.type == "deal.stage_changed"]
    assert all(earlier["to_stage_id"] == later["from_stage_id"] for earlier, later in zip(moves, moves[1:]))
    assert moves[0]["from_stage_id"] == got[0].payload["stage_id"]


def test_a_failing_consumer_is_retried_then_the_event_is_kept_as_a_failure_and_passed(new_session):
    name = "failing-consumer"
    delivered_to(new_session, name)
    bad, good = subject(), subject()
    with new_session() as session:
        events.record(session, "deal.created", bad, {})
        events.record(session, "deal.created", good, {})
        session.commit()

    def refuse(session, event):
        if (event.subject_type, event.subject_id) == bad:
            raise RuntimeError("the consumer cannot take this one")

    for _attempt in range(MAX_ATTEMPTS - 1):
        # Stopped at the failing event: the later one of the run does not overtake it.
        assert about(delivered_to(new_session, name, refuse), good) == []
    with new_session() as session:
        cursor = session.get(EventCursor, name)
        assert cursor.failures == MAX_ATTEMPTS - 1 and "cannot take this one" in cursor.last_error
        assert session.scalars(select(EventFailure).where(EventFailure.consumer == name)).all() == []
    assert [e.subject_id for e in delivered_to(new_session, name, refuse)] == [good[1]]
    with new_session() as session:
        failure = session.scalars(select(EventFailure).where(EventFailure.consumer == name)).one()
        bad_id = session.scalar(select(Event.id).where(Event.subject_id == bad[1]))
        assert (failure.event_id, failure.attempts) == (bad_id, MAX_ATTEMPTS)
        assert "RuntimeError: the consumer cannot take this one" in failure.error
        assert session.get(EventCursor, name).failures == 0


def test_a_consumer_failing_a_few_times_gets_the_event_and_no_failure_is_kept(new_session):
    name = "flaky-consumer"
    delivered_to(new_session, name)
    about_ = subject()
    with new_session() as session:
        events.record(session, "deal.created", about_, {})
        session.commit()
    failures = iter([True, True, False])

    def flaky(session, event):
        if next(failures):
            raise ConnectionError("downstream unavailable")

    assert delivered_to(new_session, name, flaky) == []
    assert delivered_to(new_session, name, flaky) == []
    assert [e.subject_id for e in delivered_to(new_session, name, flaky)] == [about_[1]]
    with new_session() as session:
        assert session.scalars(select(EventFailure).where(EventFailure.consumer == name)).all() == []


@pytest.fixture
def refused_commits(new_session):
    """While ``armed``, commits of the delivery sessions fail, as a lost connection at COMMIT would."""
    state = {"armed": False}

    def refuse(session):
        if state["armed"] and session.info.get("delivery"):
            raise IntegrityError("COMMIT", {}, Exception("connection lost at commit"))

    sa_event.listen(Session, "before_commit", refuse)
    yield state
    sa_event.remove(Session, "before_commit", refuse)


def test_a_consumers_writes_and_its_cursor_commit_together(new_session, refused_commits):
    name = "writing-consumer"
    delivered_to(new_session, name)
    about_ = subject()
    with new_session() as session:
        events.record(session, "deal.created", about_, {})
        session.commit()

    def delivery_session():
        session = new_session()
        session.info["delivery"] = True
        return session

    def write(session, event):
        session.add(AuditEntry(action="consumed", entity_type="events", entity_id=event.id))

    def written() -> int:
        with new_session() as session:
            return session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "consumed", AuditEntry.entity_id.in_(
                    select(Event.id).where(Event.subject_id == about_[1]))))

    refused_commits["armed"] = True
    dispatch(delivery_session, {name: write})
    assert written() == 0  # neither the write nor the cursor's move survived the failed commit
    refused_commits["armed"] = False
    dispatch(delivery_session, {name: write})
    dispatch(delivery_session, {name: write})
    assert written() == 1  # delivered again after the failure, and the write happened once


def test_events_tail_prints_the_recorded_events_as_json_lines(own_url, new_session, tmp_path):
    with new_session() as session:
        after = session.scalar(select(func.max(Event.id))) or 0
        first, second = subject(), subject()
        events.record(session, "deal.created", first, {"amount": "7.00"})
        events.record(session, "deal.lost", second, {"reason": "Цена"})
        session.commit()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CRMPM_DATABASE_URL": own_url,
           "CRMPM_INSTANCE_PATH": str(tmp_path), "CRMPM_JOBS_URL": "memory://",
           "CRMPM_SECRET_KEY": "events-tail-test"}

    def tail(*args):
        result = subprocess.run([sys.executable, "-m", "crmpm", "events", "tail", "--after", str(after), *args],
                                env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    lines = tail()
    assert [(line["type"], line["subject_id"], line["payload"]) for line in lines] == [
        ("deal.created", first[1], {"amount": "7.00"}), ("deal.lost", second[1], {"reason": "Цена"})]
    assert set(lines[0]) == {"id", "type", "version", "subject_type", "subject_id", "payload", "actor_id",
                             "occurred_at"}
    assert [line["type"] for line in tail("--type", "deal.lost")] == ["deal.lost"]


# PostgreSQL: ids follow commits, not inserts


@pytest.fixture
def postgresql_only(own_url):
    if not own_url.startswith("postgresql"):
        pytest.skip("concurrent writers are PostgreSQL's (SQLite writes one transaction at a time)")


def _page_about(new_session, after, *subjects_):
    with new_session() as session:
        found = events.page(session, after=after, limit=1000)
        pending = events.pending(session, after=after, limit=1000)
    ids = [e.subject_id for e in found if (e.subject_type, e.subject_id) in subjects_]
    assert ids == [e.subject_id for e in pending if (e.subject_type, e.subject_id) in subjects_]
    return ids


def _last_id(new_session) -> int:
    with new_session() as session:
        return session.scalar(select(func.max(Event.id))) or 0


def test_an_event_committed_later_comes_after_those_committed_before_it(postgresql_only, new_session):
    after = _last_id(new_session)
    opened, committed = subject(), subject()
    open_session = new_session()
    try:
        events.record(open_session, "deal.created", opened, {})  # written first, committed last
        with new_session() as later:
            events.record(later, "deal.created", committed, {})
            later.commit()
        assert _page_about(new_session, after, opened, committed) == [committed[1]]
        seen = _last_id(new_session)
        open_session.commit()
    finally:
        open_session.close()
    assert _page_about(new_session, after, opened, committed) == [committed[1], opened[1]]
    # A reader that kept the last id it saw gets the late one next.
    assert _page_about(new_session, seen, opened, committed) == [opened[1]]


def test_transactions_of_other_databases_hold_nothing_back(postgresql_only, postgresql_url, new_session):
    other = make_engine(postgresql_url)
    try:
        with other.connect() as connection:
            connection.execute(text("SELECT pg_current_xact_id()"))  # a running transaction with an id, elsewhere
            after = _last_id(new_session)
            about_ = subject()
            with new_session() as session:
                events.record(session, "deal.created", about_, {})
                session.commit()
            assert _page_about(new_session, after, about_) == [about_[1]]
            connection.rollback()
    finally:
        other.dispose()


def test_a_reader_keeping_the_last_id_misses_no_event_of_interleaved_transactions(postgresql_only, new_session):
    # Event rows get their insert order from the moment they are written; readers follow commits.
    after = _last_id(new_session)
    first, second, third = subject(), subject(), subject()
    a, b = new_session(), new_session()
    try:
        events.record(a, "deal.created", first, {})
        events.record(b, "deal.created", second, {})
        events.record(a, "deal.created", third, {})
        b.commit()
        assert _page_about(new_session, after, first, second, third) == [second[1]]
        seen = _last_id(new_session)
        a.commit()
    finally:
        a.close()
        b.close()
    assert _page_about(new_session, seen, first, second, third) == [first[1], third[1]]
    with new_session() as session:
        ids = session.scalars(select(Event.id).where(Event.subject_id.in_([first[1], second[1], third[1]]))
                              .order_by(Event.id)).all()
    assert ids == list(range(ids[0], ids[0] + 3)), "ids are given without gaps, in commit order"

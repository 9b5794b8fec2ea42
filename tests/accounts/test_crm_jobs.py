"""The CRM's periodic jobs: tasks coming due recorded once per due time, and deputies' handovers.

Called as the runner calls them (a JobContext over the test's transaction), and run by the job
runner itself with a real app on a database this module commits to.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts import activities, jobs as crm_jobs, leads, routing
from accounts.models import Deal, Task
from crmpm import create_app, jobs
from crmpm.database import make_engine, utcnow
from crmpm.events import Event
from crmpm.jobs import JobContext
from crmpm.jobs.kinds import periodic_kinds
from crmpm.jobs.runner import run_due
from eps.models import Role
from tests import factories
from tests.accounts.fixtures import admin, api, crm  # noqa: F401 - fixtures
from tests.databases import module_database


def _due_events(session, task=None) -> list[Event]:
    query = select(Event).where(Event.type == "task.due").order_by(Event.row_id)
    if task is not None:
        query = query.where(Event.subject_type == "tasks", Event.subject_id == task.id)
    return list(session.scalars(query))


def _run(session, function) -> dict:
    return function(JobContext(session=session, job_id=0, params={}))


def test_both_jobs_are_periodic_kinds_on_their_schedule():
    assert crm_jobs.process_handovers.crmpm_schedule == {"minute": "0"}
    assert crm_jobs.record_due_tasks.crmpm_schedule == {"minute": "*"}
    assert periodic_kinds()["crm.handovers"] == {"minute": "0"}
    assert periodic_kinds()["crm.tasks_due"] == {"minute": "*"}


def test_task_due_is_recorded_once_per_due_time_for_open_tasks_that_are_past_due(session, crm):
    admin, account = crm["admin"], crm["A"]["account"]
    assignee = factories.user(session)
    now = utcnow()
    overdue = activities.create_task(session, actor=admin, title="Call", due_at=now - timedelta(hours=1),
                                     account=account, assignee=assignee)
    later = activities.create_task(session, actor=admin, title="Visit", due_at=now + timedelta(days=1),
                                   account=account)
    finished = activities.create_task(session, actor=admin, title="Done", due_at=now - timedelta(hours=2),
                                      account=account)
    activities.update_task(session, actor=admin, task=finished, status="done")
    lead = leads.create_lead(session, actor=admin, region=crm["B"]["branch"], company="Lead Ltd")
    on_lead = activities.create_task(session, actor=admin, title="Qualify", due_at=now - timedelta(minutes=5),
                                     lead=lead)

    assert _run(session, crm_jobs.record_due_tasks) == {"recorded": 2}
    assert [(e.subject_id, e.payload) for e in _due_events(session)] == [
        (overdue.id, {"assignee_id": assignee.id, "due_at": overdue.due_at.isoformat()}),
        (on_lead.id, {"assignee_id": admin.id, "due_at": on_lead.due_at.isoformat()})]
    assert session.get(Task, overdue.id).due_event_at == overdue.due_at
    assert all(e.actor_id is None for e in _due_events(session))

    assert _run(session, crm_jobs.record_due_tasks) == {"recorded": 0}  # again: nothing twice
    assert len(_due_events(session)) == 2

    # A moved due date is recorded again once it has passed; one not passed yet waits for it.
    moved = now - timedelta(minutes=10)
    activities.update_task(session, actor=admin, task=overdue, due_at=moved)
    activities.update_task(session, actor=admin, task=on_lead, due_at=now + timedelta(hours=2))
    assert _run(session, crm_jobs.record_due_tasks) == {"recorded": 1}
    assert [e.payload["due_at"] for e in _due_events(session, overdue)] == [
        (now - timedelta(hours=1)).isoformat(), moved.isoformat()]
    assert len(_due_events(session, on_lead)) == 1
    assert activities.record_due_tasks(session, now=now + timedelta(hours=3)) == 1
    assert len(_due_events(session, on_lead)) == 2 and _due_events(session, later) == []
    assert activities.record_due_tasks(session, now=now + timedelta(days=2)) == 1
    assert len(_due_events(session, later)) == 1
    assert _due_events(session, finished) == []


def test_record_due_tasks_takes_a_bounded_batch_and_leaves_the_rest_for_the_next_run(session, crm):
    admin, account = crm["admin"], crm["A"]["account"]
    for n in range(3):
        activities.create_task(session, actor=admin, title=f"T{n}", due_at=utcnow() - timedelta(hours=3 - n),
                               account=account)
    assert activities.record_due_tasks(session, limit=2) == 2
    assert activities.record_due_tasks(session, limit=2) == 1
    assert activities.record_due_tasks(session, limit=2) == 0
    assert len(_due_events(session)) == 3


def test_the_handovers_job_hands_over_and_gives_back_with_counts(session, crm):
    admin, account = crm["admin"], crm["A"]["account"]
    alice, boris = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=alice)
    deal = factories.deal(session, actor=admin, account=account, pipeline=crm["pipeline"], owner=alice)
    absence = routing.create_absence(session, actor=admin, user=alice, deputy=boris,
                                     starts_at=utcnow() - timedelta(hours=1), ends_at=utcnow() + timedelta(days=1))
    assert _run(session, crm_jobs.process_handovers) == {"handed_over": 1, "given_back": 0}
    assert session.get(Deal, deal.id).owner_id == boris.id
    assert _run(session, crm_jobs.process_handovers) == {"handed_over": 0, "given_back": 0}
    absence.ends_at = utcnow() - timedelta(minutes=1)
    assert _run(session, crm_jobs.process_handovers) == {"handed_over": 0, "given_back": 1}
    assert session.get(Deal, deal.id).owner_id == alice.id


# Run by the job runner, with a real app, on a database committed to


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def own_url(request, tmp_path_factory):
    yield from module_database(request, tmp_path_factory, "crmjobs")


@pytest.fixture(scope="module")
def own_app(own_url, tmp_path_factory):
    return create_app({"DATABASE_URL": own_url, "TESTING": True, "JOBS_URL": "memory://",
                       "INSTANCE_PATH": str(tmp_path_factory.mktemp("crmjobs-instance"))})


def test_the_runner_records_task_due_exactly_once_across_runs_and_again_for_a_moved_date(own_url, own_app):
    engine = make_engine(own_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            admin = factories.admin(session)
            node = factories.node(session, actor=admin, code="JOBS")
            account = factories.account(session, actor=admin, region=node)
            task = activities.create_task(session, actor=admin, title="Ring", account=account,
                                          due_at=utcnow() - timedelta(minutes=1))
            session.commit()

        def run_once() -> dict:
            with Session(engine, expire_on_commit=False) as session:
                job = jobs.start(session, kind="crm.tasks_due")
                session.commit()
                job_id = job.id
            assert (job_id, "succeeded") in run_due(own_app)
            with Session(engine) as session:
                return session.get(jobs.Job, job_id).result

        def recorded() -> list[str]:
            with Session(engine) as session:
                return list(session.scalars(select(Event.payload).where(
                    Event.type == "task.due", Event.subject_id == task.id).order_by(Event.id)))

        assert run_once() == {"recorded": 1}
        assert run_once() == {"recorded": 0}
        assert [payload["due_at"] for payload in recorded()] == [task.due_at.isoformat()]
        with Session(engine, expire_on_commit=False) as session:
            moved = utcnow() - timedelta(seconds=30)
            activities.update_task(session, actor=session.get(type(admin), admin.id),
                                   task=session.get(Task, task.id), due_at=moved)
            session.commit()
        assert run_once() == {"recorded": 1}
        assert run_once() == {"recorded": 0}
        assert [payload["due_at"] for payload in recorded()] == [task.due_at.isoformat(), moved.isoformat()]
    finally:
        engine.dispose()


def test_the_runner_runs_the_handovers_job(own_url, own_app):
    engine = make_engine(own_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            admin = factories.admin(session)
            node = factories.node(session, actor=admin, code="HANDOVER")
            account = factories.account(session, actor=admin, region=node)
            alice, boris = factories.user(session), factories.user(session)
            deal = factories.deal(session, actor=admin, account=account, pipeline=factories.pipeline(session),
                                  owner=alice)
            routing.create_absence(session, actor=admin, user=alice, deputy=boris,
                                   starts_at=utcnow() - timedelta(hours=1), ends_at=utcnow() + timedelta(days=1))
            job = jobs.start(session, kind="crm.handovers", actor=admin)
            session.commit()
        assert (job.id, "succeeded") in run_due(own_app)
        with Session(engine) as session:
            assert session.get(jobs.Job, job.id).result == {"handed_over": 1, "given_back": 0}
            assert session.get(Deal, deal.id).owner_id == boris.id
            assert session.scalar(select(func.count()).select_from(Event).where(
                Event.type == "user.access_changed", Event.subject_id == boris.id)) >= 1
    finally:
        engine.dispose()

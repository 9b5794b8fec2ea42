"""The WBS job kinds as functions, and what scheduling records whichever way it runs.

The job kinds through HTTP, on a committed database, against the synchronous answers:
tests/api/test_wbs_jobs.py; from the pages: tests/web/test_project_jobs.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crmpm.errors import Conflict, Forbidden, Invalid, NotFound
from crmpm.events.models import Event
from crmpm.jobs import FILE_KEPT, Job, JobContext, JobFile, attach_file, start
from crmpm.jobs.worker import recovery_tick
from eps.models import Role
from tests import factories
from tests.corpus import IN_REPO
from wbs import interchange, services
from wbs.interchange import jobs as interchange_jobs
from wbs.interchange.limits import FileLimits
from wbs.models import Relationship
from wbs.scheduling import jobs as scheduling_jobs
from wbs.scheduling import service as scheduling_service

XER = (IN_REPO / "xer" / "alap-harbour-131.xer").read_bytes()


@pytest.fixture
def place(session):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="WJOBS")
    project = interchange.import_xer(session, actor=admin, data=XER, eps_node=node, code="PLAN")
    return admin, node, project


def _context(session, job: Job, actor) -> tuple[JobContext, list]:
    reports = []
    return JobContext(session=session, job_id=job.id, params=dict(job.params), actor=actor,
                      report=lambda fraction, message: reports.append((fraction, message))), reports


def _events(session, project) -> list[Event]:
    return session.scalars(select(Event).where(Event.type == "project.scheduled", Event.subject_id == project.id)
                           .order_by(Event.row_id)).all()


def test_scheduling_reports_progress_pass_by_pass(session, place):
    admin, _node, project = place
    reports = []
    scheduling_service.schedule_project(session, actor=admin, project=project,
                                        progress=lambda fraction, message: reports.append((fraction, message)))
    fractions = [fraction for fraction, _message in reports]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    messages = [message for _fraction, message in reports]
    assert {"loading the plan", "forward pass", "backward pass", "storing the dates"} <= set(messages)


def test_every_schedule_records_the_project_scheduled_event(session, place):
    admin, _node, project = place
    before = len(_events(session, project))  # the import scheduled it too
    summary = scheduling_service.schedule_project(session, actor=admin, project=project)
    [event] = _events(session, project)[before:]
    assert event.subject_type == "projects" and event.actor_id == admin.id
    assert event.payload == {"activities": 131, "finish": summary.finish.isoformat(),
                             "data_date": summary.data_date.isoformat(), "critical": summary.critical,
                             "job_id": None}


def test_a_refused_schedule_records_no_event(session, place):
    admin, node, _project = place
    project = factories.project(session, actor=admin, node=node, code="LOOP")
    first = services.create_activity(session, actor=admin, project=project, code="A", name="A",
                                     original_duration_hours=8.0)
    second = services.create_activity(session, actor=admin, project=project, code="B", name="B",
                                      original_duration_hours=8.0)
    services.create_relationship(session, actor=admin, project=project, predecessor=first, successor=second)
    # A loop the services would refuse, written directly (as an old database might hold one).
    session.add(Relationship(predecessor_id=second.id, successor_id=first.id, type="FS", lag_hours=0.0))
    session.flush()
    with pytest.raises(Conflict):
        with session.begin_nested():
            scheduling_service.schedule_project(session, actor=admin, project=project)
    assert _events(session, project) == []


def test_the_schedule_job_schedules_with_the_askers_rights(session, place):
    admin, node, project = place
    editor = factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=node, user=editor)
    job = scheduling_jobs.start_schedule(session, actor=editor, project=project)
    context, reports = _context(session, job, editor)
    result = scheduling_jobs.schedule_plan(context)
    assert result["activities"] == 131 and result["url"] == f"/projects/{project.id}"
    assert result["finish"] == services.get_plan(session, project=project).early_finish.strftime("%Y-%m-%dT%H:%M")
    assert reports and reports[-1][0] == 1.0
    assert _events(session, project)[-1].payload["job_id"] == job.id


def test_jobs_refuse_an_asker_who_lost_the_rights_or_is_gone(session, place):
    admin, node, project = place
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=node, user=viewer)
    job = start(session, kind="wbs.schedule", params={"project_id": project.id}, actor=viewer)
    with pytest.raises(Forbidden):
        scheduling_jobs.schedule_plan(_context(session, job, viewer)[0])
    with pytest.raises(NotFound):
        scheduling_jobs.schedule_plan(_context(session, job, factories.user(session))[0])
    with pytest.raises(Forbidden):
        interchange_jobs.export_xer(_context(session, job, None)[0])


def test_asking_refuses_what_the_synchronous_path_refuses(session, place):
    admin, node, project = place
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=node, user=viewer)
    with pytest.raises(Forbidden):
        scheduling_jobs.start_schedule(session, actor=viewer, project=project)
    with pytest.raises(Forbidden):
        interchange_jobs.start_import(session, actor=viewer, file_format="xer", data=XER, filename="p.xer",
                                      eps_node=node, limits=FileLimits())
    with pytest.raises(NotFound):
        interchange_jobs.start_export(session, actor=factories.user(session), project=project)
    assert session.scalars(select(Job)).all() == []


def test_the_import_job_reads_its_upload_from_the_database_and_then_drops_it(session, place):
    admin, node, _project = place
    job = interchange_jobs.start_import(session, actor=admin, file_format="xer", data=XER, filename="harbour.xer",
                                        eps_node=node, limits=FileLimits(), code="FROMJOB")
    [upload] = session.scalars(select(JobFile).where(JobFile.job_id == job.id)).all()
    assert upload.expires_at - upload.created_at == FILE_KEPT
    context, reports = _context(session, job, admin)
    result = interchange_jobs.import_xer(context)
    assert result["project_code"] == "FROMJOB" and result["counts"]["activities"] == 131
    assert result["file"] == "harbour.xer" and reports
    assert session.scalars(select(JobFile).where(JobFile.job_id == job.id)).all() == []


def test_the_import_job_holds_the_file_to_the_limits_it_was_asked_with(session, place):
    admin, node, _project = place
    job = interchange_jobs.start_import(session, actor=admin, file_format="xer", data=XER, filename="p.xer",
                                        eps_node=node, limits=FileLimits())
    job.params = {**job.params, "limits": {**job.params["limits"], "activities": 10}}
    with pytest.raises(Invalid):
        interchange_jobs.import_xer(_context(session, job, admin)[0])


def test_the_recovery_tick_removes_expired_job_files_only(app, session, place):
    admin, _node, project = place
    job = start(session, kind="wbs.export_xer", params={"project_id": project.id}, actor=admin)
    kept = attach_file(session, job_id=job.id, name="kept.xer", content_type="application/octet-stream", data=b"k")
    gone = attach_file(session, job_id=job.id, name="gone.xer", content_type="application/octet-stream", data=b"g",
                       keep=timedelta(seconds=-1))
    kept_id, gone_id = kept.id, gone.id
    session.commit()
    recovery_tick(app)
    session.expire_all()
    assert session.get(JobFile, kept_id) is not None and session.get(JobFile, gone_id) is None

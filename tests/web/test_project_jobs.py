"""The PM pages hand big work to jobs: a file above IMPORT_ASYNC_BYTES, the schedule and the XER export of a
plan above SCHEDULE_ASYNC_ACTIVITIES go to the job's page; smaller ones are done at once, as before."""

from __future__ import annotations

from io import BytesIO

import pytest
from flask import url_for
from sqlalchemy import func, select

from crmpm.jobs import Job, JobFile
from eps.models import Project, Role
from tests import factories
from tests.committed import committed  # noqa: F401 - a fixture
from tests.corpus import IN_REPO
from wbs import interchange
from wbs.models import ProjectPlan

XER = (IN_REPO / "xer" / "alap-harbour-131.xer").read_bytes()


@pytest.fixture
def world(committed):
    session = committed.session
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="PAGES")
    project = interchange.import_xer(session, actor=admin, data=XER, eps_node=node, code="PLAN")
    viewer, outsider = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=node, user=viewer)
    session.commit()
    return {"admin": admin, "node": node, "project": project, "viewer": viewer, "outsider": outsider}


def _jobs(session) -> list[Job]:
    return session.scalars(select(Job).order_by(Job.id)).all()


def _job_page(committed, job: Job) -> str:
    with committed.app.test_request_context():
        return url_for("jobs.show", job_id=job.id)


def _upload(pages, node, code):
    return pages.post("/projects/import", {"node": str(node.id), "format": "auto", "code": code,
                                           "file": (BytesIO(XER), "harbour.xer")},
                      content_type="multipart/form-data")


def test_a_file_above_the_size_is_imported_by_a_job_whose_page_follows_it(committed, world):
    committed.app.config["IMPORT_ASYNC_BYTES"] = len(XER) - 1
    pages, session = committed.pages.log_in_as(world["admin"]), committed.session
    response = _upload(pages, world["node"], "BIG")
    [job] = _jobs(session)
    assert response.status_code == 303 and response.headers["Location"] == _job_page(committed, job)
    assert job.kind == "wbs.import_xer" and job.params["code"] == "BIG"
    assert session.scalar(select(func.count()).select_from(Project).where(Project.code == "BIG")) == 0
    assert committed.run_jobs() == [(job.id, "succeeded")]
    session.refresh(job)
    project = session.scalar(select(Project).where(Project.code == "BIG"))
    with committed.app.test_request_context():
        assert job.result["url"] == url_for("pm.project", project_id=project.id)
    # The job's page links to the new project.
    assert f'href="{job.result["url"]}"' in pages.get(_job_page(committed, job)).get_data(as_text=True)


def test_a_file_up_to_the_size_is_imported_at_once(committed, world):
    committed.app.config["IMPORT_ASYNC_BYTES"] = len(XER)
    pages, session = committed.pages.log_in_as(world["admin"]), committed.session
    response = _upload(pages, world["node"], "SMALL")
    project = session.scalar(select(Project).where(Project.code == "SMALL"))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/projects/{project.id}")
    assert _jobs(session) == []


def test_a_big_file_without_rights_on_the_node_starts_nothing(committed, world):
    committed.app.config["IMPORT_ASYNC_BYTES"] = 100
    pages, session = committed.pages.log_in_as(world["viewer"]), committed.session
    response = _upload(pages, world["node"], "NOPE")
    assert response.status_code == 403
    assert _jobs(session) == []


def test_scheduling_a_plan_above_the_size_from_the_page_runs_as_a_job(committed, world):
    committed.app.config["SCHEDULE_ASYNC_ACTIVITIES"] = 130  # the plan has 131
    pages, session = committed.pages.log_in_as(world["admin"]), committed.session
    project = world["project"]
    scheduled_at = session.get(ProjectPlan, project.id).scheduled_at
    response = pages.post(f"/projects/{project.id}/schedule")
    [job] = _jobs(session)
    assert response.status_code == 303 and response.headers["Location"] == _job_page(committed, job)
    assert (job.kind, job.params) == ("wbs.schedule", {"project_id": project.id})
    assert committed.run_jobs() == [(job.id, "succeeded")]
    assert session.get(ProjectPlan, project.id).scheduled_at > scheduled_at


def test_a_plan_up_to_the_size_is_scheduled_at_once(committed, world):
    committed.app.config["SCHEDULE_ASYNC_ACTIVITIES"] = 131
    pages, session = committed.pages.log_in_as(world["admin"]), committed.session
    response = pages.post(f"/projects/{world['project'].id}/schedule")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/projects/{world['project'].id}")
    assert _jobs(session) == []


def test_a_viewer_cannot_schedule_a_big_plan_either(committed, world):
    committed.app.config["SCHEDULE_ASYNC_ACTIVITIES"] = 1
    pages = committed.pages.log_in_as(world["viewer"])
    assert pages.post(f"/projects/{world['project'].id}/schedule").status_code == 403
    assert _jobs(committed.session) == []


def test_a_big_plans_export_is_written_by_a_job_and_kept_for_its_page(committed, world):
    committed.app.config["SCHEDULE_ASYNC_ACTIVITIES"] = 130
    pages, session = committed.pages.log_in_as(world["viewer"]), committed.session
    project = world["project"]
    page = pages.get(f"/projects/{project.id}").get_data(as_text=True)
    assert f'<form method="post" action="/projects/{project.id}/export.xer"' in page
    assert f'href="/projects/{project.id}/export.xer"' not in page
    response = pages.post(f"/projects/{project.id}/export.xer")
    [job] = _jobs(session)
    assert response.status_code == 303 and response.headers["Location"] == _job_page(committed, job)
    assert job.kind == "wbs.export_xer" and job.created_by_id == world["viewer"].id
    assert committed.run_jobs() == [(job.id, "succeeded")]
    stored = session.scalars(select(JobFile).where(JobFile.job_id == job.id)).one()
    download = pages.get(f"/projects/{project.id}/export.xer").data
    assert stored.data == download and stored.name == "PLAN.xer"
    # The job's page offers the file; it is the download's bytes.
    with committed.app.test_request_context():
        file_url = url_for("jobs.file", job_id=job.id)
    assert f'href="{file_url}"' in pages.get(_job_page(committed, job)).get_data(as_text=True)
    assert pages.get(file_url).data == download


def test_a_small_plans_page_links_the_download(committed, world):
    pages = committed.pages.log_in_as(world["viewer"])
    page = pages.get(f"/projects/{world['project'].id}").get_data(as_text=True)
    assert f'href="/projects/{world["project"].id}/export.xer"' in page
    assert f'action="/projects/{world["project"].id}/export.xer"' not in page


def test_the_export_job_needs_the_token_and_read_rights(committed, world):
    project_id = world["project"].id
    pages = committed.pages.log_in_as(world["admin"])
    assert pages.post(f"/projects/{project_id}/export.xer", csrf=False).status_code == 400
    pages.log_in_as(world["outsider"])
    assert pages.post(f"/projects/{project_id}/export.xer").status_code == 404
    assert _jobs(committed.session) == []

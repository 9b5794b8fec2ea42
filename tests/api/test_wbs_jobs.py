"""XER/MSPDI imports, the XER export and scheduling with ``?async=true``: 202, the job, and what the job makes.

The job's outcome is compared with the synchronous answer to the same request on the same file:
the same project, dates and floats, the same bytes.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from io import BytesIO

import pytest
from sqlalchemy import func, select

from crmpm.database import utcnow
from crmpm.events.models import Event
from crmpm.jobs import Job, JobFile
from eps import grants
from eps.models import Project, Role
from tests import factories
from tests.committed import committed  # noqa: F401 - a fixture
from tests.corpus import IN_REPO
from tests.wbs.interchange.test_store import _snapshot, assert_scheduled_as_p6
from tests.wbs.xer_fixtures import GOLDEN, xer_path
from wbs import interchange, services
from wbs.models import Activity, Calendar, ProjectPlan, Relationship

XER = (IN_REPO / "xer" / "alap-harbour-131.xer").read_bytes()
# The MSPDI file is made by crmpm from another real file (one whose MSPDI export reads back).
MSPDI_SOURCE = (IN_REPO / "xer" / "three-projects-134.xer").read_bytes()
KINDS = {"import_xer": "wbs.import_xer", "import_mspdi": "wbs.import_mspdi", "export_xer": "wbs.export_xer",
         "schedule": "wbs.schedule"}


def _place(session, admin):
    """A node with a project imported from a real XER file, its MSPDI file, a viewer of the node and an outsider."""
    node = factories.node(session, actor=admin, code="JOBS")
    project = interchange.import_xer(session, actor=admin, data=XER, eps_node=node, code="PLAN")
    viewer, outsider = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=node, user=viewer)
    source = interchange.import_xer(session, actor=admin, data=MSPDI_SOURCE, eps_node=node, code="MSPSRC")
    mspdi = interchange.export_mspdi(session, project=source)
    session.commit()
    return {"node": node, "project": project, "viewer": viewer, "outsider": outsider, "mspdi": mspdi}


@pytest.fixture
def place(session, admin):
    return _place(session, admin)


def _ask(api, user, what, place, *, run_async=True, code="NEW"):
    """The request ``what`` (an endpoint of KINDS) as ``user``, with ``async=true`` unless told otherwise."""
    flag = "async=true" if run_async else "async=false"
    node, project = place["node"].id, place["project"].id
    if what in ("import_xer", "import_mspdi"):
        data, name = (XER, "plan.xer") if what == "import_xer" else (place["mspdi"], "plan.xml")
        path = f"/api/v1/projects/import/{what.removeprefix('import_')}?{flag}&eps_node_id={node}&code={code}"
        return api.post(path, user=user, data={"file": (BytesIO(data), name)}, json=None,
                        content_type="multipart/form-data")
    if what == "export_xer":
        return api.get(f"/api/v1/projects/{project}/export/xer?{flag}", user=user)
    return api.post(f"/api/v1/projects/{project}/schedule?{flag}", user=user)


def _jobs(session) -> int:
    return session.scalar(select(func.count()).select_from(Job))


# The answers


@pytest.mark.parametrize("what", sorted(KINDS))
def test_each_async_endpoint_answers_202_with_the_job_and_where_to_follow_it(api, session, admin, place, what):
    response = _ask(api, admin, what, place)
    assert response.status_code == 202, response.json
    job = response.json
    assert response.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    assert (job["kind"], job["status"], job["created_by"]) == (KINDS[what], "queued", admin.id)
    assert api.get(response.headers["Location"], user=admin).json["id"] == job["id"]
    if what.startswith("import"):
        upload = session.scalar(select(JobFile).where(JobFile.job_id == job["id"]))
        assert upload.data == (XER if what == "import_xer" else place["mspdi"])
        assert upload.name == ("plan.xer" if what == "import_xer" else "plan.xml")


@pytest.mark.parametrize("what", sorted(KINDS))
def test_without_async_the_answer_is_the_synchronous_one_and_nothing_is_queued(api, session, admin, place, what):
    response = _ask(api, admin, what, place, run_async=False)
    assert response.status_code == (201 if what.startswith("import") else 200)
    assert _jobs(session) == 0


REFUSALS = [("import_xer", "viewer", 403), ("import_mspdi", "viewer", 403), ("schedule", "viewer", 403),
            ("import_xer", "outsider", 404), ("import_mspdi", "outsider", 404), ("schedule", "outsider", 404),
            ("export_xer", "outsider", 404)]


@pytest.mark.parametrize(("what", "who", "status"), REFUSALS)
def test_refusals_come_before_any_job(api, session, place, what, who, status):
    response = _ask(api, place[who], what, place)
    assert response.status_code == status, response.json
    assert _jobs(session) == 0


def test_a_viewer_may_ask_for_the_export(api, session, place):
    assert _ask(api, place["viewer"], "export_xer", place).status_code == 202


@pytest.mark.parametrize("what", ["import_xer", "import_mspdi"])
def test_a_file_over_the_limits_is_refused_before_any_job(api, app, session, admin, place, monkeypatch, what):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ACTIVITIES", 10)
    monkeypatch.setitem(app.config, "IMPORT_MAX_WBS_ELEMENTS", 0)
    response = _ask(api, admin, what, place)
    assert response.status_code == 422 and "at most" in response.json["message"]
    assert _jobs(session) == 0


# What the jobs make: the same as the synchronous requests


@pytest.fixture
def world(committed):
    admin = factories.admin(committed.session)
    committed.session.commit()
    return _place(committed.session, admin) | {"admin": admin}


def _finished(committed, response, user) -> dict:
    """Run the job the 202 ``response`` started; the job as ``user``, who asked, reads it then."""
    assert response.status_code == 202, response.json
    job_id = response.json["id"]
    assert committed.run_jobs() == [(job_id, "succeeded")]
    return committed.api.get(f"/api/v1/jobs/{job_id}", user=user).json


@pytest.mark.parametrize("what", ["import_xer", "import_mspdi"])
def test_the_import_job_makes_the_project_the_synchronous_import_makes(committed, world, what):
    admin, api, session = world["admin"], committed.api, committed.session
    job = _finished(committed, _ask(api, admin, what, world, code="ASYNC"), admin)
    synchronous = _ask(api, admin, what, world, run_async=False, code="SYNC")
    assert synchronous.status_code == 201
    from_job = session.get(Project, job["result"]["project_id"])
    from_request = session.get(Project, synchronous.json["id"])
    assert from_job.code == "ASYNC" and from_job.eps_node_id == world["node"].id
    assert _snapshot(session, from_job) == _snapshot(session, from_request)
    result = job["result"]
    assert result["warnings"] == synchronous.json["warnings"]
    assert result["url"] == f"/projects/{from_job.id}" and result["project_code"] == "ASYNC"
    assert result["counts"] == _counts(session, from_request) and result["counts"]["activities"] > 0
    # The upload served its purpose: it went with the import's commit.
    assert session.scalar(select(func.count()).select_from(JobFile).where(JobFile.job_id == job["id"])) == 0


def _counts(session, project) -> dict:
    activities = set(session.scalars(select(Activity.id).where(Activity.project_id == project.id)))
    links = session.scalars(select(Relationship.successor_id)).all()
    return {"activities": len(activities), "relationships": sum(1 for s in links if s in activities),
            "wbs_elements": len(services.list_elements(session, project=project)),
            "calendars": session.scalar(select(func.count()).select_from(Calendar)
                                        .where(Calendar.project_id == project.id))}


def test_the_imported_sample_has_p6s_own_dates(committed):
    data = xer_path(GOLDEN[0]).read_bytes()  # in the external corpus: skipped without it
    admin = factories.admin(committed.session)
    node = factories.node(committed.session, actor=admin, code="GOLD")
    committed.session.commit()
    response = committed.api.post(f"/api/v1/projects/import/xer?async=true&eps_node_id={node.id}", user=admin,
                                  data={"file": (BytesIO(data), GOLDEN[0])}, json=None,
                                  content_type="multipart/form-data")
    job = _finished(committed, response, admin)
    assert_scheduled_as_p6(committed.session, committed.session.get(Project, job["result"]["project_id"]), GOLDEN[0])


def test_the_export_jobs_file_is_the_synchronous_download(committed, world):
    admin, api, session = world["admin"], committed.api, committed.session
    project = world["project"]
    project.name = "Проект с кириллицей"  # a UTF-8 file: the bytes must still be the download's
    session.commit()
    job = _finished(committed, _ask(api, admin, "export_xer", world), admin)
    download = api.get(f"/api/v1/projects/{project.id}/export/xer", user=admin).data
    stored = session.scalars(select(JobFile).where(JobFile.job_id == job["id"])).one()
    assert stored.data == download
    assert (stored.name, stored.content_type, stored.size) == ("PLAN.xer", "application/octet-stream", len(download))
    assert job["result"]["file"] == "PLAN.xer" and job["result"]["size"] == len(download)
    assert api.get(f"/api/v1/jobs/{job['id']}/file", user=admin).data == download
    assert utcnow() + timedelta(hours=23) < _aware(stored.expires_at) <= utcnow() + timedelta(days=1)


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _two_plans(committed, world):
    """Two projects from one file, both with their data date moved a month on (their dates will change)."""
    admin, session = world["admin"], committed.session
    plans = []
    for code in ("ONE", "TWO"):
        project = interchange.import_xer(session, actor=admin, data=XER, eps_node=world["node"], code=code)
        plan = services.get_plan(session, project=project)
        services.update_plan(session, actor=admin, project=project, data_date=plan.data_date + timedelta(days=30))
        plans.append(project)
    session.commit()
    return plans


def test_the_schedule_job_stores_what_the_synchronous_schedule_stores(committed, world):
    admin, api, session = world["admin"], committed.api, committed.session
    by_job, by_request = _two_plans(committed, world)
    before = _snapshot(session, by_job)
    job = _finished(committed, api.post(f"/api/v1/projects/{by_job.id}/schedule?async=true", user=admin), admin)
    answer = api.post(f"/api/v1/projects/{by_request.id}/schedule", user=admin).json
    session.expire_all()
    assert _snapshot(session, by_job) != before
    assert _snapshot(session, by_job) == _snapshot(session, by_request)
    figures = {key: value for key, value in job["result"].items()
               if key not in ("milliseconds", "project_id", "project_code", "url", "changed")}
    assert figures == {key: answer[key] for key in figures}
    assert job["result"]["url"] == f"/projects/{by_job.id}"
    event = session.scalars(select(Event).where(Event.type == "project.scheduled", Event.subject_id == by_job.id)
                            .order_by(Event.id.desc())).first()
    assert event.payload["job_id"] == job["id"] and event.payload["activities"] == 131
    assert event.actor_id == admin.id


def test_rights_lost_while_the_job_waits_fail_it_and_change_nothing(committed, world):
    admin, api, session = world["admin"], committed.api, committed.session
    editor = factories.user(session)
    grant = factories.grant(session, actor=admin, role=Role.editor, target=world["node"], user=editor)
    project = world["project"]
    services.update_plan(session, actor=admin, project=project,
                         data_date=services.get_plan(session, project=project).data_date + timedelta(days=30))
    session.commit()
    scheduled_at = session.get(ProjectPlan, project.id).scheduled_at
    response = api.post(f"/api/v1/projects/{project.id}/schedule?async=true", user=editor)
    assert response.status_code == 202
    grants.delete(session, actor=admin, grant=grant)
    session.commit()
    assert committed.run_jobs() == [(response.json["id"], "failed")]
    job = api.get(f"/api/v1/jobs/{response.json['id']}", user=editor).json
    assert job["status"] == "failed" and "not found" in job["error"]
    assert session.get(ProjectPlan, project.id).scheduled_at == scheduled_at

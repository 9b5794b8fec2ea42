"""The CSV import as a job: POST /imports/{kind}?async=true, the job's run and its report, the event it records."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from sqlalchemy import func, select

from accounts.imports import jobs as import_jobs
from accounts.models import Deal
from crmpm.events import Event
from crmpm.jobs.models import Job, JobFile
from crmpm.jobs.runner import run_due
from tests import factories
from tests.accounts.fixtures import admin, api  # noqa: F401 - fixtures
from tests.accounts.test_import import DEALS_MAPPING, GOOD, HEADER, ONE_BAD, _counts
from tests.accounts.test_import import world  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def _jobs_in_memory(app, monkeypatch):
    """Jobs are handed to an in-process queue; the tests run them with ``run_due``."""
    monkeypatch.setitem(app.config, "JOBS_URL", "memory://")


def _post(api, user, kind, csv_text, mapping=DEALS_MAPPING, query="?async=true"):
    data = {"file": (BytesIO(csv_text.encode("utf-8")), "deals.csv")}
    if mapping is not None:
        data["mapping"] = mapping if isinstance(mapping, str) else json.dumps(mapping)
    return api.post(f"/api/v1/imports/{kind}{query}", user=user, data=data, json=None,
                    content_type="multipart/form-data")


def _finished(session, job_id):
    session.expire_all()
    return session.get(Job, job_id)


def test_async_import_answers_202_and_its_job_reports_what_the_sync_import_reports(api, app, session, admin, world):
    before = _counts(session)
    response = _post(api, admin, "deals", GOOD)
    assert response.status_code == 202, response.json
    job_id = response.json["id"]
    assert response.headers["Location"] == f"/api/v1/jobs/{job_id}"
    assert (response.json["kind"], response.json["status"], response.json["created_by"]) == (
        "crm.import", "queued", admin.id)
    # The upload is kept in the database for the workers, for a day; nothing is imported yet.
    upload = session.scalar(select(JobFile).where(JobFile.job_id == job_id))
    assert upload.data == GOOD.encode() and upload.name == "deals.csv"
    assert _counts(session) == before

    assert run_due(app) == [(job_id, "succeeded")]
    shown = api.get(f"/api/v1/jobs/{job_id}", user=admin).json
    assert (shown["status"], shown["progress"]) == ("succeeded", 1.0)
    assert shown["result"]["created"] == 2 and shown["result"]["committed"] is True
    assert session.scalar(select(func.count()).select_from(Deal).where(Deal.external_id.in_(["D1", "D2"]))) == 2

    # The same file again, synchronously and as a job: the same report (every row unchanged).
    sync = _post(api, admin, "deals", GOOD, query="")
    again = _post(api, admin, "deals", GOOD)
    run_due(app)
    result = _finished(session, again.json["id"]).result
    # The job's report is the synchronous one, with the page that shows it.
    assert result.pop("url") == f"/crm/imports/{again.json['id']}"
    assert result == sync.json and sync.json["unchanged"] == 2


def test_a_refused_file_is_a_succeeded_job_whose_report_lists_the_rows(api, app, session, admin, world):
    before = _counts(session)
    sync = _post(api, admin, "deals", ONE_BAD, query="")
    assert sync.status_code == 422
    job_id = _post(api, admin, "deals", ONE_BAD).json["id"]
    run_due(app)
    result = _finished(session, job_id).result
    assert (result["committed"], result["created"], result["errors_total"]) == (False, 2, 2)
    assert [(row["line"], row["column"]) for row in result["errors"]] == [(4, "account"), (5, "close")]
    assert result["errors"] == sync.json["errors"]["rows"] and result["url"] == f"/crm/imports/{job_id}"
    assert _counts(session) == before


def test_a_job_reports_at_most_a_thousand_row_errors_and_how_many_there_are(api, app, session, admin, world):
    rows = "".join(f"E{n},Bad,ACC-Nowhere,,Qualification,1,2026-04-01,\n" for n in range(1200))
    job_id = _post(api, admin, "deals", HEADER + rows, query="?async=true&dry_run=true").json["id"]
    run_due(app)
    result = _finished(session, job_id).result
    assert result["errors_total"] == 1200 and len(result["errors"]) == import_jobs.MAX_RESULT_ERRORS
    assert result["errors"][0]["line"] == 2


@pytest.mark.parametrize("kind, csv_text, mapping, status, key", [
    ("gadgets", GOOD, DEALS_MAPPING, 404, "kind"),
    ("deals", GOOD, '{"columns": {"id": "external_id",}', 422, "mapping"),
    ("deals", GOOD, {**DEALS_MAPPING, "columns": {**DEALS_MAPPING["columns"], "title": "titel"}}, 422, "mapping"),
    ("deals", GOOD, {**DEALS_MAPPING, "delimiter": ";"}, 422, "mapping"),
    ("deals", "\ufeff" + GOOD, {**DEALS_MAPPING, "encoding": "cp1251"}, 422, "file"),
    ("deals", GOOD, {"columns": {"title": "title", "stage": "stage"}}, 422, "mapping"),
    ("deals", GOOD, None, 422, "mapping"),
])
def test_what_the_sync_import_refuses_up_front_starts_no_job(api, session, admin, world, kind, csv_text, mapping,
                                                            status, key):
    sync = _post(api, admin, kind, csv_text, mapping, query="")
    response = _post(api, admin, kind, csv_text, mapping)
    assert (response.status_code, sync.status_code) == (status, status), response.json
    assert key in response.json["errors"] and response.json["message"] == sync.json["message"]
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_an_upload_over_the_limit_starts_no_job(api, app, session, admin, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CSV_UPLOAD_LENGTH", 200)
    response = _post(api, admin, "deals", GOOD + "D9," + "x" * 300 + ",ACC-A,,Qualification,1,2026-04-01,\n")
    assert response.status_code == 413
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_users_import_as_a_job_needs_an_administrator(api, session, admin, world):
    response = _post(api, world["owner"], "users", "email,name\nx@example.test,X\n",
                     {"columns": {"email": "email", "name": "name"}})
    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_the_job_is_read_by_its_creator_and_administrators_only(api, app, session, admin, world):
    editor, other = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role="editor", target=world["A"]["branch"], user=editor)
    session.commit()
    text = HEADER + "D1,Pumps,ACC-A,owner@example.test,Qualification,10,2026-04-01,\n"
    response = _post(api, editor, "deals", text)
    assert response.status_code == 202, response.json
    location = response.headers["Location"]
    assert api.get(location, user=editor).status_code == 200
    assert api.get(location, user=admin).status_code == 200
    assert api.get(location, user=other).status_code == 404
    run_due(app)
    assert api.get(location, user=editor).json["result"]["created"] == 1


def test_a_real_import_records_import_finished_and_a_dry_run_does_not(api, app, session, admin, world):
    dry = _post(api, admin, "deals", GOOD, query="?async=true&dry_run=true").json["id"]
    real = _post(api, admin, "deals", GOOD).json["id"]
    _post(api, admin, "deals", HEADER + "D7,Hoses,ACC-A,owner@example.test,Qualification,1,2026-04-01,\n",
          query="")
    run_due(app)
    found = session.scalars(select(Event).where(Event.type == "import.finished").order_by(Event.id)).all()
    assert [(event.subject_type, event.subject_id, event.actor_id) for event in found] == [
        ("imports", None, admin.id), ("jobs", real, admin.id)]
    assert found[1].payload == {"kind": "deals", "created": 2, "updated": 0, "failed": 0, "job_id": real,
                                "dry_run": False}
    assert found[0].payload["job_id"] is None and dry not in [event.subject_id for event in found]


def test_again_copies_the_file_for_a_new_job_with_another_mapping(session, admin, world, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(GOOD, encoding="utf-8")
    first = import_jobs.start_import(session, actor=admin, kind="deals", path=path, file_name="deals.csv",
                                     mapping=json.dumps(DEALS_MAPPING), dry_run=True)
    changed = {**DEALS_MAPPING, "defaults": {"currency": "USD", "lost_reason": "x"}}
    second = import_jobs.again(session, actor=admin, job=first, mapping=changed, dry_run=False, partial=True)
    session.flush()
    assert second.params["mapping"] == changed and (second.params["dry_run"], second.params["partial"]) == (
        False, True)
    copy = import_jobs.upload_of(session, job_id=second.id)
    assert (copy.data, copy.name) == (GOOD.encode(), "deals.csv")
    assert import_jobs.file_head(session, job_id=second.id, size=10) == GOOD.encode()[:10]


def test_an_unknown_time_zone_is_refused_up_front_as_by_the_sync_import(api, session, admin, world):
    sync = _post(api, admin, "deals", GOOD, query="?tz=Mars/Olympus")
    response = _post(api, admin, "deals", GOOD, query="?async=true&tz=Mars/Olympus")
    assert (response.status_code, response.json["message"]) == (sync.status_code, sync.json["message"])
    assert response.status_code == 422 and "unknown time zone" in response.json["message"]
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_job_whose_creator_is_gone_fails_at_once_with_the_reason(api, app, session, admin, world):
    job_id = _post(api, admin, "deals", GOOD).json["id"]
    session.get(Job, job_id).created_by_id = None  # what removing the user leaves (ON DELETE SET NULL)
    session.commit()
    assert run_due(app) == [(job_id, "failed")]
    job = _finished(session, job_id)
    assert job.attempt == 1 and "the user who asked for it was removed" in job.error
    assert session.scalar(select(func.count()).select_from(Deal).where(Deal.external_id.in_(["D1", "D2"]))) == 0

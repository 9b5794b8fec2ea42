"""The CSV import pages: upload with a mapping, the first rows as read, a dry run with its row errors, a corrected
mapping, then the import, each a job the page follows; rights, CSRF and limits."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import delete, func, select

from accounts.models import Deal
from crmpm.jobs.models import Job, JobFile
from crmpm.jobs.runner import run_due
from eps.models import Role
from tests import factories

MAPPING = {"columns": {"ID": "external_id", "Name": "title", "Client": "account", "Stage": "stage", "Sum": "amount"},
           "defaults": {"currency": "RUB"}, "pipeline": "Sales"}
CSV = ("ID;Name;Client;Stage;Sum\n"
       "P1;Pumps <b>x</b>;ACC-A;Qualification;1 200,50\n"
       "P2;Valves;ACC-A;Proposal;300\n"
       "P3;Seals;ACC-Nowhere;Proposal;12\n")


@pytest.fixture(autouse=True)
def _jobs_in_memory(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_URL", "memory://")


@pytest.fixture
def crm(session, admin, world):
    factories.pipeline(session, name="Sales")
    factories.account(session, actor=admin, region=world["A"], name="Client A", external_id="ACC-A")
    seller = factories.user(session, name="Sara Seller")
    factories.grant(session, actor=admin, role=Role.editor, target=world["A"], user=seller)
    session.commit()
    return {"seller": seller}


def _upload(pages, *, mapping=MAPPING, saved="", kind="deals", text=CSV, **extra):
    data = {"kind": kind, "saved": saved, "mapping": json.dumps(mapping) if isinstance(mapping, dict) else mapping,
            "file": (io.BytesIO(text.encode("utf-8")), "deals.csv"), **extra}
    return pages.post("/crm/import", data, content_type="multipart/form-data")


def _job_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return int(re.search(r"/crm/imports/(\d+)$", response.headers["Location"]).group(1))


def _deals(session) -> int:
    return session.scalar(select(func.count()).select_from(Deal).where(Deal.external_id.like("P%")))


def test_upload_preview_dry_run_correct_the_mapping_then_import(app, pages, session, crm):
    pages.log_in_as(crm["seller"])
    form = pages.get("/crm/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.get_data(as_text=True)
    dry = _job_id(_upload(pages))
    page = pages.get(f"/crm/imports/{dry}").get_data(as_text=True)
    # Before it runs: the first rows as the mapping reads them (typed: 1200.50), escaped, and the progress bar.
    assert "1200.50" in page and "Pumps &lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert f'data-import-status="/crm/imports/{dry}/status"' in page and "imports.js" in page
    status = pages.get(f"/crm/imports/{dry}/status").get_json()
    assert (status["status"], status["finished"]) == ("queued", False)

    assert run_due(app) == [(dry, "succeeded")]
    assert pages.get(f"/crm/imports/{dry}/status").get_json()["finished"] is True
    page = pages.get(f"/crm/imports/{dry}").get_data(as_text=True)
    assert "Dry run: nothing was written." in page and "ACC-Nowhere" in page and _deals(session) == 0
    assert f'action="/crm/imports/{dry}/run"' in page and 'name="partial"' in page

    # The mapping corrected on the page (a default account for rows naming none): a new dry run, no errors.
    fixed = {**MAPPING, "values": {"account": {"ACC-Nowhere": "ACC-A", "*": "*"}}}
    second = _job_id(pages.post(f"/crm/imports/{dry}/check", {"mapping": json.dumps(fixed)}))
    run_due(app)
    assert session.get(Job, second).result["error_rows"] == 0

    real = _job_id(pages.post(f"/crm/imports/{second}/run", {}))
    assert session.get(Job, real).params["dry_run"] is False
    run_due(app)
    page = pages.get(f"/crm/imports/{real}").get_data(as_text=True)
    assert "Imported." in page and _deals(session) == 3


def test_the_good_rows_only(app, pages, session, crm):
    pages.log_in_as(crm["seller"])
    dry = _job_id(_upload(pages))
    run_due(app)
    real = _job_id(pages.post(f"/crm/imports/{dry}/run", {"partial": "on"}))
    run_due(app)
    result = session.get(Job, real).result
    assert (result["created"], result["error_rows"], result["committed"]) == (2, 1, True) and _deals(session) == 2


def test_a_saved_mapping_is_chosen_by_name_and_shown_to_edit(app, pages, session, crm, admin):
    pages.log_in_as(admin)
    assert 'value="zoho"' in pages.get("/crm/import").get_data(as_text=True)
    zoho = "LEADID,Potential Name,Potential Owner,Stage,Amount,Created Time,Closing Date\n"
    job = _job_id(_upload(pages, mapping="", saved="zoho", text=zoho + "L1,Pumps,,Qualification,$10.00,,\n"))
    assert session.get(Job, job).params["mapping"] == "zoho"
    page = pages.get(f"/crm/imports/{job}").get_data(as_text=True)
    assert "&#34;Potential Name&#34;: &#34;title&#34;" in page or "&quot;Potential Name&quot;" in page


@pytest.mark.parametrize("change, words", [
    ({"kind": "gadgets"}, "Choose what the file holds."),
    ({"mapping": ""}, "Choose a saved mapping or write one."),
    ({"mapping": '{"columns": '}, "malformed JSON"),
    ({"mapping": {**MAPPING, "columns": {**MAPPING["columns"], "Name": "titel"}}}, "did you mean"),
    ({"saved": "../../etc"}, "no saved mapping"),
    ({"text": "A;B\n1;2\n"}, "the CSV header has no column"),
])
def test_a_bad_upload_goes_back_to_the_form_with_the_reason_and_starts_no_job(pages, session, crm, change, words):
    pages.log_in_as(crm["seller"])
    response = _upload(pages, **change)
    assert response.status_code == 303
    body = pages.get(response.headers["Location"]).get_data(as_text=True)
    assert "flash flash-error" in body and words in body.replace("&#39;", "'"), body[:2000]
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_users_are_imported_by_administrators_only(pages, session, crm):
    pages.log_in_as(crm["seller"])
    assert 'value="users"' not in pages.get("/crm/import").get_data(as_text=True)
    response = _upload(pages, kind="users", mapping={"columns": {"email": "email", "name": "name"}},
                       text="email,name\nx@example.test,X\n")
    assert response.status_code == 303
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_viewers_and_outsiders_are_turned_away_and_jobs_are_their_creators(app, pages, session, crm, user_with):
    pages.log_in_as(crm["seller"])
    job = _job_id(_upload(pages))
    for user in (user_with(Role.viewer), user_with(None)):
        pages.log_in_as(user)
        assert pages.get("/crm/import").status_code == 403
        assert _upload(pages).status_code == 403
        assert "/crm/import" not in pages.get("/").get_data(as_text=True)
    editor = user_with(Role.editor)
    pages.log_in_as(editor)
    assert "/crm/import" in pages.get("/").get_data(as_text=True)
    for url in (f"/crm/imports/{job}", f"/crm/imports/{job}/status"):
        assert pages.get(url).status_code == 404
    assert pages.post(f"/crm/imports/{job}/run", {}).status_code == 404
    assert session.scalar(select(func.count()).select_from(Job)) == 1


def test_posts_need_the_csrf_token_and_uploads_are_capped(app, pages, session, crm, monkeypatch):
    pages.log_in_as(crm["seller"])
    data = {"kind": "deals", "mapping": json.dumps(MAPPING), "file": (io.BytesIO(CSV.encode()), "deals.csv")}
    assert pages.post("/crm/import", data, csrf=False, content_type="multipart/form-data").status_code == 400
    monkeypatch.setitem(app.config, "MAX_CSV_UPLOAD_LENGTH", 100)
    assert _upload(pages).status_code == 413
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_the_pages_are_in_russian(pages, session, crm):
    pages.log_in_as(crm["seller"])
    pages.post("/locale", {"locale": "ru"})
    body = pages.get("/crm/import").get_data(as_text=True)
    assert "Импорт" in body and "Import a CSV file" not in body


def test_a_job_whose_file_expired_still_shows_its_report_and_cannot_run_again(app, pages, session, crm):
    pages.log_in_as(crm["seller"])
    dry = _job_id(_upload(pages))
    run_due(app)
    session.execute(delete(JobFile).where(JobFile.job_id == dry))
    session.commit()
    page = pages.get(f"/crm/imports/{dry}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Dry run: nothing was written." in body and "no longer kept" in body
    refused = pages.post(f"/crm/imports/{dry}/run", {})
    assert refused.status_code == 303 and "no longer kept" in pages.get(refused.headers["Location"]).get_data(
        as_text=True)
    assert session.scalar(select(func.count()).select_from(Job)) == 1


def _contacts_workbook() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "Readme"
    sheet = workbook.create_sheet("Контакты")
    sheet.append(["ID", "Имя", "Компания", "Телефон"])
    sheet.append(["K1", "Иван Петров", "ACC-A", "8 916 123-45-67, 8 495 111-22-33"])
    sheet.append(["K2", "Анна Смирнова", "ACC-A", "12-34"])  # too short: imported, with a warning
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_sheet_is_uploaded_and_its_warnings_shown_in_russian(app, pages, session, crm):
    pages.log_in_as(crm["seller"])
    pages.post("/locale", {"locale": "ru"})
    assert 'name="sheet"' in pages.get("/crm/import").get_data(as_text=True)
    mapping = {"columns": {"ID": "external_id", "Имя": "name", "Компания": "account", "Телефон": "phone"}}
    response = pages.post("/crm/import", {"kind": "contacts", "saved": "", "mapping": json.dumps(mapping),
                                          "sheet": "Контакты",
                                          "file": (io.BytesIO(_contacts_workbook()), "contacts.xlsx")},
                          content_type="multipart/form-data")
    dry = _job_id(response)
    assert session.get(Job, dry).params["sheet"] == "Контакты"
    page = pages.get(f"/crm/imports/{dry}").get_data(as_text=True)
    assert "Прочитано с листа «Контакты» книги Excel." in page
    assert "+79161234567" in page and "предупреждение" in page and "12-34" in page
    run_due(app)
    result = session.get(Job, dry).result
    assert (result["created"], result["error_rows"], result["warnings_total"]) == (2, 0, 1)
    page = pages.get(f"/crm/imports/{dry}").get_data(as_text=True)
    assert "Предупреждения" in page and 'class="list compact import-warnings"' in page
    assert "<td>3</td><td>Телефон</td><td>12-34</td>" in page
    # The real import is a new job on the same file and the same sheet.
    real = _job_id(pages.post(f"/crm/imports/{dry}/run", {}))
    run_due(app)
    result = session.get(Job, real).result
    assert (result["created"], result["committed"], result["warnings_total"]) == (2, True, 1)

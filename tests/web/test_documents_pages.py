"""The "Documents" sections and the document search page, in Russian and English."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from accounts.documents import services
from accounts.documents.models import Document
from eps.models import Role
from tests import factories as f
from tests.accounts.documents.test_services import PNG


@pytest.fixture
def crm(session, admin, world):
    account = f.account(session, actor=admin, region=world["A"], name="Ladoga Port")
    contact = f.contact(session, actor=admin, account=account, last_name="Ivanova")
    deal = f.deal(session, actor=admin, account=account, pipeline=f.pipeline(session))
    activity = __import__("wbs.services", fromlist=["x"]).create_activity(
        session, actor=admin, project=world["PA"], code="A100", name="Excavation")
    hidden = f.account(session, actor=admin, region=world["B"], name="Hidden Co")
    services.add_document(session, actor=admin, subject=hidden, name="secret-plan.txt", kind="other",
                          data=b"quarry secret")
    session.commit()
    return {"account": account, "contact": contact, "deal": deal, "activity": activity, "hidden": hidden}


def _pages_of(crm, world):
    return {"account": f"/crm/accounts/{crm['account'].id}", "contact": f"/crm/contacts/{crm['contact'].id}",
            "deal": f"/crm/deals/{crm['deal'].id}", "project": f"/projects/{world['PA'].id}",
            "activity": f"/projects/{world['PA'].id}/activities/{crm['activity'].id}"}


@pytest.mark.parametrize("subject", ["account", "contact", "deal", "project", "activity"])
def test_upload_on_each_page_then_download_and_delete(pages, session, admin, world, crm, user_with, subject):
    editor = user_with(Role.editor)
    pages.log_in_as(editor)
    url = _pages_of(crm, world)[subject]
    page = pages.get(url)
    assert page.status_code == 200, url
    html = page.get_data(as_text=True)
    assert 'id="documents"' in html and "data-dropzone" in html
    action = html.split('class="document-upload"')[0].rsplit('action="', 1)[1].split('"')[0]
    answer = pages.post(action, {"file": (io.BytesIO(PNG), "site plan.png"), "kind": "drawing", "tags": "site",
                                 "next": url}, content_type="multipart/form-data")
    assert answer.status_code == 303 and answer.headers["Location"].endswith(url)
    document = session.scalar(select(Document).where(Document.name == "site plan.png"))
    assert document.kind == "drawing" and document.subject_type == subject
    html = pages.get(url).get_data(as_text=True)
    assert "site plan.png" in html
    download = pages.get(f"/documents/{document.id}/download")
    assert download.data == PNG and download.headers["Content-Type"] == "image/png"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    new = pages.post(action, {"file": (io.BytesIO(b"second"), "notes.txt"), "document_id": str(document.id),
                              "next": url}, content_type="multipart/form-data")
    assert new.status_code == 303
    session.expire_all()
    assert session.get(Document, document.id).current_version == 2
    assert pages.get(f"/documents/{document.id}/download?version=1").data == PNG
    document_id = document.id
    assert pages.post(f"/documents/{document_id}/delete", {"next": url}).status_code == 303
    session.expire_all()
    assert session.scalar(select(func.count()).where(Document.id == document_id)) == 0


def test_a_reader_sees_no_upload_and_is_refused(pages, session, admin, world, crm, user_with):
    reader = user_with(Role.viewer)
    pages.log_in_as(reader)
    url = f"/crm/deals/{crm['deal'].id}"
    html = pages.get(url).get_data(as_text=True)
    assert 'id="documents"' in html and "data-dropzone" not in html
    answer = pages.post(f"/documents/upload/deal/{crm['deal'].id}",
                        {"file": (io.BytesIO(b"x"), "a.txt")}, content_type="multipart/form-data")
    assert answer.status_code == 403
    hidden = f"/documents/upload/account/{crm['hidden'].id}"
    assert pages.post(hidden, {"file": (io.BytesIO(b"x"), "a.txt")},
                      content_type="multipart/form-data").status_code == 404
    secret = session.scalar(select(Document.id).where(Document.name == "secret-plan.txt"))
    assert pages.get(f"/documents/{secret}/download").status_code == 404


def test_a_bad_file_is_flashed_in_russian_and_nothing_is_kept(pages, session, admin, world, crm, user_with):
    editor = user_with(Role.editor)
    editor.locale = "ru"
    session.commit()
    pages.log_in_as(editor)
    url = f"/crm/deals/{crm['deal'].id}"
    before = session.scalar(select(func.count()).select_from(Document))
    answer = pages.post(f"/documents/upload/deal/{crm['deal'].id}",
                        {"file": (io.BytesIO(b""), "empty.txt"), "next": url}, content_type="multipart/form-data")
    assert answer.status_code == 303
    html = pages.get(url).get_data(as_text=True)
    assert "файл пуст" in html.lower() and "Документы" in html
    assert session.scalar(select(func.count()).select_from(Document)) == before


def test_search_page_finds_only_readable(pages, session, admin, world, crm, user_with):
    services.add_document(session, actor=admin, subject=crm["deal"], name="permit.txt", kind="contract",
                          data=b"the quarry road permit")
    session.commit()
    reader = user_with(Role.viewer)
    pages.log_in_as(reader)
    html = pages.get("/documents/?q=quarry").get_data(as_text=True)
    assert "permit.txt" in html and "secret-plan" not in html
    pages.log_in_as(admin)
    html = pages.get("/documents/?q=quarry").get_data(as_text=True)
    assert "permit.txt" in html and "secret-plan.txt" in html

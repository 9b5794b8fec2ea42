"""Documents through the API: upload, list, versions, download, search, changes; refusals with nothing stored."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from werkzeug.http import parse_options_header

from accounts.documents.models import Document, DocumentVersion
from crmpm.files.models import FileBlob
from eps.models import Role
from tests import factories as f
from tests.accounts.documents.test_services import PNG
from tests.accounts.documents.test_storage_backends import s3_endpoint  # noqa: F401 - a fixture


@pytest.fixture
def world(session, admin):
    region = f.node(session, actor=admin)
    account = f.account(session, actor=admin, region=region)
    contact = f.contact(session, actor=admin, account=account)
    deal = f.deal(session, actor=admin, account=account, pipeline=f.pipeline(session))
    reader, editor, stranger = f.user(session), f.user(session), f.user(session)
    f.grant(session, actor=admin, role=Role.viewer, target=region, user=reader)
    f.grant(session, actor=admin, role=Role.editor, target=region, user=editor)
    session.commit()
    return {"admin": admin, "account": account, "contact": contact, "deal": deal, "reader": reader,
            "editor": editor, "stranger": stranger}


def _upload(api, path, user, data=b"hello", name="note.txt", **form):
    return api._client.post(path, data={"file": (io.BytesIO(data), name), **form},
                            headers={"Authorization": f"Bearer {api.token_for(user)}"},
                            content_type="multipart/form-data")


def _stored(session):
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (Document, DocumentVersion, FileBlob))


def test_upload_list_version_download(api, session, world):
    deal_id = world["deal"].id
    created = _upload(api, f"/api/v1/deals/{deal_id}/documents", world["editor"], data=PNG, name="plan.png",
                      kind="drawing", tags="site, rev A")
    assert created.status_code == 201, created.json
    document = created.json
    assert (document["name"], document["kind"], document["tags"], document["current_version"]) == (
        "plan.png", "drawing", ["rev A", "site"], 1)
    listed = api.get(f"/api/v1/deals/{deal_id}/documents", user=world["reader"]).json
    assert listed["total"] == 1 and listed["items"][0]["id"] == document["id"]

    again = _upload(api, f"/api/v1/deals/{deal_id}/documents", world["editor"], data=PNG + b"", name="plan2.png",
                    document_id=str(document["id"]))
    assert again.status_code == 201 and again.json["current_version"] == 2
    versions = api.get(f"/api/v1/documents/{document['id']}/versions", user=world["reader"]).json
    assert [v["number"] for v in versions["items"]] == [2, 1]
    assert versions["items"][0]["file_name"] == "plan2.png"

    download = api.get(f"/api/v1/documents/{document['id']}/download?version=1", user=world["reader"])
    assert download.status_code == 200 and download.data == PNG
    assert download.headers["Content-Type"] == "image/png"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert parse_options_header(download.headers["Content-Disposition"]) == ("attachment", {"filename": "plan.png"})
    missing = api.get(f"/api/v1/documents/{document['id']}/download?version=9", user=world["reader"])
    assert missing.status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/accounts/{account}/documents", "/api/v1/contacts/{contact}/documents",
                                  "/api/v1/projects/{project}/documents"])
def test_every_subject_takes_documents(api, world, path):
    url = path.format(account=world["account"].id, contact=world["contact"].id, project=world["deal"].project_id)
    assert _upload(api, url, world["editor"]).status_code == 201
    assert api.get(url, user=world["reader"]).json["total"] == 1


def test_wbs_element_and_activity_documents(api, session, world):
    from wbs import services as wbs_services

    project = world["deal"].project
    element = wbs_services.create_element(session, actor=world["admin"], project=project, code="W1", name="Site")
    activity = wbs_services.create_activity(session, actor=world["admin"], project=project, code="A1",
                                            name="Dig", wbs_element_id=element.id)
    session.commit()
    for url in (f"/api/v1/projects/{project.id}/wbs/{element.id}/documents",
                f"/api/v1/projects/{project.id}/activities/{activity.id}/documents"):
        assert _upload(api, url, world["editor"]).status_code == 201
        assert api.get(url, user=world["reader"]).json["total"] == 1
    other = f.project(session, actor=world["admin"], node=f.node(session, actor=world["admin"]))
    session.commit()
    wrong = api.get(f"/api/v1/projects/{other.id}/wbs/{element.id}/documents", user=world["admin"])
    assert wrong.status_code == 404


def test_rights(api, world):
    url = f"/api/v1/deals/{world['deal'].id}/documents"
    assert _upload(api, url, world["reader"]).status_code == 403
    assert _upload(api, url, world["stranger"]).status_code == 404
    document = _upload(api, url, world["editor"]).json
    assert api.get(url, user=world["stranger"]).status_code == 404
    for method, path in (("GET", ""), ("GET", "/versions"), ("GET", "/download"), ("PATCH", ""), ("DELETE", "")):
        answer = api.request(method, f"/api/v1/documents/{document['id']}{path}", user=world["stranger"],
                             json={"kind": "act"} if method == "PATCH" else None)
        assert answer.status_code == 404, (method, path)
    assert api.patch(f"/api/v1/documents/{document['id']}", user=world["reader"], json={"kind": "act"}).status_code == 403
    assert api.delete(f"/api/v1/documents/{document['id']}", user=world["reader"]).status_code == 403


def test_patch_and_delete(api, session, world):
    url = f"/api/v1/accounts/{world['account'].id}/documents"
    document = _upload(api, url, world["editor"]).json
    changed = api.patch(f"/api/v1/documents/{document['id']}", user=world["editor"],
                        json={"name": "Договор.txt", "kind": "contract", "tags": ["signed"]})
    assert changed.status_code == 200, changed.json
    assert (changed.json["name"], changed.json["kind"], changed.json["tags"]) == ("Договор.txt", "contract",
                                                                                  ["signed"])
    assert api.delete(f"/api/v1/documents/{document['id']}", user=world["editor"]).status_code == 204
    assert api.get(f"/api/v1/documents/{document['id']}", user=world["editor"]).status_code == 404
    session.expire_all()
    assert _stored(session) == (0, 0, 0)


def test_search_finds_names_and_text_only_where_readable(api, session, world, admin):
    _upload(api, f"/api/v1/deals/{world['deal'].id}/documents", world["editor"], data=b"the quarry road permit",
            name="permit.txt")
    hidden_region = f.node(session, actor=admin)
    hidden = f.account(session, actor=admin, region=hidden_region)
    session.commit()
    _upload(api, f"/api/v1/accounts/{hidden.id}/documents", admin, data=b"quarry too", name="other.txt")
    found = api.get("/api/v1/documents?q=QUARRY", user=world["reader"]).json
    assert [item["name"] for item in found["items"]] == ["permit.txt"] and found["total"] == 1
    assert api.get("/api/v1/documents?q=quarry", user=admin).json["total"] == 2
    assert api.get("/api/v1/documents?q=permit", user=world["reader"]).json["total"] == 1
    assert api.get("/api/v1/documents?q=quarry", user=world["stranger"]).json["total"] == 0


@pytest.fixture(params=["database", "directory", "s3"])
def stored_outside(request, app, connection, tmp_path, monkeypatch):
    """The app's sessions configured for one storage backend; what that backend holds outside the database."""
    from sqlalchemy.orm import sessionmaker

    from crmpm.files import storage
    from tests.accounts.documents.test_storage_backends import _ConfigOnly, s3_settings

    settings = {"DOCUMENT_STORAGE": request.param}
    if request.param == "directory":
        settings["DOCUMENT_DIR"] = str(tmp_path / "documents")
    elif request.param == "s3":
        settings = s3_settings(request.getfixturevalue("s3_endpoint"))
    config = {**app.config, **settings}
    state = app.extensions["crmpm.database"]
    monkeypatch.setattr(state, "factory", sessionmaker(bind=connection, expire_on_commit=False,
                                                       join_transaction_mode="create_savepoint",
                                                       info={"crmpm.config": config}))
    return lambda: storage.backend_for(_ConfigOnly(config)).keys()


@pytest.mark.parametrize(("data", "name"), [
    (b"", "empty.txt"),
    (PNG, "plan.pdf"),
    (b"MZ\x90\x00" + b"\x00" * 200, "tool.exe"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.txt"),
    (b"text", "../../"),
])
def test_bad_files_are_4xx_and_nothing_is_stored(api, session, world, stored_outside, data, name):
    before = _stored(session)
    answer = _upload(api, f"/api/v1/deals/{world['deal'].id}/documents", world["editor"], data=data, name=name)
    assert answer.status_code == 422, answer.json
    assert "file" in answer.json["errors"]
    session.expire_all()
    assert _stored(session) == before and stored_outside() == []
    good = _upload(api, f"/api/v1/deals/{world['deal'].id}/documents", world["editor"], data=b"fine", name="ok.txt")
    assert good.status_code == 201
    download = api.get(f"/api/v1/documents/{good.json['id']}/download", user=world["editor"])
    assert download.data == b"fine"


def test_path_separators_in_names_are_dropped(api, world):
    answer = _upload(api, f"/api/v1/deals/{world['deal'].id}/documents", world["editor"],
                     name="../../etc/cron.d/report.txt")
    assert answer.status_code == 201 and answer.json["name"] == "report.txt"


class _Endless(io.RawIOBase):
    """A request body that counts what is read of it."""

    def __init__(self):
        self.read_bytes = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        size = len(buffer)
        buffer[:size] = b"x" * size
        self.read_bytes += size
        return size


def test_a_200_mb_upload_is_413_without_being_read(api, session, world):
    body = _Endless()
    before = _stored(session)
    answer = api._client.post(
        f"/api/v1/deals/{world['deal'].id}/documents",
        environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(200 * 1024 * 1024),
                           "CONTENT_TYPE": "multipart/form-data; boundary=x"},
        headers={"Authorization": f"Bearer {api.token_for(world['editor'])}"})
    assert answer.status_code == 413
    assert "CRMPM_MAX_DOCUMENT_LENGTH" in answer.json["message"]
    assert body.read_bytes < 1024 * 1024
    assert _stored(session) == before


def test_a_file_over_the_document_limit_is_refused(api, app, session, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_DOCUMENT_LENGTH", 1000)
    answer = _upload(api, f"/api/v1/deals/{world['deal'].id}/documents", world["editor"], data=b"a" * 1001)
    assert answer.status_code == 422 and "file" in answer.json["errors"]
    assert _upload(api, f"/api/v1/deals/{world['deal'].id}/documents", world["editor"],
                   data=b"a" * 1000).status_code == 201

"""The XER download streams the file: the same bytes as ``export_xer``, documented as a binary response."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.http import parse_options_header

from tests import factories
from tests.wbs.xer_fixtures import GOLDEN, xer_path
from wbs import interchange
from wbs.interchange.xer import export as xer_export
from wbs.models import Activity


def _project(session, admin, code="STREAM"):
    node = factories.node(session, actor=admin, code=f"N{code}")
    project = interchange.import_xer(session, actor=admin, data=(xer_path(GOLDEN[0])).read_bytes(), eps_node=node,
                                     code=code)
    session.commit()
    return project


def test_download_is_streamed_in_chunks_with_export_xers_bytes(api, admin, session, monkeypatch):
    monkeypatch.setattr(xer_export, "CHUNK_LINES", 10)
    project = _project(session, admin)
    download = api.get(f"/api/v1/projects/{project.id}/export/xer", user=admin, buffered=False)
    assert download.status_code == 200 and download.is_streamed
    assert parse_options_header(download.headers["Content-Disposition"]) == ("attachment", {"filename": "STREAM.xer"})
    assert download.mimetype == "application/octet-stream"
    chunks = list(download.response)
    download.close()
    assert len(chunks) > 1
    assert b"".join(chunks) == interchange.export_xer(session, project=project)


def test_download_of_a_cyrillic_project_is_utf8(api, admin, session):
    project = _project(session, admin, code="CYR")
    project.name = "Проект"
    activity = session.scalars(select(Activity).where(Activity.project_id == project.id).order_by(Activity.id)).first()
    activity.name = "Фундамент"
    session.commit()
    data = api.get(f"/api/v1/projects/{project.id}/export/xer", user=admin).data
    assert "Фундамент".encode("utf-8") in data
    assert data == interchange.export_xer(session, project=project)


def test_unreadable_project_answers_404_before_any_byte(api, admin, session):
    project = _project(session, admin, code="HIDDEN")
    outsider = factories.user(session)
    session.commit()
    response = api.get(f"/api/v1/projects/{project.id}/export/xer", user=outsider)
    assert response.status_code == 404 and response.json["code"] == 404


def test_openapi_documents_a_binary_download(api):
    spec = api.get("/api/openapi.json").json
    ok = spec["paths"]["/api/v1/projects/{project_id}/export/xer"]["get"]["responses"]["200"]
    assert ok["content"]["application/octet-stream"]["schema"] == {"type": "string", "format": "binary"}
    assert "Content-Disposition" in ok["headers"]

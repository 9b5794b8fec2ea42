"""MS Project XML (MSPDI) upload and download over HTTP."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import func, select
from werkzeug.http import parse_options_header

from eps.models import Project
from tests import factories
from tests.wbs.interchange.test_mspdi_codes import _crowded_project
from tests.wbs.xer_fixtures import GOLDEN, xer_path
from wbs import interchange
from wbs.models import Activity
from wbs.interchange.mspdi import read_mspdi


@pytest.fixture
def node(session, admin):
    node = factories.node(session, actor=admin, code="MSPDI")
    session.commit()
    return node


@pytest.fixture
def mspdi_file(session, admin, node):
    """An MSPDI file of the 52-activity P6 sample, made by crmpm itself (then rolled back with the test)."""
    project = interchange.import_xer(session, actor=admin, data=(xer_path(GOLDEN[0])).read_bytes(), eps_node=node,
                                     code="SOURCE")
    data = interchange.export_mspdi(session, project=project)
    session.commit()
    return data


def _upload(api, user, node_id, data, query=""):
    return api.post(f"/api/v1/projects/import/mspdi?eps_node_id={node_id}{query}", user=user,
                    data={"file": (BytesIO(data), "plan.xml")}, json=None, content_type="multipart/form-data")


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_upload_and_download(api, admin, node, mspdi_file):
    response = _upload(api, admin, node.id, mspdi_file, "&code=FROM-MSP&name=Sample%20from%20Project")
    assert response.status_code == 201, response.json
    assert response.json["code"] == "FROM-MSP" and response.json["name"] == "Sample from Project"
    project_id = response.json["id"]
    assert api.get(f"/api/v1/projects/{project_id}/activities?per_page=100", user=admin).json["total"] == 52
    download = api.get(f"/api/v1/projects/{project_id}/export/mspdi", user=admin)
    assert download.status_code == 200 and download.mimetype == "application/xml"
    assert parse_options_header(download.headers["Content-Disposition"]) == ("attachment", {"filename": "FROM-MSP.xml"})
    again = read_mspdi(download.data)
    assert len(again.activities) == 52 and again.code == "FROM-MSP"


def test_download_of_a_cyrillic_code_names_the_file_in_utf8(api, admin, session, node):
    project = factories.project(session, actor=admin, node=node, code="ПРОЕКТ-1")
    session.commit()
    download = api.get(f"/api/v1/projects/{project.id}/export/mspdi", user=admin)
    assert download.status_code == 200
    assert "filename*=UTF-8''%D0%9F%D0%A0%D0%9E%D0%95%D0%9A%D0%A2-1.xml" in download.headers["Content-Disposition"]
    assert read_mspdi(download.data).code == "ПРОЕКТ-1"


@pytest.mark.parametrize("data", [b"not xml at all", b"<Project><Tasks/></Project>",
                                  b'<Project xmlns="http://schemas.microsoft.com/project"><Tasks><Task>'
                                  b"<Name>no UID</Name></Task></Tasks></Project>"])
def test_bad_file_is_422_naming_file_and_writes_nothing(api, admin, session, node, data):
    projects, activities = _count(session, Project), _count(session, Activity)
    response = _upload(api, admin, node.id, data)
    assert response.status_code == 422 and "file" in response.json["errors"], response.json
    assert response.json["message"].startswith("MSPDI file:")
    assert (_count(session, Project), _count(session, Activity)) == (projects, activities)


def test_missing_file_is_422(api, admin, node):
    response = api.post(f"/api/v1/projects/import/mspdi?eps_node_id={node.id}", user=admin, data={}, json=None,
                        content_type="multipart/form-data")
    assert response.status_code == 422 and "file" in response.json["errors"]


def test_rights(api, admin, session, node, mspdi_file):
    viewer, outsider = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role="viewer", target=node, user=viewer)
    project = factories.project(session, actor=admin, node=node, code="SEEN")
    session.commit()
    before = _count(session, Project)
    # Readable but not changeable: 403; not readable at all: 404 (nothing said about what is there).
    assert _upload(api, viewer, node.id, mspdi_file, "&code=V").status_code == 403
    assert _upload(api, outsider, node.id, mspdi_file, "&code=O").status_code == 404
    assert _count(session, Project) == before
    assert api.get(f"/api/v1/projects/{project.id}/export/mspdi", user=viewer).status_code == 200
    assert api.get(f"/api/v1/projects/{project.id}/export/mspdi", user=outsider).status_code == 404
    assert api.get("/api/v1/projects/999999/export/mspdi", user=admin).status_code == 404


def test_bad_or_taken_code(api, admin, session, node, mspdi_file):
    bad = _upload(api, admin, node.id, mspdi_file, "&code=%01X")
    assert bad.status_code == 422 and "code" in bad.json["errors"]
    assert _upload(api, admin, node.id, mspdi_file, "&code=ONCE").status_code == 201
    projects = _count(session, Project)
    assert _upload(api, admin, node.id, mspdi_file, "&code=ONCE").status_code == 409
    assert _count(session, Project) == projects


def test_download_counts_what_ms_project_will_not_show_in_a_header(api, admin, session, node):
    crowded, _expected = _crowded_project(session, admin, node)
    plain = factories.project(session, actor=admin, node=node, code="PLAIN")
    session.commit()
    download = api.get(f"/api/v1/projects/{crowded.id}/export/mspdi", user=admin)
    assert download.status_code == 200 and download.headers["X-Crmpm-Export-Warnings"] == "2"
    assert "export_warnings=" in download.data.decode("utf-8")
    assert api.get(f"/api/v1/projects/{plain.id}/export/mspdi", user=admin).headers["X-Crmpm-Export-Warnings"] == "0"

"""Request size caps: small for every request, larger only for uploads; 413 names the limit (JSON or HTML)."""

from __future__ import annotations

import json
from io import BytesIO

import pytest

from crmpm.config import load_config
from tests import factories
from tests.api.conftest import ApiClient
from tests.web.conftest import Pages

MIB = 1024 * 1024


@pytest.fixture
def api(app, session):
    return ApiClient(app.test_client(), session)


def test_the_login_form_refuses_a_big_body_before_reading_it(app):
    response = app.test_client().post("/login", data={"email": "a@example.test", "password": "x" * (2 * MIB)})
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "The form is larger than 1024 KB; nothing was saved." in response.get_data(as_text=True)


def test_an_api_body_over_the_cap_gets_413_in_the_error_shape(api, session):
    admin = factories.admin(session)
    session.commit()
    body = json.dumps({"code": "BIG", "name": "x" * (2 * MIB)})
    response = api.post("/api/v1/eps/nodes", user=admin, raw=body)
    assert response.status_code == 413
    assert response.json["code"] == 413 and response.json["status"] == "Request Entity Too Large"
    assert "1 MiB" in response.json["message"] and "CRMPM_MAX_CONTENT_LENGTH" in response.json["message"]


def test_uploads_take_more_than_the_general_cap_and_no_more_than_theirs(api, app, session, monkeypatch):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="UP")
    session.commit()
    garbage = b"%T\tTASK\n" + b"x" * (2 * MIB)
    url = f"/api/v1/projects/import/xer?eps_node_id={node.id}"
    read = api.post(url, user=admin, json=None, content_type="multipart/form-data",
                    data={"file": (BytesIO(garbage), "big.xer")})
    assert read.status_code == 422, read.json  # read and refused as a file, not for its size
    monkeypatch.setitem(app.config, "MAX_UPLOAD_LENGTH", MIB + MIB // 2)
    refused = api.post(url, user=admin, json=None, content_type="multipart/form-data",
                       data={"file": (BytesIO(garbage), "big.xer")})
    assert refused.status_code == 413
    assert "1536 KiB" in refused.json["message"] and "CRMPM_MAX_UPLOAD_LENGTH" in refused.json["message"]


def test_csv_imports_have_their_own_cap(api, app, session, monkeypatch):
    admin = factories.admin(session)
    session.commit()
    monkeypatch.setitem(app.config, "MAX_CSV_UPLOAD_LENGTH", 2 * MIB)
    refused = api.post("/api/v1/imports/accounts", user=admin, json=None, content_type="multipart/form-data",
                       data={"file": (BytesIO(b"id,name\n" + b"x" * (3 * MIB)), "a.csv"), "mapping": "{}"})
    assert refused.status_code == 413 and "2 MiB" in refused.json["message"]
    assert "CRMPM_MAX_CSV_UPLOAD_LENGTH" in refused.json["message"]


def test_a_page_upload_over_its_cap_gets_an_html_413(app, session, monkeypatch):
    admin = factories.admin(session)
    session.commit()
    pages = Pages(app.test_client()).log_in_as(admin)
    token = pages.csrf_token()
    monkeypatch.setitem(app.config, "MAX_UPLOAD_LENGTH", 2 * MIB)
    response = pages.post("/projects/import", {"csrf_token": token, "file": (BytesIO(b"x" * (3 * MIB)), "p.xer")},
                          content_type="multipart/form-data")
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "The file is larger than 2 MB; nothing was imported." in response.get_data(as_text=True)


def test_the_caps_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("CRMPM_MAX_CONTENT_LENGTH", "65536")
    monkeypatch.setenv("CRMPM_MAX_UPLOAD_LENGTH", str(10 * MIB))
    monkeypatch.setenv("CRMPM_MAX_CSV_UPLOAD_LENGTH", str(20 * MIB))
    config = load_config()
    assert (config["MAX_CONTENT_LENGTH"], config["MAX_UPLOAD_LENGTH"], config["MAX_CSV_UPLOAD_LENGTH"]) == (
        65536, 10 * MIB, 20 * MIB)

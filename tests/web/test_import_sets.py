"""The import page with a shipped mapping set and owners: the sets offered with their kinds, an owners table
and the creation of owners (administrators only), and the report's list of owners matched to no user."""

from __future__ import annotations

import io
import re

import pytest

from crmpm.jobs.runner import run_due
from eps.models import Role
from tests import factories
from tests.accounts.imports.exports import AMO_COMPANIES, AMO_COMPANY_HEADER, write_csv


@pytest.fixture(autouse=True)
def _jobs_in_memory(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_URL", "memory://")


@pytest.fixture
def companies(tmp_path):
    path = tmp_path / "companies.csv"
    write_csv(path, AMO_COMPANY_HEADER, AMO_COMPANIES, encoding="utf-8-sig", delimiter=";")
    return path.read_bytes()


@pytest.fixture
def seller(session, admin, world):
    factories.node(session, actor=admin, code="MSK", parent=world["A"])
    factories.user(session, name="Иван Петров", email="i.petrov@firm.ru")
    factories.user(session, name="Мария Смирнова", email="m.smirnova@firm.ru")
    user = factories.user(session, name="Sara Seller")
    factories.grant(session, actor=admin, role=Role.editor, target=world["A"], user=user)
    session.commit()
    return user


def _upload(pages, data: bytes, **extra):
    form = {"kind": "accounts", "saved": "amocrm", "mapping": "", "file": (io.BytesIO(data), "companies.csv"),
            **extra}
    return pages.post("/crm/import", form, content_type="multipart/form-data")


def test_the_form_offers_the_sets_with_their_kinds(pages, seller):
    pages.log_in_as(seller)
    page = pages.get("/crm/import").get_data(as_text=True)
    assert '<option value="amocrm">amocrm (accounts, contacts, deals)</option>' in page
    assert '<option value="bitrix24-rest">' in page
    assert 'name="create_owners"' not in page  # creating users is for administrators
    assert 'name="owners"' in page


def test_unmatched_owners_listed_then_matched_by_the_table(app, pages, session, seller, companies):
    pages.log_in_as(seller)
    response = _upload(pages, companies)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    run_due(app)
    page = pages.get(response.headers["Location"]).get_data(as_text=True)
    assert "Owners matched to no user" in page
    assert "name,email\nОля К.,\nДмитрий Волков," in page

    table = "name,email\nОля К.,i.petrov@firm.ru\nДмитрий Волков,i.petrov@firm.ru\n"
    response = _upload(pages, companies, owners=table)
    run_due(app)
    page = pages.get(response.headers["Location"]).get_data(as_text=True)
    assert "Owners matched to no user" not in page


def test_creating_owners_is_refused_to_non_administrators(pages, seller, companies):
    pages.log_in_as(seller)
    response = _upload(pages, companies, create_owners="on")
    assert response.status_code == 403
    assert "only administrators create users" in response.get_data(as_text=True).lower()


def test_an_administrator_creates_them(app, pages, session, admin, seller, companies):
    pages.log_in_as(admin)
    assert 'name="create_owners"' in pages.get("/crm/import").get_data(as_text=True)
    response = _upload(pages, companies, create_owners="on")
    assert response.status_code == 303
    run_due(app)
    job_id = int(re.search(r"/crm/imports/(\d+)$", response.headers["Location"]).group(1))
    page = pages.get(f"/crm/imports/{job_id}").get_data(as_text=True)
    assert "Owners created as inactive users" in page and "dmitry.volkov@imported.local" in page

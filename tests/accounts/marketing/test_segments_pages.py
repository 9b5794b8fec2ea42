"""The segments pages (list with live counts, the filter form and its count, a segment's members, CSV lists,
delete) and the tags and consent forms of the account and contact pages, in Russian and English."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from accounts.marketing.models import ContactConsent, Segment
from eps.models import Role
from tests import factories
from tests.accounts.fixtures import crm  # noqa: F401 - fixture
from tests.web.conftest import Pages


@pytest.fixture
def pages(app):
    return Pages(app.test_client())


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_a_segment_made_on_the_form_counts_and_lists_its_members(session, crm, pages):
    admin = crm["admin"]
    for i in range(3):
        factories.contact(session, actor=admin, account=crm["A"]["account"], email=f"m{i}@a.example")
    session.commit()
    pages.log_in_as(admin)
    form = {"name": "Branch A", "subject": "contacts", "kind": "dynamic", "branch_ids": str(crm["A"]["branch"].id),
            "has_email": "yes"}
    preview = pages.post("/marketing/segments/preview", form)
    assert preview.status_code == 200 and re.search(r"data-preview>[^<]*4", _text(preview))
    created = pages.post("/marketing/segments/new", form)
    assert created.status_code == 303
    segment = session.scalars(select(Segment)).one()
    assert segment.filter == {"branch_ids": [crm["A"]["branch"].id], "has_email": True}
    shown = pages.get(created.headers["Location"])
    assert shown.status_code == 200 and _text(shown).count("data-member=") == 4
    listed = _text(pages.get("/marketing/segments/"))
    assert re.search(r'data-count>4<', listed) and "Branch A" in listed
    bad = pages.post("/marketing/segments/new", {**form, "lifetime_value_min": "lots"})
    assert bad.status_code == 303 and "lifetime_value_min" in _text(pages.get(bad.headers["Location"]))
    assert pages.get(f"/marketing/segments/{segment.id}/edit").status_code == 200
    assert pages.post(f"/marketing/segments/{segment.id}/delete").status_code == 303
    assert session.scalars(select(Segment)).all() == []


def test_a_static_list_filled_from_a_csv_on_its_page(session, crm, pages):
    admin = crm["admin"]
    pages.log_in_as(admin)
    created = pages.post("/marketing/segments/new", {"name": "Fair", "subject": "contacts", "kind": "static"})
    segment = session.scalars(select(Segment)).one()
    assert segment.kind == "static" and created.status_code == 303
    upload = pages.post(f"/marketing/segments/{segment.id}/csv",
                        {"file": (io.BytesIO(b"email\nbuyer@a.example\nbuyer@b.example\n"), "list.csv")},
                        content_type="multipart/form-data")
    assert upload.status_code == 303
    page = _text(pages.get(f"/marketing/segments/{segment.id}"))
    assert page.count("data-member=") == 2
    refused = pages.post(f"/marketing/segments/{segment.id}/csv",
                         {"file": (io.BytesIO(b"email\nnobody@x.example\n"), "list.csv")}, content_type="multipart/form-data")
    assert refused.status_code == 303
    assert "2" in _text(pages.get(refused.headers["Location"]))


def test_a_reader_sees_only_their_members_and_cannot_change_another_s_segment(session, crm, pages):
    admin = crm["admin"]
    reader = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=crm["B"]["branch"], user=reader)
    session.commit()
    pages.log_in_as(admin)
    pages.post("/marketing/segments/new", {"name": "All", "subject": "contacts", "kind": "dynamic"})
    segment = session.scalars(select(Segment)).one()
    pages.log_in_as(reader)
    page = _text(pages.get(f"/marketing/segments/{segment.id}"))
    assert page.count("data-member=") == 1 and "buyer@b.example" in page and "buyer@a.example" not in page
    assert pages.get(f"/marketing/segments/{segment.id}/edit").status_code == 403
    assert pages.post(f"/marketing/segments/{segment.id}/delete").status_code == 403


def test_tags_and_consent_on_the_contact_and_account_pages(session, crm, pages):
    admin, contact, account = crm["admin"], crm["A"]["contact"], crm["A"]["account"]
    pages.log_in_as(admin)
    page = _text(pages.get(f"/crm/contacts/{contact.id}"))
    assert 'id="consent-heading"' in page and 'id="tags-heading-contact"' in page
    assert pages.post(f"/marketing/segments/tags/contact/{contact.id}", {"tags": "VIP, fair 2026",
                                                                         "next": f"/crm/contacts/{contact.id}"}).status_code == 303
    assert pages.post(f"/marketing/segments/consents/{contact.id}", {"channel": "email", "consent": "no",
                                                                    "source": "phone call"}).status_code == 303
    page = _text(pages.get(f"/crm/contacts/{contact.id}"))
    assert "fair 2026" in page and "phone call" in page
    row = session.scalars(select(ContactConsent)).one()
    assert row.channel == "email" and row.opted_out_at is not None and row.opt_out_source == "phone call"
    assert pages.post(f"/marketing/segments/tags/account/{account.id}", {"tags": "Export"}).status_code == 303
    assert "export" in _text(pages.get(f"/crm/accounts/{account.id}"))
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=crm["A"]["branch"], user=viewer)
    session.commit()
    pages.log_in_as(viewer)
    page = _text(pages.get(f"/crm/contacts/{contact.id}"))
    assert "phone call" in page and "/marketing/segments/consents/" not in page
    assert pages.post(f"/marketing/segments/consents/{contact.id}", {"channel": "email", "consent": "yes",
                                                                    "source": "x"}).status_code == 403


def test_the_pages_speak_russian(session, crm, pages):
    admin = crm["admin"]
    admin.locale = "ru"
    session.commit()
    pages.log_in_as(admin)
    assert "Сегменты" in _text(pages.get("/marketing/segments/"))
    assert "Новый сегмент" in _text(pages.get("/marketing/segments/new"))
    assert "Согласие" in _text(pages.get(f"/crm/contacts/{crm['A']['contact'].id}"))

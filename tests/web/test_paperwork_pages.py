"""Paperwork on the pages: "Generate document" on a deal and a project leads to the new document, which
downloads; the templates page replaces, refuses with the placeholders named, and restores (administrators)."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from accounts.documents.models import Document
from accounts.paperwork.models import PaperworkTemplate
from eps.models import Role
from tests import factories
from tests.accounts.paperwork.test_generate import flat
from tests.accounts.paperwork.test_templates import TEMPLATES, docx_text, template_with


@pytest.fixture
def crm(session, admin, world):
    account = factories.account(session, actor=admin, region=world["A"], name="АО «Ладога-Порт»",
                                tax_id="7810123451")
    deal = factories.deal(session, actor=admin, account=account, pipeline=factories.pipeline(session),
                          amount="1000.00")
    editor, viewer = factories.user(session), factories.user(session)
    editor.locale = "ru"
    factories.grant(session, actor=admin, role=Role.editor, target=world["A"], user=editor)
    factories.grant(session, actor=admin, role=Role.viewer, target=world["A"], user=viewer)
    session.commit()
    return {"deal": deal, "editor": editor, "viewer": viewer}


def test_generate_from_the_deal_page(pages, session, crm):
    pages.log_in_as(crm["editor"])
    deal_page = pages.get(f"/crm/deals/{crm['deal'].id}").get_data(as_text=True)
    assert f"/paperwork/deals/{crm['deal'].id}" in deal_page
    form = pages.get(f"/paperwork/deals/{crm['deal'].id}")
    assert form.status_code == 200 and "Коммерческое предложение" in form.get_data(as_text=True)
    made = pages.post(f"/paperwork/deals/{crm['deal'].id}", {"kind": "offer", "language": "ru", "format": "docx"})
    assert made.status_code == 303
    document_url = made.headers["Location"]
    assert re.search(r"/paperwork/documents/\d+$", document_url)
    page = pages.get(document_url)
    assert page.status_code == 200 and "offer.ru" in page.get_data(as_text=True)
    document_id = document_url.rsplit("/", 1)[1]
    assert f"/documents/{document_id}/download" in page.get_data(as_text=True)
    download = pages.get(f"/documents/{document_id}/download")
    assert download.status_code == 200
    text = flat(docx_text(download.data))
    # 1 000,00 + НДС 22 % 220,00 = 1 220,00
    assert "1 220,00" in text and "Одна тысяча двести двадцать рублей 00 копеек" in text


def test_generate_from_the_project_page(pages, session, crm):
    pages.log_in_as(crm["editor"])
    made = pages.post(f"/paperwork/projects/{crm['deal'].project_id}",
                      {"kind": "contract", "language": "en", "format": "docx"})
    assert made.status_code == 303
    document_id = made.headers["Location"].rsplit("/", 1)[1]
    assert "Contract No." in docx_text(pages.get(f"/documents/{document_id}/download").data)


def test_a_viewer_may_not_generate(pages, session, crm):
    pages.log_in_as(crm["viewer"])
    before = session.scalar(select(func.count()).select_from(Document))
    assert pages.get(f"/paperwork/deals/{crm['deal'].id}").status_code == 403
    assert pages.post(f"/paperwork/deals/{crm['deal'].id}",
                      {"kind": "offer", "language": "ru", "format": "docx"}).status_code == 403
    assert session.scalar(select(func.count()).select_from(Document)) == before


def _upload(pages, data, kind="act", language="ru"):
    return pages.client.post(f"/paperwork/templates/{kind}/{language}",
                             data={"csrf_token": pages.csrf_token(), "file": (io.BytesIO(data), "act.docx")},
                             content_type="multipart/form-data")


def test_templates_page_for_administrators(pages, session, admin, crm):
    pages.log_in_as(crm["editor"])
    assert pages.get("/paperwork/templates").status_code == 403
    pages.log_in_as(admin)
    listing = pages.get("/paperwork/templates")
    assert listing.status_code == 200 and "/paperwork/templates/act/ru/download" in listing.get_data(as_text=True)
    assert pages.get("/paperwork/templates/act/ru/download").data == (TEMPLATES / "act.ru.docx").read_bytes()

    refused = _upload(pages, template_with("{{ buyer.inn }} {{ buyer.pasport }}"))
    assert refused.status_code == 303
    shown = pages.get(refused.headers["Location"]).get_data(as_text=True)
    assert "buyer.pasport" in shown
    assert session.scalar(select(func.count()).select_from(PaperworkTemplate)) == 0

    mine = template_with("Акт {{ invoice.number }}")
    assert _upload(pages, mine).status_code == 303
    assert pages.get("/paperwork/templates/act/ru/download").data == mine
    assert pages.post("/paperwork/templates/act/ru/restore").status_code == 303
    assert session.scalar(select(func.count()).select_from(PaperworkTemplate)) == 0


def test_invoice_and_act_from_an_invoice(pages, session, crm):
    from tests.accounts.paperwork.test_generate import INVOICE_WORDS_RU, issued_invoice
    invoice = issued_invoice(session, crm["deal"])
    session.commit()
    pages.log_in_as(crm["viewer"])
    assert pages.get(f"/paperwork/invoices/{invoice.id}").status_code == 403
    pages.log_in_as(crm["editor"])
    assert pages.get(f"/paperwork/invoices/{invoice.id}").status_code == 200
    made = pages.post(f"/paperwork/invoices/{invoice.id}", {"kind": "act", "language": "ru", "format": "docx"})
    assert made.status_code == 303
    document_id = made.headers["Location"].rsplit("/", 1)[1]
    text = flat(docx_text(pages.get(f"/documents/{document_id}/download").data))
    assert "Акт № 17" in text and INVOICE_WORDS_RU in text

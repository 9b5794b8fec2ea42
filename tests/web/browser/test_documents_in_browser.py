"""A real file dropped on a deal's page is uploaded, listed and downloaded back byte for byte, in Chromium;
the file field does the same without dragging."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from crmpm.database import db

expect = pytest.importorskip("playwright.sync_api").expect


def _docx(words: str) -> bytes:
    """A DOCX written by python-docx (a real tool, not bytes of ours)."""
    import docx

    document = docx.Document()
    document.add_paragraph(words)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _a_deal(live_server) -> int:
    from accounts.models import Deal

    with live_server.app.app_context():
        session = db.new_session()
        try:
            return session.scalar(select(Deal.id).order_by(Deal.id))
        finally:
            session.close()


def test_drop_a_file_on_a_deal_and_download_it_back(live_server, log_in, screenshot, tmp_path):
    page = log_in("admin@crmpm.local")
    deal_url = live_server.url(f"/crm/deals/{_a_deal(live_server)}")
    page.goto(deal_url)
    section = page.locator("[data-documents]")
    expect(section).to_be_visible()
    content = _docx("Dropped in a browser: excavator delivery terms")
    transfer = page.evaluate_handle(
        """(file) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(file.bytes)], file.name, {type: file.type}));
            return transfer;
        }""",
        {"bytes": list(content), "name": "Delivery terms.docx",
         "type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"})
    section.dispatch_event("dragover", {"dataTransfer": transfer})
    with page.expect_navigation():
        section.dispatch_event("drop", {"dataTransfer": transfer})
    link = page.locator("[data-documents] a[data-download]", has_text="Delivery terms.docx")
    expect(link).to_have_count(1)
    screenshot(page, "deal-documents-dropped")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "Delivery terms.docx"
    saved = tmp_path / "back.docx"
    download.save_as(saved)
    assert saved.read_bytes() == content

    # The file field, for those who do not drag (and browsers without drag and drop).
    picked = tmp_path / "Site photo notes.txt"
    picked.write_text("notes from the site visit\n", encoding="utf-8")
    form = page.locator("form[data-dropzone]")
    form.locator("input[type=file]").set_input_files(str(picked))
    form.locator("select[name=kind]").select_option("act")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("[data-documents] a[data-download]", has_text="Site photo notes.txt")).to_have_count(1)


def test_a_dropped_program_is_refused_with_a_message(live_server, log_in):
    page = log_in("admin@crmpm.local")
    page.goto(live_server.url(f"/crm/deals/{_a_deal(live_server)}"))
    section = page.locator("[data-documents]")
    transfer = page.evaluate_handle(
        """() => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0])], "setup.pdf"));
            return transfer;
        }""")
    section.dispatch_event("drop", {"dataTransfer": transfer})
    expect(page.locator("[data-upload-status]")).to_contain_text(re.compile("programs cannot be stored", re.I))

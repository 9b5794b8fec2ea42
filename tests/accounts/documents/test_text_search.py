"""Search finds words inside real files: a DOCX written by python-docx and a PDF LibreOffice made from it.

LibreOffice (``soffice``) is looked for on PATH and at /usr/bin/soffice; without it the PDF tests are skipped
with a note (and fail under CI=true, where it is part of the set-up).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import docx
import pytest

from accounts.documents import services
from tests import factories as f
from tests.corpus import in_ci

WORDS = ("Экскаватор", "Петрозаводск", "bulldozer")


def _soffice() -> str | None:
    return shutil.which("soffice") or (str(Path("/usr/bin/soffice")) if Path("/usr/bin/soffice").exists() else None)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("real-files")
    document = docx.Document()
    document.add_heading("Договор поставки", level=1)
    document.add_paragraph(f"Поставка: {WORDS[0]} для объекта в городе {WORDS[1]}.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Item"
    table.rows[0].cells[1].text = WORDS[2]
    source = folder / "contract.docx"
    document.save(source)
    made = {"docx": source.read_bytes()}
    soffice = _soffice()
    if soffice:
        profile = folder / "profile"
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(folder), str(source)], check=True, timeout=180, capture_output=True)
        made["pdf"] = (folder / "contract.pdf").read_bytes()
    return made


def _need_pdf(files):
    if "pdf" not in files:
        reason = "NOTE: LibreOffice (soffice) is not installed: the PDF made by a real tool is not tested"
        if in_ci():
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def world(session):
    admin = f.admin(session)
    region = f.node(session, actor=admin)
    account = f.account(session, actor=admin, region=region)
    reader, stranger = f.user(session), f.user(session)
    from eps.models import Role

    f.grant(session, actor=admin, role=Role.viewer, target=region, user=reader)
    return admin, account, reader, stranger


@pytest.mark.parametrize("kind", ["docx", "pdf"])
def test_words_inside_the_file_are_found(session, world, files, kind):
    if kind == "pdf":
        _need_pdf(files)
    admin, account, reader, stranger = world
    document = services.add_document(session, actor=admin, subject=account, name=f"contract.{kind}",
                                     kind="contract", data=files[kind])
    assert document.versions[0].content_type == {
        "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}[kind]
    for word in (*WORDS, "экскаватор", "BULLDOZER"):
        found = session.scalars(services.search_documents(session, user=reader, text=word)).all()
        assert found == [document], word
        assert session.scalars(services.search_documents(session, user=stranger, text=word)).all() == []
    assert session.scalars(services.search_documents(session, user=reader, text="экскаваторы")).all() == []


def test_a_pdf_with_a_docx_name_is_refused(session, world, files):
    _need_pdf(files)
    admin, account, *_ = world
    from crmpm.errors import Invalid

    with pytest.raises(Invalid):
        services.add_document(session, actor=admin, subject=account, name="contract.docx", kind="contract",
                              data=files["pdf"])


def test_a_broken_pdf_is_stored_without_text(session, world, files):
    _need_pdf(files)
    admin, account, *_ = world
    broken = files["pdf"][: len(files["pdf"]) // 3]
    document = services.add_document(session, actor=admin, subject=account, name="broken.pdf", kind="other",
                                     data=broken)
    assert document.versions[0].content_type == "application/pdf"
    assert services.read_version(session, document.versions[0]) == broken


def test_a_zip_that_is_not_office_is_refused(session, world):
    import zipfile

    from crmpm.errors import Invalid

    admin, account, *_ = world
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("evil.exe", b"MZ")
    with pytest.raises(Invalid):
        services.add_document(session, actor=admin, subject=account, name="a.docx", kind="other",
                              data=buffer.getvalue())

"""The default templates: reproducible from their script, every placeholder filled; uploaded replacements
checked (unknown placeholders named), used, and restored."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from sqlalchemy import func, select

from accounts.paperwork import context, make_templates, services
from accounts.paperwork.models import PaperworkTemplate
from accounts.paperwork.render import check_template
from crmpm.errors import Forbidden, Invalid
from crmpm.files.models import FileBlob
from tests import factories as f

TEMPLATES = Path(make_templates.__file__).parent / "templates"


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts).replace("\u00a0", " ")


def template_with(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize("kind", make_templates.KINDS)
@pytest.mark.parametrize("language", make_templates.LANGUAGES)
def test_committed_templates_are_the_scripts_output(kind, language):
    assert (TEMPLATES / f"{kind}.{language}.docx").read_bytes() == make_templates.template_bytes(kind, language)


@pytest.mark.parametrize("kind", make_templates.KINDS)
@pytest.mark.parametrize("language", make_templates.LANGUAGES)
def test_default_templates_fill_every_placeholder(kind, language):
    sample = context.sample(kind, language)
    text = docx_text(check_template((TEMPLATES / f"{kind}.{language}.docx").read_bytes(), sample))
    assert "{{" not in text and "{%" not in text
    assert "7707083893" in text and sample["totals"]["words"] in text


def test_unknown_placeholders_are_named():
    bad = template_with("{{ seller.nme }} {{ totl }}", "{%p for x in lines %}", "{{ x.price }} {{ x.cost }}",
                        "{%p endfor %}")
    with pytest.raises(Invalid) as caught:
        check_template(bad, context.sample("invoice", "ru"))
    assert caught.value.errors["file"] == "unknown placeholders: line.cost, seller.nme, totl"


@pytest.mark.parametrize("data", [b"", b"not a zip", template_with("{{ seller.name ")])
def test_broken_templates_are_refused(data):
    with pytest.raises(Invalid) as caught:
        check_template(data, context.sample("offer", "en"))
    assert "file" in caught.value.errors


def test_names_with_markup_stay_well_formed():
    sample = context.sample("offer", "ru")
    sample["buyer"]["name"] = "ООО «A & B <C>»"
    assert "ООО «A & B <C>»" in docx_text(check_template(template_with("{{ buyer.name }}"), sample))


def test_upload_and_restore_are_for_administrators(session):
    admin, user = f.admin(session), f.user(session)
    good = template_with("Custom offer for {{ buyer.name }}: {{ totals.total }}")
    with pytest.raises(Forbidden):
        services.upload_template(session, actor=user, kind="offer", language="ru", data=good)
    info = services.upload_template(session, actor=admin, kind="offer", language="ru", data=good,
                                    file_name="../../my offer.docx")
    assert info.custom and info.file_name == "my offer.docx"
    data, used = services.template_of(session, "offer", "ru")
    assert data == good and used.name == "offer.ru (uploaded)"
    # a second upload replaces the first, its file with it
    services.upload_template(session, actor=admin, kind="offer", language="ru", data=template_with("{{ deal.name }}"))
    assert session.scalar(select(func.count()).select_from(PaperworkTemplate)) == 1
    with pytest.raises(Forbidden):
        services.restore_default(session, actor=user, kind="offer", language="ru")
    blobs = session.scalar(select(func.count()).select_from(FileBlob))
    services.restore_default(session, actor=admin, kind="offer", language="ru")
    assert session.scalar(select(func.count()).select_from(FileBlob)) == blobs - 1
    data, used = services.template_of(session, "offer", "ru")
    assert data == (TEMPLATES / "offer.ru.docx").read_bytes() and not used.custom


def test_a_refused_upload_stores_nothing(session):
    admin = f.admin(session)
    with pytest.raises(Invalid) as caught:
        services.upload_template(session, actor=admin, kind="act", language="en",
                                 data=template_with("{{ invoice.numbr }}"))
    assert "invoice.numbr" in str(caught.value)
    assert session.scalar(select(func.count()).select_from(PaperworkTemplate)) == 0
    with pytest.raises(Invalid) as caught:
        services.upload_template(session, actor=admin, kind="receipt", language="de", data=template_with("x"))
    assert set(caught.value.errors) == {"kind", "language"}

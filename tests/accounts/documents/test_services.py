"""Documents through the services: version 1, new versions, rights, refusals with nothing stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accounts.documents import services
from accounts.documents.models import Document, DocumentVersion
from crmpm.audit.models import AuditEntry
from crmpm.errors import Forbidden, Invalid, NotFound
from crmpm.files.models import FileBlob
from eps.models import Role
from tests import factories as f

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def world(session):
    admin = f.admin(session)
    region = f.node(session, actor=admin)
    account = f.account(session, actor=admin, region=region)
    pipeline = f.pipeline(session)
    deal = f.deal(session, actor=admin, account=account, pipeline=pipeline)
    reader, editor, stranger = f.user(session), f.user(session), f.user(session)
    f.grant(session, actor=admin, role=Role.viewer, target=region, user=reader)
    f.grant(session, actor=admin, role=Role.editor, target=region, user=editor)
    session.flush()
    return {"admin": admin, "region": region, "account": account, "deal": deal, "reader": reader,
            "editor": editor, "stranger": stranger}


def _counts(session):
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (Document, DocumentVersion, FileBlob))


def test_add_document_stores_version_one_with_type_from_the_bytes(session, world):
    document = services.add_document(session, actor=world["editor"], subject=world["deal"], name="plan.png",
                                     kind="drawing", data=PNG, tags=["site", "Site", "rev A"])
    assert (document.subject_type, document.subject_id) == ("deal", world["deal"].id)
    assert document.project_id == world["deal"].project_id and document.account_id is None
    assert [tag.tag for tag in document.tags] == ["rev A", "site"]
    [version] = document.versions
    assert (version.number, version.content_type, version.size) == (1, "image/png", len(PNG))
    assert services.read_version(session, version) == PNG
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.entity_type == "documents",
                                                          AuditEntry.entity_id == document.id)) == "create"


def test_new_versions_keep_the_old_ones(session, world):
    document = services.add_document(session, actor=world["editor"], subject=world["account"], name="a.txt",
                                     kind="other", data=b"first")
    services.add_version(session, actor=world["editor"], document=document, name="a.txt", data=b"second")
    assert document.current_version == 2
    assert services.read_version(session, services.version_of(session, document=document, number=1)) == b"first"
    assert services.read_version(session, services.version_of(session, document=document)) == b"second"


def test_rights_follow_the_anchor(session, world):
    with pytest.raises(Forbidden):
        services.add_document(session, actor=world["reader"], subject=world["deal"], name="a.txt", kind="other",
                              data=b"x")
    with pytest.raises(NotFound):
        services.add_document(session, actor=world["stranger"], subject=world["deal"], name="a.txt",
                              kind="other", data=b"x")
    document = services.add_document(session, actor=world["editor"], subject=world["deal"], name="a.txt",
                                     kind="other", data=b"x")
    assert services.get_document_or_raise(session, user=world["reader"], document_id=document.id) is document
    with pytest.raises(NotFound):
        services.get_document_or_raise(session, user=world["stranger"], document_id=document.id)


@pytest.mark.parametrize(("name", "data", "field"), [
    ("empty.txt", b"", "file"),
    ("plan.pdf", PNG, "file"),
    ("setup.pdf", b"MZ\x90\x00" + b"\x00" * 100, "file"),
    ("page.txt", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "file"),
    ("/", b"text", "file"),
])
def test_bad_files_are_refused_and_nothing_is_stored(session, world, name, data, field):
    before = _counts(session)
    with pytest.raises(Invalid) as refused:
        services.add_document(session, actor=world["editor"], subject=world["deal"], name=name, kind="other",
                              data=data)
    assert field in refused.value.errors
    assert _counts(session) == before


def test_bad_kind_is_refused(session, world):
    with pytest.raises(Invalid) as refused:
        services.add_document(session, actor=world["editor"], subject=world["deal"], name="a.txt",
                              kind="poem", data=b"x")
    assert "kind" in refused.value.errors


@pytest.mark.parametrize(("given", "kept"), [
    ("..\\..\\windows\\system32\\report.txt", "report.txt"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("CON.txt", "_CON.txt"),
    ("lpt1", "_lpt1"),
    ("a\x00b\x1b[31m\nc.pdf", "ab[31mc.pdf"),
    ("what?.txt", "what_.txt"),
    ("x" * 300 + ".docx", "x" * 250 + ".docx"),
    ("  Договор №5 .pdf ", "Договор №5.pdf"),
])
def test_names_are_made_safe(given, kept):
    from crmpm.files.content import safe_name

    assert safe_name(given) == kept

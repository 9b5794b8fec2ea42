"""Documents follow their subjects: deleted with them (rows, versions and stored bytes), moved by merges."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accounts import services as crm
from accounts.documents import services
from accounts.documents.models import Document, DocumentVersion
from crmpm.audit.models import AuditEntry
from crmpm.files.models import FileBlob
from eps import services as eps_services
from tests import factories as f
from wbs import services as wbs


@pytest.fixture
def world(session):
    admin = f.admin(session)
    region = f.node(session, actor=admin)
    project = f.project(session, actor=admin, node=region)
    element = wbs.create_element(session, actor=admin, project=project, code="1", name="Stage")
    activity = wbs.create_activity(session, actor=admin, project=project, code="A1", name="Dig",
                                   wbs_element_id=element.id)
    session.flush()
    return {"admin": admin, "region": region, "project": project, "element": element, "activity": activity}


def _add(session, actor, subject, text: bytes) -> Document:
    document = services.add_document(session, actor=actor, subject=subject, name="note.txt", kind="other", data=text)
    services.add_version(session, actor=actor, document=document, name="note.txt", data=text + b" v2")
    return document


def _ids(session, model):
    return set(session.scalars(select(model.id)))


def test_deleting_an_activity_deletes_its_documents_versions_and_bytes(session, world):
    admin = world["admin"]
    gone = _add(session, admin, world["activity"], b"activity")
    kept = _add(session, admin, world["project"], b"project")
    gone_blobs = {version.blob_id for version in gone.versions}
    kept_blobs = {version.blob_id for version in kept.versions}
    gone_id = gone.id

    wbs.delete_activity(session, actor=admin, project=world["project"], activity=world["activity"])

    assert _ids(session, Document) == {kept.id}
    assert not gone_blobs & _ids(session, FileBlob) and kept_blobs <= _ids(session, FileBlob)
    assert session.scalar(select(func.count()).select_from(DocumentVersion)
                          .where(DocumentVersion.document_id == gone_id)) == 0
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.entity_type == "documents",
                                                          AuditEntry.entity_id == gone_id,
                                                          AuditEntry.action == "delete")) == "delete"


def test_deleting_a_wbs_element_deletes_its_documents(session, world):
    admin = world["admin"]
    wbs.delete_activity(session, actor=admin, project=world["project"], activity=world["activity"])
    gone = _add(session, admin, world["element"], b"element")
    blobs = {version.blob_id for version in gone.versions}

    wbs.delete_element(session, actor=admin, project=world["project"], element=world["element"])

    assert _ids(session, Document) == set()
    assert not blobs & _ids(session, FileBlob)


def test_deleting_a_project_deletes_every_document_of_it_and_its_plan(session, world):
    admin = world["admin"]
    other = f.project(session, actor=admin, node=world["region"])
    kept = _add(session, admin, other, b"other project")
    for subject in (world["project"], world["element"], world["activity"]):
        _add(session, admin, subject, b"plan")
    before_blobs = _ids(session, FileBlob)
    kept_blobs = {version.blob_id for version in kept.versions}

    eps_services.delete_project(session, actor=admin, project=world["project"])

    assert _ids(session, Document) == {kept.id}
    assert _ids(session, FileBlob) == kept_blobs
    assert len(before_blobs) == 8  # four documents of two versions each


def test_merging_accounts_and_contacts_keeps_their_documents_on_the_kept_ones(session, world):
    admin = world["admin"]
    keep = f.account(session, actor=admin, region=world["region"])
    merge = f.account(session, actor=admin, region=world["region"])
    person = f.contact(session, actor=admin, account=merge)
    twin = f.contact(session, actor=admin, account=keep)
    account_document = _add(session, admin, merge, b"account")
    person_document = _add(session, admin, person, b"person")

    crm.merge_accounts(session, actor=admin, keep=keep, merge=merge)
    session.refresh(account_document)
    session.refresh(person_document)
    assert (account_document.subject_id, account_document.account_id) == (keep.id, keep.id)
    assert (person_document.subject_type, person_document.subject_id, person_document.account_id) == (
        "contact", person.id, keep.id)

    crm.merge_contacts(session, actor=admin, keep=twin, merge=session.get(type(person), person.id))
    session.refresh(person_document)
    assert (person_document.subject_id, person_document.account_id) == (twin.id, keep.id)
    assert [d.id for d in session.scalars(services.list_documents(session, subject=twin))] == [person_document.id]

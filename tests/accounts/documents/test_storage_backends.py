"""Each storage backend for real (the database, a directory, an S3 bucket served by moto on 127.0.0.1).

Bytes outside the database follow the transaction: a rolled-back upload (whole transaction or savepoint)
leaves no file, a deleted document's file goes at the commit, a rolled-back delete keeps it.
"""

from __future__ import annotations

import socket
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.documents import services
from accounts.documents.models import Document
from crmpm.errors import Invalid
from crmpm.files import storage
from crmpm.files.models import FileBlob
from tests import factories as f


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_settings(endpoint: str) -> dict:
    bucket = f"crmpm-{uuid.uuid4().hex[:12]}"
    config = {"DOCUMENT_STORAGE": "s3", "S3_ENDPOINT_URL": endpoint, "S3_BUCKET": bucket,
              "S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing", "S3_REGION": "us-east-1"}
    storage.backend_for(_ConfigOnly(config)).client.create_bucket(Bucket=bucket)
    return config


class _ConfigOnly:
    def __init__(self, config):
        self.info = {"crmpm.config": config}


@pytest.fixture(params=["database", "directory", "s3"])
def config(request, tmp_path):
    if request.param == "database":
        return {"DOCUMENT_STORAGE": "database"}
    if request.param == "directory":
        return {"DOCUMENT_STORAGE": "directory", "DOCUMENT_DIR": str(tmp_path / "documents")}
    return s3_settings(request.getfixturevalue("s3_endpoint"))


@pytest.fixture
def db(connection, config):
    """A session of an app configured with ``config``, inside the test's transaction."""
    session = Session(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint",
                      info={"crmpm.config": config})
    yield session
    session.close()


@pytest.fixture
def deal(db):
    admin = f.admin(db)
    account = f.account(db, actor=admin, region=f.node(db, actor=admin))
    deal = f.deal(db, actor=admin, account=account, pipeline=f.pipeline(db))
    db.commit()
    return admin, deal


def kept(db) -> list[str]:
    """What the backend holds outside the database."""
    return storage.backend_for(db).keys()


def rows(db) -> tuple[int, int]:
    return (db.scalar(select(func.count()).select_from(Document)),
            db.scalar(select(func.count()).select_from(FileBlob)))


def test_stored_read_back_and_deleted(db, deal, config):
    admin, subject = deal
    document = services.add_document(db, actor=admin, subject=subject, name="a.txt", kind="other", data=b"one")
    services.add_version(db, actor=admin, document=document, name="a.txt", data=b"two")
    db.commit()
    outside = config["DOCUMENT_STORAGE"] != "database"
    assert len(kept(db)) == (2 if outside else 0)
    blobs = db.scalars(select(FileBlob).order_by(FileBlob.id)).all()
    assert [blob.storage for blob in blobs] == [config["DOCUMENT_STORAGE"]] * 2
    db.expire_all()
    assert [services.read_version(db, version) for version in document.versions] == [b"one", b"two"]
    services.delete_document(db, actor=admin, document=document)
    assert len(kept(db)) == (2 if outside else 0)  # still there until the commit
    db.commit()
    assert kept(db) == [] and rows(db) == (0, 0)


def test_a_rolled_back_upload_leaves_nothing(db, deal):
    admin, subject = deal
    services.add_document(db, actor=admin, subject=subject, name="a.txt", kind="other", data=b"gone")
    db.rollback()
    assert kept(db) == [] and rows(db) == (0, 0)


def test_a_rolled_back_savepoint_takes_its_file_only(db, deal):
    admin, subject = deal
    services.add_document(db, actor=admin, subject=subject, name="keep.txt", kind="other", data=b"keep")
    savepoint = db.begin_nested()
    services.add_document(db, actor=admin, subject=subject, name="drop.txt", kind="other", data=b"drop")
    savepoint.rollback()
    db.commit()
    assert rows(db) == (1, 1)
    [blob] = db.scalars(select(FileBlob)).all()
    assert storage.read(db, blob) == b"keep"
    assert len(kept(db)) == (0 if blob.storage == "database" else 1)


def test_a_rolled_back_delete_keeps_the_file(db, deal):
    admin, subject = deal
    document = services.add_document(db, actor=admin, subject=subject, name="a.txt", kind="other", data=b"stay")
    db.commit()
    before = kept(db)
    services.delete_document(db, actor=admin, document=document)
    db.rollback()
    assert kept(db) == before
    [blob] = db.scalars(select(FileBlob)).all()
    assert storage.read(db, blob) == b"stay"


@pytest.mark.parametrize(("data", "name"), [(b"", "a.txt"), (b"%PDF-1.7\n", "a.docx"), (b"\x7fELF\x02", "a.txt")])
def test_refused_files_store_nothing(db, deal, data, name):
    admin, subject = deal
    with pytest.raises(Invalid):
        services.add_document(db, actor=admin, subject=subject, name=name, kind="other", data=data)
    db.commit()
    assert kept(db) == [] and rows(db) == (0, 0)


def test_unknown_storage_is_a_clear_error():
    with pytest.raises(ValueError, match="CRMPM_DOCUMENT_STORAGE"):
        storage.StorageSettings.from_config({"DOCUMENT_STORAGE": "ftp"})
    with pytest.raises(ValueError, match="CRMPM_DOCUMENT_DIR"):
        storage.backend_for(_ConfigOnly({"DOCUMENT_STORAGE": "directory"}))

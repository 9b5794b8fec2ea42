"""Uploads on disk: a process killed mid-import leaves its CSV behind, and the next import removes it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from io import BytesIO
from pathlib import Path


from crmpm import uploads
from tests.accounts.fixtures import admin, api  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]

# A process that imports a CSV through the API and is stopped inside the import (the file is on disk then).
STALLED_IMPORT = textwrap.dedent("""
    import io, sys, time
    from pathlib import Path
    from sqlalchemy.orm import Session
    from accounts import imports
    from crmpm import create_app, migrate
    from crmpm.database import make_engine
    from tests import factories

    url, marker = sys.argv[1], Path(sys.argv[2])
    migrate.upgrade(url=url)
    with Session(make_engine(url)) as session:
        admin = factories.admin(session)
        token = factories.token(session, user=admin)
        session.commit()

    def stall(session, *, path, **kwargs):
        marker.write_text(str(path))
        time.sleep(600)

    imports.import_csv = stall
    app = create_app({"DATABASE_URL": url})
    app.test_client().post("/api/v1/imports/accounts", content_type="multipart/form-data",
                           headers={"Authorization": f"Bearer {token}"},
                           data={"file": (io.BytesIO(b"id,name\\nX1,Secret Client Ltd\\n"), "clients.csv"),
                                 "mapping": '{"columns": {"id": "external_id", "name": "name"}}'})
""")


def test_a_killed_import_leaves_its_csv_and_the_next_import_removes_it(api, admin, app, tmp_path, monkeypatch):
    root = tmp_path / "uploads"
    marker = tmp_path / "importing"
    env = {**os.environ, "CRMPM_UPLOAD_DIR": str(root), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", STALLED_IMPORT, f"sqlite:///{tmp_path / 'killed.db'}",
                                str(marker)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the import never started"
            time.sleep(0.1)
        time.sleep(0.1)
        uploaded = Path(marker.read_text())
        assert b"Secret Client Ltd" in uploaded.read_bytes()
        assert uploaded.is_relative_to(root)  # kept under the upload root, not loose in /tmp
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert uploaded.exists()  # SIGKILL: no clean-up ran in that process

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(root))
    response = api.post("/api/v1/imports/accounts", user=admin, json=None, content_type="multipart/form-data",
                        data={"file": (BytesIO(b"id,name\n"), "empty.csv")})
    assert response.status_code == 422 and "mapping" in response.json["message"]
    assert not uploaded.exists()
    assert list(root.iterdir()) == []  # this request's own folder is gone too


def _folder(root: Path, name: str, *, age: float = 0) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "upload.csv").write_text("client data")
    when = time.time() - age
    os.utime(folder, (when, when))
    return folder


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_sweep_removes_what_gone_processes_left_and_keeps_the_rest(tmp_path):
    host = socket.gethostname()
    mine = _folder(tmp_path, f"{os.getpid()}@{host}.abc123")
    gone = _folder(tmp_path, f"{_dead_pid()}@{host}.def456")
    elsewhere = _folder(tmp_path, f"1@another-host.example.ghi789")
    stale = _folder(tmp_path, f"1@another-host.example.jkl012", age=uploads.MAX_AGE + 60)
    stray = _folder(tmp_path, "no-owner-named", age=uploads.MAX_AGE + 60)
    removed = uploads.sweep(tmp_path)
    assert sorted(removed) == sorted([gone, stale, stray])
    assert mine.exists() and elsewhere.exists()
    assert not gone.exists() and not stale.exists() and not stray.exists()


def test_upload_folder_is_private_and_removed_after_use(tmp_path):
    root = tmp_path / "uploads"
    with uploads.upload_folder(root) as folder:
        (folder / "upload.csv").write_text("client data")
        assert folder.parent == root and (root.stat().st_mode & 0o077) == 0
    assert not folder.exists()


def test_the_upload_root_is_configurable(monkeypatch):
    from crmpm.config import load_config

    monkeypatch.setenv("CRMPM_UPLOAD_DIR", "/srv/crmpm/uploads")
    assert load_config()["UPLOAD_DIR"] == "/srv/crmpm/uploads"
    monkeypatch.delenv("CRMPM_UPLOAD_DIR")
    assert load_config()["UPLOAD_DIR"] == uploads.default_upload_dir()



def test_a_page_upload_is_spooled_to_a_file_without_a_name(app):
    """The pages' XER and MSPDI uploads are read from the request: a big one is spooled by Werkzeug to an
    anonymous temporary file, which leaves nothing behind whatever happens to the process."""
    from flask import request

    body = b"%T\tTASK\n" + b"x" * (2 * 1024 * 1024)
    with app.test_request_context("/projects/import", method="POST", content_type="multipart/form-data",
                                  data={"file": (BytesIO(body), "plan.xer")}):
        request.max_content_length = 4 * 1024 * 1024
        spooled = request.files["file"].stream
        assert getattr(spooled, "_rolled", True)  # on disk, not in memory
        on_disk = getattr(spooled, "_file", spooled)
        assert isinstance(on_disk.name, int)  # a descriptor only: no path to leave behind
        assert request.files["file"].read() == body

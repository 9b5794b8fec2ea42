"""``crmpm mspdi import`` and ``crmpm mspdi export`` as real processes against a fresh SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.wbs.xer_fixtures import GOLDEN, xer_path
from wbs.interchange.mspdi import read_mspdi
from wbs.interchange.xer.reader import read_xer


def _crmpm(env, *args):
    return subprocess.run([sys.executable, "-m", "crmpm", *args], env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture
def env(tmp_path):
    env = {**os.environ, "CRMPM_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    assert _crmpm(env, "db", "upgrade").returncode == 0
    assert _crmpm(env, "users", "create", "boss@example.test", "--password", "long-password", "--admin").returncode == 0
    assert _crmpm(env, "demo").returncode == 0
    return env


def test_export_then_import_prints_id_and_keeps_the_schedule(env, tmp_path):
    from_xer = _crmpm(env, "xer", "import", str(xer_path(GOLDEN[0])), "--eps", "SPB")
    assert from_xer.returncode == 0, from_xer.stderr
    first = tmp_path / "first.xml"
    exported = _crmpm(env, "mspdi", "export", from_xer.stdout.strip(), "-o", str(first))
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith(f"wrote {first}")
    imported = _crmpm(env, "mspdi", "import", str(first), "--eps", "SPB", "--code", "AGAIN")
    assert imported.returncode == 0, imported.stderr
    project_id = imported.stdout.strip()
    assert project_id.isdigit() and project_id != from_xer.stdout.strip()
    second = tmp_path / "second.xml"
    assert _crmpm(env, "mspdi", "export", project_id, "-o", str(second)).returncode == 0
    p6 = {row["task_code"]: row for row in read_xer(xer_path(GOLDEN[0])).rows("TASK")}
    written = {a.code: a for a in read_mspdi(second.read_bytes()).activities}
    assert written.keys() == p6.keys()
    for code, row in p6.items():
        assert written[code].result.early_start.strftime("%Y-%m-%d %H:%M") == row["early_start_date"], code
        assert written[code].name == row["task_name"], code


def test_errors_are_one_line(env, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b'<Project xmlns="http://schemas.microsoft.com/project"><Tasks><Task><UID>1</UID>'
                    b"<Duration>soon</Duration></Task></Tasks></Project>")
    broken = _crmpm(env, "mspdi", "import", str(bad), "--eps", "SPB")
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    assert broken.stderr.startswith("error: MSPDI file: Duration 'soon' is not a duration")
    assert "Task UID 1, line 1" in broken.stderr
    missing_node = _crmpm(env, "mspdi", "import", str(bad), "--eps", "NOPE")
    assert missing_node.returncode == 2 and missing_node.stderr.strip() == "error: no EPS node with code NOPE"
    assert _crmpm(env, "mspdi", "export", "999", "-o", str(tmp_path / "x.xml")).returncode == 2

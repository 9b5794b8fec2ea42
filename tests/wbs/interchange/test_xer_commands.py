"""``crmpm xer import`` and ``crmpm xer export`` as real processes against a fresh SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys

from wbs.interchange.xer.reader import read_xer
from tests.wbs.xer_fixtures import GOLDEN, xer_path


def _crmpm(env, *args):
    return subprocess.run([sys.executable, "-m", "crmpm", *args], env=env, capture_output=True, text=True, timeout=180)


def test_import_prints_id_and_export_reads_back(tmp_path):
    env = {**os.environ, "CRMPM_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    assert _crmpm(env, "db", "upgrade").returncode == 0
    assert _crmpm(env, "users", "create", "boss@example.test", "--password", "long-password", "--admin").returncode == 0
    assert _crmpm(env, "demo").returncode == 0
    imported = _crmpm(env, "xer", "import", str(xer_path(GOLDEN[0])), "--eps", "SPB")
    assert imported.returncode == 0, imported.stderr
    project_id = imported.stdout.strip()
    assert project_id.isdigit()
    out = tmp_path / "out.xer"
    exported = _crmpm(env, "xer", "export", project_id, "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    original = {row["task_code"]: row for row in read_xer(xer_path(GOLDEN[0])).rows("TASK")}
    back = read_xer(out)
    # The project's own rows; its baseline ("Baseline 1", its first schedule) has a PROJECT row of its own.
    (main,) = [row["proj_id"] for row in back.rows("PROJECT") if row.get("project_flag") != "N"]
    written = {row["task_code"]: row for row in back.rows("TASK") if row["proj_id"] == main}
    assert written.keys() == original.keys()
    for code, row in original.items():
        assert written[code]["early_start_date"] == row["early_start_date"], code
        assert written[code]["task_name"] == row["task_name"], code


def test_import_errors_are_one_line(tmp_path):
    env = {**os.environ, "CRMPM_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    _crmpm(env, "db", "upgrade")
    _crmpm(env, "users", "create", "boss@example.test", "--password", "long-password", "--admin")
    missing_node = _crmpm(env, "xer", "import", str(xer_path("alap-harbour-131.xer")), "--eps", "NOPE")
    assert missing_node.returncode == 2 and missing_node.stderr.strip() == "error: no EPS node with code NOPE"
    bad = tmp_path / "bad.xer"
    bad.write_bytes(b"ERMHDR\t20.12\r\n%R\t1\t2\r\n%E\r\n")
    _crmpm(env, "demo")
    broken = _crmpm(env, "xer", "import", str(bad), "--eps", "SPB")
    assert broken.returncode == 2 and "Traceback" not in broken.stderr and broken.stderr.startswith("error: XER file")
    assert _crmpm(env, "xer", "export", "999", "-o", str(tmp_path / "x.xer")).returncode == 2

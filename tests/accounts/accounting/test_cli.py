"""``crmpm accounting import-costs`` and ``export-1c`` as real processes on the demo database."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from accounts.accounting import commerceml


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_accounting")
    env = {**os.environ, "CRMPM_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "crmpm", *args], env=env, capture_output=True, text=True,
                              timeout=180)

    assert run("db", "upgrade").returncode == 0
    assert run("demo").returncode == 0
    run.folder, run.db = folder, folder / "demo.db"
    return run


def _project(cli) -> tuple[str, str]:
    with sqlite3.connect(cli.db) as db:
        return db.execute("SELECT code, actual_cost FROM projects ORDER BY id LIMIT 1").fetchone()


def test_import_costs_then_again_then_a_bad_file(cli):
    code, _before = _project(cli)
    good = cli.folder / "costs.csv"
    good.write_bytes(("Код проекта;Статья затрат;Дата;Сумма;Содержание;Документ\r\n"
                      f"{code};20.01;03.11.2026;1 000,50;Бетон;П-1\r\nNOPE;20.01;03.11.2026;5;x;П-2\r\n")
                     .encode("cp1251"))
    first = cli("accounting", "import-costs", str(good), "--format", "json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["rows"], report["applied"], report["unmatched"]) == (2, 1, 1)
    assert report["report"]["unmatched_rows"] == [{"line": 3, "project": "NOPE", "reason": "no such project"}]
    again = json.loads(cli("accounting", "import-costs", str(good), "--format", "json").stdout)
    assert (again["applied"], again["duplicates"]) == (0, 1)
    bad = cli.folder / "bad.csv"
    bad.write_text(f"project;cost_account;date;amount\n{code};20;2026-02-30;1\n", encoding="utf-8")
    refused = cli("accounting", "import-costs", str(bad))
    assert refused.returncode == 2 and "line 2, date" in refused.stderr
    with sqlite3.connect(cli.db) as db:
        assert db.execute("SELECT COUNT(*) FROM project_expenses").fetchone()[0] == 1
        assert db.execute("SELECT COUNT(*) FROM accounting_runs WHERE direction = 'in'").fetchone()[0] == 2


def test_export_writes_a_valid_file(cli):
    target = cli.folder / "out.xml"
    done = cli("accounting", "export-1c", "--from", "2020-01-01", "--to", "2022-12-31", "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert commerceml.validate(target.read_bytes()) == []
    wrong = cli("accounting", "export-1c", "--from", "2026-12-01", "--to", "2026-11-01", "-o", str(target))
    assert wrong.returncode == 2 and "ends before" in wrong.stderr

"""``crmpm finance import-statement`` as a real process: the counts, JSON, a second import all duplicates, bad files."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from tests.accounts.billing.statements import cp1251, incoming, outgoing, statement


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_statement")
    env = {**os.environ, "CRMPM_DATABASE_URL": f"sqlite:///{folder / 'crmpm.db'}"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "crmpm", *args], env=env, capture_output=True, text=True,
                              timeout=180)

    assert run("db", "upgrade").returncode == 0
    made = run("users", "create", "fin@example.test", "--name", "Fin", "--admin", "--password", "correct-horse-battery")
    assert made.returncode == 0, made.stderr
    run.folder, run.db = folder, folder / "crmpm.db"
    return run


def test_the_counts_then_every_payment_a_duplicate(cli):
    path = cli.folder / "statement.txt"
    path.write_bytes(cp1251(statement(incoming(), incoming(number="600", purpose="Аванс"), outgoing())))
    first = cli("finance", "import-statement", str(path), "--format", "json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert {key: report[key] for key in ("payments", "matched", "unmatched", "duplicates", "skipped")} == {
        "payments": 2, "matched": 0, "unmatched": 2, "duplicates": 0, "skipped": 1}
    second = cli("finance", "import-statement", str(path))
    assert second.returncode == 0, second.stderr
    assert "payments=2 matched=0 unmatched=0 duplicates=2 skipped=1" in second.stdout
    with sqlite3.connect(cli.db) as db:
        assert db.execute("SELECT COUNT(*) FROM payments").fetchone()[0] == 2


def test_a_broken_file_exits_2_naming_the_line_and_records_nothing(cli):
    text = statement(incoming(number="900")).replace("Сумма=12000.00", "Сумма=12000,00,00")
    path = cli.folder / "broken.txt"
    path.write_bytes(cp1251(text))
    with sqlite3.connect(cli.db) as db:
        before = db.execute("SELECT COUNT(*) FROM bank_statements").fetchone()[0]
    result = cli("finance", "import-statement", str(path))
    line = text.split("\r\n").index("Сумма=12000,00,00") + 1
    assert result.returncode == 2 and f"line {line}" in result.stderr, result.stderr
    with sqlite3.connect(cli.db) as db:
        assert db.execute("SELECT COUNT(*) FROM bank_statements").fetchone()[0] == before

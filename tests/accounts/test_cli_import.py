"""``crmpm import`` as a real process on the demo database: exit codes, messages, nothing written on failure."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

MAPPING = {"columns": {"id": "external_id", "name": "name", "owner": "owner", "founded": "founded"},
           "defaults": {"region": "MSK"}}
GOOD = "id,name,owner,founded\nX1,Acme,am@crmpm.local,1999\nX2,Globex,Anna Sokolova,2004\n"
BAD = GOOD + "X3,Initech,nobody@crmpm.local,2001\nX4,Hooli,am@crmpm.local,19999\n"


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_import")
    env = {**os.environ, "CRMPM_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "crmpm", *args], env=env, capture_output=True, text=True,
                              timeout=180)

    assert run("db", "upgrade").returncode == 0
    assert run("demo").returncode == 0
    run.folder = folder
    run.db = folder / "demo.db"
    return run


def _write(folder, name, content, *, encoding="utf-8"):
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding=encoding)
    return str(path)


def _accounts(cli) -> int:
    with sqlite3.connect(cli.db) as db:
        return db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]


def test_all_or_nothing_then_partial_then_idempotent(cli):
    mapping = _write(cli.folder, "map.json", MAPPING)
    before = _accounts(cli)
    refused = cli("import", "accounts", _write(cli.folder, "bad.csv", BAD), "--mapping", mapping)
    assert refused.returncode == 1, refused.stderr
    assert "NOTHING IMPORTED" in refused.stdout
    assert "line 4, column 'owner': 'nobody@crmpm.local' no user with email nobody@crmpm.local" in refused.stdout
    assert "line 5, column 'founded'" in refused.stdout
    assert "not stored by crmpm: founded" in refused.stdout
    assert _accounts(cli) == before

    dry = cli("import", "accounts", _write(cli.folder, "good.csv", GOOD), "--mapping", mapping, "--dry-run",
              "--format", "json")
    assert dry.returncode == 0 and json.loads(dry.stdout)["created"] == 2
    assert _accounts(cli) == before

    partial = cli("import", "accounts", str(cli.folder / "bad.csv"), "--mapping", mapping, "--partial",
                  "--progress")
    assert partial.returncode == 0, partial.stderr
    assert "2 created" in partial.stdout and "importing accounts" in partial.stderr
    assert _accounts(cli) == before + 2
    again = cli("import", "accounts", str(cli.folder / "good.csv"), "--mapping", mapping, "--format", "json")
    assert json.loads(again.stdout)["unchanged"] == 2 and _accounts(cli) == before + 2


@pytest.mark.parametrize("args, content, mapping, words", [
    (["gadgets"], GOOD, MAPPING, "Invalid value for 'KIND'"),
    (["accounts"], GOOD, '{"columns": ', "malformed JSON"),
    (["accounts"], GOOD, {**MAPPING, "columns": {"id": "external_id", "name": "nmae"}}, "did you mean 'name'"),
    (["accounts"], GOOD.replace(",", "\t"), {**MAPPING, "delimiter": ";"}, "is the delimiter right?"),
    (["accounts"], 'id,name,owner,founded\nX1,"Acme,am@crmpm.local,1999\n', MAPPING, "quote"),
    (["accounts"], "id,name,owner,founded\nX1,Ромашка,,\n".encode("cp1251"), {**MAPPING, "encoding": "utf-8"},
     "not valid utf-8"),
    (["accounts"], ("\ufeff" + GOOD).encode("utf-8"), {**MAPPING, "encoding": "cp1251"}, "byte order mark"),
    (["users"], GOOD, MAPPING, "'owner' is not a field of users"),
])
def test_bad_input_exits_2_with_a_clear_message(cli, args, content, mapping, words):
    before = _accounts(cli)
    result = cli("import", *args, _write(cli.folder, "input.csv", content), "--mapping",
                 _write(cli.folder, "input.json", mapping))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert _accounts(cli) == before

"""The crmpm command starts without the web stack: ``--help`` and the commands that need no database
import neither Flask nor SQLAlchemy nor the models (checked in a real process, by what it imported)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.wbs.xer_fixtures import xer_path

ROOT = Path(__file__).resolve().parents[2]

# Run ``python -m crmpm ARGS`` in this process, then list every module it imported on stderr.
WRAPPER = """
import json, os, runpy, sys
sys.argv = ["crmpm", *sys.argv[1:]]
os._exit = sys.exit  # a command that ends the process at once (crmpm.cli.end_process_now) ends here instead
try:
    runpy.run_module("crmpm", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("MODULES " + json.dumps(sorted(sys.modules)), file=sys.stderr)
sys.exit(code)
"""

HEAVY = ("flask", "werkzeug", "sqlalchemy", "psycopg", "alembic", "huey", "redis", "marshmallow", "flask_smorest",
         "networkx", "api", "web", "crmpm.app", "crmpm.database", "crmpm.jobs.models", "eps.models", "wbs.models",
         "accounts.models")


def _imported(*args):
    result = subprocess.run([sys.executable, "-c", WRAPPER, *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    lines = result.stderr.splitlines()
    modules = json.loads(lines[-1].removeprefix("MODULES "))
    return result, modules


def _heavy(modules):
    return sorted(m for m in modules if m in HEAVY or m.split(".")[0] in HEAVY)


def test_help_lists_every_command_and_imports_no_web_stack():
    result, modules = _imported("--help")
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert {"db", "demo", "serve", "users", "tokens", "worker", "jobs", "events",  # the core's
            "eps", "xer", "mspdi", "report", "crm", "import"} <= listed  # the domains' entry points
    assert "crmpm" in modules and "click" in modules
    assert _heavy(modules) == []


@pytest.mark.parametrize("args", [("xer", "--help"), ("jobs", "--help"), ("eps", "--help"), ("report", "--help")])
def test_a_group_help_imports_no_web_stack(args):
    result, modules = _imported(*args)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert _heavy(modules) == []


def test_xer_schedule_needs_no_database_layer():
    result, modules = _imported("xer", "schedule", str(xer_path("alap-harbour-131.xer")))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["activities"]
    assert "wbs.scheduling.cpm" in modules
    assert _heavy(modules) == []


def test_a_database_command_still_gets_its_app(tmp_path):
    env = {**os.environ, "CRMPM_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = subprocess.run([sys.executable, "-m", "crmpm", "db", "upgrade"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "database at revision head" in result.stdout

"""How ``crmpm serve`` sizes gunicorn: from the CPU count, overridable by options and environment."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from crmpm import cli


@pytest.mark.parametrize("cpus, sqlite, expected", [
    (2, False, (5, 1)), (8, False, (17, 1)), (None, False, (3, 1)), (2, True, (1, 4)), (8, True, (1, 4)),
])
def test_defaults_follow_the_cpu_count(monkeypatch, cpus, sqlite, expected):
    monkeypatch.setattr(cli.os, "cpu_count", lambda: cpus)
    assert cli.serving_settings(sqlite=sqlite) == expected


def test_given_settings_win(monkeypatch):
    monkeypatch.setattr(cli.os, "cpu_count", lambda: 2)
    assert cli.serving_settings(sqlite=False, workers=3, threads=2) == (3, 2)
    assert cli.serving_settings(sqlite=True, workers=2) == (2, 4)


@pytest.fixture
def served(monkeypatch, tmp_path):
    """``crmpm serve`` run in-process with gunicorn replaced by a recorder."""
    calls = []
    monkeypatch.setattr(cli, "run_gunicorn", lambda app, **settings: calls.append(settings))
    monkeypatch.setattr(cli.os, "cpu_count", lambda: 2)
    for name in ("CRMPM_WORKERS", "CRMPM_THREADS", "CRMPM_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)

    def serve(*args, env=None, database="postgresql+psycopg://nobody@127.0.0.1:9/none"):
        result = CliRunner().invoke(cli.main, ["serve", "--port", "8123", *args],
                                    env={"CRMPM_DATABASE_URL": database, "CRMPM_SECRET_KEY": "serving-test-key-" + "x" * 32,
                                         "CRMPM_NO_WORKER": "1", **(env or {})})
        return result, calls[-1] if calls else None

    return serve


def test_serve_uses_the_defaults_and_says_so(served):
    result, settings = served()
    assert result.exit_code == 0, result.output
    assert settings == {"host": "127.0.0.1", "port": 8123, "workers": 5, "threads": 1, "timeout": 300}
    assert "5 worker(s) × 1 thread(s)" in result.output


def test_serve_options_and_environment_override(served, tmp_path):
    _result, settings = served(env={"CRMPM_WORKERS": "3", "CRMPM_THREADS": "2"})
    assert (settings["workers"], settings["threads"]) == (3, 2)
    _result, settings = served("--workers", "7", "--threads", "3", env={"CRMPM_WORKERS": "3"})
    assert (settings["workers"], settings["threads"]) == (7, 3)
    _result, settings = served(database=f"sqlite:///{tmp_path / 'serve.db'}")
    assert (settings["workers"], settings["threads"]) == (1, 4)
    # A request may run five minutes by default (gunicorn's own 30 s cuts a large synchronous import short).
    assert served(env={"CRMPM_TIMEOUT": "90"})[1]["timeout"] == 90
    assert served("--timeout", "45", env={"CRMPM_TIMEOUT": "90"})[1]["timeout"] == 45


def test_serve_refuses_a_worker_count_below_one(served):
    result, settings = served("--workers", "0")
    assert result.exit_code == 2 and settings is None and "--workers" in result.output


def test_gunicorn_starts_with_the_app_frozen_out_of_the_collector(monkeypatch):
    """The objects alive when gunicorn starts (app, models, schemas, spec) are frozen: full collections in
    the workers no longer walk them."""
    import gc

    from gunicorn.app.base import BaseApplication
    from flask import Flask

    seen = {}

    def run(self):
        seen["frozen"] = gc.get_freeze_count()
        seen["workers"] = self.cfg.workers
        seen["timeout"] = self.cfg.timeout

    monkeypatch.setattr(BaseApplication, "run", run)
    gc.unfreeze()
    try:
        cli.run_gunicorn(Flask("frozen"), host="127.0.0.1", port=8124, workers=2, threads=1)
    finally:
        gc.unfreeze()
    assert seen["workers"] == 2
    assert seen["timeout"] == cli.REQUEST_TIMEOUT
    assert seen["frozen"] > 10_000

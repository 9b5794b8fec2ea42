"""The crmpm command, run as a real process against a fresh SQLite database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


@pytest.fixture
def crmpm(tmp_path):
    env = {**os.environ, "CRMPM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    def run(*args, check=True):
        result = subprocess.run([sys.executable, "-m", "crmpm", *args], env=env, capture_output=True, text=True,
                                timeout=120)
        if check:
            assert result.returncode == 0, result.stderr
        return result

    run.env = env
    return run


def test_upgrade_users_tokens(crmpm):
    crmpm("db", "upgrade")
    created = crmpm("users", "create", "Boss@Example.test", "--password", "long-password", "--admin")
    assert "boss@example.test" in created.stdout and "(admin)" in created.stdout
    token = crmpm("tokens", "create", "boss@example.test").stdout
    assert token.strip().startswith("crmpm_") and token.count("\n") == 1 and " " not in token.strip()


def test_errors_are_one_line_and_exit_2(crmpm):
    crmpm("db", "upgrade")
    result = crmpm("tokens", "create", "nobody@example.test", check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: no user with email nobody@example.test"
    crmpm("users", "create", "a@example.test", "--password", "long-password")
    again = crmpm("users", "create", "a@example.test", "--password", "long-password", check=False)
    assert again.returncode == 2 and "already exists" in again.stderr and "Traceback" not in again.stderr
    short = crmpm("users", "create", "b@example.test", "--password", "short", check=False)
    assert short.returncode == 2 and "password" in short.stderr


def test_a_database_without_crmpms_tables_asks_for_the_upgrade_in_one_line(crmpm):
    result = crmpm("tokens", "create", "a@example.test", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "run `crmpm db upgrade` first" in result.stderr and result.stderr.strip().count("\n") == 0


def test_an_unreachable_database_is_named_in_one_line(crmpm):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**crmpm.env, "CRMPM_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{port}/none",
           "CRMPM_SECRET_KEY": "x" * 32}
    result = subprocess.run([sys.executable, "-m", "crmpm", "tokens", "create", "a@example.test"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "cannot reach the database set by CRMPM_DATABASE_URL" in result.stderr


def test_demo_loads_once(crmpm):
    crmpm("db", "upgrade")
    first = crmpm("demo")
    assert "demo data loaded" in first.stdout and "am@crmpm.local" in first.stdout
    second = crmpm("demo")
    assert "already present" in second.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_the_api(crmpm):
    crmpm("db", "upgrade")
    crmpm("users", "create", "boss@example.test", "--password", "long-password", "--admin")
    token = crmpm("tokens", "create", "boss@example.test").stdout.strip()
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "crmpm", "serve", "--port", str(port)], env=crmpm.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/me",
                                         headers={"Authorization": f"Bearer {token}"})
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    body = json.load(response)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        assert body["email"] == "boss@example.test" and body["is_admin"] is True
    finally:
        server.terminate()
        server.wait(timeout=30)

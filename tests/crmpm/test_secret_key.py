"""The secret key: generated once (0600) for development, required of a deployment, never the old public one."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request

import pytest

from crmpm import create_app
from crmpm.secret_key import ConfigurationError, instance_key, resolve

OLD_PUBLIC_KEY = "crmpm-development-secret-change-me"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_instance_key_is_generated_once_owner_only_and_reused(tmp_path):
    folder = tmp_path / "instance"
    first = instance_key(folder)
    assert len(first) >= 32 and first != OLD_PUBLIC_KEY
    assert _mode(folder / "secret_key") == 0o600
    assert instance_key(folder) == first
    assert instance_key(tmp_path / "elsewhere") != first


def test_a_key_file_readable_by_others_is_made_owner_only(tmp_path):
    first = instance_key(tmp_path)
    os.chmod(tmp_path / "secret_key", 0o644)
    assert instance_key(tmp_path) == first
    assert _mode(tmp_path / "secret_key") == 0o600


def test_an_empty_key_file_is_refused_not_used(tmp_path):
    (tmp_path / "secret_key").write_text("")
    os.chmod(tmp_path / "secret_key", 0o600)
    with pytest.raises(ConfigurationError, match="delete it"):
        instance_key(tmp_path)


@pytest.mark.parametrize("config", [
    {"ENV": "production", "DATABASE_URL": "sqlite:///x.db"},
    {"ENV": None, "DATABASE_URL": POSTGRES},
    {"ENV": "Production", "DATABASE_URL": POSTGRES},
])
def test_a_deployment_without_a_key_is_refused(config, tmp_path):
    with pytest.raises(ConfigurationError, match="CRMPM_SECRET_KEY is not set"):
        resolve({"SECRET_KEY": None, "INSTANCE_PATH": str(tmp_path), **config})
    assert not (tmp_path / "secret_key").exists()


def test_development_is_sqlite_or_said_so(tmp_path):
    for config in ({"ENV": None, "DATABASE_URL": "sqlite:///x.db"},
                   {"ENV": "development", "DATABASE_URL": POSTGRES}):
        assert resolve({"SECRET_KEY": None, "INSTANCE_PATH": str(tmp_path), **config}) == instance_key(tmp_path)
    with pytest.raises(ConfigurationError, match="CRMPM_ENV='staging' is not one of development, production"):
        resolve({"SECRET_KEY": None, "ENV": "staging", "DATABASE_URL": POSTGRES})


def test_a_configured_key_is_used_and_the_old_public_one_refused():
    assert resolve({"SECRET_KEY": "k" * 40, "ENV": "production", "DATABASE_URL": POSTGRES}) == "k" * 40
    with pytest.raises(ConfigurationError, match="published default"):
        resolve({"SECRET_KEY": OLD_PUBLIC_KEY, "ENV": "development", "DATABASE_URL": "sqlite://"})
    with pytest.raises(ConfigurationError):
        create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": OLD_PUBLIC_KEY})


def test_the_environment_names_the_key(monkeypatch, tmp_path):
    monkeypatch.setenv("CRMPM_SECRET_KEY", "from-the-environment-" + "x" * 20)
    monkeypatch.setenv("CRMPM_ENV", "production")
    app = create_app({"DATABASE_URL": "sqlite://"})
    assert app.secret_key == "from-the-environment-" + "x" * 20
    monkeypatch.delenv("CRMPM_SECRET_KEY")
    with pytest.raises(ConfigurationError):
        create_app({"DATABASE_URL": "sqlite://"})


# Real processes: `crmpm serve` as a deployment would start it.


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _bare_env(**extra) -> dict:
    """The environment with nothing of crmpm's configured, running this checkout's code."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRMPM_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PROJECT, os.environ.get("PYTHONPATH")]))
    return {**env, **extra}


def _serve(cwd, env, port):
    return subprocess.Popen([sys.executable, "-m", "crmpm", "serve", "--port", str(port)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for_login_page(port: int) -> int:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                return response.status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.mark.parametrize("extra", [
    {"CRMPM_ENV": "production"},
    {"CRMPM_DATABASE_URL": POSTGRES},
])
def test_serve_refuses_to_start_a_deployment_without_a_key(tmp_path, extra):
    env = _bare_env(**extra)
    result = subprocess.run([sys.executable, "-m", "crmpm", "serve", "--port", str(_free_port())], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "error: CRMPM_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_serve_on_a_bare_clone_generates_the_key_once_and_reuses_it(tmp_path):
    """`make run` with nothing configured: the embedded SQLite default in ./instance, the key beside it."""
    env = _bare_env()
    subprocess.run([sys.executable, "-m", "crmpm", "db", "upgrade"], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=120)
    key_file = tmp_path / "instance" / "secret_key"
    keys = []
    for _run in range(2):
        port = _free_port()
        server = _serve(tmp_path, env, port)
        try:
            assert _wait_for_login_page(port) == 200
        finally:
            server.terminate()
            server.wait(timeout=30)
        assert _mode(key_file) == 0o600
        keys.append(key_file.read_text())
    assert keys[0] == keys[1] and len(keys[0].strip()) >= 32

"""The commands, run as processes: ``crmpm serve`` (with and without its worker), ``crmpm worker --queues``
and ``crmpm jobs list|show|retry|run``."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.jobs.conftest import EMBEDDED, PATIENCE, SCALED


def _children(pid: int) -> list[list[str]]:
    """The command lines of the processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if parent == pid:
                found.append((stat.parent / "cmdline").read_bytes().decode().split("\0")[:-1])
        except (OSError, IndexError, ValueError):
            continue
    return found


def _is_job_worker(args: list[str]) -> bool:
    return args[1:4] == ["-m", "crmpm", "worker"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serving(site, process, port: int) -> None:
    deadline = time.monotonic() + PATIENCE
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/jobs", timeout=2)
        except urllib.error.HTTPError:
            return  # it answers (401 without a token)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"crmpm serve does not answer\n{site.logs()}")
            time.sleep(0.2)
        else:
            return


@pytest.mark.parametrize("site", [EMBEDDED], indirect=True)
def test_serve_starts_a_job_worker_beside_the_web_processes(site):
    port = _free_port()
    serve = site.spawn("serve", "--port", str(port))
    _serving(site, serve, port)
    assert [args for args in _children(serve.pid) if _is_job_worker(args)], _children(serve.pid)
    [job_id] = site.start(kind="jobs.noop", params={"sleep": 0.1})
    assert site.wait(job_id)["status"] == "succeeded"


@pytest.mark.parametrize("site", [EMBEDDED], indirect=True)
def test_serve_without_a_worker_starts_none(site):
    port = _free_port()
    serve = site.spawn("serve", "--port", str(port), "--no-worker")
    _serving(site, serve, port)
    children = _children(serve.pid)
    assert children and not [args for args in children if _is_job_worker(args)], children


@pytest.mark.parametrize("site", [EMBEDDED, SCALED], indirect=True)
def test_a_worker_of_several_queues_runs_a_process_per_extra_queue(site):
    parent = site.worker("--queues", "a,b")
    deadline = time.monotonic() + PATIENCE
    while not (children := [args for args in _children(parent.pid) if _is_job_worker(args)]):
        assert time.monotonic() < deadline, site.logs()
        time.sleep(0.2)
    assert len(children) == 1 and children[0][children[0].index("--queues") + 1] == "b"

    [on_a] = site.start(kind="jobs.noop", queue="a")
    [on_b] = site.start(kind="jobs.noop", queue="b")
    assert site.wait(on_a)["worker"].endswith(f":{parent.pid}")
    ran_b = site.wait(on_b)
    assert ran_b["status"] == "succeeded" and not ran_b["worker"].endswith(f":{parent.pid}")


@pytest.mark.parametrize("site", [EMBEDDED], indirect=True)
def test_the_jobs_commands_run_list_show_and_retry(site):
    site.user(admin=True)
    ok, bad = site.start(kind="jobs.noop"), site.start(kind="jobs.noop", params={"sleep": "x"}, max_attempts=1)
    [ok], [bad] = ok, bad

    ran = site.run("jobs", "run")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [f"job {ok}: succeeded", f"job {bad}: failed"]

    listed = site.run("jobs", "list")
    assert [line.split()[:3] for line in listed.stdout.splitlines()] == [
        [str(bad), "jobs.noop", "failed"], [str(ok), "jobs.noop", "succeeded"]]
    assert [line.split()[0] for line in site.run("jobs", "list", "--status", "failed").stdout.splitlines()] == [
        str(bad)]

    shown = json.loads(site.run("jobs", "show", str(bad)).stdout)
    assert (shown["id"], shown["status"], shown["params"], shown["queue"]) == (bad, "failed", {"sleep": "x"}, "default")
    assert shown["error"].startswith("ValueError")

    retried = site.run("jobs", "retry", str(bad))
    assert (retried.returncode, retried.stdout.strip()) == (0, f"job {bad} queued again")
    assert (site.job(bad)["status"], site.job(bad)["attempt"]) == ("queued", 0)

    refused = site.run("jobs", "retry", str(ok))
    assert refused.returncode == 2 and "only a failed job can be retried" in refused.stderr
    missing = site.run("jobs", "show", "987654")
    assert (missing.returncode, missing.stderr.strip()) == (2, "error: no job 987654")

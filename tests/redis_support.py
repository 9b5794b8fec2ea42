"""The Redis the rate-limit tests use: 127.0.0.1:6379 (``CRMPM_TEST_REDIS_URL``), each test under its own key prefix."""

from __future__ import annotations

import os

import pytest

REDIS_URL = os.environ.get("CRMPM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_or_skip():
    """A client of the test Redis; skip the test if it is not reachable (fail with ``CI=true``)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis at {REDIS_URL} is not reachable: {exc}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return client

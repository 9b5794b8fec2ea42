"""The throttle itself, on the in-memory storage and on a real Redis (127.0.0.1:6379, a key prefix per run)."""

from __future__ import annotations

import time
import uuid

import pytest

from crmpm.errors import TooManyAttempts
from crmpm.ratelimit import Throttle
from tests.redis_support import REDIS_URL, redis_or_skip


@pytest.fixture(params=["memory", "redis"])
def make_throttle(request):
    made = []

    def make(limits: dict[str, str]) -> Throttle:
        if request.param == "memory":
            throttle = Throttle("memory://", limits=limits)
        else:
            redis_or_skip()
            throttle = Throttle(REDIS_URL, limits=limits, prefix=f"crmpm-test-{uuid.uuid4().hex}")
        made.append(throttle)
        return throttle

    yield make
    for throttle in made:
        throttle.reset()


def test_past_the_limit_the_key_waits_and_other_keys_do_not(make_throttle):
    throttle = make_throttle({"login-account": "3 per minute"})
    for _ in range(3):
        throttle.check("login-account", "a@example.test")
        throttle.hit("login-account", "a@example.test")
    with pytest.raises(TooManyAttempts) as refused:
        throttle.check("login-account", "a@example.test")
    assert 0 < refused.value.retry_after <= 60
    assert refused.value.headers == {"Retry-After": str(refused.value.retry_after)}
    assert refused.value.status == 429
    throttle.check("login-account", "b@example.test")
    throttle.check("login-address", "a@example.test")  # another kind counts on its own


def test_the_wait_grows_with_the_stacked_limits(make_throttle):
    throttle = make_throttle({"password": "2 per 2 seconds; 3 per hour"})
    throttle.hit("password", 7)
    throttle.hit("password", 7)
    with pytest.raises(TooManyAttempts) as first:
        throttle.check("password", 7)
    assert first.value.retry_after <= 2
    time.sleep(2.2)
    throttle.check("password", 7)  # the short window has passed
    throttle.hit("password", 7)
    with pytest.raises(TooManyAttempts) as second:
        throttle.check("password", 7)
    assert 3000 < second.value.retry_after <= 3600


def test_attempt_counts_every_call_and_failures_only_failed_blocks(make_throttle):
    throttle = make_throttle({"token": "2 per minute", "password": "1 per minute"})
    throttle.attempt("token", 1)
    throttle.attempt("token", 1)
    with pytest.raises(TooManyAttempts):
        throttle.attempt("token", 1)
    with throttle.failures("password", 1, failure=ValueError):
        pass  # a success is not counted
    with pytest.raises(ValueError), throttle.failures("password", 1, failure=ValueError):
        raise ValueError("wrong password")
    with pytest.raises(TooManyAttempts), throttle.failures("password", 1, failure=ValueError):
        pytest.fail("a refused attempt does not run")


def test_reset_forgets_the_counts(make_throttle):
    throttle = make_throttle({"token": "1 per hour"})
    throttle.attempt("token", 1)
    throttle.reset()
    throttle.attempt("token", 1)


def test_redis_keys_are_under_the_prefix_and_name_no_email():
    client = redis_or_skip()
    prefix = f"crmpm-test-{uuid.uuid4().hex}"
    throttle = Throttle(REDIS_URL, limits={"login-account": "5 per minute"}, prefix=prefix)
    try:
        throttle.hit("login-account", "secret.person@example.test")
        keys = [key.decode() for key in client.scan_iter(match=f"{prefix}:*")]
        assert keys and all("secret.person" not in key and "example" not in key for key in keys)
    finally:
        throttle.reset()
    assert not list(client.scan_iter(match=f"{prefix}:*"))


def test_an_unreachable_redis_falls_back_to_counting_in_memory(caplog):
    throttle = Throttle("redis://127.0.0.1:1/0", limits={"login-account": "2 per minute"})
    throttle.hit("login-account", "a")
    throttle.hit("login-account", "a")
    with pytest.raises(TooManyAttempts):
        throttle.check("login-account", "a")
    assert "rate limit storage unavailable" in caplog.text

"""One HTTP attempt: POST a signed body to a checked target, follow no redirect, read a bounded answer.

The connection goes to the address ``targets.resolve`` checked, not to a second lookup of the
name (which DNS rebinding could turn private); HTTPS still verifies the certificate for the host
name (SNI and hostname check against the name, not the address).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import urllib3

from crmpm.webhooks.targets import Target

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
EXCERPT = 500  # characters of the receiver's answer kept in the delivery log
USER_AGENT = "crmpm-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: the status code (None when no answer), time taken, the answer's start, or the error."""

    status_code: int | None
    duration_ms: int
    excerpt: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(target: Target, body: bytes, headers: dict[str, str], *, connect_timeout: float = CONNECT_TIMEOUT,
         read_timeout: float = READ_TIMEOUT) -> Outcome:
    """POST ``body`` to ``target`` once; never raises for what the network or the receiver does."""
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    options = {"timeout": timeout, "retries": False, "maxsize": 1}
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(target.address, target.port, server_hostname=target.host,
                                           assert_hostname=target.host, cert_reqs="CERT_REQUIRED", **options)
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, **options)
    all_headers = {"Host": target.host_header, "Content-Type": "application/json", "User-Agent": USER_AGENT,
                   **headers}
    started = time.perf_counter()
    try:
        response = pool.urlopen("POST", target.path, body=body, headers=all_headers, redirect=False,
                                preload_content=False, assert_same_host=False)
        try:
            raw = response.read(EXCERPT * 4, decode_content=False)
        finally:
            response.release_conn()
            response.close()
        excerpt = raw.decode("utf-8", errors="replace")[:EXCERPT]
        return Outcome(response.status, _ms(started), excerpt, None)
    except urllib3.exceptions.HTTPError as exc:
        return Outcome(None, _ms(started), None, _describe(exc))
    except OSError as exc:
        return Outcome(None, _ms(started), None, f"connection failed: {exc.__class__.__name__}")
    finally:
        pool.close()


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _describe(exc: Exception) -> str:
    """A short, fixed description of a network failure (no traceback, no internal details)."""
    errors = urllib3.exceptions
    reason = getattr(exc, "reason", None)
    kinds = (exc, reason) if isinstance(reason, Exception) else (exc,)
    # NewConnectionError is a ConnectTimeoutError in urllib3 2: asked first.
    for kind, text in ((errors.NewConnectionError, "connection refused or unreachable"),
                       (errors.ConnectTimeoutError, "connection timed out"),
                       (errors.ReadTimeoutError, "no answer within the read timeout"),
                       (errors.SSLError, "TLS failed (certificate or handshake)"),
                       (errors.ProtocolError, "the connection broke off")):
        if any(isinstance(item, kind) for item in kinds):
            return text
    return f"HTTP failed: {exc.__class__.__name__}"

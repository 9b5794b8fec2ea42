"""Limits on guessing: attempts counted per account, per address or per user, refused for a while past a limit.

Each kind of attempt has stacked limits, "5 per minute; 20 per hour; 100 per day":
past the first the wait is up to a minute, past the next up to an hour, then a
day, so a guesser's delay grows while a person who mistypes twice is never held
up. Refusals are :class:`crmpm.errors.TooManyAttempts` (429 with ``Retry-After``).

Counts live in Redis when ``CRMPM_RATELIMIT_STORAGE_URL`` names one, shared by
every worker and host; otherwise in the process's memory, which is right for the
embedded single-process default and wrong for several workers (each counts on
its own, so the limits multiply by the number of workers, and a restart forgets
them). Should Redis become unreachable, counting goes on in memory meanwhile
rather than failing every login. Keys are hashes: no email or address is stored.

Built on ``limits`` (moving windows); why not Flask-Limiter's decorators:
docs/decisions/0001-rate-limits.md.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, request
from limits import parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from crmpm.errors import TooManyAttempts

log = logging.getLogger(__name__)

# Failed attempts are counted for the first three, every attempt for the others.
DEFAULT_LIMITS = {
    "login-account": "5 per minute; 20 per hour; 100 per day",  # failed logins per email
    "login-address": "20 per minute; 100 per hour; 500 per day",  # failed logins per client address
    "password": "5 per minute; 20 per hour; 100 per day",  # wrong current passwords per user
    "token": "10 per hour; 50 per day",  # API tokens created per user
    "webhook": "30 per hour; 200 per day",  # webhooks created per user
    "webhook-replay": "60 per hour; 500 per day",  # deliveries replayed per user
    "inbound": "600 per minute; 20000 per hour",  # events delivered per integration (api/inbound.py)
    "inbound-address": "20 per minute; 100 per hour; 500 per day",  # bad integration tokens per client address
    "accounting-export": "60 per hour; 500 per day",  # exports to 1C per user (api/accounting.py)
    "accounting-import": "30 per hour; 200 per day",  # cost files per user (api/accounting.py)
    "bank-statement": "30 per hour; 200 per day",  # bank statements uploaded per user (api/payments.py)
    "document-upload": "120 per minute; 2000 per hour",  # files uploaded per user (type check, text extraction)
    "paperwork": "30 per minute; 500 per hour",  # documents generated per user (a PDF takes a LibreOffice run)
    "retention-report": "60 per minute; 1000 per hour",  # cohort, before/after and contact-norm reports per user
    "segment-csv": "30 per hour; 200 per day",  # CSV lists uploaded into static segments per user (api/segments.py)
    # Marketing: web-to-lead forms (web/views/marketing/public_forms.py).
    "web-form": "5 per minute; 30 per hour; 200 per day",  # submissions of public forms per client address
    "paperwork": "30 per minute; 500 per hour",
    # Marketing: campaigns created and sent per user (api/campaigns.py, web/views/marketing/campaigns.py); the
    # public tracking links (click, unsubscribe) per client address.
    "campaign": "60 per hour; 500 per day",
    "campaign-tracking": "120 per minute; 2000 per hour",  # documents generated per user (a PDF takes a LibreOffice run)
    "portal-invite": "30 per hour; 200 per day",  # client portal invitations sent per user (api/portal.py)
    "portal-question": "5 per minute; 30 per hour; 100 per day",  # questions written per client user (portal)
    "portal-action": "30 per minute; 300 per hour; 1000 per day",  # decisions and survey answers per client user
}
EXTENSION = "crmpm.throttle"


class Throttle:
    """Counts attempts per (kind, key) under the limits of each kind, in one storage."""

    def __init__(self, storage_url: str = "memory://", *, limits: dict[str, str] | None = None,
                 prefix: str = "crmpm") -> None:
        options = {} if storage_url.startswith("memory://") else {
            "wrap_exceptions": True, "socket_timeout": 2, "socket_connect_timeout": 2}
        self.storage = storage_from_string(storage_url, key_prefix=prefix, **options)
        self._limiter = MovingWindowRateLimiter(self.storage)
        self._fallback = MovingWindowRateLimiter(MemoryStorage())
        self._limits = {kind: parse_many(spec) for kind, spec in {**DEFAULT_LIMITS, **(limits or {})}.items()}

    def check(self, kind: str, key: object) -> None:
        """TooManyAttempts if any limit of ``kind`` is used up for ``key``, with the longest wait among them."""
        ids = _ids(kind, key)
        waits = [self._call("get_window_stats", item, *ids).reset_time - time.time()
                 for item in self._limits[kind] if not self._call("test", item, *ids)]
        if waits:
            raise TooManyAttempts(retry_after=max(1, math.ceil(max(waits))))

    def hit(self, kind: str, key: object) -> None:
        """Count one attempt of ``kind`` for ``key``."""
        ids = _ids(kind, key)
        for item in self._limits[kind]:
            self._call("hit", item, *ids)

    def attempt(self, kind: str, key: object) -> None:
        """Check, then count: for attempts that all count (creating tokens)."""
        self.check(kind, key)
        self.hit(kind, key)

    @contextmanager
    def failures(self, kind: str, key: object, *, failure: type[Exception]) -> Iterator[None]:
        """Check before the block; count it as an attempt of ``kind`` if it raises ``failure``."""
        self.check(kind, key)
        try:
            yield
        except failure:
            self.hit(kind, key)
            raise

    def reset(self) -> None:
        """Forget every count under this throttle's prefix (tests; an administrator after an incident)."""
        self.storage.reset()
        self._fallback.storage.reset()

    def _call(self, method: str, *args):
        try:
            return getattr(self._limiter, method)(*args)
        except StorageError as exc:
            log.warning("rate limit storage unavailable (%s); counting in this process meanwhile", exc.storage_error)
            return getattr(self._fallback, method)(*args)


def _ids(kind: str, key: object) -> tuple[str, str]:
    return kind, hashlib.sha256(str(key).encode()).hexdigest()[:32]


def init_app(app: Flask) -> None:
    """The app's throttle, from ``RATELIMIT_STORAGE_URL`` and ``RATELIMITS`` (kind -> limits, over the defaults)."""
    url = app.config.get("RATELIMIT_STORAGE_URL") or "memory://"
    app.extensions[EXTENSION] = Throttle(url, limits=app.config.get("RATELIMITS"),
                                         prefix=app.config.get("RATELIMIT_KEY_PREFIX", "crmpm"))
    if url.startswith("memory://") and not app.config["DATABASE_URL"].startswith("sqlite"):
        log.warning("rate limits are counted in each process's memory: with several workers set "
                    "CRMPM_RATELIMIT_STORAGE_URL=redis://... so that they count together")


def throttle() -> Throttle:
    """The current app's throttle."""
    return current_app.extensions[EXTENSION]


def client_address() -> str:
    """Who is asking, for per-address limits: the client's IP address, an IPv6 client's whole /64.

    Behind a reverse proxy this is the proxy's unless ``CRMPM_PROXIES`` says how many to trust.
    """
    address = request.remote_addr or ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)

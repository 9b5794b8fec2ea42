"""Signatures of webhook bodies: what a receiver recomputes with the subscription's secret.

``X-Crmpm-Signature: sha256=<hex>`` is HMAC-SHA256 of the raw body alone (the contract);
``X-Crmpm-Signature-V2: sha256=<hex>`` is HMAC-SHA256 of ``<timestamp>.<raw body>``, so a
receiver that checks it and the ``X-Crmpm-Timestamp`` window (``TOLERANCE``) refuses replays.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE = "X-Crmpm-Signature"
SIGNATURE_V2 = "X-Crmpm-Signature-V2"
TIMESTAMP = "X-Crmpm-Timestamp"
EVENT = "X-Crmpm-Event"
DELIVERY = "X-Crmpm-Delivery"
# How far a receiver should accept a timestamp from its own clock (documented in docs/integrations.md).
TOLERANCE = 300


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of body with secret>``: the value of ``X-Crmpm-Signature``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_timestamped(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>." + body>``: the value of ``X-Crmpm-Signature-V2``."""
    return sign(secret, str(timestamp).encode() + b"." + body)


def headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The signature headers of one attempt to deliver ``body`` at ``timestamp`` (Unix seconds)."""
    return {SIGNATURE: sign(secret, body), SIGNATURE_V2: sign_timestamped(secret, timestamp, body),
            TIMESTAMP: str(timestamp)}

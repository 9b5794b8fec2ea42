"""The domain errors of crmpm: a small hierarchy, mapped once to HTTP at the edge."""

from __future__ import annotations

from typing import Any


class CrmpmError(Exception):
    """Base of every error crmpm raises on purpose; carries a message and optional details."""

    status = 400

    def __init__(self, message: str, *, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class Invalid(CrmpmError):
    """The input breaks a rule; ``errors`` names the fields."""

    status = 422


class Unauthenticated(CrmpmError):
    """No valid credentials were given."""

    status = 401


class Forbidden(CrmpmError):
    """The caller may see the object but not do this to it."""

    status = 403


class NotFound(CrmpmError):
    """The object does not exist, or the caller may not see it (the two are not told apart)."""

    status = 404


class Conflict(CrmpmError):
    """The request clashes with the current state (duplicates, cycles, budget limits)."""

    status = 409

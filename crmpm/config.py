"""Configuration: defaults, overridden by environment variables, overridden by the factory's argument."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_INSTANCE = Path("instance")


def default_database_url() -> str:
    """The embedded SQLite database, unless CRMPM_DATABASE_URL names another."""
    url = os.environ.get("CRMPM_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{(DEFAULT_INSTANCE / 'crmpm.db').resolve()}"


def load_config(overrides: dict | None = None) -> dict:
    """The settings for one app, as a plain dict."""
    config = {
        "DATABASE_URL": default_database_url(),
        # Test each pooled connection with a round trip before a request uses it (off: see crmpm.database).
        "DATABASE_PRE_PING": os.environ.get("CRMPM_DATABASE_PRE_PING", "0") in ("1", "true", "yes"),
        # One base currency per installation; every amount is in it.
        "BASE_CURRENCY": os.environ.get("CRMPM_BASE_CURRENCY", "RUB"),
        "SECRET_KEY": os.environ.get("CRMPM_SECRET_KEY", "crmpm-development-secret-change-me"),
        # The web pages' session cookie; set CRMPM_SESSION_COOKIE_SECURE=1 when served over HTTPS.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("CRMPM_SESSION_COOKIE_SECURE", "0") in ("1", "true", "yes"),
        # A requester may not approve their own budget change (admins excepted).
        "BUDGET_FOUR_EYES": os.environ.get("CRMPM_BUDGET_FOUR_EYES", "1") not in ("0", "false", "no"),
        "PAGE_SIZE_DEFAULT": 50,
        "PAGE_SIZE_MAX": 500,
        # flask-smorest / OpenAPI
        "API_TITLE": "crmpm",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        # Served by the app itself from the swagger-ui-bundle package: no CDN needed.
        "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
        "JSON_SORT_KEYS": False,
    }
    if overrides:
        config.update(overrides)
    return config

"""Configuration: defaults, overridden by environment variables, overridden by the factory's argument."""

from __future__ import annotations

import os
from pathlib import Path

from crmpm.uploads import default_upload_dir

DEFAULT_INSTANCE = Path("instance")


def default_database_url() -> str:
    """The embedded SQLite database, unless CRMPM_DATABASE_URL names another."""
    url = os.environ.get("CRMPM_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{(DEFAULT_INSTANCE / 'crmpm.db').resolve()}"


def _flag(name: str) -> bool:
    return os.environ.get(name, "0").strip().lower() in ("1", "true", "yes")


def load_config(overrides: dict | None = None) -> dict:
    """The settings for one app, as a plain dict."""
    config = {
        "DATABASE_URL": default_database_url(),
        # Test each pooled connection with a round trip before a request uses it (off: see crmpm.database).
        "DATABASE_PRE_PING": os.environ.get("CRMPM_DATABASE_PRE_PING", "0") in ("1", "true", "yes"),
        # One base currency per installation; every amount is in it.
        "BASE_CURRENCY": os.environ.get("CRMPM_BASE_CURRENCY", "RUB"),
        # Signs session cookies and CSRF tokens; without it crmpm.secret_key generates one for development
        # into the instance folder and refuses to start a deployment (CRMPM_ENV: development or production).
        "SECRET_KEY": os.environ.get("CRMPM_SECRET_KEY"),
        "ENV": os.environ.get("CRMPM_ENV"),
        "INSTANCE_PATH": os.environ.get("CRMPM_INSTANCE_PATH", str(DEFAULT_INSTANCE)),
        # Served over HTTPS (CRMPM_HTTPS=1): Secure cookies and Strict-Transport-Security.
        "HTTPS": _flag("CRMPM_HTTPS"),
        "HSTS_MAX_AGE": int(os.environ.get("CRMPM_HSTS_MAX_AGE", str(365 * 24 * 3600))),
        # How many reverse proxies in front set X-Forwarded-For/-Proto (their client address counts for limits).
        "PROXIES": int(os.environ.get("CRMPM_PROXIES", "0")),
        # Counts for the limits on guessing (crmpm.ratelimit): Redis when set, else this process's memory.
        "RATELIMIT_STORAGE_URL": os.environ.get("CRMPM_RATELIMIT_STORAGE_URL", "memory://"),
        # The web pages' session cookie; Secure when served over HTTPS.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag("CRMPM_HTTPS") or _flag("CRMPM_SESSION_COOKIE_SECURE"),
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
        # Request body caps in bytes (crmpm.limits): every request, XER/MSPDI uploads, CSV imports.
        "MAX_CONTENT_LENGTH": int(os.environ.get("CRMPM_MAX_CONTENT_LENGTH", 1024 * 1024)),
        "MAX_UPLOAD_LENGTH": int(os.environ.get("CRMPM_MAX_UPLOAD_LENGTH", 50 * 1024 * 1024)),
        "MAX_CSV_UPLOAD_LENGTH": int(os.environ.get("CRMPM_MAX_CSV_UPLOAD_LENGTH", 100 * 1024 * 1024)),
        # A document's file (accounts.documents): the upload's body may be this plus the multipart envelope.
        "MAX_DOCUMENT_LENGTH": int(os.environ.get("CRMPM_MAX_DOCUMENT_LENGTH", 50 * 1024 * 1024)),
        # Where documents' bytes are kept (crmpm.files.storage, docs/decisions/0013): database (default),
        # directory (CRMPM_DOCUMENT_DIR) or s3 (an S3-compatible bucket).
        "DOCUMENT_STORAGE": os.environ.get("CRMPM_DOCUMENT_STORAGE", "database"),
        "DOCUMENT_DIR": os.environ.get("CRMPM_DOCUMENT_DIR") or None,
        "S3_ENDPOINT_URL": os.environ.get("CRMPM_S3_ENDPOINT_URL") or None,
        "S3_BUCKET": os.environ.get("CRMPM_S3_BUCKET") or None,
        "S3_ACCESS_KEY_ID": os.environ.get("CRMPM_S3_ACCESS_KEY_ID") or None,
        "S3_SECRET_ACCESS_KEY": os.environ.get("CRMPM_S3_SECRET_ACCESS_KEY") or None,
        "S3_REGION": os.environ.get("CRMPM_S3_REGION") or None,
        # Inbound channels (api/inbound.py): a call or message event as JSON, an e-mail as JSON or raw RFC 822.
        "MAX_INBOUND_EVENT_LENGTH": int(os.environ.get("CRMPM_MAX_INBOUND_EVENT_LENGTH", 256 * 1024)),
        "MAX_INBOUND_EMAIL_LENGTH": int(os.environ.get("CRMPM_MAX_INBOUND_EMAIL_LENGTH", 10 * 1024 * 1024)),
        # What the imported project (its own rows), its baselines and the whole XER/MSPDI file may hold
        # (wbs.interchange.limits, docs/decisions/0010); more is refused with 422 before parsing.
        "IMPORT_MAX_ACTIVITIES": int(os.environ.get("CRMPM_IMPORT_MAX_ACTIVITIES", 100_000)),
        "IMPORT_MAX_RELATIONSHIPS": int(os.environ.get("CRMPM_IMPORT_MAX_RELATIONSHIPS", 400_000)),
        "IMPORT_MAX_WBS_ELEMENTS": int(os.environ.get("CRMPM_IMPORT_MAX_WBS_ELEMENTS", 20_000)),
        "IMPORT_MAX_CALENDARS": int(os.environ.get("CRMPM_IMPORT_MAX_CALENDARS", 1_000)),
        "IMPORT_MAX_ASSIGNMENTS": int(os.environ.get("CRMPM_IMPORT_MAX_ASSIGNMENTS", 400_000)),
        # Unset: three times IMPORT_MAX_ACTIVITIES (P6's primary, secondary and tertiary baselines).
        "IMPORT_MAX_BASELINE_ACTIVITIES": (int(os.environ["CRMPM_IMPORT_MAX_BASELINE_ACTIVITIES"])
                                           if os.environ.get("CRMPM_IMPORT_MAX_BASELINE_ACTIVITIES") else None),
        # Every row of an XER file, of any table and project: what parsing holds in memory.
        "IMPORT_MAX_FILE_ROWS": int(os.environ.get("CRMPM_IMPORT_MAX_FILE_ROWS", 1_000_000)),
        # The job engine's store (crmpm.jobs.engine): redis://… for workers on several machines; unset, an
        # SQLite file in the instance folder.
        "JOBS_URL": os.environ.get("CRMPM_JOBS_URL"),
        # Outgoing mail (crmpm.mail): smtp://user:password@host:587?starttls=1 or smtps://…:465. Unset, messages
        # are written as .eml files into the instance folder's outbox (and logged), never sent.
        "SMTP_URL": os.environ.get("CRMPM_SMTP_URL") or None,
        # The site's address as people outside reach it (links in campaign messages); unset: the sender's.
        "PUBLIC_URL": os.environ.get("CRMPM_PUBLIC_URL") or None,
        "MAIL_FROM": os.environ.get("CRMPM_MAIL_FROM", "crmpm <noreply@localhost>"),
        "JOBS_NAMESPACE": os.environ.get("CRMPM_JOBS_NAMESPACE", "crmpm"),
        # Plans with more activities than this are scheduled and exported as a job when asked from the pages.
        "SCHEDULE_ASYNC_ACTIVITIES": int(os.environ.get("CRMPM_SCHEDULE_ASYNC_ACTIVITIES", 5_000)),
        # XER/MSPDI files larger than this (bytes) uploaded on the pages are imported as a job.
        "IMPORT_ASYNC_BYTES": int(os.environ.get("CRMPM_IMPORT_ASYNC_BYTES", 5 * 1024 * 1024)),
        # Uploads a request reads from a file (CSV imports); later runs remove what a killed process left.
        "UPLOAD_DIR": os.environ.get("CRMPM_UPLOAD_DIR") or default_upload_dir(),
    }
    if overrides:
        config.update(overrides)
    return config

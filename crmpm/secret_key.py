"""The key that signs the pages' session cookies and CSRF tokens: configured, or made once for development.

- ``CRMPM_SECRET_KEY`` set: that key (one published in crmpm's own history is refused).
- Not set, in development: a random key is generated on the first run into
  ``<instance>/secret_key`` (mode 0600) and read from there on every later start,
  so ``make run`` on a bare clone needs nothing configured and sessions survive a restart.
- Not set, under test (``TESTING``): a random key for this app alone.
- Not set otherwise: crmpm refuses to start (:class:`ConfigurationError`), because
  every worker and host must share one key that nobody else knows.

Development is ``CRMPM_ENV=development``, or ``CRMPM_ENV`` unset with an SQLite
database (the embedded default); ``CRMPM_ENV=production``, or a server database
such as PostgreSQL with ``CRMPM_ENV`` unset, is a deployment.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

ENVIRONMENTS = ("development", "production")
KEY_FILE = "secret_key"
# Keys that were ever published as crmpm's defaults: anyone can sign cookies with them.
PUBLIC_KEYS = frozenset({"crmpm-development-secret-change-me"})
MIN_GENERATED_LENGTH = 32


class ConfigurationError(RuntimeError):
    """crmpm cannot start with this configuration; the message says what to set."""


def init_app(app: Flask) -> None:
    """Give the app its secret key, or refuse (ConfigurationError) when a deployment has none."""
    app.config["SECRET_KEY"] = resolve(app.config)


def is_development(config) -> bool:
    """Whether this is a development set-up (see the module docstring)."""
    env = (config.get("ENV") or "").strip().lower()
    if env and env not in ENVIRONMENTS:
        raise ConfigurationError(f"CRMPM_ENV={env!r} is not one of {', '.join(ENVIRONMENTS)}")
    if env:
        return env == "development"
    return config["DATABASE_URL"].startswith("sqlite")


def resolve(config) -> str:
    """The secret key this configuration calls for."""
    key = config.get("SECRET_KEY")
    if key:
        if key in PUBLIC_KEYS:
            raise ConfigurationError("CRMPM_SECRET_KEY is a published default, so anyone could forge sessions; "
                                     "set it to a random value: python -c 'import secrets; "
                                     "print(secrets.token_urlsafe(32))'")
        return key
    if config.get("TESTING"):
        return secrets.token_urlsafe(32)
    if is_development(config):
        return instance_key(Path(config.get("INSTANCE_PATH") or "instance"))
    raise ConfigurationError(
        "CRMPM_SECRET_KEY is not set: a deployment needs a secret key of its own, the same for every worker "
        "and host (python -c 'import secrets; print(secrets.token_urlsafe(32))'); for a development set-up "
        "set CRMPM_ENV=development to have one generated into the instance folder")


def instance_key(folder: Path) -> str:
    """The key kept in ``folder``, generated (mode 0600) if there is none yet."""
    path = folder / KEY_FILE
    if not path.exists():
        _create(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        # Readable by others, anyone on the machine could sign cookies: owner only.
        os.chmod(path, 0o600)
        log.warning("%s was readable by others (mode %o); it is now 0600", path, mode)
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_GENERATED_LENGTH:
        raise ConfigurationError(f"{path} holds no usable key (too short); delete it to have a new one generated")
    return key


def _create(path: Path) -> None:
    """Write a new random key to ``path`` atomically: a concurrent start either makes it or reads the same one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(draft, path)  # fails if another process got there first; theirs is kept
            log.warning("generated a development secret key in %s (set CRMPM_SECRET_KEY in a deployment)", path)
        except FileExistsError:
            pass
    finally:
        draft.unlink(missing_ok=True)

"""Alembic, driven from code: every schema change is a migration under ``crmpm/migrations``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(*, url: str | None = None, connection=None) -> Config:
    """An Alembic config for a database URL or an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def upgrade(*, url: str | None = None, connection=None, revision: str = "head") -> None:
    """Bring the database up to ``revision``."""
    command.upgrade(alembic_config(url=url, connection=connection), revision)


def downgrade(*, url: str | None = None, connection=None, revision: str) -> None:
    """Take the database down to ``revision``."""
    command.downgrade(alembic_config(url=url, connection=connection), revision)

"""Alembic environment: the metadata of every installed crmpm domain."""

from __future__ import annotations

from importlib.metadata import entry_points

from alembic import context
from sqlalchemy import pool

import crmpm.audit.models  # noqa: F401 - registers the tables
import crmpm.events.models  # noqa: F401
import crmpm.jobs.models  # noqa: F401
import crmpm.notifications.models  # noqa: F401
import crmpm.users.models  # noqa: F401
import crmpm.webhooks.models  # noqa: F401
from crmpm import search
from crmpm.database import Base, make_engine

# Domains above the core register their models under this entry point, so the core never imports them.
for entry in entry_points(group="crmpm.models"):
    entry.load()

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        user_module_prefix="crmpm.database.",
        compare_type=True,
        include_name=search.include_name,
    )


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, user_module_prefix="crmpm.database.")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it into a new one and dropping the old (batch mode); with foreign
            # keys enforced, dropping a table other rows refer to fails. Off for the migration (a PRAGMA only
            # outside a transaction), and every reference checked before the migration commits.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"the migration left rows referring to rows that do not exist: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

"""The ``crmpm`` command: database, demo data, serving, users and tokens.

Each command is one transaction: committed when it succeeds, rolled back when
it fails. Domains above the core add their commands through the
``crmpm.commands`` entry point.

Commands are loaded when named, and import what they need when they run: ``crmpm --help`` and the
commands that need no database (``crmpm xer schedule``) start without Flask, SQLAlchemy and the
models; the app is created only by the commands that use it (:func:`get_app`).
"""

from __future__ import annotations

import gc
import os
import sys
from importlib import import_module
from typing import TYPE_CHECKING

import click

from crmpm.errors import CrmpmError
from crmpm.secret_key import ConfigurationError

if TYPE_CHECKING:
    from flask import Flask


class CrmpmGroup(click.Group):
    """The root group: turns crmpm's own errors into a one-line message and exit code 2.

    ``lazy`` names commands imported only when asked for (by name, or all of them for ``--help``):
    ``"module:attribute"`` or an entry point.
    """

    def __init__(self, *args, lazy=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx):
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx, name):
        if name not in self.commands and name in self.lazy:
            self.add_command(_load(self.lazy.pop(name)), name)
        return self.commands.get(name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CrmpmError as exc:
            details = "; ".join(f"{field}: {', '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                                for field, msgs in exc.errors.items())
            click.echo(f"error: {exc.message}" + (f" ({details})" if details else ""), err=True)
            sys.exit(2)
        except ConfigurationError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except Exception as exc:
            trouble = database_trouble(exc)
            if trouble is None:
                raise
            click.echo(f"error: {trouble}", err=True)
            sys.exit(2)


# SQLSTATE of a missing table (PostgreSQL), and what SQLite says instead.
_UNDEFINED_TABLE = "42P01"


def database_trouble(exc: Exception) -> str | None:
    """A one-line message for an error the database gave a command (None for any other error): a
    database without crmpm's tables asks for ``crmpm db upgrade``; one that cannot be reached names
    the setting; anything else is the database's own first line."""
    if not type(exc).__module__.startswith("sqlalchemy"):
        return None  # (and SQLAlchemy stays unimported for commands that never loaded it)
    from sqlalchemy.exc import DBAPIError, OperationalError

    if not isinstance(exc, DBAPIError):
        return None
    said = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    if getattr(exc.orig, "sqlstate", None) == _UNDEFINED_TABLE or said.startswith("no such table"):
        return (f"the database has no crmpm tables yet, or older ones ({said}): run `crmpm db upgrade` first")
    if isinstance(exc, OperationalError) and exc.connection_invalidated is False and not exc.statement:
        return f"cannot reach the database set by CRMPM_DATABASE_URL: {said}"
    return f"the database refused the command: {said}"


def _load(target):
    """The command ``target`` names: an entry point, or ``"module:attribute"``."""
    if not isinstance(target, str):
        return target.load()
    module, _, attribute = target.partition(":")
    return getattr(import_module(module), attribute)


@click.group(cls=CrmpmGroup)
@click.pass_context
def main(ctx: click.Context) -> None:
    """crmpm: integrated CRM and enterprise project portfolio management."""
    ctx.ensure_object(dict)


def get_app() -> Flask:
    """The app for the current command (created once per process)."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    root.ensure_object(dict)
    if "app" not in root.obj:
        from crmpm.app import create_app

        root.obj["app"] = create_app()
    return root.obj["app"]


def acting_user(session, email: str | None):
    """The user a command acts as: ``email``, or the first active administrator."""
    from sqlalchemy import select

    from crmpm.errors import NotFound
    from crmpm.users import services as users
    from crmpm.users.models import User

    if email:
        user = users.get_by_email(session, email=email)
        if user is None or not user.is_active:
            raise NotFound("no active user with email {email}", email=email)
        return user
    user = session.scalar(select(User).where(User.is_admin.is_(True), User.is_active.is_(True)).order_by(User.id))
    if user is None:
        raise NotFound("no active administrator to act as; create one or pass --as EMAIL")
    return user


@main.group("db")
def db_group() -> None:
    """The database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from crmpm import migrate

    app = get_app()
    _ensure_sqlite_folder(app.config["DATABASE_URL"])
    migrate.upgrade(url=app.config["DATABASE_URL"], revision=revision)
    click.echo(f"database at revision {revision}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    from crmpm import migrate

    migrate.downgrade(url=get_app().config["DATABASE_URL"], revision=revision)


def _ensure_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        folder = os.path.dirname(url.removeprefix("sqlite:///"))
        if folder:
            os.makedirs(folder, exist_ok=True)


@main.command("demo")
def demo() -> None:
    """Load the demo data once (does nothing if it is there already)."""
    from crmpm import demo as demo_data
    from crmpm.database import db

    app = get_app()
    with app.app_context(), db.transaction() as session:
        created = demo_data.load(session)
    if created:
        click.echo("demo data loaded")
    else:
        click.echo("demo data already present")
    for email, password, role in demo_data.LOGINS:
        click.echo(f"  {role:<16} {email}  password: {password}")


def serving_settings(*, sqlite: bool, workers: int | None = None, threads: int | None = None) -> tuple[int, int]:
    """Worker processes and threads per worker for ``crmpm serve``: the given ones, else from the CPU count.

    PostgreSQL: 2 × cores + 1 single-threaded processes (gunicorn's own advice: a process waits on the
    database while another computes). SQLite allows one writer at a time: one process with 4 threads.
    """
    if workers is None:
        workers = 1 if sqlite else 2 * (os.cpu_count() or 1) + 1
    if threads is None:
        threads = 4 if sqlite else 1
    return workers, threads


# How long one request may run before gunicorn replaces its worker (gunicorn's own default is 30 s, which
# a synchronous import of some 60,000 rows exceeds; large files belong in jobs: ``?async=true``).
REQUEST_TIMEOUT = 300


def run_gunicorn(app: Flask, *, host: str, port: int, workers: int, threads: int, accesslog: str | None = "-",
                 timeout: int = REQUEST_TIMEOUT) -> None:
    """Serve ``app`` with gunicorn under crmpm's settings (the HTTP benchmark's ceiling app uses them too)."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", accesslog)
            self.cfg.set("timeout", timeout)

        def load(self):
            return app

    # The app, its models, schemas and spec are built: a few hundred thousand objects that live as long as
    # the process. Frozen, the collector no longer walks them on every full collection (which a request
    # that builds many ORM rows triggers), and forked workers keep sharing their memory pages.
    gc.collect()
    gc.freeze()
    Server().run()


@main.command("serve")
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int, show_default="8000")
@click.option("--workers", type=click.IntRange(min=1), default=lambda: os.environ.get("CRMPM_WORKERS"),
              help="Worker processes [env CRMPM_WORKERS; default: 2×cores+1 on PostgreSQL, 1 on SQLite].")
@click.option("--threads", type=click.IntRange(min=1), default=lambda: os.environ.get("CRMPM_THREADS"),
              help="Threads per worker [env CRMPM_THREADS; default: 1 on PostgreSQL, 4 on SQLite].")
@click.option("--timeout", type=click.IntRange(min=1), default=lambda: int(os.environ.get("CRMPM_TIMEOUT", REQUEST_TIMEOUT)),
              show_default=str(REQUEST_TIMEOUT),
              help="Seconds a request may run before its worker is replaced [env CRMPM_TIMEOUT].")
@click.option("--no-worker", is_flag=True, default=lambda: os.environ.get("CRMPM_NO_WORKER", "0") in ("1", "true"),
              help="Do not start a job worker beside the web processes (run `crmpm worker` elsewhere) "
                   "[env CRMPM_NO_WORKER].")
def serve(host: str, port: int, workers: int | None, threads: int | None, timeout: int, no_worker: bool) -> None:
    """Serve crmpm with gunicorn, and a job worker beside it unless --no-worker."""
    import subprocess

    app = get_app()
    workers, threads = serving_settings(sqlite=app.config["DATABASE_URL"].startswith("sqlite"), workers=workers,
                                        threads=threads)
    click.echo(f"crmpm serving on http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)"
               f"  {workers} worker(s) × {threads} thread(s)" + ("" if no_worker else ", and a job worker"))
    job_worker = None if no_worker else subprocess.Popen([sys.executable, "-m", "crmpm", "worker"])
    try:
        run_gunicorn(app, host=host, port=port, workers=workers, threads=threads, timeout=timeout)
    finally:
        if job_worker is not None:
            from crmpm.jobs.cli import stop_worker

            stop_worker(job_worker)


@main.group("users")
def users_group() -> None:
    """User logins."""


@users_group.command("create")
@click.argument("email")
@click.option("--password", required=True)
@click.option("--name", default=None, help="Display name (default: the part of EMAIL before @).")
@click.option("--admin", is_flag=True, default=False)
def users_create(email: str, password: str, name: str | None, admin: bool) -> None:
    """Create a user."""
    from crmpm.database import db
    from crmpm.users import services as users

    app = get_app()
    with app.app_context(), db.transaction() as session:
        user = users.create(session, actor=None, email=email, name=name or email.split("@")[0], password=password,
                            is_admin=admin)
        click.echo(f"created user {user.id} {user.email}{' (admin)' if admin else ''}")


@main.group("tokens")
def tokens_group() -> None:
    """API tokens."""


@tokens_group.command("create")
@click.argument("email")
@click.option("--name", default="cli")
def tokens_create(email: str, name: str) -> None:
    """Create an API token for EMAIL and print it (only the token)."""
    from crmpm.database import db
    from crmpm.errors import NotFound
    from crmpm.users import services as users

    app = get_app()
    with app.app_context(), db.transaction() as session:
        user = users.get_by_email(session, email=email)
        if user is None:
            raise NotFound("no user with email {email}", email=email)
        _record, secret = users.create_token(session, actor=None, user=user, name=name)
    click.echo(secret)


main.lazy.update(worker="crmpm.jobs.cli:worker", jobs="crmpm.jobs.cli:jobs_group",
                 events="crmpm.jobs.cli:events_group")


def run() -> None:
    """The console script: the core commands plus those the installed domains register."""
    from importlib.metadata import entry_points

    main.lazy.update((entry.name, entry) for entry in entry_points(group="crmpm.commands"))
    main(obj={_CONSOLE: True})


_CONSOLE = "console"  # set by run(): this process is the command, not code (a test's runner) calling it


def end_process_now() -> None:
    """End the process here, exit status 0, when it is the console command (:func:`run`): its output is
    flushed, and what the command built is left to the system instead of being freed object by object
    (``crmpm xer schedule`` at 50,000 activities: a tenth of a second). Under a test's runner or when
    called from code, nothing happens and the command returns as usual."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or not (ctx.find_root().obj or {}).get(_CONSOLE):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)

"""``crmpm xer`` and ``crmpm mspdi``: project files from the shell, registered in one place.

Both groups are defined here, with every command they have, and ``pyproject.toml`` names them as
``crmpm.commands`` entry points (``wbs.interchange.cli:xer``, ``wbs.interchange.cli:mspdi``), which
:func:`crmpm.cli.run` adds to the console script. Importing a module adds no command anywhere.

``crmpm xer schedule FILE`` schedules an XER file's projects without a database and prints the dates
(:mod:`wbs.interchange.xer.schedule` describes the output). ``crmpm xer import FILE --eps CODE`` and
``crmpm mspdi import FILE --eps CODE`` print the new project's id; ``crmpm xer export PROJECT_ID -o FILE``
and ``crmpm mspdi export PROJECT_ID -o FILE`` write the project, streamed into a temporary file renamed
to FILE once complete. Each import or export is one transaction, run as the user named by ``--as``
(default: the first active administrator).

What a command needs is imported when it runs: listing the commands, and ``xer schedule``, which needs
no database, start without the app, SQLAlchemy and the models.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from crmpm.cli import acting_user, end_process_now, get_app
from crmpm.errors import Invalid, NotFound
from wbs import interchange

__all__ = ["xer", "mspdi", "export_to", "import_into"]


@click.group()
def xer():
    """Primavera P6 XER files."""


@click.group()
def mspdi() -> None:
    """Microsoft Project XML (MSPDI) files: import as a new project, export a project."""


def import_into(*, eps_code: str, as_email: str | None, load) -> int:
    """One import transaction: act as ``as_email``, find the EPS node, ``load(session, actor, node)``; the new id."""
    from sqlalchemy import select

    from crmpm.database import db
    from eps.models import EpsNode

    with get_app().app_context(), db.transaction() as session:
        actor = acting_user(session, as_email)
        node = session.scalar(select(EpsNode).where(EpsNode.code == eps_code))
        if node is None:
            raise NotFound("no EPS node with code {eps_code}", eps_code=eps_code)
        return load(session, actor, node).id


def export_to(*, project_id: int, output: Path, write) -> None:
    """One export: ``write(session, project, stream)`` into ``output``, with a one-line summary.

    The file is written as a temporary file beside ``output`` and renamed over it only when
    the whole export succeeded, so a failure part-way leaves no half-written file (and an
    older ``output`` untouched).
    """
    from crmpm.database import db
    from eps.models import Project

    partial = None
    try:
        with get_app().app_context(), db.transaction() as session:
            project = session.get(Project, project_id)
            if project is None:
                raise NotFound("no project with id {project_id}", project_id=project_id)
            partial = _temporary_beside(output)
            with partial.open("wb") as stream:
                write(session, project, stream)
        size = partial.stat().st_size
        os.replace(partial, output)
    except OSError as exc:
        raise Invalid("cannot write {output}: {strerror}", output=output, strerror=exc.strerror) from None
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)  # gone once renamed; otherwise the failed attempt's leftovers
    click.echo(f"wrote {output} ({size} bytes)")


def _temporary_beside(output: Path) -> Path:
    """A new empty file in ``output``'s folder (so the final rename stays on one file system), with
    the permissions a plain new file would get."""
    try:
        handle, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    except OSError as exc:
        raise Invalid("cannot write {output}: {strerror}", output=output, strerror=exc.strerror) from None
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(name, 0o666 & ~umask)
    return Path(name)


@xer.command("schedule")
@click.argument("file")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json", show_default=True)
@click.option("--project", default=None, help="proj_short_name or proj_id of the project to schedule.")
def xer_schedule(file, fmt, project):
    """Schedule the project(s) in FILE with their own options and print the dates."""
    from wbs.interchange.xer.reader import XerError
    from wbs.interchange.xer.schedule import as_dict, as_table, json_text, schedule_xer
    from wbs.scheduling.errors import SchedulingError

    warnings = []
    try:
        projects = schedule_xer(file, project, warnings)
    except (XerError, SchedulingError, OSError, UnicodeError, ValueError) as exc:
        message = str(exc).replace("\n", " ")
        click.echo(f"error: {file}: {message}", err=True)
        sys.exit(2)
    for warning in warnings:
        click.echo(f"warning: {file}: {warning}", err=True)
    if fmt == "json":
        click.echo(json_text(projects))
    else:
        click.echo("\n\n".join(as_table(as_dict(p)) for p in projects))
    end_process_now()


# The options every import and every export command takes.
_file = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
_eps = click.option("--eps", "eps_code", required=True, help="Code of the EPS node the project goes under.")
_acting = click.option("--as", "as_email", default=None, help="Act as this user (default: the first administrator).")
_project_id = click.argument("project_id", type=int)
_output = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)


@xer.command("import")
@_file
@_eps
@click.option("--project", "proj", default=None, help="proj_short_name or proj_id when the file holds several.")
@click.option("--code", default=None, help="Project code in crmpm (default: the file's proj_short_name).")
@_acting
def xer_import(file: Path, eps_code: str, proj: str | None, code: str | None, as_email: str | None) -> None:
    """Import a P6 XER file as a new project under the EPS node CODE and print its id."""
    click.echo(import_into(eps_code=eps_code, as_email=as_email, load=lambda session, actor, node: interchange.import_xer(
        session, actor=actor, data=file.read_bytes(), eps_node=node, proj=proj, code=code)))


@xer.command("export")
@_project_id
@_output
def xer_export(project_id: int, output: Path) -> None:
    """Write the project PROJECT_ID to an XER file."""
    export_to(project_id=project_id, output=output,
              write=lambda session, project, stream: interchange.export_xer_to(session, project=project, out=stream))


@mspdi.command("import")
@_file
@_eps
@click.option("--code", default=None, help="Project code in crmpm (default: the file's).")
@click.option("--name", default=None, help="Project name in crmpm (default: the file's title).")
@_acting
def mspdi_import(file: Path, eps_code: str, code: str | None, name: str | None, as_email: str | None) -> None:
    """Import an MS Project XML file as a new project under the EPS node CODE and print its id."""
    click.echo(import_into(eps_code=eps_code, as_email=as_email, load=lambda session, actor, node: interchange.import_mspdi(
        session, actor=actor, data=file.read_bytes(), eps_node=node, code=code, name=name)))


@mspdi.command("export")
@_project_id
@_output
def mspdi_export(project_id: int, output: Path) -> None:
    """Write the project PROJECT_ID to an MS Project XML file."""
    def write(session, project, stream) -> None:
        chunks = interchange.mspdi_chunks(session, project=project)
        stream.writelines(chunks)
        for warning in chunks.warnings:  # what MS Project will not show; the file keeps it in crmpm's field
            click.echo(f"warning: {warning}", err=True)

    export_to(project_id=project_id, output=output, write=write)

"""``crmpm mspdi``: Microsoft Project XML (MSPDI) files in and out of the database.

``crmpm mspdi import FILE --eps CODE`` prints the new project's id;
``crmpm mspdi export PROJECT_ID -o FILE`` writes the project as MSPDI. Each is
one transaction, run as the user named by ``--as`` (default: the first active
administrator), like the ``xer`` commands.
"""

from __future__ import annotations

from pathlib import Path

import click
from wbs import interchange
from wbs.commands import export_to, import_into

__all__ = ["mspdi"]


@click.group()
def mspdi() -> None:
    """Microsoft Project XML (MSPDI) files: import as a new project, export a project."""


@mspdi.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--eps", "eps_code", required=True, help="Code of the EPS node the project goes under.")
@click.option("--code", default=None, help="Project code in crmpm (default: the file's).")
@click.option("--name", default=None, help="Project name in crmpm (default: the file's title).")
@click.option("--as", "as_email", default=None, help="Act as this user (default: the first administrator).")
def import_command(file: Path, eps_code: str, code: str | None, name: str | None, as_email: str | None) -> None:
    """Import an MS Project XML file as a new project under the EPS node CODE and print its id."""
    click.echo(import_into(eps_code=eps_code, as_email=as_email, load=lambda session, actor, node: interchange.import_mspdi(
        session, actor=actor, data=file.read_bytes(), eps_node=node, code=code, name=name)))


@mspdi.command("export")
@click.argument("project_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_command(project_id: int, output: Path) -> None:
    """Write the project PROJECT_ID to an MS Project XML file."""
    export_to(project_id=project_id, output=output,
              write=lambda session, project, stream: stream.writelines(
                  interchange.mspdi_chunks(session, project=project)))

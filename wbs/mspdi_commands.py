"""``crmpm mspdi``: Microsoft Project XML (MSPDI) files in and out of the database.

``crmpm mspdi import FILE --eps CODE`` prints the new project's id;
``crmpm mspdi export PROJECT_ID -o FILE`` writes the project as MSPDI. Each is
one transaction, run as the user named by ``--as`` (default: the first active
administrator), like the ``xer`` commands.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from crmpm.cli import get_app
from crmpm.database import db
from crmpm.errors import Invalid, NotFound
from eps.models import EpsNode, Project
from wbs import interchange
from wbs.commands import acting_user

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
    with get_app().app_context(), db.transaction() as session:
        actor = acting_user(session, as_email)
        node = session.scalar(select(EpsNode).where(EpsNode.code == eps_code))
        if node is None:
            raise NotFound(f"no EPS node with code {eps_code}")
        project = interchange.import_mspdi(session, actor=actor, data=file.read_bytes(), eps_node=node, code=code,
                                           name=name)
        project_id = project.id
    click.echo(project_id)


@mspdi.command("export")
@click.argument("project_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_command(project_id: int, output: Path) -> None:
    """Write the project PROJECT_ID to an MS Project XML file."""
    with get_app().app_context(), db.transaction() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound(f"no project with id {project_id}")
        data = interchange.export_mspdi(session, project=project)
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise Invalid(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output} ({len(data)} bytes)")

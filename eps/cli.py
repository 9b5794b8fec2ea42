"""``crmpm eps``: lay out the Enterprise Project Structure from the shell, before a CRM or a plan comes in.

``crmpm eps create CODE NAME [--parent CODE] [--protected]`` creates one node and prints
``created EPS node CODE (id N)``; ``crmpm eps import FILE.csv`` creates or updates the nodes of a CSV
file (see :mod:`eps.layout`: columns code,name,parent,protected, parents anywhere in the file, all or
nothing with line-numbered errors, idempotent by code) and prints what it did. Each command is one
transaction, run as the user named by ``--as`` (default: the first active administrator); errors are
one line on stderr with exit status 2. What a command needs is imported when it runs, so listing the
commands starts no database layer.
"""

from __future__ import annotations

from pathlib import Path

import click

from crmpm.cli import acting_user, get_app
from crmpm.errors import Invalid, NotFound

__all__ = ["eps"]

MAX_FILE = 20 * 1024 * 1024


@click.group()
def eps() -> None:
    """The Enterprise Project Structure (EPS): nodes and branches."""


@eps.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--parent", "parent_code", default=None, help="Code of the parent node (default: a new root).")
@click.option("--protected", is_flag=True, default=False, help="Grants above the node do not reach into it.")
@click.option("--as", "as_email", default=None, help="Act as this user (default: the first administrator).")
def create_command(code: str, name: str, parent_code: str | None, protected: bool, as_email: str | None) -> None:
    """Create the EPS node CODE named NAME."""
    from sqlalchemy import select

    from crmpm.database import db
    from eps import services
    from eps.models import EpsNode

    with get_app().app_context(), db.transaction() as session:
        actor = acting_user(session, as_email)
        parent = None
        if parent_code is not None:
            parent = session.scalar(select(EpsNode).where(EpsNode.code == parent_code))
            if parent is None:
                raise NotFound("no EPS node with code {eps_code}", eps_code=parent_code)
        node = services.create_node(session, actor=actor, code=code, name=name, parent=parent, protected=protected)
        node_id = node.id
    click.echo(f"created EPS node {code} (id {node_id})")


@eps.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "as_email", default=None, help="Act as this user (default: the first administrator).")
def import_command(file: Path, as_email: str | None) -> None:
    """Create or update the EPS nodes of a CSV file (columns code,name,parent,protected), all or nothing."""
    from crmpm.database import db
    from eps import layout

    with file.open("rb") as handle:
        data = handle.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise Invalid("{file} is larger than {size} MiB", file=file, size=MAX_FILE // (1024 * 1024),
                      errors={"file": ["too large"]})
    rows = layout.read_nodes_csv(data)
    with get_app().app_context(), db.transaction() as session:
        summary = layout.lay_out(session, actor=acting_user(session, as_email), rows=rows)
    click.echo(f"{file}: {len(summary.created)} created, {len(summary.updated)} updated, "
               f"{len(summary.unchanged)} unchanged")

"""``crmpm capacity rebuild-loads``: rebuild the booked hours (``resource_loads``) of every assignment, or of some
projects' (after writing assignments around the ORM, or after a change to how units are spread)."""

from __future__ import annotations

import click


@click.group("capacity")
def capacity() -> None:
    """Resources' capacity: the derived booked hours."""


@capacity.command("rebuild-loads")
@click.option("--project", "project_ids", type=int, multiple=True,
              help="Only this project's assignments (repeatable); default: all.")
def rebuild_loads(project_ids: tuple[int, ...]) -> None:
    """Rebuild the booked hours of every assignment (or of the projects given), in one transaction."""
    from crmpm.cli import get_app
    from crmpm.database import db
    from wbs.resources import loads

    with get_app().app_context(), db.transaction() as session:
        written = loads.refresh(session, project_ids=list(project_ids) if project_ids else None)
    click.echo(f"wrote {written} booked-hours row(s)")

"""``crmpm report ...``: sales analytics as text or JSON (a trusted operator: all data); ``crmpm crm ...``: housekeeping;
``crmpm import KIND FILE --mapping NAME|MAP.json``: the CSV import (see ``accounts.imports``)."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import click

from crmpm.errors import Invalid, NotFound


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _pipeline(session, name: str | None):
    from accounts import pipelines

    if name is not None:
        pipeline = pipelines.get_by_name(session, name=name)
        if pipeline is None:
            raise NotFound("no pipeline named {name!r}", name=name, errors={"pipeline": ["not found"]})
        return pipeline
    pipeline = session.scalars(pipelines.list_pipelines(session, active_only=True)).first()
    if pipeline is None:
        raise Invalid("there is no active pipeline", errors={"pipeline": ["none active"]})
    return pipeline


@click.group("report")
def report() -> None:
    """Sales reports."""


@report.command("funnel")
@click.option("--pipeline", "pipeline_name", default=None, help="Pipeline name (default: the first active one).")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def funnel(pipeline_name: str | None, output: str) -> None:
    """Deals by stage, won, lost, open, win rate = won / (won + lost), conversion between stages."""
    from accounts import analytics
    from crmpm.cli import get_app
    from crmpm.database import db

    with get_app().app_context(), db.transaction() as session:
        result = analytics.funnel(session, user=None, pipeline=_pipeline(session, pipeline_name))
    if output == "json":
        click.echo(json.dumps(result, default=_json_default, indent=2, ensure_ascii=False))
        return
    rate = "n/a" if result["win_rate"] is None else f"{result['win_rate']:.1%}"
    click.echo(f"Pipeline {result['pipeline']}: {result['total']} deals, {result['open']} open, "
               f"{result['won']} won ({result['won_value']}), {result['lost']} lost; win rate {rate}")
    width = max((len(row["stage"]) for row in result["by_stage"]), default=5)
    for row in result["by_stage"]:
        click.echo(f"  {row['stage']:<{width}}  {row['kind']:<4}  {row['count']:>7}  {row['value']:>18}")
    for step in result["conversion"]:
        rate = "n/a" if step["rate"] is None else f"{step['rate']:.1%}"
        click.echo(f"  {step['from_stage']} -> {step['to_stage']}: {rate}")


@report.command("forecast")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def forecast(output: str) -> None:
    """Open deals by expected close month, with the weighted value (amount × probability)."""
    from accounts import analytics
    from crmpm.cli import get_app
    from crmpm.database import db

    with get_app().app_context(), db.transaction() as session:
        rows = analytics.forecast(session, user=None)
    if output == "json":
        click.echo(json.dumps(rows, default=_json_default, indent=2, ensure_ascii=False))
        return
    for row in rows:
        click.echo(f"{row['month']}  {row['count']:>6}  {row['value']:>18}  weighted {row['weighted_value']:>18}")


@click.group("crm")
def crm() -> None:
    """CRM housekeeping."""


@crm.command("process-handovers")
def process_handovers() -> None:
    """Hand work to deputies for absences that have begun, and give it back for those that ended (run it hourly)."""
    from accounts import routing
    from crmpm.cli import get_app
    from crmpm.database import db

    with get_app().app_context(), db.transaction() as session:
        started, ended = routing.process_handovers(session)
    click.echo(f"handed over for {started} absence(s), given back for {ended}")


def _list_mappings(ctx: click.Context, _param, value: bool) -> None:
    """``--list-mappings``: the shipped mapping sets and their KINDs, then exit."""
    if not value or ctx.resilient_parsing:
        return
    from accounts.csvio import mapping_sets
    from accounts.csvio.mapping import SAVED_MAPPINGS

    for name, kinds in mapping_sets().items():
        click.echo(f"{name}: {', '.join(kinds)}")
    click.echo(f"(files in {SAVED_MAPPINGS}; use one with --mapping NAME, or a copy with --mapping PATH)")
    ctx.exit(0)


@click.command("import")
@click.argument("kind", metavar="KIND",
                type=click.Choice(["users", "accounts", "contacts", "leads", "deals", "interactions"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_path", required=True, metavar="NAME|PATH",
              help="A shipped mapping set (zoho, amocrm, bitrix24, bitrix24-rest: its mapping for KIND) or the path "
                   "of a mapping JSON: columns, values, defaults, pipeline, owners.")
@click.option("--list-mappings", is_flag=True, expose_value=False, is_eager=True, callback=_list_mappings,
              help="List the shipped mapping sets and the KINDs each has, then exit.")
@click.option("--owners", "owners_path", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An owners table: CSV name,email (as the dry run prints it) or JSON {name: email}; "
                   "it overrides the mapping's \"owners\".")
@click.option("--save-owners", "save_owners", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the owners matched to no user to this CSV (name,email; suggestions filled in) to fill "
                   "in and pass back with --owners.")
@click.option("--create-owners", is_flag=True, default=False,
              help="Create the owners the file names and crmpm lacks, as inactive users on the file's branch "
                   "(administrators only).")
@click.option("--dry-run", is_flag=True, default=False, help="Check everything, write nothing.")
@click.option("--partial", is_flag=True, default=False, help="Import the good rows even when others have errors.")
@click.option("--as", "as_email", default=None, help="Act as this user (default: the first administrator).")
@click.option("--tz", default="Europe/Moscow", show_default=True, help="Zone of times written without one.")
@click.option("--sheet", default=None, help="For an .xlsx FILE: the sheet to read (default: the first).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when it is a TTY).")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def import_command(kind: str, file: Path, mapping_path: str, owners_path: Path | None, save_owners: Path | None,
                   create_owners: bool, dry_run: bool, partial: bool, as_email: str | None, tz: str,
                   sheet: str | None, progress: bool | None, output: str) -> None:
    """Import a CSV or .xlsx FILE of KIND (users, accounts, contacts, leads, deals, interactions) with a mapping.

    All or nothing: with any row in error nothing is written (exit code 1) unless
    --partial. Import a whole CRM in the order users, accounts, contacts, leads,
    deals, interactions. Bad files and mappings exit with code 2. Values kept
    otherwise than written (a phone that cannot be normalized...) are warnings:
    their rows import. Owners the file names that match no user are listed with
    a table to fill in (--owners).
    """
    from accounts import imports
    from accounts.csvio import CsvImportError, resolve_mapping
    from accounts.imports.owners import read_owners_file, with_owners
    from crmpm.cli import acting_user, get_app
    from crmpm.database import db

    show = sys.stderr.isatty() if progress is None else progress
    bar = None

    def start(rows: int) -> None:
        nonlocal bar
        if show:
            bar = click.progressbar(length=rows, label=f"importing {kind}", file=sys.stderr)
            bar.__enter__()

    def step(count: int) -> None:
        if bar is not None:
            bar.update(count)

    try:
        with get_app().app_context(), db.transaction() as session:
            actor = acting_user(session, as_email)
            try:
                mapping = resolve_mapping(mapping=mapping_path, kind=kind)
                given_owners = read_owners_file(owners_path) if owners_path is not None else {}
                mapping = with_owners(mapping, given_owners)
                report = imports.import_csv(session, actor=actor, kind=kind, path=file, mapping=mapping,
                                            dry_run=dry_run, partial=partial, tz=tz, progress=step,
                                            on_start=start, sheet=sheet,
                                            create_owners=create_owners)
            except CsvImportError as exc:
                failed = imports.file_error(exc)
                click.echo(f"error: {failed.message}", err=True)
                sys.exit(2)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if save_owners is not None and report.unmatched_owners:
        from accounts.imports.report import owners_csv

        # The entries already filled in (--owners) stay in the table written, before the new ones.
        filled = [{"name": name, "suggested": email} for name, email in given_owners.items()]
        save_owners.write_text(owners_csv(filled + report.unmatched_owners), encoding="utf-8")
    if output == "json":
        click.echo(json.dumps(report.to_dict(), default=_json_default, indent=2, ensure_ascii=False))
    else:
        click.echo(report.summary())
    if report.errors and not (report.partial and not report.dry_run):
        sys.exit(1)

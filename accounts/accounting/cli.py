"""``crmpm accounting export-1c`` and ``crmpm accounting import-costs``: the exchange with 1C from the shell."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path

import click


@click.group("accounting")
def accounting() -> None:
    """The exchange with accounting (1C): invoices and acts out, actual costs in."""


def _date(_ctx, param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("a date YYYY-MM-DD", param=param) from None


def _since(_ctx, param, value):
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("a time YYYY-MM-DDTHH:MM[:SS]+HH:MM", param=param) from None
    if moment.tzinfo is None:
        raise click.BadParameter("a time with its zone (…+03:00 or …Z)", param=param)
    return moment


@accounting.command("export-1c")
@click.option("--from", "date_from", required=True, callback=_date, help="First day (YYYY-MM-DD).")
@click.option("--to", "date_to", required=True, callback=_date, help="Last day (YYYY-MM-DD), inclusive.")
@click.option("--node", "node_id", type=int, default=None, help="Only this EPS node's projects (its id).")
@click.option("--since", callback=_since, default=None, help="Only what changed since this time (with its zone).")
@click.option("--as", "as_email", default=None, help="Act as this user (default: the first administrator).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The CommerceML file to write.")
def export_1c(date_from: date, date_to: date, node_id: int | None, since: datetime | None, as_email: str | None,
              output: Path) -> None:
    """Write the invoices and acts of a period, with their counterparties, as a CommerceML 2.10 file for 1C."""
    from accounts.accounting import export
    from crmpm.cli import acting_user, get_app
    from crmpm.database import db
    from crmpm.errors import CrmpmError

    try:
        with get_app().app_context(), db.transaction() as session:
            actor = acting_user(session, as_email)
            scope = export.check_scope(date_from, date_to, node_id, since)
            data, run = export.export_commerceml(session, actor=actor, scope=scope)
            output.write_bytes(data)
    except CrmpmError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
    report = run.report
    click.echo(f"wrote {output}: {report['invoices']} invoice(s), {report['acts']} act(s), "
               f"{report['counterparties']} counterpart(ies); run {run.id}")


@accounting.command("import-costs")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "as_email", default=None, help="Act as this user (default: the first administrator).")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def import_costs(file: Path, as_email: str | None, output: str) -> None:
    """Book the actual costs of a CSV FILE from accounting to projects (docs/accounting-exchange.md).

    A file with bad rows writes nothing (exit code 2, each bad line named); rows that match no project are
    reported and not booked; importing the same file again books nothing twice.
    """
    from accounts.accounting import costs
    from crmpm.cli import acting_user, get_app
    from crmpm.database import db
    from crmpm.errors import CrmpmError

    try:
        with get_app().app_context(), db.transaction() as session:
            actor = acting_user(session, as_email)
            run = costs.import_costs(session, actor=actor, data=file.read_bytes(), file_name=file.name)
            result = {"run_id": run.id, "rows": run.rows, "applied": run.applied, "unmatched": run.unmatched,
                      "duplicates": run.duplicates, "report": run.report}
    except CrmpmError as exc:
        if output == "json":
            click.echo(json.dumps({"error": exc.message, "errors": exc.errors}, ensure_ascii=False, indent=2))
        else:
            click.echo(f"error: {exc.message}", err=True)
            for problem in (exc.errors or {}).get("rows", []):
                click.echo(f"  line {problem['line']}, {problem['column']}: {problem['reason']}", err=True)
        sys.exit(2)
    if output == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"run {result['run_id']}: {result['rows']} row(s), {result['applied']} booked, "
               f"{result['duplicates']} duplicate(s), {result['unmatched']} unmatched")
    for row in result["report"]["unmatched_rows"]:
        click.echo(f"  line {row['line']}: {row['project']}: {row['reason']}")

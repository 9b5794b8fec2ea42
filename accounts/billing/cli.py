"""``crmpm finance``: finance from the command line (a bank statement's import).

Starts light (CONTRIBUTING: commands): click only at the top; each command imports what it needs when it runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.group("finance")
def finance() -> None:
    """Finance: bank statements and payments."""


@finance.command("import-statement")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--as", "as_email", default=None, help="Act as this user (default: the first administrator).")
def import_statement(file: Path, output: str, as_email: str | None) -> None:
    """Import a bank statement FILE (1CClientBankExchange, cp1251 or declared UTF-8) and match its payments.

    Prints the counts: payments (incoming documents), matched, unmatched, duplicates (already recorded:
    importing the same statement again reports every payment as a duplicate), skipped (outgoing and other
    documents). A file that cannot be read records nothing and exits 2 naming the line.
    """
    from accounts.billing import payments
    from crmpm.cli import acting_user, get_app
    from crmpm.database import db
    from crmpm.errors import CrmpmError

    try:
        with get_app().app_context(), db.transaction() as session:
            actor = acting_user(session, as_email)
            statement = payments.import_statement(session, actor=actor, data=file.read_bytes(), file_name=file.name)
            report = payments.report_of(statement)
    except CrmpmError as exc:
        detail = "; ".join(f"{key}: {', '.join(map(str, value))}" for key, value in (exc.errors or {}).items())
        click.echo(f"error: {detail or exc}", err=True)
        sys.exit(2)
    if output == "json":
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(" ".join(f"{key}={report[key]}" for key in
                            ("payments", "matched", "unmatched", "duplicates", "skipped", "statement_id")))

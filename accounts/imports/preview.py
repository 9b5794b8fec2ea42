"""The first rows of a CSV file as the import will read them: the mapping applied, each cell typed or refused.

The same reading as the import (``accounts.csvio``: encoding, delimiter, header check, the
mapping's values and defaults, every cell's parser), stopped after a few rows, so a page can
show what a mapping makes of a file before anything runs. Pure: no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from accounts.csvio import (
    DEFAULT_TZ,
    BlankRow,
    CsvImportError,
    ImportMapping,
    Phone,
    Record,
    RowError,
    RowWarning,
    check_header,
    iter_transform,
    open_table,
)


@dataclass
class Preview:
    """The file's header and format, the fields the mapping fills, and its first rows (or why none)."""

    header: tuple[str, ...] = ()
    encoding: str | None = None
    delimiter: str | None = None
    fields: list[str] = field(default_factory=list)
    rows: list[tuple[int, list[str | None]]] = field(default_factory=list)  # (line, a text per field)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    sheet: str | None = None  # the sheet read, for a workbook
    problem: str | None = None  # a file or mapping problem: no row can be read


def shown(value: Any) -> str | None:
    """A typed cell as the page shows it."""
    if value is None:
        return None
    if isinstance(value, Phone):
        return value.e164 or value.raw
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def preview_file(path: str | Path, *, kind: str, mapping: ImportMapping, rows: int = 10,
                 tz: str = DEFAULT_TZ, sheet: str | None = None) -> Preview:
    """The first ``rows`` data rows of the CSV (or .xlsx ``sheet``) at ``path`` as ``mapping`` reads them,
    with their errors and warnings."""
    names = list(dict.fromkeys([name for _column, name in mapping.field_columns] + list(mapping.defaults)))
    names = (["external_id"] if "external_id" in names else []) + [name for name in names if name != "external_id"]
    result = Preview(fields=names)
    try:
        with open_table(path, encoding=mapping.encoding, delimiter=mapping.delimiter,
                        sheet=sheet or mapping.sheet) as table:
            result.header, result.encoding, result.delimiter = table.header, table.encoding, table.delimiter
            result.sheet = table.sheet
            check_header(mapping=mapping, header=table.header)
            outcomes = iter_transform(kind=kind, rows=table, mapping=mapping, header=table.header, tz=tz)
            lines: set[int] = set()
            for outcome in outcomes:
                if isinstance(outcome, BlankRow):
                    continue
                if outcome.line not in lines and len(lines) == rows:
                    break
                lines.add(outcome.line)
                if isinstance(outcome, Record):
                    values = {**outcome.fields, "external_id": outcome.external_id}
                    result.rows.append((outcome.line, [shown(values.get(name)) for name in names]))
                    result.warnings.extend(outcome.warnings)
                else:
                    result.errors.append(outcome)
    except CsvImportError as exc:
        result.problem = str(exc)
    return result

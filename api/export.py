"""Lists as CSV: every CRM list answers ``?format=csv`` (or ``Accept: text/csv``) with all matching rows.

The same read schema serializes a page and a CSV row, so both show the same
fields; nested values are written as JSON text. Cells that a spreadsheet would
take for a formula, whatever its list separator, are defused by ``crmpm.spreadsheet``.
"""

from __future__ import annotations

import csv
import io

from flask import Response, request
from marshmallow import Schema, fields, validate

from api.common import PageArgs, paginate, session
from crmpm.downloads import send_download
from crmpm.spreadsheet import csv_cell

# A CSV export reads at most this many rows; narrow the filters for more.
EXPORT_LIMIT = 100_000


class ListArgs(PageArgs):
    """Pagination plus the output format of a list."""

    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]), metadata={
        "description": "csv: every matching row (up to 100,000) as a text/csv attachment, not one page; "
                       "so does the header Accept: text/csv."})


def wants_csv(args: dict) -> bool:
    """Whether the caller asked for CSV, by ``format=csv`` or by preferring text/csv."""
    if args.get("format") == "csv":
        return True
    accept = request.accept_mimetypes
    return bool(accept) and accept.best_match(["application/json", "text/csv"]) == "text/csv" \
        and accept["text/csv"] > accept["application/json"]


def csv_response(rows, schema: Schema, *, filename: str) -> Response:
    """Stream ``rows`` (objects) serialized by ``schema`` as a CSV attachment."""
    columns = list(schema.fields)
    # Built whole (rows are capped): the session closes when the request ends, before a stream would finish.
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        data = schema.dump(row)
        writer.writerow([csv_cell(data.get(column)) for column in columns])
    return send_download(buffer.getvalue(), filename=f"{filename}.csv", mimetype="text/csv")


def page_or_csv(query, args: dict, item_schema: type[Schema], *, filename: str):
    """One page of ``query`` (JSON), or every row of it as CSV when asked."""
    if wants_csv(args):
        rows = session().scalars(query.limit(EXPORT_LIMIT)).all()
        return csv_response(rows, item_schema(), filename=filename)
    return paginate(query, args)


def list_or_csv(items: list, item_schema: type[Schema], args: dict, *, filename: str, key: str = "items"):
    """A computed list as ``{key: items}`` JSON, or as CSV when asked."""
    if wants_csv(args):
        return csv_response(items, item_schema(), filename=filename)
    return {key: items}

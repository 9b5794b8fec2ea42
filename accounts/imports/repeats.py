"""Rows that repeat a record of the same file: the same record once, or an error naming both lines.

Exports write one record on several rows: amoCRM a deal once per product line,
a hand-kept spreadsheet a company twice. A row whose external id an earlier row
of the file has is

* a **repeat** when every other value is the same: counted once, as the same
  record (``ImportReport.repeated``), neither imported again nor an error;
* for deals, a **product line** of the deal when only the line columns
  (``line_product``, ``line_quantity``, ``line_price``) differ: the deal gets
  each distinct line, in file order (a row giving the same line twice is a repeat);
* an **error** when any other value differs, naming the column and both lines.

The first row of a record carries it; its fate (imported, refused) is the
record's, and a repeat of a refused record is not counted again as an error.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounts.csvio import Record
from accounts.imports.job import ImportJob

# The fields of one product line on a deal row.
LINE_FIELDS = ("line_product", "line_quantity", "line_price")


def fold_repeats(job: ImportJob, records: list[Record]) -> list[Record]:
    """The records with each repeated external id folded into its first row (see the module docstring).

    A deals file with line columns gets ``lines`` on each record: its product lines as
    ``make_lines`` takes them (``product``, ``quantity``, ``unit_price``).
    """
    line_fields = LINE_FIELDS if job.kind == "deals" and any(name in job.mapped for name in LINE_FIELDS) else ()
    first_of: dict[str, Record] = {}
    folded: list[Record] = []
    for record in records:
        line = _line(job, record) if line_fields else None
        if line is False:
            continue  # a bad product line: reported on its row
        values = {name: value for name, value in record.fields.items() if name not in line_fields}
        first = first_of.get(record.external_id) if record.external_id is not None else None
        if first is None:
            fields = {**values, "lines": [line] if line else []} if line_fields else record.fields
            kept = Record(line=record.line, external_id=record.external_id, fields=fields)
            if record.external_id is not None:
                first_of[record.external_id] = kept
            folded.append(kept)
            continue
        differing = [name for name in values if values[name] != first.fields.get(name)]
        if differing:
            columns = ", ".join(repr(job.column_of.get(name, name)) for name in differing)
            job.fail(record, differing[0], f"external id {record.external_id!r} is also on line {first.line}, "
                                           f"with other values ({columns} differ)", 422)
            continue
        if line and line not in first.fields["lines"]:
            first.fields["lines"].append(line)
        job.report.repeated += 1
    return folded


def _line(job: ImportJob, record: Record) -> dict[str, Any] | None | bool:
    """The row's product line; None without one, False (reported) when it is incomplete."""
    fields = record.fields
    product, quantity, price = (fields.get(name) for name in LINE_FIELDS)
    if product is None and quantity is None and price is None:
        return None
    if product is None:
        job.fail(record, "line_product", "a product line needs its product", 422)
        return False
    if price is None:
        job.fail(record, "line_price", f"product line {product!r} needs its price", 422)
        return False
    quantity = Decimal(1) if quantity is None else quantity
    if quantity <= 0:
        job.fail(record, "line_quantity", "a product line's quantity must be positive", 422)
        return False
    return {"product": product, "quantity": quantity, "unit_price": price}

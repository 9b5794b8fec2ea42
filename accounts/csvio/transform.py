"""Turn CSV rows plus a mapping into typed records and a precise list of row errors.

Every data row ends up in exactly one place: ``records`` (all its cells parsed),
``errors`` (one RowError per problem; a row with several bad cells gets several),
or ``blank_lines`` (every cell empty). Nothing is dropped silently and nothing
here touches a database: references (owner, account, ...) stay cleaned strings.

``iter_transform`` streams, for inserting in chunks; ``transform`` collects an
``ImportBatch``; ``import_file`` opens the file, checks the header and transforms.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from accounts.csvio.errors import CsvImportError, MappingError, ValueParseError
from accounts.csvio.mapping import (
    FieldType,
    ImportMapping,
    check_header,
    converter,
    get_kind,
    json_to_text,
    load_mapping,
)
from accounts.csvio.parsing import Money
from accounts.csvio.reader import CsvRow, open_csv

__all__ = ["DEFAULT_TZ", "ImportBatch", "Record", "RowError", "import_file", "iter_transform", "transform"]

DEFAULT_TZ = "Europe/Moscow"


@dataclass(frozen=True, slots=True)
class Record:
    """One clean row: its file line, its external id (if mapped) and its typed fields.

    ``fields`` holds every mapped or defaulted field except ``external_id``; an empty
    cell is ``None``. Money fields are ``Decimal``, phones ``Phone``, datetimes aware.
    """

    line: int
    external_id: str | None
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row: ``column`` is the CSV column name (None for the whole row)."""

    line: int
    column: str | None
    field: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column!r}" if self.column else "")
        shown = f" {self.value!r}" if self.value else ""
        return f"{where}:{shown} {self.reason}"


@dataclass(slots=True)
class ImportBatch:
    """The outcome of transforming one file."""

    kind: str
    records: list[Record] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    blank_lines: list[int] = field(default_factory=list)

    @property
    def error_lines(self) -> list[int]:
        """The distinct lines that have errors, in file order."""
        return sorted({error.line for error in self.errors})

    @property
    def rows_seen(self) -> int:
        """Data rows read: records + rows with errors + blank rows."""
        return len(self.records) + len(self.error_lines) + len(self.blank_lines)


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    index: int
    field: str
    parse: Any
    values: dict[str, Any] | None
    folded: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class _Blank:
    line: int


def _zone(tz: str | tzinfo) -> tzinfo:
    if not isinstance(tz, str):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise CsvImportError(f"unknown time zone {tz!r}") from None


class _Plan:
    """Everything decided once per file, so the per-row loop only looks things up."""

    def __init__(self, *, kind: str, mapping: ImportMapping, header: Sequence[str], tz: tzinfo) -> None:
        spec = get_kind(kind=kind)
        if mapping.kind != kind:
            raise MappingError(f"the mapping was loaded for {mapping.kind}, not {kind}")
        self.spec = spec
        self.width = len(header)
        indexes = check_header(mapping=mapping, header=header)
        self.index_of = indexes
        parsers = {
            name: converter(
                field_spec, tz=tz, date_order=mapping.date_order, phone_country_code=mapping.phone_country_code
            )
            for name, field_spec in spec.fields.items()
        }
        self.columns: list[_Column] = []
        for column, field_name in mapping.columns.items():
            table = mapping.values.get(field_name)
            self.columns.append(
                _Column(
                    name=column,
                    index=indexes[column],
                    field=field_name,
                    parse=parsers[field_name],
                    values=dict(table) if table is not None else None,
                    # Exports capitalise inconsistently ("Closed won"); an exact match wins first.
                    folded={key.strip().casefold(): v for key, v in table.items()} if table is not None else None,
                )
            )
        self.column_of = {c.field: c.name for c in self.columns}
        # Defaults were validated with the mapping; parse them once here with the real zone.
        self.defaults = {name: parsers[name](json_to_text(value)) for name, value in mapping.defaults.items()}
        self.money_fields = [n for n, f in spec.fields.items() if f.type is FieldType.MONEY]
        self.has_currency = "currency" in spec.fields
        self.currency_from_mapping = "currency" in mapping.columns or "currency" in mapping.defaults
        self.minimums = {n: f.minimum for n, f in spec.fields.items() if f.type is FieldType.MONEY and f.minimum is not None}
        self.seen_ids: dict[str, int] = {}

    def row(self, row: CsvRow) -> Record | list[RowError] | _Blank:
        """Transform one row into a Record, its errors, or a blank marker."""
        values = row.values
        line = row.line
        if len(values) != self.width:
            if len(values) > self.width and not any(v.strip() for v in values[self.width :]):
                values = values[: self.width]  # trailing empty cells, e.g. a delimiter at line end
            else:
                reason = f"the row has {len(values)} fields but the header has {self.width}"
                if row.end_line != row.line:
                    reason += f"; it spans lines {row.line}-{row.end_line}, so a quote is probably unbalanced"
                return [RowError(line=line, column=None, field=None, value=None, reason=reason)]
        if not any(v.strip() for v in values):
            return _Blank(line)

        errors: list[RowError] = []
        fields: dict[str, Any] = {}
        for column in self.columns:
            raw = values[column.index]
            text = raw.strip()
            try:
                if column.values is not None:
                    if text in column.values:
                        stored = column.values[text]
                    elif text.casefold() in column.folded:  # type: ignore[operator]
                        stored = column.folded[text.casefold()]  # type: ignore[index]
                    elif not text:
                        stored = None
                    elif "*" in column.values:
                        fallback = column.values["*"]
                        stored = text if fallback == "*" else fallback
                    else:
                        raise ValueParseError(f"not listed in the mapping's values for {column.field!r}")
                    value = None if stored is None else column.parse(json_to_text(stored))
                else:
                    value = column.parse(text) if text else None
            except ValueParseError as exc:
                errors.append(RowError(line=line, column=column.name, field=column.field, value=raw, reason=str(exc)))
                continue
            fields[column.field] = value

        for name, value in self.defaults.items():
            if fields.get(name) is None:
                fields[name] = value

        for name in self.money_fields:
            money = fields.get(name)
            if not isinstance(money, Money):
                continue
            fields[name] = money.amount
            column = self.column_of.get(name)
            raw = values[self.index_of[column]] if column else None
            minimum = self.minimums.get(name)
            if minimum is not None and money.amount < minimum:
                errors.append(RowError(line=line, column=column, field=name, value=raw, reason=f"{name} cannot be negative"))
            if money.currency and self.has_currency:
                current = fields.get("currency")
                if current is None:
                    fields["currency"] = money.currency  # "$22,700.00" says USD when the mapping did not
                elif current != money.currency:
                    errors.append(
                        RowError(
                            line=line,
                            column=column,
                            field=name,
                            value=raw,
                            reason=f"{name} is in {money.currency} but the currency is {current}",
                        )
                    )

        if "name" in self.spec.fields and "first_name" in self.spec.fields and fields.get("name") is None:
            parts = [fields.get("first_name"), fields.get("last_name")]
            if any(parts):
                fields["name"] = " ".join(p for p in parts if p)

        failed = {e.field for e in errors}
        for group in self.spec.required:
            if all(fields.get(name) is None for name in group) and not failed.intersection(group):
                column = next((self.column_of[n] for n in group if n in self.column_of), None)
                raw = values[self.index_of[column]] if column else None
                wanted = " or ".join(group)
                errors.append(RowError(line=line, column=column, field=group[0], value=raw, reason=f"{wanted} is required"))

        external_id = fields.pop("external_id", None)
        if external_id is not None:
            first = self.seen_ids.setdefault(external_id, line)
            if first != line:
                column = self.column_of.get("external_id")
                errors.append(
                    RowError(
                        line=line,
                        column=column,
                        field="external_id",
                        value=external_id,
                        reason=f"external id already used on line {first}",
                    )
                )
        if errors:
            return errors
        return Record(line=line, external_id=external_id, fields=fields)


def iter_transform(
    *,
    kind: str,
    rows: Iterable[CsvRow],
    mapping: ImportMapping,
    header: Sequence[str],
    tz: str | tzinfo = DEFAULT_TZ,
) -> Iterator[Record | RowError | int]:
    """Stream the outcome row by row: a Record, its RowErrors, or the line number of a blank row."""
    plan = _Plan(kind=kind, mapping=mapping, header=header, tz=_zone(tz))
    for row in rows:
        outcome = plan.row(row)
        if isinstance(outcome, Record):
            yield outcome
        elif isinstance(outcome, _Blank):
            yield outcome.line
        else:
            yield from outcome


def transform(
    *,
    kind: str,
    rows: Iterable[CsvRow],
    mapping: ImportMapping,
    header: Sequence[str] | None = None,
    tz: str | tzinfo = DEFAULT_TZ,
) -> ImportBatch:
    """Transform all rows into an ImportBatch; ``header`` defaults to ``rows.header`` (a CsvTable)."""
    if header is None:
        header = getattr(rows, "header", None)
        if header is None:
            raise TypeError("transform needs header= unless rows is a CsvTable")
    batch = ImportBatch(kind=kind)
    plan = _Plan(kind=kind, mapping=mapping, header=header, tz=_zone(tz))
    records, errors, blanks = batch.records, batch.errors, batch.blank_lines
    for row in rows:
        outcome = plan.row(row)
        if isinstance(outcome, Record):
            records.append(outcome)
        elif isinstance(outcome, _Blank):
            blanks.append(outcome.line)
        else:
            errors.extend(outcome)
    return batch


def import_file(
    *, kind: str, path: str | Path, mapping: ImportMapping | str | Path, tz: str | tzinfo = DEFAULT_TZ
) -> ImportBatch:
    """Read ``path`` with ``mapping`` (an ImportMapping or a JSON file) into an ImportBatch."""
    if not isinstance(mapping, ImportMapping):
        mapping = load_mapping(path=mapping, kind=kind)
    get_kind(kind=kind)
    with open_csv(path, encoding=mapping.encoding, delimiter=mapping.delimiter) as table:
        return transform(kind=kind, rows=table, mapping=mapping, header=table.header, tz=tz)

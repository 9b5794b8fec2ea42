"""Turn CSV rows plus a mapping into typed records and a precise list of row errors.

Every data row ends up in exactly one place: ``records`` (all its cells parsed),
``errors`` (one RowError per problem; a row with several bad cells gets several),
or ``blank_lines`` (every cell empty). Nothing is dropped silently and nothing
here touches a database: references (owner, account, ...) stay cleaned strings.

``iter_transform`` streams, for inserting in chunks; ``transform`` collects an
``ImportBatch``; ``import_file`` opens the file, checks the header and transforms.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
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
from accounts.csvio.reader import CsvRow, open_csv

__all__ = ["DEFAULT_TZ", "BlankRow", "ImportBatch", "Record", "RowError", "import_file", "iter_transform", "transform",
           "zone_of"]

DEFAULT_TZ = "Europe/Moscow"


@dataclass(frozen=True, slots=True)
class Record:
    """One clean row: its file line, its external id (if mapped) and its typed fields.

    ``fields`` holds every mapped or defaulted field except ``external_id``; an empty
    cell is ``None``. Money fields are ``Decimal``, phones ``Phone``, datetimes aware,
    ``expected_close`` a ``date``. For contacts, ``name`` is composed from
    ``first_name`` and ``last_name`` when no column gives it.
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
    """The outcome of transforming one file.

    ``pipeline`` comes from the mapping (deals and leads); ``encoding`` and
    ``delimiter`` say how the file was read, for the dry-run report.
    """

    kind: str
    records: list[Record] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    blank_lines: list[int] = field(default_factory=list)
    pipeline: str | None = None
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def error_lines(self) -> list[int]:
        """The distinct lines that have errors, in file order."""
        return sorted({error.line for error in self.errors})

    @property
    def rows_seen(self) -> int:
        """Data rows read: records + rows with errors + blank rows."""
        return len(self.records) + len(self.error_lines) + len(self.blank_lines)

    def summary(self, *, limit: int = 20) -> str:
        """A plain-text report for ``--dry-run``: counts, errors per column, the first ``limit`` errors."""
        lines = [
            f"{self.kind}: {self.rows_seen} rows: {len(self.records)} ready, "
            f"{len(self.error_lines)} with errors, {len(self.blank_lines)} blank"
        ]
        if self.encoding:
            lines.append(f"  read as {self.encoding}, delimiter {self.delimiter!r}")
        per_column = Counter(e.column or "(whole row)" for e in self.errors)
        lines += [f"  {count} errors in {column!r}" for column, count in per_column.most_common()]
        lines += [f"  {error}" for error in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(f"  ... and {len(self.errors) - limit} more")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class BlankRow:
    """A row whose cells are all empty: nothing to import, reported so that nothing vanishes."""

    line: int


def zone_of(tz: str | tzinfo) -> tzinfo:
    """The time zone named ``tz`` (IANA name); CsvImportError for an unknown one."""
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
        self.index_of = check_header(mapping=mapping, header=header)
        parsers = {
            name: converter(
                field_spec, tz=tz, date_order=mapping.date_order, phone_country_code=mapping.phone_country_code
            )
            for name, field_spec in spec.fields.items()
        }
        # Plain columns and columns with a values table are separate loops: the plain
        # one is the hot path of a 100,000-row import.
        self.plain: list[tuple[str, int, str, Callable[[str], Any]]] = []
        self.tabled: list[tuple[str, int, str, Callable[[str], Any], dict[str, Any], dict[str, Any]]] = []
        for column, field_name in mapping.field_columns:
            index, parse = self.index_of[column], parsers[field_name]
            table = mapping.values.get(field_name)
            if table is None:
                self.plain.append((column, index, field_name, parse))
            else:
                # Exports capitalise inconsistently ("Closed won"); an exact match wins first.
                folded = {key.strip().casefold(): value for key, value in table.items()}
                self.tabled.append((column, index, field_name, parse, dict(table), folded))
        self.column_of = {field_name: column for column, field_name in mapping.field_columns}
        # Defaults were validated with the mapping; parse them once here with the real zone.
        self.defaults = [(name, parsers[name](json_to_text(value))) for name, value in mapping.defaults.items()]
        self.money = [
            (name, field_spec.minimum)
            for name, field_spec in spec.fields.items()
            if field_spec.type is FieldType.MONEY and (name in self.column_of or name in mapping.defaults)
        ]
        self.has_currency = "currency" in spec.fields
        self.composes_name = "first_name" in spec.fields and "name" in spec.fields
        self.required = [(group, frozenset(group)) for group in spec.required]
        # Only the first line of each value is kept: a few MB for 100,000 rows.
        self.unique: dict[str, dict[Any, int]] = {
            name: {} for name, field_spec in spec.fields.items() if field_spec.unique and name in self.column_of
        }

    def _raw(self, values: Sequence[str], field_name: str) -> tuple[str | None, str | None]:
        column = self.column_of.get(field_name)
        return column, (values[self.index_of[column]] if column else None)

    def row(self, row: CsvRow) -> Record | list[RowError] | BlankRow:
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
        if not "".join(values).strip():
            return BlankRow(line)

        errors: list[RowError] = []
        fields: dict[str, Any] = {}
        for column, index, field_name, parse in self.plain:
            text = values[index].strip()
            if not text:
                fields[field_name] = None
                continue
            try:
                fields[field_name] = parse(text)
            except ValueParseError as exc:
                errors.append(
                    RowError(line=line, column=column, field=field_name, value=values[index], reason=str(exc))
                )

        for column, index, field_name, parse, table, folded in self.tabled:
            text = values[index].strip()
            try:
                if text in table:
                    stored = table[text]
                elif (key := text.casefold()) in folded:
                    stored = folded[key]
                elif not text:
                    stored = None
                elif "*" in table:
                    stored = text if table["*"] == "*" else table["*"]
                else:
                    raise ValueParseError(f"not listed in the mapping's values for {field_name!r}")
                fields[field_name] = None if stored is None else parse(json_to_text(stored))
            except ValueParseError as exc:
                errors.append(
                    RowError(line=line, column=column, field=field_name, value=values[index], reason=str(exc))
                )

        for name, value in self.defaults:
            if fields.get(name) is None:
                fields[name] = value

        for name, minimum in self.money:
            money = fields.get(name)
            if money is None:
                continue
            fields[name] = money.amount
            if minimum is not None and money.amount < minimum:
                where, raw = self._raw(values, name)
                errors.append(
                    RowError(line=line, column=where, field=name, value=raw, reason=f"{name} cannot be negative")
                )
            if money.currency and self.has_currency:
                current = fields.get("currency")
                if current is None:
                    fields["currency"] = money.currency  # "$22,700.00" says USD when the mapping did not
                elif current != money.currency:
                    where, raw = self._raw(values, name)
                    reason = f"{name} is in {money.currency} but the currency is {current}"
                    errors.append(RowError(line=line, column=where, field=name, value=raw, reason=reason))

        if self.composes_name and fields.get("name") is None:
            parts = [part for part in (fields.get("first_name"), fields.get("last_name")) if part]
            if parts:
                fields["name"] = " ".join(parts)

        for group, members in self.required:
            if fields.get(group[0]) is None and all(fields.get(name) is None for name in group):
                if errors and any(e.field in members for e in errors):
                    continue  # already reported as unparseable, not as missing
                where = next((self.column_of[n] for n in group if n in self.column_of), None)
                raw = values[self.index_of[where]] if where else None
                reason = f"{' or '.join(group)} is required"
                errors.append(RowError(line=line, column=where, field=group[0], value=raw, reason=reason))

        for name, seen in self.unique.items():
            value = fields.get(name)
            if value is not None and (first := seen.setdefault(value, line)) != line:
                reason = f"{name.replace('_', ' ')} already used on line {first}"
                errors.append(RowError(line=line, column=self.column_of[name], field=name, value=value, reason=reason))

        external_id = fields.pop("external_id", None)
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
) -> Iterator[Record | RowError | BlankRow]:
    """Stream the outcome row by row: a Record, its RowErrors, or a BlankRow."""
    plan = _Plan(kind=kind, mapping=mapping, header=header, tz=zone_of(tz))
    for row in rows:
        outcome = plan.row(row)
        if isinstance(outcome, Record | BlankRow):
            yield outcome
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
    batch = ImportBatch(
        kind=kind,
        pipeline=mapping.pipeline,
        encoding=getattr(rows, "encoding", None),
        delimiter=getattr(rows, "delimiter", None),
    )
    plan = _Plan(kind=kind, mapping=mapping, header=header, tz=zone_of(tz))
    records, errors, blanks = batch.records, batch.errors, batch.blank_lines
    for row in rows:
        outcome = plan.row(row)
        if isinstance(outcome, Record):
            records.append(outcome)
        elif isinstance(outcome, BlankRow):
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
    with open_csv(path, encoding=mapping.encoding, delimiter=mapping.delimiter) as table:
        return transform(kind=kind, rows=table, mapping=mapping, header=table.header, tz=tz)

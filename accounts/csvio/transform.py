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

from accounts.csvio.errors import CsvImportError, MappingError, RowWarning, ValueParseError, described
from accounts.csvio.mapping import (
    _NOT_TYPED,
    FieldType,
    ImportMapping,
    check_header,
    converter,
    get_kind,
    json_to_text,
    load_mapping,
    typed_converter,
)
from accounts.csvio.parsing import Phone, TypedCell, Warned, split_values
from accounts.csvio.reader import CsvRow
from accounts.csvio.workbook import open_table

__all__ = ["DEFAULT_TZ", "BlankRow", "ImportBatch", "Record", "RowError", "RowWarning", "import_file",
           "iter_transform", "transform", "zone_of"]

DEFAULT_TZ = "Europe/Moscow"
# Amounts are stored to the cent (crmpm.database.MONEY_SCALE; this package stays free of the database).
MONEY_DECIMALS = 2


@dataclass(frozen=True, slots=True)
class Record:
    """One clean row: its file line, its external id (if mapped) and its typed fields.

    ``fields`` holds every mapped or defaulted field except ``external_id``; an empty
    cell is ``None``. Money fields are ``Decimal``, phones ``Phone``, datetimes aware,
    ``expected_close`` a ``date``. For contacts, ``name`` is composed from
    ``first_name`` and ``last_name`` when no column gives it.

    Phone and e-mail fields hold the first value of their cell. For contacts,
    ``fields["channels"]`` lists every phone and e-mail of the row's channel fields
    as ``(type, kind, value)`` (type ``phone`` or ``email``; a phone's value is its
    E.164 form; one that cannot be normalized is left out, and is a warning).
    ``warnings`` are the row's values not kept exactly as written.
    """

    line: int
    external_id: str | None
    fields: dict[str, Any]
    warnings: tuple[RowWarning, ...] = ()


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row: ``column`` is the CSV column name (None for the whole row)."""

    line: int
    column: str | None
    field: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        return described(self)


@dataclass(slots=True)
class ImportBatch:
    """The outcome of transforming one file.

    ``pipeline`` comes from the mapping (deals and leads); ``encoding`` and
    ``delimiter`` say how the file was read, for the dry-run report.
    """

    kind: str
    records: list[Record] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)  # of the records (rows with errors have none)
    blank_lines: list[int] = field(default_factory=list)
    pipeline: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    notes: list[str] = field(default_factory=list)  # about the file as a whole (a repeated column read as its first)

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
        lines += [f"  {note}" for note in self.notes]
        per_column = Counter(e.column or "(whole row)" for e in self.errors)
        lines += [f"  {count} errors in {column!r}" for column, count in per_column.most_common()]
        lines += [f"  {error}" for error in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(f"  ... and {len(self.errors) - limit} more")
        if self.warnings:
            lines.append(f"  {len(self.warnings)} warnings (the rows import; these values are not kept as written):")
            lines += [f"  warning: {warning}" for warning in self.warnings[:limit]]
            if len(self.warnings) > limit:
                lines.append(f"  ... and {len(self.warnings) - limit} more")
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


def _unwarned(value: Any) -> Any:
    return value.value if value.__class__ is Warned else value


class _Plan:
    """Everything decided once per file, so the per-row loop only looks things up."""

    def __init__(self, *, kind: str, mapping: ImportMapping, header: Sequence[str], tz: tzinfo) -> None:
        spec = get_kind(kind=kind)
        if mapping.kind != kind:
            raise MappingError(f"the mapping was loaded for {mapping.kind}, not {kind}")
        self.spec = spec
        self.width = len(header)
        self.index_of = check_header(mapping=mapping, header=header)
        # A repeated column named without its number reads the first: said once, so the choice is never silent.
        stripped = [name.strip() for name in header]
        self.notes = [
            f"the header has {stripped.count(column)} columns {column!r}: the mapping's {column!r} reads the first "
            f"(name another as {column + '#2'!r})"
            for column in mapping.columns
            if stripped.count(column) > 1
        ]
        parsers = {
            name: converter(
                field_spec, tz=tz, date_order=mapping.date_order, phone_country_code=mapping.phone_country_code
            )
            for name, field_spec in spec.fields.items()
        }
        typed = {name: typed_converter(field_spec, tz=tz) for name, field_spec in spec.fields.items()}
        # Plain columns and columns with a values table are separate loops: the plain
        # one is the hot path of a 100,000-row import. Phones and e-mails (but a user's
        # login e-mail, unique) have their own: a cell may hold several.
        self.plain: list[tuple[str, int, str, Callable[[str], Any], Callable[[object], Any] | None]] = []
        self.multi: list[tuple[str, int, str, Callable[[str], Any], bool]] = []
        self.tabled: list[tuple[str, int, str, Callable[[str], Any], dict[str, Any], dict[str, Any]]] = []
        for column, field_name in mapping.field_columns:
            index, parse = self.index_of[column], parsers[field_name]
            field_spec = spec.fields[field_name]
            table = mapping.values.get(field_name)
            if table is None and field_spec.type in (FieldType.PHONE, FieldType.EMAIL) and not field_spec.unique:
                self.multi.append((column, index, field_name, parse, field_spec.type is FieldType.EMAIL))
            elif table is None:
                self.plain.append((column, index, field_name, parse, typed[field_name]))
            else:
                # Exports capitalise inconsistently ("Closed won"); an exact match wins first.
                folded = {key.strip().casefold(): value for key, value in table.items()}
                self.tabled.append((column, index, field_name, parse, dict(table), folded))
        # The KIND's phone and e-mail fields kept as channels (contacts), in field order: the first phone
        # field's first number is the contact's main phone.
        filled = {name for _column, name in mapping.field_columns} | set(mapping.defaults)
        self.channels = [
            (field_spec.name, "email" if field_spec.type is FieldType.EMAIL else "phone", field_spec.channel)
            for field_spec in spec.channel_fields
            if field_spec.name in filled
        ]
        self.column_of = {field_name: column for column, field_name in mapping.field_columns}
        # Defaults were validated with the mapping; parse them once here with the real zone.
        self.defaults = [
            (name, _unwarned(parsers[name](json_to_text(value)))) for name, value in mapping.defaults.items()
        ]
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
        warnings: list[RowWarning] = []
        fields: dict[str, Any] = {}
        for column, index, field_name, parse, typed in self.plain:
            cell = values[index]
            try:
                if typed is not None and cell.__class__ is TypedCell:
                    value = typed(cell.value)  # a spreadsheet's number, date or boolean as typed
                    if value is not _NOT_TYPED:
                        if value.__class__ is Warned:
                            warnings.append(RowWarning(line, column, field_name, str(cell), value.reason))
                            value = value.value
                        fields[field_name] = value
                        continue
                text = cell.strip()
                if not text:
                    fields[field_name] = None
                    continue
                value = parse(text)
                if value.__class__ is Warned:
                    warnings.append(RowWarning(line, column, field_name, str(cell), value.reason))
                    value = value.value
                fields[field_name] = value
            except ValueParseError as exc:
                errors.append(
                    RowError(line=line, column=column, field=field_name, value=values[index], reason=str(exc))
                )

        several: dict[str, list[Any]] = {}
        for column, index, field_name, parse, emails in self.multi:
            text = values[index].strip()
            parts = split_values(text, emails=emails) if text else []
            kept: list[Any] = []
            for part in parts:
                shown = part if len(parts) > 1 else values[index]
                try:
                    value = parse(part)
                except ValueParseError as exc:
                    errors.append(RowError(line=line, column=column, field=field_name, value=shown, reason=str(exc)))
                    continue
                if value.__class__ is Warned:
                    warnings.append(RowWarning(line, column, field_name, shown, value.reason))
                    value = value.value
                kept.append(value)
            fields[field_name] = kept[0] if kept else None
            several[field_name] = kept
            if len(kept) > 1 and not self.channels:
                # A lead (or an interaction...) keeps one phone and one e-mail.
                for extra in kept[1:]:
                    shown = extra.raw if isinstance(extra, Phone) else extra
                    warnings.append(RowWarning(line, column, field_name, shown,
                                               f"{self.spec.kind} keep one {field_name}: only the first of the "
                                               f"cell is stored, not this one"))

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
                value = None if stored is None else parse(json_to_text(stored))
                if value.__class__ is Warned:
                    warnings.append(RowWarning(line, column, field_name, values[index], value.reason))
                    value = value.value
                fields[field_name] = value
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
            if money.amount.as_tuple().exponent < -MONEY_DECIMALS:
                where, raw = self._raw(values, name)
                warnings.append(RowWarning(line, where, name, None if raw is None else str(raw),
                                           f"has more than {MONEY_DECIMALS} decimals: amounts are kept to the cent"))
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

        if self.channels:
            channels = []
            for name, channel_type, kind in self.channels:
                found = several.get(name) or ([fields[name]] if fields.get(name) is not None else [])
                for value in found:
                    if isinstance(value, Phone):
                        value = value.e164  # one that cannot be normalized is a warning already
                    if value is not None:
                        channels.append((channel_type, kind, value))
            fields["channels"] = tuple(channels)

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
        return Record(line=line, external_id=external_id, fields=fields, warnings=tuple(warnings))


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
    batch.notes = list(plan.notes)
    records, errors, blanks = batch.records, batch.errors, batch.blank_lines
    for row in rows:
        outcome = plan.row(row)
        if isinstance(outcome, Record):
            records.append(outcome)
            if outcome.warnings:
                batch.warnings.extend(outcome.warnings)
        elif isinstance(outcome, BlankRow):
            blanks.append(outcome.line)
        else:
            errors.extend(outcome)
    return batch


def import_file(
    *,
    kind: str,
    path: str | Path,
    mapping: ImportMapping | str | Path,
    tz: str | tzinfo = DEFAULT_TZ,
    sheet: str | None = None,
) -> ImportBatch:
    """Read ``path`` (CSV or .xlsx) with ``mapping`` (an ImportMapping or a JSON file) into an ImportBatch.

    ``sheet`` names the workbook's sheet to read (else the mapping's ``sheet``, else the first).
    """
    if not isinstance(mapping, ImportMapping):
        mapping = load_mapping(path=mapping, kind=kind)
    with open_table(path, encoding=mapping.encoding, delimiter=mapping.delimiter,
                    sheet=sheet or mapping.sheet) as table:
        return transform(kind=kind, rows=table, mapping=mapping, header=table.header, tz=tz)

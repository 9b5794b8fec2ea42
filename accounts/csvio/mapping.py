"""Field specs per KIND and the mapping file that ties CSV columns to them.

A mapping file is JSON::

    {
      "columns":  {"Potential Name": "title", "Amount": "amount", "LEADID": ["external_id", "lead"], ...},
      "values":   {"stage": {"Closed Won": "won", ...}},
      "defaults": {"currency": "RUB"},
      "pipeline": "sales",
      "date_order": "DMY",            # optional, for 05/04/2021; default DMY
      "phone_country_code": "7",       # optional, for numbers without +; default 7
      "encoding": "cp1251",           # optional, else detected
      "delimiter": ";",               # optional, else sniffed
      "sheet": "Сделки",              # optional, for .xlsx: the sheet to read; default the first
      "owners": {"Иван Петров": "ivan@firm.ru"},  # optional: owner names in the file -> users
      "description": "free text"      # optional, ignored
    }

Repeated headers: a column the header has more than once (Bitrix24's UI export has
``ID`` three times) is named ``"ID#2"`` for its second occurrence, ``"ID#3"`` for
the third; ``"ID"`` alone, like ``"ID#1"``, is the first (the report's notes say so). A header spelled with a
``#`` of its own ("Заказ #2") is matched as written before this reading applies.
Repeated columns the mapping does not name do not matter.

Phones and e-mails (contacts): a cell may hold several, separated by commas,
semicolons or line ends; each becomes one of the contact's phones or e-mails, of
the kind its field names: ``phone``/``phone_work`` and ``email``/``email_work``
are work ones, ``mobile``/``phone_mobile`` mobile, ``phone_home``/``email_home``
home, ``phone_other``/``email_other`` other (amoCRM's "Рабочий телефон",
"Мобильный телефон", "Рабочий email" map to ``phone_work``, ``phone_mobile``,
``email_work``). Leads keep one phone: the others of a cell are warnings.

Currencies (a ``currency`` column, or next to an amount) are read by ISO code,
symbol or name in Russian or English: "RUB", "₽", "руб.", "Российский рубль",
"доллар США", "$", "евро", "€"... An INN (``tax_id``) that lost its leading zero
in a spreadsheet is given it back when the check digits prove it (a warning).

Warnings: a value kept in another form than written (a phone that cannot be
normalized, an extension dropped, an INN given back its leading zero, a second
phone of a lead) is a ``RowWarning`` with line, column and reason; the row still imports.

``owners`` says which crmpm user each owner named in the file is (an e-mail, or a
user's name); an empty value means "not filled in yet". Owners not in it are
matched by e-mail, full name, or a surname or first name only one user has
(``accounts.imports.owners``).

``values`` translates CSV values before they are parsed (exact match first, then
ignoring case). A field with a ``values`` table accepts only the values listed
there, so a typo is a row error, not a new stage; the key ``"*"`` catches every
other value (``"*": "*"`` keeps it as written). A JSON ``null`` means "no value".
``defaults`` fill a field that is unmapped or empty in a row.

Dates: ``05/04/2021`` is read with ``date_order`` (default DMY, the Russian
convention); a value that can only be the other order (``04/15/2021`` under DMY)
is a row error, never a silent swap. ``dd.mm.yyyy`` is always day first; ISO and
``15 Apr, 2021`` are unambiguous. Datetimes without a zone get the installation
zone passed to the transform (default Europe/Moscow).
"""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from accounts.csvio import parsing
from accounts.csvio.errors import MappingError, ValueParseError
from accounts.csvio.parsing import DATE_ORDERS, DEFAULT_DATE_ORDER, DEFAULT_PHONE_COUNTRY_CODE
from accounts.csvio.reader import DELIMITERS

__all__ = [
    "FieldSpec",
    "FieldType",
    "ImportMapping",
    "KINDS",
    "KindSpec",
    "check_header",
    "check_owners",
    "converter",
    "get_kind",
    "load_mapping",
    "mapping_sets",
    "resolve_mapping",
    "parse_mapping",
    "read_mapping_json",
    "saved_mapping_data",
    "saved_mappings",
]


class FieldType(StrEnum):
    """How a cell is parsed; see ``accounts.csvio.parsing``."""

    TEXT = "text"  # free text, stripped
    NAME = "name"  # a name or a reference by name/external id: whitespace collapsed
    PERSON = "person"  # a user reference: an email or a name
    CODE = "code"  # an identifier: inner spaces dropped
    TAX_ID = "tax_id"  # an INN (check digits verified, a lost leading zero restored) or a foreign tax id
    EMAIL = "email"
    PHONE = "phone"  # Phone(e164, raw)
    MONEY = "money"  # Decimal; a currency symbol fills the kind's currency field
    CURRENCY = "currency"  # ISO 4217 code
    INT = "int"
    YEAR = "year"
    DATE = "date"
    DATETIME = "datetime"  # always zone-aware
    BOOL = "bool"
    PERCENT = "percent"  # Decimal in percent units, 0..100
    DECIMAL = "decimal"  # a plain number, Decimal
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One importable field of a KIND."""

    name: str
    type: FieldType
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    unique: bool = False  # a second row with the same value in one file is a row error
    # For phones and e-mails: the channel kind (work, mobile, home, other) the values are stored with, when the
    # KIND keeps several (contacts); a cell may then hold several values.
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class KindSpec:
    """The fields of a KIND and its requirements (each group needs at least one field set)."""

    kind: str
    fields: Mapping[str, FieldSpec]
    required: tuple[tuple[str, ...], ...]
    has_pipeline: bool = False

    @property
    def channel_fields(self) -> tuple[FieldSpec, ...]:
        """The phone and e-mail fields stored as channels (contacts), in field order."""
        return tuple(spec for spec in self.fields.values() if spec.channel is not None)


def _kind(
    kind: str, specs: Sequence[FieldSpec], *, required: Sequence[Sequence[str]], has_pipeline: bool = False
) -> KindSpec:
    fields = {spec.name: spec for spec in specs}
    assert all(name in fields for group in required for name in group)
    return KindSpec(
        kind=kind,
        fields=MappingProxyType(fields),
        required=tuple(tuple(group) for group in required),
        has_pipeline=has_pipeline,
    )


T = FieldType
# Not unique here: a row repeating a record of the file (amoCRM writes a deal once per product line) is the
# import's to judge (accounts.imports.repeats), which sees the rows as the same record or names both lines.
_EXTERNAL_ID = FieldSpec("external_id", T.CODE)
INTERACTION_KINDS = ("call", "email", "meeting", "messenger", "web_form", "chat", "letter")
DIRECTIONS = ("inbound", "outbound")

KINDS: Mapping[str, KindSpec] = MappingProxyType(
    {
        spec.kind: spec
        for spec in (
            _kind(
                "users",
                [
                    _EXTERNAL_ID,
                    FieldSpec("name", T.NAME),
                    FieldSpec("email", T.EMAIL, unique=True),  # users log in and are referenced by email
                    FieldSpec("manager", T.PERSON),
                    FieldSpec("team", T.NAME),
                    FieldSpec("region", T.NAME),
                    FieldSpec("active", T.BOOL),
                ],
                required=[["name"], ["email"]],
            ),
            _kind(
                "accounts",
                [
                    _EXTERNAL_ID,
                    FieldSpec("name", T.NAME),
                    FieldSpec("tax_id", T.TAX_ID),
                    FieldSpec("sector", T.NAME),
                    FieldSpec("revenue", T.MONEY, minimum=0),
                    FieldSpec("employees", T.INT, minimum=0),
                    FieldSpec("founded", T.YEAR),
                    FieldSpec("region", T.NAME),
                    FieldSpec("parent", T.NAME),
                    FieldSpec("owner", T.PERSON),
                ],
                required=[["name"]],
            ),
            _kind(
                "contacts",
                [
                    _EXTERNAL_ID,
                    FieldSpec("name", T.NAME),
                    FieldSpec("first_name", T.NAME),
                    FieldSpec("last_name", T.NAME),
                    FieldSpec("account", T.NAME),
                    # Phones and e-mails: a cell may hold several ("a, b"); each is a channel of the
                    # contact of the kind its field says (``phone`` and ``email`` are work ones).
                    FieldSpec("email", T.EMAIL, channel="work"),
                    FieldSpec("email_work", T.EMAIL, channel="work"),
                    FieldSpec("email_home", T.EMAIL, channel="home"),
                    FieldSpec("email_other", T.EMAIL, channel="other"),
                    FieldSpec("phone", T.PHONE, channel="work"),
                    FieldSpec("phone_work", T.PHONE, channel="work"),
                    FieldSpec("mobile", T.PHONE, channel="mobile"),
                    FieldSpec("phone_mobile", T.PHONE, channel="mobile"),
                    FieldSpec("phone_home", T.PHONE, channel="home"),
                    FieldSpec("phone_other", T.PHONE, channel="other"),
                    FieldSpec("title", T.TEXT),
                    FieldSpec("owner", T.PERSON),
                    FieldSpec("source", T.NAME),
                    FieldSpec("created_at", T.DATETIME),
                    # Private clients, Russian names and a contact's deal (accounts.imports.contacts).
                    FieldSpec("patronymic", T.NAME),
                    FieldSpec("region", T.NAME),
                    FieldSpec("deal", T.NAME),
                ],
                required=[["name", "first_name", "last_name"]],
            ),
            _kind(
                "leads",
                [
                    _EXTERNAL_ID,
                    FieldSpec("name", T.NAME),
                    FieldSpec("company", T.NAME),
                    FieldSpec("email", T.EMAIL),
                    FieldSpec("phone", T.PHONE),
                    FieldSpec("source", T.NAME),
                    FieldSpec("channel", T.NAME),
                    FieldSpec("status", T.NAME),
                    FieldSpec("owner", T.PERSON),
                    FieldSpec("created_at", T.DATETIME),
                    FieldSpec("region", T.NAME),
                    FieldSpec("product", T.NAME),
                ],
                required=[["name", "company"]],
                has_pipeline=True,
            ),
            _kind(
                "deals",
                [
                    _EXTERNAL_ID,
                    FieldSpec("title", T.TEXT),
                    FieldSpec("account", T.NAME),
                    FieldSpec("owner", T.PERSON),
                    FieldSpec("stage", T.NAME),
                    FieldSpec("amount", T.MONEY, minimum=0),
                    FieldSpec("currency", T.CURRENCY),
                    FieldSpec("engaged_at", T.DATETIME),
                    FieldSpec("closed_at", T.DATETIME),
                    FieldSpec("expected_close", T.DATE),
                    FieldSpec("product", T.NAME),
                    FieldSpec("lead", T.NAME),  # the lead the deal came from; its account when none is named
                    FieldSpec("contact", T.NAME),
                    FieldSpec("lost_reason", T.TEXT),
                    # Several pipelines, contacts found by name, private clients, product lines
                    # (accounts.imports.deals).
                    FieldSpec("pipeline", T.NAME),
                    FieldSpec("contact_name", T.NAME),
                    FieldSpec("contact_phone", T.PHONE),
                    FieldSpec("contact_email", T.EMAIL),
                    FieldSpec("region", T.NAME),
                    FieldSpec("line_product", T.NAME),
                    FieldSpec("line_quantity", T.DECIMAL),
                    FieldSpec("line_price", T.MONEY, minimum=0),
                ],
                required=[["title"], ["stage"]],
                has_pipeline=True,
            ),
            _kind(
                "interactions",
                [
                    _EXTERNAL_ID,
                    FieldSpec("kind", T.CHOICE, choices=INTERACTION_KINDS),
                    FieldSpec("direction", T.CHOICE, choices=DIRECTIONS),
                    FieldSpec("occurred_at", T.DATETIME),
                    FieldSpec("duration_minutes", T.INT, minimum=0, maximum=24 * 60),
                    FieldSpec("account", T.NAME),
                    FieldSpec("contact", T.NAME),
                    FieldSpec("deal", T.NAME),
                    FieldSpec("lead", T.NAME),
                    FieldSpec("owner", T.PERSON),
                    FieldSpec("subject", T.TEXT),
                    FieldSpec("summary", T.TEXT),
                    FieldSpec("purpose", T.NAME),
                ],
                required=[["kind"], ["occurred_at"]],
            ),
        )
    }
)


def converter(spec: FieldSpec, *, tz: tzinfo, date_order: str, phone_country_code: str) -> Callable[[str], Any]:
    """Return the parser for one field: non-empty cell text in, typed value out (or ValueParseError)."""
    field_type = spec.type
    if field_type is T.TEXT:
        return parsing.clean_text
    if field_type is T.NAME:
        return parsing.clean_name
    if field_type is T.PERSON:
        return parsing.parse_person
    if field_type is T.CODE:
        return parsing.parse_code
    if field_type is T.TAX_ID:
        return parsing.parse_tax_id
    if field_type is T.EMAIL:
        return parsing.parse_email
    if field_type is T.PHONE:
        return lambda text: parsing.parse_phone(text, country_code=phone_country_code)
    if field_type is T.MONEY:
        return parsing.parse_money
    if field_type is T.CURRENCY:
        return parsing.parse_currency
    if field_type is T.INT:
        return lambda text: parsing.parse_int(text, minimum=spec.minimum, maximum=spec.maximum)
    if field_type is T.YEAR:
        return parsing.parse_year
    if field_type is T.DATE:
        return lambda text: parsing.parse_date(text, date_order=date_order)
    if field_type is T.DATETIME:
        return lambda text: parsing.parse_datetime(text, tz=tz, date_order=date_order)
    if field_type is T.BOOL:
        return parsing.parse_bool
    if field_type is T.PERCENT:
        return parsing.parse_percent
    if field_type is T.DECIMAL:
        return parsing.parse_decimal
    if field_type is T.CHOICE:
        return lambda text: parsing.parse_choice(text, choices=spec.choices)
    raise AssertionError(f"no parser for {field_type}")


_NOT_TYPED = object()


def typed_converter(spec: FieldSpec, *, tz: tzinfo) -> Callable[[object], Any] | None:
    """The parser of a spreadsheet's typed value (``TypedCell.value``) for ``spec``, or None when the field
    reads text. It returns ``_NOT_TYPED`` for a value of another type (a number in a date field), which the
    text parser then reads and refuses in its own words."""
    field_type = spec.type
    if field_type is T.MONEY:
        return lambda value: parsing.Money(value, None) if isinstance(value, Decimal) else _NOT_TYPED
    if field_type in (T.INT, T.YEAR):
        def whole(value: object) -> Any:
            if not isinstance(value, Decimal):
                return _NOT_TYPED
            if value != value.to_integral_value():
                raise ValueParseError(f"{value} is not a whole number")
            text = str(int(value))
            if field_type is T.YEAR:
                return parsing.parse_year(text)
            return parsing.parse_int(text, minimum=spec.minimum, maximum=spec.maximum)
        return whole
    if field_type is T.PERCENT:
        def percent(value: object) -> Any:
            if not isinstance(value, Decimal):
                return _NOT_TYPED
            if not Decimal(0) <= value <= Decimal(100):
                raise ValueParseError(f"{value} is not between 0 and 100 percent")
            return value
        return percent
    if field_type is T.DATE:
        def day(value: object) -> Any:
            if isinstance(value, datetime):
                return value.date()  # the day, as parse_date reads "2024-05-01 10:00"
            return value if isinstance(value, date) else _NOT_TYPED
        return day
    if field_type is T.DATETIME:
        def moment(value: object) -> Any:
            if isinstance(value, datetime):
                return value if value.tzinfo is not None else value.replace(tzinfo=tz)
            if isinstance(value, date):
                return datetime.combine(value, time(0), tzinfo=tz)
            return _NOT_TYPED
        return moment
    if field_type is T.BOOL:
        return lambda value: value if isinstance(value, bool) else _NOT_TYPED
    return None


def json_to_text(value: object) -> str:
    """Render a JSON scalar from a mapping as the cell text a parser expects."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_TOP_LEVEL_KEYS = frozenset(
    {
        "columns",
        "values",
        "defaults",
        "pipeline",
        "date_order",
        "phone_country_code",
        "encoding",
        "delimiter",
        "sheet",
        "description",
        "owners",
    }
)
_JSON_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class ImportMapping:
    """A validated mapping for one KIND; defaults stay raw until the transform parses them."""

    kind: str
    columns: Mapping[str, str | tuple[str, ...]]  # a tuple when one column feeds several fields
    values: Mapping[str, Mapping[str, Any]]
    defaults: Mapping[str, Any]
    pipeline: str | None = None
    date_order: str = DEFAULT_DATE_ORDER
    phone_country_code: str = DEFAULT_PHONE_COUNTRY_CODE
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    # Owners named in the file -> a user's e-mail or name (``"owners"``).
    owners: Mapping[str, str] = dataclasses.field(default_factory=lambda: MappingProxyType({}))

    @property
    def spec(self) -> KindSpec:
        """The field specs of this mapping's KIND."""
        return KINDS[self.kind]

    @property
    def field_columns(self) -> tuple[tuple[str, str], ...]:
        """Every (CSV column, field) pair, one per field."""
        return tuple(
            (column, field)
            for column, target in self.columns.items()
            for field in (target if isinstance(target, tuple) else (target,))
        )


def get_kind(*, kind: str) -> KindSpec:
    """Return the KindSpec of ``kind`` or raise MappingError naming the valid ones."""
    try:
        return KINDS[kind]
    except KeyError:
        raise MappingError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}") from None


def _hint(word: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown_field(field: str, spec: KindSpec, where: str) -> MappingError:
    return MappingError(
        f"{where}: {field!r} is not a field of {spec.kind}{_hint(field, list(spec.fields))}; "
        f"fields are {', '.join(spec.fields)}"
    )


def parse_mapping(*, data: object, kind: str, source: str = "mapping") -> ImportMapping:
    """Validate decoded mapping JSON for ``kind``; every problem raises MappingError naming it."""
    spec = get_kind(kind=kind)
    if not isinstance(data, dict):
        raise MappingError(f"{source}: the top level must be a JSON object")
    unknown = sorted(set(data) - _TOP_LEVEL_KEYS)
    if unknown:
        raise MappingError(f"{source}: unknown key {unknown[0]!r}{_hint(unknown[0], sorted(_TOP_LEVEL_KEYS))}")
    # The checks run in this order, so a mapping with several problems always reports the same first one.
    columns = data.get("columns")
    mapped = _check_columns(columns, spec, source)
    values = _check_values(data.get("values", {}), spec, mapped, source)
    date_order = data.get("date_order", DEFAULT_DATE_ORDER)
    if date_order not in DATE_ORDERS:
        raise MappingError(f'{source}: "date_order" must be one of {", ".join(DATE_ORDERS)}, not {date_order!r}')
    defaults = _check_defaults(data.get("defaults", {}), spec, date_order, source)
    for group in spec.required:
        if not any(name in mapped or name in defaults for name in group):
            wanted = " or ".join(repr(name) for name in group)
            raise MappingError(f"{source}: {kind} need {wanted}: map a column to it or give a default")
    pipeline = _check_pipeline(data.get("pipeline"), spec, source)
    country = _check_country(data, source)
    file_format = _check_file_format(data, source)
    owners = check_owners(data.get("owners", {}), source=source)
    return ImportMapping(
        kind=kind,
        columns=MappingProxyType(
            {column.strip(): tuple(field) if isinstance(field, list) else field for column, field in columns.items()}
        ),
        values=MappingProxyType({field: MappingProxyType(dict(table)) for field, table in values.items()}),
        defaults=MappingProxyType(dict(defaults)),
        pipeline=pipeline,
        date_order=date_order,
        phone_country_code=country,
        owners=MappingProxyType(owners),
        **file_format,
    )


def _check_columns(columns: object, spec: KindSpec, source: str) -> dict[str, str]:
    """Check ``"columns"``; return each mapped field with the column that feeds it."""
    if not isinstance(columns, dict) or not columns:
        raise MappingError(f'{source}: "columns" must be a non-empty object of "CSV column": "field"')
    seen: dict[str, str] = {}
    stripped: set[str] = set()
    for column, target in columns.items():
        if not column.strip():
            raise MappingError(f"{source}: columns: an empty column name")
        if column.strip() in stripped:
            raise MappingError(f"{source}: columns: {column.strip()!r} is listed twice (spaces around it differ)")
        stripped.add(column.strip())
        # A column may feed several fields: Zoho's LEADID is a potential's external id and its lead.
        targets = target if isinstance(target, list) and target else [target]
        for field in targets:
            if not isinstance(field, str):
                raise MappingError(
                    f"{source}: columns: {column!r} must map to a field name or a list of them, not {target!r}"
                )
            if field not in spec.fields:
                raise _unknown_field(field, spec, f"{source}: columns: {column!r}")
            if field in seen:
                raise MappingError(f"{source}: columns {seen[field]!r} and {column!r} both map to {field!r}")
            seen[field] = column
    return seen


def _check_values(values: object, spec: KindSpec, mapped: dict[str, str], source: str) -> dict:
    """Check ``"values"``: a table of CSV value -> stored value for fields a column maps to."""
    if not isinstance(values, dict):
        raise MappingError(f'{source}: "values" must be an object of field: {{"CSV value": "stored value"}}')
    for field, table in values.items():
        if field not in spec.fields:
            raise _unknown_field(field, spec, f"{source}: values")
        if field not in mapped:
            raise MappingError(f"{source}: values: no column maps to {field!r}, so its values table is never used")
        if not isinstance(table, dict) or not all(isinstance(v, _JSON_SCALARS) for v in table.values()):
            raise MappingError(f"{source}: values: {field!r} must be an object of CSV value: stored value")
    return values


def _check_defaults(defaults: object, spec: KindSpec, date_order: str, source: str) -> dict:
    """Check ``"defaults"``: each a scalar its field's converter accepts."""
    if not isinstance(defaults, dict):
        raise MappingError(f'{source}: "defaults" must be an object of field: value')
    for field, value in defaults.items():
        if field not in spec.fields:
            raise _unknown_field(field, spec, f"{source}: defaults")
        if not isinstance(value, _JSON_SCALARS) or value is None:
            raise MappingError(f"{source}: defaults: {field!r} must be a string, number or boolean")
        parse = converter(spec.fields[field], tz=UTC, date_order=date_order, phone_country_code="7")
        try:
            parse(json_to_text(value))
        except ValueParseError as exc:
            raise MappingError(f"{source}: defaults: {field!r}: {exc}") from None
    return defaults


def _check_pipeline(pipeline: object, spec: KindSpec, source: str) -> str | None:
    """The ``"pipeline"`` name, stripped; only deals and leads have one."""
    if pipeline is None:
        return None
    if not spec.has_pipeline:
        raise MappingError(f'{source}: "pipeline" applies to deals and leads, not {spec.kind}')
    if not isinstance(pipeline, str) or not pipeline.strip():
        raise MappingError(f'{source}: "pipeline" must be a non-empty string')
    return pipeline.strip()


def _check_country(data: dict, source: str) -> str:
    """The ``"phone_country_code"``: 1-3 digits, a leading + dropped."""
    country = data.get("phone_country_code", DEFAULT_PHONE_COUNTRY_CODE)
    country = country.lstrip("+") if isinstance(country, str) else str(country)
    if not country.isdigit() or not 1 <= len(country) <= 3:
        raise MappingError(
            f'{source}: "phone_country_code" must be 1-3 digits like "7", not {data["phone_country_code"]!r}'
        )
    return country


def _check_file_format(data: dict, source: str) -> dict[str, str | None]:
    """The ``"encoding"`` (one Python knows), ``"delimiter"`` (one of DELIMITERS) and ``"sheet"`` (a workbook's),
    None when not given."""
    encoding = data.get("encoding")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError):
            raise MappingError(f'{source}: unknown "encoding" {encoding!r}') from None
    delimiter = data.get("delimiter")
    if delimiter is not None and delimiter not in DELIMITERS:
        raise MappingError(f'{source}: "delimiter" must be one of {", ".join(map(repr, DELIMITERS))}')
    sheet = data.get("sheet")
    if sheet is not None and (not isinstance(sheet, str) or not sheet.strip()):
        raise MappingError(f'{source}: "sheet" must be the name of a sheet of the workbook')
    return {"encoding": encoding, "delimiter": delimiter, "sheet": sheet.strip() if sheet else None}


def check_owners(owners: object, *, source: str = "mapping") -> dict[str, str]:
    """Check an owners table (``"owners"``): name in the file -> user; entries left empty are dropped."""
    if not isinstance(owners, dict) or not all(isinstance(value, str | None) for value in owners.values()):
        raise MappingError(f'{source}: "owners" must be an object of "name in the file": "user\'s e-mail or name"')
    table = {}
    for name, user in owners.items():
        if not name.strip():
            raise MappingError(f"{source}: owners: an empty owner name")
        if user is not None and user.strip():
            table[" ".join(name.split())] = user.strip()
    return table


def load_mapping(*, path: str | Path, kind: str) -> ImportMapping:
    """Read and validate a mapping JSON file for ``kind``."""
    path = Path(path)
    get_kind(kind=kind)  # an unknown KIND is reported before any file problem
    text = read_utf8(path, what="mapping", expected="UTF-8 JSON")
    return parse_mapping(data=read_mapping_json(text, source=path.name), kind=kind, source=path.name)


def read_utf8(path: Path, *, what: str, expected: str = "UTF-8") -> str:
    """The text of a UTF-8 file (a BOM dropped) the user names; MappingError naming ``what`` when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MappingError(f"cannot read {what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise MappingError(f"{path.name}: the {what} must be {expected}") from None


def read_mapping_json(text: str, *, source: str = "mapping") -> Any:
    """Decode mapping JSON text; malformed JSON or a key given twice in one object raise MappingError."""
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise MappingError(f"{source}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except _DuplicateKey as exc:
        raise MappingError(f"{source}: key {exc.args[0]!r} appears twice in one object") from None


# Mappings shipped with crmpm for known exports: ``mappings/<name>/<kind>.json`` (zoho, amocrm, bitrix24,
# bitrix24-rest; their sources in ``mappings/README.md``), chosen by name with ``resolve_mapping``.
SAVED_MAPPINGS = Path(__file__).resolve().parent / "mappings"


def saved_mappings(*, kind: str) -> list[str]:
    """The names of the shipped mappings that have one for ``kind`` (``zoho``, ...), sorted."""
    return sorted(folder.name for folder in SAVED_MAPPINGS.iterdir() if (folder / f"{kind}.json").is_file())


def saved_mapping_data(*, name: str, kind: str) -> dict:
    """The JSON of the shipped mapping ``name`` for ``kind``; MappingError naming the choices when there is none."""
    get_kind(kind=kind)
    names = saved_mappings(kind=kind)
    if name not in names:  # a name from the list only: never a path of the caller's choosing
        raise MappingError(f"no saved mapping {name!r} for {kind}; saved ones: {', '.join(names) or 'none'}")
    path = SAVED_MAPPINGS / name / f"{kind}.json"
    return read_mapping_json(path.read_text(encoding="utf-8-sig"), source=f"{name}/{kind}.json")


def mapping_sets() -> dict[str, list[str]]:
    """Every shipped mapping set (``zoho``, ``amocrm``, ...) with the KINDs it has a mapping for, sorted."""
    return {folder.name: [kind for kind in KINDS if (folder / f"{kind}.json").is_file()]
            for folder in sorted(SAVED_MAPPINGS.iterdir()) if folder.is_dir()}


def resolve_mapping(*, mapping: str | Path, kind: str) -> ImportMapping:
    """The mapping ``mapping`` names for ``kind``: a shipped set's (``"amocrm"``) or a JSON file's path.

    A value that is a shipped set's name always means the set; anything else is a path. A set
    without a mapping for ``kind`` is a MappingError naming the KINDs it has.
    """
    get_kind(kind=kind)
    sets = mapping_sets()
    name = str(mapping)
    if name in sets:
        if kind not in sets[name]:
            raise MappingError(f"the mapping set {name!r} has no mapping for {kind}; "
                               f"it has {', '.join(sets[name])}")
        return parse_mapping(data=saved_mapping_data(name=name, kind=kind), kind=kind, source=f"{name}/{kind}.json")
    return load_mapping(path=mapping, kind=kind)


class _DuplicateKey(Exception):
    pass


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys silently; in "columns" that would
    # drop a column mapping without a word.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _occurrence(column: str) -> tuple[str, int] | None:
    """``("ID", 2)`` for ``"ID#2"``; None when ``column`` does not end in ``#`` and a number from 1."""
    base, sign, number = column.rpartition("#")
    if sign and base.strip() and number.isdigit() and int(number) >= 1:
        return base.strip(), int(number)
    return None


def check_header(*, mapping: ImportMapping, header: Sequence[str]) -> dict[str, int]:
    """Return the index of every mapped column in ``header``; MappingError names missing ones.

    A column the header repeats is named ``"ID#2"`` for its second occurrence (``"ID#1"`` or ``"ID"``
    alone: the first). A header column spelled with ``#`` itself (``"Заказ #2"``) is found as written
    first. Repeated columns the mapping does not name are no problem.
    """
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        positions.setdefault(name.strip(), []).append(index)
    found: dict[str, int] = {}
    missing: list[str] = []
    for column in mapping.columns:
        if column in positions:
            found[column] = positions[column][0]
            continue
        occurrence = _occurrence(column)
        if occurrence is not None and occurrence[0] in positions:
            name, number = occurrence
            if number > len(positions[name]):
                times = "once" if len(positions[name]) == 1 else f"{len(positions[name])} times"
                raise MappingError(f"the CSV header has column {name!r} {times}, so the mapping's {column!r} "
                                   f"names none of them")
            found[column] = positions[name][number - 1]
            continue
        missing.append(column)
    if missing:
        hints = "".join(_hint(column, list(positions)) for column in missing[:1])
        single = f"; the header has a single column {header[0]!r}: is the delimiter right?" if len(header) == 1 else ""
        raise MappingError(
            f"the CSV header has no column {', '.join(map(repr, missing))} named in the mapping{hints}{single}"
        )
    return found

"""CSV import, the pure part: read a CSV export and map it into typed CRM records.

No database here. The database side calls::

    batch = import_file(kind="deals", path="deals.csv", mapping="deals.json", tz="Europe/Moscow")
    for record in batch.records:      # Record(line, external_id, fields)
        ...                           # resolve references, insert
    for error in batch.errors:        # RowError(line, column, field, value, reason)
        ...                           # report; with --dry-run print batch.summary()
    for warning in batch.warnings:    # RowWarning(line, column, field, value, reason): the row imports
        ...

The file may also be an ``.xlsx`` workbook (``open_table`` tells by its content;
``sheet=`` or the mapping's ``"sheet"`` picks a sheet, else the first).

or, to stream a large file in chunks::

    mapping = load_mapping(path="deals.json", kind="deals")
    with open_csv("deals.csv", encoding=mapping.encoding, delimiter=mapping.delimiter) as table:
        for outcome in iter_transform(kind="deals", rows=table, mapping=mapping, header=table.header):
            ...                       # Record, RowError, or BlankRow

File-level problems raise ``CsvFormatError`` (the file) or ``MappingError`` (the
mapping, the KIND, or a mapped column missing from the header); both derive
from ``CsvImportError``, a ``ValueError``.
"""

from accounts.csvio.errors import CsvFormatError, CsvImportError, MappingError, RowWarning, ValueParseError
from accounts.csvio.mapping import (
    KINDS,
    FieldSpec,
    FieldType,
    ImportMapping,
    KindSpec,
    check_header,
    check_owners,
    load_mapping,
    mapping_sets,
    parse_mapping,
    read_mapping_json,
    resolve_mapping,
    saved_mapping_data,
    saved_mappings,
)
from accounts.csvio.parsing import Money, Phone, TypedCell
from accounts.csvio.reader import CsvRow, CsvTable, open_csv
from accounts.csvio.transform import (
    DEFAULT_TZ,
    BlankRow,
    ImportBatch,
    Record,
    RowError,
    import_file,
    iter_transform,
    transform,
    zone_of,
)
from accounts.csvio.workbook import open_table, open_xlsx

__all__ = [
    "DEFAULT_TZ",
    "KINDS",
    "BlankRow",
    "CsvFormatError",
    "CsvImportError",
    "CsvRow",
    "CsvTable",
    "FieldSpec",
    "FieldType",
    "ImportBatch",
    "ImportMapping",
    "KindSpec",
    "MappingError",
    "Money",
    "Phone",
    "Record",
    "RowError",
    "RowWarning",
    "TypedCell",
    "ValueParseError",
    "check_header",
    "check_owners",
    "import_file",
    "iter_transform",
    "load_mapping",
    "mapping_sets",
    "open_csv",
    "open_table",
    "open_xlsx",
    "parse_mapping",
    "read_mapping_json",
    "resolve_mapping",
    "saved_mapping_data",
    "saved_mappings",
    "transform",
    "zone_of",
]

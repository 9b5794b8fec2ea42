"""Errors raised when a CSV file or a mapping file cannot be used at all.

Problems confined to one row are not exceptions: they become ``RowError`` entries
in the ``ImportBatch`` so that one bad cell never hides the other 99,999 rows.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CsvImportError", "CsvFormatError", "MappingError", "RowWarning", "ValueParseError", "described"]


class CsvImportError(ValueError):
    """Base class for every error of the CSV import layer."""


class CsvFormatError(CsvImportError):
    """The file cannot be read as CSV (encoding, quotes, empty file...)."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


class MappingError(CsvImportError):
    """The mapping file is malformed or does not fit the KIND or the CSV header."""


class ValueParseError(CsvImportError):
    """One cell value cannot be parsed; the transform turns it into a RowError."""


@dataclass(frozen=True, slots=True)
class RowWarning:
    """A value of a row that imports but is not kept exactly as written (the ``RowError`` of a row that does).

    ``column`` is the CSV column name, ``field`` the field it feeds, ``value`` the cell's text and
    ``reason`` what became of it ("cannot be normalized: not stored as a phone, only reported here").
    """

    line: int
    column: str | None
    field: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        return described(self)


def described(problem) -> str:
    """A row's problem (``RowError`` or ``RowWarning``) as the reports write it: where, the value, the reason."""
    where = f"line {problem.line}" + (f", column {problem.column!r}" if problem.column else "")
    shown = f" {problem.value!r}" if problem.value else ""
    return f"{where}:{shown} {problem.reason}"

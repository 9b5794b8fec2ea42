"""What an import tells: the report of every row, a row refused, and file-level problems as domain errors."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from crmpm.errors import CrmpmError, Forbidden, Invalid, NotFound, Phrase

from accounts.csvio import CsvFormatError, CsvImportError, MappingError, RowError, RowWarning


@dataclass
class ImportReport:
    """What an import did (or, when refused or dry, would have done) to each row of the file."""

    kind: str
    dry_run: bool
    partial: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    blank: int = 0
    # Rows repeating a record of an earlier line (accounts.imports.repeats): counted once, as that record.
    repeated: int = 0
    errors: list[RowError] = field(default_factory=list)
    # Values of rows that import but are not kept as written (a phone that cannot be normalized...).
    warnings: list[RowWarning] = field(default_factory=list)
    ignored_fields: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Owners the file names that match no user (name, rows, reason, suggested e-mail), and those created.
    unmatched_owners: list[dict] = field(default_factory=list)
    created_owners: list[dict] = field(default_factory=list)
    # HTTP-like status of each row error, to answer 403/404 when rights refused every row.
    error_status: dict[int, int] = field(default_factory=dict)

    @property
    def error_lines(self) -> list[int]:
        """The distinct lines with errors, in file order."""
        return sorted({error.line for error in self.errors})

    @property
    def imported(self) -> int:
        """Rows that were (or would be) written or found unchanged."""
        return self.created + self.updated + self.unchanged

    @property
    def committed(self) -> bool:
        """Whether the changes stay: not a dry run, and no error unless partial."""
        return not self.dry_run and (self.partial or not self.errors)

    def refusal(self) -> CrmpmError | None:
        """The error an edge raises when the file was refused as a whole, else None."""
        if self.dry_run or self.partial or not self.errors:
            return None
        statuses = set(self.error_status.values())
        refusal = Phrase("{kind}: nothing imported: {bad} of {rows} rows have errors (first: {first}); "
                         "fix them, or import the good rows with partial",
                         kind=self.kind, bad=len(self.error_lines), rows=self.rows, first=str(self.errors[0]))
        errors = {"rows": [_error_dict(error) for error in self.errors], "summary": self.counts(),
                  **({"warnings": [_error_dict(warning) for warning in self.warnings]} if self.warnings else {})}
        if statuses == {404}:
            return NotFound(refusal.template, errors=errors, **refusal.params)
        if statuses and statuses <= {403, 404}:
            return Forbidden(refusal.template, errors=errors, **refusal.params)
        return Invalid(refusal.template, errors=errors, **refusal.params)

    def counts(self) -> dict[str, Any]:
        """The figures of the report."""
        return {"kind": self.kind, "rows": self.rows, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "blank": self.blank, "repeated": self.repeated, "error_rows": len(self.error_lines),
                "dry_run": self.dry_run, "partial": self.partial, "committed": self.committed}

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {**self.counts(), "errors": [_error_dict(error) for error in self.errors],
                "errors_total": len(self.errors), "warnings": [_error_dict(warning) for warning in self.warnings],
                "warnings_total": len(self.warnings), "ignored_fields": self.ignored_fields, "notes": self.notes,
                "unmatched_owners": self.unmatched_owners, "created_owners": self.created_owners,
                "owners_table": self.owners_table()}

    def owners_table(self) -> dict[str, str]:
        """The owners not matched as an owners table to fill in (suggested e-mails filled, else empty)."""
        return {owner["name"]: owner.get("suggested") or "" for owner in self.unmatched_owners}

    def summary(self, *, limit: int = 50) -> str:
        """A plain-text report: figures, then the first ``limit`` errors."""
        if self.dry_run:
            state = "dry run, nothing written"
        elif self.committed:
            state = "imported" + (f", {len(self.error_lines)} rows skipped" if self.errors else "")
        else:
            state = "NOTHING IMPORTED (all or nothing; use --partial to import the good rows)"
        repeated = f", {self.repeated} repeating an earlier row" if self.repeated else ""
        lines = [f"{self.kind}: {self.rows} rows: {self.created} created, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.error_lines)} with errors, {self.blank} blank{repeated} "
                 f"({state})"]
        if self.ignored_fields:
            lines.append(f"  not stored by crmpm: {', '.join(self.ignored_fields)}")
        lines += [f"  {note}" for note in self.notes]
        lines += self._owner_lines()
        lines += [f"  {error}" for error in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(f"  ... and {len(self.errors) - limit} more")
        if self.warnings:
            lines.append(f"  {len(self.warnings)} warnings: these values are not kept as written (their rows import)")
            lines += [f"  warning: {warning}" for warning in self.warnings[:limit]]
            if len(self.warnings) > limit:
                lines.append(f"  ... and {len(self.warnings) - limit} more warnings")
        return "\n".join(lines)


    def _owner_lines(self) -> list[str]:
        lines = []
        if self.created_owners:
            lines.append(f"  owners created as inactive users ({len(self.created_owners)}; they cannot log in):")
            lines += [f"    {owner['name']} <{owner['email']}>"
                      + (f" on branch {owner['branch']}" if owner.get("branch") else " (no branch found)")
                      for owner in self.created_owners]
        if self.unmatched_owners:
            lines.append(f"  owners matched to no user ({len(self.unmatched_owners)}): "
                         + ", ".join(f"{owner['name']!r} ({owner['rows']} rows)" for owner in self.unmatched_owners))
            lines.append("  fill in their e-mails and pass the table back with --owners FILE (or put it in the "
                         "mapping as \"owners\"), or create them with --create-owners:")
            lines += [f"    {line}" for line in owners_csv(self.unmatched_owners).splitlines()]
        return lines


def owners_csv(unmatched: list[dict]) -> str:
    """Owners not matched as the CSV table to fill in (``name,email``; suggestions filled in)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "email"])
    for owner in unmatched:
        writer.writerow([owner["name"], owner.get("suggested") or ""])
    return out.getvalue()


def _error_dict(error: RowError | RowWarning) -> dict[str, Any]:
    return {"line": error.line, "column": error.column, "field": error.field,
            "value": None if error.value is None else str(error.value), "reason": error.reason}


def file_error(exc: CsvImportError) -> Invalid:
    """A file-level CSV or mapping problem as the domain error the edges report (422 / exit 2)."""
    key = "mapping" if isinstance(exc, MappingError) else "file" if isinstance(exc, CsvFormatError) else "import"
    return Invalid("{key}: {problem}", key=key, problem=str(exc), errors={key: [str(exc)]})


class RowRefused(Exception):
    """Something in the row cannot be resolved or is refused; becomes a RowError on ``field``."""

    def __init__(self, field_name: str | None, reason: str, *, status: int = 422) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason
        self.status = status

"""One import's transaction: the whole file in one savepoint, each row in its own, and errors named by line and column.

A row that fails leaves nothing of itself behind (its savepoint is rolled back)
and becomes an error of the report naming its line, the CSV column and the
reason, whatever refused it: a reference (``RowRefused``), a service (any
``CrmpmError``) or the database. What a row made is remembered for the rows after
it only once its savepoint is committed (``after_commit``). The whole file then
stays only when the report says so (``ImportReport.committed``): a dry run, or an
error without ``partial``, rolls everything back, and the dry run has done all
the work of the real one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crmpm import audit, events
from crmpm.database import roll_back_savepoint
from crmpm.errors import CrmpmError
from crmpm.users.models import User

from accounts.csvio import ImportMapping, Phone, Record, RowError
from accounts.imports.references import References
from accounts.imports.report import ImportReport, RowRefused

Progress = Callable[[int], None] | None
# Service error keys (API field names) back to import fields, to name the CSV column.
_SERVICE_FIELDS = {
    "owner_id": "owner", "user_id": "owner", "account_id": "account", "contact_id": "contact", "deal_id": "deal",
    "lead_id": "lead", "stage_id": "stage", "region_node_id": "region", "parent_id": "parent",
    "last_name": "name", "first_name": "name", "contact_name": "name", "company": "company",
    "annual_revenue": "revenue",
}


class _NoSavepoint:
    """Stands in for a savepoint around a row that writes nothing."""

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass


class ImportJob:
    """The state of one import: the mapping, the references, the report, and the row being run."""

    def __init__(self, session: Session, *, actor: User, kind: str, mapping: ImportMapping,
                 report: ImportReport) -> None:
        self.session = session
        self.actor = actor
        self.kind = kind
        self.mapping = mapping
        self.report = report
        self.refs = References(session, actor=actor, owners=mapping.owners)
        self.mapped = {name for _column, name in mapping.field_columns} | set(mapping.defaults)
        self.column_of = {name: column for column, name in mapping.field_columns}
        self._on_commit: list[Callable[[], None]] = []
        self._on_undo: list[Callable[[], None]] = []

    # What the mapping says

    def given(self, fields: dict, name: str) -> bool:
        """Whether the mapping maps or defaults ``name`` (so an empty cell means "clear it")."""
        return name in self.mapped and name in fields

    @staticmethod
    def need_external_id(record: Record) -> str:
        """The row's external id; refused without one."""
        if record.external_id is None:
            raise RowRefused("external_id", "external id is required: re-importing relies on it")
        return record.external_id

    # One row

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current row's savepoint is committed (never if the row fails)."""
        self._on_commit.append(callback)

    def on_undo(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` if the current row fails: forget what it cached before its savepoint committed."""
        self._on_undo.append(callback)

    def remember(self, model, key: str | None, row) -> None:
        """Make a row made by the current import row findable by its external id once the row is committed."""
        if key is not None:
            self.after_commit(lambda: self.refs.add(model, key, row))

    def count(self, outcome: str | None) -> None:
        """Count a row as ``created``, ``updated`` or ``unchanged`` (None: not counted)."""
        if outcome is not None:
            setattr(self.report, outcome, getattr(self.report, outcome) + 1)

    def run_rows(self, records: list[Record], handler: Callable[[Record], str | None], progress: Progress) -> None:
        """``run_row`` on each record in turn, telling ``progress`` after each."""
        for record in records:
            self.run_row(record, handler)
            if progress is not None:
                progress(1)

    def run_row(self, record: Record, handler: Callable[[Record], str | None], *, savepoint: bool = True) -> None:
        """Run ``handler`` on one row in its own savepoint (or none, for a handler that writes nothing)."""
        savepoint = self.session.begin_nested() if savepoint else _NoSavepoint()
        self._on_commit, self._on_undo = [], []
        try:
            outcome = handler(record)
            self.session.flush()
        except RowRefused as exc:
            self._undo(savepoint)
            self.fail(record, exc.field, exc.reason, exc.status)
        except CrmpmError as exc:
            self._undo(savepoint)
            self._service_refused(record, exc)
        except SQLAlchemyError as exc:
            self._undo(savepoint)
            detail = str(getattr(exc, "orig", exc)).splitlines()[0]
            self.fail(record, None, f"the database refused the row: {detail}", 422)
        else:
            savepoint.commit()
            for callback in self._on_commit:
                callback()
            self.count(outcome)

    def _undo(self, savepoint) -> None:
        savepoint.rollback()
        for callback in self._on_undo:
            callback()

    def _service_refused(self, record: Record, exc: CrmpmError) -> None:
        key = next(iter(exc.errors), None)
        field_name = _SERVICE_FIELDS.get(key, key) if key else None
        # A service's "not found" names the record by its id, which the file never gave: say only what it gave.
        reason = exc.message if exc.status != 404 else (
            f"{field_name} {record.fields.get(field_name)!r} is not one you may read" if field_name
            in record.fields else "a record this row refers to is not one you may read")
        self.fail(record, field_name, reason, exc.status)

    def fail(self, record: Record, field_name: str | None, reason: str, status: int) -> None:
        """Report the row as an error on ``field_name`` (its CSV column and the cell's value)."""
        column = self.column_of.get(field_name) if field_name else None
        value = record.fields.get(field_name) if field_name else None
        if field_name == "external_id":
            value = record.external_id
        if isinstance(value, Phone):
            value = value.raw
        self.report.errors.append(RowError(line=record.line, column=column, field=field_name,
                                           value=None if value is None else str(value), reason=reason))
        self.report.error_status[record.line] = status


class _ImportEntity:
    """The audit trail's handle on an import: type ``imports``, id 0 (an import is no row of its own)."""

    __tablename__ = "imports"
    id = 0

    def __init__(self, kind: str) -> None:
        self.kind = kind


@contextmanager
def whole_file(session: Session, *, actor: User, report: ImportReport, path: str | Path,
               job_id: int | None = None) -> Iterator[None]:
    """All or nothing: keep what the rows did only when the report is committed, with one summary audit
    entry when something changed and the ``import.finished`` event (about job ``job_id`` when there is one)."""
    outer = session.begin_nested()
    try:
        yield
        report.errors.sort(key=lambda error: error.line)
        if report.committed:
            session.flush()
            if report.created or report.updated:
                audit.record(session, actor=actor, action="import", entity=_ImportEntity(report.kind),
                             after={"file": Path(path).name, **report.counts()})
            events.record(session, "import.finished", ("jobs", job_id) if job_id else ("imports", None),
                          {"kind": report.kind, "created": report.created, "updated": report.updated,
                           "failed": len(report.error_lines), "job_id": job_id, "dry_run": report.dry_run},
                          actor=actor)
            session.flush()
            outer.commit()
        else:
            roll_back_savepoint(outer)
    except BaseException:
        if outer.is_active:
            roll_back_savepoint(outer)
        raise

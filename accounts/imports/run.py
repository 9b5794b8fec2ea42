"""``import_csv``: read the file, check the request, and run the rows of its KIND in one all-or-nothing savepoint."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path

from sqlalchemy.orm import Session

from crmpm.errors import Forbidden, NotFound
from crmpm.users.models import User

from accounts.csvio import DEFAULT_TZ, ImportMapping, MappingError, import_file, resolve_mapping
from accounts.imports import accounts, contacts, deals, interactions, leads, owners, users
from accounts.imports.job import ImportJob, whole_file
from accounts.imports.repeats import fold_repeats
from accounts.imports.report import ImportReport

# Each KIND's module, in the order a whole CRM is imported in: each KIND refers only to those before it.
KINDS = {"users": users, "accounts": accounts, "contacts": contacts, "leads": leads, "deals": deals,
         "interactions": interactions}
IMPORT_ORDER = tuple(KINDS)
# Fields a KIND can read but crmpm has no place for; reported, never silently lost.
NOT_STORED = {kind: module.NOT_STORED for kind, module in KINDS.items()}


def import_csv(session: Session, *, actor: User, kind: str, path: str | Path, mapping: str | Path | ImportMapping,
               dry_run: bool = False, partial: bool = False, tz: str | tzinfo = DEFAULT_TZ,
               progress: Callable[[int], None] | None = None,
               on_start: Callable[[int], None] | None = None, job_id: int | None = None,
               sheet: str | None = None, create_owners: bool = False) -> ImportReport:
    """Import one CSV file of ``kind`` as ``actor``; see the ``accounts.imports`` docstring.

    File-level problems raise ``CsvImportError`` (convert with ``file_error``) or a
    domain error (an unknown KIND, users imported by a non-administrator, a
    pipeline a non-administrator would have to create). Row problems never raise:
    they are in the report, and ``report.committed`` tells whether the changes stay.
    ``on_start(rows)`` is called once the file is read; ``progress(1)`` after each row.
    A real import whose changes stay records ``import.finished`` (about job ``job_id`` when it runs as one).
    ``path`` may be an .xlsx workbook: ``sheet`` names its sheet (else the mapping's, else the first).
    ``mapping`` is an ImportMapping, a shipped set's name (``"amocrm"``) or a JSON file's path. Owners the
    file names that no user matches are listed in the report; ``create_owners`` (administrators) creates
    them as inactive users (``accounts.imports.owners``).
    """
    mapping = check_request(actor=actor, kind=kind, mapping=mapping, create_owners=create_owners)
    mapped = {name for _column, name in mapping.field_columns}
    batch = import_file(kind=kind, path=path, mapping=mapping, tz=tz, sheet=sheet)
    report = ImportReport(kind=kind, dry_run=dry_run, partial=partial, rows=batch.rows_seen,
                          blank=len(batch.blank_lines), errors=list(batch.errors), warnings=list(batch.warnings),
                          ignored_fields=sorted(mapped & NOT_STORED[kind]), notes=list(batch.notes))
    for error in batch.errors:
        report.error_status[error.line] = 422
    if on_start is not None:
        on_start(len(batch.records))
    with whole_file(session, actor=actor, report=report, path=path, job_id=job_id):
        job = ImportJob(session, actor=actor, kind=kind, mapping=mapping, report=report)
        records = batch.records if kind == "users" else fold_repeats(job, batch.records)
        if progress is not None:
            for _folded in range(len(batch.records) - len(records)):
                progress(1)
        for model, name in KINDS[kind].PRELOAD:
            if name == "external_id":
                job.refs.preload(model, (record.external_id for record in records))
            else:
                job.refs.preload(model, (record.fields.get(name) for record in records))
        plan = owners.prepare(job, records, create=create_owners) if kind != "users" else None
        KINDS[kind].import_rows(job, records, progress)
        if plan is not None:
            plan.finish(session, actor=actor)
            report.unmatched_owners, report.created_owners = plan.unmatched, plan.created
    return report


def check_request(*, actor: User, kind: str, mapping: str | Path | ImportMapping,
                  create_owners: bool = False) -> ImportMapping:
    """What is refused before a row is read: an unknown KIND, a bad mapping, users imported by a non-administrator,
    owners created by someone who may not create users.

    Returns the mapping, loaded and checked (``mapping`` may be a shipped set's name or a JSON file's path).
    """
    check_kind(kind)
    if not isinstance(mapping, ImportMapping):
        mapping = resolve_mapping(mapping=mapping, kind=kind)
    if kind == "users" and not actor.is_admin:
        raise Forbidden("only administrators import users", errors={"kind": ["administrators only"]})
    if create_owners:
        owners.check_may_create(actor)
    mapped = {name for _column, name in mapping.field_columns}
    if kind != "users" and "external_id" not in mapped:
        raise MappingError(f"{kind}: map a column to 'external_id': re-importing a file relies on it")
    return mapping


def check_kind(kind: str) -> None:
    """NotFound unless ``kind`` is one of the KINDS."""
    if kind not in KINDS:
        raise NotFound("unknown import kind {kind!r}; expected one of {kinds}",
                       kind=kind, kinds=", ".join(IMPORT_ORDER),
                       errors={"kind": [f"one of {', '.join(IMPORT_ORDER)}"]})

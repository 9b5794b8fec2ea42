"""The CSV import as a job (kind ``crm.import``): asked for by the API and the pages, run by a worker.

``start_import`` makes the checks the synchronous import makes before reading a row (the KIND, the
mapping, who may import users, the file's format and header), then asks for the job with the CSV
kept in the database (a ``JobFile`` of the job, for a day): the web server and the workers may be
different machines. ``run_import`` is the job: the same ``import_csv`` as the synchronous path, in
the job's one transaction, reporting rows done through the job's progress; its result is the
report (``ImportReport.to_dict``) with at most ``MAX_RESULT_ERRORS`` row errors (and as many
warnings), the number of all of them in ``errors_total`` (``warnings_total``). A file whose rows
have errors, imported all or nothing, is a job that succeeded with ``committed`` false in its
report: the report is the outcome asked for. The file may be an .xlsx workbook (``sheet`` in the
parameters names its sheet); its preview reads the whole upload, as a zip archive is read from its end.

A worker killed mid-way leaves nothing of the import (its transaction dies with it); the job runs
again from the start, and rows are matched by external id, so it never writes a row twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, literal, select
from sqlalchemy.orm import Session

from crmpm import jobs
from crmpm.database import utcnow
from crmpm.errors import Invalid
from crmpm.jobs import JobContext
from crmpm.jobs.models import Job, JobFile
from crmpm.uploads import default_upload_dir, upload_folder
from crmpm.users.models import User
from eps.permissions import ROLE_PERMISSIONS, Permission, principal_grant_paths

from accounts.csvio import (
    DEFAULT_TZ,
    CsvImportError,
    ImportMapping,
    MappingError,
    check_header,
    open_table,
    parse_mapping,
    read_mapping_json,
    saved_mapping_data,
    zone_of,
)
from accounts.csvio.workbook import ZIP_MAGIC
from accounts.imports.owners import with_owners
from accounts.imports.preview import Preview, preview_file
from accounts.imports.report import file_error
from accounts.imports.run import check_kind, check_request, import_csv

KIND = "crm.import"
UPLOAD_KEPT = timedelta(days=1)
MAX_RESULT_ERRORS = 1000
# Progress is told to the engine's store at most this often (a write there each time).
PROGRESS_STEP = 0.01
PROGRESS_SECONDS = 0.5
# A preview reads this much of the file's start, and shows this many rows.
PREVIEW_BYTES = 256 * 1024
PREVIEW_ROWS = 10
# How a mapping given inline is named in messages: as the API's multipart file is.
INLINE = "mapping.json"


def _mapping_of(params: dict) -> ImportMapping:
    """The mapping of a job's parameters: a shipped mapping's name, or the mapping's JSON."""
    kind, mapping = params["kind"], params["mapping"]
    if isinstance(mapping, str):
        checked = parse_mapping(data=saved_mapping_data(name=mapping, kind=kind), kind=kind, source=mapping)
    else:
        checked = parse_mapping(data=mapping, kind=kind, source=INLINE)
    return with_owners(checked, params.get("owners"))


def _checked(actor: User, params: dict) -> ImportMapping:
    """The checks ``import_csv`` makes before reading a row, made on a job's parameters."""
    check_kind(params["kind"])
    try:
        return check_request(actor=actor, kind=params["kind"], mapping=_mapping_of(params),
                             create_owners=bool(params.get("create_owners")))
    except CsvImportError as exc:
        raise file_error(exc) from None


def decoded_mapping(text: str):
    """A mapping's JSON text decoded; Invalid naming the problem when it is not JSON."""
    try:
        document = read_mapping_json(text, source=INLINE)
        if not isinstance(document, dict):  # (a JSON string is no mapping's name: names are chosen, not typed)
            raise MappingError(f"{INLINE}: the top level must be a JSON object")
    except CsvImportError as exc:
        raise file_error(exc) from None
    return document


def start_import(session: Session, *, actor: User, kind: str, path: str | Path, file_name: str,
                 mapping: str, saved: bool = False, dry_run: bool = False, partial: bool = False,
                 tz: str = DEFAULT_TZ, url: Callable[[int], str] | None = None, sheet: str | None = None,
                 owners: dict[str, str] | None = None, create_owners: bool = False) -> Job:
    """Check the import as the synchronous one does before its first row, then ask for it as a job.

    ``mapping`` is a shipped mapping's name (``saved``) or the mapping's JSON text; ``owners`` an owners
    table over the mapping's, ``create_owners`` as ``import_csv``'s (both kept for the jobs that follow). File-level
    problems (the mapping, the format, a header without the mapped columns) raise ``Invalid``
    now, as the synchronous import does, and no job is started. ``url(job_id)``, when given, is the
    page of the job's report, kept in its result.
    """
    check_kind(kind)
    document = mapping if saved else decoded_mapping(mapping)
    params = {"kind": kind, "mapping": document, "dry_run": bool(dry_run), "partial": bool(partial), "tz": tz,
              "file": file_name[:255], **({"sheet": sheet} if sheet else {}),
              **({"owners": dict(owners)} if owners else {}), **({"create_owners": True} if create_owners else {})}
    checked = _checked(actor, params)
    try:
        zone_of(tz)
        with open_table(path, encoding=checked.encoding, delimiter=checked.delimiter,
                        sheet=sheet or checked.sheet) as table:
            check_header(mapping=checked, header=table.header)
    except CsvImportError as exc:
        raise file_error(exc) from None
    data = Path(path).read_bytes()
    job = _start(session, actor=actor, params=params, url=url)
    jobs.attach_file(session, job_id=job.id, name=file_name or "import.csv", content_type="text/csv", data=data,
                     keep=UPLOAD_KEPT, purpose="upload")
    return job


def _start(session: Session, *, actor: User, params: dict, url: Callable[[int], str] | None) -> Job:
    job = jobs.start(session, kind=KIND, params={key: value for key, value in params.items() if key != "url"},
                     actor=actor)
    if url is not None:
        job.params = {**job.params, "url": url(job.id)}
    return job


def again(session: Session, *, actor: User, job: Job, mapping: dict | str | None = None, dry_run: bool,
          partial: bool = False, url: Callable[[int], str] | None = None) -> Job:
    """Ask for the import of ``job``'s file once more: a dry run with another mapping, or the real import.

    The same checks as a first ask (a changed mapping may be wrong). The new job gets its own
    copy of the file, copied inside the database.
    """
    upload = upload_of(session, job_id=job.id)
    params = dict(job.params)
    if mapping is not None:
        params["mapping"] = mapping
    params |= {"dry_run": bool(dry_run), "partial": bool(partial)}
    _checked(actor, params)
    started = _start(session, actor=actor, params=params, url=url)
    now, stamp = utcnow(), JobFile.__table__.c.expires_at.type
    copied = select(literal(started.id), JobFile.name, JobFile.purpose, JobFile.content_type, JobFile.size,
                    JobFile.data, literal(now, stamp), literal(now + UPLOAD_KEPT, stamp)).where(JobFile.id == upload.id)
    session.execute(insert(JobFile).from_select(
        ["job_id", "name", "purpose", "content_type", "size", "data", "created_at", "expires_at"], copied))
    return started


def upload_of(session: Session, *, job_id: int) -> JobFile:
    """The CSV file kept for import job ``job_id`` (its first file); Invalid when it is gone (expired)."""
    # The content is read only when used (a page showing the job never loads a 100 MB file).
    upload = jobs.job_file(session, job_id=job_id, purpose="upload", with_data=False)
    if upload is None:
        raise Invalid("the file of import job {id} is no longer kept; upload it again", id=job_id)
    return upload


def file_head(session: Session, *, job_id: int, size: int) -> bytes:
    """The first ``size`` bytes of the job's file, read in the database (a preview never loads the whole file)."""
    upload = upload_of(session, job_id=job_id)
    return session.scalar(select(func.substr(JobFile.data, 1, size)).where(JobFile.id == upload.id)) or b""


@contextmanager
def _on_disk(session: Session, data: bytes) -> Iterator[Path]:
    """``data`` written to a folder of its own (the CSV reader reads files), removed afterwards."""
    config = session.info.get(jobs.services.CONFIG_KEY) or {}
    with upload_folder(config.get("UPLOAD_DIR") or default_upload_dir()) as folder:
        path = folder / "upload.csv"
        path.write_bytes(data)
        yield path


def preview_job(session: Session, *, job: Job, rows: int = PREVIEW_ROWS) -> Preview:
    """The first ``rows`` rows of import job ``job``'s file as its mapping reads them (from the file's head)."""
    upload = upload_of(session, job_id=job.id)
    head = file_head(session, job_id=job.id, size=PREVIEW_BYTES)
    if head.startswith(ZIP_MAGIC) and len(head) < upload.size:
        # A workbook is a zip archive, read from its end: its head alone is no file (it is within the upload limit).
        head = file_head(session, job_id=job.id, size=upload.size)
    elif len(head) < upload.size:
        head = head[: head.rfind(b"\n") + 1] or head  # whole lines only
    try:
        mapping = _mapping_of(job.params)
    except CsvImportError as exc:
        return Preview(problem=str(exc))
    with _on_disk(session, head) as path:
        return preview_file(path, kind=job.params["kind"], mapping=mapping, rows=rows,
                            tz=job.params.get("tz") or DEFAULT_TZ, sheet=job.params.get("sheet"))


def mapping_json(job: Job) -> str:
    """The mapping of import job ``job`` as JSON text to edit (a shipped mapping's own JSON for a name)."""
    mapping = job.params.get("mapping")
    if isinstance(mapping, str):
        try:
            mapping = saved_mapping_data(name=mapping, kind=job.params.get("kind", ""))
        except CsvImportError:
            mapping = {}
    return json.dumps(mapping, ensure_ascii=False, indent=2)


def may_import(session: Session, *, user: User) -> bool:
    """Whether ``user`` may change anything an import writes: an administrator, or edit rights on some branch.

    The rows' own rights are the services' (``import_csv``); this only turns away, before any
    upload, someone every row would be refused to.
    """
    if user.is_admin:
        return True
    editing = tuple(role for role, allowed in ROLE_PERMISSIONS.items() if Permission.edit in allowed)
    return bool(principal_grant_paths(session, user=user, roles=editing))


class _Progress:
    """Rows done of the rows read, told to the job's progress every percent (and at most twice a second)."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx, self.total, self.done, self.told, self.told_at = ctx, 0, 0, 0.0, 0.0

    def start(self, rows: int) -> None:
        self.total = rows
        self.ctx.progress(0.0, f"0 of {rows} rows")

    def step(self, count: int) -> None:
        self.done += count
        fraction = self.done / self.total if self.total else 1.0
        now = time.monotonic()
        if (fraction - self.told >= PROGRESS_STEP and now - self.told_at >= PROGRESS_SECONDS) or self.done == self.total:
            self.told, self.told_at = fraction, now
            self.ctx.progress(fraction, f"{self.done} of {self.total} rows")


def run_import(ctx: JobContext) -> dict:
    """The job ``crm.import``: import the job's CSV file as its creator; the report is the result."""
    params = ctx.params
    if ctx.actor is None:  # an import runs with its creator's rights, and the creator's account was removed
        raise Invalid("import job {id} has nobody to run as: the user who asked for it was removed", id=ctx.job_id)
    mapping = _checked(ctx.actor, params)
    upload = upload_of(ctx.session, job_id=ctx.job_id)
    progress = _Progress(ctx)
    with _on_disk(ctx.session, upload.data) as path:
        try:
            report = import_csv(ctx.session, actor=ctx.actor, kind=params["kind"], path=path, mapping=mapping,
                                dry_run=params.get("dry_run", False), partial=params.get("partial", False),
                                tz=params.get("tz") or DEFAULT_TZ, progress=progress.step, on_start=progress.start,
                                job_id=ctx.job_id, sheet=params.get("sheet"),
                                create_owners=bool(params.get("create_owners")))
        except CsvImportError as exc:
            raise file_error(exc) from None
    return result_of(report.to_dict(), url=params.get("url"))


def result_of(report: dict, *, url: str | None = None) -> dict:
    """A report as a job's result: the first ``MAX_RESULT_ERRORS`` row errors (``errors_total`` counts them
    all), and the page showing it when there is one."""
    return {**report, "errors": report["errors"][:MAX_RESULT_ERRORS],
            "warnings": report.get("warnings", [])[:MAX_RESULT_ERRORS], **({"url": url} if url else {})}

"""CSV import: ``POST /imports/{kind}`` with the CSV and its mapping as multipart files."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import current_app, request, url_for
from marshmallow import Schema, fields, validate

from accounts import imports
from accounts.csvio import CsvImportError
from accounts.imports import jobs as import_jobs
from api.common import Blueprint, current_user, session
from api.jobs import accepted, accepted_doc, async_flag
from crmpm.errors import Invalid, NotFound
from crmpm.limits import accepts_upload
from crmpm.uploads import upload_folder

REPORT_PAGE = "crm.import_job"

blp = Blueprint("imports", __name__, url_prefix="/imports",
                description="CSV import of users, accounts, contacts, leads, deals and interactions")


class ImportArgs(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "Check everything, write nothing."})
    partial = fields.Boolean(load_default=False, metadata={
        "description": "Import the good rows and report the others (default: all or nothing)."})
    tz = fields.String(load_default="Europe/Moscow", validate=validate.Length(min=1, max=64),
                       metadata={"description": "Zone of times written without one."})
    async_ = async_flag(
        "Run the import as a job: answer 202 with the job at once (Location: /api/v1/jobs/{id}); the job's "
        "result is this endpoint's report once it has succeeded. The checks made before any row is read "
        "(kind, mapping, file format and header, size) still answer 4xx at once, and no job is started.")


class ImportFilesSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary", "description": "The CSV."})
    mapping = fields.Raw(metadata={"type": "string", "format": "binary", "description": (
        "The mapping JSON file; it may also come as a form field named mapping.")})


class RowErrorSchema(Schema):
    line = fields.Integer()
    column = fields.String(allow_none=True)
    field = fields.String(allow_none=True)
    value = fields.String(allow_none=True)
    reason = fields.String()


class ImportReportSchema(Schema):
    kind = fields.String()
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    blank = fields.Integer()
    repeated = fields.Integer(metadata={"description": "Rows repeating a record of an earlier line, counted once."})
    error_rows = fields.Integer()
    dry_run = fields.Boolean()
    partial = fields.Boolean()
    committed = fields.Boolean()
    errors = fields.List(fields.Nested(RowErrorSchema))
    ignored_fields = fields.List(fields.String())
    notes = fields.List(fields.String())
    errors_total = fields.Integer(metadata={"description": (
        "How many row errors there are; a job's report lists the first 1000 of them.")})


def _save(upload, target: Path) -> None:
    # The request body is capped at MAX_CSV_UPLOAD_LENGTH (accepts_upload); copied in pieces, not read whole.
    with target.open("wb") as out:
        shutil.copyfileobj(upload.stream, out, 1024 * 1024)


@blp.route("/<string:kind>", methods=["POST"])
@accepts_upload("MAX_CSV_UPLOAD_LENGTH")
@blp.arguments(ImportArgs, location="query")
@blp.arguments(ImportFilesSchema, location="files")
@blp.response(200, ImportReportSchema)
@accepted_doc(blp, "importing the file; its result is this endpoint's report")
def import_csv(args, files, kind):
    """Import a CSV file of ``kind`` (users, accounts, contacts, leads, deals, interactions) as the caller.

    All or nothing unless ``partial``: a file with rows in error writes nothing and
    answers 422 listing every row (line, column, reason) in ``errors.rows``; 403 or
    404 when the caller's rights refused every row. ``dry_run`` reports without writing.
    With ``async=true`` the import runs as a job (202); its report is the job's result,
    where a file refused as a whole shows as ``committed: false`` with its row errors.
    """
    if kind not in imports.IMPORT_ORDER:
        raise NotFound(f"unknown import kind {kind!r}; expected one of {', '.join(imports.IMPORT_ORDER)}",
                       errors={"kind": [f"one of {', '.join(imports.IMPORT_ORDER)}"]})
    # Kept where a later request removes it should this process be killed mid-import (client data).
    with upload_folder(current_app.config["UPLOAD_DIR"]) as folder:
        csv_path, mapping_path = Path(folder) / "upload.csv", Path(folder) / "mapping.json"
        _save(files["file"], csv_path)
        if "mapping" in files:
            _save(files["mapping"], mapping_path)
        elif request.form.get("mapping"):
            mapping_path.write_text(request.form["mapping"], encoding="utf-8")
        else:
            raise Invalid("a mapping is needed: a file or a form field named mapping",
                          errors={"mapping": ["required"]})
        if args["async_"]:
            return _start_job(kind, args, csv_path, mapping_path, files["file"].filename or "upload.csv")
        try:
            report = imports.import_csv(session(), actor=current_user(), kind=kind, path=csv_path,
                                        mapping=mapping_path, dry_run=args["dry_run"], partial=args["partial"],
                                        tz=args["tz"])
        except CsvImportError as exc:
            raise imports.file_error(exc) from None
    refusal = report.refusal()
    if refusal is not None:
        raise refusal
    return report.to_dict()


def _start_job(kind: str, args: dict, csv_path: Path, mapping_path: Path, file_name: str):
    """202 with the import job (its file kept in the database) and where to follow it."""
    try:
        text = mapping_path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("mapping: the mapping must be UTF-8 JSON", errors={"mapping": ["not UTF-8"]}) from None
    # The report's page, when the pages are installed (named, never imported: the API knows no page).
    page = (lambda job_id: url_for(REPORT_PAGE, import_id=job_id)) if REPORT_PAGE in current_app.view_functions \
        else None
    job = import_jobs.start_import(session(), actor=current_user(), kind=kind, path=csv_path, file_name=file_name,
                                   mapping=text, dry_run=args["dry_run"], partial=args["partial"], tz=args["tz"],
                                   url=page)
    return accepted(job)

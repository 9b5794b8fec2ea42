"""CSV import: ``POST /imports/{kind}`` with the CSV (or .xlsx workbook) and its mapping (a file, JSON, or a shipped set's name)."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import current_app, request, url_for
from marshmallow import Schema, fields, validate

from accounts import imports
from accounts.csvio import CsvImportError, mapping_sets, resolve_mapping
from accounts.imports import jobs as import_jobs
from accounts.imports.owners import parse_owners_text, with_owners
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
    sheet = fields.String(load_default=None, validate=validate.Length(min=1, max=100), metadata={
        "description": "For an .xlsx workbook: the sheet to read (default: the mapping's \"sheet\", else the first)."})
    create_owners = fields.Boolean(load_default=False, metadata={"description": (
        "Create the owners the file names and crmpm lacks, as inactive users on the file's branch (they "
        "cannot log in); listed in the report's created_owners. Administrators only (403 otherwise). "
        "It may also come as a form field.")})
    async_ = async_flag(
        "Run the import as a job: answer 202 with the job at once (Location: /api/v1/jobs/{id}); the job's "
        "result is this endpoint's report once it has succeeded. The checks made before any row is read "
        "(kind, mapping, file format and header, size) still answer 4xx at once, and no job is started.")


class ImportFilesSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary", "description": (
        "The CSV, or an .xlsx workbook (told by its content; an old .xls is refused: save it as .xlsx).")})
    mapping = fields.Raw(metadata={"type": "string", "format": "binary", "description": (
        "The mapping JSON file; it may also come as a form field named mapping, holding the JSON or the name "
        "of a shipped mapping set (zoho, amocrm, bitrix24, bitrix24-rest: its mapping for the kind).")})
    owners = fields.Raw(metadata={"type": "string", "format": "binary", "description": (
        "An owners table (CSV name,email as the report's owners_table, or JSON {name: email}) over the "
        "mapping's \"owners\"; it may also come as a form field named owners.")})


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
    warnings = fields.List(fields.Nested(RowErrorSchema), metadata={"description": (
        "Values of rows that import but are not kept as written (line, column, field, value, reason): a "
        "phone that cannot be normalized, an extension dropped, an INN given back its leading zero...")})
    warnings_total = fields.Integer(metadata={"description": (
        "How many warnings there are; a job's report lists the first 1000 of them.")})
    ignored_fields = fields.List(fields.String())
    notes = fields.List(fields.String())
    unmatched_owners = fields.List(fields.Dict(), metadata={"description": (
        "Owners the file names that match no user: name, rows, reason, suggested (an e-mail or null).")})
    created_owners = fields.List(fields.Dict(), metadata={"description": (
        "Owners created as inactive users (create_owners): name, email, rows, branch.")})
    owners_table = fields.Dict(metadata={"description": (
        "The unmatched owners as a table to fill in and send back as owners: name -> e-mail (suggested or empty).")})
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
    create_owners = args["create_owners"] or request.form.get("create_owners", "").lower() in ("true", "1", "on")
    owners = _owners_table(files)
    # Kept where a later request removes it should this process be killed mid-import (client data).
    with upload_folder(current_app.config["UPLOAD_DIR"]) as folder:
        csv_path, mapping_path = Path(folder) / "upload.csv", Path(folder) / "mapping.json"
        _save(files["file"], csv_path)
        named = (request.form.get("mapping") or "").strip()
        if "mapping" in files:
            _save(files["mapping"], mapping_path)
        elif named in mapping_sets():
            mapping_path = named
        elif named:
            mapping_path.write_text(request.form["mapping"], encoding="utf-8")
        else:
            raise Invalid("a mapping is needed: a file or a form field named mapping",
                          errors={"mapping": ["required"]})
        if args["async_"]:
            return _start_job(kind, args, csv_path, mapping_path, files["file"].filename or "upload.csv",
                              owners=owners, create_owners=create_owners)
        try:
            mapping = with_owners(resolve_mapping(mapping=mapping_path, kind=kind), owners)
            report = imports.import_csv(session(), actor=current_user(), kind=kind, path=csv_path,
                                        mapping=mapping, dry_run=args["dry_run"], partial=args["partial"],
                                        tz=args["tz"], sheet=args["sheet"], create_owners=create_owners)
        except CsvImportError as exc:
            raise imports.file_error(exc) from None
    refusal = report.refusal()
    if refusal is not None:
        raise refusal
    return report.to_dict()


def _owners_table(files) -> dict[str, str] | None:
    """The owners table sent as a file or a form field (CSV or JSON), or None."""
    if "owners" in files:
        try:
            text = files["owners"].stream.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid("owners: the owners table must be UTF-8", errors={"owners": ["not UTF-8"]}) from None
    else:
        text = request.form.get("owners") or ""
    try:
        return parse_owners_text(text) or None
    except CsvImportError as exc:
        raise imports.file_error(exc) from None


def _start_job(kind: str, args: dict, csv_path: Path, mapping_path: Path | str, file_name: str, *,
               owners: dict | None, create_owners: bool):
    """202 with the import job (its file kept in the database) and where to follow it."""
    saved = isinstance(mapping_path, str)  # a shipped set's name
    try:
        text = mapping_path if saved else mapping_path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("mapping: the mapping must be UTF-8 JSON", errors={"mapping": ["not UTF-8"]}) from None
    # The report's page, when the pages are installed (named, never imported: the API knows no page).
    page = (lambda job_id: url_for(REPORT_PAGE, import_id=job_id)) if REPORT_PAGE in current_app.view_functions \
        else None
    job = import_jobs.start_import(session(), actor=current_user(), kind=kind, path=csv_path, file_name=file_name,
                                   mapping=text, saved=saved, dry_run=args["dry_run"], partial=args["partial"],
                                   tz=args["tz"], url=page, sheet=args["sheet"], owners=owners,
                                   create_owners=create_owners)
    return accepted(job)

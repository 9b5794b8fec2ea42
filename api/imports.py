"""CSV import: ``POST /imports/{kind}`` with the CSV and its mapping as multipart files."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import current_app, request
from marshmallow import Schema, fields, validate

from accounts import imports
from accounts.csvio import CsvImportError
from api.common import Blueprint, current_user, session
from crmpm.errors import Invalid, NotFound
from crmpm.limits import accepts_upload
from crmpm.uploads import upload_folder

blp = Blueprint("imports", __name__, url_prefix="/imports",
                description="CSV import of users, accounts, contacts, leads, deals and interactions")


class ImportArgs(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "Check everything, write nothing."})
    partial = fields.Boolean(load_default=False, metadata={
        "description": "Import the good rows and report the others (default: all or nothing)."})
    tz = fields.String(load_default="Europe/Moscow", validate=validate.Length(min=1, max=64),
                       metadata={"description": "Zone of times written without one."})


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
    error_rows = fields.Integer()
    dry_run = fields.Boolean()
    partial = fields.Boolean()
    committed = fields.Boolean()
    errors = fields.List(fields.Nested(RowErrorSchema))
    ignored_fields = fields.List(fields.String())
    notes = fields.List(fields.String())


def _save(upload, target: Path) -> None:
    # The request body is capped at MAX_CSV_UPLOAD_LENGTH (accepts_upload); copied in pieces, not read whole.
    with target.open("wb") as out:
        shutil.copyfileobj(upload.stream, out, 1024 * 1024)


@blp.route("/<string:kind>", methods=["POST"])
@accepts_upload("MAX_CSV_UPLOAD_LENGTH")
@blp.arguments(ImportArgs, location="query")
@blp.arguments(ImportFilesSchema, location="files")
@blp.response(200, ImportReportSchema)
def import_csv(args, files, kind):
    """Import a CSV file of ``kind`` (users, accounts, contacts, leads, deals, interactions) as the caller.

    All or nothing unless ``partial``: a file with rows in error writes nothing and
    answers 422 listing every row (line, column, reason) in ``errors.rows``; 403 or
    404 when the caller's rights refused every row. ``dry_run`` reports without writing.
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

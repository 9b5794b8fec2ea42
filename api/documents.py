"""Documents on accounts, contacts, deals, projects, WBS elements and activities: upload, versions, search."""

from __future__ import annotations

from flask import current_app
from marshmallow import Schema, fields, validate

from accounts.documents import services
from accounts.documents.models import KINDS, SUBJECT_TYPES, TAG_LENGTH
from api.common import Blueprint, Id, PageArgs, Trimmed, current_user, page_schema, paginate, session
from crmpm.downloads import send_stored_file
from crmpm.errors import NotFound
from crmpm.limits import accepts_upload
from crmpm.ratelimit import throttle
from eps.permissions import Permission

blp = Blueprint("documents", __name__, url_prefix="", description="Documents and their versions")


class UploadFileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class UploadFormSchema(Schema):
    kind = fields.String(load_default="other", validate=validate.OneOf(KINDS))
    tags = fields.String(load_default="", validate=validate.Length(max=20 * (TAG_LENGTH + 1)),
                         metadata={"description": "comma-separated"})
    name = Trimmed(validate=validate.Length(min=1, max=255),
                   metadata={"description": "the document's file name (default: the uploaded file's)"})
    document_id = Id(metadata={"description": "add the file as a new version of this document of the subject"})


class VersionFormSchema(Schema):
    name = Trimmed(validate=validate.Length(min=1, max=255))


class DocumentUpdateSchema(Schema):
    name = Trimmed(validate=validate.Length(min=1, max=255))
    kind = fields.String(validate=validate.OneOf(KINDS))
    tags = fields.List(fields.String(validate=validate.Length(max=TAG_LENGTH)), validate=validate.Length(max=20))
    client_visible = fields.Boolean(metadata={"description": "shown to the account's clients on the portal"})


class VersionReadSchema(Schema):
    number = fields.Integer()
    file_name = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by_id = Id(allow_none=True)
    uploaded_at = fields.DateTime()


class DocumentReadSchema(Schema):
    id = fields.Integer()
    subject_type = fields.String()
    subject_id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    tags = fields.Function(lambda document: [tag.tag for tag in document.tags])
    current_version = fields.Integer()
    generated_from = fields.String(allow_none=True)
    client_visible = fields.Boolean()
    created_by_id = Id(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class DocumentListArgs(PageArgs):
    q = fields.String(validate=validate.Length(min=1, max=200),
                      metadata={"description": "words in the name or the text of the current version"})
    kind = fields.String(validate=validate.OneOf(KINDS))
    tag = fields.String(validate=validate.Length(min=1, max=TAG_LENGTH))
    subject_type = fields.String(validate=validate.OneOf(SUBJECT_TYPES))


class DownloadArgs(Schema):
    version = fields.Integer(validate=validate.Range(min=1), metadata={"description": "default: the current one"})


DocumentPageSchema = page_schema(DocumentReadSchema)
VersionPageSchema = page_schema(VersionReadSchema)


def _max_length() -> int:
    return int(current_app.config["MAX_DOCUMENT_LENGTH"])


def _subject(subject_type: str, subject_id: int, permission=Permission.read, project_id: int | None = None):
    return services.get_subject_or_raise(session(), user=current_user(), subject_type=subject_type,
                                         subject_id=subject_id, permission=permission, project_id=project_id)


def _upload(subject_type: str, subject_id: int, form: dict, files: dict, project_id: int | None = None):
    db, user = session(), current_user()
    subject = _subject(subject_type, subject_id, Permission.edit, project_id=project_id)
    upload = files["file"]
    data = upload.read()
    name = form.get("name") or upload.filename or ""
    if form.get("document_id") is not None:
        document = services.get_document_or_raise(db, user=user, document_id=form["document_id"],
                                                  field="document_id")
        if (document.subject_type, document.subject_id) != (subject_type, subject_id):
            raise NotFound("document {document_id} not found", document_id=document.id,
                           errors={"document_id": ["not a document of this subject"]})
        services.add_version(db, actor=user, document=document, name=name, data=data, max_length=_max_length())
        return document
    return services.add_document(db, actor=user, subject=subject, name=name, kind=form["kind"], data=data,
                                 tags=form["tags"], max_length=_max_length())


def _listed(subject_type: str, subject_id: int, args: dict, project_id: int | None = None):
    subject = _subject(subject_type, subject_id, project_id=project_id)
    return paginate(services.list_documents(session(), subject=subject), args)


_UPLOAD_DOC = ("Upload a document (multipart: ``file``, ``kind``, ``tags`` comma-separated, optional ``name``), "
               "or a new version of one of the subject's documents (``document_id``). Edit rights.")


def _subject_routes(path: str, subject_type: str, id_name: str, project_scoped: bool = False):
    """POST and GET ``path`` for one subject type (``id_name`` the URL's id of the subject)."""

    def upload(form, files, **ids):
        throttle().attempt("document-upload", current_user().id)
        project_id = ids.get("project_id") if project_scoped else None
        return _upload(subject_type, ids[id_name], form, files, project_id=project_id)

    def listing(args, **ids):
        project_id = ids.get("project_id") if project_scoped else None
        return _listed(subject_type, ids[id_name], args, project_id=project_id)

    upload.__name__ = f"upload_{subject_type}_document"
    upload.__doc__ = _UPLOAD_DOC
    listing.__name__ = f"list_{subject_type}_documents"
    listing.__doc__ = f"The documents of a {subject_type.replace('_', ' ')}, newest first (read rights)."
    view = blp.response(201, DocumentReadSchema)(upload)
    view = blp.throttled()(view)
    view = blp.arguments(UploadFileSchema, location="files")(view)
    view = blp.arguments(UploadFormSchema, location="form")(view)
    view = accepts_upload("MAX_DOCUMENT_LENGTH")(view)
    blp.route(path, methods=["POST"])(view)
    view = blp.response(200, DocumentPageSchema)(listing)
    view = blp.arguments(PageArgs, location="query")(view)
    blp.route(path, methods=["GET"])(view)


_subject_routes("/accounts/<int:account_id>/documents", "account", "account_id")
_subject_routes("/contacts/<int:contact_id>/documents", "contact", "contact_id")
_subject_routes("/deals/<int:deal_id>/documents", "deal", "deal_id")
_subject_routes("/projects/<int:project_id>/documents", "project", "project_id")
_subject_routes("/projects/<int:project_id>/wbs/<int:element_id>/documents", "wbs_element", "element_id",
                project_scoped=True)
_subject_routes("/projects/<int:project_id>/activities/<int:activity_id>/documents", "activity", "activity_id",
                project_scoped=True)


def _document(document_id, permission=Permission.read):
    return services.get_document_or_raise(session(), user=current_user(), document_id=document_id,
                                          permission=permission)


@blp.route("/documents", methods=["GET"])
@blp.arguments(DocumentListArgs, location="query")
@blp.response(200, DocumentPageSchema)
def search_documents(args):
    """Documents the caller may read, found by words in their names or text (PDF, DOCX, text files)."""
    query = services.search_documents(session(), user=current_user(), text=args.get("q"), kind=args.get("kind"),
                                      tag=args.get("tag"), subject_type=args.get("subject_type"))
    return paginate(query, args)


@blp.route("/documents/<int:document_id>", methods=["GET"])
@blp.response(200, DocumentReadSchema)
def get_document(document_id):
    """One document."""
    return _document(document_id)


@blp.route("/documents/<int:document_id>", methods=["PATCH"])
@blp.arguments(DocumentUpdateSchema)
@blp.response(200, DocumentReadSchema)
def update_document(data, document_id):
    """Rename a document, change its kind, replace its tags or show it to the clients (edit rights)."""
    document = _document(document_id)
    return services.update_document(session(), actor=current_user(), document=document, **data)


@blp.route("/documents/<int:document_id>", methods=["DELETE"])
@blp.response(204)
def delete_document(document_id):
    """Delete a document with all its versions (edit rights)."""
    services.delete_document(session(), actor=current_user(), document=_document(document_id))


@blp.route("/documents/<int:document_id>/versions", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, VersionPageSchema)
def list_versions(args, document_id):
    """A document's versions, newest first."""
    document = _document(document_id)
    return paginate(services.list_versions(session(), document=document), args)


@blp.route("/documents/<int:document_id>/versions", methods=["POST"])
@accepts_upload("MAX_DOCUMENT_LENGTH")
@blp.arguments(VersionFormSchema, location="form")
@blp.arguments(UploadFileSchema, location="files")
@blp.response(201, VersionReadSchema)
@blp.throttled()
def add_version(form, files, document_id):
    """Upload a new version of a document (multipart ``file``; edit rights). Older versions stay."""
    throttle().attempt("document-upload", current_user().id)
    document = _document(document_id)
    upload = files["file"]
    return services.add_version(session(), actor=current_user(), document=document,
                                name=form.get("name") or upload.filename or "", data=upload.read(),
                                max_length=_max_length())


@blp.route("/documents/<int:document_id>/download", methods=["GET"])
@blp.arguments(DownloadArgs, location="query")
@blp.response(200, {"type": "string", "format": "binary"}, content_type="application/octet-stream",
              description="The file as an attachment, with the type read from its bytes when it was uploaded",
              headers={"Content-Disposition": {"description": "attachment; filename=<the version's file name>",
                                               "schema": {"type": "string"}}})
def download_document(args, document_id):
    """The file of a document's current version (or ``version``), as an attachment with its type."""
    db = session()
    version = services.version_of(db, document=_document(document_id), number=args.get("version"))
    return send_stored_file(services.read_version(db, version), filename=version.file_name,
                            mimetype=version.content_type)

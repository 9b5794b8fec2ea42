"""Generated paperwork (offer, contract, invoice, act) from deals, projects and invoices, and the templates
administrators replace (``accounts.paperwork``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from accounts.deals import get_deal_or_raise
from accounts.paperwork import services
from accounts.paperwork.render import MAX_TEMPLATE_BYTES
from api.common import Blueprint, Id, current_user, session
from api.documents import DocumentReadSchema
from crmpm.downloads import send_download
from crmpm.limits import accepts_upload
from crmpm.ratelimit import throttle
from eps.services import get_project_or_raise

blp = Blueprint("paperwork", __name__, url_prefix="", description="Generated paperwork and its templates")

KIND = fields.String(required=True, validate=validate.OneOf(services.KINDS), metadata={
    "description": "offer (коммерческое предложение), contract (договор), invoice (счёт на оплату) or act "
                   "(акт выполненных работ); invoice and act only from an issued invoice"})
LANGUAGE = fields.String(load_default="ru", validate=validate.OneOf(services.LANGUAGES))


class GenerateSchema(Schema):
    kind = KIND
    language = LANGUAGE
    format = fields.String(load_default="pdf", validate=validate.OneOf(services.FORMATS), metadata={
        "description": "pdf (made by LibreOffice; 503 when the server has none) or docx"})


class TemplateReadSchema(Schema):
    kind = fields.String()
    language = fields.String()
    custom = fields.Boolean(metadata={"description": "an administrator's replacement (false: the default)"})
    name = fields.String(metadata={"description": "as generated documents record it (generated_from)"})
    file_name = fields.String()
    uploaded_at = fields.DateTime(allow_none=True)
    uploaded_by_id = Id(allow_none=True)


class TemplateFileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


def _generate(data: dict, **sources):
    user = current_user()
    throttle().attempt("paperwork", user.id)
    return services.generate(session(), actor=user, kind=data["kind"], language=data["language"],
                             fmt=data["format"], **sources)


_GENERATE = ("Make a document from a template and store it as a new document (version 1) on the {target}. "
             "Edit rights on the {target}. Body: ``kind``, ``language`` (ru, en), ``format`` (pdf, docx).")


@blp.route("/deals/<int:deal_id>/paperwork", methods=["POST"])
@blp.arguments(GenerateSchema)
@blp.response(201, DocumentReadSchema)
@blp.throttled()
def generate_for_deal(data, deal_id):
    deal = get_deal_or_raise(session(), user=current_user(), deal_id=deal_id)
    return _generate(data, deal=deal)


@blp.route("/projects/<int:project_id>/paperwork", methods=["POST"])
@blp.arguments(GenerateSchema)
@blp.response(201, DocumentReadSchema)
@blp.throttled()
def generate_for_project(data, project_id):
    project = get_project_or_raise(session(), user=current_user(), project_id=project_id)
    return _generate(data, project=project)


@blp.route("/invoices/<int:invoice_id>/paperwork", methods=["POST"])
@blp.arguments(GenerateSchema)
@blp.response(201, DocumentReadSchema)
@blp.throttled()
def generate_for_invoice(data, invoice_id):
    invoice = services.get_invoice_or_raise(session(), user=current_user(), invoice_id=invoice_id)
    return _generate(data, invoice=invoice)


generate_for_deal.__doc__ = _GENERATE.format(target="deal")
generate_for_project.__doc__ = _GENERATE.format(target="project")
generate_for_invoice.__doc__ = _GENERATE.format(target="invoice's deal (else its project)")


@blp.route("/paperwork/templates", methods=["GET"])
@blp.response(200, TemplateReadSchema(many=True))
def list_templates():
    """Every kind and language's template: the default or an administrator's replacement."""
    return services.list_templates(session())


@blp.route("/paperwork/templates/<kind>/<language>", methods=["PUT"])
@blp.arguments(TemplateFileSchema, location="files")
@blp.response(200, TemplateReadSchema)
@accepts_upload()
def upload_template(files, kind, language):
    """Replace a template (administrators; multipart ``file``, a DOCX). It must render with sample data:
    unknown placeholders are refused, named."""
    upload = files["file"]
    return services.upload_template(session(), actor=current_user(), kind=kind, language=language,
                                    data=upload.read(MAX_TEMPLATE_BYTES + 1), file_name=upload.filename or "")


@blp.route("/paperwork/templates/<kind>/<language>", methods=["DELETE"])
@blp.response(200, TemplateReadSchema)
def restore_template(kind, language):
    """Go back to the default template (administrators)."""
    return services.restore_default(session(), actor=current_user(), kind=kind, language=language)


@blp.route("/paperwork/templates/<kind>/<language>/download", methods=["GET"])
@blp.response(200, {"type": "string", "format": "binary"}, content_type=services.DOCX_TYPE,
              description="The template in use, as an attachment")
def download_template(kind, language):
    """The template in use for a kind and language (the default or the replacement), to edit and upload."""
    data, info = services.template_of(session(), kind, language)
    return send_download(data, filename=info.file_name, mimetype=services.DOCX_TYPE)

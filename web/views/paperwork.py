"""Generated paperwork on the pages: "Generate document" for a deal or a project (kind, language, format),
the generated document (downloaded through the documents' pages), and the templates page for administrators (download, upload a
replacement, restore the default). The services decide rights (``accounts.paperwork.services``); these
pages load, call one service and redirect.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FileField, SelectField
from wtforms.validators import DataRequired

from accounts.deals import get_deal_or_raise
from accounts.documents import services as documents
from accounts.paperwork import pdf, services
from accounts.paperwork.render import MAX_TEMPLATE_BYTES
from crmpm.database import db
from crmpm.downloads import send_download
from crmpm.limits import accepts_upload
from crmpm.ratelimit import throttle
from eps.permissions import Permission
from eps.services import get_project_or_raise
from web.forms import ActionForm, check
from web.i18n import translate_error
from web.pages import page_blueprint, require_admin

# Named so: the API has a `paperwork` blueprint.
bp = page_blueprint("papers", __name__, url_prefix="/paperwork")
TEMPLATE = f"<any({','.join(services.KINDS)}):kind>/<any({','.join(services.LANGUAGES)}):language>"

KIND_LABELS = {"offer": _l("Commercial offer"), "contract": _l("Contract"), "invoice": _l("Invoice for payment"),
               "act": _l("Act of completed work")}
LANGUAGE_LABELS = {"ru": _l("Russian"), "en": _l("English")}
FORMAT_LABELS = {"pdf": _l("PDF"), "docx": _l("Word (DOCX)")}


class GenerateForm(FlaskForm):
    kind = SelectField(_l("Document"), validators=[DataRequired()])
    language = SelectField(_l("Language"), validators=[DataRequired()])
    format = SelectField(_l("Format"), validators=[DataRequired()])

    def __init__(self, *args, kinds=services.KINDS, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [(kind, KIND_LABELS[kind]) for kind in kinds]
        self.language.choices = [(code, label) for code, label in LANGUAGE_LABELS.items()]
        self.format.choices = [(code, label) for code, label in FORMAT_LABELS.items()
                               if code != "pdf" or pdf.available()]


class TemplateUploadForm(FlaskForm):
    file = FileField(_l("Template (DOCX)"), validators=[DataRequired()])


# Without an invoice only the offer and the contract can be made; invoices and acts come from an invoice.
WITHOUT_INVOICE = tuple(kind for kind in services.KINDS if kind not in services.FROM_INVOICE)


def _generate_page(target, kind_of_target: str, action_url: str, back_url: str):
    form = GenerateForm(kinds=WITHOUT_INVOICE, data={"language": g.user.locale if g.user.locale in services.LANGUAGES
                                                     else "ru"})
    return render_template("paperwork/generate.html", form=form, target=target, kind_of_target=kind_of_target,
                           action_url=action_url, back_url=back_url, pdf_available=pdf.available())


def _generate(form_url: str, kinds=WITHOUT_INVOICE, **source):
    form = GenerateForm(kinds=kinds)
    check(form)
    throttle().attempt("paperwork", g.user.id)
    try:
        document = services.generate(db.session, actor=g.user, kind=form.kind.data, language=form.language.data,
                                     fmt=form.format.data, **source)
    except pdf.RendererUnavailable as exc:
        db.session.rollback()
        flash(translate_error(exc), "error")
        return redirect(form_url, code=303)
    flash(_("The document was made."), "success")
    return redirect(url_for("papers.document", document_id=document.id), code=303)


@bp.route("/deals/<int:deal_id>")
def deal_form(deal_id: int):
    deal = get_deal_or_raise(db.session, user=g.user, deal_id=deal_id, permission=Permission.edit)
    return _generate_page(deal, "deal", url_for("papers.deal_generate", deal_id=deal.id),
                          url_for("crm.deal", deal_id=deal.id))


@bp.route("/deals/<int:deal_id>", methods=["POST"])
def deal_generate(deal_id: int):
    deal = get_deal_or_raise(db.session, user=g.user, deal_id=deal_id)
    return _generate(url_for("papers.deal_form", deal_id=deal.id), deal=deal)


@bp.route("/projects/<int:project_id>")
def project_form(project_id: int):
    project = get_project_or_raise(db.session, user=g.user, project_id=project_id, permission=Permission.edit)
    return _generate_page(project, "project", url_for("papers.project_generate", project_id=project.id),
                          url_for("pm.project", project_id=project.id))


@bp.route("/projects/<int:project_id>", methods=["POST"])
def project_generate(project_id: int):
    project = get_project_or_raise(db.session, user=g.user, project_id=project_id)
    return _generate(url_for("papers.project_form", project_id=project.id), project=project)


@bp.route("/invoices/<int:invoice_id>")
def invoice_form(invoice_id: int):
    invoice = services.get_invoice_or_raise(db.session, user=g.user, invoice_id=invoice_id)
    project = get_project_or_raise(db.session, user=g.user, project_id=invoice.project_id,
                                   permission=Permission.edit)
    form = GenerateForm(data={"kind": "invoice",
                              "language": g.user.locale if g.user.locale in services.LANGUAGES else "ru"})
    back = url_for("billing.show", invoice_id=invoice.id)
    return render_template("paperwork/generate.html", form=form, target=project, kind_of_target="invoice",
                           action_url=url_for("papers.invoice_generate", invoice_id=invoice.id), back_url=back,
                           pdf_available=pdf.available())


@bp.route("/invoices/<int:invoice_id>", methods=["POST"])
def invoice_generate(invoice_id: int):
    invoice = services.get_invoice_or_raise(db.session, user=g.user, invoice_id=invoice_id)
    return _generate(url_for("papers.invoice_form", invoice_id=invoice.id), kinds=services.KINDS, invoice=invoice)


@bp.route("/documents/<int:document_id>")
def document(document_id: int):
    found = documents.get_document_or_raise(db.session, user=g.user, document_id=document_id)
    version = documents.version_of(db.session, document=found)
    if found.subject_type == "deal":
        back = url_for("crm.deal", deal_id=found.subject_id)
    elif found.subject_type == "project":
        back = url_for("pm.project", project_id=found.subject_id)
    else:
        back = None
    return render_template("paperwork/document.html", document=found, version=version, back_url=back,
                           kind_label=KIND_LABELS.get(found.kind, found.kind))


@bp.route("/templates")
def templates():
    require_admin()
    return render_template("paperwork/templates.html", templates=services.list_templates(db.session),
                           kind_labels=KIND_LABELS, language_labels=LANGUAGE_LABELS,
                           upload_form=TemplateUploadForm(), action_form=ActionForm())


@bp.route(f"/templates/{TEMPLATE}/download")
def template_download(kind: str, language: str):
    require_admin()
    data, info = services.template_of(db.session, kind, language)
    return send_download(data, filename=info.file_name, mimetype=services.DOCX_TYPE)


@bp.route(f"/templates/{TEMPLATE}", methods=["POST"])
@accepts_upload()
def template_upload(kind: str, language: str):
    require_admin()
    upload = request.files.get("file")
    data = upload.read(MAX_TEMPLATE_BYTES + 1) if upload is not None else b""
    services.upload_template(db.session, actor=g.user, kind=kind, language=language, data=data,
                             file_name=(upload.filename or "") if upload is not None else "")
    flash(_("The template was replaced."), "success")
    return redirect(url_for("papers.templates"), code=303)


@bp.route(f"/templates/{TEMPLATE}/restore", methods=["POST"])
def template_restore(kind: str, language: str):
    require_admin()
    check(ActionForm())
    services.restore_default(db.session, actor=g.user, kind=kind, language=language)
    flash(_("The default template is back."), "success")
    return redirect(url_for("papers.templates"), code=303)

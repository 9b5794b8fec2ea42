"""Documents on the pages: the "Documents" section of an account, contact, deal, project or activity page
(list with versions, upload by drag and drop or a file field, new version, download, kind and tags, delete),
and the document search page (``/documents/?q=…``).

A page shows the section with ``{{ documents_section(subject) }}`` (a template global): it lists the
subject's documents (the page has already loaded the subject with read rights) and the forms when the user
may change them. The forms post here; the services decide rights and refuse bad files.
"""

from __future__ import annotations

from flask import current_app, flash, g, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from accounts.documents import services
from accounts.documents.models import KINDS, Document
from crmpm.database import db
from crmpm.downloads import send_stored_file
from crmpm.errors import Invalid, NotFound
from crmpm.limits import accepts_upload
from crmpm.ratelimit import throttle
from crmpm.search import MAX_QUERY_LENGTH
from eps.permissions import Permission, access_to
from web.pages import page_blueprint, safe_next, wants_json
from web.pagination import paginate

# Named so: the API has a `documents` blueprint.
bp = page_blueprint("document_pages", __name__, url_prefix="/documents")

# How many of a subject's documents its page lists (newest first); the search page shows the rest.
SECTION_LIMIT = 50


def kind_labels() -> dict[str, str]:
    return {"contract": _("Contract"), "offer": _("Offer"), "invoice": _("Invoice"), "act": _("Act"),
            "drawing": _("Drawing"), "other": _("Other")}


def documents_section(subject) -> Markup:
    """The "Documents" section of ``subject``'s page (the page has loaded ``subject`` with read rights)."""
    session = db.session
    anchor = services.anchor_of(session, subject)
    documents = session.scalars(services.list_documents(session, subject=subject)
                                .options(selectinload(Document.versions), selectinload(Document.tags))
                                .limit(SECTION_LIMIT)).all()
    can_edit = access_to(session, user=g.user, obj=anchor.governed_by).can(Permission.edit)
    return Markup(render_template("documents/_section.html", documents=documents, can_edit=can_edit,
                                  subject_type=anchor.subject_type, subject_id=anchor.subject_id,
                                  kinds=kind_labels(), back=request.full_path.rstrip("?")))


@bp.app_context_processor
def _section_helper() -> dict:
    return {"documents_section": documents_section}


def _done(message: str):
    if wants_json():
        return jsonify({"message": message})
    flash(message, "success")
    return redirect(safe_next(), code=303)


@bp.route("/upload/<any(account, contact, deal, project, wbs_element, activity):subject_type>/<int:subject_id>",
          methods=["POST"])
@accepts_upload("MAX_DOCUMENT_LENGTH")
def upload(subject_type: str, subject_id: int):
    """Files dropped or chosen on a page: each a new document, or a new version of ``document_id``."""
    session, user = db.session, g.user
    throttle().attempt("document-upload", user.id)
    subject = services.get_subject_or_raise(session, user=user, subject_type=subject_type, subject_id=subject_id,
                                            permission=Permission.edit)
    files = [upload for upload in request.files.getlist("file") if upload and (upload.filename or upload.content_length)]
    if not files:
        raise Invalid(_("Choose a file to upload."), errors={"file": ["missing"]})
    limit = int(current_app.config["MAX_DOCUMENT_LENGTH"])
    document_id = request.form.get("document_id", type=int)
    if document_id is not None:
        document = services.get_document_or_raise(session, user=user, document_id=document_id)
        if (document.subject_type, document.subject_id) != (subject_type, subject_id):
            raise NotFound("not found")
        services.add_version(session, actor=user, document=document, name=files[0].filename or "",
                             data=files[0].read(), max_length=limit)
        return _done(_("New version of %(name)s uploaded.", name=document.name))
    for upload_file in files:
        services.add_document(session, actor=user, subject=subject, name=upload_file.filename or "",
                              kind=request.form.get("kind") or "other", data=upload_file.read(),
                              tags=request.form.get("tags", ""), max_length=limit)
    return _done(_("Uploaded: %(names)s.", names=", ".join(upload_file.filename or "" for upload_file in files)))


@bp.route("/<int:document_id>/download")
def download(document_id: int):
    session = db.session
    document = services.get_document_or_raise(session, user=g.user, document_id=document_id)
    version = services.version_of(session, document=document, number=request.args.get("version", type=int))
    return send_stored_file(services.read_version(session, version), filename=version.file_name,
                            mimetype=version.content_type)


@bp.route("/<int:document_id>", methods=["POST"])
def update(document_id: int):
    session = db.session
    document = services.get_document_or_raise(session, user=g.user, document_id=document_id)
    services.update_document(session, actor=g.user, document=document, name=request.form.get("name") or None,
                             kind=request.form.get("kind") or None, tags=request.form.get("tags", ""),
                             client_visible=bool(request.form.get("client_visible"))
                             if "client_visible_shown" in request.form else None)
    return _done(_("Document %(name)s saved.", name=document.name))


@bp.route("/<int:document_id>/delete", methods=["POST"])
def delete(document_id: int):
    session = db.session
    document = services.get_document_or_raise(session, user=g.user, document_id=document_id)
    name = document.name
    services.delete_document(session, actor=g.user, document=document)
    return _done(_("Document %(name)s deleted.", name=name))


@bp.route("/")
def index():
    """The documents the user may read, found by words in their names or text."""
    session = db.session
    text = (request.args.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    kind = request.args.get("kind") or None
    if kind not in KINDS:
        kind = None
    query = services.search_documents(session, user=g.user, text=text or None, kind=kind).options(
        selectinload(Document.tags))
    page = paginate(session, query, args={"q": text, "kind": kind or ""})
    subjects = {document.id: services.document_subject(session, document) for document in page.items}
    return render_template("documents/index.html", page=page, text=text, kind=kind, kinds=kind_labels(),
                           subjects=subjects)

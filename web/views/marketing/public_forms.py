"""The public web-to-lead form: ``/forms/<key>``, shown to a client's site visitors, also inside an iframe.

This blueprint is not a page blueprint (``web.pages.page_blueprint``) on purpose:
- No session and no CSRF token. CSRF protects a logged-in user's session from a request another site makes in
  their name; this form reads and changes nothing of anyone's: a submission is an anonymous visitor's request
  whichever site sends it, so a cross-site POST (the client's own site posting to it) is its very purpose. It
  sets no cookie and reads no session. What protects it are the random key, the honeypot, the rate limit per
  client address (``web-form`` in ``crmpm.ratelimit``) and the size cap.
- Its own Content-Security-Policy: ``frame-ancestors *`` so that any site may embed it (every other page keeps
  ``'none'`` and ``X-Frame-Options: DENY``); nothing else is loosened (no scripts at all).
- The JSON answer (``Accept: application/json``, for a site's own script) carries
  ``Access-Control-Allow-Origin: *`` without credentials: it says only whether the submission was taken.
- Pages in the form's language, not the visitor's; an unknown or inactive key is a 404.
"""

from __future__ import annotations

import logging

from flask import Blueprint, g, jsonify, make_response, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from accounts.marketing import forms
from crmpm.database import db
from crmpm.errors import Invalid, NotFound, TooManyAttempts
from crmpm.ratelimit import client_address, throttle

log = logging.getLogger(__name__)

bp = Blueprint("public_forms", __name__)
bp.public = True  # read by the tests that sweep every page

KIND = "web-form"
# The most a submission's body may hold: seven fields at their longest, with room for the encoding.
MAX_BODY = 32 * 1024
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                           "form-action 'self'; base-uri 'none'; frame-ancestors *")


def field_labels() -> dict[str, str]:
    """Each lead field's label when the form gives none (in the current locale)."""
    return {"contact_name": _("Your name"), "company": _("Company"), "email": _("E-mail"), "phone": _("Phone"),
            "tax_id": _("Tax ID (INN)"), "product": _("Product or service"), "message": _("Message")}


def error_texts() -> dict[str, str]:
    return {forms.REQUIRED: _("Please fill in this field."),
            forms.BAD_EMAIL: _("This is not a valid e-mail address."),
            forms.BAD_PHONE: _("This is not a valid phone number."),
            forms.BAD_TAX_ID: _("This is not a valid tax ID."),
            forms.TOO_LONG: _("This is too long or holds characters that cannot be stored.")}


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


@bp.before_request
def _before():
    # No user on these pages, whoever's cookie the browser sends: they read nothing private.
    g.user = None


@bp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers.pop("X-Frame-Options", None)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _answer(status: int, *, form=None, title: str, message: str, json_body: dict | None = None, retry: int = 0):
    """A small standalone page (or JSON) in the form's language, or the browser's when there is no form."""
    if _wants_json():
        # A script's answer: a status word, the message in the form's language, and (for a refusal) the errors.
        response = jsonify({"status": "error", **(json_body or {}), "message": message,
                            **({"errors": {}} if status >= 400 else {})})
    else:
        response = render_template("marketing/forms/public_message.html", title=title, message=message, status=status,
                                   language=form.language if form is not None else _language())
    response = make_response(response)
    response.status_code = status
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


def _language() -> str:
    return request.accept_languages.best_match(list(forms.LANGUAGES)) or "ru"


def _not_found():
    with force_locale(_language()):
        return _answer(404, title=_("Form not found"),
                       message=_("This form does not exist or no longer takes requests."),
                       json_body={"status": "not found"})


@bp.errorhandler(NotFound)
def _unknown(_exc):
    return _not_found()


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if exc.code == 404:
        return _not_found()
    with force_locale(_language()):
        return _answer(exc.code or 400, title=_("The request could not be taken"),
                       message=_("The request could not be taken. Please try again."),
                       json_body={"status": "error"})


def _form(key: str):
    return forms.form_for_key(db.session, key=key)


def _render(form, *, values=None, errors=None, status=200):
    with force_locale(form.language):
        labels = field_labels()
        texts = error_texts()
        fields = [{"name": f["name"], "required": f.get("required", False),
                   "label": f.get("label") or labels[f["name"]]} for f in form.fields]
        page = render_template("marketing/forms/public_form.html", form=form, fields=fields, values=values or {},
                               errors={name: texts.get(codes[0], codes[0]) for name, codes in (errors or {}).items()},
                               campaign=(values or {}).get(forms.CAMPAIGN_FIELD) or request.args.get("utm_campaign", ""),
                               honeypot=forms.HONEYPOT)
    return page, status


@bp.route("/forms/<key>", methods=["GET"])
def show(key: str):
    """The form, in its language; ``utm_campaign`` in the query is sent with it as the campaign's code."""
    return _render(_form(key))


@bp.route("/forms/<key>", methods=["POST"])
def submit(key: str):
    """A visitor's submission (urlencoded): the thank-you page, or JSON when asked for."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        with force_locale(_language()):
            return _answer(413, title=_("Too large"), message=_("The request is too large."),
                           json_body={"status": "too large"})
    form = _form(key)
    try:
        throttle().attempt(KIND, client_address())
    except TooManyAttempts as exc:
        with force_locale(form.language):
            return _answer(429, form=form, title=_("Too many requests"),
                           message=_("Too many requests from your address. Please try again later."),
                           json_body={"status": "too many requests", "retry_after": exc.params.get("seconds")},
                           retry=int(exc.params.get("seconds") or 60))
    data = request.form
    try:
        forms.submit(db.session, form=form, data=data, campaign_code=request.args.get("utm_campaign"))
    except Invalid as exc:
        errors = {name: codes for name, codes in (exc.errors or {}).items()}
        if _wants_json():
            with force_locale(form.language):
                texts = error_texts()
                return jsonify({"status": "invalid", "message": _("Please correct the fields marked below."),
                                "errors": {name: [texts.get(code, code) for code in codes]
                                           for name, codes in errors.items()}}), 422
        return _render(form, values=data.to_dict(), errors=errors, status=422)
    except forms.FormUnavailable as exc:
        # For staff: the form's page says the same; the visitor is told to reach the company another way.
        log.warning("web form %s refused a submission: %s", form.id, exc)
        with force_locale(form.language):
            return _answer(503, form=form, title=_("The form is not taking requests"),
                           message=_("This form is not taking requests at the moment. Please contact us another "
                                     "way."), json_body={"status": "unavailable"})
    with force_locale(form.language):
        thanks = form.thank_you or _("Thank you! We have received your request and will contact you soon.")
        if _wants_json():
            return jsonify({"status": "ok", "message": thanks}), 200
        # A bot that filled the honeypot gets the same page as a person.
        return _answer(200, form=form, title=_("Thank you"), message=thanks)

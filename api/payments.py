"""Payments and bank statements: import a 1CClientBankExchange statement, the payments to match, match by hand."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from accounts.billing import jobs as billing_jobs
from accounts.billing import payments
from api.common import Blueprint, Id, Money, PageArgs, Trimmed, current_user, page_schema, paginate, session
from api.jobs import accepted, accepted_doc
from crmpm.errors import Invalid
from crmpm.limits import accepts_upload
from crmpm.ratelimit import throttle

statements_blp = Blueprint("bank-statements", __name__, url_prefix="/bank-statements",
                           description="Bank statements (1CClientBankExchange) imported and their payments matched")
blp = Blueprint("payments", __name__, url_prefix="/payments",
                description="Payments received: recorded by hand or from statements, matched to invoices")


class StatementFileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary", "description": (
        "The statement: 1CClientBankExchange text, cp1251 (Кодировка=Windows), cp866 (DOS) or declared UTF-8.")})


class StatementReportSchema(Schema):
    statement_id = fields.Integer()
    payments = fields.Integer(metadata={"description": "Incoming documents (payments to our account) read."})
    matched = fields.Integer(metadata={"description": "New payments matched to an invoice automatically."})
    unmatched = fields.Integer(metadata={"description": "New payments left for a person to match."})
    duplicates = fields.Integer(metadata={"description": "Payments recorded already (an earlier import, or "
                                                         "repeated in the file): not recorded again."})
    skipped = fields.Integer(metadata={"description": "Outgoing and other documents: not payments to us."})


class StatementSchema(Schema):
    id = fields.Integer()
    file_name = fields.String()
    sha256 = fields.String()
    bank_account = fields.String()
    date_from = fields.Date(allow_none=True)
    date_to = fields.Date(allow_none=True)
    payments = fields.Integer()
    matched = fields.Integer()
    unmatched = fields.Integer()
    duplicates = fields.Integer()
    skipped = fields.Integer()
    uploaded_by_id = fields.Integer(allow_none=True)
    job_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class PaymentSchema(Schema):
    id = fields.Integer()
    source = fields.String(metadata={"enum": ["manual", "statement"]})
    statement_id = fields.Integer(allow_none=True)
    amount = Money()
    currency = fields.String()
    paid_on = fields.Date()
    document_number = fields.String()
    payer_name = fields.String()
    payer_inn = fields.String()
    payer_account = fields.String()
    purpose = fields.String()
    invoice_id = fields.Integer(allow_none=True)
    matched_how = fields.String(allow_none=True, metadata={"enum": ["number", "inn_amount", "manual", None]})
    matched_by_id = fields.Integer(allow_none=True)
    matched_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class PaymentCreateSchema(Schema):
    amount = Money(required=True)
    paid_on = fields.Date(required=True)
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$"), metadata={
        "description": "ISO 4217; default: the invoice's, else RUB."})
    invoice_id = Id(allow_none=True, metadata={"description": "The invoice it pays (budget rights on its project); "
                                                              "left out: into the unmatched queue (finance)."})
    payer_name = Trimmed(load_default="", validate=validate.Length(max=300))
    payer_inn = Trimmed(load_default="", validate=validate.Regexp(r"^(\d{10}|\d{12})?$"))
    payer_account = Trimmed(load_default="", validate=validate.Regexp(r"^(\d{20})?$"))
    document_number = Trimmed(load_default="", validate=validate.Length(max=40))
    purpose = Trimmed(load_default="", validate=validate.Length(max=2000))


class MatchSchema(Schema):
    invoice_id = Id(required=True)


class PaymentListArgs(PageArgs):
    matched = fields.Boolean(load_default=None, metadata={
        "description": "false: the payments waiting for a person to match them; true: the matched ones."})
    statement_id = Id(load_default=None, metadata={"description": "Only the payments of this statement."})


StatementPageSchema = page_schema(StatementSchema)
PaymentPageSchema = page_schema(PaymentSchema)


@statements_blp.route("", methods=["POST"])
@accepts_upload("MAX_UPLOAD_LENGTH")
@statements_blp.arguments(StatementFileSchema, location="files")
@statements_blp.response(201, StatementReportSchema)
@accepted_doc(statements_blp, "importing a large statement; its result is this endpoint's report")
@statements_blp.throttled()
def import_statement(files):
    """Import a bank statement: each incoming payment recorded once and matched to its invoice where the rules find it.

    Administrators and finance users (a finance grant anywhere). Importing the same statement again records
    nothing and reports every payment as a duplicate. A file that cannot be read answers 422 naming the line in
    ``errors.file`` and records nothing. A large statement (over 5,000 documents or 4 MB) is imported by a job:
    202 with the job, whose result is this report.
    """
    throttle().attempt("bank-statement", current_user().id)
    upload = files["file"]
    data = upload.read()
    if not data:
        raise Invalid("the file is empty", errors={"file": ["empty"]})
    name = upload.filename or "statement.txt"
    if billing_jobs.is_large(data):
        return accepted(billing_jobs.start_import(session(), actor=current_user(), data=data, file_name=name))
    statement = payments.import_statement(session(), actor=current_user(), data=data, file_name=name)
    return payments.report_of(statement)


@statements_blp.route("", methods=["GET"])
@statements_blp.arguments(PageArgs, location="query")
@statements_blp.response(200, StatementPageSchema)
def list_statements(args):
    """The imported statements, newest first (administrators and finance users; an empty list for others)."""
    return paginate(payments.list_statements(session(), user=current_user()), args)


@statements_blp.route("/<int:statement_id>", methods=["GET"])
@statements_blp.response(200, StatementSchema)
def get_statement(statement_id):
    """One imported statement and its counts."""
    return payments.get_statement_or_raise(session(), user=current_user(), statement_id=statement_id)


@blp.route("", methods=["GET"])
@blp.arguments(PaymentListArgs, location="query")
@blp.response(200, PaymentPageSchema)
def list_payments(args):
    """Payments the caller may read, newest first: unmatched ones (finance), matched ones (the invoice's readers)."""
    return paginate(payments.list_payments(session(), user=current_user(), matched=args["matched"],
                                           statement_id=args["statement_id"]), args)


@blp.route("", methods=["POST"])
@blp.arguments(PaymentCreateSchema)
@blp.response(201, PaymentSchema)
def create_payment(data):
    """Record a payment by hand, to an invoice (budget rights on its project) or into the unmatched queue."""
    return payments.record_payment(session(), actor=current_user(), **data)


@blp.route("/<int:payment_id>", methods=["GET"])
@blp.response(200, PaymentSchema)
def get_payment(payment_id):
    """One payment."""
    return payments.get_payment_or_raise(session(), user=current_user(), payment_id=payment_id)


@blp.route("/<int:payment_id>/match", methods=["POST"])
@blp.arguments(MatchSchema)
@blp.response(200, PaymentSchema)
def match_payment(data, payment_id):
    """Match an unmatched payment to an invoice (budget rights on the invoice's project); the invoice settles."""
    payment = payments.get_payment_or_raise(session(), user=current_user(), payment_id=payment_id)
    return payments.match_payment(session(), actor=current_user(), payment=payment, invoice_id=data["invoice_id"])


@blp.route("/<int:payment_id>/unmatch", methods=["POST"])
@blp.response(200, PaymentSchema)
def unmatch_payment(payment_id):
    """Take a payment off its invoice (budget rights on its project): back in the unmatched queue."""
    payment = payments.get_payment_or_raise(session(), user=current_user(), payment_id=payment_id)
    return payments.unmatch_payment(session(), actor=current_user(), payment=payment)

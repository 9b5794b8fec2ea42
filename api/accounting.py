"""The exchange with accounting (1C): invoices and acts out as CommerceML, actual costs in, the runs recorded;
cost accounts and a project's expenses."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from accounts.accounting import costs, export, jobs as accounting_jobs, runs
from api.common import Blueprint, Code, Id, Money, Name, PageArgs, current_user, page_schema, paginate, session
from api.jobs import accepted, accepted_doc, async_flag
from crmpm.downloads import send_download
from crmpm.limits import accepts_upload
from crmpm.ratelimit import throttle
from eps import services as eps_services
from wbs.expenses import services as expenses

blp = Blueprint("accounting", __name__, url_prefix="", description=(
    "The exchange with accounting (1C): invoices and acts out (CommerceML 2.10), actual costs in (CSV), "
    "the runs with their reports; cost accounts and project expenses"))

# A cost file larger than this is booked by a job (202), as with async=true.
LARGE_FILE = 2 * 1024 * 1024


class ExportArgs(Schema):
    date_from = fields.Date(data_key="from", required=True, metadata={"description": "First day (YYYY-MM-DD)."})
    date_to = fields.Date(data_key="to", required=True, metadata={"description": "Last day, inclusive."})
    eps_node_id = Id(metadata={"description": "Only this EPS node's projects (read rights on it)."})
    since = fields.AwareDateTime(metadata={"description": "Only what changed since this time (with its zone)."})
    run_async = async_flag(
        f"Write the file in a job and answer 202 (also done without asking for more than {export.LARGE} "
        "documents); download it with GET /api/v1/jobs/{id}/file.")


class CostImportArgs(Schema):
    run_async = async_flag(f"Book the file in a job and answer 202 (also done without asking for files over "
                           f"{LARGE_FILE // (1024 * 1024)} MiB); the job's result is the run's counts.")


class CostFileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary", "description": (
        "The cost file: CSV (UTF-8 or Windows-1251, ; or ,) with the columns project, cost_account, date, "
        "amount, description, document (docs/accounting-exchange.md).")})


class RunCountsSchema(Schema):
    run_id = fields.Integer()
    rows = fields.Integer()
    applied = fields.Integer(metadata={"description": "Rows booked as expenses."})
    unmatched = fields.Integer(metadata={"description": "Rows matching no project the caller may book to."})
    duplicates = fields.Integer(metadata={"description": "Rows booked by an earlier import."})
    status = fields.String()


class RunSchema(Schema):
    id = fields.Integer()
    direction = fields.String(metadata={"enum": ["out", "in"]})
    what = fields.String()
    file_name = fields.String()
    sha256 = fields.String()
    status = fields.String()
    rows = fields.Integer()
    applied = fields.Integer()
    unmatched = fields.Integer()
    duplicates = fields.Integer()
    error = fields.String()
    job_id = fields.Integer(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class RunReadSchema(RunSchema):
    report = fields.Dict(metadata={"description": (
        "In: unmatched_rows (line, project as the file wrote it, reason), created_cost_accounts, encoding, "
        "separator, total booked. Out: the period, node, since, and the counts of invoices, acts, counterparties.")})


class RunListArgs(PageArgs):
    direction = fields.String(validate=validate.OneOf(["out", "in"]))


class CostAccountSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = Code(required=True)
    name = Name(load_default="")
    parent_id = Id(allow_none=True, load_default=None)
    created_at = fields.DateTime(dump_only=True)


class ExpenseSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    cost_account_id = fields.Integer()
    cost_account_code = fields.Function(lambda expense: expense.cost_account.code)
    booked_on = fields.Date()
    amount = Money(allow_negative=True)
    description = fields.String()
    source = fields.String()
    run_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


@blp.route("/accounting/export", methods=["GET"])
@blp.arguments(ExportArgs, location="query")
@accepted_doc(blp, "writing the CommerceML file, kept a day: download it with GET /api/v1/jobs/{id}/file")
@blp.response(200, {"type": "string", "format": "binary"}, content_type="application/xml",
              description="The invoices and acts of the period with their counterparties, CommerceML 2.10 (UTF-8)")
@blp.throttled()
def export_1c(args):
    """Invoices issued and acts dated in the period, as the caller may read them, for 1C (CommerceML 2.10).

    Every export is recorded as an accounting run (direction ``out``)."""
    throttle().attempt("accounting-export", current_user().id)
    scope = export.check_scope(args["date_from"], args["date_to"], args.get("eps_node_id"), args.get("since"))
    if args["run_async"] or export.count_documents(session(), actor=current_user(), scope=scope) > export.LARGE:
        return accepted(accounting_jobs.start_export(session(), actor=current_user(), scope=scope))
    data, run = export.export_commerceml(session(), actor=current_user(), scope=scope)
    return send_download(data, filename=run.file_name, mimetype="application/xml")


@blp.route("/accounting/cost-imports", methods=["POST"])
@accepts_upload("MAX_CSV_UPLOAD_LENGTH")
@blp.arguments(CostImportArgs, location="query")
@blp.arguments(CostFileSchema, location="files")
@accepted_doc(blp, "booking the file; its result is the run's counts")
@blp.response(201, RunCountsSchema)
@blp.throttled()
def import_costs(args, files):
    """Book a cost file from accounting to projects (budget rights on each: the finance role, administrators).

    A file with bad rows (a date, an amount, a required cell) is refused whole (422 naming each line);
    rows matching no project the caller may book to are counted as unmatched and listed in the run's report
    as "no such project"; importing the same file again books nothing twice (duplicates)."""
    user = current_user()
    costs.check_may_import(session(), actor=user)
    throttle().attempt("accounting-import", user.id)
    upload = files["file"]
    data = upload.stream.read()
    name = upload.filename or "costs.csv"
    if args["run_async"] or len(data) > LARGE_FILE:
        return accepted(accounting_jobs.start_import(session(), actor=user, data=data, file_name=name))
    run = costs.import_costs(session(), actor=user, data=data, file_name=name)
    return accounting_jobs.run_counts(run)


@blp.route("/accounting/runs", methods=["GET"])
@blp.arguments(RunListArgs, location="query")
@blp.response(200, page_schema(RunSchema))
def list_runs(args):
    """Exchanges with accounting, newest first: administrators see all, anyone else the runs they made."""
    return paginate(runs.runs_query(user=current_user(), direction=args.get("direction")), args)


@blp.route("/accounting/runs/<int:run_id>", methods=["GET"])
@blp.response(200, RunReadSchema)
def get_run(run_id):
    """One exchange with its report (administrators, and the user who made it)."""
    return runs.get_run_or_raise(session(), user=current_user(), run_id=run_id)


@blp.route("/cost-accounts", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(CostAccountSchema))
def list_cost_accounts(args):
    """The chart of cost accounts, by code."""
    return paginate(expenses.cost_accounts_query(), args)


@blp.route("/cost-accounts", methods=["POST"])
@blp.arguments(CostAccountSchema)
@blp.response(201, CostAccountSchema)
def create_cost_account(data):
    """Add a cost account (administrators and the finance role); 409 when its code is taken."""
    return expenses.create_cost_account(session(), actor=current_user(), code=data["code"], name=data["name"],
                                        parent_id=data["parent_id"])


@blp.route("/projects/<int:project_id>/expenses", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(ExpenseSchema))
def list_expenses(args, project_id):
    """The expenses booked to the project from accounting, newest first (read rights on the project)."""
    project = eps_services.get_project_or_raise(session(), user=current_user(), project_id=project_id)
    return paginate(expenses.project_expenses(session(), user=current_user(), project=project), args)




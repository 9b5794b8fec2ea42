"""Sales reports as JSON (lists also as CSV): funnel, won by period, cycle, stage durations, forecast, LTV, RFM,
contact gaps and satisfaction; retention: cohorts, before/after and the contact norm. Each sees only the deals and accounts the caller may read."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from accounts import analytics, retention
from accounts import pipelines as pipeline_services
from accounts.models import AccountKind
from api.common import Blueprint, Id, Money, current_user, session
from api.deals import pipeline_field
from api.export import ListArgs, csv_response, list_or_csv, wants_csv
from crmpm.errors import Invalid
from crmpm.ratelimit import throttle
from eps import services as eps_services

blp = Blueprint("reports", __name__, url_prefix="/reports", description="Sales analytics")


class FilterArgs(ListArgs):
    pipeline_id = Id()
    owner_id = Id()
    team_id = Id()
    region_node_id = Id(metadata={"description": "Deals under this EPS node (a branch, or any node)."})
    product = fields.String(validate=validate.Length(min=1, max=100))
    since = fields.Date(metadata={"description": "From this day (inclusive)."})
    until = fields.Date(metadata={"description": "To this day (exclusive)."})

    @validates_schema
    def _period(self, data, **_kwargs):
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise ValidationError({"until": ["Must be after since."]})


def _filter(args) -> analytics.DealFilter:
    region = None
    if args.get("region_node_id") is not None:
        region = eps_services.get_node_or_raise(session(), user=current_user(), node_id=args["region_node_id"],
                                                field="region_node_id")
    return analytics.DealFilter(pipeline_id=args.get("pipeline_id"), owner_id=args.get("owner_id"),
                                team_id=args.get("team_id"), region_node=region, product=args.get("product"),
                                since=args.get("since"), until=args.get("until"))


def _pipeline(args):
    if args.get("pipeline_id") is not None:
        return pipeline_field("pipeline_id", args["pipeline_id"])
    pipeline = session().scalars(pipeline_services.list_pipelines(session(), active_only=True)).first()
    if pipeline is None:
        raise Invalid("there is no active pipeline; give pipeline_id", errors={"pipeline_id": ["required"]})
    return pipeline


class StageCountSchema(Schema):
    stage_id = Id()
    stage = fields.String()
    kind = fields.String()
    probability = fields.Integer()
    count = fields.Integer()
    value = Money()


class ConversionSchema(Schema):
    from_stage = fields.String()
    to_stage = fields.String()
    reached_from = fields.Integer()
    reached_to = fields.Integer()
    rate = fields.Float(allow_none=True)


class FunnelSchema(Schema):
    pipeline = fields.String()
    pipeline_id = Id()
    total = fields.Integer()
    open = fields.Integer()
    won = fields.Integer()
    lost = fields.Integer()
    open_value = Money()
    won_value = Money()
    lost_value = Money()
    win_rate = fields.Float(allow_none=True, metadata={"description": "won / (won + lost); null with no closed deal"})
    by_stage = fields.List(fields.Nested(StageCountSchema))
    conversion = fields.List(fields.Nested(ConversionSchema))


@blp.route("/funnel", methods=["GET"])
@blp.arguments(FilterArgs, location="query")
@blp.response(200, FunnelSchema)
def funnel(args):
    """Counts and value by stage, won/lost/open, win rate and stage-to-stage conversion (deals created in the period)."""
    result = analytics.funnel(session(), user=current_user(), pipeline=_pipeline(args), flt=_filter(args))
    if wants_csv(args):
        return csv_response(result["by_stage"], StageCountSchema(), filename="funnel")
    return result


class MonthSchema(Schema):
    month = fields.String()
    count = fields.Integer()
    value = Money()


class QuarterSchema(Schema):
    quarter = fields.String()
    count = fields.Integer()
    value = Money()


class WonSchema(Schema):
    by_month = fields.List(fields.Nested(MonthSchema))
    by_quarter = fields.List(fields.Nested(QuarterSchema))


@blp.route("/won", methods=["GET"])
@blp.arguments(FilterArgs, location="query")
@blp.response(200, WonSchema)
def won(args):
    """Won deals' count and value by month and quarter of closing (closed in the period)."""
    result = analytics.won_by_period(session(), user=current_user(), flt=_filter(args))
    if wants_csv(args):
        return csv_response(result["by_month"], MonthSchema(), filename="won")
    return result


class CycleSchema(Schema):
    won_deals = fields.Integer()
    mean_days = fields.Float(allow_none=True)
    median_days = fields.Float(allow_none=True)


@blp.route("/sales-cycle", methods=["GET"])
@blp.arguments(FilterArgs, location="query")
@blp.response(200, CycleSchema)
def sales_cycle(args):
    """Mean and median days from opening to winning (deals won in the period)."""
    return analytics.sales_cycle(session(), user=current_user(), flt=_filter(args))


class StageDurationSchema(Schema):
    stage_id = Id()
    stage = fields.String()
    visits = fields.Integer()
    average_days = fields.Float(allow_none=True)


class StageDurationsSchema(Schema):
    items = fields.List(fields.Nested(StageDurationSchema))


@blp.route("/stage-durations", methods=["GET"])
@blp.arguments(FilterArgs, location="query")
@blp.response(200, StageDurationsSchema)
def stage_durations(args):
    """Average days in each open stage of a pipeline (deals created in the period)."""
    items = analytics.stage_durations(session(), user=current_user(), pipeline=_pipeline(args), flt=_filter(args))
    return list_or_csv(items, StageDurationSchema, args, filename="stage-durations")


class ForecastMonthSchema(Schema):
    month = fields.String()
    count = fields.Integer()
    value = Money()
    weighted_value = Money()


class ForecastSchema(Schema):
    items = fields.List(fields.Nested(ForecastMonthSchema))


@blp.route("/forecast", methods=["GET"])
@blp.arguments(FilterArgs, location="query")
@blp.response(200, ForecastSchema)
def forecast(args):
    """Open deals by expected close month with the weighted value, amount × probability (closing in the period)."""
    items = analytics.forecast(session(), user=current_user(), flt=_filter(args))
    return list_or_csv(items, ForecastMonthSchema, args, filename="forecast")


class LtvArgs(FilterArgs):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=10_000))


class LtvSchema(Schema):
    account_id = Id()
    account = fields.String()
    won_deals = fields.Integer()
    lifetime_value = Money()
    first_won_at = fields.DateTime(allow_none=True)
    last_won_at = fields.DateTime(allow_none=True)


class LtvListSchema(Schema):
    items = fields.List(fields.Nested(LtvSchema))


@blp.route("/lifetime-value", methods=["GET"])
@blp.arguments(LtvArgs, location="query")
@blp.response(200, LtvListSchema)
def lifetime_value(args):
    """Accounts by the total of their won deals, highest first."""
    items = analytics.lifetime_value(session(), user=current_user(), flt=_filter(args), limit=args["limit"])
    return list_or_csv(items, LtvSchema, args, filename="lifetime-value")


class RfmSchema(Schema):
    account_id = Id()
    account = fields.String(allow_none=True)
    recency_days = fields.Float()
    frequency = fields.Integer()
    monetary = Money()
    r = fields.Integer()
    f = fields.Integer()
    m = fields.Integer()
    score = fields.String()
    segment = fields.String(metadata={"description": "champions, loyal, new, at_risk or hibernating"})


class RfmListSchema(Schema):
    items = fields.List(fields.Nested(RfmSchema))


@blp.route("/rfm", methods=["GET"])
@blp.arguments(FilterArgs, location="query")
@blp.response(200, RfmListSchema)
def rfm(args):
    """RFM scores (1-3 by tertile) and segments of the accounts with won deals."""
    items = analytics.rfm(session(), user=current_user(), flt=_filter(args))
    return list_or_csv(items, RfmSchema, args, filename="rfm")


class GapArgs(ListArgs):
    client_norm = fields.Integer(load_default=4, validate=validate.Range(min=0, max=1000),
                                 metadata={"description": "Touches a year a client should get."})
    prospect_norm = fields.Integer(load_default=6, validate=validate.Range(min=0, max=1000))
    days = fields.Integer(load_default=365, validate=validate.Range(min=1, max=3650))
    owner_id = Id()
    region_node_id = Id()


class GapSchema(Schema):
    account_id = Id()
    account = fields.String()
    kind = fields.String()
    owner_id = Id(allow_none=True)
    touches = fields.Integer()
    norm = fields.Float()
    last_touch_at = fields.DateTime(allow_none=True)


class GapListSchema(Schema):
    items = fields.List(fields.Nested(GapSchema))


@blp.route("/contact-gaps", methods=["GET"])
@blp.arguments(GapArgs, location="query")
@blp.response(200, GapListSchema)
def contact_gaps(args):
    """Clients and prospects touched less often than their norm over the last ``days``."""
    region = None
    if args.get("region_node_id") is not None:
        region = eps_services.get_node_or_raise(session(), user=current_user(), node_id=args["region_node_id"],
                                                field="region_node_id")
    items = analytics.contact_gaps(
        session(), user=current_user(), norms={AccountKind.client: args["client_norm"],
                                               AccountKind.prospect: args["prospect_norm"]},
        days=args["days"], owner_id=args.get("owner_id"), region_node=region)
    return list_or_csv(items, GapSchema, args, filename="contact-gaps")


class SatisfactionArgs(ListArgs):
    account_id = Id()
    deal_id = Id()
    since = fields.Date()
    until = fields.Date()


class SatisfactionMonthSchema(Schema):
    month = fields.String()
    csat_answers = fields.Integer()
    csat = fields.Float(allow_none=True, metadata={"description": "Mean CSAT score, 1-5."})
    nps_answers = fields.Integer()
    nps = fields.Float(allow_none=True, metadata={"description": "% promoters (9-10) − % detractors (0-6)."})


class SatisfactionSchema(Schema):
    items = fields.List(fields.Nested(SatisfactionMonthSchema))


@blp.route("/satisfaction", methods=["GET"])
@blp.arguments(SatisfactionArgs, location="query")
@blp.response(200, SatisfactionSchema)
def satisfaction(args):
    """CSAT and NPS by month, overall or for one account or deal (project)."""
    items = analytics.satisfaction(session(), user=current_user(), account_id=args.get("account_id"),
                                   deal_id=args.get("deal_id"), since=args.get("since"), until=args.get("until"))
    return list_or_csv(items, SatisfactionMonthSchema, args, filename="satisfaction")


# -- Retention and the life cycle (accounts.retention; definitions in its docstring) ---------------------------

class ScopeArgs(Schema):
    branch_id = Id(metadata={"description": "Accounts whose node lies under this EPS node (a branch, or any node)."})
    sector = fields.String(validate=validate.Length(min=1, max=200))
    owner_id = Id(metadata={"description": "The account's owner (for win rate and sales cycle: the deal's)."})


def _scope(args) -> analytics.AccountScope:
    branch = None
    if args.get("branch_id") is not None:
        branch = eps_services.get_node_or_raise(session(), user=current_user(), node_id=args["branch_id"],
                                                field="branch_id")
    return analytics.AccountScope(branch=branch, sector=args.get("sector"), owner_id=args.get("owner_id"))


def _throttled() -> None:
    throttle().attempt("retention-report", current_user().id)


class CohortArgs(ScopeArgs):
    period = fields.String(load_default="month", validate=validate.OneOf(retention.PERIODS))
    since = fields.Date(metadata={"description": "Cohorts whose period starts on or after this day's period."})
    until = fields.Date(metadata={"description": "Cohorts of periods before this day (exclusive)."})
    churn_months = fields.Integer(load_default=6, validate=validate.Range(min=1, max=120), metadata={
        "description": "Churned: no deal created or won and no interaction in this many months."})
    periods = fields.Integer(load_default=12, validate=validate.Range(min=1, max=retention.MAX_PERIODS),
                             metadata={"description": "Following periods shown per cohort."})
    as_of = fields.Date(metadata={"description": "The day figures are taken on (default today)."})

    @validates_schema
    def _dates(self, data, **_kwargs):
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise ValidationError({"until": ["Must be after since."]})


class CohortPeriodSchema(Schema):
    k = fields.Integer(metadata={"description": "Periods after the cohort's own (0: the cohort's period)."})
    period = fields.String()
    accounts = fields.Integer(metadata={"description": "Accounts of the cohort with a win in this period."})
    share = fields.Float(allow_none=True, metadata={"description": "accounts / size (k ≥ 1: buying again)."})
    value = Money()
    revenue_retention = fields.Float(allow_none=True, metadata={"description": "value / the period 0 value."})


class CohortSchema(Schema):
    cohort = fields.String()
    start = fields.Date()
    size = fields.Integer()
    won_value = Money(metadata={"description": "Won in the cohort's own period."})
    churned = fields.Integer()
    churn_rate = fields.Float(allow_none=True)
    periods = fields.List(fields.Nested(CohortPeriodSchema))


class AveragePeriodSchema(Schema):
    k = fields.Integer()
    cohorts = fields.Integer()
    accounts = fields.Integer()
    size = fields.Integer()
    share = fields.Float(allow_none=True)
    revenue_retention = fields.Float(allow_none=True)


class CohortsSchema(Schema):
    period = fields.String()
    as_of = fields.Date()
    churn_months = fields.Integer()
    cohorts = fields.List(fields.Nested(CohortSchema))
    average = fields.List(fields.Nested(AveragePeriodSchema))


@blp.route("/cohorts", methods=["GET"])
@blp.arguments(CohortArgs, location="query")
@blp.response(200, CohortsSchema)
def cohorts(args):
    """Cohorts by the month (or quarter) of the first win: buying again, revenue retention and churn."""
    _throttled()
    return retention.cohorts(session(), user=current_user(), period=args["period"], since=args.get("since"),
                             until=args.get("until"), scope=_scope(args), churn_months=args["churn_months"],
                             periods=args["periods"], as_of=args.get("as_of"))


class KpiList(fields.String):
    """KPIs as a comma-separated list (or the parameter repeated)."""

    def _deserialize(self, value, attr, data, **kwargs):
        names = [name.strip() for name in str(value).split(",") if name.strip()]
        unknown = [name for name in names if name not in retention.KPIS]
        if unknown or not names:
            raise ValidationError(f"Choose from {', '.join(retention.KPIS)}.")
        return tuple(dict.fromkeys(names))


class CompareArgs(ScopeArgs):
    kpis = KpiList(load_default=retention.KPIS, metadata={"description": ", ".join(retention.KPIS)})
    a_since = fields.Date(required=True, metadata={"description": "Period A from this day (inclusive)."})
    a_until = fields.Date(required=True, metadata={"description": "Period A to this day (exclusive)."})
    b_since = fields.Date(required=True)
    b_until = fields.Date(required=True)

    @validates_schema
    def _periods(self, data, **_kwargs):
        errors = {}
        for name in ("a", "b"):
            since, until = data.get(f"{name}_since"), data.get(f"{name}_until")
            if since and until and until <= since:
                errors[f"{name}_until"] = [f"Must be after {name}_since."]
            elif since and until and (until - since).days > 3660:
                errors[f"{name}_until"] = ["A period is at most ten years."]
        if errors:
            raise ValidationError(errors)


class WinRateKpiSchema(Schema):
    won = fields.Integer()
    lost = fields.Integer()
    win_rate = fields.Float(allow_none=True)


class RetentionKpiSchema(Schema):
    base_accounts = fields.Integer(metadata={"description": "Accounts with a win in the stretch just before."})
    retained_accounts = fields.Integer(metadata={"description": "Of them, those with a win in the period."})
    retention = fields.Float(allow_none=True)


class ComplianceKpiSchema(Schema):
    accounts = fields.Integer()
    meeting = fields.Integer()
    compliance = fields.Float(allow_none=True)


class SatisfactionKpiSchema(Schema):
    csat_answers = fields.Integer()
    csat = fields.Float(allow_none=True)
    nps_answers = fields.Integer()
    nps = fields.Float(allow_none=True)


class PeriodKpisSchema(Schema):
    since = fields.Date()
    until = fields.Date()
    win_rate = fields.Nested(WinRateKpiSchema)
    sales_cycle = fields.Nested(CycleSchema)
    retention = fields.Nested(RetentionKpiSchema)
    satisfaction = fields.Nested(SatisfactionKpiSchema)
    contact_norm = fields.Nested(ComplianceKpiSchema)


class DifferenceSchema(Schema):
    win_rate = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))
    sales_cycle = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))
    retention = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))
    satisfaction = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))
    contact_norm = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))


class CompareSchema(Schema):
    kpis = fields.List(fields.String())
    a = fields.Nested(PeriodKpisSchema)
    b = fields.Nested(PeriodKpisSchema)
    difference = fields.Nested(DifferenceSchema, metadata={"description": "B − A for every figure."})


@blp.route("/compare", methods=["GET"])
@blp.arguments(CompareArgs, location="query")
@blp.response(200, CompareSchema)
def compare(args):
    """KPIs of two periods side by side (before/after): win rate, sales cycle, retention, satisfaction and
    contact-norm compliance, with B − A."""
    _throttled()
    return retention.compare(session(), user=current_user(),
                             a=retention.Period(args["a_since"], args["a_until"]),
                             b=retention.Period(args["b_since"], args["b_until"]),
                             kpis=args["kpis"], scope=_scope(args))


class ContactNormArgs(ScopeArgs):
    client_norm = fields.Integer(load_default=4, validate=validate.Range(min=0, max=1000),
                                 metadata={"description": "Touches a year a client should get."})
    prospect_norm = fields.Integer(load_default=6, validate=validate.Range(min=0, max=1000))
    days = fields.Integer(load_default=365, validate=validate.Range(min=1, max=3650))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=0, max=1000),
                           metadata={"description": "Accounts falling behind listed at most."})


class ComplianceRowSchema(Schema):
    id = Id(allow_none=True)
    name = fields.String(allow_none=True)
    accounts = fields.Integer()
    meeting = fields.Integer()
    behind = fields.Integer()
    compliance = fields.Float(allow_none=True)


class ContactNormSchema(Schema):
    total = fields.Nested(ComplianceRowSchema)
    by_owner = fields.List(fields.Nested(ComplianceRowSchema))
    by_branch = fields.List(fields.Nested(ComplianceRowSchema))
    behind = fields.List(fields.Nested(GapSchema))


@blp.route("/contact-norm", methods=["GET"])
@blp.arguments(ContactNormArgs, location="query")
@blp.response(200, ContactNormSchema)
def contact_norm(args):
    """The contact norm (a client 4 touches a year, a prospect 6, scaled to ``days``): compliance overall, per
    owner and per branch, and the accounts falling behind (fewest touches first)."""
    _throttled()
    return retention.contact_norm(session(), user=current_user(), scope=_scope(args),
                                  norms={AccountKind.client: args["client_norm"],
                                         AccountKind.prospect: args["prospect_norm"]},
                                  days=args["days"], limit=args["limit"])

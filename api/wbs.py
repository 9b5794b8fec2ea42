"""A project's plan, calendars, WBS, activities, relationships; scheduling, critical path, earned value, XER, MSPDI."""

from __future__ import annotations

from flask import current_app
from marshmallow import Schema, fields, validate
from marshmallow.utils import get_value

from api.common import (
    Blueprint, Code, Id, Money, Name, PageArgs, base_currency, current_user, page_schema, paginate, session,
)
from api.jobs import accepted, accepted_doc, async_flag
from api.projects import ProjectReadSchema
from crmpm.errors import Invalid, NotFound
from crmpm.limits import accepts_upload
from crmpm.streaming import streamed_response
from eps import services as eps_services
from eps.models import Project
from eps.permissions import Permission
from wbs import codes, interchange, services, templates
from wbs.interchange import jobs as interchange_jobs
from wbs.interchange.limits import FileLimits, check_file
from wbs.scheduling import jobs as scheduling_jobs
from wbs.scheduling import service as scheduling_service
from wbs.models import Activity

blp = Blueprint("wbs", __name__, url_prefix="", description="WBS, activities and CPM scheduling")

LOCAL = "%Y-%m-%dT%H:%M"
ACTIVITY_TYPES = sorted(services.ACTIVITY_TYPES)
CONSTRAINTS = sorted(services.CONSTRAINT_TYPES)
HOURS = validate.Range(min=0, max=services.MAX_HOURS)


def LocalDateTime(**kwargs):  # noqa: N802 - a field factory
    """A project-local wall-clock time, ``YYYY-MM-DDTHH:MM``, without a zone."""
    return fields.NaiveDateTime(format=None, metadata={"example": "2026-03-02T08:00",
                                                       "description": "project-local time"}, **kwargs)


class LocalOut(fields.Field):
    def _serialize(self, value, attr, obj, **kwargs):
        return value.strftime(LOCAL) if value is not None else None


class AsyncArgs(Schema):
    run_async = async_flag()


def _accepted_doc(what: str):
    return accepted_doc(blp, what)


def _project(project_id, permission=Permission.read):
    return eps_services.get_project_or_raise(session(), user=current_user(), project_id=project_id,
                                             permission=permission)


# Plan


class ProjectPlanSchema(Schema):
    time_zone = fields.String(validate=validate.Length(min=1, max=64))
    data_date = LocalDateTime(allow_none=True)
    planned_start = LocalDateTime(allow_none=True)
    must_finish_by = LocalDateTime(allow_none=True)
    default_calendar_id = Id(allow_none=True, strict=True)
    progress_mode = fields.String(validate=validate.OneOf(sorted(services.PLAN_CHOICES["progress_mode"])))
    lag_calendar = fields.String(validate=validate.OneOf(sorted(services.PLAN_CHOICES["lag_calendar"])))
    float_type = fields.String(validate=validate.OneOf(sorted(services.PLAN_CHOICES["float_type"])))
    critical_definition = fields.String(
        validate=validate.OneOf(sorted(services.PLAN_CHOICES["critical_definition"])))
    critical_float_hours = fields.Float(validate=validate.Range(min=-services.MAX_HOURS, max=services.MAX_HOURS))
    open_ended_critical = fields.Boolean()
    use_expected_finish = fields.Boolean()


class ProjectPlanReadSchema(ProjectPlanSchema):
    data_date = LocalOut()
    planned_start = LocalOut()
    must_finish_by = LocalOut()
    scheduled_at = fields.DateTime()
    early_finish = LocalOut()
    late_finish = LocalOut()


@blp.route("/projects/<int:project_id>/plan", methods=["GET"])
@blp.response(200, ProjectPlanReadSchema)
def get_plan(project_id):
    """The project's scheduling settings and last schedule outcome."""
    return services.get_plan(session(), project=_project(project_id))


@blp.route("/projects/<int:project_id>/plan", methods=["PATCH"])
@blp.arguments(ProjectPlanSchema)
@blp.response(200, ProjectPlanReadSchema)
def update_plan(data, project_id):
    """Change data date, planned start, must-finish-by, default calendar, time zone or scheduling options."""
    return services.update_plan(session(), actor=current_user(), project=_project(project_id), **data)


# Calendars


class PeriodsField(fields.List):
    def __init__(self, **kwargs):
        super().__init__(fields.List(fields.Integer(strict=True, validate=validate.Range(min=0, max=1440)),
                                     validate=validate.Length(equal=2)), validate=validate.Length(max=24), **kwargs)


class ExceptionSchema(Schema):
    day = fields.Date(required=True)
    periods = PeriodsField(required=True, metadata={"description": "[] for a holiday"})


class CalendarCreateSchema(Schema):
    name = Name(required=True)
    project_id = Id(strict=True, load_default=None, allow_none=True)
    hours_per_day = fields.Float(load_default=8.0, validate=validate.Range(min=0.25, max=24))
    week = fields.List(PeriodsField(), required=True, validate=validate.Length(equal=7),
                       metadata={"description": "seven lists (Monday first) of [start, end] minutes"})
    exceptions = fields.List(fields.Nested(ExceptionSchema), load_default=list, validate=validate.Length(max=5000))


class CalendarUpdateSchema(Schema):
    name = Name()
    hours_per_day = fields.Float(validate=validate.Range(min=0.25, max=24))
    week = fields.List(PeriodsField(), validate=validate.Length(equal=7))
    exceptions = fields.List(fields.Nested(ExceptionSchema), validate=validate.Length(max=5000))


class CalendarReadSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    project_id = fields.Integer(allow_none=True)
    hours_per_day = fields.Float()
    week = fields.List(fields.List(fields.List(fields.Integer())))
    exceptions = fields.Function(lambda c: [{"day": e.day.isoformat(), "periods": e.periods} for e in c.exceptions])


class CalendarListArgs(PageArgs):
    project_id = Id()


def _exceptions(data):
    if data is None:
        return None
    days = {}
    for entry in data:
        if entry["day"] in days:
            raise Invalid(f"exception day {entry['day']} given twice", errors={"exceptions": ["duplicate day"]})
        days[entry["day"]] = entry["periods"]
    return days


@blp.route("/calendars", methods=["GET"])
@blp.arguments(CalendarListArgs, location="query")
@blp.response(200, page_schema(CalendarReadSchema))
def list_calendars(args):
    """Global calendars, plus one project's own with ``project_id``."""
    project = _project(args["project_id"]) if args.get("project_id") is not None else None
    return paginate(services.list_calendars(session(), user=current_user(), project=project), args)


@blp.route("/calendars", methods=["POST"])
@blp.arguments(CalendarCreateSchema)
@blp.response(201, CalendarReadSchema)
def create_calendar(data):
    """A global calendar (administrators) or a project's own (``project_id``, edit rights)."""
    project = None
    if data.get("project_id") is not None:
        project = eps_services.get_project_or_raise(session(), user=current_user(), project_id=data["project_id"],
                                                    field="project_id")
    return services.create_calendar(session(), actor=current_user(), name=data["name"], week=data["week"],
                                    exceptions=_exceptions(data["exceptions"]), hours_per_day=data["hours_per_day"],
                                    project=project)


@blp.route("/calendars/<int:calendar_id>", methods=["GET"])
@blp.response(200, CalendarReadSchema)
def get_calendar(calendar_id):
    """One calendar."""
    return services.get_calendar_or_raise(session(), user=current_user(), calendar_id=calendar_id)


@blp.route("/calendars/<int:calendar_id>", methods=["PATCH"])
@blp.arguments(CalendarUpdateSchema)
@blp.response(200, CalendarReadSchema)
def update_calendar(data, calendar_id):
    """Change a calendar."""
    calendar = services.get_calendar_or_raise(session(), user=current_user(), calendar_id=calendar_id)
    if "exceptions" in data:
        data["exceptions"] = _exceptions(data["exceptions"])
    return services.update_calendar(session(), actor=current_user(), calendar=calendar, **data)


@blp.route("/calendars/<int:calendar_id>", methods=["DELETE"])
@blp.response(204)
def delete_calendar(calendar_id):
    """Delete an unused calendar."""
    calendar = services.get_calendar_or_raise(session(), user=current_user(), calendar_id=calendar_id)
    services.delete_calendar(session(), actor=current_user(), calendar=calendar)


# WBS


class ElementCreateSchema(Schema):
    code = Code(required=True)
    name = Name(max_length=300, required=True)
    parent_id = Id(strict=True, load_default=None, allow_none=True)
    seq = fields.Integer(strict=True, validate=validate.Range(min=0, max=10**9))


class ElementUpdateSchema(Schema):
    code = Code()
    name = Name(max_length=300)
    parent_id = Id(strict=True, allow_none=True)
    seq = fields.Integer(strict=True, validate=validate.Range(min=0, max=10**9))


class ElementReadSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    parent_id = fields.Integer(allow_none=True)
    seq = fields.Integer()


class ElementTreeSchema(ElementReadSchema):
    budgeted_cost = Money()
    actual_cost = Money()
    activities = fields.Integer()
    children = fields.List(fields.Nested(lambda: ElementTreeSchema()))


class WbsTreeSchema(Schema):
    project_id = fields.Integer()
    items = fields.List(fields.Nested(ElementTreeSchema))
    unassigned_activities = fields.Integer()


@blp.route("/projects/<int:project_id>/wbs", methods=["GET"])
@blp.response(200, WbsTreeSchema)
def wbs_tree(project_id):
    """The WBS as a tree, each element with its activities' costs rolled up."""
    project = _project(project_id)
    return services.wbs_tree(session(), project=project)


@blp.route("/projects/<int:project_id>/wbs", methods=["POST"])
@blp.arguments(ElementCreateSchema)
@blp.response(201, ElementReadSchema)
def create_element(data, project_id):
    """A new WBS element."""
    project = _project(project_id)
    parent_id = data.pop("parent_id", None)
    parent = None
    if parent_id is not None:
        parent = services.get_element_or_raise(session(), project=project, element_id=parent_id, field="parent_id")
    return services.create_element(session(), actor=current_user(), project=project, parent=parent, **data)


@blp.route("/projects/<int:project_id>/wbs/<int:element_id>", methods=["GET"])
@blp.response(200, ElementReadSchema)
def get_element(project_id, element_id):
    """One WBS element."""
    return services.get_element_or_raise(session(), project=_project(project_id), element_id=element_id)


@blp.route("/projects/<int:project_id>/wbs/<int:element_id>", methods=["PATCH"])
@blp.arguments(ElementUpdateSchema)
@blp.response(200, ElementReadSchema)
def update_element(data, project_id, element_id):
    """Rename, renumber or move a WBS element."""
    project = _project(project_id)
    element = services.get_element_or_raise(session(), project=project, element_id=element_id)
    if "parent_id" in data:
        parent_id = data.pop("parent_id")
        data["parent"] = None if parent_id is None else services.get_element_or_raise(
            session(), project=project, element_id=parent_id, field="parent_id")
    return services.update_element(session(), actor=current_user(), project=project, element=element, **data)


@blp.route("/projects/<int:project_id>/wbs/<int:element_id>", methods=["DELETE"])
@blp.response(204)
def delete_element(project_id, element_id):
    """Delete an empty WBS element."""
    project = _project(project_id)
    element = services.get_element_or_raise(session(), project=project, element_id=element_id)
    services.delete_element(session(), actor=current_user(), project=project, element=element)


class TemplateSchema(Schema):
    template_project_id = Id(required=True, strict=True)


class TemplateResultSchema(Schema):
    wbs_elements = fields.Integer()
    activities = fields.Integer()
    relationships = fields.Integer()
    calendars = fields.Integer()


@blp.route("/projects/<int:project_id>/wbs/apply-template", methods=["POST"])
@blp.arguments(TemplateSchema)
@blp.response(200, TemplateResultSchema)
def apply_template(data, project_id):
    """Copy another project's WBS, activities, calendars and relationships into this empty project."""
    project = _project(project_id)
    template = eps_services.get_project_or_raise(session(), user=current_user(), project_id=data["template_project_id"],
                                                 field="template_project_id")
    return templates.apply_template(session(), actor=current_user(), template=template, project=project)


# Activities


class ActivityWriteSchema(Schema):
    code = Code()
    name = Name(max_length=300)
    type = fields.String(validate=validate.OneOf(ACTIVITY_TYPES))
    wbs_element_id = Id(strict=True, allow_none=True)
    original_duration_hours = fields.Float(validate=HOURS)
    remaining_duration_hours = fields.Float(validate=HOURS, allow_none=True)
    calendar_id = Id(strict=True, allow_none=True)
    constraint_type = fields.String(validate=validate.OneOf(CONSTRAINTS), allow_none=True)
    constraint_date = LocalDateTime(allow_none=True)
    secondary_constraint_type = fields.String(validate=validate.OneOf(CONSTRAINTS), allow_none=True)
    secondary_constraint_date = LocalDateTime(allow_none=True)
    actual_start = LocalDateTime(allow_none=True)
    actual_finish = LocalDateTime(allow_none=True)
    expected_finish = LocalDateTime(allow_none=True)
    percent_complete = fields.Float(validate=validate.Range(min=0, max=100))
    budgeted_cost = Money()
    actual_cost = Money()
    notes = fields.String(validate=validate.Length(max=10_000))


class ActivityCreateSchema(ActivityWriteSchema):
    code = Code(required=True)
    name = Name(max_length=300, required=True)


class ActivityReadSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    type = fields.String()
    wbs_element_id = fields.Integer(allow_none=True)
    original_duration_hours = fields.Float()
    remaining_duration_hours = fields.Float(allow_none=True)
    calendar_id = fields.Integer(allow_none=True)
    constraint_type = fields.String(allow_none=True)
    constraint_date = LocalOut()
    secondary_constraint_type = fields.String(allow_none=True)
    secondary_constraint_date = LocalOut()
    actual_start = LocalOut()
    actual_finish = LocalOut()
    expected_finish = LocalOut()
    percent_complete = fields.Float()
    budgeted_cost = Money()
    actual_cost = Money()
    notes = fields.String()
    early_start = LocalOut()
    early_finish = LocalOut()
    late_start = LocalOut()
    late_finish = LocalOut()
    total_float_hours = fields.Float(allow_none=True)
    free_float_hours = fields.Float(allow_none=True)
    critical = fields.Boolean()
    longest_path = fields.Boolean()
    baseline_start = LocalOut()
    baseline_finish = LocalOut()


class ActivityListArgs(PageArgs):
    wbs_element_id = Id()
    critical = fields.Boolean(load_default=False)
    code = fields.String(validate=validate.Length(max=200), metadata={
        "description": "only activities holding this activity code value or one below it: <type>:<value>, "
                       "the value by short name or path (Department:BT.ESMS)"})


ActivityPageSchema = page_schema(ActivityReadSchema)


@blp.route("/projects/<int:project_id>/activities", methods=["GET"])
@blp.arguments(ActivityListArgs, location="query")
@blp.response(200, ActivityPageSchema)
def list_activities(args, project_id):
    """The project's activities in schedule order; one WBS branch or critical ones only if asked."""
    project = _project(project_id)
    element = None
    if args.get("wbs_element_id") is not None:
        element = services.get_element_or_raise(session(), project=project, element_id=args["wbs_element_id"],
                                                field="wbs_element_id")
    query = services.list_activities(session(), project=project, wbs_element=element, critical_only=args["critical"])
    if args.get("code"):
        query = codes.filter_by_code(session(), project=project, query=query, code=args["code"])
    return paginate(query, args)


@blp.route("/projects/<int:project_id>/activities", methods=["POST"])
@blp.arguments(ActivityCreateSchema)
@blp.response(201, ActivityReadSchema)
def create_activity(data, project_id):
    """A new activity."""
    return services.create_activity(session(), actor=current_user(), project=_project(project_id), **data)


@blp.route("/projects/<int:project_id>/activities/<int:activity_id>", methods=["GET"])
@blp.response(200, ActivityReadSchema)
def get_activity(project_id, activity_id):
    """One activity with its last computed dates."""
    return services.get_activity_or_raise(session(), project=_project(project_id), activity_id=activity_id)


@blp.route("/projects/<int:project_id>/activities/<int:activity_id>", methods=["PATCH"])
@blp.arguments(ActivityWriteSchema)
@blp.response(200, ActivityReadSchema)
def update_activity(data, project_id, activity_id):
    """Change an activity's plan or progress."""
    project = _project(project_id)
    activity = services.get_activity_or_raise(session(), project=project, activity_id=activity_id)
    return services.update_activity(session(), actor=current_user(), project=project, activity=activity, **data)


@blp.route("/projects/<int:project_id>/activities/<int:activity_id>", methods=["DELETE"])
@blp.response(204)
def delete_activity(project_id, activity_id):
    """Delete an activity and its relationships."""
    project = _project(project_id)
    activity = services.get_activity_or_raise(session(), project=project, activity_id=activity_id)
    services.delete_activity(session(), actor=current_user(), project=project, activity=activity)


# Relationships


class RelationshipCreateSchema(Schema):
    predecessor_id = Id(required=True, strict=True)
    successor_id = Id(required=True, strict=True)
    type = fields.String(load_default="FS", validate=validate.OneOf(sorted(services.RELATIONSHIP_TYPES)))
    lag_hours = fields.Float(load_default=0.0, validate=validate.Range(min=-services.MAX_HOURS,
                                                                       max=services.MAX_HOURS))


class RelationshipUpdateSchema(Schema):
    type = fields.String(validate=validate.OneOf(sorted(services.RELATIONSHIP_TYPES)))
    lag_hours = fields.Float(validate=validate.Range(min=-services.MAX_HOURS, max=services.MAX_HOURS))


class RelationshipReadSchema(Schema):
    id = fields.Integer()
    predecessor_id = fields.Integer()
    successor_id = fields.Integer()
    predecessor_code = fields.Function(lambda r: r.predecessor.code)
    successor_code = fields.Function(lambda r: r.successor.code)
    type = fields.String()
    lag_hours = fields.Float()


def _activity_anywhere(activity_id, field):
    """An activity of any project the caller may read (relationships may cross projects)."""
    activity = session().get(Activity, activity_id)
    try:
        if activity is not None:
            eps_services.get_project_or_raise(session(), user=current_user(), project_id=activity.project_id)
    except NotFound:
        activity = None  # its project is hidden: say no more than the caller asked (not the project's id)
    if activity is None:
        raise NotFound("activity {activity_id} not found", activity_id=activity_id, errors={field: ["not found"]})
    return activity


@blp.route("/projects/<int:project_id>/relationships", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(RelationshipReadSchema))
def list_relationships(args, project_id):
    """Relationships with an end in the project."""
    return paginate(services.list_relationships(session(), project=_project(project_id)), args)


@blp.route("/projects/<int:project_id>/relationships", methods=["POST"])
@blp.arguments(RelationshipCreateSchema)
@blp.response(201, RelationshipReadSchema)
def create_relationship(data, project_id):
    """Link two activities (FS, SS, FF, SF with a lag in hours); loops are refused naming the activities."""
    project = _project(project_id)
    predecessor = _activity_anywhere(data["predecessor_id"], "predecessor_id")
    successor = _activity_anywhere(data["successor_id"], "successor_id")
    return services.create_relationship(session(), actor=current_user(), project=project, predecessor=predecessor,
                                        successor=successor, type=data["type"], lag_hours=data["lag_hours"])


@blp.route("/projects/<int:project_id>/relationships/<int:relationship_id>", methods=["PATCH"])
@blp.arguments(RelationshipUpdateSchema)
@blp.response(200, RelationshipReadSchema)
def update_relationship(data, project_id, relationship_id):
    """Change a relationship's type or lag."""
    project = _project(project_id)
    relationship = services.get_relationship_or_raise(session(), project=project, relationship_id=relationship_id)
    return services.update_relationship(session(), actor=current_user(), project=project, relationship=relationship,
                                        **data)


@blp.route("/projects/<int:project_id>/relationships/<int:relationship_id>", methods=["DELETE"])
@blp.response(204)
def delete_relationship(project_id, relationship_id):
    """Remove a relationship."""
    project = _project(project_id)
    relationship = services.get_relationship_or_raise(session(), project=project, relationship_id=relationship_id)
    services.delete_relationship(session(), actor=current_user(), project=project, relationship=relationship)


# Scheduling


class ScheduleSummarySchema(Schema):
    project_id = fields.Integer()
    data_date = LocalOut()
    start = LocalOut()
    finish = LocalOut()
    late_finish = LocalOut()
    activities = fields.Integer()
    relationships = fields.Integer()
    critical = fields.Integer()
    milliseconds = fields.Float()


class ScheduleRowSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    early_start = LocalOut()
    early_finish = LocalOut()
    late_start = LocalOut()
    late_finish = LocalOut()
    remaining_early_start = LocalOut()
    remaining_early_finish = LocalOut()
    total_float_hours = fields.Float(allow_none=True)
    free_float_hours = fields.Float(allow_none=True)
    critical = fields.Boolean()
    longest_path = fields.Boolean()


class CriticalPathSchema(Schema):
    items = fields.List(fields.Nested(ScheduleRowSchema))


@blp.route("/projects/<int:project_id>/schedule", methods=["POST"])
@blp.arguments(AsyncArgs, location="query")
@blp.response(200, ScheduleSummarySchema)
@_accepted_doc("scheduling the project; its result holds these figures (dates project-local) and the project "
               "page's url")
def run_schedule(args, project_id):
    """Schedule the project by CPM, store the dates, and summarise (``async=true``: as a job)."""
    project = _project(project_id)
    if args["run_async"]:
        return accepted(scheduling_jobs.start_schedule(session(), actor=current_user(), project=project))
    return scheduling_service.schedule_project(session(), actor=current_user(), project=project)


@blp.route("/projects/<int:project_id>/schedule", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(ScheduleRowSchema))
def get_schedule(args, project_id):
    """Per-activity results of the last schedule, in date order."""
    return paginate(services.list_activities(session(), project=_project(project_id)), args)


@blp.route("/projects/<int:project_id>/critical-path", methods=["GET"])
@blp.response(200, CriticalPathSchema)
def critical_path(project_id):
    """The critical activities of the last schedule, in date order."""
    return {"items": scheduling_service.critical_path(session(), project=_project(project_id))}


@blp.route("/projects/<int:project_id>/baseline", methods=["POST"])
@blp.response(200, Schema.from_dict({"activities": fields.Integer()}, name="BaselineSchema"))
def set_baseline(project_id):
    """Make the current schedule the baseline for earned value."""
    count = scheduling_service.set_baseline(session(), actor=current_user(), project=_project(project_id))
    return {"activities": count}


class EvmArgs(Schema):
    wbs_element_id = Id()


class EvmSchema(Schema):
    data_date = LocalOut()
    currency = fields.String()
    bac = Money()
    pv = Money()
    ev = Money()
    ac = Money()
    sv = Money(allow_negative=True)
    cv = Money(allow_negative=True)
    spi = fields.Decimal(as_string=True, allow_none=True)
    cpi = fields.Decimal(as_string=True, allow_none=True)
    eac = Money()
    etc = Money(allow_negative=True)
    vac = Money(allow_negative=True)


@blp.route("/projects/<int:project_id>/evm", methods=["GET"])
@blp.arguments(EvmArgs, location="query")
@blp.response(200, EvmSchema)
def evm(args, project_id):
    """Earned value at the data date: PV, EV, AC, SV, CV, SPI, CPI, EAC (of the project or a WBS branch)."""
    project = _project(project_id)
    element = None
    if args.get("wbs_element_id") is not None:
        element = services.get_element_or_raise(session(), project=project, element_id=args["wbs_element_id"],
                                                field="wbs_element_id")
    figures = scheduling_service.earned_value(session(), project=project, wbs_element=element)
    return {**{key: getattr(figures, key) for key in ("data_date", "bac", "pv", "ev", "ac", "sv", "cv", "spi", "cpi",
                                                      "eac", "etc", "vac")}, "currency": base_currency()}


# XER interchange


class XerImportArgs(Schema):
    eps_node_id = Id(required=True)
    run_async = async_flag()
    project = fields.String(validate=validate.Length(min=1, max=100),
                            metadata={"description": "proj_short_name or proj_id when the file holds several"})
    code = fields.String(validate=validate.Length(min=1, max=40))


class XerFileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


def _uploaded(files, kind: str, proj: str | None = None) -> bytes:
    # The request body is capped at MAX_UPLOAD_LENGTH (accepts_upload): the file fits in it. What it
    # holds is counted before it is parsed.
    data = files["file"].read()
    check_file(kind, data, FileLimits.from_config(current_app.config), proj=proj)
    return data


def _import_job(files, kind: str, node, **names):
    """Start the import of the uploaded file as a job (rights and limits checked now, as the import checks them)."""
    upload = files["file"]
    return accepted(interchange_jobs.start_import(
        session(), actor=current_user(), file_format=kind, data=upload.read(), filename=upload.filename or "",
        eps_node=node, limits=FileLimits.from_config(current_app.config), **names))


class ImportedProjectSchema(ProjectReadSchema):
    warnings = fields.List(fields.String(), metadata={
        "description": "what the import had to tell: a calendar missing from the file and replaced by the "
                       "project's default (naming the activities), what the file held that crmpm leaves out"})


def _imported(project, warnings: list[str]) -> dict:
    """The new project as ImportedProjectSchema dumps it: its fields and the import's warnings."""
    return {**{name: get_value(project, name) for name in ProjectReadSchema().fields}, "warnings": warnings}


@blp.route("/projects/import/xer", methods=["POST"])
@accepts_upload()
@blp.arguments(XerImportArgs, location="query")
@blp.arguments(XerFileSchema, location="files")
@blp.response(201, ImportedProjectSchema)
@_accepted_doc("importing the file; its result holds project_id, project_code, counts, warnings and url")
def import_xer(args, files, **_kwargs):
    """Create a project from a Primavera P6 XER file (multipart field ``file``) under an EPS node."""
    node = eps_services.get_node_or_raise(session(), user=current_user(), node_id=args["eps_node_id"],
                                          field="eps_node_id")
    if args["run_async"]:
        return _import_job(files, "xer", node, proj=args.get("project"), code=args.get("code"))
    data = _uploaded(files, "xer", args.get("project"))
    warnings: list[str] = []
    project = interchange.import_xer(session(), actor=current_user(), data=data, eps_node=node,
                                     proj=args.get("project"), code=args.get("code"), warnings=warnings)
    return _imported(project, warnings)


@blp.route("/projects/<int:project_id>/export/xer", methods=["GET"])
@blp.arguments(AsyncArgs, location="query")
@_accepted_doc("writing the file, kept a day: its result names the file and its size; download it with "
               "GET /api/v1/jobs/{id}/file")
@blp.response(200, {"type": "string", "format": "binary"}, content_type="application/octet-stream",
              description="The project as a P6 XER file (cp1252, or UTF-8 when names need it), sent in chunks "
                          "as it is written",
              headers={"Content-Disposition": {"description": "attachment; filename=<project code>.xer",
                                               "schema": {"type": "string"}}})
def export_xer(args, project_id):
    """Download the project as a Primavera P6 XER file (``async=true``: written by a job, then downloaded)."""
    project = _project(project_id)
    if args["run_async"]:
        return accepted(interchange_jobs.start_export(session(), actor=current_user(), project=project))
    # The project's plan, calendars and WBS are read here (errors answer as usual); the activities
    # and links as the response is sent, from the stream's own session, so a big project never sits
    # in memory whole and nothing stays open after the download.
    return streamed_response(lambda stream: interchange.xer_chunks(stream, project=stream.get(Project, project.id)),
                             mimetype="application/octet-stream",
                             download_name=f"{project.code}.xer")


# MS Project XML (MSPDI) interchange


class MspdiImportArgs(Schema):
    eps_node_id = fields.Integer(required=True)
    run_async = async_flag()
    code = Code(metadata={"description": "project code (default: the file's)"})
    name = Name(metadata={"description": "project name (default: the file's title)"})


class MspdiFileSchema(XerFileSchema):
    pass


@blp.route("/projects/import/mspdi", methods=["POST"])
@accepts_upload()
@blp.arguments(MspdiImportArgs, location="query")
@blp.arguments(MspdiFileSchema, location="files")
@blp.response(201, ImportedProjectSchema)
@_accepted_doc("importing the file; its result holds project_id, project_code, counts, warnings and url")
def import_mspdi(args, files, **_kwargs):
    """Create a project from a Microsoft Project XML file (multipart field ``file``) under an EPS node."""
    node = eps_services.get_node_or_raise(session(), user=current_user(), node_id=args["eps_node_id"],
                                          field="eps_node_id")
    if args["run_async"]:
        return _import_job(files, "mspdi", node, code=args.get("code"), name=args.get("name"))
    warnings: list[str] = []
    project = interchange.import_mspdi(session(), actor=current_user(), data=_uploaded(files, "mspdi"), eps_node=node,
                                       code=args.get("code"), name=args.get("name"), warnings=warnings)
    return _imported(project, warnings)


@blp.route("/projects/<int:project_id>/export/mspdi", methods=["GET"])
@blp.response(200, {"type": "string", "format": "binary"}, content_type="application/xml",
              description="The project as a Microsoft Project XML (MSPDI) file (UTF-8), sent in chunks as it is "
                          "written",
              headers={"Content-Disposition": {"description": "attachment; filename=<project code>.xml",
                                               "schema": {"type": "string"}},
                       "X-Crmpm-Export-Warnings": {
                           "description": "how many warnings the export has: activity code types or UDFs beyond MS "
                                          "Project's outline codes and custom fields, kept in crmpm's own field "
                                          "(Text1) of the file, where the messages are too (export_warnings)",
                           "schema": {"type": "integer"}}})
def export_mspdi(project_id):
    """Download the project as a Microsoft Project XML (MSPDI) file."""
    project = _project(project_id)
    # As the XER download: the head now, the tasks as they are sent, from the stream's own session.
    return streamed_response(lambda stream: interchange.mspdi_chunks(stream, project=stream.get(Project, project.id)),
                             mimetype="application/xml",
                             download_name=f"{project.code}.xml")

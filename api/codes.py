"""Activity codes (types, their values in a tree, each activity's values) and user-defined fields (types, and
the values of activities, WBS elements and projects): ``wbs.codes``, ``wbs.udfs``."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.common import Blueprint, Id, Name, PageArgs, current_user, page_schema, paginate, session
from api.wbs import LOCAL, _project
from eps import services as eps_services
from eps.permissions import Permission
from wbs import codes, services, udfs
from wbs.models import CODE_LENGTH, NAME_LENGTH

blp = Blueprint("codes", __name__, url_prefix="", description="Activity codes and user-defined fields")


class CodeTypeReadSchema(Schema):
    id = fields.Integer()
    scope = fields.String()
    eps_node_id = Id(allow_none=True)
    project_id = Id(allow_none=True)
    name = fields.String()
    max_length = fields.Integer()
    seq = fields.Integer()


class CodeTypeCreateSchema(Schema):
    scope = fields.String(required=True, validate=validate.OneOf(codes.CODE_SCOPES), metadata={
        "description": "global (administrators), eps (an EPS node's: eps_node_id) or project (project_id)"})
    eps_node_id = Id(allow_none=True)
    project_id = Id(allow_none=True)
    name = Name(codes.TYPE_NAME_LENGTH, required=True)
    max_length = fields.Integer(load_default=20, validate=validate.Range(min=1, max=codes.MAX_SHORT_LENGTH),
                                metadata={"description": "the longest short name of a value"})
    seq = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000_000))


class CodeTypeUpdateSchema(Schema):
    name = Name(codes.TYPE_NAME_LENGTH)
    max_length = fields.Integer(validate=validate.Range(min=1, max=codes.MAX_SHORT_LENGTH))
    seq = fields.Integer(validate=validate.Range(min=0, max=1_000_000_000))


class CodeValueReadSchema(Schema):
    id = fields.Integer()
    type_id = Id()
    parent_id = Id(allow_none=True)
    value = fields.String()
    description = fields.String()
    seq = fields.Integer()
    color = fields.String()


class CodeValueCreateSchema(Schema):
    value = Name(CODE_LENGTH, required=True, metadata={"description": "short name, at most the type's max_length"})
    description = fields.String(load_default="", validate=validate.Length(max=NAME_LENGTH))
    parent_id = Id(allow_none=True, load_default=None)
    seq = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000_000))
    color = fields.String(load_default="", validate=validate.Length(max=6), metadata={"example": "00FF00"})


class CodeValueUpdateSchema(Schema):
    value = Name(CODE_LENGTH)
    description = fields.String(validate=validate.Length(max=NAME_LENGTH))
    parent_id = Id(allow_none=True)
    seq = fields.Integer(validate=validate.Range(min=0, max=1_000_000_000))
    color = fields.String(validate=validate.Length(max=6))


class CodeDeletedSchema(Schema):
    activities_losing_it = fields.Int(metadata={"description": "Activities that held the deleted value (or one "
                                                               "below it, or one of the type's) and lost it."})


class CodeAssignmentSchema(Schema):
    type_id = Id(required=True)
    value_id = Id(required=True, allow_none=True, metadata={"description": "null clears the type's value"})


class ActivityCodesSchema(Schema):
    codes = fields.List(fields.Nested(CodeAssignmentSchema), required=True, validate=validate.Length(max=500))

    @validates_schema
    def _one_per_type(self, data, **kwargs):
        types = [item["type_id"] for item in data.get("codes", [])]
        if len(types) != len(set(types)):
            raise ValidationError("An activity holds one value per code type.", "codes")


class UdfTypeReadSchema(Schema):
    id = fields.Integer()
    subject = fields.String()
    name = fields.String()
    data_type = fields.String()


class UdfTypeCreateSchema(Schema):
    subject = fields.String(required=True, validate=validate.OneOf(udfs.UDF_SUBJECTS))
    name = Name(udfs.NAME_LENGTH, required=True)
    data_type = fields.String(required=True, validate=validate.OneOf(udfs.UDF_DATA_TYPES), metadata={
        "description": "text, number, integer, cost (money), date (project-local), indicator "
                       f"({', '.join(udfs.UDF_INDICATORS)})"})


class UdfTypeListArgs(PageArgs):
    subject = fields.String(validate=validate.OneOf(udfs.UDF_SUBJECTS))


class UdfValueField(fields.Field):
    """A UDF's value: a string, number, an amount as a string, ``YYYY-MM-DDTHH:MM`` or an indicator colour."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, _dt.datetime):
            return value.strftime(LOCAL)
        if isinstance(value, Decimal):
            return str(value)
        return value

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ValidationError("A string or a number.")
        return value


class UdfValueSchema(Schema):
    type_id = Id(required=True)
    name = fields.String(dump_only=True)
    data_type = fields.String(dump_only=True)
    value = UdfValueField(required=True, allow_none=True, metadata={"description": "null clears it"})


class UdfValuesSchema(Schema):
    values = fields.List(fields.Nested(UdfValueSchema), required=True, validate=validate.Length(max=500))

    @validates_schema
    def _one_per_type(self, data, **kwargs):
        types = [item["type_id"] for item in data.get("values", [])]
        if len(types) != len(set(types)):
            raise ValidationError("One value per user-defined field.", "values")


def _code_type(type_id, permission=Permission.read):
    return codes.get_code_type_or_raise(session(), user=current_user(), type_id=type_id, permission=permission)


def _udf_rows(pairs):
    return [{"type_id": t.id, "name": t.name, "data_type": t.data_type, "value": udfs.value_of(t, row)}
            for t, row in pairs]


@blp.route("/projects/<int:project_id>/activity-code-types", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(CodeTypeReadSchema))
def list_code_types(args, project_id):
    """The code types that apply to the project's activities: global, its EPS nodes', its own."""
    return paginate(codes.list_code_types(session(), project=_project(project_id)), args)


@blp.route("/activity-code-types", methods=["POST"])
@blp.arguments(CodeTypeCreateSchema)
@blp.response(201, CodeTypeReadSchema)
def create_code_type(data):
    """A new code type: global (administrators), an EPS node's or a project's (edit rights there)."""
    node_id, project_id = data.pop("eps_node_id", None), data.pop("project_id", None)
    node = (eps_services.get_node_or_raise(session(), user=current_user(), node_id=node_id, field="eps_node_id")
            if node_id else None)
    project = _project(project_id) if project_id else None
    return codes.create_code_type(session(), actor=current_user(), eps_node=node, project=project, **data)


@blp.route("/activity-code-types/<int:type_id>", methods=["GET"])
@blp.response(200, CodeTypeReadSchema)
def get_code_type(type_id):
    """One code type."""
    return _code_type(type_id)


@blp.route("/activity-code-types/<int:type_id>", methods=["PATCH"])
@blp.arguments(CodeTypeUpdateSchema)
@blp.response(200, CodeTypeReadSchema)
def update_code_type(data, type_id):
    """Rename a code type, change its values' maximum length or its order."""
    return codes.update_code_type(session(), actor=current_user(), code_type=_code_type(type_id), **data)


@blp.route("/activity-code-types/<int:type_id>", methods=["DELETE"])
@blp.response(200, CodeDeletedSchema)
def delete_code_type(type_id):
    """Delete a code type with all its values; the activities holding one lose it (rights of its scope; audited)."""
    lost = codes.delete_code_type(session(), actor=current_user(), code_type=_code_type(type_id))
    return {"activities_losing_it": lost}


@blp.route("/activity-code-types/<int:type_id>/values", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(CodeValueReadSchema))
def list_code_values(args, type_id):
    """The type's values (the tree is in ``parent_id``), by order then short name."""
    return paginate(codes.list_code_values(session(), code_type=_code_type(type_id)), args)


@blp.route("/activity-code-types/<int:type_id>/values", methods=["POST"])
@blp.arguments(CodeValueCreateSchema)
@blp.response(201, CodeValueReadSchema)
def create_code_value(data, type_id):
    """A new value of the type, under ``parent_id`` when given."""
    return codes.create_code_value(session(), actor=current_user(), code_type=_code_type(type_id), **data)


@blp.route("/activity-code-types/<int:type_id>/values/<int:value_id>", methods=["PATCH"])
@blp.arguments(CodeValueUpdateSchema)
@blp.response(200, CodeValueReadSchema)
def update_code_value(data, type_id, value_id):
    """Change a value's short name, description, parent, order or colour."""
    code_type = _code_type(type_id)
    item = codes.get_code_value_or_raise(session(), code_type=code_type, value_id=value_id)
    return codes.update_code_value(session(), actor=current_user(), code_type=code_type, item=item, **data)


@blp.route("/activity-code-types/<int:type_id>/values/<int:value_id>", methods=["DELETE"])
@blp.response(200, CodeDeletedSchema)
def delete_code_value(type_id, value_id):
    """Delete a value and the values below it; the activities holding one lose it (rights of the type's scope;
    audited)."""
    code_type = _code_type(type_id)
    item = codes.get_code_value_or_raise(session(), code_type=code_type, value_id=value_id)
    return {"activities_losing_it": codes.delete_code_value(session(), actor=current_user(), code_type=code_type,
                                                            item=item)}


@blp.route("/projects/<int:project_id>/activities/<int:activity_id>/codes", methods=["GET"])
@blp.response(200, ActivityCodesSchema)
def get_activity_codes(project_id, activity_id):
    """The activity's value of each code type it has one of."""
    project = _project(project_id)
    activity = services.get_activity_or_raise(session(), project=project, activity_id=activity_id)
    return {"codes": codes.activity_codes(session(), activity=activity)}


@blp.route("/projects/<int:project_id>/activities/<int:activity_id>/codes", methods=["PUT"])
@blp.arguments(ActivityCodesSchema)
@blp.response(200, ActivityCodesSchema)
def set_activity_codes(data, project_id, activity_id):
    """Set the activity's values of the types named (null clears one); other types keep theirs."""
    project = _project(project_id)
    activity = services.get_activity_or_raise(session(), project=project, activity_id=activity_id)
    values = {item["type_id"]: item["value_id"] for item in data["codes"]}
    return {"codes": codes.set_activity_codes(session(), actor=current_user(), project=project, activity=activity,
                                              values=values)}


@blp.route("/udf-types", methods=["GET"])
@blp.arguments(UdfTypeListArgs, location="query")
@blp.response(200, page_schema(UdfTypeReadSchema))
def list_udf_types(args):
    """The user-defined fields (of one subject when asked)."""
    return paginate(udfs.list_udf_types(session(), subject=args.get("subject")), args)


@blp.route("/udf-types", methods=["POST"])
@blp.arguments(UdfTypeCreateSchema)
@blp.response(201, UdfTypeReadSchema)
def create_udf_type(data):
    """A new user-defined field (administrators)."""
    return udfs.create_udf_type(session(), actor=current_user(), **data)


def _subject(project_id, activity_id=None, element_id=None):
    project = _project(project_id)
    if activity_id is not None:
        return project, services.get_activity_or_raise(session(), project=project, activity_id=activity_id), "activity"
    if element_id is not None:
        return project, services.get_element_or_raise(session(), project=project, element_id=element_id), "wbs"
    return project, None, "project"


def _read_udfs(**ids):
    project, subject, kind = _subject(**ids)
    return {"values": _udf_rows(udfs.udf_values(session(), project=project, subject=subject, subject_kind=kind))}


def _write_udfs(data, **ids):
    project, subject, kind = _subject(**ids)
    values = {item["type_id"]: item["value"] for item in data["values"]}
    return {"values": _udf_rows(udfs.set_udf_values(session(), actor=current_user(), project=project,
                                                    subject=subject, subject_kind=kind, values=values))}


@blp.route("/projects/<int:project_id>/activities/<int:activity_id>/udfs", methods=["GET"])
@blp.response(200, UdfValuesSchema)
def get_activity_udfs(project_id, activity_id):
    """The activity's user-defined field values."""
    return _read_udfs(project_id=project_id, activity_id=activity_id)


@blp.route("/projects/<int:project_id>/activities/<int:activity_id>/udfs", methods=["PUT"])
@blp.arguments(UdfValuesSchema)
@blp.response(200, UdfValuesSchema)
def set_activity_udfs(data, project_id, activity_id):
    """Set the activity's values of the fields named (null clears one), each of its field's data type."""
    return _write_udfs(data, project_id=project_id, activity_id=activity_id)


@blp.route("/projects/<int:project_id>/wbs/<int:element_id>/udfs", methods=["GET"])
@blp.response(200, UdfValuesSchema)
def get_element_udfs(project_id, element_id):
    """The WBS element's user-defined field values."""
    return _read_udfs(project_id=project_id, element_id=element_id)


@blp.route("/projects/<int:project_id>/wbs/<int:element_id>/udfs", methods=["PUT"])
@blp.arguments(UdfValuesSchema)
@blp.response(200, UdfValuesSchema)
def set_element_udfs(data, project_id, element_id):
    """Set the WBS element's values of the fields named (null clears one)."""
    return _write_udfs(data, project_id=project_id, element_id=element_id)


@blp.route("/projects/<int:project_id>/udfs", methods=["GET"])
@blp.response(200, UdfValuesSchema)
def get_project_udfs(project_id):
    """The project's user-defined field values."""
    return _read_udfs(project_id=project_id)


@blp.route("/projects/<int:project_id>/udfs", methods=["PUT"])
@blp.arguments(UdfValuesSchema)
@blp.response(200, UdfValuesSchema)
def set_project_udfs(data, project_id):
    """Set the project's values of the fields named (null clears one)."""
    return _write_udfs(data, project_id=project_id)

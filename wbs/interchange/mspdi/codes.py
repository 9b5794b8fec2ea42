"""Activity codes as MS Project outline codes, and user-defined fields as extended attributes (custom fields).

Project has ten task outline codes (Outline Code1-10) and a fixed set of task custom fields per kind; crmpm
writes each activity code type as an outline code (its values as the code's value tree, each activity's value
as the task's ``OutlineCode``) and each UDF of activities or of the project as a custom field of its kind
(text and indicator: Text2-Text30, Text1 being crmpm's own; number and integer: Number1-20; cost: Cost1-10;
date: Date1-10), the activities' values on their tasks, the WBS elements' on their summary tasks and the
project's on the project summary task (UID 0). A field read back is a UDF of each kind of subject whose tasks
hold its values.
What exceeds those fields is not written. The scope of each code type and the
crmpm data type of each field go in crmpm's own field of the project summary task, so that a file written by
crmpm reads back the same (the values' maximum length too); a file from Project gets project code types and the data type of each field's kind.
Values that name what the file lacks are left out with a warning.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from decimal import InvalidOperation

from wbs.interchange.model import ExchangeCodes, ExchangeCodeType, ExchangeCodeValue, ExchangeUdfType, ExchangeUdfValue
from wbs.interchange.mspdi.common import format_date, format_number
from wbs.udfs import parse_value

__all__ = ["CodeFields", "read_codes"]

OUTLINE_CODES = {str(188744096 + 2 * k): f"Outline Code{k + 1}" for k in range(10)}
_TEXT = [188743734, 188743737, 188743740, 188743743, 188743746, 188743747, 188743748, 188743749, 188743750,
         *range(188743997, 188744017)]  # Text2-Text30
_NUMBER = [*range(188743767, 188743772), *range(188743982, 188743997)]  # Number1-20
_COST = [188743786, 188743787, 188743788, *range(188743938, 188743945)]  # Cost1-10
_DATE = list(range(188743945, 188743955))  # Date1-10
FAMILIES = {"Text": [(str(f), f"Text{k}") for k, f in enumerate(_TEXT, 2)],
            "Number": [(str(f), f"Number{k}") for k, f in enumerate(_NUMBER, 1)],
            "Cost": [(str(f), f"Cost{k}") for k, f in enumerate(_COST, 1)],
            "Date": [(str(f), f"Date{k}") for k, f in enumerate(_DATE, 1)]}
FAMILY_OF_TYPE = {"text": "Text", "indicator": "Text", "number": "Number", "integer": "Number", "cost": "Cost",
                  "date": "Date"}
DEFAULT_TYPE = {"Text": "text", "Number": "number", "Cost": "cost", "Date": "date"}
FIELD_FAMILY = {field_id: family for family, fields in FAMILIES.items() for field_id, _name in fields}
SCOPES_KEY, TYPES_KEY = "code_scopes", "udf_types"


def _sub(parent, name, value=None):
    element = ET.SubElement(parent, name)
    if value is not None:
        element.text = str(value)
    return element


class CodeFields:
    """Which outline code and custom field each of a project's code types and UDFs is written as."""

    def __init__(self, codes: ExchangeCodes):
        self.codes = codes
        self.types = list(zip(OUTLINE_CODES.items(), codes.types))  # ((field id, field name), type)
        self.type_fields = {item.id: field_id for (field_id, _name), item in self.types}
        self.value_ids = {}
        for item in codes.values:
            if item.type_id in self.type_fields:
                self.value_ids[item.id] = len(self.value_ids) + 1
        free = {family: list(fields) for family, fields in FAMILIES.items()}
        self.udfs = []  # ((field id, field name), udf type)
        for item in codes.udf_types:
            fields = free[FAMILY_OF_TYPE[item.data_type]]
            if fields:
                self.udfs.append((fields.pop(0), item))
        self.udf_fields = {item.id: (field_id, item) for (field_id, _name), item in self.udfs}
        self.assigned: dict[str, list[tuple[str, str]]] = {}
        for task_id, type_id, value_id in codes.assignments:
            if type_id in self.type_fields and value_id in self.value_ids:
                self.assigned.setdefault(task_id, []).append((self.type_fields[type_id], str(self.value_ids[value_id])))
        # By (subject kind, id): an activity and a WBS element may share an id.
        self.values: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
        for item in codes.udf_values:
            field = self.udf_fields.get(item.type_id)
            if field is not None:
                key = (field[1].subject, None if field[1].subject == "project" else item.subject_id)
                self.values.setdefault(key, []).append((field[0], _format(field[1].data_type, item.value)))

    def __bool__(self) -> bool:
        return bool(self.types or self.udfs)

    def crmpm_values(self) -> dict:
        """What crmpm's own field of the project summary task keeps: each code's scope, each field's type."""
        if not self:
            return {}
        return {SCOPES_KEY: ",".join(f"{field_id}:{item.scope}:{item.max_length}" for (field_id, _n), item in self.types),
                TYPES_KEY: ",".join(f"{field_id}:{item.data_type}:{item.subject}" for (field_id, _n), item in self.udfs)}

    def write_definitions(self, root: ET.Element, attributes: ET.Element) -> None:
        """The outline codes (before ``attributes``, as the schema orders them) and the custom fields."""
        if self.types:
            outline_codes = ET.Element("OutlineCodes")
            root.insert(list(root).index(attributes), outline_codes)
            for (field_id, field_name), item in self.types:
                code = _sub(outline_codes, "OutlineCode")
                _sub(code, "FieldID", field_id)
                _sub(code, "FieldName", field_name)
                _sub(code, "Alias", item.name)
                values = _sub(code, "Values")
                for value in self.codes.values:
                    if value.type_id != item.id:
                        continue
                    element = _sub(values, "Value")
                    _sub(element, "ValueID", self.value_ids[value.id])
                    _sub(element, "ParentValueID", self.value_ids.get(value.parent_id, 0))
                    _sub(element, "Value", value.value)
                    _sub(element, "Description", value.description)
        for (field_id, field_name), item in self.udfs:
            attribute = _sub(attributes, "ExtendedAttribute")
            _sub(attribute, "FieldID", field_id)
            _sub(attribute, "FieldName", field_name)
            _sub(attribute, "Alias", item.name)

    def write_task(self, task: ET.Element, subject_id: str | None, kind: str = "activity") -> None:
        """A task's custom field values and outline codes: an activity's, a WBS element's (``kind="wbs"``, on its
        summary task), or the project's (``subject_id=None``, on the project summary task)."""
        key = ("project", None) if subject_id is None else (kind, subject_id)
        for field_id, value in self.values.get(key, ()):
            attribute = _sub(task, "ExtendedAttribute")
            _sub(attribute, "FieldID", field_id)
            _sub(attribute, "Value", value)
        for field_id, value_id in self.assigned.get(subject_id, ()) if kind == "activity" else ():
            code = _sub(task, "OutlineCode")
            _sub(code, "FieldID", field_id)
            _sub(code, "ValueID", value_id)


def _format(data_type: str, value) -> str:
    if data_type == "date":
        return format_date(value)
    if data_type == "number":
        return format_number(value)
    return str(value)


def read_codes(doc, outline, activity_ids, project_values: dict, warnings: list[str]) -> ExchangeCodes:
    """The file's outline codes and custom fields (crmpm's own Text1 aside) with the tasks' values."""
    codes = ExchangeCodes()
    scopes = _pairs(project_values.get(SCOPES_KEY))
    kinds = _pairs(project_values.get(TYPES_KEY))
    value_keys: dict[tuple[str, str], str] = {}
    for definition in doc.children(doc.child(doc.root, "OutlineCodes"), "OutlineCode"):
        field_id = doc.text(definition, "FieldID")
        if field_id not in OUTLINE_CODES:
            warnings.append(f"outline code {doc.text(definition, 'FieldName') or field_id} (line "
                            f"{doc.line(definition)}) is not a task outline code; left out")
            continue
        scope, _sep, length = scopes.get(field_id, "").partition(":")
        codes.types.append(ExchangeCodeType(
            id=field_id, name=doc.text(definition, "Alias") or OUTLINE_CODES[field_id],
            scope=scope if scope in ("global", "eps", "project") else "project",
            max_length=int(length) if length.isdigit() and 0 < int(length) <= 60 else 20))
        longest = 0
        for value in doc.children(doc.child(definition, "Values"), "Value"):
            value_id = doc.text(value, "ValueID")
            parent = doc.text(value, "ParentValueID")
            short = (doc.text(value, "Value") or "").strip()
            longest = max(longest, len(short))
            key = f"{field_id}:{value_id}"
            value_keys[(field_id, value_id)] = key
            codes.values.append(ExchangeCodeValue(
                id=key, type_id=field_id, value=short, description=(doc.text(value, "Description") or "").strip(),
                parent_id=f"{field_id}:{parent}" if parent and parent != "0" else None, seq=len(codes.values)))
        if not length and longest > codes.types[-1].max_length:  # Project's own file: room for its values
            codes.types[-1] = dataclasses.replace(codes.types[-1], max_length=min(longest, 60))
    udf_types = {}  # field id → (data type, crmpm's subject or None, name)
    for definition in doc.children(doc.child(doc.root, "ExtendedAttributes"), "ExtendedAttribute"):
        field_id = doc.text(definition, "FieldID")
        family = FIELD_FAMILY.get(field_id)
        if family is None:
            continue  # crmpm's own Text1, or a kind of field crmpm does not keep
        kind, _sep, subject = kinds.get(field_id, "").partition(":")
        data_type = kind if FAMILY_OF_TYPE.get(kind) == family else DEFAULT_TYPE[family]
        name = doc.text(definition, "Alias") or doc.text(definition, "FieldName") or field_id
        udf_types[field_id] = (data_type, subject if subject in ("activity", "wbs", "project") else None, name)
    problems = []
    summary = outline.summary_task
    # Each task's subject: an activity, a WBS element (a summary task) or the project (the project summary).
    tasks = [("activity" if str(uid) in activity_ids else "wbs", str(uid), task)
             for uid, _level, task, _parent, _children in outline.rows
             if str(uid) in activity_ids or uid in outline.summaries]
    if summary is not None:
        tasks.append(("project", None, summary[1]))
    subjects: dict[str, set[str]] = {}  # field id → the kinds of subjects holding its values
    for kind, subject_id, task in tasks:
        for attribute in doc.children(task, "ExtendedAttribute"):
            field_id = doc.text(attribute, "FieldID")
            if field_id not in udf_types:
                continue
            try:
                value = _parse(udf_types[field_id][0], doc.text(attribute, "Value"))
            except (ValueError, InvalidOperation):
                problems.append(f"a bad value of field {field_id} (line {doc.line(attribute)})")
                continue
            if value is not None:
                subjects.setdefault(field_id, set()).add(kind)
                codes.udf_values.append(ExchangeUdfValue(type_id=f"{field_id}/{kind}", subject_id=subject_id,
                                                         value=value))
        if kind != "activity":
            continue
        for code in doc.children(task, "OutlineCode"):
            key = value_keys.get((doc.text(code, "FieldID"), doc.text(code, "ValueID")))
            if key is None:
                problems.append(f"outline code value {doc.text(code, 'ValueID')} of field {doc.text(code, 'FieldID')} "
                                f"(line {doc.line(code)})")
            else:
                codes.assignments.append((subject_id, doc.text(code, "FieldID"), key))
    # A field is a UDF of each kind of subject holding its values (crmpm's file names it; a field without values
    # is the activities'); Project's one field on activities and summaries is two UDFs of the same name.
    for field_id, (data_type, subject, name) in udf_types.items():
        for kind in sorted(subjects.get(field_id) or {subject or "activity"}):
            codes.udf_types.append(ExchangeUdfType(id=f"{field_id}/{kind}", subject=kind, name=name,
                                                   data_type=data_type))
    if problems:
        shown = ", ".join(problems[:10]) + (f" and {len(problems) - 10} more" if len(problems) > 10 else "")
        warnings.append(f"tasks: {len(problems)} custom field or outline code values left out: {shown}")
    return codes


def _pairs(text: str | None) -> dict[str, str]:
    pairs = {}
    for part in (text or "").split(","):
        key, sep, value = part.partition(":")  # the value may hold more colons
        if sep:
            pairs[key.strip()] = value.strip()
    return pairs


def _parse(data_type: str, text: str | None):
    return None if text is None or text == "" else parse_value(data_type, text)

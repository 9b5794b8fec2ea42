"""Activity codes as MS Project outline codes, and user-defined fields as extended attributes (custom fields).

Project has ten task outline codes (Outline Code1-10) and a fixed set of task custom fields per kind; crmpm
writes each activity code type as an outline code (its values as the code's value tree, each activity's value
as the task's ``OutlineCode``) and each UDF of activities or of the project as a custom field of its kind
(text and indicator: Text2-Text30, Text1 being crmpm's own; number and integer: Number1-20; cost: Cost1-10;
date: Date1-10), the activities' values on their tasks, the WBS elements' on their summary tasks and the
project's on the project summary task (UID 0). A field read back is a UDF of each kind of subject whose tasks
hold its values.
The scope of each code type and the crmpm data type and subject of each field go in crmpm's own field
(Text1, ``crmpm``) of the project summary task, so that a file written by crmpm reads back the same (the values'
maximum length too); a file from Project gets project code types and the data type of each field's kind.

What exceeds Project's fields (an eleventh code type, a thirtieth text UDF) is not dropped: it goes in crmpm's
own field, as JSON, where Project shows it as text and crmpm reads it back: the types and their values on the
project summary task (``extra_code_types``, ``extra_code_values``, ``extra_udfs``), each subject's values on its
task (``extra_codes``, ``extra_values``). :func:`export_warnings` names what went there; the file keeps the
messages too (``export_warnings`` on the project summary task) and the download tells their count.
Values that name what the file lacks are left out with a warning.
"""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from decimal import InvalidOperation

from wbs.interchange.model import ExchangeCodes, ExchangeCodeType, ExchangeCodeValue, ExchangeUdfType, ExchangeUdfValue
from wbs.interchange.mspdi.common import format_date, format_number
from wbs.models import CODE_SCOPES, UDF_DATA_TYPES, UDF_SUBJECTS
from wbs.udfs import parse_value

__all__ = ["CodeFields", "export_warnings", "read_codes"]

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
# crmpm's own field: what does not fit Project's fields, and what the export had to tell.
EXTRA_TYPES, EXTRA_VALUES, EXTRA_UDFS = "extra_code_types", "extra_code_values", "extra_udfs"
EXTRA_CODES, EXTRA_UDF_VALUES, WARNINGS_KEY = "extra_codes", "extra_values", "export_warnings"


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
        # The code types beyond the outline codes, numbered 1, 2, … in crmpm's own field.
        self.extra_types = {item.id: n for n, item in enumerate(codes.types[len(OUTLINE_CODES):], 1)}
        self.value_ids = {}
        for item in codes.values:
            if item.type_id in self.type_fields or item.type_id in self.extra_types:
                self.value_ids[item.id] = len(self.value_ids) + 1
        free = {family: list(fields) for family, fields in FAMILIES.items()}
        self.udfs = []  # ((field id, field name), udf type)
        self.extra_udfs: dict[str, int] = {}  # the UDF types that found no field, numbered in crmpm's own
        self.udf_types = {item.id: item for item in codes.udf_types}
        for item in codes.udf_types:
            fields = free[FAMILY_OF_TYPE[item.data_type]]
            if fields:
                self.udfs.append((fields.pop(0), item))
            else:
                self.extra_udfs[item.id] = len(self.extra_udfs) + 1
        self.udf_fields = {item.id: (field_id, item) for (field_id, _name), item in self.udfs}
        self.assigned: dict[str, list[tuple[str, str]]] = {}
        self.extra_assigned: dict[str, dict[str, int]] = {}
        self.values: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
        self.extra_values: dict[tuple[str, str | None], dict[str, str]] = {}
        self.add_assignments(codes.assignments)
        self.add_udf_values(codes.udf_values)
        self.warnings = self._warnings()

    def add_assignments(self, assignments) -> None:
        """Activities' code values to write, ``(activity id, type id, value id)``."""
        for task_id, type_id, value_id in assignments:
            if value_id not in self.value_ids:
                continue
            if type_id in self.type_fields:
                self.assigned.setdefault(task_id, []).append((self.type_fields[type_id], str(self.value_ids[value_id])))
            elif type_id in self.extra_types:
                self.extra_assigned.setdefault(task_id, {})[str(self.extra_types[type_id])] = self.value_ids[value_id]

    def add_udf_values(self, udf_values) -> None:
        """UDF values to write, kept by (subject kind, id): an activity and a WBS element may share an id."""
        for item in udf_values:
            udf_type = self.udf_types.get(item.type_id)
            if udf_type is None:
                continue
            key = (udf_type.subject, None if udf_type.subject == "project" else item.subject_id)
            text = _format(udf_type.data_type, item.value)
            field = self.udf_fields.get(item.type_id)
            if field is not None:
                self.values.setdefault(key, []).append((field[0], text))
            else:
                self.extra_values.setdefault(key, {})[str(self.extra_udfs[item.type_id])] = text

    def clear_values(self) -> None:
        """Forget the activities' and WBS elements' values (written): the next batch's are added."""
        project = ("project", None)
        self.assigned.clear()
        self.extra_assigned.clear()
        for table in (self.values, self.extra_values):
            for key in [key for key in table if key != project]:
                del table[key]

    def _warnings(self) -> list[str]:
        messages = []
        if self.extra_types:
            names = ", ".join(repr(t.name) for t in self.codes.types[len(OUTLINE_CODES):])
            messages.append(f"{len(self.extra_types)} activity code types beyond MS Project's {len(OUTLINE_CODES)} "
                            f"outline codes are kept in crmpm's own field (Text1), which only crmpm reads: {names}")
        for family, fields in FAMILIES.items():
            names = [self.udf_types[type_id].name for type_id in self.extra_udfs
                     if FAMILY_OF_TYPE[self.udf_types[type_id].data_type] == family]
            if names:
                messages.append(f"{len(names)} user-defined fields beyond MS Project's {len(fields)} {family} "
                                "custom fields are kept in crmpm's own field (Text1), which only crmpm reads: "
                                + ", ".join(map(repr, names)))
        return messages

    def __bool__(self) -> bool:
        return bool(self.types or self.udfs)

    def crmpm_values(self) -> dict:
        """What crmpm's own field of the project summary task keeps: each code's scope, each field's type."""
        if not self:
            return {}
        values = {SCOPES_KEY: ",".join(f"{field_id}:{item.scope}:{item.max_length}"
                                       for (field_id, _n), item in self.types),
                  TYPES_KEY: ",".join(f"{field_id}:{item.data_type}:{item.subject}" for (field_id, _n), item in self.udfs)}
        if self.extra_types:
            types = {item.id: item for item in self.codes.types}
            values[EXTRA_TYPES] = _json([[n, types[type_id].name, types[type_id].scope, types[type_id].max_length]
                                         for type_id, n in self.extra_types.items()])
            values[EXTRA_VALUES] = _json([[self.value_ids[v.id], self.extra_types[v.type_id],
                                           self.value_ids.get(v.parent_id, 0), v.value, v.description]
                                          for v in self.codes.values if v.type_id in self.extra_types])
        if self.extra_udfs:
            values[EXTRA_UDFS] = _json([[n, self.udf_types[type_id].name, self.udf_types[type_id].data_type,
                                         self.udf_types[type_id].subject] for type_id, n in self.extra_udfs.items()])
        values.update(self.crmpm_task_values(None))
        if self.warnings:
            values[WARNINGS_KEY] = _json(self.warnings)
        return values

    def crmpm_task_values(self, subject_id: str | None, kind: str = "activity") -> dict:
        """What of one subject's codes and UDFs goes in crmpm's own field of its task."""
        key = ("project", None) if subject_id is None else (kind, subject_id)
        values = {}
        if kind == "activity" and subject_id in self.extra_assigned:
            values[EXTRA_CODES] = _json(self.extra_assigned[subject_id])
        if key in self.extra_values:
            values[EXTRA_UDF_VALUES] = _json(self.extra_values[key])
        return values

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


def export_warnings(codes: ExchangeCodes) -> list[str]:
    """What of ``codes`` an MSPDI file keeps only in crmpm's own field (MS Project does not show it as codes)."""
    return CodeFields(ExchangeCodes(types=codes.types, udf_types=codes.udf_types)).warnings


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _format(data_type: str, value) -> str:
    if data_type == "date":
        return format_date(value)
    if data_type == "number":
        return format_number(value)
    return str(value)


def read_codes(doc, outline, activity_ids, project_values: dict, warnings: list[str], crmpm_of=None) -> ExchangeCodes:
    """The file's outline codes and custom fields with the tasks' values, and what crmpm's own field keeps beyond
    them (``crmpm_of(task, uid)`` reads a task's)."""
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
    if crmpm_of is not None:
        _read_extras(codes, tasks, project_values, crmpm_of, outline, problems)
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


def _read_extras(codes: ExchangeCodes, tasks, project_values: dict, crmpm_of, outline, problems: list[str]) -> None:
    """The code types, values and UDFs crmpm's own field keeps beyond Project's fields, with each task's."""
    summary_uid = outline.summary_task[0] if outline.summary_task else None
    types = _loaded(project_values, EXTRA_TYPES, "the project summary task", problems)
    values = _loaded(project_values, EXTRA_VALUES, "the project summary task", problems)
    udf_rows = _loaded(project_values, EXTRA_UDFS, "the project summary task", problems)
    type_ids, value_ids, udf_types = {}, {}, {}
    for row in types if isinstance(types, list) else ():
        try:
            n, name, scope, length = row
            assert scope in CODE_SCOPES and isinstance(name, str) and name and isinstance(length, int)
        except (AssertionError, TypeError, ValueError):
            problems.append(f"extra code type {str(row)[:60]} in crmpm's field")
            continue
        type_ids[str(n)] = f"x{n}"
        codes.types.append(ExchangeCodeType(id=f"x{n}", name=name, scope=scope, max_length=min(max(length, 1), 60)))
    for row in values if isinstance(values, list) else ():
        try:
            n, type_n, parent, short, description = row
            assert str(type_n) in type_ids and isinstance(short, str) and short.strip()
        except (AssertionError, TypeError, ValueError):
            problems.append(f"extra code value {str(row)[:60]} in crmpm's field")
            continue
        value_ids[str(n)] = (type_ids[str(type_n)], f"x:{n}")
        codes.values.append(ExchangeCodeValue(id=f"x:{n}", type_id=type_ids[str(type_n)], value=short.strip(),
                                              description=str(description or "").strip(),
                                              parent_id=f"x:{parent}" if parent else None, seq=len(codes.values)))
    for row in udf_rows if isinstance(udf_rows, list) else ():
        try:
            n, name, data_type, subject = row
            assert data_type in UDF_DATA_TYPES and subject in UDF_SUBJECTS and isinstance(name, str) and name
        except (AssertionError, TypeError, ValueError):
            problems.append(f"extra user-defined field {str(row)[:60]} in crmpm's field")
            continue
        udf_types[str(n)] = ExchangeUdfType(id=f"x{n}", subject=subject, name=name, data_type=data_type)
    codes.udf_types.extend(udf_types.values())
    if not (type_ids or udf_types):
        return
    for kind, subject_id, task in tasks:
        uid = summary_uid if subject_id is None else int(subject_id)
        own = project_values if subject_id is None else crmpm_of(task, uid)
        where = f"task UID {uid}"
        held = _loaded(own, EXTRA_CODES, where, problems) if kind == "activity" else None
        for type_n, value_n in held.items() if isinstance(held, dict) else ():
            found = value_ids.get(str(value_n))
            if str(type_n) not in type_ids or found is None or found[0] != type_ids[str(type_n)]:
                problems.append(f"extra code value {value_n} of type {type_n} ({where})")
            else:
                codes.assignments.append((subject_id, found[0], found[1]))
        held = _loaded(own, EXTRA_UDF_VALUES, where, problems)
        for udf_n, text in held.items() if isinstance(held, dict) else ():
            udf_type = udf_types.get(str(udf_n))
            try:
                assert udf_type is not None and udf_type.subject == kind
                value = _parse(udf_type.data_type, text)
            except (AssertionError, ValueError, InvalidOperation, TypeError):
                problems.append(f"extra user-defined field value {str(udf_n)[:20]}={str(text)[:40]!r} ({where})")
                continue
            if value is not None:
                codes.udf_values.append(ExchangeUdfValue(type_id=udf_type.id, subject_id=subject_id, value=value))


def _loaded(values: dict, key: str, where: str, problems: list[str]):
    """The JSON crmpm's field keeps under ``key``, or None (named in ``problems`` when unreadable)."""
    text = values.get(key)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        problems.append(f"crmpm field {key} of {where} is not readable")
        return None

"""Activity codes (ACTVTYPE, ACTVCODE, TASKACTV) and user-defined fields (UDFTYPE, UDFVALUE) of a P6 XER file,
read into the neutral :class:`~wbs.interchange.model.ExchangeCodes` and written back as the same tables.

Only the import reads them (``crmpm xer schedule`` does not need them, so its reading stays as fast as it was).
A row that names what is not in the file (a TASKACTV of a missing value, a UDFVALUE of an unknown type or
subject) or holds a bad value is left out with a warning naming it; UDFs of what crmpm does not keep (resources,
say) are left out with a warning too.
"""

from __future__ import annotations

from decimal import InvalidOperation

from wbs.interchange.model import ExchangeCodes, ExchangeCodeType, ExchangeCodeValue, ExchangeUdfType, ExchangeUdfValue
from wbs.interchange.xer.reader import XerTable
from wbs.udfs import parse_value

__all__ = ["read_codes", "code_tables", "SCOPES", "UDF_SUBJECTS", "UDF_TYPES", "INDICATORS"]

SCOPES = {"AS_Global": "global", "AS_EPS": "eps", "AS_Project": "project"}
UDF_SUBJECTS = {"TASK": "activity", "PROJWBS": "wbs", "PROJECT": "project"}
UDF_TYPES = {"FT_TEXT": "text", "FT_INT": "integer", "FT_FLOAT_2_DECIMALS": "number", "FT_FLOAT": "number",
             "FT_MONEY": "cost", "FT_START_DATE": "date", "FT_END_DATE": "date", "FT_STATICTYPE": "indicator"}
INDICATORS = {"UDF_G0": "none", "UDF_G1": "red", "UDF_G2": "yellow", "UDF_G3": "green", "UDF_G4": "blue"}
_WRITTEN_TYPES = {"text": "FT_TEXT", "integer": "FT_INT", "number": "FT_FLOAT_2_DECIMALS", "cost": "FT_MONEY",
                  "date": "FT_START_DATE", "indicator": "FT_STATICTYPE"}
_SHOWN = 10

ACTVTYPE_FIELDS = ("actv_code_type_id", "actv_short_len", "seq_num", "actv_code_type", "proj_id", "wbs_id",
                   "actv_code_type_scope")
ACTVCODE_FIELDS = ("actv_code_id", "parent_actv_code_id", "actv_code_type_id", "actv_code_name", "short_name",
                   "seq_num", "color")
TASKACTV_FIELDS = ("task_id", "actv_code_type_id", "actv_code_id", "proj_id")
UDFTYPE_FIELDS = ("udf_type_id", "table_name", "udf_type_name", "udf_type_label", "logical_data_type", "super_flag")
UDFVALUE_FIELDS = ("udf_type_id", "fk_id", "proj_id", "udf_date", "udf_number", "udf_text", "udf_code_id")


def read_codes(xer, proj_id: str, *, activity_ids, wbs_ids, warnings: list[str]) -> ExchangeCodes:
    """The codes and UDFs of project ``proj_id`` of ``xer``: the code types that apply to it (global, EPS and
    its own) with their values, its activities' assignments and the UDF values of its activities, WBS
    elements and itself. What cannot be kept is named in ``warnings``."""
    codes = ExchangeCodes()
    _read_code_types(xer, proj_id, codes, warnings)
    _read_assignments(xer, proj_id, set(activity_ids), codes, warnings)
    _read_udfs(xer, proj_id, set(activity_ids), set(wbs_ids), codes, warnings)
    return codes


def _int(value, default=0) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def _read_code_types(xer, proj_id, codes, warnings):
    table = xer.table("ACTVTYPE")
    for row, line in zip(table.rows, table.lines):
        scope = SCOPES.get(row.get("actv_code_type_scope") or ("AS_Project" if row.get("proj_id") else "AS_Global"))
        if scope is None:
            warnings.append(f"activity code type {row.get('actv_code_type')!r} has an unknown scope "
                            f"{row.get('actv_code_type_scope')!r} (table ACTVTYPE, line {line}); left out")
            continue
        if scope == "project" and row.get("proj_id") != proj_id:
            continue
        codes.types.append(ExchangeCodeType(
            id=row["actv_code_type_id"], name=(row.get("actv_code_type") or row["actv_code_type_id"]).strip(),
            scope=scope, max_length=max(1, _int(row.get("actv_short_len"), 20)), seq=_int(row.get("seq_num"))))
    kept = {t.id for t in codes.types}
    table = xer.table("ACTVCODE")
    rows = [(row, line) for row, line in zip(table.rows, table.lines) if row.get("actv_code_type_id") in kept]
    ids = {row["actv_code_id"] for row, _line in rows}
    orphans = []
    for row, line in rows:
        parent = row.get("parent_actv_code_id") or None
        if parent is not None and parent not in ids:
            orphans.append(f"{row.get('short_name')} (line {line})")
            parent = None
        codes.values.append(ExchangeCodeValue(
            id=row["actv_code_id"], type_id=row["actv_code_type_id"], value=(row.get("short_name") or "").strip(),
            description=(row.get("actv_code_name") or "").strip(), parent_id=parent, seq=_int(row.get("seq_num")),
            color=(row.get("color") or "").strip().upper()))
    if orphans:
        warnings.append(f"ACTVCODE: {_listed(orphans)} name a parent value that is not in the file; kept at the top")


def _read_assignments(xer, proj_id, activity_ids, codes, warnings):
    values = {v.id: v.type_id for v in codes.values}
    table = xer.table("TASKACTV")
    missing, seen = [], set()
    for row, line in zip(table.rows, table.lines):
        if row.get("proj_id") and row.get("proj_id") != proj_id:
            continue
        task_id, type_id, value_id = row.get("task_id"), row.get("actv_code_type_id"), row.get("actv_code_id")
        if task_id not in activity_ids:
            if not row.get("proj_id"):
                continue  # another project's activity in a file without TASKACTV.proj_id
            missing.append(f"activity {task_id} (line {line})")
        elif value_id not in values or values[value_id] != type_id:
            missing.append(f"code value {value_id} of type {type_id} (line {line})")
        elif (task_id, type_id) in seen:
            missing.append(f"a second value of type {type_id} for activity {task_id} (line {line})")
        else:
            seen.add((task_id, type_id))
            codes.assignments.append((task_id, type_id, value_id))
    if missing:
        warnings.append(f"TASKACTV: {len(missing)} assignments left out, naming {_listed(missing)}")


def _read_udfs(xer, proj_id, activity_ids, wbs_ids, codes, warnings):
    table = xer.table("UDFTYPE")
    other_subjects, unknown_types = [], []
    for row, line in zip(table.rows, table.lines):
        name = (row.get("udf_type_label") or row.get("udf_type_name") or row["udf_type_id"]).strip()
        subject = UDF_SUBJECTS.get(row.get("table_name"))
        data_type = UDF_TYPES.get(row.get("logical_data_type"))
        if subject is None:
            other_subjects.append(f"{name} of {row.get('table_name')}")
        elif data_type is None:
            unknown_types.append(f"{name} ({row.get('logical_data_type')}, line {line})")
        else:
            codes.udf_types.append(ExchangeUdfType(id=row["udf_type_id"], subject=subject, name=name,
                                                   data_type=data_type, file_type=row.get("logical_data_type")))
    if other_subjects:
        warnings.append(f"UDFTYPE: user-defined fields {_listed(other_subjects)} left out (crmpm keeps those of "
                        "activities, WBS elements and projects)")
    if unknown_types:
        warnings.append(f"UDFTYPE: user-defined fields {_listed(unknown_types)} have a data type crmpm does not "
                        "know; left out")
    types = {t.id: t for t in codes.udf_types}
    skipped_types = {row["udf_type_id"] for row in table.rows} - set(types)
    subjects = {"activity": activity_ids, "wbs": wbs_ids, "project": {proj_id}}
    table = xer.table("UDFVALUE")
    problems = []
    for row, line in zip(table.rows, table.lines):
        if row.get("proj_id") and row.get("proj_id") != proj_id:
            continue
        type_id, fk_id = row.get("udf_type_id"), row.get("fk_id")
        udf_type = types.get(type_id)
        if udf_type is None:
            if type_id not in skipped_types:  # a type left out above was named already
                problems.append(f"unknown field {type_id} (line {line})")
            continue
        if fk_id not in subjects[udf_type.subject]:
            if row.get("proj_id"):
                problems.append(f"{udf_type.name} of missing {udf_type.subject} {fk_id} (line {line})")
            continue
        try:
            value = _udf_value(udf_type, row)
        except (ValueError, InvalidOperation):
            problems.append(f"{udf_type.name}: bad value (line {line})")
            continue
        if value is not None:
            codes.udf_values.append(ExchangeUdfValue(type_id=type_id,
                                                     subject_id=None if udf_type.subject == "project" else fk_id,
                                                     value=value))
    if problems:
        warnings.append(f"UDFVALUE: {len(problems)} values left out: {_listed(problems)}")


def _udf_value(udf_type, row):
    kind = udf_type.data_type
    column = {"text": "udf_text", "indicator": "udf_text", "date": "udf_date"}.get(kind, "udf_number")
    text = (row.get(column) or "").strip() if kind != "text" else row.get(column) or ""
    if not text:
        return None
    if kind == "indicator":
        if text not in INDICATORS:
            raise ValueError(text)
        return INDICATORS[text]
    return parse_value(kind, text)


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def code_tables(codes: ExchangeCodes, *, proj_id: str) -> list[XerTable]:
    """ACTVTYPE, ACTVCODE, TASKACTV, UDFTYPE and UDFVALUE of a project's codes (ids as the codes hold them: the
    activities' and WBS elements' ids must be those of TASK and PROJWBS); none when it has neither."""
    if not codes:
        return []
    scopes = {scope: code for code, scope in SCOPES.items()}
    indicators = {name: code for code, name in INDICATORS.items()}
    subjects = {subject: table for table, subject in UDF_SUBJECTS.items()}
    types = {t.id: t for t in codes.udf_types}
    tables = [
        XerTable.of("ACTVTYPE", ACTVTYPE_FIELDS, [
            {"actv_code_type_id": t.id, "actv_short_len": str(t.max_length), "seq_num": str(t.seq),
             "actv_code_type": t.name, "proj_id": proj_id if t.scope == "project" else "", "wbs_id": "",
             "actv_code_type_scope": scopes[t.scope]} for t in codes.types]),
        XerTable.of("ACTVCODE", ACTVCODE_FIELDS, [
            {"actv_code_id": v.id, "parent_actv_code_id": v.parent_id or "", "actv_code_type_id": v.type_id,
             "actv_code_name": v.description, "short_name": v.value, "seq_num": str(v.seq), "color": v.color}
            for v in codes.values]),
        XerTable.of("TASKACTV", TASKACTV_FIELDS, [
            {"task_id": task_id, "actv_code_type_id": type_id, "actv_code_id": value_id, "proj_id": proj_id}
            for task_id, type_id, value_id in codes.assignments]),
        XerTable.of("UDFTYPE", UDFTYPE_FIELDS, [
            {"udf_type_id": t.id, "table_name": subjects[t.subject], "udf_type_name": f"user_field_{t.id}",
             "udf_type_label": t.name, "logical_data_type": t.file_type or _WRITTEN_TYPES[t.data_type],
             "super_flag": "N"} for t in codes.udf_types]),
    ]
    rows = []
    for item in codes.udf_values:
        kind = types[item.type_id].data_type
        row = {"udf_type_id": item.type_id, "fk_id": item.subject_id or proj_id, "proj_id": proj_id}
        if kind == "date":
            row["udf_date"] = item.value.strftime("%Y-%m-%d %H:%M")
        elif kind == "text":
            row["udf_text"] = item.value
        elif kind == "indicator":
            row["udf_text"] = indicators[item.value]
        elif kind == "cost":
            row["udf_number"] = str(item.value)
        else:
            row["udf_number"] = repr(item.value) if kind == "number" else str(item.value)
        rows.append(row)
    tables.append(XerTable.of("UDFVALUE", UDFVALUE_FIELDS, rows))
    return tables



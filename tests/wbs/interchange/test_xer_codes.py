"""Activity codes and user-defined fields through P6 XER: every real file's codes (ACTVTYPE, ACTVCODE, TASKACTV)
and UDFs (UDFTYPE, UDFVALUE) are the same after import → export → import as in the original file, read here
on its own (a plain tab split, not crmpm's reader); broken rows are named in warnings, never a crash."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from eps.models import Role
from tests import factories
from tests.wbs.xer_fixtures import xer_path
from wbs import codes as code_rules
from wbs import interchange, udfs
from wbs.interchange.xer.project import read_xer_project
from wbs.models import (Activity, ActivityCodeAssignment, ActivityCodeType, ActivityCodeValue, UdfType, UdfValue,
                        WbsElement)

# (file, proj_id): every project of a real file that has codes or UDFs.
CASES = [("alap-harbour-131.xer", "4408"), ("options-695.xer", "4533"), ("three-projects-134.xer", "4353"),
         ("updates-BL-54069-B2-20250902.xer", "308080"), ("updates-UP-54069-20251121.xer", "308964"),
         ("updates-UP-54069-20251204.xer", "309224"), ("updates-UP-54069-20251218.xer", "309570"),
         ("updates-UP-54069-20260122.xer", "310007")]
SCOPES = {"AS_Global": "global", "AS_EPS": "eps", "AS_Project": "project"}
SUBJECTS = {"TASK": "activity", "PROJWBS": "wbs", "PROJECT": "project"}
COLOURS = {"UDF_G0": "none", "UDF_G1": "red", "UDF_G2": "yellow", "UDF_G3": "green", "UDF_G4": "blue"}


def _tables(data: bytes) -> dict[str, list[dict]]:
    """The file's tables as lists of dicts, by a plain split of its lines."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    tables, name, fields = {}, None, []
    for line in text.splitlines():
        parts = line.split("\t")
        if parts[0] == "%T":
            name = parts[1].strip()
            tables.setdefault(name, [])
        elif parts[0] == "%F":
            fields = parts[1:]
        elif parts[0] == "%R":
            values = parts[1:] + [""] * (len(fields) - len(parts) + 1)
            tables[name].append(dict(zip(fields, values)))
    return tables


def _expected(data: bytes, proj_id: str) -> dict:
    """Codes and UDFs of project ``proj_id`` in the file: type names with scope and their value paths, each
    activity's values by type name, each UDF value by field name and subject code."""
    t = _tables(data)
    types = {r["actv_code_type_id"]: r for r in t.get("ACTVTYPE", [])
             if r["actv_code_type_scope"] != "AS_Project" or r["proj_id"] == proj_id}
    values = {r["actv_code_id"]: r for r in t.get("ACTVCODE", []) if r["actv_code_type_id"] in types}

    def path(value_id):
        row = values[value_id]
        parent = row["parent_actv_code_id"]
        return (path(parent) if parent in values else ()) + (row["short_name"],)

    tasks = {r["task_id"]: r["task_code"] for r in t.get("TASK", []) if r["proj_id"] == proj_id}
    wbs_rows = {r["wbs_id"]: r for r in t.get("PROJWBS", []) if r["proj_id"] == proj_id}

    def wbs_path(wbs_id):  # names from the top, the project node left out (short names may repeat in P6)
        row = wbs_rows[wbs_id]
        parent = wbs_rows.get(row["parent_wbs_id"])
        above = wbs_path(parent["wbs_id"]) if parent is not None and parent.get("proj_node_flag") != "Y" else ""
        return f"{above}/{row['wbs_name']}"

    wbs = {wbs_id: wbs_path(wbs_id) for wbs_id, row in wbs_rows.items() if row.get("proj_node_flag") != "Y"}
    assigned = {}
    for r in t.get("TASKACTV", []):
        if r["task_id"] in tasks and r["actv_code_id"] in values:
            assigned.setdefault(tasks[r["task_id"]], {})[types[r["actv_code_type_id"]]["actv_code_type"]] = \
                path(r["actv_code_id"])
    udf_types = {r["udf_type_id"]: r for r in t.get("UDFTYPE", []) if r["table_name"] in SUBJECTS}
    udf = set()
    for r in t.get("UDFVALUE", []):
        kind = udf_types.get(r["udf_type_id"])
        if kind is None or r["proj_id"] != proj_id:
            continue
        subject = SUBJECTS[kind["table_name"]]
        key = {"activity": tasks, "wbs": wbs, "project": {proj_id: ""}}[subject].get(r["fk_id"])
        value = {"FT_TEXT": r["udf_text"], "FT_STATICTYPE": COLOURS.get(r["udf_text"]),
                 "FT_INT": r["udf_number"] and int(float(r["udf_number"])),
                 "FT_FLOAT_2_DECIMALS": r["udf_number"] and float(r["udf_number"]),
                 "FT_MONEY": r["udf_number"] and Decimal(r["udf_number"]).quantize(Decimal("0.01")),
                 "FT_START_DATE": r["udf_date"] and dt.datetime.fromisoformat(r["udf_date"]),
                 "FT_END_DATE": r["udf_date"] and dt.datetime.fromisoformat(r["udf_date"])}[kind["logical_data_type"]]
        if key is not None and value not in (None, ""):
            udf.add((kind["udf_type_label"], subject, key, value))
    return {"types": {(r["actv_code_type"], SCOPES[r["actv_code_type_scope"]], int(r["actv_short_len"]))
                      for r in types.values()},
            "values": {(types[r["actv_code_type_id"]]["actv_code_type"], path(i), r["actv_code_name"])
                       for i, r in values.items()},
            "assigned": assigned, "udf": udf}


def _stored(session, project) -> dict:
    """The same shape, read from the database for a stored project."""
    types = session.scalars(code_rules.list_code_types(session, project=project)).all()
    names = {t.id: t.name for t in types}
    paths = code_rules.value_paths(session, type_ids=names)
    values = session.scalars(select(ActivityCodeValue).where(ActivityCodeValue.type_id.in_(names))).all()
    assigned = {}
    for code, type_id, value_id in session.execute(
            select(Activity.code, ActivityCodeAssignment.type_id, ActivityCodeAssignment.value_id)
            .join(Activity, Activity.id == ActivityCodeAssignment.activity_id)
            .where(Activity.project_id == project.id)):
        assigned.setdefault(code, {})[names[type_id]] = tuple(paths[value_id].split("."))
    elements = {e.id: e for e in session.scalars(select(WbsElement).where(WbsElement.project_id == project.id))}

    def wbs_path(element_id):
        element = elements[element_id]
        return (wbs_path(element.parent_id) if element.parent_id else "") + f"/{element.name}"

    udf = set()
    rows = session.execute(select(UdfType, UdfValue, Activity.code, UdfValue.wbs_element_id)
                           .join(UdfValue, UdfValue.type_id == UdfType.id)
                           .outerjoin(Activity, Activity.id == UdfValue.activity_id)
                           .where(UdfValue.project_id == project.id)).all()
    for udf_type, row, activity_code, element_id in rows:
        subject = activity_code or (wbs_path(element_id) if element_id else "")
        udf.add((udf_type.name, udf_type.subject, subject, udfs.value_of(udf_type, row)))
    return {"types": {(t.name, t.scope, t.max_length) for t in types},
            "values": {(names[v.type_id], tuple(paths[v.id].split(".")), v.description) for v in values},
            "assigned": assigned, "udf": udf}


@pytest.mark.parametrize(("name", "proj_id"), CASES)
def test_codes_and_udfs_survive_import_export_import(session, name, proj_id):
    data = xer_path(name).read_bytes()
    expected = _expected(data, proj_id)
    assert expected["types"] or expected["udf"]  # the case exercises something
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="CODES")
    first = interchange.import_xer(session, actor=admin, data=data, eps_node=node, proj=proj_id, code="FIRST")
    assert _stored(session, first) == expected
    exported = interchange.export_xer(session, project=first)
    assert _expected(exported, str(first.id)) == expected  # the written file says the same
    again = interchange.import_xer(session, actor=admin, data=exported, eps_node=node, code="AGAIN")
    assert _stored(session, again) == expected


# Rows added to a real one-activity file (task 1338401 of project 34738): blocks of its own ACTV tables (their
# fields as the file lists them), and UDF tables it lacks.
BROKEN = """%T\tACTVTYPE
%R\t5\t5\t0\tPhase\t34738\t\tAS_Project
%T\tACTVCODE
%R\t50\t\t5\tDesign\tDES\t0\t
%T\tTASKACTV
%R\t1338401\t5\t99\t34738
%T\tUDFTYPE
%F\tudf_type_id\ttable_name\tudf_type_name\tudf_type_label\tlogical_data_type\tsuper_flag
%R\t7\tTASK\tuser_field_7\tWeird\tFT_SOMETHING\tN
%R\t8\tTASK\tuser_field_8\tCount\tFT_INT\tN
%T\tUDFVALUE
%F\tudf_type_id\tfk_id\tproj_id\tudf_date\tudf_number\tudf_text\tudf_code_id
%R\t7\t1338401\t34738\t\t\tx\t
%R\t9\t1338401\t34738\t\t\ty\t
%R\t8\t1338401\t34738\t\tmany\t\t
%R\t8\t11\t34738\t\t3\t\t
%E
"""


def test_broken_code_and_udf_rows_are_named_in_warnings_not_dropped_silently():
    real = xer_path("lagcal-PredecessorCalendar.xer").read_bytes()
    source = read_xer_project(real[:real.rindex(b"%E")] + BROKEN.encode("cp1252"))
    text = "\n".join(source.warnings)
    assert "TASKACTV" in text and "code value 99 of type 5" in text
    assert "Weird (FT_SOMETHING" in text
    assert "unknown field 9" in text
    assert "Count: bad value" in text
    assert "Count of missing activity 11" in text
    assert source.codes.assignments == [] and source.codes.udf_values == []
    assert [v.value for v in source.codes.values] == ["DES"]


def test_a_plan_replaced_by_the_same_file_keeps_its_codes_and_udfs_once(session):
    data = xer_path("three-projects-134.xer").read_bytes()
    expected = _expected(data, "4353")
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="CODES")
    project = interchange.import_xer(session, actor=admin, data=data, eps_node=node, proj="4353", code="REPLACED")
    interchange.replace_plan(session, actor=admin, project=project, source=read_xer_project(data, proj="4353"))
    assert _stored(session, project) == expected
    count = session.scalar(select(func.count()).select_from(UdfValue).where(UdfValue.project_id == project.id))
    assert count == len(expected["udf"])


def _code_scopes(session, project) -> dict[str, str]:
    """Each code type that applies to ``project`` by name: its scope."""
    return {t.name: t.scope for t in session.scalars(code_rules.list_code_types(session, project=project))}


def test_an_editor_imports_the_files_global_types_as_project_types_with_a_warning(session):
    data = xer_path("alap-harbour-131.xer").read_bytes()
    expected = _expected(data, "4408")
    file_globals = {name for name, scope, _length in expected["types"] if scope == "global"}
    assert file_globals  # the file has global code types
    admin = factories.admin(session)
    editor = factories.user(session)
    node = factories.node(session, actor=admin, code="CODES")
    factories.grant(session, actor=admin, role=Role.editor, target=node, user=editor)
    warnings: list[str] = []
    project = interchange.import_xer(session, actor=editor, data=data, eps_node=node, code="EDITOR",
                                     warnings=warnings)
    assert not session.scalar(select(func.count()).select_from(ActivityCodeType)
                              .where(ActivityCodeType.scope == "global"))
    # A global type named as one of the file's project types keeps apart from it under a marked name.
    file_projects = {name for name, scope, _length in expected["types"] if scope == "project"}
    renamed = {name: f"{name} (global)" if name in file_projects else name for name in file_globals}
    scopes = _code_scopes(session, project)
    assert {name: scopes[new] for name, new in renamed.items()} == dict.fromkeys(file_globals, "project")
    for name, new in renamed.items():
        assert any(repr(name) in w and f"created as the project code type {new!r}" in w for w in warnings), name
    stored = _stored(session, project)
    # Everything else is as the file has it: the same values and assignments, only the scope and names differ.

    def moved(name, scope):
        return (renamed[name], "project") if scope == "global" else (name, scope)

    assert stored["types"] == {(*moved(name, scope), length) for name, scope, length in expected["types"]}
    back = {new: name for name, new in renamed.items()}
    assert {(back.get(t, t), path, text) for t, path, text in stored["values"]} == expected["values"]
    assert {code: {back.get(t, t): path for t, path in held.items()} for code, held in stored["assigned"].items()} \
        == expected["assigned"]
    # The file's UDF types do not exist and only administrators create them: left out, each named.
    assert stored["udf"] == set()
    udf_names = {row[0] for row in expected["udf"]}
    assert all(any(repr(name) in w and "only administrators" in w for w in warnings) for name in udf_names)


def test_an_administrator_imports_global_types_and_an_editor_then_reuses_them(session):
    data = xer_path("alap-harbour-131.xer").read_bytes()
    expected = _expected(data, "4408")
    admin = factories.admin(session)
    editor = factories.user(session)
    node = factories.node(session, actor=admin, code="CODES")
    factories.grant(session, actor=admin, role=Role.editor, target=node, user=editor)
    first = interchange.import_xer(session, actor=admin, data=data, eps_node=node, code="ADMIN")
    assert _stored(session, first) == expected
    global_count = select(func.count()).select_from(ActivityCodeType).where(ActivityCodeType.scope == "global")
    globals_before = session.scalar(global_count)
    assert globals_before == len({n for n, scope, _l in expected["types"] if scope == "global"})
    warnings: list[str] = []
    second = interchange.import_xer(session, actor=editor, data=data, eps_node=node, code="EDITOR",
                                    warnings=warnings)
    assert _stored(session, second) == expected  # existing global types and UDFs reused, nothing left out
    assert session.scalar(global_count) == globals_before
    assert not any("created as a project code type" in w or "only administrators" in w for w in warnings)

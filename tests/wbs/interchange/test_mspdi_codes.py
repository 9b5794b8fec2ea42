"""Activity codes as MS Project outline codes and UDFs as custom fields (extended attributes): a real P6 file's
codes and the UDFs of activities, WBS elements (on their summary tasks) and the project survive XER import →
MSPDI export → MSPDI import, compared with the XER file read on its own; what exceeds Project's fields comes back
from crmpm's own field and is named in the export's warnings; a file's values that name nothing are named in
warnings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests import factories
from tests.wbs.interchange.test_xer_codes import _expected, _stored
from tests.wbs.xer_fixtures import xer_path
from wbs import codes as code_rules
from wbs import interchange, services, udfs
from wbs.interchange.mspdi.project import read_mspdi_project

# Files whose code types fit Project's ten outline codes, with activity or project UDFs.
CASES = [("alap-harbour-131.xer", "4408"), ("options-695.xer", "4533"),
         ("updates-UP-54069-20251121.xer", "308964")]


@pytest.mark.parametrize(("name", "proj_id"), CASES)
def test_codes_and_udfs_survive_an_mspdi_round_trip(session, name, proj_id):
    data = xer_path(name).read_bytes()
    expected = _expected(data, proj_id)
    assert len(expected["types"]) <= 10 and (expected["assigned"] or expected["udf"])
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="MSPDI")
    first = interchange.import_xer(session, actor=admin, data=data, eps_node=node, proj=proj_id, code="FROMXER")
    exported = interchange.export_mspdi(session, project=first)
    again = interchange.import_mspdi(session, actor=admin, data=exported, eps_node=node, code="FROMMSPDI")
    assert _stored(session, again) == expected


def test_wbs_udfs_are_written_on_their_summary_tasks_and_read_back(session):
    data = xer_path("alap-harbour-131.xer").read_bytes()
    expected = {row for row in _expected(data, "4408")["udf"] if row[1] == "wbs"}
    assert expected  # the file has UDF values of WBS elements
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="MSPDI")
    first = interchange.import_xer(session, actor=admin, data=data, eps_node=node, proj="4408", code="FROMXER")
    exported = interchange.export_mspdi(session, project=first)
    # Each value sits on the summary task of its element, found in the file by the element's name.
    root = ET.fromstring(exported)
    ns = {"p": root.tag[1:root.tag.index("}")]}
    fields = {a.findtext("p:FieldID", namespaces=ns): a.findtext("p:Alias", namespaces=ns)
              for a in root.iterfind("p:ExtendedAttributes/p:ExtendedAttribute", ns)}
    on_summaries = set()
    for task in root.iterfind("p:Tasks/p:Task", ns):
        if task.findtext("p:Summary", namespaces=ns) == "1" and task.findtext("p:OutlineLevel", namespaces=ns) != "0":
            for attribute in task.iterfind("p:ExtendedAttribute", ns):
                on_summaries.add((fields[attribute.findtext("p:FieldID", namespaces=ns)],
                                  task.findtext("p:Name", namespaces=ns)))
    assert {(name, subject.rsplit("/", 1)[-1]) for name, _kind, subject, _value in expected} == on_summaries
    again = interchange.import_mspdi(session, actor=admin, data=exported, eps_node=node, code="FROMMSPDI")
    assert {row for row in _stored(session, again)["udf"] if row[1] == "wbs"} == expected


def test_outline_code_values_that_name_nothing_are_named_in_warnings(session):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="MSPDI")
    first = interchange.import_xer(session, actor=admin, data=xer_path("alap-harbour-131.xer").read_bytes(),
                                   eps_node=node, code="FROMXER")
    exported = interchange.export_mspdi(session, project=first).decode("utf-8")
    assert "<OutlineCode>" in exported and "<ValueID>" in exported
    at = exported.index("<OutlineCode>", exported.index("<Tasks>"))
    start = exported.index("<ValueID>", at) + len("<ValueID>")
    broken = exported[:start] + "999999" + exported[exported.index("</ValueID>", start):]
    source = read_mspdi_project(broken.encode("utf-8"))
    assert any("outline code value 999999" in warning for warning in source.warnings)


def _crowded_project(session, admin, node, code="CROWDED"):
    """A project with 12 code types (two-level values), 35 text UDFs of activities, one of WBS elements and a cost
    UDF of the project, every value set: more code types and text fields than MS Project has."""
    project = factories.project(session, actor=admin, node=node, code=code)
    element = services.create_element(session, actor=admin, project=project, code="W1", name="Works")
    first = services.create_activity(session, actor=admin, project=project, code="A1", name="Dig",
                                     wbs_element_id=element.id)
    second = services.create_activity(session, actor=admin, project=project, code="A2", name="Pour")
    expected = {"types": set(), "values": set(), "assigned": {"A1": {}, "A2": {}}, "udf": set()}
    for n in range(1, 13):
        code_type = code_rules.create_code_type(session, actor=admin, scope="project", name=f"Code{n:02}",
                                                project=project, max_length=8)
        top = code_rules.create_code_value(session, actor=admin, code_type=code_type, value=f"T{n}",
                                           description=f"Top {n}")
        leaf = code_rules.create_code_value(session, actor=admin, code_type=code_type, value=f"L{n}",
                                            description=f"Leaf; {n}=x%", parent_id=top.id)
        code_rules.set_activity_codes(session, actor=admin, project=project, activity=first,
                                      values={code_type.id: leaf.id})
        code_rules.set_activity_codes(session, actor=admin, project=project, activity=second,
                                      values={code_type.id: top.id})
        expected["types"].add((code_type.name, "project", 8))
        expected["values"] |= {(code_type.name, (f"T{n}",), f"Top {n}"),
                               (code_type.name, (f"T{n}", f"L{n}"), f"Leaf; {n}=x%")}
        expected["assigned"]["A1"][code_type.name] = (f"T{n}", f"L{n}")
        expected["assigned"]["A2"][code_type.name] = (f"T{n}",)
    for n in range(1, 36):
        note = udfs.create_udf_type(session, actor=admin, subject="activity", name=f"Note{n:02}", data_type="text")
        udfs.set_udf_values(session, actor=admin, project=project, subject=first, values={note.id: f"n{n}; a=b"})
        expected["udf"].add((note.name, "activity", "A1", f"n{n}; a=b"))
    place = udfs.create_udf_type(session, actor=admin, subject="wbs", name="Site", data_type="text")
    udfs.set_udf_values(session, actor=admin, project=project, subject=element, subject_kind="wbs",
                        values={place.id: "North"})
    expected["udf"].add(("Site", "wbs", "/Works", "North"))
    budget = udfs.create_udf_type(session, actor=admin, subject="project", name="Grant", data_type="cost")
    udfs.set_udf_values(session, actor=admin, project=project, values={budget.id: "1234.50"})
    expected["udf"].add(("Grant", "project", "", Decimal("1234.50")))
    return project, expected


def test_code_types_and_text_fields_beyond_ms_projects_are_kept_in_crmpms_field_and_named(session):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="MSPDI")
    project, expected = _crowded_project(session, admin, node)
    chunks = interchange.mspdi_chunks(session, project=project)
    exported = b"".join(chunks)
    # Two messages: the 2 code types past Outline Code10, the 7 text UDFs past Text30 (35 + 1 for 29 fields).
    assert len(chunks.warnings) == 2 and chunks.headers == {"X-Crmpm-Export-Warnings": "2"}
    assert "2 activity code types" in chunks.warnings[0] and "'Code11', 'Code12'" in chunks.warnings[0]
    assert "7 user-defined fields beyond MS Project's 29 Text" in chunks.warnings[1]
    root = ET.fromstring(exported)
    ns = {"p": root.tag[1:root.tag.index("}")]}
    assert len(root.findall("p:OutlineCodes/p:OutlineCode", ns)) == 10
    # The messages are in the file too, in crmpm's field of the project summary task.
    summary = next(t for t in root.iterfind("p:Tasks/p:Task", ns) if t.findtext("p:OutlineLevel", namespaces=ns) == "0")
    assert any("export_warnings=" in (a.findtext("p:Value", namespaces=ns) or "")
               for a in summary.iterfind("p:ExtendedAttribute", ns))
    again = interchange.import_mspdi(session, actor=admin, data=exported, eps_node=node, code="AGAIN")
    assert _stored(session, again) == expected


def test_an_unreadable_extra_in_crmpms_field_is_named_in_a_warning(session):
    # crmpm's field of a task rewritten by hand: the unreadable extra is named, nothing crashes.
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="MSPDI")
    project, _expected_codes = _crowded_project(session, admin, node)
    exported = interchange.export_mspdi(session, project=project).decode("utf-8")
    start = exported.index("extra_codes=")
    end = min(exported.index(";", start), exported.index("</Value>", start))
    broken = exported[:start] + "extra_codes=%7Bnot json" + exported[end:]
    source = read_mspdi_project(broken.encode("utf-8"))
    assert any("crmpm field extra_codes of task UID" in warning for warning in source.warnings)

"""Activity codes as MS Project outline codes and UDFs as custom fields (extended attributes): a real P6 file's
codes and the UDFs of activities, WBS elements (on their summary tasks) and the project survive XER import → MSPDI export → MSPDI import, compared with the XER file
read on its own; a file's outline code values that name nothing are named in warnings."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import delete, func, select

from tests import factories
from tests.wbs.interchange.test_xer_codes import _expected, _stored
from tests.wbs.xer_fixtures import xer_path
from wbs import interchange
from wbs.interchange.mspdi.project import read_mspdi_project
from wbs.models import Relationship

# Files whose code types fit Project's ten outline codes, with activity or project UDFs.
CASES = [("alap-harbour-131.xer", "4408"), ("options-695.xer", "4533"),
         ("updates-UP-54069-20251121.xer", "308964")]


def _one_link_per_pair(session):
    """Project links two tasks once: P6's second link of a pair (an FS and an FF, say) goes before the export."""
    kept = select(func.min(Relationship.id)).group_by(Relationship.predecessor_id, Relationship.successor_id)
    session.execute(delete(Relationship).where(Relationship.id.not_in(kept)))


@pytest.mark.parametrize(("name", "proj_id"), CASES)
def test_codes_and_udfs_survive_an_mspdi_round_trip(session, name, proj_id):
    data = xer_path(name).read_bytes()
    expected = _expected(data, proj_id)
    assert len(expected["types"]) <= 10 and (expected["assigned"] or expected["udf"])
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="MSPDI")
    first = interchange.import_xer(session, actor=admin, data=data, eps_node=node, proj=proj_id, code="FROMXER")
    _one_link_per_pair(session)
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
    _one_link_per_pair(session)
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
    _one_link_per_pair(session)
    exported = interchange.export_mspdi(session, project=first).decode("utf-8")
    assert "<OutlineCode>" in exported and "<ValueID>" in exported
    at = exported.index("<OutlineCode>", exported.index("<Tasks>"))
    start = exported.index("<ValueID>", at) + len("<ValueID>")
    broken = exported[:start] + "999999" + exported[exported.index("</ValueID>", start):]
    source = read_mspdi_project(broken.encode("utf-8"))
    assert any("outline code value 999999" in warning for warning in source.warnings)

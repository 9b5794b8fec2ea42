"""MSPDI resources and assignments: written from the pool, read back to the same resources (matched by code)
and assignments; the file's figures checked against its XML read here with ElementTree."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests import factories
from tests.wbs.interchange.test_xer_resources import BUILT, _pool_counts, _stored
from wbs import interchange
from wbs.interchange.mspdi import write_mspdi
from wbs.models import Activity
from wbs.resources.models import Assignment, Resource

NS = {"p": "http://schemas.microsoft.com/project"}


@pytest.fixture
def place(session):
    admin = factories.admin(session)
    return admin, factories.node(session, actor=admin, code="MSPRES")


def _hours(text: str) -> float:
    """``PT#H#M#S`` in hours."""
    hours, rest = text[2:].split("H")
    minutes, seconds = rest.rstrip("S").split("M")
    return int(hours) + int(minutes) / 60 + int(seconds) / 3600


def test_mspdi_file_holds_the_pools_figures_and_reads_back_the_same(session, place):
    admin, node = place
    from_xer = interchange.import_xer(session, actor=admin, data=BUILT, eps_node=node, code="X")
    counts = _pool_counts(session)
    data = interchange.export_mspdi(session, project=from_xer)
    root = ET.fromstring(data)
    resources = {r.findtext("p:UID", namespaces=NS): r for r in root.find("p:Resources", NS)}
    by_code = {r.findtext("p:Code", namespaces=NS): r for r in resources.values()}
    # The assigned ones and their parents (CREW, ENG: Project has no hierarchy, they are plain rows there).
    assert set(by_code) == {"CREW", "PETROV", "CRANE", "CONC", "ENG", "PLC"}
    assert by_code["PLC"].findtext("p:IsGeneric", namespaces=NS) == "1"
    assert by_code["CONC"].findtext("p:Type", namespaces=NS) == "0"
    assert [(r.findtext("p:RatesFrom", namespaces=NS), r.findtext("p:StandardRate", namespaces=NS))
            for r in by_code["PETROV"].find("p:Rates", NS)] == [("2026-01-01T00:00:00", "40.00"),
                                                                ("2026-03-09T00:00:00", "42.50")]
    tasks = {t.findtext("p:UID", namespaces=NS): t.findtext("p:WBS", namespaces=NS) for t in root.find("p:Tasks", NS)}
    stored = {(session.get(Activity, a.activity_id).code, (a.resource or a.role).code): a
              for a in session.scalars(select(Assignment).where(Assignment.project_id == from_xer.id))}
    written = root.find("p:Assignments", NS)
    assert len(written) == len(stored) == 4
    for element in written:
        def text(name):
            return element.findtext(f"p:{name}", namespaces=NS)
        a = stored[(tasks[text("TaskUID")], resources[text("ResourceUID")].findtext("p:Code", namespaces=NS))]
        assert (Decimal(text("Cost")) / 100, Decimal(text("ActualCost")) / 100, Decimal(text("RemainingCost")) / 100) \
            == (a.budgeted_cost, a.actual_cost, a.remaining_cost)
        assert (_hours(text("Work")), _hours(text("ActualWork")), _hours(text("RemainingWork"))) == pytest.approx(
            (a.budgeted_units, a.actual_units, a.remaining_units))
        assert datetime.fromisoformat(text("Start")) == a.start

    first = interchange.import_mspdi(session, actor=admin, data=data, eps_node=node, code="M1")
    assert _pool_counts(session) == counts  # matched by code: nothing new in the pool
    x_assignments = _stored(session, from_xer)
    m_assignments = _stored(session, first)
    # Everything but the rate source of the custom price (Project prices by its rate tables) comes back.
    assert [a[:10] + a[12:] for a in m_assignments] == [a[:10] + a[12:] for a in x_assignments]
    a110 = {a.code: a for a in session.scalars(select(Activity).where(Activity.project_id == first.id))}["A110"]
    assert session.get(Resource, a110.primary_resource_id).code == "CRANE"
    assert a110.early_finish == datetime(2026, 3, 4, 8)  # on the crane's calendar, as from the XER file

    second = interchange.import_mspdi(session, actor=admin, data=interchange.export_mspdi(session, project=first),
                                      eps_node=node, code="M2")
    assert _pool_counts(session) == counts
    assert _stored(session, second) == m_assignments


def test_streamed_export_is_the_whole_document_with_resources(session, place):
    admin, node = place
    project = interchange.import_xer(session, actor=admin, data=BUILT, eps_node=node, code="S")
    assert interchange.export_mspdi(session, project=project) == write_mspdi(
        interchange.exchange_of(session, project=project))

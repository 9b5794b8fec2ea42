"""The streamed MSPDI export: byte for byte the document ``write_mspdi`` builds whole, sent a batch of tasks at a time."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests import factories
from tests.wbs.interchange.test_mspdi_codes import _crowded_project
from tests.wbs.xer_fixtures import GOLDEN, xer_path
from wbs import interchange, services
from wbs.interchange.mspdi import export as mspdi_export
from wbs.interchange.mspdi import read_mspdi, write_mspdi

WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]
MONDAY = datetime(2026, 3, 2, 8)


def _whole(session, project) -> bytes:
    """The file as the export built it before streaming: the neutral project, one element tree, one string."""
    return write_mspdi(interchange.exchange_of(session, project=project))


def _streamed(session, project) -> list[bytes]:
    return list(interchange.mspdi_chunks(session, project=project))


@pytest.fixture
def admin(session):
    return factories.admin(session)


@pytest.fixture
def awkward(session, admin):
    """Nested WBS, codes out of id order, an activity outside the WBS, one never scheduled, a link
    from another project, lags and link types, Cyrillic names, a summary with nothing under it."""
    node = factories.node(session, actor=admin, code="MSPDI")
    other = factories.project(session, actor=admin, node=node, code="OTHER")
    elsewhere = services.create_activity(session, actor=admin, project=other, code="E", name="Elsewhere",
                                         original_duration_hours=16.0)
    project = factories.project(session, actor=admin, node=node, code="AWK")
    calendar = services.create_calendar(session, actor=admin, project=project, name="5x8", week=WEEK)
    services.update_plan(session, actor=admin, project=project, planned_start=MONDAY, data_date=MONDAY,
                         default_calendar_id=calendar.id)
    top = services.create_element(session, actor=admin, project=project, code="T", name="Верх")
    inner = services.create_element(session, actor=admin, project=project, code="I", name="Inner", parent=top)
    services.create_element(session, actor=admin, project=project, code="Z", name="Empty")
    made = []
    for n, (code, element) in enumerate([("B", top), ("A", top), ("AA", top), ("C", inner), ("D", None),
                                         ("A0", inner), ("F", inner)]):
        made.append(services.create_activity(session, actor=admin, project=project, code=code, name=f"Работа {n}",
                                             wbs_element_id=element.id if element else None,
                                             original_duration_hours=8.0 * (n + 1)))
    for predecessor, successor, kind, lag in ((0, 1, "FS", 0.0), (1, 3, "SS", 8.0), (2, 3, "FF", -4.0),
                                              (3, 4, "FS", 0.0), (5, 6, "SF", 2.0), (0, 6, "FS", 0.0)):
        services.create_relationship(session, actor=admin, project=project, predecessor=made[predecessor],
                                     successor=made[successor], type=kind, lag_hours=lag)
    services.create_relationship(session, actor=admin, project=project, predecessor=elsewhere, successor=made[0])
    from wbs.scheduling import service as scheduling_service

    scheduling_service.schedule_project(session, actor=admin, project=other)
    scheduling_service.schedule_project(session, actor=admin, project=project)
    services.create_activity(session, actor=admin, project=project, code="U", name="Unscheduled",
                             wbs_element_id=inner.id, original_duration_hours=8.0)
    session.commit()
    return project


@pytest.mark.parametrize("batch", [1, 3, 2_000])
def test_streamed_bytes_are_the_whole_documents(session, awkward, monkeypatch, batch):
    monkeypatch.setattr(mspdi_export, "BATCH", batch)
    chunks = _streamed(session, awkward)
    assert b"".join(chunks) == _whole(session, awkward)
    tasks = 8 + 3  # activities and WBS summaries, after the head chunk
    assert len(chunks) == 2 + -(-tasks // batch)


def test_the_streamed_file_reads_back(session, awkward):
    project = read_mspdi(interchange.export_mspdi(session, project=awkward))
    assert sorted(a.code for a in project.activities) == ["A", "A0", "AA", "B", "C", "D", "F", "U"]
    assert len(project.relationships) == 6  # the link from the other project is not this file's


@pytest.mark.parametrize("name", [GOLDEN[0], "percent-complete-8.4.xer", "options-695.xer"])
def test_streamed_bytes_match_for_real_p6_projects(session, admin, monkeypatch, name):
    monkeypatch.setattr(mspdi_export, "BATCH", 50)
    node = factories.node(session, actor=admin, code="GOLD")
    project = interchange.import_xer(session, actor=admin, data=xer_path(name).read_bytes(), eps_node=node)
    assert b"".join(_streamed(session, project)) == _whole(session, project)


def test_an_empty_project_streams_too(session, admin):
    node = factories.node(session, actor=admin, code="EMPTY")
    project = factories.project(session, actor=admin, node=node, code="NONE")
    assert b"".join(_streamed(session, project)) == _whole(session, project)


@pytest.mark.parametrize("batch", [1, 2_000])
def test_codes_and_udfs_read_a_batch_at_a_time_give_the_whole_documents_bytes(session, admin, monkeypatch, batch):
    monkeypatch.setattr(mspdi_export, "BATCH", batch)
    node = factories.node(session, actor=admin, code="CODES")
    project, _expected = _crowded_project(session, admin, node)
    assert b"".join(_streamed(session, project)) == _whole(session, project)
    node = factories.node(session, actor=admin, code="HARBOUR")
    harbour = interchange.import_xer(session, actor=admin, data=xer_path("alap-harbour-131.xer").read_bytes(),
                                     eps_node=node)
    assert b"".join(_streamed(session, harbour)) == _whole(session, harbour)

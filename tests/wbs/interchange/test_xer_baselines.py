"""Named baselines in P6 XER files: baseline projects (PROJECT rows of their own, ``project_flag`` N, linked
by ``orig_proj_id`` and the project's ``sum_base_proj_id``) read into crmpm's named baselines, written back,
and import → export → import keeping them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests import factories
from tests.wbs.xer_fixtures import MORE_REAL, xer_path
from wbs import baselines as baseline_service, interchange
from wbs.interchange.xer.reader import read_xer
from wbs.interchange.xer.writer import write_xer
from wbs.models import Activity

ONE_ACTIVITY = "lagcal-PredecessorCalendar.xer"  # P6's project 34738, activity A1000 (MPXJ's test data)


def _with_baseline_project(data: bytes) -> bytes:
    """The real file with a baseline of its project added as P6 keeps one: its own PROJECT row (not a project
    of the list, taken from 34738, and 34738's project baseline), project node and a copy of the activity
    with other dates, and a second baseline that is not the project baseline."""
    xer = read_xer(data)
    project = xer.tables["PROJECT"]
    main = project.rows[0]
    for proj_id, name in (("99001", "Approved plan"), ("99002", "Tender")):
        project.rows.append({**main, "proj_id": proj_id, "proj_short_name": f"BL-{proj_id}", "project_flag": "N",
                             "orig_proj_id": main["proj_id"], "sum_base_proj_id": ""})
        node = dict(xer.tables["PROJWBS"].rows[0])
        xer.tables["PROJWBS"].rows.append({**node, "wbs_id": f"{proj_id}0", "proj_id": proj_id, "wbs_name": name})
    main["sum_base_proj_id"] = "99001"
    task = xer.tables["TASK"].rows[0]
    xer.tables["TASK"].rows.append({**task, "task_id": "99011", "proj_id": "99001", "wbs_id": "990010",
                                    "status_code": "TK_NotStart", "act_start_date": "", "act_end_date": "",
                                    "early_start_date": "2019-06-03 08:00", "early_end_date": "2019-06-05 17:00",
                                    "target_drtn_hr_cnt": "24"})
    xer.tables["TASK"].rows.append({**task, "task_id": "99012", "proj_id": "99002", "wbs_id": "990020",
                                    "target_drtn_hr_cnt": "16"})
    return write_xer(xer).encode(xer.encoding)


def test_a_baseline_project_in_the_file_is_read_as_a_named_baseline():
    source = interchange.read_xer_project(_with_baseline_project(xer_path(ONE_ACTIVITY).read_bytes()))
    assert source.code == "TEST PROJECT"  # the baselines are not projects to choose from
    assert [(b.name, b.role) for b in source.baselines] == [("Approved plan", "primary"), ("Tender", None)]
    (activity,) = source.activities
    approved = source.baselines[0].activities[activity.id]
    assert (approved.start, approved.finish, approved.duration_hours) == (
        datetime(2019, 6, 3, 8), datetime(2019, 6, 5, 17), 24.0)
    # The second copy is completed: its actual dates are its start and finish.
    tender = source.baselines[1].activities[activity.id]
    assert (tender.start, tender.finish, tender.duration_hours) == (
        datetime(2019, 6, 10, 8), datetime(2019, 6, 12, 17), 16.0)


@pytest.mark.parametrize("name", MORE_REAL)
def test_a_project_baseline_not_in_the_file_is_left_alone(name):
    # options-695 and three-projects-134 name baselines (sum_base_proj_id) that P6 did not export.
    for project in read_xer(xer_path(name).read_bytes()).rows("PROJECT"):
        assert interchange.read_xer_project(xer_path(name).read_bytes(), proj=project["proj_id"]).baselines == []


@pytest.fixture
def admin(session):
    return factories.admin(session)


def _by_code(session, project) -> dict:
    codes = dict(session.execute(select(Activity.id, Activity.code).where(Activity.project_id == project.id)).all())
    return {baseline.name: (baseline.role, {codes[key]: kept for key, kept in values.items()})
            for baseline, values in baseline_service.baselines_with_values(session, project=project)}


def test_import_stores_the_baseline_projects(session, admin):
    node = factories.node(session, actor=admin, code="XBL")
    project = interchange.import_xer(session, actor=admin, eps_node=node,
                                     data=_with_baseline_project(xer_path(ONE_ACTIVITY).read_bytes()))
    stored = _by_code(session, project)
    assert list(stored) == ["Approved plan", "Tender"]
    assert stored["Approved plan"] == ("primary", {"A1000": (datetime(2019, 6, 3, 8), datetime(2019, 6, 5, 17),
                                                             24.0, Decimal("0.00"))})
    activity = session.scalar(select(Activity).where(Activity.project_id == project.id))
    assert (activity.baseline_start, activity.baseline_finish) == (datetime(2019, 6, 3, 8), datetime(2019, 6, 5, 17))


@pytest.mark.parametrize("name", ["sample-52.xer", "alap-harbour-131.xer"])
def test_import_export_import_keeps_the_baselines(session, admin, name):
    node = factories.node(session, actor=admin, code="XRT")
    first = interchange.import_xer(session, actor=admin, eps_node=node, data=xer_path(name).read_bytes(), code="R1")
    # A second baseline with costs and dates of its own, a Cyrillic name (the file is then UTF-8).
    activities = session.scalars(select(Activity).where(Activity.project_id == first.id)
                                 .order_by(Activity.id)).all()
    values = {a.id: (datetime(2027, 1, 4, 8), datetime(2027, 1, 8, 17), 40.0 + n, Decimal("1234.56") + n)
              for n, a in enumerate(activities[:5])}
    baseline_service.add_baseline(session, actor=admin, project=first, name="Договор", role=None, values=values)
    data = interchange.export_xer(session, project=first)
    again = interchange.import_xer(session, actor=admin, eps_node=node, data=data, code="R2")
    before, after = _by_code(session, first), _by_code(session, again)
    assert list(after) == list(before) == ["Baseline 1", "Договор"]
    assert after == before
    assert after["Договор"][1][activities[0].code] == (datetime(2027, 1, 4, 8), datetime(2027, 1, 8, 17), 40.0,
                                                      Decimal("1234.56"))

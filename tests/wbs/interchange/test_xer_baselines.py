"""Named baselines in P6 XER files: baseline projects (PROJECT rows of their own, ``project_flag`` N, linked
by ``orig_proj_id`` and the project's ``sum_base_proj_id``) read into crmpm's named baselines, written back,
and import → export → import keeping them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests import factories
from crmpm.errors import Invalid
from tests.wbs.xer_fixtures import ALL_XER, MORE_REAL, xer_path
from wbs import baselines as baseline_service, interchange
from wbs.interchange.mspdi import read_mspdi
from wbs.interchange.xer.mapping import project_ids
from wbs.interchange.xer.reader import parse_date, read_xer
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


def _with_real_baseline() -> tuple[bytes, dict]:
    """P6's update of 2025-11-21 with P6's baseline of 2025-09-02 (two real exports of one project) joined as
    P6 keeps a baseline: the baseline's PROJECT row hidden and taken from the update, which names it as its
    project baseline; and what the baseline's own TASK rows say, by activity ID."""
    baseline = read_xer(xer_path("updates-BL-54069-B2-20250902.xer").read_bytes())
    update = read_xer(xer_path("updates-UP-54069-20251121.xer").read_bytes())
    (main,) = update.rows("PROJECT")
    (kept,) = baseline.rows("PROJECT")
    main["sum_base_proj_id"] = kept["proj_id"]
    update.tables["PROJECT"].rows.append({**kept, "project_flag": "N", "orig_proj_id": main["proj_id"]})
    for table in ("PROJWBS", "TASK"):
        update.tables[table].rows.extend(baseline.rows(table))
    expected = {row["task_code"]: (parse_date(row["act_start_date"] or row["early_start_date"]),
                                   parse_date(row["act_end_date"] or row["early_end_date"]),
                                   float(row["target_drtn_hr_cnt"]))
                for row in baseline.rows("TASK")}
    return write_xer(update).encode(update.encoding), expected


def test_a_real_baseline_of_the_project_is_read_with_p6s_dates():
    data, expected = _with_real_baseline()
    source = interchange.read_xer_project(data)
    assert source.code == "UP-54069-20251121"
    (baseline,) = source.baselines
    assert (baseline.name, baseline.role) == ("RAH Chiller #4 Rebuild Project 2025.09.02", "primary")
    codes = {activity.id: activity.code for activity in source.activities}
    read = {codes[key]: (kept.start, kept.finish, kept.duration_hours) for key, kept in baseline.activities.items()}
    # The 46 activities the update still has; the baseline's 47th was deleted since.
    assert len(read) == 46 and read == {code: value for code, value in expected.items() if code in read}


def test_the_schedule_command_and_import_see_no_baseline_as_a_project():
    data, _expected = _with_real_baseline()
    assert project_ids(read_xer(data)) == [("308964", "UP-54069-20251121")]


def test_import_of_a_real_baseline_sets_the_activities_baseline_dates(session, admin):
    data, expected = _with_real_baseline()
    node = factories.node(session, actor=admin, code="XRB")
    project = interchange.import_xer(session, actor=admin, eps_node=node, data=data)
    (name,) = _by_code(session, project)
    for activity in session.scalars(select(Activity).where(Activity.project_id == project.id)):
        if activity.code in expected:
            assert (activity.baseline_start, activity.baseline_finish) == expected[activity.code][:2], activity.code


def _import(session, admin, node, data, code):
    try:
        return interchange.import_xer(session, actor=admin, eps_node=node, data=data, code=code)
    except Invalid as exc:
        pytest.skip(f"the file is refused on import, as test_import_real_files.py expects: {exc}")


def _add_own_baseline(session, admin, project):
    """A second baseline with dates and costs of its own, and a Cyrillic name (the XER is then UTF-8)."""
    activities = session.scalars(select(Activity).where(Activity.project_id == project.id)
                                 .order_by(Activity.id)).all()
    values = {a.id: (datetime(2027, 1, 4, 8), datetime(2027, 1, 8, 17), 40.0 + n, Decimal("1234.56") + n)
              for n, a in enumerate(activities[:5])}
    baseline_service.add_baseline(session, actor=admin, project=project, name="Договор", role=None, values=values)
    return activities


def test_two_baselines_of_one_name_are_told_apart(session, admin):
    data = _with_baseline_project(xer_path(ONE_ACTIVITY).read_bytes()).replace(b"Tender", b"Approved plan")
    node = factories.node(session, actor=admin, code="XBD")
    project = interchange.import_xer(session, actor=admin, eps_node=node, data=data)
    assert list(_by_code(session, project)) == ["Approved plan", "Approved plan (2)"]


@pytest.mark.parametrize("name", ALL_XER)
def test_import_export_import_keeps_the_baselines(session, admin, name):
    node = factories.node(session, actor=admin, code="XRT")
    first = _import(session, admin, node, xer_path(name).read_bytes(), "R1")
    activities = _add_own_baseline(session, admin, first)
    again = _import(session, admin, node, interchange.export_xer(session, project=first), "R2")
    before, after = _by_code(session, first), _by_code(session, again)
    assert list(after) == list(before) == ["Baseline 1", "Договор"]
    assert after == before
    if activities:
        assert after["Договор"][1][activities[0].code] == (datetime(2027, 1, 4, 8), datetime(2027, 1, 8, 17), 40.0,
                                                          Decimal("1234.56"))


def test_a_real_baseline_survives_xer_and_mspdi_round_trips(session, admin):
    data, _expected = _with_real_baseline()
    node = factories.node(session, actor=admin, code="XRM")
    first = interchange.import_xer(session, actor=admin, eps_node=node, data=data, code="R1")
    _add_own_baseline(session, admin, first)
    through_xer = interchange.import_xer(session, actor=admin, eps_node=node, code="R2",
                                         data=interchange.export_xer(session, project=first))
    through_mspdi = interchange.import_mspdi(session, actor=admin, eps_node=node, code="R3",
                                             data=interchange.export_mspdi(session, project=first))
    assert _by_code(session, through_xer) == _by_code(session, first) == _by_code(session, through_mspdi)
    assert list(_by_code(session, first)) == ["RAH Chiller #4 Rebuild Project 2025.09.02", "Договор"]
    # MS Project sees the primary in its own slot 0.
    assert [b.name for b in read_mspdi(interchange.export_mspdi(session, project=first)).baselines] == [
        "RAH Chiller #4 Rebuild Project 2025.09.02", "Договор"]

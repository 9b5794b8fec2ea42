"""What one imported file may hold: counted on the raw file, refused with 422 naming what is over which limit.

The activity, relationship and WBS limits are the imported project's own rows; its baselines count against
their own limit, other projects in the file against none of them; every row of the file against the file's.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from sqlalchemy import func, select

from eps.models import Project
from tests import factories
from tests.api.conftest import ApiClient
from tests.web.conftest import Pages
from tests.wbs.xer_fixtures import ALL_XER, xer_path
from wbs import baselines as baseline_service, interchange, services
from wbs.interchange.limits import FileLimits, check_file, mspdi_counts, xer_counts
from wbs.interchange.mspdi import read_mspdi
from wbs.interchange.xer.reader import read_xer, xer_row_counts, xer_rows
from wbs.models import Activity
from crmpm.errors import Invalid

WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]


@pytest.fixture
def files(session):
    """An XER and an MSPDI file of one project: 12 activities in a chain under 3 WBS elements, one calendar."""
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="LIMITS")
    project = factories.project(session, actor=admin, node=node, code="LIM")
    calendar = services.create_calendar(session, actor=admin, project=project, name="5x8", week=WEEK)
    services.update_plan(session, actor=admin, project=project, default_calendar_id=calendar.id)
    elements = [services.create_element(session, actor=admin, project=project, code=f"W{n}", name=f"Part {n}")
                for n in range(3)]
    previous = None
    for n in range(12):
        activity = services.create_activity(session, actor=admin, project=project, code=f"A{n:02}", name=f"Work {n}",
                                            wbs_element_id=elements[n % 3].id, original_duration_hours=8.0)
        if previous is not None:
            services.create_relationship(session, actor=admin, project=project, predecessor=previous,
                                         successor=activity)
        previous = activity
    session.commit()
    return {"admin": admin, "node": node, "project": project, "xer": interchange.export_xer(session, project=project),
            "mspdi": interchange.export_mspdi(session, project=project)}


@pytest.fixture
def with_baseline(session, files):
    """The same project with a baseline of every activity: its XER holds 24 TASK rows, 12 of them the baseline's."""
    project = files["project"]
    activities = session.scalars(select(Activity).where(Activity.project_id == project.id)).all()
    values = {a.id: (datetime(2027, 1, 4, 8), datetime(2027, 1, 8, 17), 40.0, Decimal("100.00")) for a in activities}
    baseline_service.add_baseline(session, actor=files["admin"], project=project, name="Contract", role="primary",
                                  values=values)
    session.commit()
    return {"xer": interchange.export_xer(session, project=project),
            "mspdi": interchange.export_mspdi(session, project=project)}


def test_xer_counts_agree_with_the_reader(files):
    xer = read_xer(files["xer"])
    assert xer_counts(files["xer"]) == {"activities": len(xer.rows("TASK")), "relationships": len(xer.rows("TASKPRED")),
                                        "wbs_elements": len(xer.rows("PROJWBS")),
                                        "calendars": len(xer.rows("CALENDAR")),
                                        "assignments": len(xer.rows("TASKRSRC"))}
    assert xer_counts(files["xer"])["activities"] == 12


def test_mspdi_counts_agree_with_the_reader(files):
    project = read_mspdi(files["mspdi"])
    counts = mspdi_counts(files["mspdi"])
    # The project summary task (UID 0) and one summary per WBS element, besides the activities.
    assert counts["tasks"] == len(project.activities) + len(project.wbs) + 1
    assert counts["relationships"] == len(project.relationships) == 11
    assert counts["calendars"] == len(project.calendars)


@pytest.mark.parametrize("kind, setting, limit, held", [("activities", "ACTIVITIES", 11, 12),
                                                         ("relationships", "RELATIONSHIPS", 10, 11)])
def test_a_project_over_a_limit_is_refused_naming_what_the_limit_and_the_setting(files, kind, setting, limit, held):
    limits = FileLimits(**{kind: limit})
    with pytest.raises(Invalid) as refused:
        check_file("xer", files["xer"], limits)
    assert refused.value.message == (f"project LIM in the file holds {held:,} {kind}; at most {limit:,} are "
                                     f"accepted in one project (CRMPM_IMPORT_MAX_{setting})")
    assert refused.value.errors == {"file": [f"{kind}: {held} > {limit} (CRMPM_IMPORT_MAX_{setting})"]}
    check_file("xer", files["xer"], FileLimits(**{kind: held}))  # exactly at the limit: accepted


def test_a_project_within_the_limit_is_accepted_with_a_baseline_that_would_be_over_it(files, with_baseline):
    data = with_baseline["xer"]
    assert xer_counts(data)["activities"] == 24  # counted in the whole file, as before, it would be refused
    check_file("xer", data, FileLimits(activities=12))
    assert [len(b.activities) for b in interchange.read_xer_project(data).baselines] == [12]
    with pytest.raises(Invalid) as refused:
        check_file("xer", data, FileLimits(activities=11))
    assert refused.value.message.startswith("project LIM in the file holds 12 activities;")


def test_the_baselines_count_against_their_own_limit(with_baseline):
    data = with_baseline["xer"]
    with pytest.raises(Invalid) as refused:
        check_file("xer", data, FileLimits(activities=12, baseline_activities=11))
    assert refused.value.message == ("the baselines of project LIM in the file hold 12 activities together; at "
                                     "most 11 are accepted (CRMPM_IMPORT_MAX_BASELINE_ACTIVITIES)")
    check_file("xer", data, FileLimits(activities=12, baseline_activities=12))
    # Unset, the baselines may hold three times the project's activities (P6's three user baselines).
    assert FileLimits(activities=4).baseline_activities_allowed == 12
    assert FileLimits(activities=4, baseline_activities=5).baseline_activities_allowed == 5


def test_other_projects_in_the_file_do_not_count():
    # A real P6 export of three projects: NRG00870 has 1 activity, NRG00800 2, NRG00820 131.
    data = xer_path("three-projects-134.xer").read_bytes()
    xer = read_xer(data)
    counts = xer_row_counts(data)
    for project in xer.rows("PROJECT"):
        proj_id = project["proj_id"]
        assert [counts.of(kind, [proj_id]) for kind in ("activities", "relationships", "wbs_elements")] == [
            sum(row["proj_id"] == proj_id for row in xer.rows(table)) for table in ("TASK", "TASKPRED", "PROJWBS")]
    limits = FileLimits(activities=2, relationships=1, wbs_elements=30)
    check_file("xer", data, limits)  # the first project, as the import takes it
    check_file("xer", data, limits, proj="NRG00800")
    check_file("xer", data, limits, proj="4351")
    with pytest.raises(Invalid) as refused:
        check_file("xer", data, limits, proj="NRG00820")
    assert refused.value.message == ("project NRG00820 in the file holds 131 activities; at most 2 are accepted "
                                     "in one project (CRMPM_IMPORT_MAX_ACTIVITIES)")
    # A project the file does not hold is refused at once, as the import would refuse it.
    with pytest.raises(Invalid) as refused:
        check_file("xer", data, limits, proj="NRG99999")
    assert refused.value.message == "the XER file has no project 'NRG99999'; it has NRG00870, NRG00800, NRG00820"
    assert refused.value.errors == {"project": ["not in the file"]}


@pytest.mark.parametrize("name", ALL_XER)
def test_the_counts_on_the_bytes_agree_with_the_reader_project_by_project(name):
    data = xer_path(name).read_bytes()
    xer, counts = read_xer(data), xer_row_counts(data)
    assert counts.projects == [{column: row.get(column, "") for column in counts.projects[0]}
                               for row in xer.rows("PROJECT")]
    assert xer_rows(data) == sum(len(table) for table in xer.tables.values())
    for project in xer.rows("PROJECT"):
        assert [counts.of(kind, [project["proj_id"]]) for kind in ("activities", "relationships", "wbs_elements")] == [
            sum(row.get("proj_id") == project["proj_id"] for row in xer.rows(table))
            for table in ("TASK", "TASKPRED", "PROJWBS")]


def test_the_file_ceiling_counts_every_row_of_every_project_and_table(files, with_baseline):
    data = with_baseline["xer"]
    rows = sum(line.startswith(b"%R\t") for line in data.splitlines())
    assert xer_rows(data) == rows > 24 + 11 + 4
    with pytest.raises(Invalid) as refused:
        check_file("xer", data, FileLimits(file_rows=rows - 1))
    assert refused.value.message == (f"the file holds {rows:,} rows of all its projects and baselines together; "
                                     f"at most {rows - 1:,} are accepted in one file (CRMPM_IMPORT_MAX_FILE_ROWS)")
    check_file("xer", data, FileLimits(file_rows=rows))
    # Other projects' rows count here too: the three projects' file, whose first project is tiny.
    three = xer_path("three-projects-134.xer").read_bytes()
    with pytest.raises(Invalid, match="IMPORT_MAX_FILE_ROWS"):
        check_file("xer", three, FileLimits(file_rows=2_000))


def test_a_huge_file_is_refused_by_the_ceiling_whatever_its_projects():
    # The shape, smaller: relationships spread over two projects so that neither is over its own limit.
    lines = ["ERMHDR\t19.12", "%T\tPROJECT", "%F\tproj_id\tproj_short_name\tproject_flag",
             "%R\t1\tA\tY", "%R\t2\tB\tY", "%T\tTASKPRED", "%F\ttask_pred_id\ttask_id\tpred_task_id\tproj_id"]
    lines += [f"%R\t{n}\t{n}\t{n + 1}\t{1 + n % 2}" for n in range(20_000)]
    data = ("\r\n".join(lines + ["%E"]) + "\r\n").encode()
    limits = FileLimits(relationships=10_000, file_rows=15_000)
    with pytest.raises(Invalid, match="20,002 rows"):
        check_file("xer", data, limits)
    check_file("xer", data, FileLimits(relationships=10_000, file_rows=20_002))
    with pytest.raises(Invalid, match="project B in the file holds 10,000 relationships; at most 9,999"):
        check_file("xer", data, FileLimits(relationships=9_999), proj="B")


def test_mspdi_baselines_are_fields_of_the_tasks_and_not_counted(files, with_baseline):
    data = with_baseline["mspdi"]
    assert b"<Baseline>" in data
    assert mspdi_counts(data) == mspdi_counts(files["mspdi"])
    check_file("mspdi", data, FileLimits(activities=12, wbs_elements=4, relationships=11))  # 16 tasks, 11 links
    assert [b.name for b in read_mspdi(data).baselines] == ["Contract"]
    with pytest.raises(Invalid) as refused:
        check_file("mspdi", data, FileLimits(activities=12, wbs_elements=3))
    assert refused.value.message == ("the file holds 16 tasks; at most 15 are accepted in one file "
                                     "(CRMPM_IMPORT_MAX_ACTIVITIES + CRMPM_IMPORT_MAX_WBS_ELEMENTS)")


def test_limits_come_from_the_config():
    limits = FileLimits.from_config({"IMPORT_MAX_ACTIVITIES": "7", "IMPORT_MAX_CALENDARS": 2,
                                     "IMPORT_MAX_BASELINE_ACTIVITIES": None, "IMPORT_MAX_FILE_ROWS": "50"})
    assert (limits.activities, limits.calendars, limits.relationships) == (7, 2, FileLimits().relationships)
    assert (limits.baseline_activities_allowed, limits.file_rows) == (21, 50)
    assert FileLimits.from_config({"IMPORT_MAX_BASELINE_ACTIVITIES": "5"}).baseline_activities_allowed == 5


def _projects(session) -> int:
    return session.scalar(select(func.count()).select_from(Project))


def test_the_api_refuses_with_422_before_parsing(app, session, files, monkeypatch):
    api = ApiClient(app.test_client(), session)
    monkeypatch.setitem(app.config, "IMPORT_MAX_RELATIONSHIPS", 5)
    before = _projects(session)
    said = {"xer": "project LIM in the file holds 11 relationships; at most 5 are accepted in one project",
            "mspdi": "the file holds 11 relationships; at most 5 are accepted in one file"}
    for kind in ("xer", "mspdi"):
        response = api.post(f"/api/v1/projects/import/{kind}?eps_node_id={files['node'].id}", user=files["admin"],
                            json=None, content_type="multipart/form-data",
                            data={"file": (BytesIO(files[kind]), f"plan.{kind}")})
        assert response.status_code == 422, response.json
        assert response.json["message"] == f"{said[kind]} (CRMPM_IMPORT_MAX_RELATIONSHIPS)"
        assert response.json["errors"]["file"] == ["relationships: 11 > 5 (CRMPM_IMPORT_MAX_RELATIONSHIPS)"]
    assert _projects(session) == before


def test_the_api_counts_the_project_it_is_asked_to_import(app, session, files, monkeypatch):
    api = ApiClient(app.test_client(), session)
    monkeypatch.setitem(app.config, "IMPORT_MAX_ACTIVITIES", 2)
    before = _projects(session)
    response = api.post(f"/api/v1/projects/import/xer?eps_node_id={files['node'].id}&project=NRG00820",
                        user=files["admin"], json=None, content_type="multipart/form-data",
                        data={"file": (BytesIO(xer_path("three-projects-134.xer").read_bytes()), "three.xer")})
    assert response.status_code == 422, response.json
    assert response.json["message"] == ("project NRG00820 in the file holds 131 activities; at most 2 are accepted "
                                        "in one project (CRMPM_IMPORT_MAX_ACTIVITIES)")
    assert _projects(session) == before


def test_the_import_page_says_it_in_the_users_language(app, session, files, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ACTIVITIES", 4)
    files["admin"].locale = "ru"
    session.commit()
    pages = Pages(app.test_client()).log_in_as(files["admin"])
    token = pages.csrf_token()
    response = pages.post("/projects/import", {"csrf_token": token, "node": str(files["node"].id),
                                               "file": (BytesIO(files["xer"]), "plan.xer")},
                          content_type="multipart/form-data", follow_redirects=True)
    assert ("В проекте LIM из файла работ: 12; в одном проекте допускается не более 4 (CRMPM_IMPORT_MAX_ACTIVITIES)"
            in response.get_data(as_text=True))


def test_counts_on_hand_made_files():
    # A file that starts with its table, CRLF line ends, rows counted per table; MSPDI with a namespace prefix.
    xer = (b"%T\tCALENDAR\r\n%F\tclndr_id\r\n%R\t1\r\n%R\t2\r\n%T\tTASK\r\n%F\ttask_id\r\n%R\t7\r\n"
           b"%T\tTASKPRED\r\n%F\ta\r\n%E\r\n")
    assert xer_counts(xer) == {"activities": 1, "relationships": 0, "wbs_elements": 0, "calendars": 2,
                               "assignments": 0}
    mspdi = (b'<p:Project xmlns:p="x"><p:Calendars><p:Calendar><p:UID>1</p:UID></p:Calendar></p:Calendars>'
             b"<p:Tasks><p:Task><p:CalendarUID>1</p:CalendarUID><p:PredecessorLink/></p:Task>"
             b"<p:Task/></p:Tasks></p:Project>")
    assert mspdi_counts(mspdi) == {"tasks": 2, "relationships": 1, "calendars": 1}


def test_a_project_over_the_assignments_limit_is_refused():
    from tests.wbs.interchange.test_xer_resources import BUILT  # 5 TASKRSRC rows, all of project BUILT

    with pytest.raises(Invalid) as refused:
        check_file("xer", BUILT, FileLimits(assignments=4))
    assert refused.value.message == ("project BUILT in the file holds 5 resource assignments; at most 4 are "
                                     "accepted in one project (CRMPM_IMPORT_MAX_ASSIGNMENTS)")
    check_file("xer", BUILT, FileLimits(assignments=5))

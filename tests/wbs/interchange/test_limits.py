"""What one imported file may hold: counted on the raw file, refused with 422 naming the count and the limit."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import func, select

from eps.models import Project
from tests import factories
from tests.api.conftest import ApiClient
from tests.web.conftest import Pages
from wbs import interchange, services
from wbs.interchange.limits import FileLimits, check_file, mspdi_counts, xer_counts
from wbs.interchange.mspdi import read_mspdi
from wbs.interchange.xer.reader import read_xer
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
    return {"admin": admin, "node": node, "xer": interchange.export_xer(session, project=project),
            "mspdi": interchange.export_mspdi(session, project=project)}


def test_xer_counts_agree_with_the_reader(files):
    xer = read_xer(files["xer"])
    assert xer_counts(files["xer"]) == {"activities": len(xer.rows("TASK")), "relationships": len(xer.rows("TASKPRED")),
                                        "wbs_elements": len(xer.rows("PROJWBS")),
                                        "calendars": len(xer.rows("CALENDAR"))}
    assert xer_counts(files["xer"])["activities"] == 12


def test_mspdi_counts_agree_with_the_reader(files):
    project = read_mspdi(files["mspdi"])
    counts = mspdi_counts(files["mspdi"])
    # The project summary task (UID 0) and one summary per WBS element, besides the activities.
    assert counts["tasks"] == len(project.activities) + len(project.wbs) + 1
    assert counts["relationships"] == len(project.relationships) == 11
    assert counts["calendars"] == len(project.calendars)


@pytest.mark.parametrize("kind, limit, held", [("activities", 11, 12), ("relationships", 10, 11)])
def test_a_file_over_a_limit_is_refused_naming_count_and_limit(files, kind, limit, held):
    limits = FileLimits(**{kind: limit})
    with pytest.raises(Invalid) as refused:
        check_file("xer", files["xer"], limits)
    assert refused.value.message == (f"the file holds {held:,} {kind}; at most {limit:,} are accepted in one file")
    check_file("xer", files["xer"], FileLimits(**{kind: held}))  # exactly at the limit: accepted


def test_limits_come_from_the_config():
    limits = FileLimits.from_config({"IMPORT_MAX_ACTIVITIES": "7", "IMPORT_MAX_CALENDARS": 2})
    assert (limits.activities, limits.calendars, limits.relationships) == (7, 2, FileLimits().relationships)


def _projects(session) -> int:
    return session.scalar(select(func.count()).select_from(Project))


def test_the_api_refuses_with_422_before_parsing(app, session, files, monkeypatch):
    api = ApiClient(app.test_client(), session)
    monkeypatch.setitem(app.config, "IMPORT_MAX_RELATIONSHIPS", 5)
    before = _projects(session)
    for kind in ("xer", "mspdi"):
        response = api.post(f"/api/v1/projects/import/{kind}?eps_node_id={files['node'].id}", user=files["admin"],
                            json=None, content_type="multipart/form-data",
                            data={"file": (BytesIO(files[kind]), f"plan.{kind}")})
        assert response.status_code == 422, response.json
        assert response.json["message"] == "the file holds 11 relationships; at most 5 are accepted in one file"
        assert "CRMPM_IMPORT_MAX_RELATIONSHIPS" in response.json["errors"]["file"][0]
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
    assert "В файле работ: 12; в одном файле допускается не более 4" in response.get_data(as_text=True)


def test_counts_on_hand_made_files():
    # A file that starts with its table, CRLF line ends, rows counted per table; MSPDI with a namespace prefix.
    xer = (b"%T\tCALENDAR\r\n%F\tclndr_id\r\n%R\t1\r\n%R\t2\r\n%T\tTASK\r\n%F\ttask_id\r\n%R\t7\r\n"
           b"%T\tTASKPRED\r\n%F\ta\r\n%E\r\n")
    assert xer_counts(xer) == {"activities": 1, "relationships": 0, "wbs_elements": 0, "calendars": 2}
    mspdi = (b'<p:Project xmlns:p="x"><p:Calendars><p:Calendar><p:UID>1</p:UID></p:Calendar></p:Calendars>'
             b"<p:Tasks><p:Task><p:CalendarUID>1</p:CalendarUID><p:PredecessorLink/></p:Task>"
             b"<p:Task/></p:Tasks></p:Project>")
    assert mspdi_counts(mspdi) == {"tasks": 2, "relationships": 1, "calendars": 1}

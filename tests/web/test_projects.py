"""The PM's pages over the WBS services: list, plan, edits, scheduling, earned value, Gantt, XER/MSPDI files."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from sqlalchemy import func, select

from eps.models import Project, Role
from tests import factories
from tests.corpus import IN_REPO
from wbs import services
from wbs.scheduling import service as scheduling_service
from wbs.models import Activity, Relationship
from wbs.interchange.xer.reader import read_xer

FIXTURES = IN_REPO / "xer"  # percent-complete-8.4.xer, redistributable (tests/fixtures/xer/README.md)
WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]
MONDAY = datetime(2026, 3, 2, 8)


@pytest.fixture
def plan(session, admin, world):
    """PA's plan: A 5d → B 3d → (FS + 1d) C 2d on a 5×8 calendar from Monday 2 March 2026; A, B under W1, C under W2."""
    project = world["PA"]
    calendar = services.create_calendar(session, actor=admin, project=project, name="5x8", week=WEEK)
    services.update_plan(session, actor=admin, project=project, planned_start=MONDAY, data_date=MONDAY,
                         default_calendar_id=calendar.id)
    w1 = services.create_element(session, actor=admin, project=project, code="W1", name="Design")
    w2 = services.create_element(session, actor=admin, project=project, code="W2", name="Build")
    made = {}
    for code, days, element, cost in (("A", 5, w1, "1000.00"), ("B", 3, w1, "600.00"), ("C", 2, w2, "400.00")):
        made[code] = services.create_activity(session, actor=admin, project=project, code=code, name=f"Work {code}",
                                              wbs_element_id=element.id, original_duration_hours=days * 8.0,
                                              budgeted_cost=Decimal(cost))
    services.create_relationship(session, actor=admin, project=project, predecessor=made["A"], successor=made["B"])
    services.create_relationship(session, actor=admin, project=project, predecessor=made["B"], successor=made["C"],
                                 lag_hours=8.0)
    session.commit()
    return {"project": project, **made, "W1": w1, "W2": w2}


def _flash(pages, response) -> str:
    assert response.status_code == 303, response.status_code
    body = pages.get(response.headers["Location"]).get_data(as_text=True)
    match = re.search(r'<div class="flash flash-(\w+)"[^>]*>(.*?)</div>', body, re.S)
    assert match, "no message shown"
    return match.group(2).strip()


def _url(plan, tail="") -> str:
    return f"/projects/{plan['project'].id}{tail}"


# The list


def test_list_shows_only_readable_projects_with_their_figures(pages, session, admin, world, plan, user_with):
    viewer = user_with(Role.viewer)
    scheduling_service.schedule_project(session, actor=admin, project=plan["project"])
    session.commit()
    body = pages.log_in_as(viewer).get("/projects/").get_data(as_text=True)
    assert 'data-project="PA"' in body and 'data-project="PB"' not in body and "Secret Project PB" not in body
    row = re.search(r'<tr data-project="PA">(.*?)</tr>', body, re.S).group(1)
    assert "Mar 16, 2026" in row  # the scheduled finish
    assert re.search(r'class="num negative">3</td>', row)  # three critical activities
    # The EPS path as far as the viewer may read it: from A down (ROOT is above the grant).
    assert re.findall(r'<span class="code" title="[^"]*">([^<]+)</span>', row) == ["A", "A1"]
    assert "not started" in row


def test_list_filters_by_search_status_and_node(pages, session, admin, world, plan):
    other = factories.project(session, actor=admin, node=world["A"], code="QX")
    session.commit()
    pages.log_in_as(admin)

    def codes(query):
        return re.findall(r'<tr data-project="([^"]+)"', pages.get(f"/projects/?{query}").get_data(as_text=True))

    assert codes("q=qx") == ["QX"]
    assert codes("status=no_plan") == ["PB", "QX"]
    assert codes("status=not_started") == ["PA"]
    assert codes(f"node={world['A1'].id}") == ["PA"]
    assert codes(f"node={world['A'].id}&status=no_plan") == [other.code]
    assert codes("status=bogus") == ["PA", "PB", "QX"]


def test_list_pages(pages, session, admin, world):
    for n in range(30):
        factories.project(session, actor=admin, node=world["A1"], code=f"LP{n:02d}")
    session.commit()
    pages.log_in_as(admin)
    first = pages.get("/projects/?q=LP").get_data(as_text=True)
    assert len(re.findall(r"<tr data-project=", first)) == 25 and "1–25 of 30" in first
    second = pages.get("/projects/?q=LP&page=2").get_data(as_text=True)
    assert re.findall(r'<tr data-project="([^"]+)"', second) == [f"LP{n}" for n in range(25, 30)]


# Who sees what


def test_user_without_rights_gets_404_and_nothing(pages, session, plan, user_with):
    stranger = user_with(None)
    pages.log_in_as(stranger)
    for path in ("", "/gantt", "/export.xer", f"/activities/{plan['A'].id}", f"/wbs/{plan['W1'].id}/rows"):
        response = pages.get(_url(plan, path))
        assert response.status_code == 404, path
        assert "Work A" not in response.get_data(as_text=True)
    assert pages.post(_url(plan, "/schedule")).status_code == 404
    assert pages.post(_url(plan, f"/activities/{plan['A'].id}"), {"original_duration": "9"}).status_code == 404
    assert session.get(Activity, plan["A"].id).original_duration_hours == 40.0


def test_read_only_user_sees_no_edit_controls_and_posts_get_403(pages, session, plan, user_with):
    viewer = user_with(Role.viewer)
    pages.log_in_as(viewer)
    body = pages.get(_url(plan)).get_data(as_text=True)
    assert "Work A" in body
    assert 'name="original_duration"' not in body and "/schedule" not in body and "Add an activity" not in body
    activity_page = pages.get(_url(plan, f"/activities/{plan['A'].id}")).get_data(as_text=True)
    assert 'name="other"' not in activity_page and "Remove" not in activity_page
    assert pages.post(_url(plan, "/schedule")).status_code == 403
    assert pages.post(_url(plan, f"/activities/{plan['A'].id}"), {"original_duration": "9"}).status_code == 403
    assert pages.post(_url(plan, "/baseline")).status_code == 403
    session.expire_all()
    assert session.get(Activity, plan["A"].id).original_duration_hours == 40.0
    assert session.get(Activity, plan["A"].id).early_start is None


def test_post_without_csrf_token_is_refused(pages, session, plan, admin):
    pages.log_in_as(admin)
    response = pages.post(_url(plan, "/schedule"), csrf=False)
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Activity, plan["A"].id).early_start is None


# Scheduling and earned value


def test_schedule_computes_the_hand_computed_dates(pages, session, admin, plan):
    pages.log_in_as(admin)
    message = _flash(pages, pages.post(_url(plan, "/schedule")))
    assert "finishes on Mar 16, 2026" in message and "3 critical" in message and "changed on 3 of 3" in message
    session.expire_all()
    dates = {code: (session.get(Activity, plan[code].id).early_start, session.get(Activity, plan[code].id).early_finish)
             for code in "ABC"}
    # A: Mon–Fri; B: Mon 9–Wed 11; one working day of lag (Thu 12); C: Fri 13 and Mon 16.
    assert dates == {"A": (datetime(2026, 3, 2, 8), datetime(2026, 3, 6, 17)),
                     "B": (datetime(2026, 3, 9, 8), datetime(2026, 3, 11, 17)),
                     "C": (datetime(2026, 3, 13, 8), datetime(2026, 3, 16, 17))}
    again = _flash(pages, pages.post(_url(plan, "/schedule")))
    assert "changed on 0 of 3" in again


def _evm(body: str, key: str) -> str:
    return re.search(rf'data-evm="{key}"[^>]*>([^<]*)<', body).group(1)


def test_earned_value_figures_match_a_hand_computation(pages, session, admin, plan):
    project = plan["project"]
    scheduling_service.schedule_project(session, actor=admin, project=project)  # the first schedule sets the baseline
    services.update_activity(session, actor=admin, project=project, activity=plan["A"], percent_complete=40.0,
                             actual_start=MONDAY, actual_cost=Decimal("500.00"))
    services.update_plan(session, actor=admin, project=project, data_date=datetime(2026, 3, 4, 8))
    session.commit()
    body = pages.log_in_as(admin).get(_url(plan)).get_data(as_text=True)
    # A's baseline runs 105 h of clock time (Mon 08:00 → Fri 17:00); 48 h of them lie before the data date.
    figures = {key: _evm(body, key) for key in ("bac", "pv", "ev", "ac", "sv", "cv", "spi", "cpi", "eac")}
    assert figures["bac"].endswith("2,000.00") and figures["pv"].endswith("457.14")
    assert figures["ev"].endswith("400.00") and figures["ac"].endswith("500.00")
    assert figures["sv"].endswith("57.14") and "-" in figures["sv"]
    assert figures["cv"].endswith("100.00") and "-" in figures["cv"]
    assert figures["spi"] == "0.8750" and figures["cpi"] == "0.8000"
    assert figures["eac"].endswith("2,500.00")  # 500 + (2000 − 400) × 500 / 400
    assert "Baseline: Mar 2, 2026 – Mar 16, 2026, 3 activities." in body


def test_a_loop_is_refused_naming_the_activities_and_nothing_changes(pages, session, admin, plan):
    pages.log_in_as(admin)
    before = session.scalar(select(func.count()).select_from(Relationship))
    message = _flash(pages, pages.post(_url(plan, f"/activities/{plan['A'].id}/relationships"),
                                       {"direction": "predecessor", "other": "C", "type": "FS", "lag": "0"}))
    assert "loop" in message and "A → B → C → A" in message.replace("&gt;", ">")
    assert session.scalar(select(func.count()).select_from(Relationship)) == before


def test_edit_duration_and_progress_through_the_page(pages, session, admin, plan):
    pages.log_in_as(admin)
    message = _flash(pages, pages.post(_url(plan, f"/activities/{plan['A'].id}"),
                                       {"original_duration": "6,5", "percent_complete": "25",
                                        "actual_start": "2026-03-02", "next": _url(plan)}))
    assert "Activity A saved" in message
    session.expire_all()
    a = session.get(Activity, plan["A"].id)
    assert (a.original_duration_hours, a.percent_complete, a.actual_start) == (52.0, 25.0, datetime(2026, 3, 2, 8))
    pages.post(_url(plan, f"/activities/{plan['A'].id}"), {"percent_complete": "100", "actual_finish": "2026-03-09"})
    session.expire_all()
    assert session.get(Activity, plan["A"].id).actual_finish == datetime(2026, 3, 9, 17)


@pytest.mark.parametrize(("form", "expected"), [
    ({"original_duration": "abc"}, "Duration must be a number of days"),
    ({"original_duration": "-3"}, "Duration cannot be negative"),
    ({"original_duration": ""}, "Enter the duration in days"),
    ({"percent_complete": "140"}, "Percent complete must be a number from 0 to 100"),
    ({"actual_start": "31.02.2026"}, "Actual start is not a valid date"),
    ({"actual_finish": "2026-03-01"}, "actual finish needs an actual start"),
])
def test_bad_values_are_refused_with_a_message_and_nothing_changes(pages, session, admin, plan, form, expected):
    pages.log_in_as(admin)
    message = _flash(pages, pages.post(_url(plan, f"/activities/{plan['A'].id}"), form))
    assert expected in message
    session.expire_all()
    a = session.get(Activity, plan["A"].id)
    assert (a.original_duration_hours, a.percent_complete, a.actual_start, a.actual_finish) == (40.0, 0.0, None, None)


def test_add_and_remove_a_relationship_with_a_lag(pages, session, admin, plan):
    pages.log_in_as(admin)
    message = _flash(pages, pages.post(_url(plan, f"/activities/{plan['C'].id}/relationships"),
                                       {"direction": "predecessor", "other": "A", "type": "SS", "lag": "2"}))
    assert "A → C (SS) linked" in message.replace("&gt;", ">")
    link = session.scalar(select(Relationship).where(Relationship.predecessor_id == plan["A"].id,
                                                     Relationship.successor_id == plan["C"].id))
    assert (link.type, link.lag_hours) == ("SS", 16.0)
    link_id = link.id
    page = pages.get(_url(plan, f"/activities/{plan['C'].id}")).get_data(as_text=True)
    assert f"/relationships/{link_id}/delete" in page
    assert "Work A" in page and "Work B" in page  # both predecessors listed
    unknown = _flash(pages, pages.post(_url(plan, f"/activities/{plan['C'].id}/relationships"),
                                       {"direction": "successor", "other": "ZZ", "type": "FS"}))
    assert "There is no activity ZZ in this project" in unknown
    pages.post(_url(plan, f"/relationships/{link_id}/delete"))
    session.expire_all()
    assert session.get(Relationship, link_id) is None


def test_add_an_activity_under_a_wbs_element(pages, session, admin, plan):
    pages.log_in_as(admin)
    response = pages.post(_url(plan, "/activities"), {"code": "D", "name": "Paint", "type": "task",
                                                      "original_duration": "4", "wbs": str(plan["W2"].id)})
    assert response.status_code == 303
    created = session.scalar(select(Activity).where(Activity.project_id == plan["project"].id, Activity.code == "D"))
    assert (created.wbs_element_id, created.original_duration_hours) == (plan["W2"].id, 32.0)
    again = _flash(pages, pages.post(_url(plan, "/activities"), {"code": "D", "name": "Twice", "type": "task"}))
    assert "already used" in again


def test_schedule_and_baseline_buttons_work_for_editors(pages, session, plan, user_with):
    editor = user_with(Role.editor)
    pages.log_in_as(editor)
    assert 'action="' + _url(plan, "/schedule") + '"' in pages.get(_url(plan)).get_data(as_text=True)
    pages.post(_url(plan, "/schedule"))
    session.expire_all()
    assert session.get(Activity, plan["C"].id).early_finish == datetime(2026, 3, 16, 17)
    body = pages.get(_url(plan)).get_data(as_text=True)
    assert 'data-figure="finish">Mar 16, 2026<' in body and "Set baseline" in body
    # A day longer: the schedule moves, the baseline stays until it is set again.
    pages.post(_url(plan, f"/activities/{plan['A'].id}"), {"original_duration": "6"})
    pages.post(_url(plan, "/schedule"))
    session.expire_all()
    assert session.get(Activity, plan["C"].id).baseline_finish == datetime(2026, 3, 16, 17)
    assert "now the baseline (3 activities)" in _flash(pages, pages.post(_url(plan, "/baseline")))
    session.expire_all()
    assert session.get(Activity, plan["C"].id).baseline_finish == datetime(2026, 3, 17, 17)


# Activities and the WBS


def test_activity_table_pages_and_filters_by_wbs(pages, session, admin, plan):
    project = plan["project"]
    for n in range(57):
        services.create_activity(session, actor=admin, project=project, code=f"X{n:02d}", name=f"Extra {n}",
                                 wbs_element_id=plan["W2"].id, original_duration_hours=8.0)
    session.commit()
    pages.log_in_as(admin)

    def rows(query=""):
        return re.findall(r'<tr data-activity="([^"]+)"', pages.get(_url(plan, query)).get_data(as_text=True))

    assert len(rows()) == 50 and len(rows("?page=2")) == 10
    assert rows(f"?wbs={plan['W1'].id}") == ["A", "B"]
    assert len(rows(f"?wbs={plan['W2'].id}&page=2")) == 8
    assert pages.get(_url(plan, "?wbs=999999")).status_code == 404


def test_wbs_children_load_on_demand(pages, session, admin, plan):
    project = plan["project"]
    deep = services.create_element(session, actor=admin, project=project, code="W1.1", name="Drawings",
                                   parent=plan["W1"])
    services.create_element(session, actor=admin, project=project, code="W1.1.1", name="Sheets", parent=deep)
    session.commit()
    pages.log_in_as(admin)
    page = pages.get(_url(plan)).get_data(as_text=True)
    assert ">W1.1<" in page and ">W1.1.1<" not in page  # two levels on the page
    assert f"/wbs/{deep.id}/rows" in page
    rows = pages.get(_url(plan, f"/wbs/{deep.id}/rows?level=2")).get_data(as_text=True)
    assert ">W1.1.1<" in rows and "--level: 2" in rows


# The Gantt chart


def test_gantt_draws_critical_bars_and_the_data_date(pages, session, admin, plan):
    scheduling_service.schedule_project(session, actor=admin, project=plan["project"])
    session.commit()
    body = pages.log_in_as(admin).get(_url(plan, "/gantt?zoom=days")).get_data(as_text=True)
    assert body.count('class="bar critical"') == 3
    assert '<g class="data-date">' in body and "Data date" in body
    assert body.count('class="pm-wbs-band"') == 2  # W1 and W2
    assert body.count('<path class="link critical"') == 2  # A → B → C
    assert "Work C" in body and "Mar 13, 2026 – Mar 16, 2026" in body  # the tooltip


def test_gantt_shows_a_window_of_rows(pages, session, admin, plan):
    project = plan["project"]
    for n in range(45):
        services.create_activity(session, actor=admin, project=project, code=f"G{n:02d}", name=f"Row {n}",
                                 wbs_element_id=plan["W2"].id, original_duration_hours=8.0)
    session.commit()
    pages.log_in_as(admin)
    first = pages.get(_url(plan, "/gantt?per_page=20")).get_data(as_text=True)
    assert first.count('<g class="pm-row') == 20 and "1–20 of 48" in first
    last = pages.get(_url(plan, "/gantt?per_page=20&page=3")).get_data(as_text=True)
    assert last.count('<g class="pm-row') == 8 and last.count('class="pm-wbs-band"') == 1  # W2 heads the page again


def test_gantt_menu_entry_opens_the_last_project_or_a_chooser(pages, session, admin, plan):
    pages.log_in_as(admin)
    chooser = pages.get("/projects/gantt")
    assert chooser.status_code == 200 and _url(plan, "/gantt") in chooser.get_data(as_text=True)
    pages.get(_url(plan))
    again = pages.get("/projects/gantt")
    assert again.status_code == 302 and again.headers["Location"].endswith(_url(plan, "/gantt"))


# Files


def test_xer_upload_creates_a_project_and_download_reads_back(pages, session, admin, world, user_with):
    editor = user_with(Role.editor)
    pages.log_in_as(editor)
    data = (FIXTURES / "percent-complete-8.4.xer").read_bytes()
    with open(FIXTURES / "percent-complete-8.4.xer", "rb") as handle:
        response = pages.post("/projects/import", {"node": str(world["A1"].id), "format": "auto", "code": "IMP-1",
                                                   "file": (handle, "plan.xer")},
                              content_type="multipart/form-data")
    assert response.status_code == 303
    project = session.scalar(select(Project).where(Project.code == "IMP-1"))
    assert response.headers["Location"].endswith(f"/projects/{project.id}")
    stored = session.scalar(select(func.count()).select_from(Activity).where(Activity.project_id == project.id))
    assert stored == len(read_xer(data).rows("TASK"))
    page = pages.get(f"/projects/{project.id}").get_data(as_text=True)
    assert len(re.findall(r'<tr data-activity="', page)) == stored
    download = pages.get(f"/projects/{project.id}/export.xer")
    assert download.status_code == 200 and "IMP-1.xer" in download.headers["Content-Disposition"]
    back = read_xer(download.data)
    # The project's own rows: its baseline (the first schedule's) has a PROJECT row and TASK rows of its own.
    (own,) = [row["proj_id"] for row in back.rows("PROJECT") if row.get("project_flag") != "N"]
    assert len([row for row in back.rows("TASK") if row["proj_id"] == own]) == stored
    xml = pages.get(f"/projects/{project.id}/export.xml")
    assert xml.status_code == 200 and b"<Project" in xml.data


def test_a_bad_file_gives_the_readers_message_and_writes_nothing(pages, session, admin, world):
    pages.log_in_as(admin)
    before = session.scalar(select(func.count()).select_from(Project))
    broken = (FIXTURES / "percent-complete-8.4.xer").read_bytes().replace(b"%T\tTASK", b"%T\tTASK\n%X", 1)
    message = _flash(pages, pages.post("/projects/import", {"node": str(world["A1"].id), "format": "xer",
                                                             "file": (BytesIO(broken), "broken.xer")},
                                       content_type="multipart/form-data"))
    assert message.startswith("XER file:")
    xml = _flash(pages, pages.post("/projects/import", {"node": str(world["A1"].id),
                                                         "file": (BytesIO(b"<Project><Tasks>"), "plan.xml")},
                                   content_type="multipart/form-data"))
    assert xml.startswith("MSPDI file:")
    unknown = _flash(pages, pages.post("/projects/import", {"node": str(world["A1"].id),
                                                             "file": (BytesIO(b"x"), "plan.pdf")},
                                       content_type="multipart/form-data"))
    assert "Cannot tell the format of plan.pdf" in unknown
    assert session.scalar(select(func.count()).select_from(Project)) == before


def test_upload_needs_edit_rights_on_the_node(pages, session, world, user_with):
    viewer = user_with(Role.viewer)
    pages.log_in_as(viewer)
    assert "You may not create projects" in pages.get("/projects/import").get_data(as_text=True)
    data = (FIXTURES / "percent-complete-8.4.xer").read_bytes()
    response = pages.post("/projects/import", {"node": str(world["A1"].id), "file": (BytesIO(data), "p.xer")},
                          content_type="multipart/form-data")
    assert response.status_code == 403
    hidden = _flash(pages, pages.post("/projects/import", {"node": str(world["B"].id),
                                                            "file": (BytesIO(data), "p.xer")},
                                      content_type="multipart/form-data"))
    assert "Choose the EPS node" in hidden


def test_too_big_a_file_gets_a_clear_413(app, pages, session, admin, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_LENGTH", 1024)
    pages.log_in_as(admin)
    token = pages.csrf_token()
    response = pages.post("/projects/import", {"csrf_token": token, "node": str(world["A1"].id),
                                               "file": (BytesIO(b"x" * 5000), "big.xer")},
                          content_type="multipart/form-data")
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)


def test_upload_into_a_project_replaces_its_plan(pages, session, admin, plan, user_with):
    editor = user_with(Role.editor)
    pages.log_in_as(editor)
    data = (FIXTURES / "percent-complete-8.4.xer").read_bytes()
    assert f'action="{_url(plan, "/import")}"' in pages.get(_url(plan)).get_data(as_text=True)
    message = _flash(pages, pages.post(_url(plan, "/import"), {"file": (BytesIO(data), "new-plan.xer")},
                                       content_type="multipart/form-data"))
    assert "was replaced with new-plan.xer" in message
    codes = set(session.scalars(select(Activity.code).where(Activity.project_id == plan["project"].id)))
    assert codes == {row["task_code"] for row in read_xer(data).rows("TASK")}
    broken = _flash(pages, pages.post(_url(plan, "/import"), {"file": (BytesIO(b"%T\tTASK\n%R\tx"), "bad.xer")},
                                      content_type="multipart/form-data"))
    assert broken.startswith("XER file:")
    assert set(session.scalars(select(Activity.code).where(Activity.project_id == plan["project"].id))) == codes


def test_replacing_a_plan_needs_edit_rights(pages, session, plan, user_with):
    viewer = user_with(Role.viewer)
    pages.log_in_as(viewer)
    assert f'action="{_url(plan, "/import")}"' not in pages.get(_url(plan)).get_data(as_text=True)
    data = (FIXTURES / "percent-complete-8.4.xer").read_bytes()
    response = pages.post(_url(plan, "/import"), {"file": (BytesIO(data), "p.xer")},
                          content_type="multipart/form-data")
    assert response.status_code == 403
    assert set(session.scalars(select(Activity.code).where(Activity.project_id == plan["project"].id))) == set("ABC")


def test_move_the_data_date(pages, session, admin, plan):
    pages.log_in_as(admin)
    message = _flash(pages, pages.post(_url(plan, "/data-date"), {"data_date": "2026-03-04T12:00"}))
    assert "The data date is now Mar 4, 2026" in message
    assert services.get_plan(session, project=plan["project"]).data_date == datetime(2026, 3, 4, 12)
    assert "is not a valid date" in _flash(pages, pages.post(_url(plan, "/data-date"), {"data_date": "soon"}))
    assert "Enter the data date" in _flash(pages, pages.post(_url(plan, "/data-date"), {"data_date": ""}))


def test_a_big_wbs_opens_one_level_and_offers_a_bounded_choice(pages, session, admin, plan, monkeypatch):
    from web.views.pm import project as project_view

    monkeypatch.setattr(project_view, "WBS_OPEN_LIMIT", 2)
    monkeypatch.setattr(project_view, "ELEMENT_CHOICES", 1)
    deep = services.create_element(session, actor=admin, project=plan["project"], code="W1.1", name="Drawings",
                                   parent=plan["W1"])
    session.commit()
    pages.log_in_as(admin)
    body = pages.get(_url(plan)).get_data(as_text=True)
    assert ">W1<" in body and ">W1.1<" not in body and f"/wbs/{plan['W1'].id}/rows" in body
    # Two selects offer elements (the new activity's and the new element's parent), each bounded.
    options = re.findall(r'<option value="(\d+)"[^>]*>W', body)
    assert options == [str(plan["W1"].id)] * 2
    shown = pages.get(_url(plan, f"?wbs={deep.id}")).get_data(as_text=True)
    # The selected element's panel offers parents other than itself.
    assert re.findall(r'<option value="(\d+)"[^>]*>W', shown) == [str(plan["W1"].id)] + [str(plan["W1"].id), str(deep.id)] * 2


def test_the_menu_offers_projects_and_the_gantt_chart(pages, admin, plan):
    body = pages.log_in_as(admin).get(_url(plan)).get_data(as_text=True)
    menu = re.search(r'<nav class="menu".*?</nav>', body, re.S).group(0)
    assert 'href="/projects/" class="active"' in menu and 'href="/projects/gantt"' in menu


def test_upload_shows_the_imports_warnings(pages, session, admin, world):
    from tests.wbs.interchange.test_import_real_files import with_missing_calendar

    pages.log_in_as(admin)
    data, code = with_missing_calendar((FIXTURES / "alap-harbour-131.xer").read_bytes())
    response = pages.post("/projects/import", {"node": str(world["A1"].id), "format": "xer",
                                               "file": (BytesIO(data), "plan.xer")},
                          content_type="multipart/form-data")
    assert response.status_code == 303
    body = pages.get(response.headers["Location"]).get_data(as_text=True)
    shown = re.findall(r'<div class="flash flash-warning"[^>]*>(.*?)</div>', body, re.S)
    assert len(shown) == 1 and "calendar 99999 is not in the file" in shown[0] and code in shown[0]


def test_two_links_of_different_types_between_one_pair_on_the_activity_page(pages, session, admin, plan):
    pages.log_in_as(admin)
    # A → B is linked FS already; an FF link between the same pair is P6's and is added beside it.
    added = _flash(pages, pages.post(_url(plan, f"/activities/{plan['B'].id}/relationships"),
                                     {"direction": "predecessor", "other": "A", "type": "FF", "lag": "1"}))
    assert "A → B (FF) linked" in added.replace("&gt;", ">")
    links = session.scalars(select(Relationship).where(Relationship.predecessor_id == plan["A"].id,
                                                       Relationship.successor_id == plan["B"].id)).all()
    assert sorted(link.type for link in links) == ["FF", "FS"]
    page = pages.get(_url(plan, f"/activities/{plan['B'].id}")).get_data(as_text=True)
    assert all(f"/relationships/{link.id}/delete" in page for link in links)
    again = _flash(pages, pages.post(_url(plan, f"/activities/{plan['B'].id}/relationships"),
                                     {"direction": "predecessor", "other": "A", "type": "FF"}))
    assert "A → B" in again.replace("&gt;", ">") and "FF" in again
    assert len(session.scalars(select(Relationship).where(Relationship.predecessor_id == plan["A"].id,
                                                          Relationship.successor_id == plan["B"].id)).all()) == 2

"""Editing on the Gantt chart: moving a bar (a "start on or after" constraint), stretching it (the original
duration in its calendar's work time), drawing a link; rights, CSRF, bad input, loops; then a new schedule."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from eps.models import Role
from wbs import services
from wbs.models import Activity, Relationship
from wbs.scheduling import service as scheduling_service

WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]  # Monday to Friday, 8–12 and 13–17
LONG_DAYS = [[[420, 720], [780, 1080]]] * 4 + [[], [], []]  # Monday to Thursday, 7–12 and 13–18
HOLIDAY = date(2026, 3, 10)  # a Tuesday off in the 5×8 calendar
MONDAY = datetime(2026, 3, 2, 8)
FETCH = {"X-Requested-With": "fetch", "Accept": "application/json"}


@pytest.fixture
def plan(session, admin, world):
    """PA: A 5d → B 3d (its own 4×10 calendar) → C 2d, D 1d and a milestone M, on a 5×8 calendar with a holiday."""
    project = world["PA"]
    calendar = services.create_calendar(session, actor=admin, project=project, name="5x8", week=WEEK,
                                        exceptions={HOLIDAY: []})
    long_days = services.create_calendar(session, actor=admin, project=project, name="4x10", week=LONG_DAYS,
                                         hours_per_day=10.0)
    services.update_plan(session, actor=admin, project=project, planned_start=MONDAY, data_date=MONDAY,
                         default_calendar_id=calendar.id)
    w1 = services.create_element(session, actor=admin, project=project, code="W1", name="Design")
    made = {}
    for code, hours, kind, cal in (("A", 40, "task", None), ("B", 30, "task", long_days.id), ("C", 16, "task", None),
                                   ("D", 8, "task", None), ("M", 0, "finish_milestone", None)):
        made[code] = services.create_activity(session, actor=admin, project=project, code=code, name=f"Work {code}",
                                              wbs_element_id=w1.id, original_duration_hours=float(hours), type=kind,
                                              calendar_id=cal)
    services.create_relationship(session, actor=admin, project=project, predecessor=made["A"], successor=made["B"])
    services.create_relationship(session, actor=admin, project=project, predecessor=made["B"], successor=made["C"])
    scheduling_service.schedule_project(session, actor=admin, project=project)
    session.commit()
    return {"project": project, **made, "W1": w1, "calendar": calendar, "long_days": long_days}


def _url(plan, code, what):
    return f"/projects/{plan['project'].id}/gantt/activities/{plan[code].id}/{what}"


def _fresh(session, activity) -> Activity:
    session.expire_all()
    return session.get(Activity, activity.id)


def _work_hours(start: datetime, last_day: date, periods_of) -> float:
    """Work hours from ``start`` to the end of ``last_day``, walking the calendar day by day (minutes of each
    working period counted by hand): the figure the endpoint must store, found without the scheduler's code."""
    total = 0
    day = start.date()
    while day <= last_day:
        for begin, end in periods_of(day):
            if day == start.date():
                begin = max(begin, start.hour * 60 + start.minute)
            total += max(end - begin, 0)
        day += timedelta(days=1)
    return total / 60


def _five_by_eight(day: date):
    return [] if day == HOLIDAY else WEEK[day.weekday()]


def _four_by_ten(day: date):
    return LONG_DAYS[day.weekday()]


# Moving a bar


def test_moving_a_bar_sets_a_start_on_or_after_constraint_and_reschedules(pages, session, admin, plan):
    response = pages.log_in_as(admin).post(_url(plan, "A", "move"), {"start": "2026-03-16"}, headers=FETCH)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "A starts on or after" in response.get_json()["message"]
    a, b = _fresh(session, plan["A"]), _fresh(session, plan["B"])
    assert (a.constraint_type, a.constraint_date) == ("start_on_or_after", datetime(2026, 3, 16, 8))
    # Rescheduled: A from Monday 16 March, five days to Friday 20; B follows on Monday 23 (its 4×10 calendar).
    assert (a.early_start, a.early_finish) == (datetime(2026, 3, 16, 8), datetime(2026, 3, 20, 17))
    assert b.early_start == datetime(2026, 3, 23, 7)


def test_a_form_without_a_script_gets_the_chart_back_with_the_message(pages, session, admin, plan):
    response = pages.log_in_as(admin).post(_url(plan, "D", "move"), {"start": "2026-03-05"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/projects/{plan['project'].id}/gantt")
    body = pages.get(response.headers["Location"]).get_data(as_text=True)
    assert "D starts on or after" in body
    assert _fresh(session, plan["D"]).early_start == datetime(2026, 3, 5, 8)


# Stretching a bar


def test_stretching_a_bar_sets_the_duration_in_its_calendars_work_time(pages, session, admin, plan):
    pages.log_in_as(admin)
    # A starts Monday 2 March 08:00; its bar dragged to end on Wednesday 11 March (Tuesday 10 is a holiday).
    response = pages.post(_url(plan, "A", "duration"), {"finish": "2026-03-11"}, headers=FETCH)
    assert response.status_code == 200, response.get_data(as_text=True)
    expected = _work_hours(MONDAY, date(2026, 3, 11), _five_by_eight)
    assert expected == 56.0  # seven working days of 8 hours
    a = _fresh(session, plan["A"])
    assert a.original_duration_hours == pytest.approx(expected)
    assert a.early_finish == datetime(2026, 3, 11, 17)
    # B works 4×10: dragged from its start to a Tuesday two weeks on.
    b = _fresh(session, plan["B"])
    start = b.early_start
    response = pages.post(_url(plan, "B", "duration"), {"finish": "2026-03-24"}, headers=FETCH)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _fresh(session, plan["B"]).original_duration_hours == pytest.approx(
        _work_hours(start, date(2026, 3, 24), _four_by_ten))


def test_the_duration_form_counts_days_of_the_activitys_calendar(pages, session, admin, plan):
    pages.log_in_as(admin)
    response = pages.post(_url(plan, "B", "duration"), {"days": "1,5"}, headers=FETCH)
    assert response.status_code == 200
    assert _fresh(session, plan["B"]).original_duration_hours == 15.0  # 1.5 days of 10 hours
    response = pages.post(_url(plan, "C", "duration"), {"days": "4"}, headers=FETCH)
    assert _fresh(session, plan["C"]).original_duration_hours == 32.0  # 4 days of 8 hours


def test_a_finish_before_the_start_or_a_milestones_duration_is_refused(pages, session, admin, plan):
    pages.log_in_as(admin)
    before = _fresh(session, plan["A"]).original_duration_hours
    response = pages.post(_url(plan, "A", "duration"), {"finish": "2026-02-20"}, headers=FETCH)
    assert response.status_code == 422 and "cannot finish before it starts" in response.get_json()["message"]
    response = pages.post(_url(plan, "M", "duration"), {"days": "2"}, headers=FETCH)
    assert response.status_code == 422 and "milestone" in response.get_json()["message"]
    assert _fresh(session, plan["A"]).original_duration_hours == before


# Drawing a link


def test_drawing_a_link_creates_the_relationship_and_reschedules(pages, session, admin, plan):
    pages.log_in_as(admin)
    response = pages.post(_url(plan, "C", "links"), {"successor": str(plan["D"].id)}, headers=FETCH)
    assert response.status_code == 200, response.get_data(as_text=True)
    link = session.scalar(select(Relationship).where(Relationship.predecessor_id == plan["C"].id,
                                                     Relationship.successor_id == plan["D"].id))
    assert link is not None and link.type == "FS" and link.lag_hours == 0
    c, d = _fresh(session, plan["C"]), _fresh(session, plan["D"])
    assert d.early_start >= c.early_finish
    # From the start handle: SS; by the keyboard form, the other activity by its name.
    response = pages.post(_url(plan, "A", "links"), {"other": "Work D", "type": "SS"}, headers=FETCH)
    assert response.status_code == 200
    assert session.scalar(select(Relationship.type).where(Relationship.predecessor_id == plan["A"].id,
                                                          Relationship.successor_id == plan["D"].id)) == "SS"


def test_a_loop_is_refused_with_the_translated_reason(pages, session, admin, plan):
    admin.locale = "ru"
    session.commit()
    response = pages.log_in_as(admin).post(_url(plan, "C", "links"), {"other": "A"}, headers=FETCH)
    assert response.status_code == 409
    message = response.get_json()["message"]
    assert "A → B → C → A" in message and "цикл" in message.lower()
    assert session.scalar(select(Relationship).where(Relationship.predecessor_id == plan["C"].id)) is None


@pytest.mark.parametrize("data, field", [
    ({"other": "NOPE"}, "other"), ({"other": ""}, "other"), ({"successor": "abc"}, "successor"),
    ({"successor": "99999999999"}, "successor"), ({"other": "D", "type": "XX"}, "type")])
def test_bad_link_input_is_a_json_reason(pages, session, admin, plan, data, field):
    response = pages.log_in_as(admin).post(_url(plan, "C", "links"), data, headers=FETCH)
    assert response.status_code == 422 and response.is_json
    body = response.get_json()
    assert body["message"] and field in body["errors"]


def test_a_successor_from_another_project_is_not_found(pages, session, admin, plan, world):
    other = services.create_activity(session, actor=admin, project=world["PB"], code="X", name="Elsewhere")
    session.commit()
    response = pages.log_in_as(admin).post(_url(plan, "C", "links"), {"successor": str(other.id)}, headers=FETCH)
    assert response.status_code == 404 and "Elsewhere" not in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["", "garbage", "2026-02-30", "99999-01-01"])
def test_a_bad_date_is_a_json_reason_naming_the_field(pages, session, admin, plan, value):
    response = pages.log_in_as(admin).post(_url(plan, "A", "move"), {"start": value}, headers=FETCH)
    assert response.status_code == 422 and response.get_json()["errors"] == {"start": [
        "required" if not value else "date"]}
    assert _fresh(session, plan["A"]).constraint_type is None


# Rights and CSRF


@pytest.mark.parametrize("what, data", [("move", {"start": "2026-03-16"}), ("duration", {"days": "2"}),
                                        ("links", {"other": "D"})])
def test_rights_and_csrf(pages, session, admin, plan, user_with, what, data):
    viewer, outsider = user_with(Role.viewer), user_with(None)
    before = (_fresh(session, plan["C"]).constraint_type, _fresh(session, plan["C"]).original_duration_hours,
              session.scalar(select(Relationship.id).where(Relationship.predecessor_id == plan["C"].id)))
    assert pages.log_in_as(outsider).post(_url(plan, "C", what), data, headers=FETCH).status_code == 404
    response = pages.log_in_as(viewer).post(_url(plan, "C", what), data, headers=FETCH)
    assert response.status_code == 403 and response.get_json()["message"]
    response = pages.log_in_as(admin).post(_url(plan, "C", what), data, csrf=False, headers=FETCH)
    assert response.status_code == 400 and "reload the page" in response.get_json()["message"]
    assert pages.post(_url(plan, "C", what), data, csrf=False).status_code == 400  # a form: the error page
    after = (_fresh(session, plan["C"]).constraint_type, _fresh(session, plan["C"]).original_duration_hours,
             session.scalar(select(Relationship.id).where(Relationship.predecessor_id == plan["C"].id)))
    assert after == before


def test_a_big_plan_is_rescheduled_by_a_job(app, pages, session, admin, plan, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULE_ASYNC_ACTIVITIES", 2)
    monkeypatch.setitem(app.config, "JOBS_URL", "memory://")
    response = pages.log_in_as(admin).post(_url(plan, "A", "move"), {"start": "2026-03-16"}, headers=FETCH)
    assert response.status_code == 200
    answer = response.get_json()
    assert re.fullmatch(r"/jobs/\d+", answer["job_url"]) and "background" in answer["message"]
    assert _fresh(session, plan["A"]).constraint_type == "start_on_or_after"


# The page


def test_the_chart_shows_columns_summary_bars_and_the_editing_forms(pages, session, admin, plan, user_with):
    body = pages.log_in_as(admin).get(f"/projects/{plan['project'].id}/gantt?zoom=days").get_data(as_text=True)
    row = re.search(r'<div class="pm-gantt-label pm-gantt-cols normal"[^>]*data-activity="%d">(.*?)</div>'
                    % plan["D"].id, body, re.S) or re.search(
        r'<div class="pm-gantt-label pm-gantt-cols critical"[^>]*data-activity="%d">(.*?)</div>' % plan["D"].id,
        body, re.S)
    cells = dict(re.findall(r'data-col="(\w+)">([^<]*)<', row.group(1)))
    d = _fresh(session, plan["D"])
    assert cells["start"] == "3/2/26" and cells["finish"] == "3/2/26"
    assert cells["float"] == f"{d.total_float_hours / 8:g}" and cells["percent"] == "0\u00a0%"
    assert body.count('class="pm-summary"') == 1  # W1 spans all five activities
    assert 'data-gantt-form="move"' in body and 'data-gantt-form="link"' in body and 'tabindex="0"' in body
    viewer = user_with(Role.viewer)
    seen = pages.log_in_as(viewer).get(f"/projects/{plan['project'].id}/gantt").get_data(as_text=True)
    assert "data-gantt-form" not in seen and "data-move-url" not in seen and 'tabindex="0"' in seen


def test_columns_follow_the_users_locale(pages, session, admin, plan):
    admin.locale = "ru"
    session.commit()
    body = pages.log_in_as(admin).get(f"/projects/{plan['project'].id}/gantt").get_data(as_text=True)
    assert 'data-col="start">02.03.2026<' in body


def test_a_wbs_heading_folds_to_its_summary_bar(pages, session, admin, plan):
    project_id, w1 = plan["project"].id, plan["W1"].id
    pages.log_in_as(admin)
    body = pages.get(f"/projects/{project_id}/gantt?zoom=days").get_data(as_text=True)
    assert body.count('<g class="pm-row') == 5 and 'aria-expanded="true"' in body
    assert f"fold={w1}" in body
    folded = pages.get(f"/projects/{project_id}/gantt?zoom=days&fold={w1}").get_data(as_text=True)
    assert folded.count('<g class="pm-row') == 0 and folded.count('class="pm-summary"') == 1
    assert 'aria-expanded="false"' in folded and "Show the activities of W1 · Design" in folded
    assert f"zoom=weeks&amp;fold={w1}" in folded  # the zoom keeps the fold
    # Garbage in the argument is ignored.
    assert pages.get(f"/projects/{project_id}/gantt?fold=x,-1,99999999999999,{w1}").status_code == 200

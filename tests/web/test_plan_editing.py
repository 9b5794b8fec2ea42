"""Editing a plan on the pages: the WBS tree, activities, relationships, calendars and their holiday import."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select

from eps.models import Role
from tests.corpus import IN_REPO
from wbs import services
from wbs.models import Activity, Calendar, CalendarException, Relationship, WbsElement
from web.views.pm import project as project_view

CALENDARS = IN_REPO / "calendars"  # README.md there says where the files come from
WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]
MONDAY = datetime(2026, 3, 2, 8)


@pytest.fixture
def plan(session, admin, world):
    """PA: a 5×8 calendar; W1 (A 5d, B 3d), W2 (C 2d), W3 empty; A → B → C."""
    project = world["PA"]
    calendar = services.create_calendar(session, actor=admin, project=project, name="5x8", week=WEEK)
    services.update_plan(session, actor=admin, project=project, planned_start=MONDAY, data_date=MONDAY,
                         default_calendar_id=calendar.id)
    made = {"calendar": calendar}
    for code, name in (("W1", "Design"), ("W2", "Build"), ("W3", "Hand over")):
        made[code] = services.create_element(session, actor=admin, project=project, code=code, name=name)
    for code, days, element in (("A", 5, "W1"), ("B", 3, "W1"), ("C", 2, "W2")):
        made[code] = services.create_activity(session, actor=admin, project=project, code=code, name=f"Work {code}",
                                              wbs_element_id=made[element].id, original_duration_hours=days * 8.0)
    made["AB"] = services.create_relationship(session, actor=admin, project=project, predecessor=made["A"],
                                              successor=made["B"])
    services.create_relationship(session, actor=admin, project=project, predecessor=made["B"], successor=made["C"])
    session.commit()
    return {"project": project, **made}


def _url(plan, tail="") -> str:
    return f"/projects/{plan['project'].id}{tail}"


def _flash(pages, response) -> str:
    assert response.status_code == 303, response.status_code
    body = pages.get(response.headers["Location"]).get_data(as_text=True)
    match = re.search(r'<div class="flash flash-(\w+)"[^>]*>(.*?)</div>', body, re.S)
    assert match, "no message shown"
    return html.unescape(match.group(2).strip())


def _shape(session, project) -> list[tuple[str, str | None]]:
    """(code, parent code) in tree order, read from the database."""
    session.expire_all()
    elements = services.list_elements(session, project=project)
    codes = {e.id: e.code for e in elements}
    return [(e.code, codes.get(e.parent_id)) for e in services.tree_order(elements)]


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _gone(session, model, row_id) -> bool:
    return session.scalar(select(func.count()).select_from(model).where(model.id == row_id)) == 0


# The WBS tree


def test_build_and_rearrange_the_wbs_on_the_page(pages, session, admin, plan):
    pages.log_in_as(admin)
    page = pages.get(_url(plan, f"?wbs={plan['W1'].id}")).get_data(as_text=True)
    assert 'data-wbs-panel="W1"' in page and "Indent" in page
    added = _flash(pages, pages.post(_url(plan, "/wbs"), {"code": "W1.1", "name": "Drawings",
                                                          "parent": str(plan["W1"].id)}))
    assert "W1.1 added" in added
    assert _shape(session, plan["project"]) == [("W1", None), ("W1.1", "W1"), ("W2", None), ("W3", None)]
    w11 = session.scalar(select(WbsElement).where(WbsElement.code == "W1.1"))
    # Indent W2 under W1 (its previous sibling), then outdent it back after W1.
    assert "indented" in _flash(pages, pages.post(_url(plan, f"/wbs/{plan['W2'].id}/move"), {"how": "indent"}))
    assert _shape(session, plan["project"]) == [("W1", None), ("W1.1", "W1"), ("W2", "W1"), ("W3", None)]
    pages.post(_url(plan, f"/wbs/{plan['W2'].id}/move"), {"how": "outdent"})
    assert _shape(session, plan["project"]) == [("W1", None), ("W1.1", "W1"), ("W2", None), ("W3", None)]
    pages.post(_url(plan, f"/wbs/{plan['W3'].id}/move"), {"how": "up"})
    assert _shape(session, plan["project"]) == [("W1", None), ("W1.1", "W1"), ("W3", None), ("W2", None)]
    pages.post(_url(plan, f"/wbs/{plan['W1'].id}/move"), {"how": "down"})
    assert _shape(session, plan["project"]) == [("W3", None), ("W1", None), ("W1.1", "W1"), ("W2", None)]
    # Rename and move under another parent in one form.
    saved = _flash(pages, pages.post(_url(plan, f"/wbs/{w11.id}"), {"code": "W3.1", "name": "Drawings, final",
                                                                     "parent": str(plan["W3"].id)}))
    assert "W3.1 saved" in saved
    assert _shape(session, plan["project"]) == [("W3", None), ("W3.1", "W3"), ("W1", None), ("W2", None)]
    assert session.get(WbsElement, w11.id).name == "Drawings, final"
    # Delete an empty element; the one holding activities is refused, saying why.
    assert "deleted" in _flash(pages, pages.post(_url(plan, f"/wbs/{w11.id}/delete")))
    assert _gone(session, WbsElement, w11.id)
    refused = _flash(pages, pages.post(_url(plan, f"/wbs/{plan['W1'].id}/delete")))
    assert "W1 still holds 0 element(s) and 2 activity(ies)" in refused
    assert session.get(WbsElement, plan["W1"].id) is not None


def test_wbs_refusals_come_back_translated_and_change_nothing(pages, session, admin, plan):
    admin.locale = "ru"
    session.commit()
    pages.log_in_as(admin)
    before = _shape(session, plan["project"])
    cases = [
        (f"/wbs/{plan['W1'].id}/move", {"how": "indent"}, "перед ним нет элемента"),
        (f"/wbs/{plan['W1'].id}/move", {"how": "outdent"}, "уже на верхнем уровне"),
        (f"/wbs/{plan['W1'].id}/delete", {}, "ещё есть элементы (0) и работы (2)"),
        ("/wbs", {"code": "W2", "name": "Twice"}, "уже используется"),
        ("/wbs", {"code": "", "name": "No code"}, "Код"),
    ]
    for path, form, says in cases:
        assert says in _flash(pages, pages.post(_url(plan, path), form)), path
    pages.post(_url(plan, f"/wbs/{plan['W2'].id}/move"), {"how": "indent"})
    refused = _flash(pages, pages.post(_url(plan, f"/wbs/{plan['W1'].id}"), {"parent": str(plan["W2"].id)}))
    assert "внутри" in refused  # W2 is inside W1 now
    assert _shape(session, plan["project"]) == [("W1", None), ("W2", "W1"), ("W3", None)]
    assert len(before) == 3


def test_wbs_edits_need_rights(pages, session, plan, user_with):
    paths = [("/wbs", {"code": "X", "name": "X"}), (f"/wbs/{plan['W2'].id}", {"name": "Renamed"}),
             (f"/wbs/{plan['W2'].id}/move", {"how": "indent"}), (f"/wbs/{plan['W3'].id}/delete", {})]
    before = _shape(session, plan["project"])
    for role, status in ((None, 404), (Role.viewer, 403)):
        pages.log_in_as(user_with(role))
        for path, form in paths:
            assert pages.post(_url(plan, path), form).status_code == status, (role, path)
    viewer_page = pages.get(_url(plan, f"?wbs={plan['W1'].id}")).get_data(as_text=True)
    assert "data-wbs-panel" not in viewer_page and "/wbs\"" not in viewer_page
    assert _shape(session, plan["project"]) == before
    assert session.get(WbsElement, plan["W2"].id).name == "Build"


# Activities


def test_create_an_activity_of_each_kind_with_its_calendar_and_element(pages, session, admin, plan):
    pages.log_in_as(admin)
    assert set(project_view.ACTIVITY_ORDER) == services.ACTIVITY_TYPES
    assert set(project_view.CONSTRAINT_ORDER) == services.CONSTRAINT_TYPES
    for n, kind in enumerate(project_view.ACTIVITY_ORDER):
        response = pages.post(_url(plan, "/activities"), {
            "code": f"K{n}", "name": kind, "type": kind, "original_duration": "2,5", "wbs": str(plan["W3"].id),
            "calendar": str(plan["calendar"].id)})
        assert response.status_code == 303, kind
        made = session.scalar(select(Activity).where(Activity.project_id == plan["project"].id,
                                                     Activity.code == f"K{n}"))
        milestone = kind in ("start_milestone", "finish_milestone")
        assert (made.type, made.wbs_element_id, made.calendar_id, made.original_duration_hours) == (
            kind, plan["W3"].id, plan["calendar"].id, 0.0 if milestone else 20.0)


def test_edit_an_activitys_plan_with_two_constraints(pages, session, admin, plan):
    pages.log_in_as(admin)
    message = _flash(pages, pages.post(_url(plan, f"/activities/{plan['B'].id}"), {
        "code": "B2", "name": "Work B, again", "type": "task", "original_duration": "4", "wbs": str(plan["W2"].id),
        "calendar": str(plan["calendar"].id), "constraint_type": "start_on_or_after", "constraint_date": "2026-03-10",
        "secondary_constraint_type": "finish_on_or_before", "secondary_constraint_date": "2026-03-20T12:00"}))
    assert "Activity B2 saved" in message
    session.expire_all()
    b = session.get(Activity, plan["B"].id)
    assert (b.code, b.name, b.wbs_element_id, b.calendar_id, b.original_duration_hours) == (
        "B2", "Work B, again", plan["W2"].id, plan["calendar"].id, 32.0)
    assert (b.constraint_type, b.constraint_date) == ("start_on_or_after", datetime(2026, 3, 10, 8))
    assert (b.secondary_constraint_type, b.secondary_constraint_date) == ("finish_on_or_before",
                                                                          datetime(2026, 3, 20, 12))
    page = pages.get(_url(plan, f"/activities/{plan['B'].id}")).get_data(as_text=True)
    assert '<option value="start_on_or_after" selected>' in page and 'value="2026-03-20T12:00"' in page
    # Clearing the constraint clears its date; a milestone drops its duration.
    pages.post(_url(plan, f"/activities/{plan['B'].id}"), {"type": "finish_milestone", "constraint_type": "",
                                                           "constraint_date": ""})
    session.expire_all()
    b = session.get(Activity, plan["B"].id)
    assert (b.type, b.original_duration_hours, b.constraint_type, b.constraint_date) == (
        "finish_milestone", 0.0, None, None)


@pytest.mark.parametrize(("form", "says"), [
    ({"constraint_type": "start_on", "constraint_date": ""}, "Enter the constraint date"),
    ({"constraint_type": "", "constraint_date": "2026-03-10"}, "Constraint date needs a constraint type"),
    ({"constraint_type": "sooner", "constraint_date": "2026-03-10"}, "Choose the constraint"),
    ({"secondary_constraint_type": "finish_on", "secondary_constraint_date": "10.03.2026"},
     "Secondary constraint date is not a valid date"),
    ({"type": "sprint"}, "Choose the kind of activity"),
    ({"code": ""}, "Please fill in: Code"),
    ({"code": "C"}, "code 'C' is already used"),
    ({"wbs": "x"}, "Choose the WBS element"),
    ({"calendar": "999999"}, "Choose the calendar"),
    ({"wbs": "999999"}, "Choose the WBS element"),
    ({"type": "start_milestone", "original_duration": "3", "code": "A"}, None),
])
def test_bad_activity_input_names_the_field_and_writes_nothing(pages, session, admin, plan, form, says):
    pages.log_in_as(admin)
    before = session.get(Activity, plan["A"].id).audit_state()
    response = pages.post(_url(plan, f"/activities/{plan['A'].id}"), form)
    session.expire_all()
    if says is None:  # a milestone's duration is not asked for: the change is taken with none
        assert session.get(Activity, plan["A"].id).original_duration_hours == 0.0
        return
    assert says in _flash(pages, response)
    assert session.get(Activity, plan["A"].id).audit_state() == before


def test_delete_an_activity_with_its_relationships(pages, session, admin, plan):
    pages.log_in_as(admin)
    links = _count(session, Relationship)
    b_id = plan["B"].id
    assert "Activity B deleted" in _flash(pages, pages.post(_url(plan, f"/activities/{b_id}/delete")))
    assert _gone(session, Activity, b_id) and _count(session, Relationship) == links - 2


def test_activity_edits_need_rights(pages, session, plan, user_with):
    before = session.get(Activity, plan["A"].id).audit_state()
    for role, status in ((None, 404), (Role.viewer, 403)):
        pages.log_in_as(user_with(role))
        assert pages.post(_url(plan, "/activities"), {"code": "Z", "name": "Z"}).status_code == status
        assert pages.post(_url(plan, f"/activities/{plan['A'].id}"), {"constraint_type": "start_on",
                                                                      "constraint_date": "2026-03-03"}
                          ).status_code == status
        assert pages.post(_url(plan, f"/activities/{plan['A'].id}/delete")).status_code == status
        assert pages.post(_url(plan, f"/relationships/{plan['AB'].id}"), {"type": "SS"}).status_code == status
    assert pages.get(_url(plan, "/activities/find?q=Work")).status_code == 200  # the viewer may read
    session.expire_all()
    assert session.get(Activity, plan["A"].id).audit_state() == before
    assert session.get(Relationship, plan["AB"].id).type == "FS"
    assert _count(session, Activity) == 3


# Relationships


def test_the_picker_finds_activities_by_code_or_name(pages, session, admin, plan, user_with):
    pages.log_in_as(admin)
    found = pages.get(_url(plan, "/activities/find?q=work b")).get_json()
    assert [item["code"] for item in found["items"]] == ["B"]
    assert {item["code"] for item in pages.get(_url(plan, "/activities/find?q=")).get_json()["items"]} == {"A", "B", "C"}
    page = pages.get(_url(plan, f"/activities/{plan['C'].id}")).get_data(as_text=True)
    assert 'list="pm-activity-options"' in page and "/activities/find" in page and "plan.js" in page
    pages.log_in_as(user_with(None))
    assert pages.get(_url(plan, "/activities/find?q=Work")).status_code == 404


def test_link_by_name_edit_its_type_and_lag_and_remove_it(pages, session, admin, plan):
    pages.log_in_as(admin)
    added = _flash(pages, pages.post(_url(plan, f"/activities/{plan['C'].id}/relationships"),
                                     {"direction": "predecessor", "other": "Work A", "type": "SS", "lag": "1"}))
    assert "A → C (SS) linked" in added
    link = session.scalar(select(Relationship).where(Relationship.predecessor_id == plan["A"].id,
                                                     Relationship.successor_id == plan["C"].id))
    # The suggestion as the picker shows it, "code · name", is taken too.
    pages.post(_url(plan, f"/activities/{plan['A'].id}/relationships"),
               {"direction": "successor", "other": "C · Work C", "type": "FF", "lag": "0"})
    assert _count(session, Relationship) == 4
    saved = _flash(pages, pages.post(_url(plan, f"/relationships/{link.id}"), {"type": "FS", "lag": "-0,5"}))
    assert "A → C (FS) saved" in saved
    session.expire_all()
    assert (session.get(Relationship, link.id).type, session.get(Relationship, link.id).lag_hours) == ("FS", -4.0)
    page = pages.get(_url(plan, f"/activities/{plan['C'].id}")).get_data(as_text=True)
    assert f"/relationships/{link.id}/delete" in page and f'action="/projects/{plan["project"].id}/relationships/{link.id}"' in page
    pages.post(_url(plan, f"/relationships/{link.id}/delete"))
    assert _gone(session, Relationship, link.id)


def test_relationship_refusals_are_translated_and_write_nothing(pages, session, admin, plan):
    admin.locale = "ru"
    session.commit()
    pages.log_in_as(admin)
    links = _count(session, Relationship)
    loop = _flash(pages, pages.post(_url(plan, f"/activities/{plan['A'].id}/relationships"),
                                    {"direction": "predecessor", "other": "C", "type": "FS", "lag": "0"}))
    assert "Связь замкнула бы циклическую зависимость: A → B → C → A" in loop
    twice = _flash(pages, pages.post(_url(plan, f"/activities/{plan['B'].id}/relationships"),
                                     {"direction": "predecessor", "other": "A", "type": "FS", "lag": "0"}))
    assert "A → B" in twice and "FS" in twice and "already" not in twice
    bad_lag = _flash(pages, pages.post(_url(plan, f"/relationships/{plan['AB'].id}"), {"type": "FS", "lag": "soon"}))
    assert "Задержка" in bad_lag
    bad_type = _flash(pages, pages.post(_url(plan, f"/relationships/{plan['AB'].id}"), {"type": "XX", "lag": "0"}))
    assert "FS, SS, FF" in bad_type
    session.expire_all()
    assert _count(session, Relationship) == links
    assert (session.get(Relationship, plan["AB"].id).type, session.get(Relationship, plan["AB"].id).lag_hours) == (
        "FS", 0.0)


# Calendars


def _week_form(**days) -> dict:
    form = {f"week-{n}": "08:00-12:00, 13:00-17:00" if n < 5 else "" for n in range(7)}
    form.update(days)
    return form


def test_create_and_edit_a_project_calendar(pages, session, admin, plan):
    pages.log_in_as(admin)
    listing = pages.get(_url(plan, "/calendars")).get_data(as_text=True)
    assert "5x8" in listing and "New project calendar" in listing
    response = pages.post(_url(plan, "/calendars"), {"name": "Six days", "hours_per_day": "8",
                                                     **_week_form(**{"week-5": "09:00-14:00"})})
    made = session.scalar(select(Calendar).where(Calendar.name == "Six days"))
    assert response.headers["Location"].endswith(f"/projects/calendars/{made.id}")
    assert (made.project_id, made.week[5], made.week[6], made.week[0]) == (
        plan["project"].id, [[540, 840]], [], [[480, 720], [780, 1020]])
    saved = _flash(pages, pages.post(f"/projects/calendars/{made.id}", {
        "name": "Six days, long", "hours_per_day": "9,5", **_week_form(**{"week-0": "07:30-12:00; 12:30-17:30"})}))
    assert "Six days, long saved" in saved
    session.expire_all()
    made = session.get(Calendar, made.id)
    assert (made.name, made.hours_per_day, made.week[0], made.week[5]) == (
        "Six days, long", 9.5, [[450, 720], [750, 1050]], [])
    # An exception: a shortened day, then a day off, then gone again.
    pages.post(f"/projects/calendars/{made.id}/exceptions", {"day": "2026-03-06", "periods": "08:00-15:00"})
    pages.post(f"/projects/calendars/{made.id}/exceptions", {"day": "2026-03-09", "periods": ""})
    session.expire_all()
    assert {e.day: e.periods for e in session.get(Calendar, made.id).exceptions} == {
        date(2026, 3, 6): [[480, 900]], date(2026, 3, 9): []}
    pages.post(f"/projects/calendars/{made.id}/exceptions/delete", {"day": "2026-03-06"})
    session.expire_all()
    assert {e.day for e in session.get(Calendar, made.id).exceptions} == {date(2026, 3, 9)}
    assert "deleted" in _flash(pages, pages.post(f"/projects/calendars/{made.id}/delete"))
    assert _gone(session, Calendar, made.id)


@pytest.mark.parametrize(("form", "says"), [
    (_week_form(**{"week-2": "8 to 5"}), "Wednesday: write the working hours"),
    (_week_form(**{"week-2": "17:00-08:00"}), "Weekday 3: period 1020-480"),
    (_week_form(**{"week-2": "08:00-12:00, 11:00-13:00"}), "Weekday 3: periods overlap"),
    (_week_form(**{"week-0": "25:00-26:00"}), "Monday"),
    ({**_week_form(), "hours_per_day": "0"}, "Hours per day"),
    ({**_week_form(), "name": " "}, "Please fill in: Name"),
    ({f"week-{n}": "" for n in range(7)}, "needs some working time"),
])
def test_bad_calendar_input_names_the_field_and_writes_nothing(pages, session, admin, plan, form, says):
    pages.log_in_as(admin)
    data = {"name": "Renamed", "hours_per_day": "8", **form}
    message = _flash(pages, pages.post(f"/projects/calendars/{plan['calendar'].id}", data))
    assert says in message
    session.expire_all()
    calendar = session.get(Calendar, plan["calendar"].id)
    assert (calendar.name, calendar.week, calendar.hours_per_day) == ("5x8", WEEK, 8.0)


def test_import_holidays_from_an_ics_file(pages, session, admin, plan):
    pages.log_in_as(admin)
    data = (CALENDARS / "ru-2026-sample.ics").read_bytes()
    message = _flash(pages, pages.post(f"/projects/calendars/{plan['calendar'].id}/import",
                                       {"file": (BytesIO(data), "ru-2026-sample.ics")},
                                       content_type="multipart/form-data"))
    # The file's days, read from its text: every DTSTART;VALUE=DATE up to its DTEND (exclusive) or the day itself.
    text = data.decode().replace("\r\n ", "")
    expected_off = set()
    for event in re.findall(r"BEGIN:VEVENT(.*?)END:VEVENT", text, re.S):
        start = re.search(r"DTSTART;VALUE=DATE:(\d{8})", event)
        if start is None:
            continue
        first = datetime.strptime(start.group(1), "%Y%m%d").date()
        end = re.search(r"DTEND;VALUE=DATE:(\d{8})", event)
        last = datetime.strptime(end.group(1), "%Y%m%d").date() - timedelta(days=1) if end else first
        expected_off |= {first + timedelta(days=n) for n in range((last - first).days + 1)}
    assert f"Imported {len(expected_off)} days off and 1 days with other hours" in message
    session.expire_all()
    stored = {e.day: e.periods for e in session.get(Calendar, plan["calendar"].id).exceptions}
    assert {day for day, periods in stored.items() if not periods} == expected_off
    assert stored[date(2026, 11, 3)] == [[480, 720], [780, 960]]  # 08:00–16:00 with the usual lunch break


def test_import_holidays_from_a_csv_file_and_a_bad_file_writes_nothing(pages, session, admin, plan):
    pages.log_in_as(admin)
    data = (CALENDARS / "ru-2026-sample.csv").read_bytes()
    lines = [line.split(";") for line in data.decode().splitlines()[1:]]
    pages.post(f"/projects/calendars/{plan['calendar'].id}/import", {"file": (BytesIO(data), "days.csv")},
               content_type="multipart/form-data")
    session.expire_all()
    stored = {e.day.isoformat(): e.periods for e in session.get(Calendar, plan["calendar"].id).exceptions}
    expected = {}
    for day, hours in lines:
        iso = day if "-" in day else "-".join(reversed(day.split(".")))
        expected[iso] = hours
    assert set(stored) == set(expected)
    assert all((stored[day] == []) == (hours == "0") for day, hours in expected.items())
    assert sum(e - s for s, e in stored["2026-04-30"]) == 7 * 60
    exceptions = _count(session, CalendarException)
    refused = _flash(pages, pages.post(f"/projects/calendars/{plan['calendar'].id}/import",
                                       {"file": (BytesIO(b"2026-06-01;0\n2026-06-02;30\n"), "days.csv")},
                                       content_type="multipart/form-data"))
    assert "Line 2: hours must be a number from 0 to 24" in refused
    assert _count(session, CalendarException) == exceptions


def test_calendar_rights_and_a_used_calendar_is_refused_translated(pages, session, admin, plan, user_with):
    calendar_id = plan["calendar"].id
    form = {"name": "Taken", "hours_per_day": "8", **_week_form()}
    stranger, viewer, editor = user_with(None), user_with(Role.viewer), user_with(Role.editor)
    pages.log_in_as(stranger)
    assert pages.get(f"/projects/calendars/{calendar_id}").status_code == 404
    assert pages.get(_url(plan, "/calendars")).status_code == 404
    assert pages.post(f"/projects/calendars/{calendar_id}", form).status_code == 404
    pages.log_in_as(viewer)
    page = pages.get(f"/projects/calendars/{calendar_id}").get_data(as_text=True)
    assert "5x8" in page and 'name="week-0"' not in page
    for path in (f"/projects/calendars/{calendar_id}", f"/projects/calendars/{calendar_id}/delete", "/projects/calendars",
                 _url(plan, "/calendars")):
        assert pages.post(path, form).status_code == 403, path
    # An editor of the project changes its calendars, not the global ones.
    pages.log_in_as(editor)
    assert pages.post("/projects/calendars", form).status_code == 403
    assert pages.post(_url(plan, "/calendars"), {**form, "name": "Editor's"}).status_code == 303
    assert _count(session, Calendar) == 2
    editor.locale = "ru"
    session.commit()
    refused = _flash(pages, pages.post(f"/projects/calendars/{calendar_id}/delete"))
    assert "Календарь '5x8' используется работами (0) и проектами (1)" in refused
    session.expire_all()
    assert session.get(Calendar, calendar_id).name == "5x8"


def test_global_calendars_are_listed_for_everyone_and_changed_by_administrators(pages, session, admin, plan,
                                                                               user_with):
    pages.log_in_as(admin)
    response = pages.post("/projects/calendars", {"name": "Company 5x8", "hours_per_day": "8", **_week_form()})
    assert response.status_code == 303
    made = session.scalar(select(Calendar).where(Calendar.name == "Company 5x8"))
    assert made.project_id is None
    pages.log_in_as(user_with(Role.viewer))
    assert "Company 5x8" in pages.get("/projects/calendars").get_data(as_text=True)
    assert "Company 5x8" in pages.get(_url(plan, "/calendars")).get_data(as_text=True)
    assert pages.post(f"/projects/calendars/{made.id}/exceptions", {"day": "2026-05-04"}).status_code == 403
    session.expire_all()
    assert session.get(Calendar, made.id).exceptions == []


# A WBS element's user-defined fields


@pytest.fixture
def element_udfs(session, admin, plan):
    """Two WBS element fields (a cost and an indicator) and an activity field, which the element's form never offers."""
    from wbs import udfs

    made = {"cost": udfs.create_udf_type(session, actor=admin, subject="wbs", name="Contract value", data_type="cost"),
            "health": udfs.create_udf_type(session, actor=admin, subject="wbs", name="Health", data_type="indicator"),
            "weight": udfs.create_udf_type(session, actor=admin, subject="activity", name="Weight",
                                           data_type="number")}
    session.commit()
    return made


def _element_values(session, plan, element) -> dict:
    from wbs import udfs

    session.expire_all()
    return {t.name: udfs.value_of(t, v) for t, v in udfs.udf_values(session, project=plan["project"], subject=element,
                                                                     subject_kind="wbs")}


def test_editor_sets_and_clears_a_wbs_elements_udf_values_on_its_panel(pages, session, plan, element_udfs,
                                                                      user_with):
    from decimal import Decimal

    pages.log_in_as(user_with(Role.editor))
    w1 = plan["W1"]
    body = pages.get(_url(plan, f"?wbs={w1.id}")).get_data(as_text=True)
    form = re.search(r'<form[^>]*data-wbs-udfs="%d".*?</form>' % w1.id, body, re.S).group(0)
    assert f'name="udf-{element_udfs["cost"].id}"' in form and f'name="udf-{element_udfs["health"].id}"' in form
    assert f'name="udf-{element_udfs["weight"].id}"' not in form
    url = _url(plan, f"/wbs/{w1.id}/udfs")
    message = _flash(pages, pages.post(url, {f"udf-{element_udfs['cost'].id}": "1 250 000,50",
                                             f"udf-{element_udfs['health'].id}": "green"}))
    assert "W1" in message
    assert _element_values(session, plan, w1) == {"Contract value": Decimal("1250000.50"), "Health": "green"}
    assert _element_values(session, plan, plan["W2"]) == {}
    body = pages.get(_url(plan, f"?wbs={w1.id}")).get_data(as_text=True)
    assert 'value="1250000.50"' in body
    pages.post(url, {f"udf-{element_udfs['cost'].id}": ""})
    assert _element_values(session, plan, w1) == {"Health": "green"}


@pytest.mark.parametrize("locale, expected", [("en", "needs a finite amount"), ("ru", "конечная сумма")])
def test_a_bad_wbs_udf_value_is_refused_in_the_users_language_and_nothing_is_written(pages, session, plan,
                                                                                   element_udfs, user_with,
                                                                                   locale, expected):
    editor = user_with(Role.editor)
    editor.locale = locale
    session.commit()
    pages.log_in_as(editor)
    w1 = plan["W1"]
    response = pages.post(_url(plan, f"/wbs/{w1.id}/udfs"),
                          {f"udf-{element_udfs['health'].id}": "red", f"udf-{element_udfs['cost'].id}": "lots"},
                          headers={"Referer": f"http://localhost{_url(plan, f'?wbs={w1.id}')}"})
    message = _flash(pages, response)
    assert expected in message and "Contract value" in message
    assert _element_values(session, plan, w1) == {}


@pytest.mark.parametrize("form", ["activity field", "unknown field", "garbage key", "long text"])
def test_a_wbs_udf_form_with_foreign_fields_is_refused_without_a_server_error(pages, session, plan, element_udfs,
                                                                            admin, form):
    pages.log_in_as(admin)
    data = {"activity field": {f"udf-{element_udfs['weight'].id}": "1"},
            "unknown field": {"udf-999999": "1"},
            "garbage key": {"udf-abc": "1"},
            "long text": {f"udf-{element_udfs['health'].id}": "x" * 10000}}[form]
    response = pages.post(_url(plan, f"/wbs/{plan['W1'].id}/udfs"), data)
    assert response.status_code == 303
    assert "flash-error" in pages.get(response.headers["Location"]).get_data(as_text=True)
    assert _element_values(session, plan, plan["W1"]) == {}


def test_a_viewer_sees_a_wbs_elements_udf_values_without_a_form_and_gets_403(pages, session, admin, plan,
                                                                            element_udfs, user_with):
    from wbs import udfs

    udfs.set_udf_values(session, actor=admin, project=plan["project"], subject=plan["W1"], subject_kind="wbs",
                        values={element_udfs["health"].id: "yellow"})
    session.commit()
    pages.log_in_as(user_with(Role.viewer))
    body = pages.get(_url(plan, f"?wbs={plan['W1'].id}")).get_data(as_text=True)
    facts = re.search(r'data-wbs-facts="W1".*?</dl>', body, re.S).group(0)
    assert f'data-udf="{element_udfs["health"].id}"' in facts and "data-wbs-udfs" not in body
    url = _url(plan, f"/wbs/{plan['W1'].id}/udfs")
    assert pages.post(url, {f"udf-{element_udfs['health'].id}": ""}).status_code == 403
    assert pages.post(url, {"udf-abc": ""}).status_code == 403  # refused before the form is read
    pages.log_in_as(user_with(None))
    assert pages.post(url, {f"udf-{element_udfs['health'].id}": ""}).status_code == 404
    pages.log_in_as(admin)
    assert pages.post(url, {f"udf-{element_udfs['health'].id}": ""}, csrf=False).status_code == 400
    assert _element_values(session, plan, plan["W1"]) == {"Health": "yellow"}


def test_another_projects_wbs_element_is_404(pages, session, plan, element_udfs, world, admin, user_with):
    other = services.create_element(session, actor=admin, project=world["PB"], code="X", name="Elsewhere")
    session.commit()
    pages.log_in_as(admin)
    assert pages.post(_url(plan, f"/wbs/{other.id}/udfs"),
                      {f"udf-{element_udfs['health'].id}": "red"}).status_code == 404

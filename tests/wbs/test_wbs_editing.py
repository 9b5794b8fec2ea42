"""WBS moves (indent, outdent, up, down, re-parent) and production calendar files read into calendar exceptions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crmpm.errors import Conflict, Forbidden, Invalid
from eps.models import Role
from tests import factories
from tests.corpus import IN_REPO
from wbs import calendar_files, services
from wbs.models import Calendar, WbsElement

CALENDARS = IN_REPO / "calendars"  # README.md there says where the files come from
WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]


@pytest.fixture
def wbs(session):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="N")
    project = factories.project(session, actor=admin, node=node, code="P")
    made = {}
    for code in ("A", "B", "C"):
        made[code] = services.create_element(session, actor=admin, project=project, code=code, name=code)
    made["B1"] = services.create_element(session, actor=admin, project=project, code="B1", name="B1", parent=made["B"])
    session.commit()
    return admin, node, project, made


def _shape(session, project) -> list[tuple[str, str | None]]:
    """(code, parent code) in tree order."""
    session.expire_all()
    elements = services.list_elements(session, project=project)
    codes = {e.id: e.code for e in elements}
    return [(e.code, codes.get(e.parent_id)) for e in services.tree_order(elements)]


def test_indent_puts_an_element_last_under_its_previous_sibling(session, wbs):
    admin, _node, project, made = wbs
    services.move_element(session, actor=admin, project=project, element=made["C"], how="indent")
    assert _shape(session, project) == [("A", None), ("B", None), ("B1", "B"), ("C", "B")]


def test_outdent_puts_an_element_right_after_its_former_parent(session, wbs):
    admin, _node, project, made = wbs
    services.move_element(session, actor=admin, project=project, element=made["B1"], how="outdent")
    assert _shape(session, project) == [("A", None), ("B", None), ("B1", None), ("C", None)]


def test_up_and_down_swap_with_a_sibling(session, wbs):
    admin, _node, project, made = wbs
    services.move_element(session, actor=admin, project=project, element=made["C"], how="up")
    assert _shape(session, project) == [("A", None), ("C", None), ("B", None), ("B1", "B")]
    services.move_element(session, actor=admin, project=project, element=made["A"], how="down")
    assert _shape(session, project) == [("C", None), ("A", None), ("B", None), ("B1", "B")]


@pytest.mark.parametrize(("code", "how", "says"), [
    ("A", "indent", "no element before it"), ("A", "outdent", "already at the top level"),
    ("A", "up", "already the first"), ("C", "down", "already the last"), ("B1", "down", "already the last"),
])
def test_a_move_with_nowhere_to_go_is_refused_and_changes_nothing(session, wbs, code, how, says):
    admin, _node, project, made = wbs
    before = _shape(session, project)
    with pytest.raises(Conflict, match=says):
        services.move_element(session, actor=admin, project=project, element=made[code], how=how)
    session.rollback()
    assert _shape(session, project) == before


def test_an_unknown_move_and_a_viewer_are_refused(session, wbs):
    admin, node, project, made = wbs
    with pytest.raises(Invalid):
        services.move_element(session, actor=admin, project=project, element=made["B"], how="sideways")
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=node, user=viewer)
    with pytest.raises(Forbidden):
        services.move_element(session, actor=viewer, project=project, element=made["C"], how="indent")


def test_reparenting_puts_the_element_last_among_its_new_siblings_and_never_under_itself(session, wbs):
    admin, _node, project, made = wbs
    services.update_element(session, actor=admin, project=project, element=made["A"], parent=made["B"])
    assert _shape(session, project) == [("B", None), ("B1", "B"), ("A", "B"), ("C", None)]
    with pytest.raises(Conflict, match="inside it"):
        services.update_element(session, actor=admin, project=project, element=made["B"],
                                parent=session.get(WbsElement, made["A"].id))


# Production calendar files


def test_elements_and_their_outline_come_in_tree_order(session, wbs):
    # Each element followed by its whole branch, siblings by their number whatever order they were made in.
    admin, _node, project, made = wbs
    made["A1"] = services.create_element(session, actor=admin, project=project, code="A1", name="A one",
                                         parent=made["A"], seq=20)
    made["A0"] = services.create_element(session, actor=admin, project=project, code="A0", name="A zero",
                                         parent=made["A"], seq=10)
    made["A1x"] = services.create_element(session, actor=admin, project=project, code="A1x", name="Under A1",
                                          parent=made["A1"])
    session.flush()
    expected = ["A", "A0", "A1", "A1x", "B", "B1", "C"]
    assert [e.code for e in services.list_elements(session, project=project)] == expected
    outline = services.element_outline(session, project=project)
    assert [row.code for row in outline] == expected
    assert [(row.id, row.parent_id, row.name) for row in outline] == [
        (e.id, e.parent_id, e.name) for e in services.list_elements(session, project=project)]


def test_ics_file_gives_its_days_off_and_its_shortened_day(session):
    days = calendar_files.read_days((CALENDARS / "ru-2026-sample.ics").read_bytes(), "ru-2026-sample.ics", WEEK)
    # The file, read by eye: 1–8 January (DTEND 9 January is exclusive), six single days, 3 November 08:00–16:00.
    expected_off = {date(2026, 1, 1) + timedelta(days=n) for n in range(8)} | {
        date(2026, 2, 23), date(2026, 3, 9), date(2026, 5, 1), date(2026, 5, 11), date(2026, 6, 12), date(2026, 11, 4)}
    assert {day for day, periods in days.items() if not periods} == expected_off
    assert days[date(2026, 11, 3)] == [[480, 720], [780, 960]]  # the usual day's lunch break stays
    assert len(days) == len(expected_off) + 1


def test_csv_file_gives_days_off_and_a_seven_hour_day(session):
    days = calendar_files.read_days((CALENDARS / "ru-2026-sample.csv").read_bytes(), "ru-2026-sample.csv", WEEK)
    assert days == {date(2026, 1, 1): [], date(2026, 1, 2): [], date(2026, 2, 23): [], date(2026, 5, 1): [],
                    date(2026, 12, 31): [], date(2026, 4, 30): [[480, 720], [780, 960]]}  # 4 h + 3 h


@pytest.mark.parametrize(("data", "name", "says"), [
    (b"2026-01-01,25\n", "x.csv", "hours must be"), (b"date,hours\nnot a date,0\n", "x.csv", "not a date"),
    (b"BEGIN:VCALENDAR\r\nnonsense", "x.ics", "not an iCalendar"), (b"whatever", "x.pdf", "choose an iCalendar"),
    (b"date,hours\n", "x.csv", "no days"),
])
def test_a_bad_file_is_refused_naming_the_problem(data, name, says):
    with pytest.raises(Invalid, match=says):
        calendar_files.read_days(data, name, WEEK)


def test_imported_days_join_a_calendars_exceptions(session, wbs):
    admin, _node, project, _made = wbs
    calendar = services.create_calendar(session, actor=admin, project=project, name="5x8", week=WEEK,
                                        exceptions={date(2026, 1, 1): [[480, 600]], date(2026, 7, 1): []})
    days = calendar_files.read_days((CALENDARS / "ru-2026-sample.csv").read_bytes(), "x.csv", WEEK)
    services.add_calendar_exceptions(session, actor=admin, calendar=calendar, exceptions=days)
    session.commit()
    session.expire_all()
    stored = {e.day: e.periods for e in session.get(Calendar, calendar.id).exceptions}
    assert stored == {**days, date(2026, 7, 1): []}  # 1 January taken from the file, 1 July kept

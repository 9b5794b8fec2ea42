"""XER writing: import -> export -> import keeps the project and its schedule."""

import pytest

from wbs.scheduling import schedule
from wbs.interchange.xer.mapping import load_project
from wbs.interchange.xer.reader import read_xer
from wbs.interchange.xer.writer import project_to_xer, write_xer, write_xer_file
from tests.wbs.xer_fixtures import ALL_XER, GOLDEN, xer_path

ALL = ALL_XER


@pytest.mark.parametrize("name", ALL)
def test_raw_tables_round_trip(name):
    first = read_xer(xer_path(name))
    again = read_xer(write_xer(first).encode("utf-8"))
    assert list(again.tables) == list(first.tables)
    for tname, table in first.tables.items():
        assert again.tables[tname].fields == table.fields
        assert again.tables[tname].rows == table.rows


@pytest.mark.parametrize("name", GOLDEN + ("percent-complete-8.4.xer",))
def test_project_round_trip(tmp_path, name):
    first = load_project(read_xer(xer_path(name)))
    res1 = schedule(first.activities, first.relationships, first.calendars, first.options, first.wbs_parents)
    xer = project_to_xer(
        first.activities, first.relationships, first.calendars, first.options,
        proj_id=first.proj_id, code=first.code, wbs_parents=first.wbs_parents, results=res1,
    )
    path = tmp_path / "out.xer"
    write_xer_file(xer, path)
    second = load_project(read_xer(path))
    assert second.code == first.code
    assert second.activities == first.activities
    assert second.relationships == first.relationships
    assert second.calendars == first.calendars
    assert second.options == first.options
    res2 = schedule(second.activities, second.relationships, second.calendars, second.options, second.wbs_parents)
    assert res2 == res1
    # The results written into TASK read back as P6-style fields.
    for a in first.activities:
        row = second.task_rows[a.id]
        assert row["early_start_date"] == res1[a.id].early_start.strftime("%Y-%m-%d %H:%M")
        assert row["late_end_date"] == res1[a.id].late_finish.strftime("%Y-%m-%d %H:%M")


def test_options_and_activity_fields_round_trip(tmp_path):
    import datetime as dt

    from wbs.scheduling import (
        Activity, ActivityType, Calendar, ConstraintType, CriticalDefinition, FloatType, LagCalendar,
        ProgressMode, Relationship, RelationshipType, ScheduleOptions,
    )

    D = dt.datetime
    cals = {
        "1": Calendar("1", "Std", exceptions={dt.date(2025, 1, 1): (), dt.date(2025, 1, 4): ((540, 660),)}),
        "2": Calendar.twenty_four_hour("2", "Elapsed"),
    }
    acts = [
        Activity("10", "A", "W1", ActivityType.TASK, 16.5, 8.25, "1", ConstraintType.START_ON_OR_AFTER, D(2025, 1, 7, 8),
                 ConstraintType.FINISH_ON_OR_BEFORE, D(2025, 2, 7, 17), D(2025, 1, 2, 8), None, 50.0,
                 D(2025, 1, 9, 17), None, None, D(2025, 1, 8, 8)),
        Activity("11", "B", "W2", ActivityType.FINISH_MILESTONE, 0, 0, "2", external_late_finish=D(2025, 3, 1, 0)),
        Activity("12", "C", "W2", ActivityType.LEVEL_OF_EFFORT, 8, 8, None, ConstraintType.AS_LATE_AS_POSSIBLE),
        Activity("13", "D", None, ActivityType.START_MILESTONE, 0, 0, "1", actual_start=D(2025, 1, 2, 8),
                 actual_finish=D(2025, 1, 2, 8), percent_complete=100.0),
    ]
    rels = [Relationship("10", "11", RelationshipType.SF, -4.5), Relationship("10", "12", RelationshipType.SS, 0),
            Relationship("12", "11", RelationshipType.FF, 2), Relationship("13", "10", RelationshipType.FS, 0)]
    for options in (
        ScheduleOptions(D(2025, 1, 6, 8), D(2024, 12, 1, 8), D(2025, 6, 30, 17), "1", ProgressMode.PROGRESS_OVERRIDE,
                        LagCalendar.TWENTY_FOUR_HOUR, FloatType.SMALLEST, CriticalDefinition.LONGEST_PATH, 8.0,
                        True, False, False),
        ScheduleOptions(D(2025, 1, 6, 8), None, None, "1", ProgressMode.ACTUAL_DATES, LagCalendar.SUCCESSOR,
                        FloatType.START),
    ):
        xer = project_to_xer(acts, rels, cals, options, proj_id="7", code="RT", wbs_parents={"W1": None, "W2": "W1"})
        path = tmp_path / "rt.xer"
        write_xer_file(xer, path)
        back = load_project(read_xer(path))
        assert back.activities == acts
        assert back.relationships == rels
        assert back.calendars == cals
        assert back.options == options
        assert back.wbs_parents == {"W1": None, "W2": "W1"}
        assert schedule(back.activities, back.relationships, back.calendars, back.options, back.wbs_parents) == \
            schedule(acts, rels, cals, options, {"W1": None, "W2": "W1"})


def _periods_strategy():
    from hypothesis import strategies as st

    def build(cuts):
        cuts = sorted(set(cuts))
        return tuple((cuts[k], cuts[k + 1]) for k in range(0, len(cuts) - 1, 2))

    return st.lists(st.integers(0, 48).map(lambda h: h * 30), max_size=6).map(build)


def test_clndr_data_round_trips():
    import datetime as dt

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from wbs.scheduling import Calendar
    from wbs.interchange.xer.calendar_data import parse_calendar_data
    from wbs.interchange.xer.writer import calendar_to_clndr_data

    periods = _periods_strategy()
    days = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2060, 12, 31))

    @settings(max_examples=200, deadline=None)
    @given(week=st.tuples(*[periods] * 7), exceptions=st.dictionaries(days, periods, max_size=8))
    def check(week, exceptions):
        cal = Calendar("9", "Random", week=week, exceptions=exceptions)
        back = parse_calendar_data(calendar_to_clndr_data(cal), "9", "Random")
        assert back.week == cal.week
        assert dict(back.exceptions) == dict(cal.exceptions)

    check()

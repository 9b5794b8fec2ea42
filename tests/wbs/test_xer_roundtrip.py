"""XER writing: import -> export -> import keeps the project and its schedule."""

import pytest

from wbs.scheduling import schedule
from wbs.xer.mapping import load_project
from wbs.xer.reader import read_xer
from wbs.xer.writer import project_to_xer, write_xer, write_xer_file
from xer_fixtures import FIXTURES, GOLDEN

ALL = GOLDEN + ("percent-complete-8.4.xer", "invalid-calendar-8.4.xer", "lagcal-SuccessorCalendar.xer")


@pytest.mark.parametrize("name", ALL)
def test_raw_tables_round_trip(name):
    first = read_xer(FIXTURES / name)
    again = read_xer(write_xer(first).encode("utf-8"))
    assert list(again.tables) == list(first.tables)
    for tname, table in first.tables.items():
        assert again.tables[tname].fields == table.fields
        assert again.tables[tname].rows == table.rows


@pytest.mark.parametrize("name", GOLDEN + ("percent-complete-8.4.xer",))
def test_project_round_trip(tmp_path, name):
    first = load_project(read_xer(FIXTURES / name))
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

"""XER reading: the fixtures, encodings and broken files."""

import pytest

from wbs.interchange.xer.calendar_data import CalendarDataError, parse_calendar_data
from wbs.interchange.xer.mapping import load_project, load_projects
from wbs.interchange.xer.reader import XerError, read_xer
from tests.wbs.xer_fixtures import LAG_CALENDAR_FILES, xer_path
from wbs.scheduling import LagCalendar, schedule

HEADER = "ERMHDR\t20.12\t2021-03-11\tProject\tADMIN\tx\tdb\tPM\tEUR\n"
PROJECT = "%T\tPROJECT\n%F\tproj_id\tproj_short_name\tlast_recalc_date\tclndr_id\n%R\t1\tP1\t2025-01-06 08:00\t1\n"


def write(tmp_path, text, encoding="cp1252"):
    path = tmp_path / "t.xer"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    "body, table, line, words",
    [
        ("%T\tTASK\n%F\ttask_id\tproj_id\ttask_code\n%R\t1\t1\tA\textra\n", "TASK", 4, "more"),
        ("%T\tTASK\n%R\t1\t1\tA\n", "TASK", 3, "%F"),
        ("%R\t1\n", None, 2, "%F"),
        ("%F\ta\n", None, 2, "%T"),
        ("%T\tTASK\n%F\ttask_id\tproj_id\n", "TASK", 3, "task_code"),
        ("%T\tTASK\n%F\ttask_id\tproj_id\ttask_code\tact_start_date\n%R\t1\t1\tA\t2025-13-45 08:00\n", "TASK", 4, "date"),
        ("%T\tTASK\n%F\ttask_id\tproj_id\ttask_code\tremain_drtn_hr_cnt\n%R\t1\t1\tA\tabc\n", "TASK", 4, "number"),
        ("garbage line\n", None, 2, "unexpected"),
    ],
)
def test_broken_files_name_table_and_line(tmp_path, body, table, line, words):
    with pytest.raises(XerError) as err:
        read_xer(write(tmp_path, HEADER + body + "%E\n"))
    assert err.value.table == table
    assert err.value.line == line
    assert words in str(err.value)
    if table:
        assert table in str(err.value) and f"line {line}" in str(err.value)


def test_not_an_xer_file(tmp_path):
    with pytest.raises(XerError):
        read_xer(write(tmp_path, "hello\tworld\n"))
    with pytest.raises(XerError):
        read_xer(write(tmp_path, ""))


def test_short_rows_are_padded_and_optional_tables_may_be_missing(tmp_path):
    xer = read_xer(write(tmp_path, HEADER + PROJECT + "%T\tTASK\n%F\ttask_id\tproj_id\ttask_code\ttask_name\n%R\t1\t1\tA\n%E\n"))
    assert xer.rows("TASK") == [{"task_id": "1", "proj_id": "1", "task_code": "A", "task_name": ""}]
    assert xer.rows("TASKPRED") == []


def test_encodings(tmp_path):
    body = HEADER + PROJECT.replace("P1", "Pr\u00e9vu \u20ac") + "%E\n"
    assert read_xer(write(tmp_path, body, "cp1252")).rows("PROJECT")[0]["proj_short_name"] == "Pr\u00e9vu \u20ac"
    xer = read_xer(write(tmp_path, body, "utf-8"))
    assert xer.encoding == "utf-8"
    assert xer.rows("PROJECT")[0]["proj_short_name"] == "Pr\u00e9vu \u20ac"
    # Bytes undefined in cp1252 still read (as latin-1).
    path = tmp_path / "odd.xer"
    path.write_bytes((HEADER + PROJECT).encode("ascii").replace(b"P1", b"P\x81\xff") + b"%E\n")
    assert read_xer(path).encoding == "latin-1"


def test_calendar_data_with_reversed_attributes_and_whole_days():
    day1 = "(0||1()((0||0(s|00:00|f|00:00)())))"
    day2 = "(0||2()((0||0(f|16:00|s|08:00)())))"
    days = "(0||DaysOfWeek()(" + day1 + day2 + "))"
    exc = "(0||Exceptions()((0||0(d|45658)())(0||1(d|45659)((0||0(s|09:00|f|11:00)())))))"
    cal = parse_calendar_data("(0||CalendarData()(" + days + exc + "))", "7")
    assert cal.week[6] == ((0, 1440),)  # Sunday, whole day
    assert cal.week[0] == ((480, 960),)  # Monday
    assert cal.week[1] == ()
    assert list(cal.exceptions.values()) == [(), ((540, 660),)]


@pytest.mark.parametrize("data", ["(0||CalendarData()(", "(0||CalendarData()((0||DaysOfWeek()((0||9()())))))", "x", "(0||CalendarData()((0||DaysOfWeek()((0||2()((0||0(s|8h|f|12:00)())))))))"])
def test_broken_calendar_data_is_a_clear_error(data):
    with pytest.raises(CalendarDataError) as err:
        parse_calendar_data(data, "180", "Test - Invalid")
    assert "calendar 180 (Test - Invalid)" in str(err.value)


def test_invalid_calendar_file_documented_fallback():
    # Calendar 180's clndr_data is truncated; no activity uses it, so it is
    # dropped with a warning and the project schedules.
    xer = read_xer(xer_path("invalid-calendar-8.4.xer"))
    project = load_project(xer)
    assert "180" not in project.calendars
    assert any("180" in w for w in project.warnings)
    results = schedule(project.activities, project.relationships, project.calendars, project.options)
    assert len(results) == len(project.activities) == 12


def test_invalid_calendar_used_by_an_activity_is_an_error(tmp_path):
    text = (xer_path("invalid-calendar-8.4.xer")).read_bytes().decode("cp1252")
    lines = text.split("\n")
    # Point the project's default calendar at the broken one.
    out = []
    table = None
    for line in lines:
        if line.startswith("%T"):
            table = line.split("\t")[1].strip()
        if table == "PROJECT" and line.startswith("%F"):
            fields = line.rstrip("\r").split("\t")[1:]
        if table == "PROJECT" and line.startswith("%R"):
            values = line.rstrip("\r").split("\t")
            values[1 + fields.index("clndr_id")] = "180"
            line = "\t".join(values)
        out.append(line)
    path = tmp_path / "bad.xer"
    path.write_bytes("\n".join(out).encode("cp1252"))
    with pytest.raises(CalendarDataError) as err:
        load_project(read_xer(path))
    assert "180" in str(err.value) and "CALENDAR" in str(err.value)


@pytest.mark.parametrize("name", LAG_CALENDAR_FILES)
def test_lag_calendar_files_read(name):
    project = load_project(read_xer(xer_path(name)))
    expected = {
        "lagcal-PredecessorCalendar.xer": LagCalendar.PREDECESSOR,
        "lagcal-ProjectDefaultCalendar.xer": LagCalendar.PROJECT_DEFAULT,
        "lagcal-SuccessorCalendar.xer": LagCalendar.SUCCESSOR,
        "lagcal-TwentyFourHourCalendar.xer": LagCalendar.TWENTY_FOUR_HOUR,
    }[name]
    assert project.options.lag_calendar == expected
    assert len(project.activities) == 1
    results = schedule(project.activities, project.relationships, project.calendars, project.options)
    assert results[project.activities[0].id].total_float_hours is None  # complete


def test_percent_complete_file_reads():
    projects = load_projects(read_xer(xer_path("percent-complete-8.4.xer")))
    assert len(projects) == 1 and len(projects[0].activities) == 12
    schedule(projects[0].activities, projects[0].relationships, projects[0].calendars, projects[0].options)


def test_project_selection(tmp_path):
    xer = read_xer(write(tmp_path, HEADER + PROJECT + "%E\n"))
    with pytest.raises(XerError):
        load_project(xer, "nope")
    assert load_project(xer, "P1").code == "P1"


def test_costs_from_resource_assignments(tmp_path):
    body = (
        HEADER + PROJECT
        + "%T\tTASK\n%F\ttask_id\tproj_id\ttask_code\n%R\t5\t1\tA\n"
        + "%T\tRSRC\n%F\trsrc_id\trsrc_short_name\n%R\t9\tCRANE\n"
        + "%T\tTASKRSRC\n%F\ttaskrsrc_id\ttask_id\trsrc_id\ttarget_cost\tact_reg_cost\tact_ot_cost\tremain_cost\n"
        + "%R\t1\t5\t9\t1000\t200\t50\t800\n%R\t2\t5\t\t10\t0\t0\t10\n%E\n"
    )
    project = load_project(read_xer(write(tmp_path, body)))
    assert project.costs == {"5": {"budget": 1010.0, "actual": 250.0, "remaining": 810.0, "resources": ["CRANE"]}}


def test_resource_dependent_activity_uses_its_primary_resource_calendar(tmp_path):
    body = (
        HEADER + PROJECT
        + "%T\tRSRC\n%F\trsrc_id\trsrc_short_name\tclndr_id\n%R\t9\tCRANE\t77\n"
        + "%T\tTASK\n%F\ttask_id\tproj_id\ttask_code\ttask_type\tclndr_id\trsrc_id\n"
        + "%R\t5\t1\tA\tTT_Rsrc\t1\t9\n%R\t6\t1\tB\tTT_Task\t1\t9\n%E\n"
    )
    project = load_project(read_xer(write(tmp_path, body)))
    assert [a.calendar_id for a in project.activities] == ["77", "1"]


TASK_FIELDS = "%T\tTASK\n%F\ttask_id\tproj_id\ttask_code\tact_start_date\tremain_drtn_hr_cnt\n"


@pytest.mark.parametrize(
    "rows, line, words",
    [
        # Line 2 is %T, 3 is %F: the first row is line 4. The first bad value in file order is reported,
        # row by row, a row's dates before its numbers, and before a later row's extra values.
        ("%R\t1\t1\tA\t2025-01-06 08:00\t8\n%R\t2\t1\tB\t2025-01-06 08:00\tx8\n%R\t3\t1\tC\t2025-02-30 08:00\t8\n",
         5, "activity B: bad number 'x8' in column remain_drtn_hr_cnt"),
        ("%R\t1\t1\tA\t2025-01-06 08:00\t8\n%R\t2\t1\tB\tsoon\tnever\n",
         5, "activity B: bad date 'soon' in column act_start_date"),
        ("%R\t1\t1\tA\t\t8\n%R\t2\t1\tB\tsoon\t8\n%R\t3\t1\tC\t\t8\textra\n",
         5, "bad date 'soon'"),
        ("%R\t1\t1\tA\t\t8\n\n%R\t2\t1\tB\t\t8\n%R\t3\t1\tC\t\t8\t\t\n%R\t4\t1\tD\t\t8\textra\n",
         8, "more values (6) than %F lists fields (5)"),
    ],
)
def test_the_first_bad_value_in_the_file_is_reported(tmp_path, rows, line, words):
    with pytest.raises(XerError) as err:
        read_xer(write(tmp_path, HEADER + TASK_FIELDS + rows + "%E\n"))
    assert err.value.line == line and err.value.table == "TASK"
    assert words in str(err.value)


def test_rows_keep_their_line_numbers_and_values_across_blank_lines_and_crlf(tmp_path):
    text = (HEADER + TASK_FIELDS + "%R\t1\t1\tA\t\t8\r\n\r\n%R\t2\t1\tB\t2025-01-06 08:00\t8\t\r\n"
            "%R\t3\t1\tC\r\n%R\t4\t1\tD\t\t1\r\r\n%E\r\n%R\t5\t1\tE\t\t8\n").replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    table = read_xer(write(tmp_path, text)).table("TASK")
    assert table.lines == [4, 6, 7, 8]
    assert [r["task_code"] for r in table.rows] == ["A", "B", "C", "D"]
    assert table.rows[1]["act_start_date"] == "2025-01-06 08:00" and table.rows[1]["remain_drtn_hr_cnt"] == "8"
    assert table.rows[2]["remain_drtn_hr_cnt"] == ""
    assert table.rows[3]["remain_drtn_hr_cnt"] == "1\r"  # only the \r of the line's end goes


def test_activities_are_the_same_whatever_optional_task_columns_the_file_has(tmp_path):
    few = ("%T\tTASK\n%F\ttask_code\tproj_id\ttask_id\ttarget_drtn_hr_cnt\tcstr_type\tcstr_date\n"
           "%R\tA\t1\t5\t16\tCS_MSO\t2025-01-08 08:00\n%R\tB\t1\t6\t8\t\t\n")
    many = ("%T\tTASK\n%F\ttask_id\tproj_id\ttask_code\ttask_type\tstatus_code\ttarget_drtn_hr_cnt\t"
            "remain_drtn_hr_cnt\tphys_complete_pct\tcstr_type\tcstr_date\tresume_date\twbs_id\n"
            "%R\t5\t1\tA\t\tTK_NotStart\t16\t\t\tCS_MSO\t2025-01-08 08:00\t\t\n"
            "%R\t6\t1\tB\tTT_Task\t\t8\t8\t0\t\t\t\t\n")
    first = load_project(read_xer(write(tmp_path, HEADER + PROJECT + few + "%E\n"))).activities
    second = load_project(read_xer(write(tmp_path, HEADER + PROJECT + many + "%E\n"))).activities
    assert first == second
    a, b = first
    assert (a.id, a.code, a.original_duration_hours, a.remaining_duration_hours) == ("5", "A", 16.0, 16.0)
    assert a.constraint_date is not None and a.constraint_date.day == 8 and b.constraint is None
    assert (b.percent_complete, b.wbs_id, b.calendar_id, b.resume_date) == (0.0, None, None, None)


def test_a_bad_value_left_unchecked_by_the_reader_is_named_when_mapped(tmp_path):
    body = HEADER + PROJECT + TASK_FIELDS + "%R\t1\t1\tA\t\t8\n%R\t2\t1\tB\t\tx8\n%E\n"
    with pytest.raises(XerError) as err:
        load_project(read_xer(write(tmp_path, body), validate=False))
    assert (err.value.table, err.value.line) == ("TASK", 8)
    assert "bad number 'x8' in column remain_drtn_hr_cnt" in str(err.value)


def test_a_row_built_without_some_columns_maps_as_with_them_empty(tmp_path):
    xer = read_xer(write(tmp_path, HEADER + PROJECT + TASK_FIELDS + "%R\t1\t1\tA\t\t8\n%E\n"))
    del xer.tables["TASK"].rows[0]["remain_drtn_hr_cnt"]
    (activity,) = load_project(xer).activities
    assert (activity.code, activity.remaining_duration_hours) == ("A", 0.0)

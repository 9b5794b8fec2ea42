"""The ``xer schedule`` command."""

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from wbs.interchange.cli import xer
from wbs.interchange.xer.reader import read_xer
from wbs.interchange.xer.schedule import ScheduledProject, as_dict, json_text, schedule_file
from wbs.scheduling.model import ActivityResult
from tests.wbs.xer_fixtures import IN_REPO_XER, xer_path


def test_json_contract_matches_p6_fields():
    path = xer_path("updates-UP-54069-20251204.xer")
    result = CliRunner().invoke(xer, ["schedule", str(path)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"project", "data_date", "activities"}
    assert out["project"] == "UP-54069-20251204"
    assert out["data_date"] == "2025-12-04T17:00"
    keys = {"code", "early_start", "early_finish", "late_start", "late_finish", "total_float_hours", "free_float_hours", "critical"}
    rows = {r["task_code"]: r for r in read_xer(path).rows("TASK")}
    assert len(out["activities"]) == len(rows)
    for a in out["activities"]:
        assert set(a) == keys
        row = rows[a["code"]]
        if row["status_code"] == "TK_Complete":
            assert a["total_float_hours"] is None
            assert a["early_start"] == a["early_finish"] == "2025-12-04T17:00"
            continue
        assert a["early_start"] == row["early_start_date"].replace(" ", "T")
        assert a["late_finish"] == row["late_end_date"].replace(" ", "T")
        assert abs(a["total_float_hours"] - float(row["total_float_hr_cnt"])) < 0.01


def test_table_format():
    result = CliRunner().invoke(xer, ["schedule", str(xer_path("sample-52.xer")), "--format", "table"])
    assert result.exit_code == 0
    assert "Task SE" in result.output and "A1010" in result.output


def test_project_option(tmp_path):
    path = xer_path("sample-52.xer")
    ok = CliRunner().invoke(xer, ["schedule", str(path), "--project", "Task SE"])
    assert ok.exit_code == 0 and json.loads(ok.output)["project"] == "Task SE"
    bad = CliRunner().invoke(xer, ["schedule", str(path), "--project", "nope"])
    assert bad.exit_code == 2


def test_bad_files_give_one_line_and_status_2(tmp_path):
    broken = tmp_path / "broken.xer"
    broken.write_text("ERMHDR\t20.12\n%T\tTASK\n%R\t1\n")
    loop = tmp_path / "loop.xer"
    loop.write_text(
        "ERMHDR\t20.12\n%T\tPROJECT\n%F\tproj_id\tproj_short_name\tlast_recalc_date\tclndr_id\n%R\t1\tP\t2025-01-06 08:00\t1\n"
        "%T\tCALENDAR\n%F\tclndr_id\tclndr_name\tclndr_data\n%R\t1\tStd\t(0||CalendarData()((0||DaysOfWeek()((0||2()((0||0(s|08:00|f|16:00)())))))))\n"
        "%T\tTASK\n%F\ttask_id\tproj_id\ttask_code\ttarget_drtn_hr_cnt\tremain_drtn_hr_cnt\tstatus_code\n"
        "%R\t1\t1\tA\t8\t8\tTK_NotStart\n%R\t2\t1\tB\t8\t8\tTK_NotStart\n"
        "%T\tTASKPRED\n%F\ttask_id\tpred_task_id\tpred_type\tlag_hr_cnt\n%R\t2\t1\tPR_FS\t0\n%R\t1\t2\tPR_FS\t0\n%E\n"
    )
    garbage = tmp_path / "garbage.xer"
    garbage.write_bytes(bytes(range(256)) * 4)
    empty = tmp_path / "empty.xer"
    empty.write_bytes(b"")
    cases = (
        (broken, "line 3"),
        (loop, "loop"),
        (tmp_path / "missing.xer", "missing.xer"),
        (tmp_path, "directory"),
        (garbage, "ERMHDR"),
        (empty, "empty"),
    )
    for path, words in cases:
        result = CliRunner().invoke(xer, ["schedule", str(path)])
        assert result.exit_code == 2
        assert result.exception is None or isinstance(result.exception, SystemExit)
        err = result.stderr if hasattr(result, "stderr") else result.output
        assert words in err
        assert len(err.strip().splitlines()) == 1
        assert "Traceback" not in err


def test_several_projects_give_a_list_unless_one_is_chosen(tmp_path):
    from wbs.interchange.xer.mapping import load_project
    from wbs.interchange.xer.writer import project_to_xer, write_xer_file

    first = load_project(read_xer(xer_path("sample-52.xer")))
    second = load_project(read_xer(xer_path("updates-UP-54069-20251204.xer")))
    a = project_to_xer(first.activities, first.relationships, first.calendars, first.options, proj_id="1", code="ONE")
    b = project_to_xer(second.activities, second.relationships, second.calendars, second.options, proj_id="2", code="TWO")
    for name, table in b.tables.items():
        a.tables[name].rows.extend(table.rows)
    path = tmp_path / "two.xer"
    write_xer_file(a, path)
    both = CliRunner().invoke(xer, ["schedule", str(path)])
    assert both.exit_code == 0, both.output
    out = json.loads(both.output)
    assert [p["project"] for p in out] == ["ONE", "TWO"]
    assert len(out[0]["activities"]) == 52 and len(out[1]["activities"]) == 49
    one = CliRunner().invoke(xer, ["schedule", str(path), "--project", "TWO"])
    assert json.loads(one.output)["project"] == "TWO"


def test_a_calendar_missing_from_the_file_is_a_warning_not_a_refusal():
    """three-projects-134: two activities of NRG00800 name calendar 6501, absent from the file (P6 scheduled them)."""
    path = xer_path("three-projects-134.xer")
    result = CliRunner().invoke(xer, ["schedule", str(path)])
    assert result.exit_code == 0, result.output
    projects = json.loads(result.stdout)
    assert [p["project"] for p in projects] == ["NRG00870", "NRG00800", "NRG00820"]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:") and "NRG00800" in line]
    assert len(warnings) == 1
    assert "project NRG00800: calendar 6501 is not in the file" in warnings[0]
    assert "FO60026" in warnings[0] and "FO69.4SYNC" in warnings[0]


def test_a_calendar_without_a_work_week_is_a_warning():
    """three-projects-134: calendars 6504, 6505 and 6506 of NRG00820 have empty clndr_data, ``(0||()())``;
    their activities are scheduled on the standard week, and the output says so (P6's stored dates came
    from work weeks the file does not hold: see test_sched_golden.py)."""
    result = CliRunner().invoke(xer, ["schedule", str(xer_path("three-projects-134.xer")), "--project", "NRG00820"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert [w.split(": calendar ")[1].split(" ")[0] for w in warnings] == ["6504", "6505", "6506"]
    assert all("has no work week in the file" in w and "standard week" in w for w in warnings)
    assert "calendar 6505 (2S,7-19)" in warnings[1]

# The JSON output is written by a template per activity (wbs.interchange.xer.schedule.json_text); it must be
# exactly what the json module makes of the same schedule's dicts.

@pytest.mark.parametrize("name", IN_REPO_XER)
def test_json_output_is_the_json_modules_rendering_byte_for_byte(name):
    path = xer_path(name)
    result = CliRunner().invoke(xer, ["schedule", str(path)])
    assert result.exit_code == 0, result.output
    projects = schedule_file(str(path))
    assert result.stdout == json.dumps(projects[0] if len(projects) == 1 else projects, indent=2) + "\n"


def _result(es, tf=None, ff=None, critical=False):
    return ActivityResult(es, es, es, es, None, None, None, None, tf, ff, critical, False)


def test_json_text_matches_json_dumps_on_awkward_values():
    day = dt.datetime(2025, 3, 3, 8, 0)
    activities = [SimpleNamespace(id=str(i), code=code) for i, code in
                  enumerate(["A1", "Сварка-1", 'quote"back\\slash', "tab\tnew\nline", "€ café", ""])]
    values = [(0.0, -0.0), (-1e-05, 1 / 3), (29097.0, 1e16), (None, None), (12.34565, -8.0), (float("inf"), 2.5)]
    results = {a.id: _result(day + dt.timedelta(minutes=7 * i), tf, ff, critical=i % 2 == 1)
               for i, (a, (tf, ff)) in enumerate(zip(activities, values))}
    one = ScheduledProject("Проект «1»", day, activities, results)
    empty = ScheduledProject("EMPTY", day, [], {})
    for projects in ([one], [empty], [one, empty, one]):
        payload = [as_dict(p) for p in projects]
        assert json_text(projects) == json.dumps(payload[0] if len(payload) == 1 else payload, indent=2)


def test_the_console_command_ending_at_once_keeps_its_whole_output_and_warnings(tmp_path):
    """As a process (``python -m crmpm``), the command ends without freeing what it built
    (crmpm.cli.end_process_now): its output must still be whole, its warnings written, its status 0,
    and a pipe read to the end. The file names a calendar it lacks, so there is a warning to flush."""
    import subprocess
    import sys
    from pathlib import Path

    text = xer_path(IN_REPO_XER[0]).read_text(encoding="utf-8", errors="replace")
    head, _, rest = text.partition("%T\tTASK\n")
    fields, _, rows = rest.partition("\n")
    at = fields.split("\t").index("clndr_id")
    first, _, others = rows.partition("\n")
    values = first.split("\t")
    values[at] = "999999"
    path = tmp_path / "missing-calendar.xer"
    path.write_text(head + "%T\tTASK\n" + fields + "\n" + "\t".join(values) + "\n" + others, encoding="utf-8")
    expected = CliRunner().invoke(xer, ["schedule", str(path)])
    assert expected.exit_code == 0, expected.output
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-m", "crmpm", "xer", "schedule", str(path)], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected.stdout
    assert "calendar 999999 is not in the file" in done.stderr
    assert done.stderr == expected.stderr

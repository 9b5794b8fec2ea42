"""Golden tests: our schedule against P6's own results in real XER files.

For every activity P6 did not mark complete, the early/late start/finish
stored in TASK must match to the minute and total float to 0.01 h (the rule
of :mod:`wbs.interchange.xer.fidelity`).  Free
float is compared too, in its own test, so a free-float difference is
reported without hiding the date results.
"""

import pytest

from wbs.scheduling import schedule
from wbs.interchange.xer.mapping import load_project, project_ids
from wbs.interchange.xer import fidelity
from wbs.interchange.xer.reader import read_xer
from tests.wbs.xer_fixtures import GOLDEN, MORE_REAL, NOT_FROM_OWN_DATA, PROJECTS_NOT_FROM_OWN_DATA, xer_path

def _scheduled(name):
    project = load_project(read_xer(xer_path(name)))
    results = schedule(project.activities, project.relationships, project.calendars, project.options, project.wbs_parents)
    compared = [a for a in project.activities if fidelity.is_compared(project.task_rows[a.id])]
    return project, results, compared


def _hours(value):
    return float(value) if value not in ("", None) else 0.0


@pytest.mark.parametrize("name", GOLDEN)
def test_dates_and_total_float_match_p6(name):
    project, results, compared = _scheduled(name)
    assert compared, "nothing to compare"
    found = [str(m) for a in compared for m in fidelity.mismatches(project.task_rows[a.id], **_dates(results[a.id]))]
    assert not found, f"{name}: {len(found)} mismatch(es) over {len(compared)} activities:\n" + "\n".join(found)


def _dates(result):
    return {field: getattr(result, field) for field in fidelity.FIELDS}


@pytest.mark.parametrize("name", GOLDEN)
def test_free_float_matches_p6(name):
    project, results, compared = _scheduled(name)
    mismatches = []
    for a in compared:
        row, ours = project.task_rows[a.id], results[a.id]
        if row["free_float_hr_cnt"] == "":
            continue
        if abs(ours.free_float_hours - _hours(row["free_float_hr_cnt"])) > 0.01:
            mismatches.append(f"{a.code} free_float_hours: ours {ours.free_float_hours:.2f}, P6 {row['free_float_hr_cnt']}")
    assert not mismatches, f"{name}: {len(mismatches)} mismatch(es) over {len(compared)} activities:\n" + "\n".join(mismatches)


REMAINING_FIELDS = (
    ("remaining_early_start", "restart_date"),
    ("remaining_early_finish", "reend_date"),
    ("remaining_late_start", "rem_late_start_date"),
    ("remaining_late_finish", "rem_late_end_date"),
)


@pytest.mark.parametrize("name", GOLDEN)
def test_remaining_dates_and_longest_path_match_p6(name):
    project, results, compared = _scheduled(name)
    mismatches = []
    for a in compared:
        row, ours = project.task_rows[a.id], results[a.id]
        for field, column in REMAINING_FIELDS:
            mine = getattr(ours, field)
            mine = mine.strftime("%Y-%m-%d %H:%M") if mine is not None else ""
            if mine != row[column]:
                mismatches.append(f"{a.code} {field}: ours {mine}, P6 {row[column]}")
        if "driving_path_flag" in row and ours.longest_path != (row["driving_path_flag"] == "Y"):
            mismatches.append(f"{a.code} longest_path: ours {ours.longest_path}, P6 {row['driving_path_flag']}")
    assert not mismatches, f"{name}: {len(mismatches)} mismatch(es):\n" + "\n".join(mismatches)


# Real files whose options or data the files above do not exercise (xer_fixtures.MORE_REAL): one case per
# file, every project in it.  Where a file's stored dates cannot come from its own data the reason is
# given beside the list of those files (xer_fixtures.NOT_FROM_OWN_DATA) and the file (or only that
# project) is left out, never tuned to.


@pytest.mark.parametrize("name", MORE_REAL)
def test_real_file_dates_and_total_float_match_p6(name):
    if name in NOT_FROM_OWN_DATA:
        pytest.skip(f"{name}: stored dates cannot come from its own data: {NOT_FROM_OWN_DATA[name]}")
    data = read_xer(xer_path(name))
    found, compared = [], 0
    for pid, code in project_ids(data):
        if (name, code) in PROJECTS_NOT_FROM_OWN_DATA:
            continue
        project = load_project(data, pid)
        results = schedule(project.activities, project.relationships, project.calendars, project.options,
                           project.wbs_parents)
        for a in project.activities:
            row = project.task_rows[a.id]
            if fidelity.is_compared(row):
                compared += 1
                found.extend(f"{code} {m}" for m in fidelity.mismatches(row, **_dates(results[a.id])))
    assert compared, "nothing to compare"
    assert not found, f"{name}: {len(found)} mismatch(es) over {compared} activities:\n" + "\n".join(found)

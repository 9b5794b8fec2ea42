"""Real P6 files into the database: every project of every XER fixture imports, on both backends, and is
stored as the file-level scheduler (``crmpm xer schedule``) computes it, which is P6's own schedule for the
golden files; P6's links of two types between one pair come in; a calendar missing from the file falls
back to the project's default with a warning naming the activities; errors name activity codes."""

from __future__ import annotations


import pytest
from sqlalchemy import select

from crmpm.errors import Conflict, Invalid
from tests import factories
from tests.wbs.xer_fixtures import ALL_XER, GOLDEN, xer_path
from wbs import interchange, services
from wbs.models import Activity, Relationship
from wbs.scheduling import schedule
from wbs.interchange.xer.mapping import load_project, project_ids
from wbs.interchange.xer.reader import read_xer

DATES = (("early_start", "early_start_date"), ("early_finish", "early_end_date"),
         ("late_start", "late_start_date"), ("late_finish", "late_end_date"))
MINUTE = "%Y-%m-%d %H:%M"


@pytest.fixture
def place(session):
    admin = factories.admin(session)
    return admin, factories.node(session, actor=admin, code="REAL")


def _minute(value):
    return value.strftime(MINUTE) if value is not None else None


def _stored(session, project):
    return {a.code: a for a in session.scalars(select(Activity).where(Activity.project_id == project.id))}


@pytest.mark.parametrize("name", ALL_XER)
def test_every_project_of_every_real_file_imports_as_the_file_scheduler_computes_it(session, place, name):
    admin, node = place
    path = xer_path(name)
    data, xer = path.read_bytes(), read_xer(path)
    for number, (proj_id, code) in enumerate(project_ids(xer)):
        loaded = load_project(xer, proj_id)
        expected = schedule(loaded.activities, loaded.relationships, loaded.calendars, loaded.options,
                            loaded.wbs_parents)
        warnings: list[str] = []
        project = interchange.import_xer(session, actor=admin, data=data, eps_node=node, proj=proj_id,
                                         code=f"R{number}-{code}"[:40], warnings=warnings)
        # What the scheduler's reading warns of, then what the codes and UDFs left out (tests/.../test_xer_codes.py).
        assert warnings[:len(loaded.warnings)] == loaded.warnings
        assert all(w.startswith(("ACTVCODE", "TASKACTV", "UDFTYPE", "UDFVALUE", "activity code type"))
                   for w in warnings[len(loaded.warnings):])
        stored = _stored(session, project)
        assert sorted(stored) == sorted(a.code for a in loaded.activities)
        links = session.scalars(select(Relationship).join(Activity, Activity.id == Relationship.successor_id)
                                .where(Activity.project_id == project.id)).all()
        assert len(links) == len(loaded.relationships)
        mismatches = []
        for activity in loaded.activities:
            ours, theirs = stored[activity.code], expected[activity.id]
            for field, _column in DATES:
                if _minute(getattr(ours, field)) != _minute(getattr(theirs, field)):
                    mismatches.append(f"{activity.code} {field}: stored {getattr(ours, field)}, "
                                      f"file scheduler {getattr(theirs, field)}")
        assert not mismatches, f"{name} {code}:\n" + "\n".join(mismatches[:20])


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_files_stored_in_the_database_carry_p6s_dates(session, place, name):
    admin, node = place
    path = xer_path(name)
    project = interchange.import_xer(session, actor=admin, data=path.read_bytes(), eps_node=node)
    stored = _stored(session, project)
    compared, mismatches = 0, []
    for row in read_xer(path).rows("TASK"):
        if row["status_code"] == "TK_Complete":
            continue
        compared += 1
        activity = stored[row["task_code"]]
        for field, column in DATES:
            if _minute(getattr(activity, field)) != row[column]:
                mismatches.append(f"{activity.code} {field}: stored {getattr(activity, field)}, P6 {row[column]}")
        if abs(activity.total_float_hours - float(row["total_float_hr_cnt"] or 0)) > 0.01:
            mismatches.append(f"{activity.code} total float {activity.total_float_hours}, "
                              f"P6 {row['total_float_hr_cnt']}")
    assert compared > 0
    assert not mismatches, "\n".join(mismatches)


def _task_codes(xer) -> dict[str, str]:
    return {row["task_id"]: row["task_code"] for row in xer.rows("TASK")}


def test_links_of_two_types_between_one_pair_are_imported(session, place):
    """The baseline file links 258620253 → 258620254 by FS and by FF (P6 allows one link per type)."""
    admin, node = place
    path = xer_path("updates-BL-54069-B2-20250902.xer")
    xer = read_xer(path)
    codes = _task_codes(xer)
    pairs: dict[tuple[str, str], set[str]] = {}
    for row in xer.rows("TASKPRED"):
        pairs.setdefault((codes[row["pred_task_id"]], codes[row["task_id"]]), set()).add(row["pred_type"][3:])
    doubled = {pair: kinds for pair, kinds in pairs.items() if len(kinds) > 1}
    assert doubled, "the file has no pair linked twice"
    project = interchange.import_xer(session, actor=admin, data=path.read_bytes(), eps_node=node)
    by_code = {code: a.id for code, a in _stored(session, project).items()}
    for (predecessor, successor), kinds in doubled.items():
        stored = set(session.scalars(select(Relationship.type).where(
            Relationship.predecessor_id == by_code[predecessor], Relationship.successor_id == by_code[successor])))
        assert stored == kinds


def _with_duplicated_link(data: bytes) -> tuple[bytes, dict[str, str], dict[str, str]]:
    """The file with its first TASKPRED row repeated (the same pair, the same type) under a new id."""
    lines = data.decode("cp1252").split("\r\n" if b"\r\n" in data else "\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("%T\tTASKPRED"))
    fields = lines[start + 1].split("\t")[1:]
    first = lines[start + 2]
    values = first.split("\t")
    values[1 + fields.index("task_pred_id")] = "987654321"
    lines.insert(start + 3, "\t".join(values))
    row = dict(zip(fields, first.split("\t")[1:]))
    newline = "\r\n" if b"\r\n" in data else "\n"
    return newline.join(lines).encode("cp1252"), row, _task_codes(read_xer(data))


def test_the_same_link_twice_is_refused_naming_activity_codes(session, place):
    admin, node = place
    data, row, codes = _with_duplicated_link(xer_path("alap-harbour-131.xer").read_bytes())
    with pytest.raises(Invalid) as caught:
        interchange.import_xer(session, actor=admin, data=data, eps_node=node)
    message = caught.value.message
    assert f"{codes[row['pred_task_id']]} → {codes[row['task_id']]}" in message
    assert row["pred_task_id"] not in message and row["task_id"] not in message
    assert row["pred_type"][3:] in message


def _set_field(data: bytes, table: str, index: int, field: str, value: str) -> bytes:
    """The file with ``field`` of the ``index``-th row of ``table`` set to ``value``."""
    newline = "\r\n" if b"\r\n" in data else "\n"
    lines = data.decode("cp1252").split(newline)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"%T\t{table}")
    fields = lines[start + 1].split("\t")[1:]
    values = lines[start + 2 + index].split("\t")
    values[1 + fields.index(field)] = value
    lines[start + 2 + index] = "\t".join(values)
    return newline.join(lines).encode("cp1252")


def with_missing_calendar(data: bytes) -> tuple[bytes, str]:
    """The file with its first activity naming calendar 99999, absent from the file; and that activity's code."""
    return _set_field(data, "TASK", 0, "clndr_id", "99999"), read_xer(data).rows("TASK")[0]["task_code"]


def test_a_calendar_missing_from_the_file_falls_back_to_the_project_default_with_a_warning(session, place):
    """three-projects-134: activities of NRG00800 name calendar 6501, which the file lacks; P6 scheduled them."""
    admin, node = place
    path = xer_path("three-projects-134.xer")
    xer = read_xer(path)
    missing = [row["task_code"] for row in xer.rows("TASK") if row["clndr_id"] == "6501"]
    assert missing and "6501" not in {row["clndr_id"] for row in xer.rows("CALENDAR")}
    warnings: list[str] = []
    project = interchange.import_xer(session, actor=admin, data=path.read_bytes(), eps_node=node,
                                     proj="NRG00800", warnings=warnings)
    assert len(warnings) == 1 and "6501" in warnings[0]
    assert all(code in warnings[0] for code in missing)
    default = services.get_plan(session, project=project).default_calendar_id
    stored = _stored(session, project)
    assert {stored[code].calendar_id for code in missing} == {default}


def test_a_file_whose_default_calendar_is_missing_too_is_refused_naming_activities(session, place):
    admin, node = place
    data, code = with_missing_calendar(xer_path("alap-harbour-131.xer").read_bytes())
    data = _set_field(data, "PROJECT", 0, "clndr_id", "88888")
    with pytest.raises(Invalid) as caught:
        interchange.import_xer(session, actor=admin, data=data, eps_node=node)
    assert code in caught.value.message and "default calendar" in caught.value.message


def test_two_links_of_different_types_between_one_pair_and_never_the_same_type_twice(session, place):
    admin, node = place
    project = factories.project(session, actor=admin, node=node, code="PAIR")
    first = services.create_activity(session, actor=admin, project=project, code="A1", name="First",
                                     original_duration_hours=8.0)
    second = services.create_activity(session, actor=admin, project=project, code="A2", name="Second",
                                      original_duration_hours=8.0)
    fs = services.create_relationship(session, actor=admin, project=project, predecessor=first, successor=second)
    ff = services.create_relationship(session, actor=admin, project=project, predecessor=first, successor=second,
                                      type="FF")
    assert {fs.type, ff.type} == {"FS", "FF"}
    with pytest.raises(Conflict) as again:
        services.create_relationship(session, actor=admin, project=project, predecessor=first, successor=second,
                                     type="FF")
    assert again.value.message == "A1 → A2 is already linked FF"
    with pytest.raises(Conflict):
        services.update_relationship(session, actor=admin, project=project, relationship=fs, type="FF")
    services.update_relationship(session, actor=admin, project=project, relationship=fs, type="SS")
    assert fs.type == "SS"


def test_bad_values_name_the_activity_by_code_never_by_id(session, place):
    admin, node = place
    data = xer_path("alap-harbour-131.xer").read_bytes()
    xer = read_xer(data)
    task, link = xer.rows("TASK")[0], xer.rows("TASKPRED")[0]
    codes = _task_codes(xer)
    with pytest.raises(Invalid) as bad_date:
        interchange.import_xer(session, actor=admin, data=_set_field(data, "TASK", 0, "early_start_date", "soon"),
                               eps_node=node)
    assert f"activity {task['task_code']}: bad date 'soon'" in bad_date.value.message
    assert task["task_id"] not in bad_date.value.message
    with pytest.raises(Invalid) as bad_lag:
        interchange.import_xer(session, actor=admin, data=_set_field(data, "TASKPRED", 0, "lag_hr_cnt", "long"),
                               eps_node=node)
    assert f"link {codes[link['pred_task_id']]} → {codes[link['task_id']]}: bad number 'long'" in bad_lag.value.message
    assert link["pred_task_id"] not in bad_lag.value.message and link["task_id"] not in bad_lag.value.message

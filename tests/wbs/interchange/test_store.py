"""XER files through the database: import reproduces P6's dates, export reads back the same project."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crmpm.errors import Invalid
from eps.models import Project
from tests import factories
from wbs import interchange, services
from wbs.models import Activity, Calendar, Relationship, WbsElement
from wbs.interchange.xer import fidelity
from wbs.interchange.xer.reader import read_xer
from tests.wbs.xer_fixtures import GOLDEN, xer_path

IN_REPO_FILE = "alap-harbour-131.xer"  # a real P6 file in tests/fixtures, for tests that need any real file


@pytest.fixture
def place(session):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="IMPORTS")
    return admin, node


def _p6_rows(name):
    xer = read_xer(xer_path(name))
    return {row["task_code"]: row for row in xer.rows("TASK")}


def assert_scheduled_as_p6(session, project, name):
    """Every activity of ``project`` not complete in P6 has P6's own dates and total float from file ``name``."""
    rows = _p6_rows(name)
    activities = session.scalars(select(Activity).where(Activity.project_id == project.id)).all()
    assert len(activities) == len(rows)
    compared = [activity for activity in activities if fidelity.is_compared(rows[activity.code])]
    assert compared
    found = [str(m) for activity in compared for m in fidelity.mismatches(
        rows[activity.code], **{field: getattr(activity, field) for field in fidelity.FIELDS})]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("name", [GOLDEN[0], GOLDEN[-1]])
def test_imported_project_is_scheduled_as_p6_did(session, place, name):
    admin, node = place
    project = interchange.import_xer(session, actor=admin, data=(xer_path(name)).read_bytes(), eps_node=node)
    assert_scheduled_as_p6(session, project, name)


def _snapshot(session, project):
    activities = session.scalars(select(Activity).where(Activity.project_id == project.id).order_by(Activity.code)).all()
    codes = {a.id: a.code for a in activities}
    links = session.scalars(select(Relationship).where(Relationship.successor_id.in_(codes))).all()
    elements = session.scalars(select(WbsElement).where(WbsElement.project_id == project.id)).all()
    element_codes = {e.id: e.code for e in elements}
    calendars = {c.id: c for c in session.scalars(select(Calendar).where(Calendar.project_id == project.id))}
    plan = services.get_plan(session, project=project)
    return {
        "plan": (plan.data_date, plan.planned_start, plan.must_finish_by, plan.progress_mode, plan.lag_calendar,
                 plan.float_type, plan.critical_definition, plan.early_finish),
        "activities": [(a.code, a.name, a.type, element_codes.get(a.wbs_element_id), a.original_duration_hours,
                        a.remaining_duration_hours, a.constraint_type, a.constraint_date, a.actual_start,
                        a.actual_finish, a.budgeted_cost, a.actual_cost,
                        (calendars[a.calendar_id].week, {e.day: e.periods for e in calendars[a.calendar_id].exceptions})
                        if a.calendar_id else None,
                        a.early_start, a.early_finish, a.late_start, a.late_finish, a.total_float_hours,
                        a.free_float_hours, a.critical) for a in activities],
        "relationships": sorted((codes[r.predecessor_id], codes[r.successor_id], r.type, r.lag_hours) for r in links),
        "wbs": sorted((e.code, e.name, element_codes.get(e.parent_id)) for e in elements),
    }


# GOLDEN[1] links one pair of activities by FS and by FF: both come back.
@pytest.mark.parametrize("name", [GOLDEN[0], GOLDEN[1], GOLDEN[2]])
def test_round_trip_import_export_import_is_identical(session, place, name):
    admin, node = place
    first = interchange.import_xer(session, actor=admin, data=(xer_path(name)).read_bytes(), eps_node=node)
    exported = interchange.export_xer(session, project=first)
    second = interchange.import_xer(session, actor=admin, data=exported, eps_node=node, code=f"{first.code}-RT")
    assert _snapshot(session, second) == _snapshot(session, first)


def test_broken_file_names_table_and_line_and_imports_nothing(session, place):
    admin, node = place
    good = xer_path(IN_REPO_FILE).read_bytes().decode("cp1252").splitlines()
    task_line = next(i for i, line in enumerate(good) if line.startswith("%T\tTASK"))
    broken = good[: task_line + 2] + [good[task_line + 2] + "\textra\tcolumns\tbeyond\tthe\tfields"] + good[task_line + 3:]
    before = session.scalar(select(func.count()).select_from(Project))
    with pytest.raises(Invalid) as caught:
        interchange.import_xer(session, actor=admin, data="\r\n".join(broken).encode("cp1252"), eps_node=node)
    assert "TASK" in caught.value.message and f"line {task_line + 3}" in caught.value.message
    assert session.scalar(select(func.count()).select_from(Project)) == before


def test_file_without_project_is_refused(session, place):
    admin, node = place
    with pytest.raises(Invalid):
        interchange.import_xer(session, actor=admin, data=b"ERMHDR\t20.12\r\n%E\r\n", eps_node=node)


def test_replace_plan_swaps_the_plan_and_keeps_the_project(session, place):
    admin, node = place
    project = factories.project(session, actor=admin, node=node, code="KEEP")
    project.description = "kept"
    services.create_calendar(session, actor=admin, project=project, name="Old",
                             week=[[[480, 1020]]] * 5 + [[], []])
    old_element = services.create_element(session, actor=admin, project=project, code="OLD", name="Old branch")
    services.create_element(session, actor=admin, project=project, code="OLD.1", name="Old leaf", parent=old_element)
    old = services.create_activity(session, actor=admin, project=project, code="OLD-A", name="Old work",
                                   wbs_element_id=old_element.id, original_duration_hours=8.0)
    other = factories.project(session, actor=admin, node=node, code="OTHER")
    outside = services.create_activity(session, actor=admin, project=other, code="O1", name="Elsewhere")
    services.create_relationship(session, actor=admin, project=other, predecessor=outside, successor=old)
    data = xer_path(IN_REPO_FILE).read_bytes()
    source = interchange.read_xer_project(data)
    interchange.replace_plan(session, actor=admin, project=project, source=source)
    codes = set(session.scalars(select(Activity.code).where(Activity.project_id == project.id)))
    assert codes == {row["task_code"] for row in read_xer(data).rows("TASK")}
    assert session.scalar(select(func.count()).select_from(WbsElement)
                          .where(WbsElement.project_id == project.id, WbsElement.code.like("OLD%"))) == 0
    assert "Old" not in set(session.scalars(select(Calendar.name).where(Calendar.project_id == project.id)))
    assert session.scalar(select(func.count()).select_from(Relationship)
                          .where(Relationship.predecessor_id == outside.id)) == 0
    assert (project.code, project.description) == ("KEEP", "kept")
    assert services.get_plan(session, project=project).scheduled_at is not None
    # The same file imported as a new project schedules to the same dates.
    fresh = interchange.import_xer(session, actor=admin, data=data, eps_node=node, code="FRESH")
    dates = lambda p: dict(session.execute(select(Activity.code, Activity.early_finish)  # noqa: E731
                                           .where(Activity.project_id == p.id)).all())
    assert dates(project) == dates(fresh)


def test_replace_plan_needs_edit_rights(session, place):
    from crmpm.errors import Forbidden
    from eps.models import Role

    admin, node = place
    project = factories.project(session, actor=admin, node=node, code="GUARDED")
    viewer = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=node, user=viewer)
    source = interchange.read_xer_project(xer_path(IN_REPO_FILE).read_bytes())
    with pytest.raises(Forbidden):
        interchange.replace_plan(session, actor=viewer, project=project, source=source)


def test_an_imported_file_records_import_finished_about_the_new_project(session, place):
    from crmpm.events import Event

    admin, node = place
    data = xer_path(IN_REPO_FILE).read_bytes()
    project = interchange.import_xer(session, actor=admin, data=data, eps_node=node)
    source = interchange.read_xer_project(data)
    (event,) = session.scalars(select(Event).where(Event.type == "import.finished", Event.subject_id == project.id))
    assert (event.subject_type, event.actor_id) == ("projects", admin.id)
    assert event.payload == {"kind": "xer", "created": 1, "updated": 0, "failed": 0, "job_id": None,
                             "project_id": project.id, "activities": len(source.activities),
                             "relationships": len(source.relationships), "warnings": len(source.warnings)}

"""The streamed XER export: the same bytes as building the whole file, the encoding chosen up front."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from crmpm.cli import CrmpmGroup
from crmpm.errors import Conflict

from tests import factories
from tests.wbs.xer_fixtures import GOLDEN, xer_path
from wbs import baselines, interchange
from wbs.scheduling import service as scheduling_service
from wbs.interchange.cli import xer
from wbs.models import Activity, Relationship, WbsElement
from wbs.scheduling.model import ActivityResult
from wbs.interchange.xer.reader import XerTable, read_xer
from wbs.interchange.xer.resources import RSRC_FIELDS, TASKRSRC_FIELDS
from wbs.interchange.xer.writer import project_to_xer, write_xer
from wbs.interchange.xer import export as xer_export
from wbs.interchange.xer.export import xer_encoding


@pytest.fixture
def place(session):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="EXPORTS")
    return admin, node


def _import(session, place, name=GOLDEN[0], code=None):
    admin, node = place
    return interchange.import_xer(session, actor=admin, data=(xer_path(name)).read_bytes(), eps_node=node, code=code)


def _activities(session, project):
    return session.scalars(select(Activity).where(Activity.project_id == project.id).order_by(Activity.id)).all()


def _whole_file(session, project) -> bytes:
    """The file as the export built it before streaming: entities, ``project_to_xer``, one string."""
    loaded = scheduling_service.load_input(session, project=project)
    used = {m.calendar_id for m in loaded.models if m.calendar_id} | {loaded.options.default_calendar_id}
    calendars = {key: cal for key, cal in loaded.calendars.items() if key in used}
    results = {str(a.id): ActivityResult(**{f: getattr(a, f) for f in scheduling_service.RESULT_FIELDS})
               for a in loaded.activities if a.early_start is not None}
    xer = project_to_xer(loaded.models, loaded.relationships, calendars, loaded.options, proj_id=str(project.id),
                         code=project.code, wbs_parents=loaded.wbs_parents, results=results)
    elements = {str(e.id): e for e in session.scalars(select(WbsElement).where(WbsElement.project_id == project.id))}
    for row in xer.tables["PROJWBS"].rows:
        if row["wbs_id"] in elements:
            row["wbs_short_name"], row["wbs_name"] = elements[row["wbs_id"]].code, elements[row["wbs_id"]].name
    by_id = {str(a.id): a for a in loaded.activities}
    for row in xer.tables["TASK"].rows:
        row["task_name"] = by_id[row["task_id"]].name
    costed = [a for a in loaded.activities if a.budgeted_cost or a.actual_cost]
    if costed:
        # Activities with costs and no assignments carry them on one generic cost resource, listed before TASK.
        tables = list(xer.tables.values())
        rsrc = XerTable.of("RSRC", RSRC_FIELDS, [{"rsrc_id": "0", "rsrc_name": "Activity costs",
                                                  "rsrc_short_name": "CRMPM-COST", "def_qty_per_hr": "1",
                                                  "cost_qty_type": "QT_Hour", "active_flag": "Y",
                                                  "rsrc_type": "RT_Mat"}])
        tables.insert([t.name for t in tables].index("TASK"), rsrc)
        zeros = dict.fromkeys(("remain_qty", "target_qty", "remain_qty_per_hr", "target_qty_per_hr", "act_reg_qty",
                               "act_ot_qty", "act_ot_cost"), "0")
        tables.append(XerTable.of("TASKRSRC", TASKRSRC_FIELDS, [
            {"taskrsrc_id": str(n), "task_id": str(a.id), "proj_id": str(a.project_id), "rsrc_id": "0",
             "target_cost": f"{a.budgeted_cost}", "act_reg_cost": f"{a.actual_cost}",
             "remain_cost": f"{max(a.budgeted_cost - a.actual_cost, Decimal(0))}", "rate_type": "COST_PER_QTY",
             "cost_per_qty_source_type": "ST_Rsrc", "rsrc_type": "RT_Mat", **zeros}
            for n, a in enumerate(costed, 1)]))
        xer.tables = {t.name: t for t in tables}
    text = write_xer(xer)
    try:
        return text.encode("cp1252")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _busy_project(session, place):
    """An imported project with costs (one overspent), an unscheduled activity, a link from another
    project and an accented name."""
    feeder = _import(session, place, code="FEEDER")
    project = _import(session, place, code="BUSY")
    activities = _activities(session, project)
    activities[0].budgeted_cost, activities[0].actual_cost = Decimal("1200.50"), Decimal("300.25")
    activities[1].budgeted_cost, activities[1].actual_cost = Decimal("100.00"), Decimal("150.00")
    activities[2].name = "Café fit-out — phase 2"
    activities[3].early_start = None  # as if added after the last schedule
    predecessor = next(a for a in _activities(session, feeder) if a.early_finish is not None)
    successor = activities[len(activities) // 2]
    session.add(Relationship(predecessor_id=predecessor.id, successor_id=successor.id, type="FS", lag_hours=0))
    session.flush()
    return project, successor, predecessor


def test_export_is_the_same_file_as_building_it_whole(session, place):
    project, _successor, _predecessor = _busy_project(session, place)
    # The plan's tables only: the baselines' (the first schedule's "Baseline 1") are test_xer_baselines.py's.
    for baseline in session.scalars(baselines.list_baselines(session, project=project)).all():
        baselines.delete_baseline(session, actor=place[0], baseline=baseline)
    assert interchange.export_xer(session, project=project) == _whole_file(session, project)


def test_streamed_chunks_and_stream_give_export_xers_bytes(session, place, monkeypatch):
    monkeypatch.setattr(xer_export, "CHUNK_LINES", 7)
    project, _successor, _predecessor = _busy_project(session, place)
    expected = interchange.export_xer(session, project=project)
    chunks = list(interchange.xer_chunks(session, project=project))
    assert len(chunks) > 1 and all(chunks)
    assert b"".join(chunks) == expected
    out = BytesIO()
    assert interchange.export_xer_to(session, project=project, out=out) == len(expected)
    assert out.getvalue() == expected


def test_link_from_another_project_is_an_external_date_not_a_taskpred_row(session, place):
    project, successor, predecessor = _busy_project(session, place)
    xer = read_xer(interchange.export_xer(session, project=project))
    task = {row["task_id"]: row for row in xer.rows("TASK")}
    assert task[str(successor.id)]["external_early_start_date"] == predecessor.early_finish.strftime("%Y-%m-%d %H:%M")
    assert str(predecessor.id) not in {row["pred_task_id"] for row in xer.rows("TASKPRED")}
    costs = {row["task_id"]: row for row in xer.rows("TASKRSRC")}
    first, second = _activities(session, project)[:2]
    assert (costs[str(first.id)]["target_cost"], costs[str(first.id)]["remain_cost"]) == ("1200.50", "900.25")
    assert costs[str(second.id)]["remain_cost"] == "0"


def test_plain_and_accented_names_stay_cp1252(session, place):
    project, _successor, _predecessor = _busy_project(session, place)
    assert xer_encoding(session, project=project) == "cp1252"
    data = interchange.export_xer(session, project=project)
    assert "Café fit-out — phase 2".encode("cp1252") in data


@pytest.mark.parametrize("where", ["activity", "wbs"])
def test_cyrillic_name_switches_to_utf8_and_reimports(session, place, where):
    admin, node = place
    project = _import(session, place)
    if where == "activity":
        renamed = _activities(session, project)[5]
    else:
        renamed = session.scalars(select(WbsElement).where(WbsElement.project_id == project.id)
                                  .order_by(WbsElement.id)).first()
    renamed.name = "Монтаж каркаса, этап 2"
    session.flush()
    assert xer_encoding(session, project=project) == "utf-8"
    data = interchange.export_xer(session, project=project)
    assert b"".join(interchange.xer_chunks(session, project=project)) == data
    assert "Монтаж каркаса, этап 2".encode("utf-8") in data
    again = interchange.import_xer(session, actor=admin, data=data, eps_node=node, code="AGAIN")
    model = Activity if where == "activity" else WbsElement
    names = set(session.scalars(select(model.name).where(model.project_id == again.id)))
    assert "Монтаж каркаса, этап 2" in names


# ``crmpm xer export``, in process against the test's database


def _cli(app, *args):
    group = CrmpmGroup(commands={"xer": xer})
    return CliRunner().invoke(group, list(args), obj={"app": app})


def test_cli_writes_the_export_whole_and_nothing_beside_it(session, place, app, tmp_path):
    project = _import(session, place)
    output = tmp_path / "plan.xer"
    result = _cli(app, "xer", "export", str(project.id), "-o", str(output))
    assert result.exit_code == 0, result.output
    assert output.read_bytes() == interchange.export_xer(session, project=project)
    assert result.output.strip() == f"wrote {output} ({output.stat().st_size} bytes)"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.xer"]


@pytest.mark.parametrize("failure", [Conflict("the project changed"), RuntimeError("connection lost")])
def test_cli_failure_part_way_leaves_no_partial_file(session, place, app, tmp_path, monkeypatch, failure):
    project = _import(session, place)
    output = tmp_path / "plan.xer"
    output.write_bytes(b"the previous export")

    def half_then_fail(session, *, project, out):
        out.write(b"ERMHDR\t20.12\r\n%T\tTASK\r\n")
        out.flush()
        raise failure

    monkeypatch.setattr(interchange, "export_xer_to", half_then_fail)
    result = _cli(app, "xer", "export", str(project.id), "-o", str(output))
    assert result.exit_code != 0
    if isinstance(failure, Conflict):
        assert result.exit_code == 2 and "the project changed" in result.output
    assert output.read_bytes() == b"the previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.xer"]


def test_cli_unwritable_folder_is_a_one_line_error(session, place, app, tmp_path):
    project = _import(session, place)
    result = _cli(app, "xer", "export", str(project.id), "-o", str(tmp_path / "missing" / "plan.xer"))
    assert result.exit_code == 2 and "cannot write" in result.output
    assert not (tmp_path / "missing").exists()

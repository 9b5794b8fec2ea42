"""Activity codes (types in three scopes, values in a tree, one value per type per activity) and user-defined
fields (typed values of activities, WBS elements and projects): rules, rights and audit."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from crmpm.audit.models import AuditEntry
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound
from eps import layout, services as eps_services
from eps.models import Role
from tests import factories
from wbs import codes, services, udfs

ROOT = Path(__file__).resolve().parents[2]

@pytest.fixture
def place(session):
    admin = factories.admin(session)
    node = factories.node(session, actor=admin, code="N")
    other_node = factories.node(session, actor=admin, code="M")
    project = factories.project(session, actor=admin, node=node, code="P")
    activity = services.create_activity(session, actor=admin, project=project, code="A1", name="Dig")
    editor, viewer = factories.user(session, name="editor"), factories.user(session, name="viewer")
    factories.grant(session, actor=admin, role=Role.editor, target=node, user=editor)
    factories.grant(session, actor=admin, role=Role.viewer, target=node, user=viewer)
    return dict(admin=admin, node=node, other_node=other_node, project=project, activity=activity, editor=editor,
                viewer=viewer)


def test_types_of_every_scope_apply_to_the_projects_below_them_only(session, place):
    admin, project = place["admin"], place["project"]
    made = [codes.create_code_type(session, actor=admin, scope="global", name="Department"),
            codes.create_code_type(session, actor=admin, scope="eps", name="Area", eps_node=place["node"]),
            codes.create_code_type(session, actor=admin, scope="project", name="Phase", project=project)]
    codes.create_code_type(session, actor=admin, scope="eps", name="Elsewhere", eps_node=place["other_node"])
    listed = session.scalars(codes.list_code_types(session, project=project)).all()
    assert sorted(t.name for t in listed) == sorted(t.name for t in made)


def test_global_types_are_changed_by_administrators_only_and_eps_types_with_edit_rights_there(session, place):
    with pytest.raises(Forbidden):
        codes.create_code_type(session, actor=place["editor"], scope="global", name="Department")
    area = codes.create_code_type(session, actor=place["editor"], scope="eps", name="Area", eps_node=place["node"])
    with pytest.raises(Forbidden):
        codes.create_code_value(session, actor=place["viewer"], code_type=area, value="N1")
    with pytest.raises(NotFound):
        codes.create_code_type(session, actor=place["editor"], scope="eps", name="X", eps_node=place["other_node"])
    outsider = factories.user(session, name="outsider")
    with pytest.raises(NotFound):
        codes.get_code_type_or_raise(session, user=outsider, type_id=area.id)


def test_values_form_a_tree_with_short_names_unique_among_siblings_and_no_loops(session, place):
    admin = place["admin"]
    dept = codes.create_code_type(session, actor=admin, scope="global", name="Department", max_length=4)
    base = codes.create_code_value(session, actor=admin, code_type=dept, value="BT", description="Base Toliara")
    esms = codes.create_code_value(session, actor=admin, code_type=dept, value="ESMS", parent_id=base.id)
    codes.create_code_value(session, actor=admin, code_type=dept, value="ESMS")  # another parent: allowed
    with pytest.raises(Conflict):
        codes.create_code_value(session, actor=admin, code_type=dept, value="ESMS", parent_id=base.id)
    with pytest.raises(Invalid, match="1 to 4 characters"):
        codes.create_code_value(session, actor=admin, code_type=dept, value="TOOLONG")
    with pytest.raises(Invalid, match="loop|under itself"):
        codes.update_code_value(session, actor=admin, code_type=dept, item=base, parent_id=esms.id)
    assert codes.value_paths(session, type_ids=[dept.id])[esms.id] == "BT.ESMS"
    with pytest.raises(Conflict):
        codes.update_code_type(session, actor=admin, code_type=dept, max_length=3)


def test_an_activity_holds_one_value_per_type_set_with_edit_rights_and_audited(session, place):
    admin, project, activity = place["admin"], place["project"], place["activity"]
    phase = codes.create_code_type(session, actor=admin, scope="project", name="Phase", project=project)
    design = codes.create_code_value(session, actor=admin, code_type=phase, value="DES")
    build = codes.create_code_value(session, actor=admin, code_type=phase, value="BLD")
    elsewhere = codes.create_code_type(session, actor=admin, scope="eps", name="Other", eps_node=place["other_node"])
    with pytest.raises(Forbidden):
        codes.set_activity_codes(session, actor=place["viewer"], project=project, activity=activity,
                                 values={phase.id: design.id})
    codes.set_activity_codes(session, actor=place["editor"], project=project, activity=activity,
                             values={phase.id: design.id})
    held = codes.set_activity_codes(session, actor=place["editor"], project=project, activity=activity,
                                    values={phase.id: build.id})
    assert [(a.type_id, a.value_id) for a in held] == [(phase.id, build.id)]
    with pytest.raises(Invalid, match="do not apply"):
        codes.set_activity_codes(session, actor=admin, project=project, activity=activity,
                                 values={elsewhere.id: None})
    dept = codes.create_code_type(session, actor=admin, scope="global", name="Department")
    with pytest.raises(Invalid, match="not values of their types"):
        codes.set_activity_codes(session, actor=admin, project=project, activity=activity,
                                 values={dept.id: design.id})
    assert codes.set_activity_codes(session, actor=admin, project=project, activity=activity,
                                    values={phase.id: None}) == []
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "set_codes")).all()
    assert len(entries) == 3


@pytest.mark.parametrize(("data_type", "raw", "stored"), [
    ("text", "MOB-100", "MOB-100"), ("number", "2.5", 2.5), ("integer", 7, 7), ("cost", "1234.567", Decimal("1234.57")),
    ("date", "2026-03-02T08:00", dt.datetime(2026, 3, 2, 8, 0)), ("indicator", "green", "green")])
def test_a_udf_keeps_a_value_of_its_data_type(session, place, data_type, raw, stored):
    admin, project, activity = place["admin"], place["project"], place["activity"]
    field = udfs.create_udf_type(session, actor=admin, subject="activity", name=f"F {data_type}",
                                 data_type=data_type)
    [(udf_type, row)] = udfs.set_udf_values(session, actor=place["editor"], project=project, subject=activity,
                                            values={field.id: raw})
    session.expire_all()
    assert udfs.value_of(udf_type, row) == stored


@pytest.mark.parametrize(("data_type", "raw"), [
    ("number", "many"), ("integer", 2.5), ("cost", "NaN"), ("date", "tomorrow"), ("indicator", "purple")])
def test_a_udf_refuses_a_value_of_another_type_naming_the_field(session, place, data_type, raw):
    field = udfs.create_udf_type(session, actor=place["admin"], subject="activity", name="Checked",
                                 data_type=data_type)
    with pytest.raises(Invalid, match="'Checked'"):
        udfs.set_udf_values(session, actor=place["admin"], project=place["project"], subject=place["activity"],
                            values={field.id: raw})


def test_udf_types_by_administrators_values_with_edit_rights_and_of_their_subject(session, place):
    with pytest.raises(Forbidden):
        udfs.create_udf_type(session, actor=place["editor"], subject="activity", name="X", data_type="text")
    status = udfs.create_udf_type(session, actor=place["admin"], subject="project", name="Status",
                                  data_type="indicator")
    with pytest.raises(Invalid, match="not fields of the subject activity"):
        udfs.set_udf_values(session, actor=place["admin"], project=place["project"], subject=place["activity"],
                            values={status.id: "red"})
    with pytest.raises(Forbidden):
        udfs.set_udf_values(session, actor=place["viewer"], project=place["project"], values={status.id: "red"})
    udfs.set_udf_values(session, actor=place["editor"], project=place["project"], values={status.id: "red"})
    assert [(t.name, r.indicator) for t, r in udfs.udf_values(session, project=place["project"])] == [("Status", "red")]
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "set_udfs")).all()


def test_a_project_moved_out_of_a_branch_loses_that_branchs_eps_codes_audited_and_counted(session, place):
    admin, project, activity = place["admin"], place["project"], place["activity"]
    area = codes.create_code_type(session, actor=admin, scope="eps", name="Area", eps_node=place["node"])
    north = codes.create_code_value(session, actor=admin, code_type=area, value="N")
    dept = codes.create_code_type(session, actor=admin, scope="global", name="Department")
    base = codes.create_code_value(session, actor=admin, code_type=dept, value="BT")
    second = services.create_activity(session, actor=admin, project=project, code="A2", name="Fill")
    for held in (activity, second):
        codes.set_activity_codes(session, actor=admin, project=project, activity=held,
                                 values={area.id: north.id, dept.id: base.id})
    warnings: list[str] = []
    eps_services.move_project(session, actor=admin, project=project, eps_node=place["other_node"], warnings=warnings)
    for held in (activity, second):  # the global value stays, the EPS node's goes
        assert [(a.type_id, a.value_id) for a in codes.activity_codes(session, activity=held)] == [(dept.id, base.id)]
    assert warnings == ["project P: 2 activity code values of EPS code types that do not apply in its new place "
                        "were removed (Area)"]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "drop_codes")).one()
    assert entry.before == {"code_assignments": 2, "code_types": ["Area"]}
    # Moving back and forth again has nothing left to remove: no warning.
    again: list[str] = []
    eps_services.move_project(session, actor=admin, project=project, eps_node=place["node"], warnings=again)
    assert again == []


def test_a_node_moved_keeps_the_codes_of_its_own_branch_and_loses_those_of_its_old_parent(session, place):
    admin = place["admin"]
    inner = factories.node(session, actor=admin, parent=place["node"], code="N.1")
    project = factories.project(session, actor=admin, node=inner, code="Q")
    activity = services.create_activity(session, actor=admin, project=project, code="B1", name="Lay")
    outer_type = codes.create_code_type(session, actor=admin, scope="eps", name="Outer", eps_node=place["node"])
    inner_type = codes.create_code_type(session, actor=admin, scope="eps", name="Inner", eps_node=inner)
    outer_value = codes.create_code_value(session, actor=admin, code_type=outer_type, value="O")
    inner_value = codes.create_code_value(session, actor=admin, code_type=inner_type, value="I")
    codes.set_activity_codes(session, actor=admin, project=project, activity=activity,
                             values={outer_type.id: outer_value.id, inner_type.id: inner_value.id})
    warnings: list[str] = []
    eps_services.move_node(session, actor=admin, node=inner, new_parent=place["other_node"], warnings=warnings)
    assert [(a.type_id, a.value_id) for a in codes.activity_codes(session, activity=activity)] \
        == [(inner_type.id, inner_value.id)]
    assert len(warnings) == 1 and warnings[0].startswith("project Q: 1 activity code values") and "(Outer)" in warnings[0]


def test_a_layout_file_that_moves_a_node_drops_the_codes_of_the_branch_its_projects_left(session, place):
    """``eps.layout`` moves through the EPS services alone; every project the move carried loses the values of
    the types of the branch it left, audited on it, and a project that stayed keeps its own."""
    admin, stayed = place["admin"], place["project"]
    inner = factories.node(session, actor=admin, parent=place["node"], code="N.1")
    deeper = factories.node(session, actor=admin, parent=inner, code="N.1.1")
    carried = [factories.project(session, actor=admin, node=node, code=code) for node, code in ((inner, "Q"),
                                                                                                   (deeper, "R"))]
    area = codes.create_code_type(session, actor=admin, scope="eps", name="Area", eps_node=place["node"])
    line = codes.create_code_type(session, actor=admin, scope="eps", name="Line", eps_node=inner)
    north, first = (codes.create_code_value(session, actor=admin, code_type=area, value="N"),
                    codes.create_code_value(session, actor=admin, code_type=line, value="L1"))
    activities = [place["activity"]] + [services.create_activity(session, actor=admin, project=project, code="B1",
                                                                 name="Lay") for project in carried]
    phase = codes.create_code_type(session, actor=admin, scope="project", name="Phase", project=carried[0])
    design = codes.create_code_value(session, actor=admin, code_type=phase, value="DES")
    for project, activity in zip([stayed, *carried], activities):
        values = {area.id: north.id} | ({line.id: first.id} if project is not stayed else {})
        values |= {phase.id: design.id} if project is carried[0] else {}
        codes.set_activity_codes(session, actor=admin, project=project, activity=activity, values=values)
    summary = layout.lay_out(session, actor=admin, rows=layout.read_nodes_csv(b"code,name,parent\nN.1,Node N.1,M\n"))
    assert summary.updated == ["N.1"]
    held = [[(a.type_id, a.value_id) for a in codes.activity_codes(session, activity=activity)]
            for activity in activities]
    # The node's own branch and the project's own type go with them; the old parent's type stays behind.
    assert held == [[(area.id, north.id)], [(line.id, first.id), (phase.id, design.id)], [(line.id, first.id)]]
    dropped = session.scalars(select(AuditEntry).where(AuditEntry.action == "drop_codes")
                              .order_by(AuditEntry.entity_id)).all()
    assert [(entry.entity_id, entry.before) for entry in dropped] \
        == [(project.id, {"code_assignments": 1, "code_types": ["Area"]}) for project in carried]


def test_the_app_has_the_wbs_listen_to_every_eps_move(tmp_path):
    """A process that moves nodes through the EPS services alone (``crmpm eps import``) has the WBS listening
    once it has made the app, though the core and the EPS import nothing of the WBS."""
    script = ("import sys; from crmpm import create_app; from eps import services\n"
              "before = [l.__module__ + '.' + l.__name__ for l in services.move_listeners()]\n"
              "create_app({'DATABASE_URL': sys.argv[1], 'TESTING': True, 'JOBS_URL': 'memory://'})\n"
              "after = [l.__module__ + '.' + l.__name__ for l in services.move_listeners()]\n"
              "print(before, after)")
    result = subprocess.run([sys.executable, "-c", script, f"sqlite:///{tmp_path / 'app.db'}"], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] ['wbs.codes.drop_inapplicable_codes']"
def test_value_tree_puts_each_value_under_its_parent_in_order(session, place):
    admin = place["admin"]
    dept = codes.create_code_type(session, actor=admin, scope="global", name="Department")
    z = codes.create_code_value(session, actor=admin, code_type=dept, value="Z", seq=1)
    a = codes.create_code_value(session, actor=admin, code_type=dept, value="A", seq=2)
    z2 = codes.create_code_value(session, actor=admin, code_type=dept, value="Z2", parent_id=z.id, seq=5)
    z1 = codes.create_code_value(session, actor=admin, code_type=dept, value="Z1", parent_id=z.id, seq=4)
    z1a = codes.create_code_value(session, actor=admin, code_type=dept, value="Z1a", parent_id=z1.id)
    tree = codes.type_values(session, type_ids=[dept.id])[dept.id]
    # depth first, siblings by seq: Z (seq 1) with Z1 (seq 4, its child Z1a) then Z2, then A (seq 2)
    assert [(v.value, depth) for v, depth in tree] == [("Z", 0), ("Z1", 1), ("Z1a", 2), ("Z2", 1), ("A", 0)]
    assert {v.id for v, _ in tree} == {z.id, a.id, z1.id, z2.id, z1a.id}


def test_grouping_orders_activities_by_their_value_in_tree_order_those_without_last(session, place):
    admin, project = place["admin"], place["project"]
    phase = codes.create_code_type(session, actor=admin, scope="project", name="Phase", project=project)
    late = codes.create_code_value(session, actor=admin, code_type=phase, value="LATE", seq=2)
    early = codes.create_code_value(session, actor=admin, code_type=phase, value="EARLY", seq=1)
    child = codes.create_code_value(session, actor=admin, code_type=phase, value="SUB", parent_id=early.id)
    made = {code: services.create_activity(session, actor=admin, project=project, code=code, name=code)
            for code in ("A2", "A3", "A4")}
    held = {"A2": late.id, "A3": child.id, "A4": early.id}
    for code, value_id in held.items():
        codes.set_activity_codes(session, actor=admin, project=project, activity=made[code],
                                 values={phase.id: value_id})
    query = codes.group_by_code(session, query=services.list_activities(session, project=project), code_type=phase,
                                then=services.SCHEDULE_ORDER)
    # EARLY (A4), its child SUB (A3), LATE (A2), then A1 without a value
    assert [a.code for a in session.scalars(query)] == ["A4", "A3", "A2", "A1"]
    ids = [a.id for a in made.values()] + [place["activity"].id]
    assert codes.values_of(session, code_type=phase, activity_ids=ids) == {made[c].id: v for c, v in held.items()}


def test_a_project_code_type_is_one_that_applies_there(session, place):
    admin, project = place["admin"], place["project"]
    here = codes.create_code_type(session, actor=admin, scope="eps", name="Area", eps_node=place["node"])
    elsewhere = codes.create_code_type(session, actor=admin, scope="eps", name="Area", eps_node=place["other_node"])
    assert codes.get_project_code_type_or_raise(session, user=place["viewer"], project=project,
                                                type_id=here.id) is here
    with pytest.raises(NotFound):
        codes.get_project_code_type_or_raise(session, user=admin, project=project, type_id=elsewhere.id)
    assert codes.may_change_type(session, user=place["editor"], code_type=here)
    assert not codes.may_change_type(session, user=place["viewer"], code_type=here)
    glob = codes.create_code_type(session, actor=admin, scope="global", name="Department")
    assert not codes.may_change_type(session, user=place["editor"], code_type=glob)
    assert codes.may_change_type(session, user=admin, code_type=glob)


def test_deleting_a_value_deletes_those_below_it_and_the_activities_lose_them_counted_and_audited(session, place):
    admin, project = place["admin"], place["project"]
    second = services.create_activity(session, actor=admin, project=project, code="A2", name="Pour")
    third = services.create_activity(session, actor=admin, project=project, code="A3", name="Cure")
    phase = codes.create_code_type(session, actor=admin, scope="eps", name="Phase", eps_node=place["node"])
    top = codes.create_code_value(session, actor=admin, code_type=phase, value="DES")
    child = codes.create_code_value(session, actor=admin, code_type=phase, value="ARC", parent_id=top.id)
    grandchild = codes.create_code_value(session, actor=admin, code_type=phase, value="INT", parent_id=child.id)
    other = codes.create_code_value(session, actor=admin, code_type=phase, value="BLD")
    for activity, value in ((place["activity"], child), (second, grandchild), (third, other)):
        codes.set_activity_codes(session, actor=admin, project=project, activity=activity,
                                 values={phase.id: value.id})
    with pytest.raises(Forbidden):
        codes.delete_code_value(session, actor=place["viewer"], code_type=phase, item=top)
    top_id = top.id
    assert codes.delete_code_value(session, actor=place["editor"], code_type=phase, item=top) == 2
    left = session.scalars(codes.list_code_values(session, code_type=phase)).all()
    assert [v.value for v in left] == ["BLD"]
    held = {a.activity_id: a.value_id for a in session.scalars(select(codes.ActivityCodeAssignment))}
    assert held == {third.id: other.id}
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "delete",
                                                     AuditEntry.entity_id == top_id)).one()
    assert entry.before["value"] == "DES" and entry.after == {"values_deleted": 3, "activities_losing_it": 2}


def test_a_value_is_deleted_only_through_its_own_type(session, place):
    admin = place["admin"]
    first = codes.create_code_type(session, actor=admin, scope="global", name="One")
    second = codes.create_code_type(session, actor=admin, scope="global", name="Two")
    value = codes.create_code_value(session, actor=admin, code_type=first, value="V")
    with pytest.raises(NotFound):
        codes.delete_code_value(session, actor=admin, code_type=second, item=value)
    assert session.get(codes.ActivityCodeValue, value.id) is not None


def test_deleting_a_type_deletes_its_values_and_assignments_with_the_rights_of_its_scope(session, place):
    admin, project, activity = place["admin"], place["project"], place["activity"]
    dept = codes.create_code_type(session, actor=admin, scope="global", name="Department")
    top = codes.create_code_value(session, actor=admin, code_type=dept, value="BT")
    codes.create_code_value(session, actor=admin, code_type=dept, value="ES", parent_id=top.id)
    phase = codes.create_code_type(session, actor=admin, scope="project", name="Phase", project=project)
    design = codes.create_code_value(session, actor=admin, code_type=phase, value="DES")
    codes.set_activity_codes(session, actor=admin, project=project, activity=activity,
                             values={dept.id: top.id, phase.id: design.id})
    with pytest.raises(Forbidden):
        codes.delete_code_type(session, actor=place["editor"], code_type=dept)
    dept_id = dept.id
    assert codes.delete_code_type(session, actor=admin, code_type=dept) == 1
    assert session.get(codes.ActivityCodeType, dept_id) is None
    assert session.scalar(select(codes.func.count()).where(codes.ActivityCodeValue.type_id == dept_id)) == 0
    assert [(a.type_id, a.value_id) for a in codes.activity_codes(session, activity=activity)] == [
        (phase.id, design.id)]
    assert codes.delete_code_type(session, actor=place["editor"], code_type=phase) == 1
    assert codes.activity_codes(session, activity=activity) == []
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "delete",
                                                     AuditEntry.entity_id == dept_id)).one()
    assert entry.before["name"] == "Department" and entry.after["values_deleted"] == 2


def test_a_values_parent_must_be_a_value_of_the_same_type(session, place):
    admin = place["admin"]
    first = codes.create_code_type(session, actor=admin, scope="global", name="One")
    second = codes.create_code_type(session, actor=admin, scope="global", name="Two")
    foreign = codes.create_code_value(session, actor=admin, code_type=second, value="F")
    value = codes.create_code_value(session, actor=admin, code_type=first, value="V")
    with pytest.raises(Invalid, match="another value of that type") as refused:
        codes.update_code_value(session, actor=admin, code_type=first, item=value, parent_id=foreign.id)
    assert refused.value.errors == {"parent_id": ["not a value of this type"]}
    with pytest.raises(Invalid, match="another value of that type"):
        codes.create_code_value(session, actor=admin, code_type=first, value="W", parent_id=999999)
    session.expire_all()
    assert value.parent_id is None


def test_a_value_dropped_by_a_move_can_be_set_again_in_the_same_session(session, place):
    admin, project, activity = place["admin"], place["project"], place["activity"]
    area = codes.create_code_type(session, actor=admin, scope="eps", name="Area", eps_node=place["node"])
    north = codes.create_code_value(session, actor=admin, code_type=area, value="N")
    held = codes.set_activity_codes(session, actor=admin, project=project, activity=activity,
                                    values={area.id: north.id})
    eps_services.move_project(session, actor=admin, project=project, eps_node=place["other_node"])
    eps_services.move_project(session, actor=admin, project=project, eps_node=place["node"])
    assert codes.activity_codes(session, activity=activity) == []
    again = codes.set_activity_codes(session, actor=admin, project=project, activity=activity,
                                     values={area.id: north.id})
    assert [(a.type_id, a.value_id) for a in again] == [(area.id, north.id)] and again[0] is not held[0]

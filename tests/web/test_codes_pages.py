"""Activity codes and user-defined fields on the pages: an activity's codes and UDF values, the project's codes page,
the activity table's and the Gantt chart's ``?code=`` filter and ``?group=`` grouping."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from eps.models import Role
from wbs import codes, interchange, udfs
from wbs.models import Activity, ActivityCodeType
from tests.web.test_projects import _flash as flash_of, _url, plan  # noqa: F401 - the fixture: PA's A, B, C

XER = Path(__file__).resolve().parents[1] / "fixtures" / "xer" / "alap-harbour-131.xer"


@pytest.fixture
def coded(session, admin, plan):
    """A project code type "Phase" with DES and its child DES.ARC, and BLD; A holds DES.ARC, B holds BLD, C none;
    a global type "Area" with N; an activity number UDF and a date UDF."""
    project = plan["project"]
    phase = codes.create_code_type(session, actor=admin, scope="project", project=project, name="Phase")
    des = codes.create_code_value(session, actor=admin, code_type=phase, value="DES", seq=1)
    arc = codes.create_code_value(session, actor=admin, code_type=phase, value="ARC", parent_id=des.id)
    bld = codes.create_code_value(session, actor=admin, code_type=phase, value="BLD", seq=2)
    area = codes.create_code_type(session, actor=admin, scope="global", name="Area")
    north = codes.create_code_value(session, actor=admin, code_type=area, value="N")
    codes.set_activity_codes(session, actor=admin, project=project, activity=plan["A"], values={phase.id: arc.id})
    codes.set_activity_codes(session, actor=admin, project=project, activity=plan["B"], values={phase.id: bld.id})
    weight = udfs.create_udf_type(session, actor=admin, subject="activity", name="Weight", data_type="number")
    due = udfs.create_udf_type(session, actor=admin, subject="activity", name="Due", data_type="date")
    session.commit()
    return {**plan, "phase": phase, "DES": des, "ARC": arc, "BLD": bld, "area": area, "N": north, "weight": weight,
            "due": due}


def _editor_in(session, user_with, locale):
    editor = user_with(Role.editor)
    editor.locale = locale
    session.commit()
    return editor


def _held(session, activity):
    session.expire_all()
    return {a.type_id: a.value_id for a in codes.activity_codes(session, activity=activity)}


def _flash(pages, response) -> str:
    return html.unescape(flash_of(pages, response))


def _answer(pages, response) -> str:
    """What the user reads after a POST: the message on the page it leads back to, or the error page."""
    return html.unescape(response.get_data(as_text=True) if response.status_code != 303 else flash_of(pages, response))


def _table_codes(body: str) -> list[str]:
    return re.findall(r'<tr data-activity="([^"]+)"', body)


def _groups(body: str) -> list[tuple[str, list[str]]]:
    """The table's groups: each heading and the activity codes under it, in page order."""
    groups: list[tuple[str, list[str]]] = []
    for heading, code in re.findall(r'<tr class="pm-group" data-group="([^"]*)"|<tr data-activity="([^"]+)"', body):
        if heading:
            groups.append((html.unescape(heading), []))
        else:
            groups[-1][1].append(code)
    return groups


# The activity page


def test_editor_sets_and_clears_codes_and_udfs(pages, session, coded, user_with):
    editor = user_with(Role.editor)
    pages.log_in_as(editor)
    a = coded["A"]
    body = pages.get(_url(coded, f"/activities/{a.id}")).get_data(as_text=True)
    assert f'name="code-{coded["phase"].id}"' in body and f'name="udf-{coded["weight"].id}"' in body
    # the values in tree order, the child under its parent
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>',
                         re.search(rf'name="code-{coded["phase"].id}">(.*?)</select>', body, re.S).group(1))
    assert [int(v) for v, _ in options] == [coded["DES"].id, coded["ARC"].id, coded["BLD"].id]
    response = pages.post(_url(coded, f"/activities/{a.id}/codes"),
                          {f"code-{coded['phase'].id}": str(coded["BLD"].id),
                           f"code-{coded['area'].id}": str(coded["N"].id)})
    assert "A" in _flash(pages, response)
    assert _held(session, a) == {coded["phase"].id: coded["BLD"].id, coded["area"].id: coded["N"].id}
    pages.post(_url(coded, f"/activities/{a.id}/codes"), {f"code-{coded['phase'].id}": ""})
    assert _held(session, a) == {coded["area"].id: coded["N"].id}

    response = pages.post(_url(coded, f"/activities/{a.id}/udfs"),
                          {f"udf-{coded['weight'].id}": "2,5", f"udf-{coded['due'].id}": "2026-04-01T08:00"})
    assert response.status_code == 303
    session.expire_all()
    values = {t.name: udfs.value_of(t, v) for t, v in udfs.udf_values(session, project=coded["project"], subject=a)}
    assert values["Weight"] == 2.5 and values["Due"].isoformat() == "2026-04-01T08:00:00"
    pages.post(_url(coded, f"/activities/{a.id}/udfs"), {f"udf-{coded['weight'].id}": ""})
    session.expire_all()
    assert [t.name for t, _ in udfs.udf_values(session, project=coded["project"], subject=a)] == ["Due"]


@pytest.mark.parametrize("locale, expected", [("en", "needs a finite number"), ("ru", "нужно конечное число")])
def test_a_bad_udf_value_is_refused_in_the_users_language_and_nothing_is_written(pages, session, coded, user_with,
                                                                                locale, expected):
    pages.log_in_as(_editor_in(session, user_with, locale))
    a = coded["A"]
    response = pages.post(_url(coded, f"/activities/{a.id}/udfs"),
                          {f"udf-{coded['due'].id}": "2026-04-01T08:00", f"udf-{coded['weight'].id}": "heavy"})
    assert response.status_code in (303, 400, 422)
    text = _answer(pages, response)
    assert expected in text and "Weight" in text
    session.expire_all()
    assert udfs.udf_values(session, project=coded["project"], subject=a) == []


@pytest.mark.parametrize("locale, expected", [("en", "not values of their types"), ("ru", "не принадлежат")])
def test_a_value_of_another_type_is_refused_in_the_users_language(pages, session, coded, user_with, locale, expected):
    pages.log_in_as(_editor_in(session, user_with, locale))
    a = coded["A"]
    response = pages.post(_url(coded, f"/activities/{a.id}/codes"),
                          {f"code-{coded['area'].id}": str(coded["N"].id),
                           f"code-{coded['phase'].id}": str(coded["N"].id)})
    text = _answer(pages, response)
    assert expected in text
    assert _held(session, a) == {coded["phase"].id: coded["ARC"].id}  # nothing half-written


def test_viewer_sees_values_without_forms_and_gets_403(pages, session, coded, user_with):
    viewer = user_with(Role.viewer)
    pages.log_in_as(viewer)
    a = coded["A"]
    body = pages.get(_url(coded, f"/activities/{a.id}")).get_data(as_text=True)
    assert "DES.ARC" in body and 'name="code-' not in body and 'name="udf-' not in body
    assert pages.post(_url(coded, f"/activities/{a.id}/codes"),
                      {f"code-{coded['phase'].id}": ""}).status_code == 403
    assert pages.post(_url(coded, f"/activities/{a.id}/udfs"), {f"udf-{coded['weight'].id}": "1"}).status_code == 403
    assert pages.post(_url(coded, "/codes/types"), {"name": "Mine"}).status_code == 403
    assert pages.post(_url(coded, "/codes/values"), {"type_id": coded["phase"].id, "value": "X"}).status_code == 403
    assert _held(session, a) == {coded["phase"].id: coded["ARC"].id}


def test_outsider_gets_404(pages, session, coded, user_with):
    pages.log_in_as(user_with(None))
    a = coded["A"]
    assert pages.get(_url(coded, f"/activities/{a.id}")).status_code == 404
    assert pages.get(_url(coded, "/codes")).status_code == 404
    assert pages.post(_url(coded, f"/activities/{a.id}/codes"), {}).status_code == 404
    assert pages.post(_url(coded, "/codes/types"), {"name": "Mine"}).status_code == 404


def test_posts_without_csrf_are_refused(pages, session, coded, admin):
    pages.log_in_as(admin)
    a = coded["A"]
    assert pages.post(_url(coded, f"/activities/{a.id}/codes"), {f"code-{coded['phase'].id}": ""},
                      csrf=False).status_code == 400
    assert pages.post(_url(coded, "/codes/types"), {"name": "Mine"}, csrf=False).status_code == 400
    assert _held(session, a) == {coded["phase"].id: coded["ARC"].id}


# The codes page


def test_codes_page_lists_the_types_that_apply_global_eps_up_the_tree_and_own(pages, session, coded, admin,
                                                                                world, user_with):
    above = codes.create_code_type(session, actor=admin, scope="eps", eps_node=world["A"], name="Branch A code")
    elsewhere = codes.create_code_type(session, actor=admin, scope="eps", eps_node=world["B"], name="Branch B code")
    other = codes.create_code_type(session, actor=admin, scope="project", project=world["PB"], name="PB code")
    session.commit()
    pages.log_in_as(user_with(Role.viewer))
    body = pages.get(_url(coded, "/codes")).get_data(as_text=True)
    listed = {int(i) for i in re.findall(r'<tr data-code-type="(\d+)"', body)}
    assert listed == {coded["phase"].id, coded["area"].id, above.id}
    assert elsewhere.id not in listed and other.id not in listed and "Branch B code" not in body
    assert 'name="type_id"' not in body and "codes/types" not in body  # a viewer gets no forms
    # a type that does not apply here cannot be grouped by
    assert pages.get(_url(coded, f"?group={elsewhere.id}")).status_code == 404


def test_codes_page_adds_a_project_type_and_hierarchical_values(pages, session, coded, user_with):
    editor = user_with(Role.editor)
    pages.log_in_as(editor)
    body = pages.get(_url(coded, "/codes")).get_data(as_text=True)
    assert "Phase" in body and "Area" in body
    assert f'data-code-type="{coded["area"].id}"' in body
    # a global type is the administrators': no value form for it; no UDF form for a non-administrator
    assert f'name="type_id" value="{coded["area"].id}"' not in body and 'action="/projects/' in body
    assert "codes/udf-types" not in body
    assert "Stage" in _flash(pages, pages.post(_url(coded, "/codes/types"), {"name": "Stage", "max_length": "5"}))
    stage = session.scalar(select(ActivityCodeType).where(ActivityCodeType.name == "Stage"))
    assert stage.project_id == coded["project"].id and stage.max_length == 5
    pages.post(_url(coded, "/codes/values"), {"type_id": str(stage.id), "value": "S1"})
    top = session.scalars(codes.list_code_values(session, code_type=stage)).one()
    pages.post(_url(coded, "/codes/values"), {"type_id": str(stage.id), "value": "S1a", "parent_id": str(top.id)})
    session.expire_all()
    assert sorted(codes.value_paths(session, type_ids=[stage.id]).values()) == ["S1", "S1.S1a"]
    assert pages.post(_url(coded, "/codes/udf-types"),
                      {"name": "Risk", "subject": "activity", "data_type": "text"}).status_code == 403


@pytest.mark.parametrize("locale, expected", [("en", "1 to 5 characters"), ("ru", "от 1 до 5")])
def test_codes_page_refusals_are_in_the_users_language(pages, session, coded, admin, locale, expected):
    admin.locale = locale
    stage = codes.create_code_type(session, actor=admin, scope="project", project=coded["project"], name="Stage",
                                   max_length=5)
    session.commit()
    pages.log_in_as(admin)
    response = pages.post(_url(coded, "/codes/values"), {"type_id": str(stage.id), "value": "TOOLONG"})
    text = _answer(pages, response)
    assert expected in text
    assert session.scalars(codes.list_code_values(session, code_type=stage)).all() == []


def test_administrator_adds_a_udf_type(pages, session, coded, admin):
    pages.log_in_as(admin)
    assert "codes/udf-types" in pages.get(_url(coded, "/codes")).get_data(as_text=True)
    pages.post(_url(coded, "/codes/udf-types"), {"name": "Risk", "subject": "wbs", "data_type": "indicator"})
    names = {(t.name, t.subject, t.data_type) for t in session.scalars(udfs.list_udf_types(session))}
    assert ("Risk", "wbs", "indicator") in names


# Filtering and grouping


def test_table_filters_by_a_code_value_and_the_values_below_it(pages, session, coded, admin):
    pages.log_in_as(admin)
    assert _table_codes(pages.get(_url(coded, "?code=Phase:DES")).get_data(as_text=True)) == ["A"]
    assert _table_codes(pages.get(_url(coded, "?code=Phase:BLD")).get_data(as_text=True)) == ["B"]
    assert _table_codes(pages.get(_url(coded, "?code=Phase:DES.ARC")).get_data(as_text=True)) == ["A"]
    body = pages.get(_url(coded, "?code=Phase:NOPE")).get_data(as_text=True)
    assert "data-code-error" in body and sorted(_table_codes(body)) == ["A", "B", "C"]


def test_table_groups_by_a_code_type(pages, session, coded, admin):
    pages.log_in_as(admin)
    body = pages.get(_url(coded, f"?group={coded['phase'].id}")).get_data(as_text=True)
    # expected: tree order DES (its child ARC holds A), then BLD; C without a value last
    assert _groups(body) == [("DES.ARC", ["A"]), ("BLD", ["B"]), ("no value", ["C"])]
    # the filter and the grouping together, and the critical filter's link keeps both
    body = pages.get(_url(coded, f"?group={coded['phase'].id}&code=Phase:BLD")).get_data(as_text=True)
    assert _groups(body) == [("BLD", ["B"])]
    assert f"group={coded['phase'].id}" in re.search(r'href="([^"]*critical=1[^"]*)"', body).group(1)
    assert pages.get(_url(coded, "?group=999999")).status_code == 404
    # within a WBS element: only its activities, and the filter's form keeps the element
    body = pages.get(_url(coded, f"?wbs={coded['W1'].id}&group={coded['phase'].id}")).get_data(as_text=True)
    assert _groups(body) == [("DES.ARC", ["A"]), ("BLD", ["B"])]
    form = re.search(r'<form method="get"[^>]*pm-code-filter.*?</form>', body, re.S).group(0)
    assert f'name="wbs" value="{coded["W1"].id}"' in form


def test_gantt_filters_and_groups_by_code(pages, session, coded, admin):
    pages.log_in_as(admin)
    body = pages.get(_url(coded, "/gantt?code=Phase:DES")).get_data(as_text=True)
    shown = set(re.findall(r'<g class="pm-row[^"]*" data-activity="(\d+)"', body))
    assert shown == {str(coded["A"].id)}
    # filtered without grouping: still under its WBS heading
    assert re.search(r'pm-wbs-label[^>]*>.*?W1 · Design', body, re.S)
    body = pages.get(_url(coded, f"/gantt?group={coded['phase'].id}&zoom=weeks")).get_data(as_text=True)
    labels = re.findall(r'<div class="pm-gantt-label (pm-wbs-label)?[^"]*"[^>]*>.*?'
                        r'<span class="pm-col-name">(.*?)</span>', body, re.S)
    order = [("H:" + html.unescape(re.sub(r"<[^>]+>", "", text)).strip()) if head
             else re.sub(r"<[^>]+>", "", text).split()[0] for head, text in labels]
    assert order == ["H:DES.ARC", "A", "H:BLD", "B", "H:no value", "C"]
    # the zoom links keep the grouping
    assert all(f"group={coded['phase'].id}" in link for link in re.findall(r'href="([^"]*zoom=days[^"]*)"', body))


def test_grouping_an_imported_file_follows_its_taskactv(pages, session, admin, world):
    project = interchange.import_xer(session, actor=admin, data=XER.read_bytes(), eps_node=world["A"], code="HARB")
    session.commit()
    # The file's own assignments, read with a plain tab split: type name → {task code: value short name}.
    tables, current, head = defaultdict(list), None, None
    for line in XER.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if parts[0] == "%T":
            current = parts[1]
        elif parts[0] == "%F":
            head = parts[1:]
        elif parts[0] == "%R":
            tables[current].append(dict(zip(head, parts[1:])))
    type_names = {r["actv_code_type_id"]: r["actv_code_type"] for r in tables["ACTVTYPE"]}
    value_names = {r["actv_code_id"]: r["short_name"] for r in tables["ACTVCODE"]}
    task_codes = {r["task_id"]: r["task_code"] for r in tables["TASK"]}
    wanted_type = type_names["147"]  # Department
    expected = defaultdict(set)
    for r in tables["TASKACTV"]:
        if r["actv_code_type_id"] == "147":
            expected[value_names[r["actv_code_id"]]].add(task_codes[r["task_id"]])
    assert expected
    code_type = session.scalar(select(ActivityCodeType).where(ActivityCodeType.name == wanted_type))
    pages.log_in_as(admin)
    found = defaultdict(set)
    page = 1
    while True:
        body = pages.get(f"/projects/{project.id}?group={code_type.id}&per_page=100&page={page}").get_data(as_text=True)
        groups = _groups(body)
        if not groups:
            break
        for heading, activity_codes in groups:
            found[heading.rsplit(".", 1)[-1]].update(activity_codes)
        page += 1
    without = found.pop("no value", set())
    assert found == expected
    all_codes = set(session.scalars(select(Activity.code).where(Activity.project_id == project.id)))
    assert without == all_codes - set().union(*expected.values())


def test_project_udf_values_on_the_codes_page(pages, session, coded, admin, user_with):
    budget = udfs.create_udf_type(session, actor=admin, subject="project", name="Budget line", data_type="cost")
    flag = udfs.create_udf_type(session, actor=admin, subject="project", name="Health", data_type="indicator")
    session.commit()
    editor = user_with(Role.editor)
    pages.log_in_as(editor)
    body = pages.get(_url(coded, "/codes")).get_data(as_text=True)
    assert f'name="udf-{budget.id}"' in body and f'name="udf-{coded["weight"].id}"' not in body
    response = pages.post(_url(coded, "/codes/udfs"), {f"udf-{budget.id}": "1 500,50", f"udf-{flag.id}": "green"})
    assert response.status_code == 303
    session.expire_all()
    values = {t.name: udfs.value_of(t, v) for t, v in udfs.udf_values(session, project=coded["project"])}
    assert values == {"Budget line": Decimal("1500.50"), "Health": "green"}
    pages.log_in_as(user_with(Role.viewer))
    body = pages.get(_url(coded, "/codes")).get_data(as_text=True)
    assert f'name="udf-{budget.id}"' not in body and f'data-udf="{flag.id}"' in body
    assert pages.post(_url(coded, "/codes/udfs"), {f"udf-{budget.id}": ""}).status_code == 403
    assert pages.post(_url(coded, "/codes/udfs"), {f"udf-{budget.id}": ""}, csrf=False).status_code == 400
    session.expire_all()
    assert len(udfs.udf_values(session, project=coded["project"])) == 2

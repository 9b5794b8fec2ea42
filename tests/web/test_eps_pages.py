"""The EPS page (/eps/), the blank project (/projects/new) and a project's settings, over eps and wbs services.

Each change goes through the same service as the API, so the same refusals come back, translated, on the page.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from eps.models import EpsNode, Project, Role
from tests import factories
from wbs import services as wbs_services
from wbs.models import ProjectPlan

FETCH = {"X-Requested-With": "fetch", "Accept": "application/json"}
WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]


def _flash(pages, response) -> tuple[str, str]:
    assert response.status_code == 303, response.status_code
    body = pages.get(response.headers["Location"]).get_data(as_text=True)
    match = re.search(r'<div class="flash flash-(\w+)"[^>]*>(.*?)</div>', body, re.S)
    assert match, "no message shown"
    return match.group(1), match.group(2).strip()


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def loose(session, admin, world):
    """Under ROOT, nodes X and Y without budgets, and project PX under X: free to move about."""
    x = factories.node(session, actor=admin, parent=world["root"], code="X")
    y = factories.node(session, actor=admin, parent=world["root"], code="Y")
    px = factories.project(session, actor=admin, node=x, code="PX")
    session.commit()
    return {"X": x, "Y": y, "PX": px}


def _shown(body: str) -> str:
    """The page without its CSRF tokens, which are random text that may happen to hold a code."""
    return re.sub(r'(name="csrf-token" content|name="csrf_token" value)="[^"]*"', r'\1=""', body)


# The tree


def _body(pages, url: str) -> str:
    response = pages.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return _shown(response.get_data(as_text=True))


def test_the_tree_starts_where_the_users_rights_start_and_loads_a_level_at_a_time(pages, admin, world, user_with):
    ids = {key: obj.id for key, obj in world.items()}
    pages.log_in_as(admin)
    body = _body(pages, "/eps/")
    # The roots only: their children are fetched when expanded, and there are no forms on the rows.
    assert ">ROOT<" in body and ">A1<" not in body and ">Secret Branch B<" not in body
    assert f'data-url="/eps/nodes/{ids["root"]}/rows?level=1"' in body
    assert "New root node" in body and 'data-drop-parent=""' in body and 'draggable="true"' in body
    assert f'data-forms="/eps/nodes/{ids["root"]}/forms"' in body and 'action="/eps/move"' not in body
    level = _body(pages, f"/eps/nodes/{ids['root']}/rows?level=1")
    assert ">A<" in level and ">Secret Branch B<" in level and ">A1<" not in level and "<html" not in level
    assert f'data-url="/eps/nodes/{ids["A"]}/rows?level=2"' in level and 'style="--level: 1"' in level
    assert ">PA<" in _body(pages, f"/eps/nodes/{ids['A1']}/rows?level=3")
    assert "Secret Project PB" in _body(pages, f"/eps/nodes/{ids['B']}/rows?level=2")

    viewer = user_with(Role.viewer)
    pages.log_in_as(viewer)
    body = _body(pages, "/eps/")
    assert ">A<" in body and "Secret" not in body and ">ROOT<" not in body  # the tree starts at the grant
    level = _body(pages, f"/eps/nodes/{ids['A']}/rows?level=1")
    assert ">A1<" in level and 'draggable="true"' not in level and "data-forms" not in level
    assert "data-drop-parent" not in body + level and "New root node" not in body
    assert 'href="/projects/new' not in body  # a viewer creates no project

    manager = user_with(Role.manager)
    pages.log_in_as(manager)
    body = _body(pages, "/eps/")
    assert "New root node" not in body and 'href="/projects/new"' in body
    level = _body(pages, f"/eps/nodes/{ids['A']}/rows?level=1")
    assert f'data-drop-parent="{ids["A1"]}"' in level and f'data-forms="/eps/nodes/{ids["A1"]}/forms"' in level

    outsider = user_with(None)
    body = _body(pages.log_in_as(outsider), "/eps/")
    assert "You may not open any EPS node yet." in body and ">A<" not in body


def test_a_rows_forms_are_fetched_for_that_row_with_the_controls_the_user_may_use(pages, world, user_with):
    ids = {key: obj.id for key, obj in world.items()}
    manager = user_with(Role.manager)
    pages.log_in_as(manager)
    forms = _body(pages, f"/eps/nodes/{ids['A1']}/forms?next=/eps/nodes/{ids['A']}")
    assert "<html" not in forms
    for action in (f"/eps/nodes/{ids['A1']}", f"/eps/nodes/{ids['A1']}/protect", f"/eps/nodes/{ids['A1']}/delete",
                   "/eps/move", "/eps/nodes"):
        assert f'action="{action}"' in forms, action
    assert f'name="next" value="/eps/nodes/{ids["A"]}"' in forms and f'value="n{ids["A1"]}"' in forms
    assert f'href="/projects/new?node={ids["A1"]}"' in forms
    assert '<option value="A">' in forms  # a place to move to: the node above, which the manager manages
    project = _body(pages, f"/eps/projects/{ids['PA']}/forms")
    assert f'action="/eps/projects/{ids["PA"]}/delete"' in project and f'value="p{ids["PA"]}"' in project

    editor = user_with(Role.editor)
    pages.log_in_as(editor)
    forms = _body(pages, f"/eps/nodes/{ids['A1']}/forms")
    assert f'action="/eps/nodes/{ids["A1"]}"' in forms and f'href="/projects/new?node={ids["A1"]}"' in forms
    assert "/protect" not in forms and "/delete" not in forms and "/eps/move" not in forms

    viewer = user_with(Role.viewer)
    pages.log_in_as(viewer)
    assert pages.get(f"/eps/nodes/{ids['A1']}/forms").status_code == 403
    assert pages.get(f"/eps/projects/{ids['PA']}/forms").status_code == 403
    assert pages.get(f"/eps/nodes/{ids['B']}/forms").status_code == 404
    assert pages.get(f"/eps/projects/{ids['PB']}/forms").status_code == 404


def test_each_node_has_a_page_to_walk_the_tree_without_scripts(pages, session, admin, world, user_with):
    ids = {key: obj.id for key, obj in world.items()}
    for number in range(3):
        factories.node(session, actor=admin, parent=world["A1"], code=f"A1-{number}")
    session.commit()
    editor = user_with(Role.editor)
    pages.log_in_as(editor)
    body = _body(pages, f"/eps/nodes/{ids['A']}")
    assert f'href="/eps/nodes/{ids["A1"]}"' in body and f'action="/eps/nodes/{ids["A"]}"' in body
    assert ">ROOT<" not in body  # the unreadable root is not on the path
    # A page of the children at a time; the next page is a link.
    body = _body(pages, f"/eps/nodes/{ids['A1']}?per_page=2")
    assert ">A1-0<" in body and ">A1-1<" in body and ">A1-2<" not in body
    assert f'href="/eps/nodes/{ids["A1"]}?page=2&amp;per_page=2"' in body and "Show more (2 of 4)" in body
    body = _body(pages, f"/eps/nodes/{ids['A1']}?page=2&per_page=2")
    assert ">A1-2<" in body and ">PA<" in body and f'href="/eps/nodes/{ids["A"]}"' in body
    body = _body(pages, f"/eps/projects/{ids['PA']}")
    assert f'action="/eps/projects/{ids["PA"]}"' in body and f'href="/eps/nodes/{ids["A1"]}"' in body

    viewer = user_with(Role.viewer)
    pages.log_in_as(viewer)
    body = _body(pages, f"/eps/nodes/{ids['A1']}")
    assert ">PA<" in body and 'action="/eps/' not in body
    assert pages.get(f"/eps/nodes/{ids['B']}").status_code == 404
    assert pages.get(f"/eps/projects/{ids['PB']}").status_code == 404
    assert pages.get(f"/eps/nodes/{ids['B']}/rows").status_code == 404


def test_a_form_goes_back_to_the_page_it_came_from(pages, session, admin, loose):
    pages.log_in_as(admin)
    page = f"/eps/nodes/{loose['X'].id}"
    response = pages.post(f"/eps/nodes/{loose['X'].id}", {"code": "X", "name": "Renamed", "next": page})
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    # From a row's own page, deleting it goes to its parent's page (the row's page is gone).
    body = _body(pages, f"/eps/nodes/{loose['Y'].id}")
    assert f'name="next" value="/eps/nodes/{loose["Y"].parent_id}"' in body
    response = pages.post(f"/eps/nodes/{loose['Y'].id}/delete", {"next": f"/eps/nodes/{loose['Y'].parent_id}"})
    assert response.headers["Location"].endswith(f"/eps/nodes/{loose['Y'].parent_id}")
    response = pages.post(f"/eps/nodes/{loose['X'].id}", {"code": "X", "name": "Again", "next": "https://evil.example/"})
    assert "evil" not in response.headers["Location"]


# Nodes


def test_a_manager_creates_a_node_under_their_node(pages, session, world, user_with):
    manager = user_with(Role.manager)
    response = pages.log_in_as(manager).post("/eps/nodes", {"parent": world["A"].id, "code": "A2", "name": "Второй"})
    assert _flash(pages, response) == ("info", "EPS node A2 created.")
    node = session.scalar(select(EpsNode).where(EpsNode.code == "A2"))
    assert node.parent_id == world["A"].id and node.name == "Второй" and node.path.startswith(world["A"].path)


@pytest.mark.parametrize("role, parent, status", [
    (Role.editor, "A", 403),   # creating structure needs manage rights (as in the API)
    (Role.viewer, "A", 403),
    (Role.manager, "B", 404),  # a node the user may not read
    (Role.manager, None, 403),  # a root: administrators only
])
def test_creating_a_node_is_refused_as_the_api_refuses_it(pages, session, world, user_with, role, parent, status):
    user = user_with(role)
    before = _count(session, EpsNode)
    response = pages.log_in_as(user).post("/eps/nodes", {"parent": world[parent].id if parent else "",
                                                         "code": "NEWN", "name": "New"})
    assert response.status_code == status
    assert _count(session, EpsNode) == before


@pytest.mark.parametrize("data, field", [
    ({"code": "", "name": "New"}, "Code"),
    ({"code": "N" * 41, "name": "New"}, "Code"),
    ({"code": "NEWN", "name": "x" * 201}, "Name"),
    ({"code": "NE\x01W", "name": "New"}, "Code"),
])
def test_bad_input_for_a_node_comes_back_naming_the_field(pages, session, admin, world, data, field):
    before = _count(session, EpsNode)
    response = pages.log_in_as(admin).post("/eps/nodes", {"parent": world["A"].id, **data})
    kind, message = _flash(pages, response)
    assert kind == "error" and message.startswith(field)
    assert _count(session, EpsNode) == before


def test_a_taken_code_is_refused_in_russian_too(pages, session, admin, world):
    admin.locale = "ru"
    session.commit()
    response = pages.log_in_as(admin).post("/eps/nodes", {"parent": world["A"].id, "code": "A1", "name": "Дубль"})
    kind, message = _flash(pages, response)
    assert kind == "error" and "A1" in message and "already" not in message
    assert session.scalar(select(func.count()).where(EpsNode.code == "A1")) == 1


def test_renaming_a_node_changes_its_code_and_name(pages, session, world, user_with):
    editor = user_with(Role.editor)
    response = pages.log_in_as(editor).post(f"/eps/nodes/{world['A1'].id}", {"code": "A1X", "name": "Renamed"})
    assert _flash(pages, response)[0] == "info"
    session.expire_all()
    assert (world["A1"].code, world["A1"].name) == ("A1X", "Renamed")


@pytest.mark.parametrize("role, node, status", [(Role.viewer, "A1", 403), (Role.editor, "B", 404)])
def test_renaming_needs_edit_rights_and_a_readable_node(pages, session, world, user_with, role, node, status):
    user = user_with(role)
    response = pages.log_in_as(user).post(f"/eps/nodes/{world[node].id}", {"code": "Z", "name": "Z"})
    assert response.status_code == status
    session.expire_all()
    assert world[node].code == node


def test_protecting_and_unprotecting_a_node(pages, session, admin, world, user_with):
    manager = user_with(Role.manager)
    pages.log_in_as(manager)
    assert _flash(pages, pages.post(f"/eps/nodes/{world['A1'].id}/protect"))[0] == "info"
    session.expire_all()
    assert world["A1"].protected and world["PA"].protect_path == world["A1"].path
    # Protected now, A1 is out of reach of the grant on A: the manager no longer reads it.
    assert pages.post(f"/eps/nodes/{world['A1'].id}/unprotect").status_code == 404
    assert f'data-item="n{world["A1"].id}"' not in pages.get("/eps/").get_data(as_text=True)
    # A's protection is set by whoever manages above A (the root): not this manager, as in the API.
    assert pages.post(f"/eps/nodes/{world['A'].id}/protect").status_code == 403
    pages.log_in_as(admin)
    assert _flash(pages, pages.post(f"/eps/nodes/{world['A1'].id}/unprotect"))[0] == "info"
    session.expire_all()
    assert not world["A1"].protected and world["PA"].protect_path == ""
    session.expire_all()
    assert not world["A"].protected


def test_deleting_a_node_that_holds_projects_is_refused_and_an_empty_one_goes(pages, session, admin, world, loose):
    pages.log_in_as(admin)
    kind, message = _flash(pages, pages.post(f"/eps/nodes/{loose['X'].id}/delete"))
    assert kind == "error" and "X" in message and "1" in message
    assert session.get(EpsNode, loose["X"].id) is not None
    y = loose["Y"].id
    assert _flash(pages, pages.post(f"/eps/nodes/{y}/delete")) == ("info", "EPS node Y deleted.")
    assert session.scalar(select(EpsNode.id).where(EpsNode.id == y)) is None


def test_deleting_a_node_needs_manage_rights(pages, session, world, user_with):
    editor = user_with(Role.editor)
    assert pages.log_in_as(editor).post(f"/eps/nodes/{world['A1'].id}/delete").status_code == 403
    assert pages.post(f"/eps/nodes/{world['B'].id}/delete").status_code == 404


# Moving


def test_the_move_form_moves_a_node_with_its_subtree(pages, session, admin, loose):
    response = pages.log_in_as(admin).post("/eps/move", {"item": f"n{loose['X'].id}", "parent": loose["Y"].id})
    assert _flash(pages, response) == ("info", "EPS node X moved under Y.")
    session.expire_all()
    assert loose["X"].parent_id == loose["Y"].id
    assert loose["PX"].path.startswith(loose["Y"].path) and loose["PX"].depth == loose["Y"].depth + 2


def test_the_move_to_form_takes_the_code_of_the_node_to_move_under(pages, session, admin, loose):
    response = pages.log_in_as(admin).post("/eps/move", {"item": f"p{loose['PX'].id}", "parent_code": " Y "})
    assert _flash(pages, response) == ("info", "Project PX moved under Y.")
    session.expire_all()
    assert loose["PX"].eps_node_id == loose["Y"].id


def test_a_project_moved_on_the_page_loses_the_codes_of_the_branch_it_left_and_says_so(pages, session, admin, loose):
    from wbs import codes, services as wbs_services
    area = codes.create_code_type(session, actor=admin, scope="eps", name="Area", eps_node=loose["X"])
    north = codes.create_code_value(session, actor=admin, code_type=area, value="N")
    activity = wbs_services.create_activity(session, actor=admin, project=loose["PX"], code="A1", name="Dig")
    codes.set_activity_codes(session, actor=admin, project=loose["PX"], activity=activity, values={area.id: north.id})
    session.commit()
    response = pages.log_in_as(admin).post("/eps/move", {"item": f"p{loose['PX'].id}", "parent": loose["Y"].id})
    assert _flash(pages, response) == ("info", "Project PX moved under Y. Activity code values of the EPS branch it "
                                               "left were removed from 1 project (see the audit log).")
    session.expire_all()
    assert codes.activity_codes(session, activity=activity) == []


def test_whoever_may_not_move_the_item_is_refused_before_the_target_is_looked_at(pages, world, user_with):
    editor = user_with(Role.editor)
    pages.log_in_as(editor)
    assert pages.post("/eps/move", {"item": f"n{world['A1'].id}", "parent_code": "NO SUCH CODE"}).status_code == 403
    assert pages.post("/eps/move", {"item": f"n{world['B'].id}", "parent_code": "NO SUCH CODE"}).status_code == 404


def test_a_code_the_user_may_not_open_is_refused_like_an_unknown_one(pages, session, world, user_with):
    manager = user_with(Role.manager)
    pages.log_in_as(manager)
    refusals = []
    for code in ("B", "NO-SUCH-NODE"):
        kind, message = _flash(pages, pages.post("/eps/move", {"item": f"p{world['PA'].id}", "parent_code": code}))
        assert kind == "error" and code in message
        refusals.append(message.replace(code, "…"))
    assert refusals[0] == refusals[1]
    session.expire_all()
    assert world["PA"].eps_node_id == world["A1"].id


def test_a_drag_sends_the_same_form_and_gets_json(pages, session, admin, loose):
    response = pages.log_in_as(admin).post("/eps/move", {"item": f"p{loose['PX'].id}", "parent": loose["Y"].id},
                                           headers=FETCH)
    assert response.status_code == 200 and response.get_json()["message"] == "Project PX moved under Y."
    session.expire_all()
    assert loose["PX"].eps_node_id == loose["Y"].id


def test_moving_a_node_under_its_own_child_is_refused(pages, session, admin, world):
    before = world["A"].path
    response = pages.log_in_as(admin).post("/eps/move", {"item": f"n{world['A'].id}", "parent": world["A1"].id})
    kind, message = _flash(pages, response)
    assert kind == "error" and "A1" in message and "descendant" in message
    response = pages.post("/eps/move", {"item": f"n{world['A'].id}", "parent": world["A1"].id}, headers=FETCH)
    assert response.status_code == 409 and "descendant" in response.get_json()["message"]
    session.expire_all()
    assert world["A"].path == before


def test_moving_needs_manage_rights_on_both_ends(pages, session, world, user_with, loose):
    editor = user_with(Role.editor)
    pages.log_in_as(editor)
    assert pages.post("/eps/move", {"item": f"p{world['PA'].id}", "parent": world["A"].id}).status_code == 403
    manager = user_with(Role.manager)
    pages.log_in_as(manager)
    # The target (Y, under the root) is not the manager's to read: 404, as the API answers.
    assert pages.post("/eps/move", {"item": f"p{world['PA'].id}", "parent": loose["Y"].id}).status_code == 404
    session.expire_all()
    assert world["PA"].eps_node_id == world["A1"].id


@pytest.mark.parametrize("data, field", [({"item": "", "parent": ""}, "Move"), ({"item": "q1", "parent": ""}, None),
                                          ({"item": "n{A}", "parent": "abc"}, None),
                                          ({"item": "n{A}", "parent_code": "NO SUCH CODE"}, None)])
def test_a_move_of_nothing_comes_back_with_a_reason(pages, session, admin, world, data, field):
    data = {key: value.format(A=world["A"].id) for key, value in data.items()}
    kind, message = _flash(pages, pages.log_in_as(admin).post("/eps/move", data))
    assert kind == "error" and (field is None or message.startswith(field))


def test_a_project_needs_a_node_to_go_under(pages, session, admin, loose):
    kind, message = _flash(pages, pages.log_in_as(admin).post("/eps/move", {"item": f"p{loose['PX'].id}",
                                                                              "parent": ""}))
    assert kind == "error" and "node" in message


# Projects on the tree


def test_renaming_protecting_and_deleting_a_project(pages, session, admin, loose):
    pages.log_in_as(admin)
    assert _flash(pages, pages.post(f"/eps/projects/{loose['PX'].id}", {"code": "PX2", "name": "Renamed"}))[0] == "info"
    assert _flash(pages, pages.post(f"/eps/projects/{loose['PX'].id}/protect"))[0] == "info"
    session.expire_all()
    assert (loose["PX"].code, loose["PX"].name, loose["PX"].protected) == ("PX2", "Renamed", True)
    px = loose["PX"].id
    assert _flash(pages, pages.post(f"/eps/projects/{px}/delete")) == ("info", "Project PX2 deleted.")
    assert session.scalar(select(Project.id).where(Project.id == px)) is None


def test_a_project_with_a_budget_is_not_deleted(pages, session, admin, world):
    kind, message = _flash(pages, pages.log_in_as(admin).post(f"/eps/projects/{world['PA'].id}/delete"))
    assert kind == "error" and "PA" in message
    assert session.get(Project, world["PA"].id) is not None


@pytest.mark.parametrize("role, project, status", [(Role.viewer, "PA", 403), (Role.editor, "PA", 403),
                                                    (Role.manager, "PB", 404)])
def test_deleting_a_project_needs_manage_rights(pages, session, world, user_with, role, project, status):
    user = user_with(role)
    assert pages.log_in_as(user).post(f"/eps/projects/{world[project].id}/delete").status_code == status
    assert session.get(Project, world[project].id) is not None


# A blank project


def test_the_new_project_form_lists_the_nodes_the_user_may_create_under(pages, world, user_with):
    editor = user_with(Role.editor)
    body = pages.log_in_as(editor).get(f"/projects/new?node={world['A1'].id}").get_data(as_text=True)
    assert f'<option value="{world["A1"].id}" selected>' in body and f'value="{world["B"].id}"' not in body
    assert 'href="/projects/new"' in pages.get("/projects/").get_data(as_text=True)


def test_a_blank_project_is_created_with_its_plan(pages, session, world, user_with):
    editor = user_with(Role.editor)
    response = pages.log_in_as(editor).post("/projects/new", {
        "name": "Новый склад", "code": "SKLAD", "node": world["A1"].id, "planned_start": "2026-03-02",
        "data_date": "", "calendar": ""})
    project = session.scalar(select(Project).where(Project.code == "SKLAD"))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/projects/{project.id}")
    assert project.eps_node_id == world["A1"].id and project.name == "Новый склад"
    plan = session.get(ProjectPlan, project.id)
    assert plan.planned_start == datetime(2026, 3, 2, 8) and plan.data_date == datetime(2026, 3, 2, 8)
    assert plan.progress_mode == "retained_logic"


def test_a_blank_project_without_a_code_gets_one_from_its_name(pages, session, admin, world):
    factories.project(session, actor=admin, node=world["A1"], code="LADOGA-PORT")
    session.commit()
    pages.log_in_as(admin)
    assert pages.get("/projects/new/code?name=Ладога Порт").get_json() == {"code": "LADOGA-PORT-2"}
    assert 'value="LADOGA-PORT-2"' in pages.get("/projects/new?name=Ладога Порт").get_data(as_text=True)
    pages.post("/projects/new", {"name": "Ладога Порт", "code": "", "node": world["A1"].id})
    assert session.scalar(select(Project).where(Project.code == "LADOGA-PORT-2")).name == "Ладога Порт"


def test_a_blank_project_takes_a_calendar_and_a_data_date(pages, session, admin, world):
    calendar = wbs_services.create_calendar(session, actor=admin, name="Пятидневка", week=WEEK)
    session.commit()
    pages.log_in_as(admin).post("/projects/new", {"name": "Cal", "code": "CAL", "node": world["A"].id,
                                                  "planned_start": "2026-03-02", "data_date": "2026-03-09",
                                                  "calendar": calendar.id})
    plan = session.get(ProjectPlan, session.scalar(select(Project.id).where(Project.code == "CAL")))
    assert plan.default_calendar_id == calendar.id and plan.data_date == datetime(2026, 3, 9, 8)


@pytest.mark.parametrize("role, node, status", [(Role.viewer, "A1", 403), (Role.editor, "B", 404)])
def test_a_blank_project_needs_edit_rights_on_a_readable_node(pages, session, world, user_with, role, node, status):
    user = user_with(role)
    before = _count(session, Project)
    response = pages.log_in_as(user).post("/projects/new", {"name": "N", "code": "NOPE", "node": world[node].id})
    assert response.status_code == status and _count(session, Project) == before


@pytest.mark.parametrize("data, field", [
    ({"name": "", "code": "Q"}, "Name"),
    ({"name": "Q", "code": "Q" * 41}, "Code"),
    ({"name": "Q", "code": "Q", "planned_start": "2026-02-30"}, "Planned start"),
    ({"name": "Q", "code": "Q", "data_date": "yesterday"}, "Data date"),
    ({"name": "Q", "code": "Q", "calendar": "x"}, "Choose a calendar"),
    ({"name": "Q", "code": "PA"}, None),  # a taken code
])
def test_bad_input_for_a_blank_project_writes_nothing(pages, session, admin, world, data, field):
    before = _count(session, Project), _count(session, ProjectPlan)
    response = pages.log_in_as(admin).post("/projects/new", {"node": world["A1"].id, **data})
    kind, message = _flash(pages, response)
    assert kind == "error" and (field is None or message.startswith(field)), message
    assert (_count(session, Project), _count(session, ProjectPlan)) == before


def test_an_unknown_calendar_is_not_found_and_nothing_is_written(pages, session, admin, world):
    before = _count(session, Project), _count(session, ProjectPlan)
    response = pages.log_in_as(admin).post("/projects/new", {"node": world["A1"].id, "name": "Q", "code": "Q",
                                                             "calendar": "999999"})
    assert response.status_code == 404
    assert (_count(session, Project), _count(session, ProjectPlan)) == before


# Settings


def test_settings_are_saved_through_the_plan_service(pages, session, world, user_with):
    editor = user_with(Role.editor)
    project = world["PA"]
    pages.log_in_as(editor)
    body = pages.get(f"/projects/{project.id}/settings").get_data(as_text=True)
    assert "Save settings" in body and "Retained logic" in body
    response = pages.post(f"/projects/{project.id}/settings", {
        "data_date": "2026-04-01T09:00", "planned_start": "2026-03-02", "must_finish_by": "2026-12-31",
        "calendar": "", "time_zone": "Asia/Yekaterinburg", "progress_mode": "progress_override",
        "lag_calendar": "24_hour", "float_type": "smallest", "critical_definition": "longest_path",
        "critical_float_hours": "1 000,5", "open_ended_critical": "y"})
    assert _flash(pages, response)[0] == "info"
    session.expire_all()
    plan = session.get(ProjectPlan, project.id)
    assert (plan.data_date, plan.planned_start, plan.must_finish_by) == (
        datetime(2026, 4, 1, 9), datetime(2026, 3, 2, 8), datetime(2026, 12, 31, 17))
    assert (plan.time_zone, plan.progress_mode, plan.lag_calendar, plan.float_type, plan.critical_definition) == (
        "Asia/Yekaterinburg", "progress_override", "24_hour", "smallest", "longest_path")
    assert plan.critical_float_hours == 1000.5 and plan.open_ended_critical and not plan.use_expected_finish


def test_settings_read_only_for_a_viewer_and_hidden_from_others(pages, session, world, user_with):
    viewer = user_with(Role.viewer)
    pages.log_in_as(viewer)
    body = pages.get(f"/projects/{world['PA'].id}/settings").get_data(as_text=True)
    assert "Save settings" not in body and "disabled" in body
    assert pages.post(f"/projects/{world['PA'].id}/settings", {"time_zone": "UTC", "progress_mode": "retained_logic",
                                                              "lag_calendar": "predecessor", "float_type": "finish",
                                                              "critical_definition": "total_float"}).status_code == 403
    assert pages.get(f"/projects/{world['PB'].id}/settings").status_code == 404
    assert pages.post(f"/projects/{world['PB'].id}/settings", {"time_zone": "UTC"}).status_code == 404


@pytest.mark.parametrize("change, field", [
    ({"time_zone": "Mars/Olympus"}, None),
    ({"progress_mode": "whatever"}, "Progress"),
    ({"critical_float_hours": "many"}, None),
    ({"data_date": "2026-13-01"}, "Data date"),
])
def test_bad_settings_come_back_and_change_nothing(pages, session, admin, world, change, field):
    project = world["PA"]
    wbs_services.get_plan(session, project=project)
    session.commit()
    before = session.get(ProjectPlan, project.id).audit_state()
    data = {"time_zone": "Europe/Moscow", "progress_mode": "retained_logic", "lag_calendar": "predecessor",
            "float_type": "finish", "critical_definition": "total_float", "critical_float_hours": "0", **change}
    kind, message = _flash(pages, pages.log_in_as(admin).post(f"/projects/{project.id}/settings", data))
    assert kind == "error" and (field is None or message.startswith(field)), message
    session.expire_all()
    assert session.get(ProjectPlan, project.id).audit_state() == before

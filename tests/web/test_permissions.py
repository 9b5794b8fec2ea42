"""Pages grant exactly what the API grants: 404 for what the user may not read, 403 for what they may not change.

The user holds one role on node A. Pages about A and below open for every
role; pages about B (a sibling) are 404 and show nothing of B. Actions need
the permission the domain service asks for, else 403 and nothing changes.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from eps.models import BudgetChange, ChangeStatus, Grant, Role
from eps.permissions import ROLE_PERMISSIONS, Permission
from wbs.models import ActivityCodeType

ROLES = [None, *Role]

READ_PAGES = {
    "node": "/finance/nodes/{A1}",
    "project": "/finance/projects/{PA}",
    "rows": "/finance/nodes/{A}/rows",
    "access": "/admin/nodes/{A}/access",
    "project_access": "/admin/projects/{PA}/access",
    "plan_export": "/finance/nodes/{A}/plan.xlsx",
    "eps_node": "/eps/nodes/{A1}",
    "eps_project": "/eps/projects/{PA}",
    "eps_rows": "/eps/nodes/{A}/rows",
    "eps_codes": "/eps/nodes/{A1}/codes",
}
HIDDEN_PAGES = {
    "node": "/finance/nodes/{B}",
    "project": "/finance/projects/{PB}",
    "rows": "/finance/nodes/{B}/rows",
    "access": "/admin/nodes/{B}/access",
    "project_access": "/admin/projects/{PB}/access",
    "plan_export": "/finance/nodes/{B}/plan.xlsx",
    "eps_node": "/eps/nodes/{B}",
    "eps_project": "/eps/projects/{PB}",
    "eps_rows": "/eps/nodes/{B}/rows",
    "eps_node_forms": "/eps/nodes/{B}/forms",
    "eps_project_forms": "/eps/projects/{PB}/forms",
    "eps_codes": "/eps/nodes/{B}/codes",
    "missing": "/finance/nodes/999999",
}


def _ids(world):
    return {key: obj.id for key, obj in world.items()}


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "no-grant")
@pytest.mark.parametrize("page", sorted(HIDDEN_PAGES))
def test_unreadable_is_a_404_page_showing_nothing_of_it(pages, world, user_with, role, page):
    pages.log_in_as(user_with(role))
    response = pages.get(HIDDEN_PAGES[page].format(**_ids(world)))
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/html" and "<html" in body
    # (Codes are checked as element text: a random CSRF token may well contain the letters "PB".)
    assert "Secret" not in body and ">B<" not in body and ">PB<" not in body


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("page", sorted(READ_PAGES))
def test_readable_pages_open_for_every_role(pages, world, user_with, role, page):
    pages.log_in_as(user_with(role))
    response = pages.get(READ_PAGES[page].format(**_ids(world)))
    assert response.status_code == 200


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("path", ["/eps/nodes/{A1}/forms", "/eps/projects/{PA}/forms"])
def test_a_rows_forms_open_for_whoever_may_edit_it_and_are_a_403_for_the_others(pages, world, user_with, role, path):
    pages.log_in_as(user_with(role))
    response = pages.get(path.format(**_ids(world)))
    assert response.status_code == (200 if Permission.edit in ROLE_PERMISSIONS[role] else 403)


# name: (path, form data, permissions any of which allows it)
ACTIONS = {
    "request_change": ("/finance/nodes/{A1}/changes", {"amount": "10", "reason": "r"},
                       {Permission.budget, Permission.manage}),
    "approve_change": ("/finance/changes/{change}/approve", {}, {Permission.budget}),
    "reject_change": ("/finance/changes/{change}/reject", {}, {Permission.budget}),
    "grant": ("/admin/nodes/{A1}/access", {"principal": "u{other}", "role": "viewer"}, {Permission.manage}),
    "node_code_type": ("/eps/nodes/{A1}/codes", {"name": "Discipline"}, {Permission.edit}),
}


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "no-grant")
@pytest.mark.parametrize("place", ["inside", "outside"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_actions_need_the_services_permission(pages, session, world, user_with, admin, role, action, place):
    user = user_with(role)
    pages.log_in_as(user)
    ids = _ids(world) | {"other": admin.id}
    if place == "outside":
        ids |= {"A1": world["B"].id, "change": _change_on_b(session, world, admin).id}
    path, data, needed = ACTIONS[action]
    before = _state(session)
    response = pages.post(path.format(**ids), {key: value.format(**ids) for key, value in data.items()})
    granted = ROLE_PERMISSIONS[role] if role else frozenset()
    if place == "outside" or role is None:
        assert response.status_code == 404
    elif granted & needed:
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        assert _state(session) != before
        return
    else:
        assert response.status_code == 403
        assert "<html" in response.get_data(as_text=True)
    assert _state(session) == before


def _change_on_b(session, world, admin):
    from decimal import Decimal

    from eps import budgets

    change = budgets.request_change(session, actor=admin, obj=world["PB"], amount=Decimal("5.00"), reason="b")
    session.commit()
    return change


def _state(session):
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(BudgetChange)),
        session.scalar(select(func.count()).select_from(BudgetChange).where(BudgetChange.status != ChangeStatus.pending)),
        session.scalar(select(func.count()).select_from(Grant)),
        session.scalar(select(func.count()).select_from(ActivityCodeType)),
    )


@pytest.mark.parametrize("role", [Role.viewer, Role.editor], ids=lambda r: r.value)
def test_read_only_pages_show_no_controls(pages, world, user_with, role):
    pages.log_in_as(user_with(role))
    body = pages.get(f"/finance/projects/{world['PA'].id}").get_data(as_text=True)
    assert "more" in body  # the pending change is listed
    assert "/changes/" not in body and 'action="/finance/projects' not in body
    access = pages.get(f"/admin/nodes/{world['A'].id}/access").get_data(as_text=True)
    assert "/remove" not in access and 'name="principal"' not in access


def test_finance_sees_decision_controls_manager_the_request_form(pages, world, user_with):
    finance = pages.log_in_as(user_with(Role.finance)).get(f"/finance/projects/{world['PA'].id}")
    assert f"/finance/changes/{world['change'].id}/approve" in finance.get_data(as_text=True)
    manager = pages.log_in_as(user_with(Role.manager)).get(f"/finance/projects/{world['PA'].id}")
    body = manager.get_data(as_text=True)
    assert "/approve" not in body and f'action="/finance/projects/{world["PA"].id}/changes"' in body


@pytest.mark.parametrize("path", ["/admin/users", "/admin/teams", "/admin/grants", "/admin/preview"])
def test_admin_pages_are_for_admins(pages, world, user_with, admin, path):
    pages.log_in_as(user_with(Role.manager))
    assert pages.get(path).status_code == 403
    pages.log_in_as(admin)
    assert pages.get(path).status_code == 200


def test_non_admin_cannot_create_users(pages, session, user_with):
    pages.log_in_as(user_with(Role.manager))
    response = pages.post("/admin/users", {"email": "x@example.test", "name": "X", "password": "long-password",
                                           "locale": "en"})
    assert response.status_code == 403
    from crmpm.users import services as users

    assert users.get_by_email(session, email="x@example.test") is None


def test_tree_starts_where_the_grant_is(pages, world, user_with):
    pages.log_in_as(user_with(Role.viewer))
    body = pages.get("/finance/").get_data(as_text=True)
    assert f'data-id="{world["A"].id}"' in body
    assert "ROOT" not in body and "Secret" not in body
    rows = pages.get(f"/finance/nodes/{world['A'].id}/rows?level=1").get_data(as_text=True)
    assert ">A1<" in rows


def test_export_leaves_out_what_is_not_readable(pages, world, user_with):
    from io import BytesIO

    from openpyxl import load_workbook

    pages.log_in_as(user_with(Role.viewer))
    ids = ",".join(str(world[key].id) for key in ("root", "A", "A1", "B"))
    response = pages.get(f"/finance/tree.xlsx?open={ids}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(BytesIO(response.data)).active
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert codes == ["A", "A1", "PA"]

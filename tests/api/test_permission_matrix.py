"""Every role × every endpoint × inside or outside the granted subtree.

The user holds one grant on node A. Inside the subtree an action succeeds when
the role includes the permission it needs and is refused with 403 otherwise;
outside it (under B), and for a user without grants, everything is 404.
"""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from eps import budgets
from eps.permissions import ROLE_PERMISSIONS, Permission
from eps.models import Role
from tests import factories
from tests.leaks import hidden_mentions
from wbs import baselines, codes, udfs
from wbs import services as wbs_services

ROLES = [None, *Role]


@pytest.fixture
def world(session, admin):
    root = factories.node(session, actor=admin, code="ROOT", budget="1000.00")
    objects = {"root": root}
    for side in ("A", "B"):
        top = factories.node(session, actor=admin, parent=root, code=side, budget="500.00")
        n1 = factories.node(session, actor=admin, parent=top, code=f"{side}1", budget="200.00")
        n2 = factories.node(session, actor=admin, parent=top, code=f"{side}2", budget="250.00")
        p1 = factories.project(session, actor=admin, node=n1, code=f"P{side}1", budget="100.00")
        p2 = factories.project(session, actor=admin, node=n1, code=f"P{side}2")
        change = budgets.request_change(session, actor=admin, obj=p1, amount=Decimal("50.00"), reason="more")
        n3 = factories.node(session, actor=admin, parent=top, code=f"{side}3")
        baseline = baselines.create_baseline(session, actor=admin, project=p1, name=f"BL {side}")
        objects[side] = {"top": top, "n1": n1, "n2": n2, "n3": n3, "p1": p1, "p2": p2, "change": change,
                         "baseline": baseline} | _codes(session, admin, side, n1, p1)
        objects[side] |= _timesheet(session, admin, side, objects[side]["activity"])
        objects[side] |= _pool(session, admin, side, objects[side]["activity"])
        objects[side] |= _billing(session, admin, side, n2, p1)
        objects[side] |= _payments(session, admin, objects[side]["client"], p1)
    objects["other"] = factories.user(session)
    session.commit()
    return objects


def _codes(session, admin, side, node, project):
    """An activity of ``project`` with a code type of the project and one of ``node`` (a value each), and an
    activity and a project user-defined field."""
    activity = wbs_services.create_activity(session, actor=admin, project=project, code=f"ACT{side}", name="Act")
    ptype = codes.create_code_type(session, actor=admin, scope="project", name=f"Phase {side}", project=project)
    etype = codes.create_code_type(session, actor=admin, scope="eps", name=f"Area {side}", eps_node=node)
    return {"activity": activity, "ptype": ptype, "etype": etype,
            "pvalue": codes.create_code_value(session, actor=admin, code_type=ptype, value="DES"),
            "evalue": codes.create_code_value(session, actor=admin, code_type=etype, value="NORTH"),
            "audf": udfs.create_udf_type(session, actor=admin, subject="activity", name=f"Note {side}",
                                         data_type="text"),
            "pudf": udfs.create_udf_type(session, actor=admin, subject="project", name=f"Status {side}",
                                         data_type="indicator")}


def _timesheet(session, admin, side, activity):
    """A resource of its own user assigned to ``activity``, with a submitted week of 8 hours on it."""
    from tests.wbs.resources import timesheet_world
    from wbs.resources import timesheets

    owner = factories.user(session)
    resource, _assignments = timesheet_world.resource_for(session, user=owner, code=f"R{side}",
                                                          activities=((activity, 40.0),))
    week = timesheet_world.MONDAY
    timesheets.save_week(session, actor=owner, resource=resource, week=week,
                         lines=[{"activity_id": activity.id, "day": week, "hours": Decimal("8")}])
    return {"ts_resource": resource, "sheet": timesheets.submit(session, actor=owner, resource=resource, week=week)}


def _billing(session, admin, side, node, project):
    """A client account on ``node``, two billing milestones of ``project`` and two invoices: a draft and one issued."""
    from accounts.billing import invoices, milestones
    from accounts.services import create_account

    account = create_account(session, actor=admin, name=f"Client {side}", eps_node=node, code=f"CL{side}")
    line = [invoices.LineInput("Work", Decimal("1"), Decimal("100.00"))]
    draft = invoices.create_manual(session, actor=admin, project=project, account_id=account.id, base_currency="RUB",
                                   lines=line)
    issued = invoices.create_manual(session, actor=admin, project=project, account_id=account.id, base_currency="RUB",
                                    lines=line)
    invoices.issue(session, actor=admin, invoice=issued)
    return {"client": account, "draft": draft, "issued": issued,
            "milestone": milestones.create(session, actor=admin, project=project, name="M1", amount=Decimal("10.00")),
            "milestone2": milestones.create(session, actor=admin, project=project, name="M2", amount=Decimal("20.00"))}


def _pool(session, admin, side, activity):
    """A resource of the pool and its assignment to ``activity``."""
    resource = factories.resource(session, actor=admin, code=f"RSRC{side}", price="10.00")
    return {"resource": resource, "assignment": factories.assignment(session, actor=admin, activity=activity,
                                                                     resource=resource)}


def _payments(session, admin, account, project):
    """An issued invoice of ``project`` to ``account`` and a payment matched to it."""
    from accounts.billing import payments
    from tests.accounts.billing.factories import issued_invoice

    invoice = issued_invoice(session, project=project, account=account, total="100.00")
    payment = payments.record_payment(session, actor=admin, amount=Decimal("40.00"), paid_on=date(2026, 12, 5),
                                      invoice_id=invoice.id)
    return {"invoice": invoice, "payment": payment}


# name: (method, path, body, permissions any of which allows it, success status)
ACTIONS = {
    "read_node": ("GET", "/api/v1/eps/nodes/{n1}", None, {Permission.read}, 200),
    "rename_node": ("PATCH", "/api/v1/eps/nodes/{n1}", {"name": "Renamed"}, {Permission.edit}, 200),
    "create_child_node": ("POST", "/api/v1/eps/nodes", {"code": "NEW", "name": "New", "parent_id": "{n1}"},
                          {Permission.manage}, 201),
    "move_node": ("POST", "/api/v1/eps/nodes/{n1}/move", {"parent_id": "{n2}"}, {Permission.manage}, 200),
    "delete_node": ("DELETE", "/api/v1/eps/nodes/{n3}", None, {Permission.manage}, 204),
    "list_children": ("GET", "/api/v1/eps/nodes/{n1}/children", None, {Permission.read}, 200),
    "read_project": ("GET", "/api/v1/projects/{p1}", None, {Permission.read}, 200),
    "edit_project": ("PATCH", "/api/v1/projects/{p1}", {"description": "x"}, {Permission.edit}, 200),
    "create_project": ("POST", "/api/v1/projects", {"code": "PNEW", "name": "New", "eps_node_id": "{n1}"},
                       {Permission.edit}, 201),
    "move_project": ("POST", "/api/v1/projects/{p2}/move", {"eps_node_id": "{n2}"}, {Permission.manage}, 200),
    "delete_project": ("DELETE", "/api/v1/projects/{p2}", None, {Permission.manage}, 204),
    "read_budget": ("GET", "/api/v1/eps/nodes/{n1}/budget", None, {Permission.read}, 200),
    "set_budget": ("PUT", "/api/v1/eps/nodes/{n1}/budget", {"original_budget": "150.00"}, {Permission.budget}, 200),
    "request_change": ("POST", "/api/v1/projects/{p1}/budget/changes", {"amount": "10.00", "reason": "r"},
                       {Permission.budget, Permission.manage}, 201),
    "list_changes": ("GET", "/api/v1/projects/{p1}/budget/changes", None, {Permission.read}, 200),
    "approve_change": ("POST", "/api/v1/projects/{p1}/budget/changes/{change}/approve", {}, {Permission.budget}, 200),
    "reject_change": ("POST", "/api/v1/projects/{p1}/budget/changes/{change}/reject", {}, {Permission.budget}, 200),
    "read_plan": ("GET", "/api/v1/eps/nodes/{n1}/budget/spending-plan", None, {Permission.read}, 200),
    "set_plan": ("PUT", "/api/v1/eps/nodes/{n1}/budget/spending-plan",
                 {"months": [{"month": "2026-01", "amount": "10.00"}]}, {Permission.budget}, 200),
    "grant_on_node": ("POST", "/api/v1/grants", {"user_id": "{other}", "node_id": "{n1}", "role": "viewer"},
                      {Permission.manage}, 201),
    "list_grants_on_node": ("GET", "/api/v1/grants?node_id={n1}", None, {Permission.read}, 200),
    "read_audit": ("GET", "/api/v1/audit?entity_type=eps_nodes&entity_id={n1}", None, {Permission.manage}, 200),
    # Reached through the change: a refusal names the change asked about, not its project.
    "read_change_audit": ("GET", "/api/v1/audit?entity_type=budget_changes&entity_id={change}", None,
                          {Permission.manage}, 200),
    "my_access": ("GET", "/api/v1/me/access?node_id={n1}", None, {Permission.read}, 200),
    # Work handed to a job is refused, as the synchronous request would be, before any job exists.
    "schedule_as_job": ("POST", "/api/v1/projects/{p1}/schedule?async=true", None, {Permission.edit}, 202),
    "export_xer_as_job": ("GET", "/api/v1/projects/{p1}/export/xer?async=true", None, {Permission.read}, 202),
    "level_project": ("POST", "/api/v1/projects/{p1}/levelling", {"threshold_percent": 120}, {Permission.edit}, 202),
    "level_node": ("POST", "/api/v1/eps/nodes/{n1}/levelling", {}, {Permission.edit}, 202),
    "read_levelling": ("GET", "/api/v1/projects/{p1}/levelling", None, {Permission.read}, 200),
    "project_paperwork": ("POST", "/api/v1/projects/{p1}/paperwork", {"kind": "contract", "format": "docx"},
                          {Permission.edit}, 201),
    "list_baselines": ("GET", "/api/v1/projects/{p1}/baselines", None, {Permission.read}, 200),
    "take_baseline": ("POST", "/api/v1/projects/{p1}/baselines", {"name": "Taken"}, {Permission.edit}, 201),
    "read_baseline": ("GET", "/api/v1/baselines/{baseline}", None, {Permission.read}, 200),
    "baseline_variance": ("GET", "/api/v1/baselines/{baseline}/variance", None, {Permission.read}, 200),
    "choose_baseline": ("PATCH", "/api/v1/baselines/{baseline}", {"role": "secondary"}, {Permission.edit}, 200),
    "delete_baseline": ("DELETE", "/api/v1/baselines/{baseline}", None, {Permission.edit}, 204),
    "list_code_types": ("GET", "/api/v1/projects/{p1}/activity-code-types", None, {Permission.read}, 200),
    "read_code_type": ("GET", "/api/v1/activity-code-types/{ptype}", None, {Permission.read}, 200),
    "create_project_code_type": ("POST", "/api/v1/activity-code-types",
                                 {"scope": "project", "project_id": "{p1}", "name": "New"}, {Permission.edit}, 201),
    "create_eps_code_type": ("POST", "/api/v1/activity-code-types",
                             {"scope": "eps", "eps_node_id": "{n1}", "name": "New"}, {Permission.edit}, 201),
    "rename_code_type": ("PATCH", "/api/v1/activity-code-types/{etype}", {"name": "Renamed"}, {Permission.edit}, 200),
    "list_code_values": ("GET", "/api/v1/activity-code-types/{etype}/values", None, {Permission.read}, 200),
    "add_code_value": ("POST", "/api/v1/activity-code-types/{ptype}/values", {"value": "BLD"}, {Permission.edit},
                       201),
    "edit_code_value": ("PATCH", "/api/v1/activity-code-types/{ptype}/values/{pvalue}", {"description": "Design"},
                        {Permission.edit}, 200),
    "delete_code_value": ("DELETE", "/api/v1/activity-code-types/{ptype}/values/{pvalue}", None, {Permission.edit},
                          200),
    "delete_code_type": ("DELETE", "/api/v1/activity-code-types/{etype}", None, {Permission.edit}, 200),
    "read_activity_codes": ("GET", "/api/v1/projects/{p1}/activities/{activity}/codes", None, {Permission.read},
                            200),
    "set_activity_codes": ("PUT", "/api/v1/projects/{p1}/activities/{activity}/codes",
                           {"codes": [{"type_id": "{ptype}", "value_id": "{pvalue}"},
                                      {"type_id": "{etype}", "value_id": "{evalue}"}]}, {Permission.edit}, 200),
    "read_activity_udfs": ("GET", "/api/v1/projects/{p1}/activities/{activity}/udfs", None, {Permission.read}, 200),
    "set_activity_udfs": ("PUT", "/api/v1/projects/{p1}/activities/{activity}/udfs",
                          {"values": [{"type_id": "{audf}", "value": "checked"}]}, {Permission.edit}, 200),
    "read_project_udfs": ("GET", "/api/v1/projects/{p1}/udfs", None, {Permission.read}, 200),
    "set_project_udfs": ("PUT", "/api/v1/projects/{p1}/udfs", {"values": [{"type_id": "{pudf}", "value": "green"}]},
                         {Permission.edit}, 200),
    # A timesheet is read by whoever reads a project its resource works on, changed by its own user only.
    "read_timesheet": ("GET", "/api/v1/timesheets/{ts_resource}/2026-11-30", None, {Permission.read}, 200),
    "save_timesheet": ("PUT", "/api/v1/timesheets/{ts_resource}/2026-11-30", {"lines": []}, set(), 200),
    "submit_timesheet": ("POST", "/api/v1/timesheets/{ts_resource}/2026-11-30/submit", None, set(), 200),
    "approve_timesheet": ("POST", "/api/v1/timesheets/{sheet}/approve", {"project_id": "{p1}"}, {Permission.edit},
                          200),
    "reject_timesheet": ("POST", "/api/v1/timesheets/{sheet}/reject", {"project_id": "{p1}", "reason": "r"},
                         {Permission.edit}, 200),
    "lock_timesheets": ("POST", "/api/v1/timesheet-locks", {"eps_node_id": "{n1}", "locked_through": "2026-11-29"},
                        {Permission.budget}, 201),
    "list_assignments": ("GET", "/api/v1/projects/{p1}/assignments", None, {Permission.read}, 200),
    "read_assignment": ("GET", "/api/v1/projects/{p1}/assignments/{assignment}", None, {Permission.read}, 200),
    "add_assignment": ("POST", "/api/v1/projects/{p1}/assignments",
                       {"activity_id": "{activity}", "resource_id": "{resource}"}, {Permission.edit}, 201),
    "change_assignment": ("PATCH", "/api/v1/projects/{p1}/assignments/{assignment}", {"budgeted_units": 4.0},
                          {Permission.edit}, 200),
    "remove_assignment": ("DELETE", "/api/v1/projects/{p1}/assignments/{assignment}", None, {Permission.edit}, 204),
    "capacity_of_node": ("GET", "/api/v1/capacity?from=2027-01-01&to=2027-03-31&period=month&eps_node_id={n1}&demand=1",
                         None, {Permission.read}, 200),
    "list_expenses": ("GET", "/api/v1/projects/{p1}/expenses", None, {Permission.read}, 200),
    "export_1c_of_node": ("GET", "/api/v1/accounting/export?from=2026-11-01&to=2026-11-30&eps_node_id={n1}", None,
                          {Permission.budget}, 200),
    "capacity_of_branch": ("GET", "/api/v1/capacity?from=2027-01-04&to=2027-01-31&period=week&branch_id={n1}", None,
                           {Permission.read}, 200),
    # Invoices and milestones follow their project: read to see, budget rights to bill.
    "create_invoice": ("POST", "/api/v1/invoices", {"project_id": "{p1}", "account_id": "{client}",
                                                    "lines": [{"description": "x", "quantity": "1", "unit_price": "1.00"}]},
                       {Permission.budget}, 201),
    "invoice_milestones": ("POST", "/api/v1/invoices", {"project_id": "{p1}", "account_id": "{client}",
                                                        "milestone_ids": ["{milestone}"]}, {Permission.budget}, 201),
    "read_invoice": ("GET", "/api/v1/invoices/{issued}", None, {Permission.read}, 200),
    "change_invoice": ("PATCH", "/api/v1/invoices/{draft}", {"note": "n"}, {Permission.budget}, 200),
    "delete_invoice": ("DELETE", "/api/v1/invoices/{draft}", None, {Permission.budget}, 204),
    "issue_invoice": ("POST", "/api/v1/invoices/{draft}/issue", {}, {Permission.budget}, 200),
    "cancel_invoice": ("POST", "/api/v1/invoices/{issued}/cancel", {"reason": "r"}, {Permission.budget}, 200),
    "act_invoice": ("POST", "/api/v1/invoices/{issued}/act", {"act_date": "2026-12-01"}, {Permission.budget}, 200),
    "list_milestones": ("GET", "/api/v1/projects/{p1}/billing-milestones", None, {Permission.read}, 200),
    "read_milestone": ("GET", "/api/v1/projects/{p1}/billing-milestones/{milestone}", None, {Permission.read}, 200),
    "add_milestone": ("POST", "/api/v1/projects/{p1}/billing-milestones", {"name": "M", "amount": "5.00"},
                      {Permission.budget}, 201),
    "change_milestone": ("PATCH", "/api/v1/projects/{p1}/billing-milestones/{milestone2}", {"amount": "6.00"},
                         {Permission.budget}, 200),
    "delete_milestone": ("DELETE", "/api/v1/projects/{p1}/billing-milestones/{milestone2}", None,
                         {Permission.budget}, 204),
    "project_billing": ("GET", "/api/v1/projects/{p1}/billing", None, {Permission.read}, 200),
    "node_billing": ("GET", "/api/v1/eps/nodes/{n1}/billing", None, {Permission.read}, 200),
    # The client portal, for staff: clients' decisions read with the project, surveys asked with edit rights.
    "portal_approvals": ("GET", "/api/v1/projects/{p1}/portal-approvals", None, {Permission.read}, 200),
    "ask_survey": ("POST", "/api/v1/projects/{p1}/survey-requests", {"kind": "nps", "milestone_id": "{milestone}"},
                   {Permission.edit}, 201),
}


def _fill(template, ids):
    if isinstance(template, str):
        filled = template.format(**ids)
        return int(filled) if template.startswith("{") and filled.isdigit() else filled
    if isinstance(template, dict):
        return {key: _fill(value, ids) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, ids) for value in template]
    return template


@pytest.mark.parametrize("place", ["inside", "outside"])
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "no-grant")
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_permission_matrix(api, session, admin, world, role, action, place):
    user = factories.user(session)
    if role is not None:
        factories.grant(session, actor=admin, role=role, target=world["A"]["top"], user=user)
    session.commit()
    side = world["A"] if place == "inside" else world["B"]
    ids = {key: obj.id for key, obj in side.items()} | {"other": world["other"].id}
    method, path, body, needed, success = ACTIONS[action]
    response = api.request(method, _fill(path, ids), user=user, json=_fill(body, ids))

    granted = ROLE_PERMISSIONS[role] if role is not None else frozenset()
    if place == "outside" or role is None:
        expected = 404
    elif granted & needed:
        expected = success
    else:
        expected = 403
    assert response.status_code == expected, (response.status_code, response.get_json())
    if expected >= 400:
        # The refusal names nothing the user may not read that the request did not name itself.
        hidden = [world["root"], *world["B"].values()] + ([*world["A"].values()] if role is None else [])
        asked = [_fill(path, ids), _fill(body, ids)]
        assert hidden_mentions(response.get_json(), hidden, asked) == [], response.get_json()


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_lists_hold_only_the_granted_subtree(api, session, admin, world, role):
    user = factories.user(session)
    factories.grant(session, actor=admin, role=role, target=world["A"]["top"], user=user)
    session.commit()
    projects = api.get("/api/v1/projects", user=user).json
    assert sorted(p["code"] for p in projects["items"]) == ["PA1", "PA2"]
    assert projects["total"] == 2
    nodes = api.get("/api/v1/eps/nodes", user=user).json
    assert [n["code"] for n in nodes["items"]] == ["A", "A1", "A2", "A3"]
    changes = api.get("/api/v1/budget/changes?status=pending", user=user).json
    assert [c["project_id"] for c in changes["items"]] == [world["A"]["p1"].id]
    invoices = api.get("/api/v1/invoices", user=user).json
    # A's draft and issued invoices and the invoice its payment was matched to.
    assert sorted(i["id"] for i in invoices["items"]) == sorted([world["A"]["draft"].id, world["A"]["issued"].id,
                                                                 world["A"]["invoice"].id])
    assert invoices["total"] == 3
    # A filter naming what the user may not read finds nothing, and says nothing about it.
    hidden = api.get(f"/api/v1/invoices?project_id={world['B']['p1'].id}", user=user).json
    assert hidden["total"] == 0 and hidden_mentions(hidden, [*world["B"].values()], []) == []


def test_admin_sees_everything(api, admin, world):
    assert api.get("/api/v1/projects", user=admin).json["total"] == 4
    assert api.get("/api/v1/eps/nodes", user=admin).json["total"] == 9


def test_only_admins_create_users_and_roots(api, session, admin, world):
    manager = factories.user(session)
    factories.grant(session, actor=admin, role=Role.manager, target=world["root"], user=manager)
    session.commit()
    response = api.post("/api/v1/users", user=manager, json={"email": "x@y.test", "name": "X", "password": "12345678"})
    assert response.status_code == 403
    response = api.post("/api/v1/eps/nodes", user=manager, json={"code": "R2", "name": "R2", "parent_id": None})
    assert response.status_code == 403
    response = api.post("/api/v1/teams", user=manager, json={"name": "T"})
    assert response.status_code == 403
    response = api.get("/api/v1/audit", user=manager)
    assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "no-grant")
def test_events_name_only_the_granted_subtree(api, session, admin, world, role):
    # The world's events are numbered as the test commits (crmpm.events.recording).
    user = factories.user(session)
    if role is not None:
        factories.grant(session, actor=admin, role=role, target=world["A"]["top"], user=user)
    session.commit()
    response = api.get("/api/v1/events?limit=1000", user=user)
    assert response.status_code == 200
    items = response.json["items"]
    changes = [item["subject_id"] for item in items if item["subject_type"] == "budget_changes"]
    assert changes == ([world["A"]["change"].id] if role is not None else [])
    # An invoice's events are read with its project: the issued invoice of A.
    invoices = [item["subject_id"] for item in items if item["subject_type"] == "invoices"]
    assert invoices == ([world["A"]["issued"].id] if role is not None else [])
    # Not even the user's own grant; an editor also reads the timesheets sent to them for approval.
    assert {item["subject_type"] for item in items} <= {"budget_changes", "timesheets", "timesheet_decisions",
                                                         "payments", "invoices"}
    hidden = [world["root"], *world["B"].values()] + ([*world["A"].values()] if role is None else [])
    assert hidden_mentions(response.json, hidden, []) == []


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "no-grant")
def test_jobs_are_seen_and_retried_by_their_creator_and_administrators_only(api, app, session, admin, world, role,
                                                                            monkeypatch):
    from crmpm.jobs.models import Job

    monkeypatch.setitem(app.config, "JOBS_URL", "memory://")  # a retry hands the job to an engine
    user = factories.user(session)
    if role is not None:
        factories.grant(session, actor=admin, role=role, target=world["A"]["top"], user=user)
    made = {}
    for who, creator in (("theirs", admin), ("mine", user)):
        made[who] = Job(kind="jobs.noop", params={}, status="failed", attempt=1, max_attempts=1,
                        created_by_id=creator.id)
        session.add(made[who])
    session.commit()
    theirs, mine = made["theirs"].id, made["mine"].id
    for method, path in (("GET", f"/api/v1/jobs/{theirs}"), ("GET", f"/api/v1/jobs/{theirs}/file"),
                         ("POST", f"/api/v1/jobs/{theirs}/retry")):
        response = api.request(method, path, user=user)
        assert response.status_code == 404, (path, response.status_code)
    assert [item["id"] for item in api.get("/api/v1/jobs", user=user).json["items"]] == [mine]
    assert [item["id"] for item in api.get("/api/v1/jobs?everyone=true", user=user).json["items"]] == [mine]
    assert api.get(f"/api/v1/jobs/{mine}", user=user).status_code == 200
    assert api.post(f"/api/v1/jobs/{mine}/retry", user=user).status_code == 202
    assert api.get(f"/api/v1/jobs/{theirs}", user=admin).status_code == 200
    assert {theirs, mine} <= {item["id"] for item in api.get("/api/v1/jobs", user=admin).json["items"]}


# Automation rules belong to the pipelines, which only administrators change: every user reads the pipelines,
# so anyone else is refused with 403 (a rule that does not exist is 404, an anonymous call 401).
AUTOMATION = {
    "list_rules": ("GET", "/api/v1/automation-rules?pipeline_id={pipeline}", None, 200),
    "create_rule": ("POST", "/api/v1/automation-rules",
                    {"pipeline_id": "{pipeline}", "name": "R", "trigger": "deal.won",
                     "actions": [{"type": "set_field", "field": "next_step", "value": "Hand over"}]}, 201),
    "read_rule": ("GET", "/api/v1/automation-rules/{rule}", None, 200),
    "change_rule": ("PATCH", "/api/v1/automation-rules/{rule}", {"active": False}, 200),
    "delete_rule": ("DELETE", "/api/v1/automation-rules/{rule}", None, 204),
    "list_runs": ("GET", "/api/v1/automation-rules/{rule}/runs", None, 200),
}


@pytest.fixture
def automation_world(session, admin, world):
    from accounts.automation import services as automation

    pipeline = factories.pipeline(session)
    rule = automation.create_rule(session, actor=admin, pipeline=pipeline, name="Won", trigger="deal.won",
                                  actions=[{"type": "set_field", "field": "probability", "value": 100}])
    session.commit()
    return {"pipeline": pipeline.id, "rule": rule.id}


@pytest.mark.parametrize("role", ["anonymous", "admin", *ROLES], ids=lambda r: getattr(r, "value", r or "no-grant"))
@pytest.mark.parametrize("action", sorted(AUTOMATION))
def test_automation_rules_are_for_administrators(api, session, admin, world, automation_world, role, action):
    method, path, body, success = AUTOMATION[action]
    if role == "anonymous":
        user, expected = None, 401
    elif role == "admin":
        user, expected = admin, success
    else:
        user, expected = factories.user(session), 403
        if role is not None:
            factories.grant(session, actor=admin, role=role, target=world["root"], user=user)
        session.commit()
    response = api.request(method, _fill(path, automation_world), user=user, json=_fill(body, automation_world))
    assert response.status_code == expected, (response.status_code, response.get_json())
    if "{rule}" in path and user is not None:
        missing = api.request(method, _fill(path, {"rule": automation_world["rule"] + 1000}), user=user,
                              json=_fill(body, automation_world))
        assert missing.status_code == 404


# The resource pool is read by everyone signed in (names of the pool are not secret, bookings are) and changed
# by administrators only: every role anywhere, even manager at the root, is refused (403), the anonymous 401.
POOL = {
    "list_resources": ("GET", "/api/v1/resources", None, 200, 200),
    "read_resource": ("GET", "/api/v1/resources/{resource}", None, 200, 200),
    "create_resource": ("POST", "/api/v1/resources", {"code": "NEWR", "name": "New"}, 201, 403),
    "change_resource": ("PATCH", "/api/v1/resources/{resource}", {"name": "Renamed"}, 200, 403),
    "delete_resource": ("DELETE", "/api/v1/resources/{unused}", None, 204, 403),
    "list_roles": ("GET", "/api/v1/roles", None, 200, 200),
    "read_role": ("GET", "/api/v1/roles/{role}", None, 200, 200),
    "create_role": ("POST", "/api/v1/roles", {"code": "NEWROLE", "name": "New"}, 201, 403),
    "change_role": ("PATCH", "/api/v1/roles/{role}", {"name": "Renamed"}, 200, 403),
    "delete_role": ("DELETE", "/api/v1/roles/{role}", None, 204, 403),
}


# Paperwork templates: listed and downloaded by everyone signed in, replaced and restored by administrators only.
TEMPLATE_ACTIONS = {
    "list_templates": ("GET", "/api/v1/paperwork/templates", 200, 200),
    "download_template": ("GET", "/api/v1/paperwork/templates/act/en/download", 200, 200),
    "replace_template": ("PUT", "/api/v1/paperwork/templates/act/en", 200, 403),
    "restore_template": ("DELETE", "/api/v1/paperwork/templates/act/en", 200, 403),
}


@pytest.mark.parametrize("role", ["anonymous", "admin", *ROLES], ids=lambda r: getattr(r, "value", r or "no-grant"))
@pytest.mark.parametrize("action", sorted(TEMPLATE_ACTIONS))
def test_paperwork_templates_are_changed_by_administrators(api, session, admin, world, role, action):
    import io

    from tests.accounts.paperwork.test_templates import template_with
    method, path, success, others = TEMPLATE_ACTIONS[action]
    if role == "anonymous":
        user, expected = None, 401
    elif role == "admin":
        user, expected = admin, success
    else:
        user, expected = factories.user(session), others
        if role is not None:
            factories.grant(session, actor=admin, role=role, target=world["root"], user=user)
    session.commit()
    headers = {"Authorization": f"Bearer {api.token_for(user)}"} if user is not None else {}
    if method == "PUT":
        response = api._client.put(path, data={"file": (io.BytesIO(template_with("{{ deal.name }}")), "t.docx")},
                                   headers=headers, content_type="multipart/form-data")
    else:
        response = api._client.open(path, method=method, headers=headers)
    assert response.status_code == expected, (response.status_code, response.get_json())


@pytest.mark.parametrize("role", ["anonymous", "admin", *ROLES], ids=lambda r: getattr(r, "value", r or "no-grant"))
@pytest.mark.parametrize("action", sorted(POOL))
def test_the_resource_pool_is_read_by_everyone_and_changed_by_administrators(api, session, admin, world, role,
                                                                             action):
    ids = {"resource": world["A"]["resource"].id, "unused": factories.resource(session, actor=admin).id,
           "role": factories.role(session, actor=admin).id}
    method, path, body, success, others = POOL[action]
    if role == "anonymous":
        user, expected = None, 401
    elif role == "admin":
        user, expected = admin, success
    else:
        user, expected = factories.user(session), others
        if role is not None:
            factories.grant(session, actor=admin, role=role, target=world["root"], user=user)
    session.commit()
    response = api.request(method, _fill(path, ids), user=user, json=_fill(body, ids))
    assert response.status_code == expected, (response.status_code, response.get_json())
    if "{" in path and user is not None:
        missing = api.request(method, _fill(path, {key: 999_999 for key in ids}), user=user, json=_fill(body, ids))
        assert missing.status_code == 404


# The chart of cost accounts and the runs are read by everyone signed in (runs: their own); cost accounts are
# added, exports to 1C made and cost files imported by administrators and holders of a finance grant (each row then needs budget
# rights on its project, else it is reported as matching no project).
ACCOUNTING = {
    "list_cost_accounts": ("GET", "/api/v1/cost-accounts", None, 200, 200),
    "create_cost_account": ("POST", "/api/v1/cost-accounts", {"code": "NEWACC"}, 201, 403),
    "list_accounting_runs": ("GET", "/api/v1/accounting/runs", None, 200, 200),
    "export_1c": ("GET", "/api/v1/accounting/export?from=2026-11-01&to=2026-11-30", None, 200, 403),
    "import_costs": ("POST", "/api/v1/accounting/cost-imports", "file", 201, 403),
}


@pytest.mark.parametrize("role", ["anonymous", "admin", *ROLES], ids=lambda r: getattr(r, "value", r or "no-grant"))
@pytest.mark.parametrize("action", sorted(ACCOUNTING))
def test_accounting_exchange_rights(api, session, admin, world, role, action):
    import io

    method, path, body, success, others = ACCOUNTING[action]
    if role == "anonymous":
        user, expected = None, 401
    elif role == "admin":
        user, expected = admin, success
    else:
        user = factories.user(session)
        expected = success if role == Role.finance else others
        if role is not None:
            factories.grant(session, actor=admin, role=role, target=world["A"]["top"], user=user)
    session.commit()
    if body == "file":
        data = b"project;cost_account;date;amount\r\nPB1;20;2026-11-01;10.00\r\n"
        response = api.request(method, path, user=user, json=None, data={"file": (io.BytesIO(data), "c.csv")},
                               content_type="multipart/form-data")
    else:
        response = api.request(method, path, user=user, json=body)
    assert response.status_code == expected, (response.status_code, response.get_json())
    if body == "file" and expected == 201:
        # PB1 lies outside a finance grant on A: reported as matching no project, never booked or named.
        assert response.json["applied"] == (1 if role == "admin" else 0)
        assert hidden_mentions(response.get_json(), [world["root"], *world["B"].values()], [path]) == []


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "no-grant")
def test_webhooks_are_seen_and_changed_by_their_owner_and_administrators_only(api, app, session, admin, world, role,
                                                                              monkeypatch):
    from crmpm.webhooks import WebhookDelivery

    monkeypatch.setitem(app.config, "JOBS_URL", "memory://")  # a replay hands a job to an engine
    monkeypatch.setenv("CRMPM_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    user = factories.user(session)
    if role is not None:
        factories.grant(session, actor=admin, role=role, target=world["A"]["top"], user=user)
    session.commit()
    made = {}
    for who, creator in (("theirs", admin), ("mine", user)):
        response = api.post("/api/v1/webhooks", user=creator, json={"url": "http://127.0.0.1:9/h",
                                                                     "events": ["deal.won"]})
        assert response.status_code == 201  # any active user may subscribe, whatever their grants
        made[who] = response.json["id"]
        session.add(WebhookDelivery(webhook_id=made[who], event_id=1, event_type="deal.won", attempts=1,
                                    status="failed"))
    session.commit()
    deliveries = {who: session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == hook_id))
                  for who, hook_id in made.items()}

    def calls(who):
        hook, delivery = made[who], deliveries[who]
        return [("GET", f"/api/v1/webhooks/{hook}", None, 200),
                ("GET", f"/api/v1/webhooks/{hook}/deliveries", None, 200),
                ("PATCH", f"/api/v1/webhooks/{hook}", {"description": "x"}, 200),
                ("POST", f"/api/v1/webhooks/{hook}/deliveries/{delivery}/replay", None, 202),
                ("DELETE", f"/api/v1/webhooks/{hook}", None, 204)]

    for method, path, body, _success in calls("theirs"):
        assert api.request(method, path, user=user, json=body).status_code == 404, (method, path)
        assert api.request(method, path, json=body).status_code == 401, (method, path)
    assert [item["id"] for item in api.get("/api/v1/webhooks", user=user).json["items"]] == [made["mine"]]
    for method, path, body, success in calls("mine"):
        assert api.request(method, path, user=user, json=body).status_code == success, (method, path)
    for method, path, body, success in calls("theirs"):
        assert api.request(method, path, user=admin, json=body).status_code == success, (method, path)


# Integrations are set up by administrators only: every role anywhere, even manager at the root, is refused (403),
# the anonymous 401; the delivery endpoints take an integration's token, never a user's (401 for everyone).
INTEGRATION_ACTIONS = {
    "list_integrations": ("GET", "/api/v1/integrations", None, 200),
    "read_integration": ("GET", "/api/v1/integrations/{integration}", None, 200),
    "create_integration": ("POST", "/api/v1/integrations",
                           {"kind": "email", "name": "Mailbox", "region_node_id": "{n1}"}, 201),
    "rename_integration": ("PATCH", "/api/v1/integrations/{integration}", {"name": "Renamed"}, 200),
    "rotate_integration_token": ("POST", "/api/v1/integrations/{integration}/rotate-token", None, 200),
    "delete_integration": ("DELETE", "/api/v1/integrations/{integration}", None, 204),
    "deliver_call": ("POST", "/api/v1/inbound/calls", {}, None),
    "deliver_message": ("POST", "/api/v1/inbound/messages", {}, None),
    "deliver_email": ("POST", "/api/v1/inbound/email", {}, None),
}


@pytest.mark.parametrize("who", ["anonymous", "admin", *(role.value for role in Role)])
@pytest.mark.parametrize("action", sorted(INTEGRATION_ACTIONS))
def test_integrations_are_administrators_only(api, session, admin, world, who, action):
    from accounts.inbound import integrations

    integration, _token = integrations.create_integration(session, actor=admin, kind="telephony", name="PBX",
                                                          region_node_id=world["A"]["n1"].id)
    user = admin if who == "admin" else None
    if who not in ("anonymous", "admin"):
        user = factories.user(session)
        factories.grant(session, actor=admin, role=Role(who), target=world["root"], user=user)
    session.commit()
    method, path, body, success = INTEGRATION_ACTIONS[action]
    ids = {"integration": integration.id, "n1": world["A"]["n1"].id}
    response = api.request(method, _fill(path, ids), user=user, json=_fill(body, ids))
    if who == "anonymous" or success is None:
        expected = 401
    else:
        expected = success if who == "admin" else 403
    assert response.status_code == expected, (response.status_code, response.get_json())


# Web-to-lead forms are company-wide: every staff user reads them (200 whatever the role); they are created on a
# branch node with edit rights there (404 for a node the user may not read), and changed or deleted by those who
# may change the form's branch (403 otherwise: the form itself is readable).
FORM_ACTIONS = {
    "list_forms": ("GET", "/api/v1/forms", None, None, 200),
    "read_form": ("GET", "/api/v1/forms/{form}", None, None, 200),
    "create_form": ("POST", "/api/v1/forms", {"name": "New", "region_node_id": "{n1}",
                                              "fields": [{"name": "email", "required": True}]}, "node", 201),
    "change_form": ("PATCH", "/api/v1/forms/{form}", {"name": "Renamed"}, "form", 200),
    "delete_form": ("DELETE", "/api/v1/forms/{form}", None, "form", 204),
}


@pytest.mark.parametrize("place", ["inside", "outside"])
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "no-grant")
@pytest.mark.parametrize("action", sorted(FORM_ACTIONS))
def test_web_forms_are_read_by_all_and_changed_by_editors_of_their_branch(api, session, admin, world, role, action,
                                                                          place):
    from accounts.marketing import forms

    side = world["A"] if place == "inside" else world["B"]
    form = forms.create_form(session, actor=admin, name="Contact us", region_node_id=side["n1"].id,
                             fields=[{"name": "email", "required": True}])
    user = factories.user(session)
    if role is not None:
        factories.grant(session, actor=admin, role=role, target=world["A"]["top"], user=user)
    session.commit()
    method, path, body, needs, success = FORM_ACTIONS[action]
    ids = {"form": form.id, "n1": side["n1"].id}
    response = api.request(method, _fill(path, ids), user=user, json=_fill(body, ids))
    may_edit = role is not None and place == "inside" and Permission.edit in ROLE_PERMISSIONS[role]
    if needs is None or may_edit:
        expected = success
    elif needs == "node" and (role is None or place == "outside"):
        expected = 404
    else:
        expected = 403
    assert response.status_code == expected, (response.status_code, response.get_json())
    if expected >= 400:
        hidden = [world["root"], *world["B"].values()] + ([*world["A"].values()] if role is None else [])
        assert hidden_mentions(response.get_json(), hidden, [_fill(path, ids), _fill(body, ids)]) == []


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "no-grant")
def test_notifications_are_each_users_own_whatever_their_role(api, app, session, admin, world, role):
    """/me/notifications and /me/notification-preferences: any signed-in user on their own (200), another
    user's notification is 404 (even for an administrator: they are personal), anonymous 401."""
    from crmpm import notifications

    user = factories.user(session)
    if role is not None:
        factories.grant(session, actor=admin, role=role, target=world["A"]["top"], user=user)
    with app.app_context():
        mine = notifications.notify(session, user_id=user.id, kind="import_finished", subject=("jobs", 1),
                                    params={"created": 1, "updated": 0, "failed": 0, "kind": "accounts"})
        theirs = notifications.notify(session, user_id=world["other"].id, kind="import_finished",
                                      subject=("jobs", 2), params={"created": 1, "updated": 0, "failed": 0,
                                                                   "kind": "accounts"})
    session.commit()
    own = [("GET", "/api/v1/me/notifications", None), ("POST", f"/api/v1/me/notifications/{mine.id}/read", None),
           ("POST", "/api/v1/me/notifications/read-all", None), ("GET", "/api/v1/me/notification-preferences", None),
           ("PUT", "/api/v1/me/notification-preferences",
            {"preferences": {"task_due": {"in_app": True, "email": False}}})]
    for method, path, body in own:
        assert api.request(method, path, user=user, json=body).status_code == 200, (method, path)
        assert api.request(method, path, json=body).status_code == 401, (method, path)
    for caller in (user, admin):
        assert api.post(f"/api/v1/me/notifications/{theirs.id}/read", user=caller).status_code == 404


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "no-grant")
def test_timesheet_lists_name_only_the_granted_subtree(api, session, admin, world, role):
    """The approval queue holds the sheets of projects the caller may edit; the locks, those of readable nodes."""
    user = factories.user(session)
    if role is not None:
        factories.grant(session, actor=admin, role=role, target=world["A"]["top"], user=user)
    from wbs.resources import timesheets

    lock_a = timesheets.set_lock(session, actor=admin, eps_node=world["A"]["n1"], locked_through=date(2026, 1, 1))
    timesheets.set_lock(session, actor=admin, eps_node=world["B"]["n1"], locked_through=date(2026, 1, 1))
    session.commit()
    queue = api.get("/api/v1/timesheets/approvals", user=user)
    assert queue.status_code == 200
    can_edit = role is not None and Permission.edit in ROLE_PERMISSIONS[role]
    assert [item["project_id"] for item in queue.json["items"]] == ([world["A"]["p1"].id] if can_edit else [])
    locks = api.get("/api/v1/timesheet-locks", user=user).json["items"]
    assert [lock["id"] for lock in locks] == ([lock_a.id] if role is not None else [])
    hidden = [world["root"], *world["B"].values()] + ([*world["A"].values()] if role is None else [])
    assert hidden_mentions(queue.json, hidden, []) == []


# Documents follow their anchor: read the account (its node) or the project (a deal's, a WBS element's, an
# activity's) → read its documents; edit rights there to upload, change or delete. Uploads are multipart.
DOCUMENT_ACTIONS = {
    f"{verb}_{subject}_documents": (method, f"{path}/documents", permission, status)
    for subject, path in (("account", "/api/v1/accounts/{account}"), ("contact", "/api/v1/contacts/{contact}"),
                          ("deal", "/api/v1/deals/{deal}"), ("project", "/api/v1/projects/{p1}"),
                          ("wbs", "/api/v1/projects/{p1}/wbs/{element}"),
                          ("activity", "/api/v1/projects/{p1}/activities/{activity}"))
    for verb, method, permission, status in (("list", "GET", Permission.read, 200),
                                             ("upload", "POST", Permission.edit, 201))
} | {
    "read_document": ("GET", "/api/v1/documents/{document}", Permission.read, 200),
    "read_account_document": ("GET", "/api/v1/documents/{account_document}", Permission.read, 200),
    "list_versions": ("GET", "/api/v1/documents/{document}/versions", Permission.read, 200),
    "download_document": ("GET", "/api/v1/documents/{document}/download?version=1", Permission.read, 200),
    "add_version": ("POST", "/api/v1/documents/{document}/versions", Permission.edit, 201),
    "change_document": ("PATCH", "/api/v1/documents/{document}", Permission.edit, 200),
    "delete_document": ("DELETE", "/api/v1/documents/{account_document}", Permission.edit, 204),
}


@pytest.fixture
def document_world(session, admin, world):
    from accounts.documents import services as documents

    made = {}
    for side in ("A", "B"):
        account = factories.account(session, actor=admin, region=world[side]["n1"], name=f"Client {side}")
        deal = factories.deal(session, actor=admin, account=account, pipeline=factories.pipeline(session))
        element = wbs_services.create_element(session, actor=admin, project=world[side]["p1"], code=f"W{side}",
                                              name=f"Works {side}")
        made[side] = {
            "account": account, "deal": deal, "element": element,
            "contact": factories.contact(session, actor=admin, account=account, last_name=f"Person {side}"),
            "document": documents.add_document(session, actor=admin, subject=world[side]["p1"],
                                               name=f"drawing-{side}.txt", kind="drawing", data=b"plan"),
            "account_document": documents.add_document(session, actor=admin, subject=account,
                                                       name=f"contract-{side}.txt", kind="contract",
                                                       data=b"terms")}
    session.commit()
    return made


@pytest.mark.parametrize("place", ["inside", "outside"])
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "no-grant")
@pytest.mark.parametrize("action", sorted(DOCUMENT_ACTIONS))
def test_document_permission_matrix(api, session, admin, world, document_world, role, action, place):
    import io

    user = factories.user(session)
    if role is not None:
        factories.grant(session, actor=admin, role=role, target=world["A"]["top"], user=user)
    session.commit()
    side = "A" if place == "inside" else "B"
    ids = {key: obj.id for key, obj in (world[side] | document_world[side]).items()}
    method, path, needed, success = DOCUMENT_ACTIONS[action]
    url = _fill(path, ids)
    headers = {"Authorization": f"Bearer {api.token_for(user)}"}
    if method == "POST":
        form = {"file": (io.BytesIO(b"new text"), "new.txt")} | ({"kind": "other"} if url.endswith("documents") else {})
        response = api._client.post(url, data=form, headers=headers, content_type="multipart/form-data")
    else:
        response = api.request(method, url, user=user, json={"kind": "act"} if method == "PATCH" else None)

    granted = ROLE_PERMISSIONS[role] if role is not None else frozenset()
    expected = 404 if place == "outside" or role is None else success if needed in granted else 403
    assert response.status_code == expected, (response.status_code, response.get_json())
    if expected >= 400:
        hidden = [world["root"], *world["B"].values(), *document_world["B"].values()]
        if role is None:
            hidden += [*world["A"].values(), *document_world["A"].values()]
        assert hidden_mentions(response.get_json(), hidden, [url]) == [], response.get_json()


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "no-grant")
def test_document_search_holds_only_the_granted_subtree(api, session, admin, world, document_world, role):
    user = factories.user(session)
    if role is not None:
        factories.grant(session, actor=admin, role=role, target=world["A"]["top"], user=user)
    session.commit()
    found = api.get("/api/v1/documents?per_page=500", user=user).json
    expected = ([document_world["A"]["document"].id, document_world["A"]["account_document"].id]
                if role is not None else [])
    assert sorted(item["id"] for item in found["items"]) == sorted(expected) and found["total"] == len(expected)
    hidden = [world["root"], *world["B"].values(), *document_world["B"].values()]
    assert hidden_mentions(found, hidden, []) == []
    assert api.get("/api/v1/documents?q=contract", user=user).json["total"] == (1 if role is not None else 0)


# Marketing: campaigns are company-wide objects: every staff user reads them and their figures; their owner or an
# administrator changes, sends, cancels and deletes them (403 for others, 401 anonymous); recipients are filtered to
# the contacts the reader may read; a response names only a contact the caller may read (404 otherwise).
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "no-grant")
def test_campaigns_are_read_by_all_made_by_editors_changed_by_their_owner_or_administrators(api, app, session, admin, world,
                                                                                role, monkeypatch):
    from accounts.marketing.models import Segment, SegmentMember

    monkeypatch.setitem(app.config, "JOBS_URL", "memory://")  # sending hands a job to an engine
    user = factories.user(session)
    if role is not None:
        factories.grant(session, actor=admin, role=role, target=world["A"]["top"], user=user)
    people = {side: factories.contact(session, actor=admin, account=world[side]["client"], first_name=f"Reader{side}",
                                      email=f"reader@{side.lower()}.example") for side in ("A", "B")}
    segment = Segment(name="Both branches", subject="contacts", kind="static")
    session.add(segment)
    session.flush()
    session.add_all([SegmentMember(segment_id=segment.id, contact_id=person.id) for person in people.values()])
    session.commit()
    body = {"name": "Offer", "segment_id": segment.id, "variants": [{"subject": "Hi", "body": "Hello {{ name }}"}]}
    theirs = api.post("/api/v1/campaigns", user=admin, json=body).json["id"]
    # Creating takes edit rights on some branch (whoever may take the leads a campaign brings).
    may_create = role is not None and Permission.edit in ROLE_PERMISSIONS[role]
    mine = api.post("/api/v1/campaigns", user=user, json=dict(body, name="Mine"))
    assert mine.status_code == (201 if may_create else 403), mine.json

    def calls(campaign_id):
        path = f"/api/v1/campaigns/{campaign_id}"
        return [("PATCH", path, {"cost": "10.00"}, 200), ("POST", f"{path}/send", None, 202),
                ("POST", f"{path}/cancel", None, 200)]

    for method, path in (("GET", f"/api/v1/campaigns/{theirs}"), ("GET", f"/api/v1/campaigns/{theirs}/results"),
                         ("GET", f"/api/v1/campaigns/{theirs}/recipients")):
        assert api.request(method, path, user=user).status_code == 200, path
        assert api.request(method, path).status_code == 401, path
    for method, path, payload, _success in calls(theirs):
        response = api.request(method, path, user=user, json=payload)
        assert response.status_code == 403, (method, path, response.json)
    assert api.delete(f"/api/v1/campaigns/{theirs}", user=user).status_code == 403
    for method, path, payload, success in calls(mine.json["id"]) if may_create else ():
        assert api.request(method, path, user=user, json=payload).status_code == success, (method, path)
    # An administrator's campaign sent to both branches: the reader sees the recipients of branch A only.
    assert api.post(f"/api/v1/campaigns/{theirs}/send", user=admin).status_code == 202
    session.expire_all()
    from crmpm.jobs.runner import run_due
    run_due(app)
    recipients = api.get(f"/api/v1/campaigns/{theirs}/recipients", user=user).json
    expected = {people["A"].id} if role is not None else set()
    assert {item["contact_id"] for item in recipients["items"]} == expected
    assert hidden_mentions(recipients, [world["root"], *world["B"].values(), people["B"]], []) == []
    asked = {"kind": "reply", "contact_id": people["B"].id}
    response = api.post(f"/api/v1/campaigns/{theirs}/responses", user=user, json=asked)
    assert response.status_code == 404
    assert hidden_mentions(response.json, [people["B"], world["B"]["client"]], [asked]) == []
def test_a_client_user_of_the_portal_gets_401_on_every_endpoint(app, api, session, admin, world):
    """Even holding a token (made before they became a client: the service refuses to make one for a client),
    a client user is no caller of the staff API: every route of the URL map answers 401 and names nothing."""
    from werkzeug.routing import IntegerConverter

    user = factories.user(session)
    factories.grant(session, actor=admin, role=Role.manager, target=world["root"], user=user)
    token = factories.token(session, user=user)
    user.is_client = True
    session.commit()
    checked = 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not rule.rule.startswith("/api/v1/") or getattr(view, "authenticates_itself", None) is not None:
            continue
        values = {name: world["A"]["p1"].id if isinstance(converter, IntegerConverter) else "x"
                  for name, converter in rule._converters.items()}
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = api.request(method, path, json={}, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, (method, path, response.status_code)
            assert hidden_mentions(response.get_json(), [world["root"], *world["A"].values(),
                                                         *world["B"].values()], [path]) == []
            checked += 1
    assert checked > 200
